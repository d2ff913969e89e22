"""spectryn's tracker contract, run against the jsonfile plugin."""

from pathlib import Path

import pytest

from spectryn_core.testing import Target, TrackerContract


class TestJsonFileContract(TrackerContract):
    tracker = "jsonfile"

    @pytest.fixture
    def target(self, tmp_path: Path) -> Target:
        path = tmp_path / "issues.json"
        return Target(env={"SPECTRYN_JSONFILE_PATH": str(path)})

    @pytest.fixture
    def broken_target(self, tmp_path: Path) -> Target:
        return Target(env={"SPECTRYN_JSONFILE_PATH": str(tmp_path / "missing" / "issues.json")})
