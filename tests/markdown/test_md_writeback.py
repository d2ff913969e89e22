"""Minimal edits of a spec: issue links (--write-back) and pulled values change only their cells."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from spectryn_core.spec_edits import SpecEdit, edit_file, read_text, unified_diff, write_atomically
from spectryn_markdown.parser import parse_text
from spectryn_markdown.writeback import edit_spec_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "EPIC.md"
URL = "https://bitbucket.org/acme/shop/issues/"


def links_for(text: str, path: Path = EXAMPLE, skip: set[str] = frozenset()) -> list[SpecEdit]:
    """An issue link for every story and subtask of ``text`` (numbered in file order)."""
    edits = []
    number = 0
    for story in parse_text(text, path).stories():
        for key in [story.key] + [sub.key for sub in story.subtasks]:
            number += 1
            if key not in skip:
                edits.append(SpecEdit(key, "issue", f"#{number}", f"{URL}{number}"))
    return edits


def shape(text: str) -> list[tuple]:
    """What a sync sends of a spec: every story's fields and its subtasks'."""
    spec = parse_text(text, EXAMPLE)
    assert spec.errors == []
    return [(s.key, s.title, s.description, s.status, s.priority, s.assignee, s.story_points,
             [(t.key, t.title, t.description, t.status, t.story_points) for t in s.subtasks])
            for s in spec.stories()]


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    import difflib

    diff = list(difflib.ndiff(before.split("\n"), after.split("\n")))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


def test_links_go_into_the_tables_and_nothing_else_changes() -> None:
    text = EXAMPLE.read_text()
    result = edit_spec_text(text, EXAMPLE, links_for(text))
    assert result.notes == []
    removed, added = changed_lines(text, result.text)
    assert "| **Issue** | [#1](https://bitbucket.org/acme/shop/issues/1) |" in added
    assert "| # | Subtask | Description | SP | Status | Issue |" in added
    assert "|---|---------|-------------|----|--------|-------|" in added
    assert ("| 1 | Login form | React component with validation | 2 | ✅ Done | "
            "[#2](https://bitbucket.org/acme/shop/issues/2) |") in added
    # every removed line is a subtask table line that came back with one more cell
    for line in removed:
        assert line.startswith("|") and any(new.startswith(line) for new in added), line
    # the spec still says exactly the same to a sync
    assert shape(result.text) == shape(text)
    # a second run changes nothing
    again = edit_spec_text(result.text, EXAMPLE, links_for(text))
    assert again.text == result.text and again.notes == []


def test_line_endings_emoji_and_a_missing_final_newline_are_kept() -> None:
    text = EXAMPLE.read_text()
    linked = edit_spec_text(text, EXAMPLE, links_for(text)).text
    crlf = text.replace("\n", "\r\n")
    assert edit_spec_text(crlf, EXAMPLE, links_for(text)).text == linked.replace("\n", "\r\n")
    bare = text.rstrip("\n")
    out = edit_spec_text(bare, EXAMPLE, links_for(text)).text
    assert out == linked.rstrip("\n") and not out.endswith("\n")
    mixed = text.replace("## User Stories\n", "## User Stories\r\n")
    out = edit_spec_text(mixed, EXAMPLE, links_for(text)).text
    assert out.count("\r\n") == 1 and "🔧 US-001" in out


def test_story_without_table_and_horizontal_table() -> None:
    text = (
        "# Epic\n\n### US-001: Plain story\nJust text.\n\n"
        "### US-002: Horizontal\n\n| Priority | Status |\n|---|---|\n| High | Done |\n\nBody.\n"
    )
    result = edit_spec_text(text, EXAMPLE, [
        SpecEdit("US-001", "issue", "#4", URL + "4"), SpecEdit("US-002", "issue", "#5", URL + "5")])
    assert result.text == (
        "# Epic\n\n### US-001: Plain story\n\n| Field | Value |\n|-------|-------|\n"
        f"| **Issue** | [#4]({URL}4) |\n\nJust text.\n\n"
        "### US-002: Horizontal\n\n| Priority | Status | Issue |\n|---|---|-------|\n"
        f"| High | Done | [#5]({URL}5) |\n\nBody.\n"
    )
    before = {s.key: (s.description, s.priority, s.status) for s in parse_text(text, EXAMPLE).stories()}
    after = {s.key: (s.description, s.priority, s.status) for s in parse_text(result.text, EXAMPLE).stories()}
    assert before == after


def test_a_changed_link_is_replaced_and_list_subtasks_are_noted() -> None:
    text = ("### US-001: A\n\n| Field | Value |\n|---|---|\n| Status | Done |\n| Issue | [#1](old) |\n\n"
            "#### Subtasks\n- [ ] first\n")
    result = edit_spec_text(text, EXAMPLE, [SpecEdit("US-001", "issue", "#9", URL + "9"),
                                            SpecEdit("US-001.1", "issue", "#10", URL + "10")])
    assert f"| Issue | [#9]({URL}9) |" in result.text and "(old)" not in result.text
    assert result.notes == ["US-001.1: issue not written: its subtask is a list item, not a table row; "
                            "nothing written"]


def test_code_fences_are_not_tables() -> None:
    text = ("### US-001: A\n\n```\n| Field | Value |\n|---|---|\n| Status | Done |\n```\n\n"
            "| Field | Value |\n|---|---|\n| Status | Done |\n")
    result = edit_spec_text(text, EXAMPLE, [SpecEdit("US-001", "issue", "#1", URL + "1")])
    assert result.text == text + f"| Issue | [#1]({URL}1) |\n"


def test_pulled_values_keep_the_cell_style() -> None:
    text = EXAMPLE.read_text()
    edits = [SpecEdit("US-001", "status", "done"), SpecEdit("US-001", "title", "Sign in | out"),
             SpecEdit("US-002", "priority", "critical"), SpecEdit("US-001", "assignee", "bob"),
             SpecEdit("US-002.1", "status", "done"), SpecEdit("US-003.1", "status", "done")]
    result = edit_spec_text(text, EXAMPLE, edits)
    removed, added = changed_lines(text, result.text)
    assert sorted(added) == sorted([
        "### 🔧 US-001: Sign in | out", "| **Status** | ✅ Done |", "| **Assignee** | @bob |",
        "| **Priority** | 🔴 Critical |", "| 1 | Logout button | In the header menu | 1 | Done |"])
    assert len(removed) == 5
    assert result.notes == ["US-003.1: status not written: the subtask table has no Status column"]
    spec = {s.key: s for s in parse_text(result.text, EXAMPLE).stories()}
    assert (spec["US-001"].title, spec["US-001"].status, spec["US-001"].assignee) == ("Sign in | out", "done", "bob")
    assert spec["US-002"].priority == "critical" and spec["US-002"].subtasks[0].status == "done"
    assert edit_spec_text(result.text, EXAMPLE, edits).text == result.text


def test_edit_file_writes_atomically_keeps_mode_and_bom(tmp_path: Path) -> None:
    import spectryn_markdown.plugin as md

    class Hook:
        @staticmethod
        def edit_spec(path: Path, text: str, edits: list[SpecEdit]):  # noqa: ANN205
            return md.edit_spec(path=path, text=text, edits=edits)

    spec = tmp_path / "EPIC.md"
    text = EXAMPLE.read_text()
    spec.write_bytes(("\ufeff" + text).encode())
    os.chmod(spec, 0o640)
    dry = edit_file(Hook, spec, links_for(text), write=False)
    assert dry.changed and not dry.written and spec.read_bytes() == ("\ufeff" + text).encode()
    assert dry.diff().startswith(f"--- a/{spec}\n+++ b/{spec}\n")
    done = edit_file(Hook, spec, links_for(text), write=True)
    assert done.written and spec.read_bytes().startswith("\ufeff".encode())
    assert stat.S_IMODE(spec.stat().st_mode) == 0o640
    assert read_text(spec) == (done.after, True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["EPIC.md"]  # no temp file left
    assert not edit_file(Hook, spec, links_for(text), write=True).written


def test_unified_diff_marks_a_missing_final_newline(tmp_path: Path) -> None:
    assert unified_diff(Path("x.md"), "a\n", "a\n") == ""
    assert unified_diff(Path("x.md"), "a\nb", "a\nc").endswith("+c\n\\ No newline at end of file\n")
    target = tmp_path / "f.md"
    write_atomically(target, "new\r\n")
    assert target.read_bytes() == b"new\r\n"


def test_the_readme_write_back_example_is_what_the_module_writes() -> None:
    import difflib
    import re

    readme = (ROOT / "README.md").read_text()
    (shown,) = re.findall(r"<!-- write-back-example -->\n```diff\n(.*?)```\n", readme, re.S)
    text = EXAMPLE.read_text()
    numbers = {"US-001": 1, "US-001.1": 7, "US-001.2": 6, "US-001.3": 9}
    edits = [SpecEdit(key, "issue", f"#{n}", f"{URL}{n}") for key, n in numbers.items()]
    after = edit_spec_text(text, EXAMPLE, edits).text
    diff = "".join(list(difflib.unified_diff(text.splitlines(True), after.splitlines(True)))[2:])
    assert diff == shown


def test_an_epic_kept_as_an_issue_gets_its_link_too() -> None:
    text = ("# EPIC-001: Accounts\n\n| Field | Value |\n|---|---|\n| Milestone | Q1 |\n\nWhy.\n\n"
            "### US-001: A\n\n| Field | Value |\n|---|---|\n| Status | Done |\n")
    result = edit_spec_text(text, EXAMPLE, [SpecEdit("EPIC-001", "issue", "#3", URL + "3")])
    assert result.text == text.replace("| Milestone | Q1 |\n", f"| Milestone | Q1 |\n| Issue | [#3]({URL}3) |\n")
    before, after = parse_text(text, EXAMPLE).epics[0], parse_text(result.text, EXAMPLE).epics[0]
    assert (before.description, before.milestone) == (after.description, after.milestone)
