"""Plugin discovery, broken plugins, disabling, and choosing the mapper."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectryn_core.config import load_config
from spectryn_core.errors import UsageError
from spectryn_core.mappers import resolve_priority, resolve_status
from spectryn_core.plugins import load_plugins


def _config(tmp_path: Path, **cli):
    return load_config([], cli=cli, cwd=tmp_path, env={}, user_config_dir=tmp_path / "u")


def test_entry_point_plugins_and_the_builtin_default_mapper_load():
    plugins = load_plugins()
    names = {info.name: info for info in plugins.infos}
    assert names["default"].loaded and names["default"].hooks == ["map_priority", "map_status"]
    assert names["markdown"].loaded and "parse_spec" in names["markdown"].hooks
    assert names["bitbucket"].distribution == "spectryn" and names["bitbucket"].version
    assert plugins.tracker_names() == ["bitbucket"]


def test_a_broken_plugin_is_reported_not_fatal(monkeypatch):
    monkeypatch.setenv("SPECTRYN_PLUGINS", "tests.support.broken_plugin")
    plugins = load_plugins()
    info = next(i for i in plugins.infos if i.name == "tests.support.broken_plugin")
    assert not info.loaded and "broken on purpose" in info.error and info.hint
    assert plugins.tracker_names() == ["bitbucket"]


def test_a_misspelled_hook_disables_that_plugin_with_a_message(monkeypatch):
    monkeypatch.setenv("SPECTRYN_PLUGINS", "tests.support.misspelled_plugin")
    plugins = load_plugins()
    info = next(i for i in plugins.infos if i.name == "tests.support.misspelled_plugin")
    assert "parse_spek" in info.error and "not a spectryn hook" in info.error


def test_disabled_plugins_do_not_load_or_act():
    plugins = load_plugins(disabled=["bitbucket"])
    assert plugins.tracker_names() == []
    with pytest.raises(UsageError, match="unknown tracker 'bitbucket'"):
        plugins.tracker_hooks("bitbucket")
    plugins = load_plugins()
    plugins.disable(["markdown"])
    assert plugins.pm.get_plugin("markdown") is None
    assert "disabled by config" in next(i for i in plugins.infos if i.name == "markdown").error


def test_load_plugins_env_keeps_runs_hermetic(monkeypatch):
    monkeypatch.setenv("SPECTRYN_LOAD_PLUGINS", "markdown")
    names = {i.name for i in load_plugins().infos}
    assert names == {"default", "markdown"}


def test_default_mapping_is_the_seed_table(tmp_path):
    plugins = load_plugins()
    hooks = plugins.mapper_hooks("default")
    config = _config(tmp_path)
    table = {s: resolve_status(hooks, s, "bitbucket", config)
             for s in ("open", "in progress", "done", "closed", "blocked")}
    assert table == {"open": "open", "in progress": "open", "done": "resolved",
                     "closed": "closed", "blocked": "on hold"}
    prios = {p: resolve_priority(hooks, p, "bitbucket", config)
             for p in ("low", "medium", "high", "critical")}
    assert prios == {"low": "minor", "medium": "major", "high": "critical", "critical": "blocker"}


def test_config_mapping_beats_mappers_and_a_named_mapper_beats_default(tmp_path, monkeypatch):
    monkeypatch.setenv("SPECTRYN_PLUGINS", "tests.support.team_mapper")
    plugins = load_plugins()
    config = _config(tmp_path, **{"sync.status_mapping": {"done": "closed"}})
    team = plugins.mapper_hooks("tests.support.team_mapper")
    assert resolve_status(team, "in progress", "bitbucket", config) == "on hold"
    assert resolve_status(team, "open", "bitbucket", config) == "open"  # default fills in
    assert resolve_status(team, "done", "bitbucket", config) == "closed"  # config wins
    assert resolve_priority(team, "high", "bitbucket", config) == "blocker"
    default = plugins.mapper_hooks("default")  # installed but not named: does not act
    assert resolve_status(default, "in progress", "bitbucket", config) == "open"
    with pytest.raises(UsageError, match="unknown mapper"):
        plugins.mapper_hooks("nope")
