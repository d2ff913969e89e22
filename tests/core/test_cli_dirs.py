"""Where the CLI keeps state and logs: ``sync.state_dir`` / ``sync.log_dir`` as configured.

A relative folder written in a config file is relative to that file, so a command run from a
sub-folder of the repository uses the same state as one run from its root; a relative folder from
the environment is relative to where the command runs, as any path given on a command line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from spectryn_core.cli import _dir
from spectryn_core.config import load_config


def _repository(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "repo"
    sub = root / "docs" / "specs"
    sub.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".spectryn.yaml").write_text("sync:\n  state_dir: .spectryn/state\n  log_dir: logs\n", encoding="utf-8")
    return root, sub


def test_relative_folders_in_a_config_file_are_relative_to_the_file(tmp_path: Path) -> None:
    root, sub = _repository(tmp_path)
    for cwd in (root, sub):
        config = load_config([], cwd=cwd, env={}, user_config_dir=tmp_path / "user")
        assert _dir(config, "state") == root / ".spectryn" / "state"
        assert _dir(config, "log") == root / "logs"


def test_relative_folders_in_the_user_config_file_are_relative_to_it(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "config.yaml").write_text("sync:\n  state_dir: state\n", encoding="utf-8")
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    config = load_config([], cwd=elsewhere, env={}, user_config_dir=user)
    assert _dir(config, "state") == user / "state"


def test_relative_folders_from_the_environment_stay_relative_to_the_command(tmp_path: Path) -> None:
    _, sub = _repository(tmp_path)
    config = load_config([], cwd=sub, env={"SPECTRYN_STATE_DIR": "here"}, user_config_dir=tmp_path / "user")
    assert _dir(config, "state") == Path("here")


def test_absolute_and_home_folders_are_kept(tmp_path: Path) -> None:
    root, sub = _repository(tmp_path)
    (root / ".spectryn.yaml").write_text(f"sync:\n  state_dir: {tmp_path / 'abs'}\n  log_dir: ~/spectryn-logs\n",
                                         encoding="utf-8")
    config = load_config([], cwd=sub, env={}, user_config_dir=tmp_path / "user")
    assert _dir(config, "state") == tmp_path / "abs"
    assert _dir(config, "log") == Path("~/spectryn-logs").expanduser()
