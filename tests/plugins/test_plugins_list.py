"""``spectryn plugins``: distribution, version and hooks of each plugin, and load failures with
their fix - while the broken plugins do not take the command (or the other plugins) down."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from spectryn_core.cli import main

BROKEN = {
    "raises_on_import": "raise RuntimeError('the plugin exploded')\n",
    "needs_missing_dep": "import no_such_dependency_xyz\n",
    "misspelled_hook": """\
        from spectryn_core import hookimpl

        @hookimpl
        def map_stauts(status):
            return "open"
        """,
    "raises_in_tracker_name": """\
        from spectryn_core import hookimpl

        @hookimpl
        def tracker_name():
            raise ValueError("no name today")
        """,
    "good_mapper": """\
        from spectryn_core import hookimpl

        @hookimpl
        def map_status(status):
            return None
        """,
}


@pytest.fixture
def plugin_modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for name, source in BROKEN.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("SPECTRYN_PLUGINS", ",".join(BROKEN))
    return list(BROKEN)


def _rows(capsys: pytest.CaptureFixture[str]) -> dict[str, dict]:
    assert main(["plugins", "--output", "json"]) == 0
    return {row["name"]: row for row in json.loads(capsys.readouterr().out)["plugins"]}


def test_each_failure_is_listed_with_its_fix(plugin_modules, capsys) -> None:
    rows = _rows(capsys)
    assert rows["raises_on_import"]["error"] == "RuntimeError: the plugin exploded"
    assert rows["raises_on_import"]["fix"] == \
        "check that 'raises_on_import' (SPECTRYN_PLUGINS) can be imported"
    assert rows["needs_missing_dep"]["error"] == \
        "needs the module 'no_such_dependency_xyz', which is not installed"
    assert rows["misspelled_hook"]["error"] == "implements 'map_stauts', which is not a spectryn hook"
    assert rows["misspelled_hook"]["fix"] == "check the spelling against spectryn_core/hookspecs.py"
    assert rows["raises_in_tracker_name"]["error"] == "tracker_name failed: ValueError: no name today"
    assert all(not rows[name]["loaded"] for name in plugin_modules if name != "good_mapper")


def test_working_plugins_still_load_with_distribution_version_and_hooks(plugin_modules, capsys):
    rows = _rows(capsys)
    assert rows["good_mapper"]["loaded"] and rows["good_mapper"]["hooks"] == ["map_status"]
    markdown = rows["markdown"]
    assert (markdown["distribution"], markdown["loaded"], markdown["hooks"]) == (
        "spectryn", True, ["config_sections", "edit_spec", "parse_spec"])
    assert markdown["version"]
    assert rows["bitbucket"]["tracker"] == "bitbucket"


def test_text_output_shows_not_loaded_and_the_fix(plugin_modules, capsys) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    block = out[out.index("raises_on_import"):]
    lines = block.splitlines()
    assert "NOT LOADED" in lines[0]
    assert lines[1].strip() == "RuntimeError: the plugin exploded"
    assert lines[2].strip() == "fix: check that 'raises_on_import' (SPECTRYN_PLUGINS) can be imported"
    assert "Traceback" not in out


def test_a_sync_still_runs_with_broken_plugins_installed(plugin_modules, tmp_path, capsys) -> None:
    from spectryn_core.testing import CONTRACT_SPEC

    spec = tmp_path / "EPIC.md"
    spec.write_text(CONTRACT_SPEC)
    assert main(["validate", str(spec)]) == 0
    assert "OK" in capsys.readouterr().out
