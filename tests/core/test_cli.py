"""The CLI in-process: exit codes, error rendering, JSON output, validate, plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spectryn_core.cli import main
from tests.core.test_engine import SPEC

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPECTRYN_PLUGINS", "tests.support.mem_plugin")
    monkeypatch.syspath_prepend(str(ROOT))
    from tests.support import mem_plugin

    mem_plugin.TRACKER.issues.clear()
    mem_plugin.TRACKER.writes = 0
    (tmp_path / "EPIC.md").write_text(SPEC)
    return tmp_path


def test_dry_run_json_is_one_object_with_counts_and_items(cwd, capsys):
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["executed"] is False
    assert out["counts"] == {"created": 4, "updated": 0, "unchanged": 0, "conflicts": 0, "duplicates": 0,
                             "orphans": 0, "errors": 0}
    first = out["items"][0]
    assert set(first) >= {"key", "action", "fields", "id", "url", "status"}
    assert first["key"] == "US-001" and first["action"] == "create"


def test_execute_then_json_results_carry_ids_and_urls(cwd, capsys):
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute"]) == 0
    assert "Done: 4 created" in capsys.readouterr().out
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--output", "json", "--execute"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["counts"]["unchanged"] == 4
    assert all(item["id"] and item["url"].startswith("mem://") for item in out["items"])


def test_exit_code_three_for_pending_changes_only_when_asked(cwd):
    assert main(["--markdown", "EPIC.md", "--tracker", "memory"]) == 0
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--exit-code"]) == 3


def test_item_failure_exits_one(cwd, capsys):
    from tests.support import mem_plugin

    mem_plugin.TRACKER.fail_on = {"US-002"}
    try:
        assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute"]) == 1
    finally:
        mem_plugin.TRACKER.fail_on = set()
    assert "FAILED" in capsys.readouterr().out


def test_config_error_names_file_and_key_and_exits_two(cwd, capsys):
    (cwd / ".spectryn.yaml").write_text("sync:\n  workers: lots\n")
    assert main(["--markdown", "EPIC.md", "--tracker", "memory"]) == 2
    err = capsys.readouterr().err
    assert ".spectryn.yaml" in err and "sync.workers" in err and "Traceback" not in err


def test_spec_errors_print_file_line_and_exit_two(cwd, capsys):
    (cwd / "EPIC.md").write_text(SPEC.replace("| **Story Points** | 3 |", "| **Story Points** | x |"))
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute"]) == 2
    err = capsys.readouterr().err
    assert "EPIC.md:" in err and "nothing was sent" in err


@pytest.mark.parametrize("args,message", [
    (["--markdown", "missing.md", "--tracker", "memory"], "no such file"),
    (["--markdown", "EPIC.md"], "no tracker chosen"),
    (["--markdown", "EPIC.md", "--tracker", "jira"], "unknown tracker 'jira'"),
    (["--markdown", "EPIC.md", "--tracker", "memory", "--only", "US-9"], "--only US-9"),
])
def test_usage_errors_exit_two_with_a_message(cwd, capsys, args, message):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_unknown_flag_is_a_usage_error(cwd, capsys):
    assert main(["--markdown", "EPIC.md", "--nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown option: --nope" in err and "did you mean" not in err


def test_validate_ok_text_and_json(cwd, capsys):
    assert main(["validate", "EPIC.md"]) == 0
    assert "2 stories, 2 subtasks" in capsys.readouterr().out
    assert main(["validate", "EPIC.md", "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == [] and out["epics"][0]["stories"][0]["key"] == "US-001"


def test_validate_bad_file_lists_every_problem(cwd, capsys):
    bad = SPEC.replace("| **Story Points** | 3 |", "| **Story Points** | x |")
    bad = bad.replace("### US-002: Pay by invoice", "### US-001: Pay by invoice")
    (cwd / "EPIC.md").write_text(bad)
    assert main(["validate", "EPIC.md"]) == 2
    err = capsys.readouterr().err
    assert err.count("EPIC.md:") >= 2
    assert main(["validate", "EPIC.md", "--output", "json"]) == 2
    assert len(json.loads(capsys.readouterr().out)["errors"]) >= 2


def test_plugins_json_lists_hooks_and_tracker(cwd, capsys):
    assert main(["plugins", "--output", "json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)["plugins"]}
    assert rows["bitbucket"]["tracker"] == "bitbucket"
    assert rows["tests.support.mem_plugin"]["tracker"] == "memory"
    assert "create_item" in rows["bitbucket"]["hooks"]


def test_verbose_shows_the_run_log_path(cwd, capsys, tmp_path):
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--verbose"]) == 0
    err = capsys.readouterr().err
    log_line = next(line for line in err.splitlines() if line.startswith("run log: "))
    log_path = Path(log_line.removeprefix("run log: "))
    assert log_path.is_file() and "plan: create US-001" in log_path.read_text()


def test_config_disable_plugins_turns_a_tracker_off(cwd, capsys):
    (cwd / ".spectryn.toml").write_text('[plugins]\ndisable = ["tests.support.mem_plugin"]\n')
    assert main(["--markdown", "EPIC.md", "--tracker", "memory"]) == 2
    assert "unknown tracker 'memory'" in capsys.readouterr().err


def test_check_runs_the_tracker_check(cwd, capsys):
    assert main(["check", "--tracker", "memory"]) == 0
    assert "connection OK" in capsys.readouterr().out


def test_help_lists_commands_and_plugin_flags(cwd, capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "--bitbucket-workspace WORKSPACE" in out and "exit codes" in out
    assert "bitbucket           Bitbucket helpers" in out


def test_example_epic_validates():
    assert main(["validate", str(ROOT / "examples/EPIC.md")]) == 0


def test_run_stopping_error_prints_the_report_then_the_error(cwd, capsys):
    from tests.support import mem_plugin

    mem_plugin.TRACKER.abort_on = {"US-002"}
    try:
        code = main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute", "--output", "json"])
    finally:
        mem_plugin.TRACKER.abort_on = set()
    captured = capsys.readouterr()
    assert code == 1
    out = json.loads(captured.out)
    assert out["error"]["message"] == "Authentication failed" and out["counts"]["errors"] >= 1
    assert out["error"]["kind"] == "tracker"
    assert "error: Authentication failed" in captured.err
