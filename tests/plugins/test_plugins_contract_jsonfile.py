"""The tracker contract kit run against the example jsonfile plugin, from its source folder
(registered with SPECTRYN_PLUGINS, as a plugin author does before packaging)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spectryn_core.testing import Target, TrackerContract

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugins" / "spectryn-jsonfile"


@pytest.fixture(autouse=True)
def _example_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLE))


def _keys(path: Path) -> list[str]:
    if not path.exists():
        return []
    issues = json.loads(path.read_text())["issues"]
    return [issue["title"].split(":", 1)[0] for issue in issues]


class TestJsonFileContract(TrackerContract):
    tracker = "jsonfile"
    plugin_modules = ("spectryn_jsonfile.plugin",)
    load_plugins = ("markdown",)

    @pytest.fixture
    def target(self, tmp_path: Path) -> Target:
        path = tmp_path / "issues.json"
        return Target(env={"SPECTRYN_JSONFILE_PATH": str(path)}, read_keys=lambda: _keys(path))

    @pytest.fixture
    def broken_target(self, tmp_path: Path) -> Target:
        return Target(env={"SPECTRYN_JSONFILE_PATH": str(tmp_path / "missing" / "issues.json")})


def test_a_file_that_is_not_an_issues_file_is_a_tracker_error_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from spectryn_core.cli import main
    from spectryn_core.testing import CONTRACT_SPEC

    path = tmp_path / "not-issues.json"
    path.write_text("[1, 2, 3]")
    spec = tmp_path / "EPIC.md"
    spec.write_text(CONTRACT_SPEC)
    monkeypatch.setenv("SPECTRYN_PLUGINS", "spectryn_jsonfile.plugin")
    monkeypatch.chdir(tmp_path)
    code = main(["--markdown", str(spec), "--tracker", "jsonfile", "--jsonfile-path", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: {path}: not a spectryn-jsonfile issues file" in err
    assert "hint: point jsonfile.path at another file" in err
    assert path.read_text() == "[1, 2, 3]"
