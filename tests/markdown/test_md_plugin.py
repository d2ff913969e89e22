"""The ``parse_spec`` hook: suffix check and config mapping keys."""

from __future__ import annotations

from pathlib import Path

import pluggy

from spectryn_markdown import plugin


class FakeConfig:
    """Only the part of spectryn_core.config.Config the plugin uses."""

    def __init__(self, status: dict[str, str], priority: dict[str, str]):
        self._mappings = {"status": status, "priority": priority}

    def mapping(self, name: str) -> dict[str, str]:
        return self._mappings[name]

    def section(self, name: str) -> dict[str, object]:
        return {}


SPEC = "### US-1: s\n\n| Field | Value |\n|---|---|\n| Status | QA |\n| Priority | Meh |\n"


def test_other_suffixes_are_not_handled(tmp_path: Path) -> None:
    path = tmp_path / "spec.txt"
    path.write_text(SPEC)
    assert plugin.parse_spec(path=path, config=None) is None


def test_markdown_suffixes(tmp_path: Path) -> None:
    for suffix in (".md", ".markdown", ".MDOWN"):
        path = tmp_path / f"spec{suffix}"
        path.write_text("### US-1: s\n")
        spec = plugin.parse_spec(path=path, config=None)
        assert spec is not None and [s.key for s in spec.stories()] == ["US-1"]


def test_config_mapping_keys_are_accepted_words(tmp_path: Path) -> None:
    path = tmp_path / "spec.md"
    path.write_text(SPEC)
    without = plugin.parse_spec(path=path, config=None)
    assert without.stories()[0].status == "in review"
    assert len(without.errors) == 1 and "unknown priority" in without.errors[0].message
    config = FakeConfig({"qa": "open", "done": "resolved"}, {"meh": "trivial"})
    spec = plugin.parse_spec(path=path, config=config)
    assert spec.errors == []
    assert (spec.stories()[0].status, spec.stories()[0].priority) == ("qa", "meh")


def test_hookimpl_registers_with_the_spectryn_project() -> None:
    from spectryn_core import hookspecs

    manager = pluggy.PluginManager("spectryn")
    manager.add_hookspecs(hookspecs)
    manager.register(plugin)
    manager.check_pending()
    assert manager.hook.parse_spec(path=Path("x.txt"), config=None) is None


def test_validate_prints_the_readers_warnings_with_file_and_line(tmp_path, capsys) -> None:
    import json

    from spectryn_core.cli import main

    spec = tmp_path / "EPIC.md"
    spec.write_text("# E\n\n### US_002: Second\n**Priority**: High\n\n#### Description\nx\n", encoding="utf-8")
    assert main(["validate", str(spec)]) == 0
    captured = capsys.readouterr()
    assert "1 stories" in captured.out
    assert f'warning: {spec}:3: story key "US_002" read as "US-002"' in captured.err
    assert main(["validate", str(spec), "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == [] and out["epics"][0]["stories"][0]["priority"] == "high"
    assert [(w["line"], w["message"].split(";")[0]) for w in out["warnings"]] == [
        (3, 'story key "US_002" read as "US-002"')]
