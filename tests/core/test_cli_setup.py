"""``spectryn init`` and ``spectryn completion``, driven as a user would (subprocesses; a pseudo
terminal for the questions; the shells themselves for the completion scripts)."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BITBUCKET_", "SPECTRYN_"))}
    env.update(SPECTRYN_CONFIG_DIR=str(tmp / "userconfig"), SPECTRYN_STATE_DIR=str(tmp / "state"),
               SPECTRYN_LOG_DIR=str(tmp / "logs"))
    return env


def spectryn(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spectryn_core.cli", *args], cwd=tmp, env=_env(tmp),
                          input=stdin, capture_output=True, text=True, timeout=60)


# --- init -----------------------------------------------------------------------------------


def test_init_from_flags_writes_a_commented_file_without_secrets(tmp_path: Path) -> None:
    run = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--workspace", "acme", "--repo", "api",
                   "--no-check")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / ".spectryn.yaml").read_text()
    assert yaml.safe_load(text) == {"sync": {"tracker": "bitbucket"},
                                    "bitbucket": {"workspace": "acme", "repo": "api"}}
    assert "# base_url: https://api.bitbucket.org/2.0" in text  # defaults are shown, commented
    assert "set BITBUCKET_API_TOKEN in the environment" in text
    assert "BITBUCKET_ACCESS_TOKEN" in run.stdout  # says which variable holds the secret


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / ".spectryn.yaml").write_text("# mine\n")
    run = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--workspace", "a", "--repo", "b",
                   "--output", "json")
    assert run.returncode == 2
    assert "never overwrites" in json.loads(run.stdout)["error"]["message"]
    assert (tmp_path / ".spectryn.yaml").read_text() == "# mine\n"


def test_init_without_a_terminal_names_the_missing_flags(tmp_path: Path) -> None:
    run = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--repo", "api")
    assert run.returncode == 2
    assert "--workspace is needed" in run.stderr and "--workspace WORKSPACE --repo REPO" in run.stderr
    assert not (tmp_path / ".spectryn.yaml").exists()


def _on_a_terminal(tmp: Path, args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run the CLI with a pseudo terminal as stdin/stdout, typing each of ``answers`` once a new
    question (output ending in ``:``) has appeared since the last answer."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "spectryn_core.cli", *args], cwd=tmp,
                            env=_env(tmp), stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen, since = b"", 0
    pending = list(answers)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if pending and seen[since:].rstrip().endswith(b":"):
                os.write(master, pending.pop(0).encode() + b"\r")
                since = len(seen)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return proc.wait(timeout=60), seen.decode(errors="replace")


def test_init_asks_on_a_terminal(tmp_path: Path) -> None:
    code, screen = _on_a_terminal(tmp_path, ["init", "--tracker", "bitbucket", "--no-check"],
                                  ["acme", "api", "", "me@example.com"])
    assert code == 0, screen
    assert "workspace slug" in screen and "[https://api.bitbucket.org/2.0]" in screen
    written = yaml.safe_load((tmp_path / ".spectryn.yaml").read_text())
    assert written["bitbucket"] == {"workspace": "acme", "repo": "api", "email": "me@example.com"}


def test_init_keeps_a_secret_only_when_asked_and_only_for_its_owner(tmp_path: Path) -> None:
    code, screen = _on_a_terminal(
        tmp_path, ["init", "--tracker", "bitbucket", "--workspace", "w", "--repo", "r",
                   "--base-url", "https://api.bitbucket.org/2.0", "--email", "", "--no-check",
                   "--store-secret"],
        ["", "spx-typed-secret-1"])
    assert code == 0, screen
    path = tmp_path / ".spectryn.yaml"
    assert yaml.safe_load(path.read_text())["bitbucket"]["access_token"] == "spx-typed-secret-1"
    assert "spx-typed-secret-1" not in screen  # typed without echo
    assert path.stat().st_mode & 0o077 == 0


def test_init_never_stores_a_secret_where_git_would_commit_it(tmp_path: Path) -> None:
    """Inside a git work tree --store-secret refuses, before asking, unless git ignores the file
    (issue 26); it says which case applied."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    args = ["init", "--tracker", "bitbucket", "--workspace", "w", "--repo", "r", "--base-url",
            "https://api.bitbucket.org/2.0", "--email", "", "--no-check", "--store-secret"]
    code, screen = _on_a_terminal(tmp_path, args, ["", "spx-typed-secret-2"])
    assert code == 2, screen
    assert (f"error: .spectryn.yaml is in the git work tree {tmp_path} and git does not ignore it: "
            "a secret written there would go out with the next commit; nothing was written") in screen
    assert "hint: add .spectryn.yaml to .gitignore and run again" in screen
    assert "BITBUCKET_API_TOKEN or BITBUCKET_ACCESS_TOKEN" in screen
    assert "not echoed" not in screen  # refused before the secret was asked for
    assert not (tmp_path / ".spectryn.yaml").exists()

    (tmp_path / ".gitignore").write_text(".spectryn.yaml\n")
    code, screen = _on_a_terminal(tmp_path, args, ["", "spx-typed-secret-2"])
    assert code == 0, screen
    assert f"the secret is in .spectryn.yaml, readable by you only (git-ignored in {tmp_path})" in screen
    assert yaml.safe_load((tmp_path / ".spectryn.yaml").read_text())["bitbucket"]["access_token"] \
        == "spx-typed-secret-2"


# --- completion -----------------------------------------------------------------------------


def _script(tmp: Path, shell: str) -> Path:
    run = spectryn(tmp, "completion", shell)
    assert run.returncode == 0, run.stderr
    path = tmp / f"spectryn.{shell}"
    path.write_text(run.stdout)
    return path


BASH_COMPLETE = """
source {script}
comp() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}};
         COMPREPLY=(); _shtab_spectryn; echo "${{COMPREPLY[*]}}"; }}
comp spectryn --bitbucket-wor
comp spectryn bitbucket ''
comp spectryn bitbucket repos --bitbucket-re
comp spectryn completion ''
comp spectryn init --wo
"""


def test_bash_completion_offers_commands_and_plugin_flags(tmp_path: Path) -> None:
    script = _script(tmp_path, "bash")
    done = subprocess.run(["bash", "-c", BASH_COMPLETE.format(script=script)], capture_output=True,
                          text=True, timeout=30)
    assert done.stdout.splitlines() == [
        "--bitbucket-workspace", "repos sandbox", "--bitbucket-repo",
        "bash zsh fish", "--workspace"], done.stderr


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completion_offers_commands_and_plugin_flags(tmp_path: Path) -> None:
    script = _script(tmp_path, "fish")
    asks = ["spectryn --bitbucket-wor", "spectryn bitbucket ", "spectryn completion "]
    command = f"source {script}; " + "; ".join(f"complete -C'{a}'" for a in asks)
    done = subprocess.run(["fish", "-c", command], capture_output=True, text=True, timeout=30)
    words = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert words == ["--bitbucket-workspace", "repos", "sandbox", "bash", "fish", "zsh"], done.stderr


def test_zsh_completion_is_valid_and_has_the_plugin_flags(tmp_path: Path) -> None:
    text = _script(tmp_path, "zsh").read_text()
    assert text.startswith("#compdef spectryn") and "--bitbucket-workspace" in text
    assert "repos" in text and "sandbox" in text
    if shutil.which("zsh"):
        done = subprocess.run(["zsh", "-n", str(tmp_path / "spectryn.zsh")], capture_output=True,
                              text=True, timeout=30)
        assert done.returncode == 0, done.stderr
