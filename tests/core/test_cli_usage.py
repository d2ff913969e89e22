"""The command line as a new user meets it: commands, help, typos, JSON errors, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from spectryn_core.argparsing import walk
from spectryn_core.cli import EXIT_CODES, build_parser, main
from spectryn_core.plugins import load_plugins
from tests.core.test_engine import SPEC

ROOT = Path(__file__).resolve().parents[2]


def _tree() -> list[tuple[tuple[str, ...], object]]:
    return list(walk(build_parser(load_plugins())))


def test_every_command_has_a_description_and_an_example() -> None:
    commands = {" ".join(path) for path, _parser in _tree()}
    assert {"", "sync", "validate", "check", "plugins", "help", "init", "completion", "pull",
            "bitbucket", "bitbucket repos",
            "bitbucket sandbox"} <= commands
    for path, parser in _tree():
        help_text = parser.format_help()  # type: ignore[attr-defined]
        description = parser.description  # type: ignore[attr-defined]
        assert description and "\n" not in description and len(description) <= 100, \
            f"`spectryn {' '.join(path)}` needs a one-line description"
        assert re.search(r"^examples?:\n  spectryn ", help_text, re.M), \
            f"`spectryn {' '.join(path)} --help` has no example"


def test_no_option_placeholder_is_a_dotted_config_key() -> None:
    for path, parser in _tree():
        help_text = parser.format_help()  # type: ignore[attr-defined]
        assert not re.search(r"[A-Z]+\.[A-Z_]+", help_text), f"spectryn {' '.join(path)}"
    assert "--bitbucket-username USERNAME" in build_parser(load_plugins()).format_help()


@pytest.mark.parametrize("argv,message", [
    (["--exec"], "unknown option: --exec (did you mean --execute?)"),
    (["--markdwn", "EPIC.md"], "unknown option: --markdwn (did you mean --markdown?)"),
    (["chek"], "unknown command 'chek' - did you mean 'check'?"),
    (["help", "valdate"], "unknown command 'valdate' - did you mean 'validate'?"),
    (["bitbucket", "repo"], "unknown command 'repo' - did you mean 'repos'?"),
    (["check", "--trackr", "memory"], "--trackr (did you mean --tracker?)"),
    (["validate", "EPIC.md", "--output", "jsn"], "did you mean 'json'?"),
    ([], "nothing to do"),
])
def test_mistakes_are_usage_errors_with_a_suggestion(cwd, capsys, argv, message) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ")


def test_abbreviations_are_refused_not_guessed(cwd, capsys) -> None:
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--exec"]) == 2
    assert capsys.readouterr().out == ""  # nothing planned, nothing sent


@pytest.mark.parametrize("argv,heading", [
    (["help"], "usage: spectryn --markdown FILE... "),
    (["help", "check"], "usage: spectryn check"),
    (["help", "bitbucket", "repos"], "usage: spectryn bitbucket repos"),
])
def test_help_command_prints_that_commands_help(cwd, capsys, argv, heading) -> None:
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith(heading) and "example" in out


@pytest.mark.parametrize("argv,kind", [
    (["--markdown", "missing.md", "--tracker", "memory"], "usage"),
    (["--markdown", "EPIC.md", "--tracker", "memory", "--nope"], "usage"),
    (["chek"], "usage"),
    (["check"], "usage"),
    (["validate", "missing.md"], "usage"),
    (["--markdown", "EPIC.md", "--tracker", "jira"], "usage"),
])
def test_every_failure_is_one_json_error_object_on_stdout(cwd, capsys, argv, kind) -> None:
    assert main([*argv, "--output", "json"]) == 2
    captured = capsys.readouterr()
    error = json.loads(captured.out)["error"]
    assert error["kind"] == kind and error["message"] and "hint" in error
    assert captured.err.startswith("error: ")  # people reading a CI log still see it


def test_config_error_as_json(cwd, capsys) -> None:
    (cwd / ".spectryn.yaml").write_text("sync:\n  workers: lots\n")
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--output=json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "config" and "sync.workers" in error["message"]


def test_config_file_asking_for_json_gets_json_errors_too(cwd, capsys) -> None:
    (cwd / ".spectryn.yaml").write_text("sync:\n  output: json\n")
    assert main(["--markdown", "EPIC.md", "--tracker", "jira"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["kind"] == "usage"


def test_spec_error_as_json_lists_every_problem(cwd, capsys) -> None:
    bad = SPEC.replace("| **Story Points** | 3 |", "| **Story Points** | x |")
    (cwd / "EPIC.md").write_text(bad.replace("### US-002: Pay by invoice", "### US-001: Pay"))
    assert main(["--markdown", "EPIC.md", "--tracker", "memory", "--output", "json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "spec" and len(error["problems"]) >= 2
    assert all(p.startswith("EPIC.md:") for p in error["problems"])
    assert main(["validate", "EPIC.md", "--output", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["kind"] == "spec" and len(out["errors"]) >= 2


def test_failed_items_are_the_json_error(cwd, capsys) -> None:
    from tests.support import mem_plugin

    mem_plugin.TRACKER.issues.clear()
    mem_plugin.TRACKER.fail_on = {"US-002"}
    try:
        code = main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute", "--output", "json"])
    finally:
        mem_plugin.TRACKER.fail_on = set()
    assert code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["error"]["kind"] == "item" and "US-002" in out["error"]["message"]


def test_check_and_plugins_answer_in_json(cwd, capsys) -> None:
    assert main(["check", "--tracker", "memory", "--output", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tracker"] == "memory" and out["connection"] == "ok"
    assert main(["plugins", "--output", "json"]) == 0
    assert any(row["tracker"] == "memory" for row in json.loads(capsys.readouterr().out)["plugins"])


def test_readme_exit_code_table_is_the_cli_table() -> None:
    text = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `(\d+)` \| (.+?) \|$", text, re.M))
    assert {int(code) for code in rows} == {code for code, _text in EXIT_CODES}
    help_text = build_parser(load_plugins()).format_help()
    for code, meaning in EXIT_CODES:
        assert f"  {code:<4} {meaning}"[:40] in help_text


def test_interrupted_run_exits_130_with_a_json_error(cwd, capsys) -> None:
    from tests.support import mem_plugin

    mem_plugin.TRACKER.issues.clear()
    mem_plugin.TRACKER.crash_after = 1
    try:
        code = main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute", "--output", "json"])
    finally:
        mem_plugin.TRACKER.crash_after = None
    assert code == 130
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["kind"] == "interrupted" and "run again" in error["message"]
