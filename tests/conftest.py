"""Shared fixtures: every test runs with its own config, state and log folders, and without the
developer's environment leaking in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_LEAKY = ("BITBUCKET_", "SPECTRYN_")


@pytest.fixture(autouse=True)
def _hermetic_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_LEAKY):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SPECTRYN_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("SPECTRYN_STATE_DIR", str(home / "state"))
    monkeypatch.setenv("SPECTRYN_LOG_DIR", str(home / "logs"))


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
