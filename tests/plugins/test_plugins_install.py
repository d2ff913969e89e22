"""The example plugins as a stranger meets them: each installed with pip into a fresh virtual
environment next to spectryn (built from this repository's files, unchanged), then used only
through the ``spectryn`` command and the plugin's own tests.

One environment is built per module (30-40 s, nearly all of it one ``pip install`` fetching the
dependencies from the package index); the guide's console sessions then reinstall the plugins
as plugins.md says (about 15 s). The module runs in the default test selection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from spectryn_core.testing import CONTRACT_SPEC

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "plugins"
SPECTRYN_FILES = ("pyproject.toml", "README.md", "spectryn_core", "spectryn_markdown",
                  "spectryn_bitbucket")


class Venv:
    """A virtual environment with spectryn[markdown], both example plugins and pytest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"
        self.src = root / "src"

    def env(self, home: Path) -> dict[str, str]:
        """A clean environment: this venv first on PATH, nothing of the developer's."""
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("SPECTRYN_", "BITBUCKET_", "PYTHON", "VIRTUAL_ENV"))}
        return {**keep, "PATH": f"{self.bin}{os.pathsep}{keep.get('PATH', '')}",
                "HOME": str(home), "SPECTRYN_CONFIG_DIR": str(home / "config"),
                "SPECTRYN_STATE_DIR": str(home / "state"), "SPECTRYN_LOG_DIR": str(home / "logs")}

    def run(self, args: list[str], cwd: Path, home: Path,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command of the venv (``spectryn``, ``python``, ``pip``) in ``cwd``."""
        done = subprocess.run([str(self.bin / args[0]), *args[1:]], cwd=cwd, env=self.env(home),
                              capture_output=True, text=True, timeout=300)
        if check:
            assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return done


def _copy_sources(src: Path) -> None:
    """Copies, so building the distributions leaves no build/ or egg-info in the repository."""
    for name in SPECTRYN_FILES:
        source, dest = REPO / name, src / "spectryn" / name
        if source.is_dir():
            shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    for example in ("spectryn-jsonfile", "spectryn-acme-mapper"):
        shutil.copytree(EXAMPLES / example, src / example,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Venv]:
    root = tmp_path_factory.mktemp("plugin-venv")
    env = Venv(root)
    _copy_sources(env.src)
    # --without-pip + this interpreter's pip (``pip --python``) saves the ensurepip step
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True, timeout=120)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env.bin / "python"), "install", "--quiet",
         "--disable-pip-version-check", f"{env.src / 'spectryn'}[markdown]",
         str(env.src / "spectryn-jsonfile"), str(env.src / "spectryn-acme-mapper"), "pytest"],
        cwd=root, env=env.env(root / "home"), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, f"pip install failed:\n{done.stdout}\n{done.stderr}"
    yield env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with the contract spec as EPIC.md."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "EPIC.md").write_text(CONTRACT_SPEC)
    return folder


def _issues(path: Path) -> dict[str, dict]:
    issues = json.loads(path.read_text())["issues"]
    return {issue["title"].split(":", 1)[0]: issue for issue in issues}


def test_spectryn_is_the_repository_code_unchanged(venv: Venv, tmp_path: Path) -> None:
    done = venv.run(["python", "-c", "import spectryn_core.plugins as p; print(p.__file__)"],
                    cwd=tmp_path, home=tmp_path)
    installed = Path(done.stdout.strip())
    assert installed.is_relative_to(venv.root / "venv")
    assert installed.read_text() == (REPO / "spectryn_core" / "plugins.py").read_text()


def test_spectryn_plugins_lists_both_examples(venv: Venv, tmp_path: Path) -> None:
    done = venv.run(["spectryn", "plugins", "--output", "json"], cwd=tmp_path, home=tmp_path)
    rows = {row["name"]: row for row in json.loads(done.stdout)["plugins"]}
    jsonfile, acme = rows["jsonfile"], rows["acme"]
    assert (jsonfile["distribution"], jsonfile["version"], jsonfile["tracker"]) == (
        "spectryn-jsonfile", "0.1.0", "jsonfile")
    assert {"open_tracker", "read_items", "create_item", "add_comment"} <= set(jsonfile["hooks"])
    assert (acme["distribution"], acme["hooks"], acme["loaded"]) == (
        "spectryn-acme-mapper", ["map_priority", "map_status"], True)
    text = venv.run(["spectryn", "plugins"], cwd=tmp_path, home=tmp_path).stdout
    assert "spectryn-jsonfile 0.1.0" in text and "tracker 'jsonfile'" in text


def test_sync_with_tracker_jsonfile_end_to_end(venv: Venv, project: Path) -> None:
    home = project.parent / "home"
    sync = ["spectryn", "--markdown", "EPIC.md", "--tracker", "jsonfile",
            "--jsonfile-path", "issues.json"]
    venv.run([*sync, "--execute"], cwd=project, home=home)
    issues = _issues(project / "issues.json")
    assert sorted(issues) == ["EPIC-900", "US-901", "US-901.1", "US-901.2", "US-902"]
    assert issues["US-901.1"]["parent"] == str(issues["US-901"]["id"])
    assert [c["author"] for c in issues["US-901"]["comments"]] == ["alice"]
    assert venv.run([*sync, "--exit-code"], cwd=project, home=home).returncode == 0
    # an edit in the file is pending (exit 3) until synced
    spec = project / "EPIC.md"
    spec.write_text(spec.read_text().replace("Pay by invoice", "Pay by monthly invoice"))
    assert venv.run([*sync, "--exit-code"], cwd=project, home=home, check=False).returncode == 3


def _states(venv: Venv, project: Path, config: str) -> dict[str, tuple[str, str]]:
    (project / ".spectryn.yaml").write_text(textwrap.dedent(config))
    venv.run(["spectryn", "--markdown", "EPIC.md", "--tracker", "jsonfile", "--execute"],
             cwd=project, home=project / "home")
    issues = _issues(project / "issues.json")
    return {key: (issue["state"], issue["priority"]) for key, issue in issues.items()
            if key.startswith("US-")}


def test_naming_the_acme_mapper_changes_the_states_sent(venv: Venv, tmp_path: Path) -> None:
    folders = {}
    for name in ("default", "acme", "acme-with-mapping"):
        folders[name] = tmp_path / name
        folders[name].mkdir()
        (folders[name] / "EPIC.md").write_text(CONTRACT_SPEC)
    default = _states(venv, folders["default"], "jsonfile: {path: issues.json}\n")
    acme = _states(venv, folders["acme"], """\
        sync:
          mapper: acme
        jsonfile:
          path: issues.json
        """)
    overridden = _states(venv, folders["acme-with-mapping"], """\
        sync:
          mapper: acme
          status_mapping:
            done: resolved
        jsonfile:
          path: issues.json
        """)
    assert default == {"US-901": ("open", "critical"), "US-901.1": ("resolved", None),
                       "US-901.2": ("open", None), "US-902": ("open", "minor")}
    assert acme == {"US-901": ("open", "blocker"), "US-901.1": ("closed", None),
                    "US-901.2": ("new", None), "US-902": ("new", "trivial")}
    assert overridden == {**acme, "US-901.1": ("resolved", None)}


BROKEN_PLUGIN = """\
from spectryn_core import Comment, hookimpl


@hookimpl
def map_status(status: str, tracker: str) -> str | None:
    return status.upper()


def author_id(comment: Comment) -> int:
    return comment.author
"""


def test_plugins_type_check_against_the_installed_spectryn(venv: Venv, tmp_path: Path) -> None:
    """A plugin author's type checker reads spectryn's annotations (``py.typed`` is in the wheel):
    the example plugins and their contract tests pass ``mypy --strict`` against the installed
    packages, and a plugin that misuses the model is caught."""
    marker = ("import importlib, pathlib; print(all(pathlib.Path(importlib.import_module(m).__file__)"
              ".with_name('py.typed').is_file() for m in ('spectryn_core', 'spectryn_markdown',"
              " 'spectryn_bitbucket')))")
    assert venv.run(["python", "-c", marker], cwd=tmp_path, home=tmp_path).stdout.strip() == "True"
    (tmp_path / "broken_plugin.py").write_text(BROKEN_PLUGIN)
    mypy = [sys.executable, "-m", "mypy", "--strict", "--python-executable", str(venv.bin / "python"),
            "--cache-dir", str(tmp_path / "mypy-cache")]
    examples = [venv.src / "spectryn-jsonfile" / "spectryn_jsonfile", venv.src / "spectryn-jsonfile" / "tests",
                venv.src / "spectryn-acme-mapper" / "spectryn_acme_mapper"]
    done = subprocess.run([*mypy, *map(str, examples), "broken_plugin.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.stdout.splitlines() == [
        'broken_plugin.py:10: error: Incompatible return value type (got "str | None", expected "int")  '
        "[return-value]",
        "Found 1 error in 1 file (checked 6 source files)"], done.stdout + done.stderr


def _shell_sessions() -> list[list[str]]:
    """The commands of each ``<!-- shell -->`` console block of plugins.md, in order."""
    text = (REPO / "plugins.md").read_text()
    found = re.findall(r"<!-- shell -->\n```console\n(.*?)\n```", text, re.S)
    return [[line[2:] for line in body.splitlines() if line.startswith("$ ")] for body in found]


def test_doc_shell_sessions_run(venv: Venv, tmp_path: Path) -> None:
    """plugins.md's console sessions, run as written in a folder holding the example plugins and
    an EPIC.md (last in this module: it uninstalls the examples and installs them as the guide
    says). ``pip`` is this interpreter's pip acting on the venv (``pip --python``)."""
    sessions = _shell_sessions()
    assert len(sessions) >= 3 and all(sessions)
    work = tmp_path / "work"
    shutil.copytree(venv.src / "spectryn-jsonfile", work / "spectryn-jsonfile")
    shutil.copytree(venv.src / "spectryn-acme-mapper", work / "spectryn-acme-mapper")
    (work / "EPIC.md").write_text(CONTRACT_SPEC)
    pip = f'{sys.executable} -m pip --python {venv.bin / "python"} --disable-pip-version-check -q'
    venv_pip = pip.split()
    subprocess.run([*venv_pip, "uninstall", "-y", "spectryn-jsonfile", "spectryn-acme-mapper"],
                   check=True, capture_output=True, timeout=120)
    script = ["set -eu", f'pip() {{ {pip} "$@"; }}']
    for command in (c for session in sessions for c in session):
        script += [f"echo '>>> {command}'", command]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=work, env=venv.env(tmp_path),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "tracker 'jsonfile'" in done.stdout
    # the session runs the plugin's own tests: the contract kit against the installed plugin
    assert "10 passed" in done.stdout, done.stdout[-3000:]
    assert sorted(_issues(work / "issues.json")) == [
        "EPIC-900", "US-901", "US-901.1", "US-901.2", "US-902"]
    assert not (work / "dev-issues.json").exists()  # the development run was a dry-run
