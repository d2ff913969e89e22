"""Fixtures of the CLI tests run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_engine import SPEC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working folder with the engine tests' spec as EPIC.md and the in-memory
    tracker plugin (``--tracker memory``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPECTRYN_PLUGINS", "tests.support.mem_plugin")
    monkeypatch.setenv("SPECTRYN_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SPECTRYN_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("SPECTRYN_CONFIG_DIR", str(tmp_path / "userconfig"))
    monkeypatch.syspath_prepend(str(ROOT))
    (tmp_path / "EPIC.md").write_text(SPEC)
    return tmp_path
