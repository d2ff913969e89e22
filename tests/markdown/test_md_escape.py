"""Tracker text written into a spec (``spectryn pull``, ``--write-back``) is escaped for where it goes
and proven by reading it back (issue 26): a heading title, a subtask's title cell, an assignee cell.
Whatever a person types into Bitbucket, the edit either reads back exactly that value - with the
spec's structure unchanged - or is not written and says why."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from spectryn_core.spec_edits import SpecEdit
from spectryn_markdown.parser import parse_text
from spectryn_markdown.writeback import edit_spec_text, escape_text, link_target, unwritable

PATH = Path("EPIC.md")
SPEC = """# EPIC-001: Shop

### 🔧 US-001: Login

| Field | Value |
|-------|-------|
| **Priority** | 🟠 High |
| **Assignee** | @alice |

#### Subtasks
| # | Subtask | SP | Status | Assignee |
|---|---------|----|--------|----------|
| 1 | Login form | 2 | ✅ Done | @bob |
| 2 | Session cookie | 1 | 📋 To Do | @carol |

### US-002: Logout
Plain story.
"""


def outline(text: str) -> list[str]:
    spec = parse_text(text, PATH)
    assert spec.errors == []
    return [s.key for s in spec.stories()] + [t.key for s in spec.stories() for t in s.subtasks]


def item(text: str, key: str):  # noqa: ANN201
    spec = parse_text(text, PATH)
    return next(x for s in spec.stories() for x in (s, *s.subtasks) if x.key == key)


def round_trip(key: str, field: str, value: str) -> tuple[bool, str]:
    """Apply one edit; check it reads back (or was refused, leaving the text alone)."""
    edited = edit_spec_text(SPEC, PATH, [SpecEdit(key, field, value)])  # type: ignore[arg-type]
    written = not edited.skipped
    assert outline(edited.text) == outline(SPEC)  # never a new story, subtask or problem
    if written:
        assert getattr(item(edited.text, key), field) == value
        assert edited.notes == []
    else:
        assert edited.text == SPEC
        assert [e.value for e in edited.skipped] == [value] and len(edited.notes) == 1
        assert edited.notes[0].startswith(f"{key}: {field} ")
    return written, edited.text


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


HEADING, CELL = "US-001", "US-001.2"  # a story's heading; a subtask's title cell


@settings(max_examples=800, deadline=None)
@given(TEXT, st.sampled_from([HEADING, CELL]))
@example("Login *emphasis* and _this_", HEADING)
@example("<b>bold</b> & &amp; entity", HEADING)
@example("Issue ###", HEADING)
@example("C:\\path\\to\\file \\*", HEADING)
@example("[link](http://x) ![img](y) `code`", HEADING)
@example("Two\nlines", HEADING)
@example("Bare\rCR", HEADING)
@example("US-003: Injected", HEADING)
@example("x |", HEADING)
@example("a | b", CELL)
@example("a \\| b", CELL)
@example("trailing\\", CELL)
@example("*x*", CELL)
@example("Line\r\nbreak", CELL)
def test_any_title_reads_back_or_is_refused(title: str, key: str) -> None:
    written, _ = round_trip(key, "title", title)
    # the escaping is complete: every title the reader can hold is written
    assert written == (unwritable(title) == "")


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20))
@example("bob|dev")
@example("al_ice")
@example("x\\y")
def test_any_assignee_name_reads_back_or_is_refused(name: str) -> None:
    for key in ("US-001", "US-001.1"):
        written, _ = round_trip(key, "assignee", name)
        assert written == (unwritable(name, "assignee") == "")


@pytest.mark.parametrize(("title", "line"), [
    ("*emphasis*", "### 🔧 US-001: \\*emphasis\\*"),
    ("Make <b>bold</b> work", "### 🔧 US-001: Make \\<b\\>bold\\</b\\> work"),
    ("Issue ###", "### 🔧 US-001: Issue \\###"),
    ("back\\slash", "### 🔧 US-001: back\\\\slash"),
    ("a | b", "### 🔧 US-001: a | b"),
    ("Plain words (and parentheses)", "### 🔧 US-001: Plain words (and parentheses)"),
])
def test_what_the_escaped_heading_looks_like(title: str, line: str) -> None:
    written, text = round_trip("US-001", "title", title)
    assert written and line in text.splitlines()


def test_a_pipe_in_a_nickname_keeps_the_row_and_a_bare_cr_is_refused() -> None:
    written, text = round_trip("US-001", "assignee", "bob|dev")
    assert written and "| **Assignee** | @bob\\|dev |" in text
    written, _ = round_trip("US-001.2", "title", "Session\rcookie")
    assert not written
    edited = edit_spec_text(SPEC, PATH, [SpecEdit("US-001.2", "title", "Session\rcookie")])
    assert edited.notes == ['US-001.2: title "Session\\rcookie" not written: it holds a line break, '
                            "which a spec cannot; change it in the tracker or write it into the "
                            "spec by hand"]


def test_a_title_with_a_line_break_never_adds_a_story() -> None:
    hostile = "Login\n\n### US-009: Injected\n\n| Field | Value |\n|---|---|\n| **Status** | Done |"
    written, text = round_trip("US-001", "title", hostile)
    assert not written and text == SPEC


def test_punctuation_and_math_or_currency_signs_at_the_ends_of_a_title_round_trip() -> None:
    for title in ("Support C++", "Pay in $", "x = y +", "Café\u0301", "Rename a -> b =>"):
        assert unwritable(title) == "", title
        written, text = round_trip("US-001", "title", title)
        assert written, title
        assert item(text, "US-001").title == title


def test_emoji_at_the_ends_of_a_title_are_refused_not_lost() -> None:
    for title in ("🔥 Hot fix", ":tada: Release", "Done ✅", "Nice 👍🏽"):
        assert unwritable(title) == (
            "it starts or ends with a symbol or emoji, which the reader takes for decoration")
        written, _ = round_trip("US-001", "title", title)
        assert not written


def test_other_edits_are_still_made_when_one_is_refused() -> None:
    edits = [SpecEdit("US-001", "title", "Sign\nin"), SpecEdit("US-001.1", "title", "Login *form*"),
             SpecEdit("US-001", "priority", "critical")]
    edited = edit_spec_text(SPEC, PATH, edits)
    assert [e.value for e in edited.skipped] == ["Sign\nin"]
    assert item(edited.text, "US-001.1").title == "Login *form*"
    assert item(edited.text, "US-001").priority == "critical"
    assert item(edited.text, "US-001").title == "Login"


def test_links_are_escaped_for_a_table_cell() -> None:
    assert link_target("https://x.test/a b|c)(d<e>") == "https://x.test/a%20b%7Cc%29%28d%3Ce%3E"
    assert escape_text("#12", "cell") == "#12"
    edited = edit_spec_text(SPEC, PATH, [SpecEdit("US-001.1", "issue", "#7", "https://x.test/i/7 |)")])
    assert "[#7](https://x.test/i/7%20%7C%29) |" in edited.text
    assert outline(edited.text) == outline(SPEC)
