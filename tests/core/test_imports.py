"""Architecture rules: the core never imports requests or the plugin packages; the plugin listing
imports plugin modules (to show their hooks) but not their heavy dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys, json, io, contextlib
import spectryn_core, spectryn_core.sync, spectryn_core.cli, spectryn_core.config
after_import = sorted(m for m in sys.modules if m.split('.')[0] in
                      ('requests', 'requests_toolbelt', 'markdown_it', 'spectryn_markdown', 'spectryn_bitbucket'))
with contextlib.redirect_stdout(io.StringIO()):
    spectryn_core.cli.main(['plugins'])
after_listing = sorted(m for m in sys.modules if m.split('.')[0] in
                       ('requests', 'requests_toolbelt', 'markdown_it', 'urllib3'))
print(json.dumps({"after_import": after_import, "after_listing": after_listing}))
"""


def test_core_imports_no_plugin_and_no_requests() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["after_import"] == []
    assert found["after_listing"] == []


def test_core_sources_never_import_plugins_or_requests() -> None:
    offenders = []
    for path in (ROOT / "spectryn_core").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                name in stripped.split()[1]
                for name in ("requests", "spectryn_markdown", "spectryn_bitbucket")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []


NO_EXTRAS = """
import sys
for name in ('requests', 'requests_toolbelt', 'markdown_it'):
    sys.modules[name] = None  # as if the [bitbucket] and [markdown] extras were not installed
from spectryn_core.cli import main
code = main(['plugins'])
print('exit', code)
code = main(['--markdown', 'examples/EPIC.md', '--tracker', 'bitbucket'])
print('exit', code)
"""


def test_without_extras_plugins_say_which_extra_fixes_them() -> None:
    done = subprocess.run([sys.executable, "-c", NO_EXTRAS], capture_output=True, text=True,
                          cwd=ROOT)
    assert "exit 0" in done.stdout
    assert "pip install 'spectryn[bitbucket]'" in done.stdout
    assert "pip install 'spectryn[markdown]'" in done.stdout
    assert "NOT LOADED" in done.stdout
    # a sync without the extras is a clean usage error naming the fix, not a traceback
    assert "exit 2" in done.stdout
    assert "Traceback" not in done.stderr
    assert "spectryn[markdown]" in done.stderr


# --- start-up (issue 15): what a light command must not import ------------------------------
# Module presence, not timing: a heavy import creeping back into `--version`, `plugins` or
# `validate` fails here on any machine, however fast.

RUN_AND_LIST_MODULES = """
import contextlib, io, json, sys
from spectryn_core.cli import main  # what the `spectryn` console script runs
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""

#: Imported by no light command: HTTP, markdown-it, the config file readers, the sync engine
#: and its state store, the Bitbucket tracker.
NEVER_LIGHT = (
    "requests", "urllib3", "requests_toolbelt", "markdown_it", "yaml", "dotenv", "sqlite3",
    "filelock", "spectryn_core.config_files", "spectryn_core.sync", "spectryn_core.plan",
    "spectryn_core.apply", "spectryn_core.state", "spectryn_core.report",
    "spectryn_bitbucket.tracker", "spectryn_bitbucket.client",
)


def _modules_after(args: list[str], cwd: Path, **env: str) -> tuple[str, set[str]]:
    import os

    done = subprocess.run([sys.executable, "-c", RUN_AND_LIST_MODULES, *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, **env}, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["code"] == 0, done.stderr
    return found["out"], set(found["modules"])


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names of ``names`` that are imported: the module itself or any of its submodules."""
    return sorted(n for n in names if any(m == n or m.startswith(n + ".") for m in modules))


def test_version_imports_no_plugin_machinery_model_or_config(tmp_path: Path) -> None:
    out, modules = _modules_after(["--version"], tmp_path)
    assert out.startswith("spectryn ")
    heavy = NEVER_LIGHT + ("marshmallow", "pluggy", "importlib.metadata", "platformdirs", "logging",
                           "spectryn_core.config", "spectryn_core.model", "spectryn_core.items",
                           "spectryn_core.plugins", "spectryn_markdown", "spectryn_bitbucket")
    assert _loaded(modules, heavy) == []


def test_plugins_listing_imports_no_config_reader_engine_or_http(tmp_path: Path) -> None:
    out, modules = _modules_after(["plugins"], tmp_path)
    assert "bitbucket" in out and "markdown" in out  # both plugins were imported and listed
    assert _loaded(modules, (*NEVER_LIGHT, "spectryn_bitbucket.schema", "spectryn_markdown.schema",
                             "marshmallow", "spectryn_core.config", "spectryn_core.model")) == []


def test_bitbucket_plugin_listing_imports_neither_marshmallow_nor_the_model(tmp_path: Path) -> None:
    # its schema is built when a run loads its config; its hooks' annotations are for typing only
    out, modules = _modules_after(["plugins"], tmp_path, SPECTRYN_LOAD_PLUGINS="bitbucket")
    assert "tracker 'bitbucket'" in out
    assert _loaded(modules, ("marshmallow", "spectryn_core.config", "spectryn_core.model",
                             "spectryn_core.items")) == []


def test_validate_imports_no_engine_state_store_or_http(tmp_path: Path) -> None:
    # run from an empty folder: no config file and no .env, so PyYAML and python-dotenv have
    # nothing to read (the plugins' schemas are imported: the config is validated)
    out, modules = _modules_after(["validate", str(ROOT / "examples" / "EPIC.md")], tmp_path)
    assert ": OK - " in out
    assert _loaded(modules, tuple(n for n in NEVER_LIGHT if n != "markdown_it")) == []
