"""Status, priority, points and word normalisation."""

from __future__ import annotations

import pytest

from spectryn_markdown.normalise import (
    normalise_link_type,
    normalise_priority,
    normalise_status,
    normalise_word,
    parse_points,
    strip_decoration,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("🔄 In Progress", "in progress"), ("in-progress", "in progress"), ("WIP", "in progress"),
    ("✅ Done", "done"), ("Completed", "done"), ("resolved", "done"), (":white_check_mark: Finished", "done"),
    ("📋 To Do", "open"), ("todo", "open"), ("Planned", "open"), ("backlog", "open"), ("New", "open"),
    ("Review", "in review"), ("In Review", "in review"), ("Closed", "closed"), ("Won't Fix", "closed"),
    ("⏸️ On Hold", "blocked"), ("on-hold", "blocked"), ("**Blocked**", "blocked"),
])
def test_status_aliases(raw: str, expected: str) -> None:
    assert normalise_status(raw) == (expected, None)


def test_config_status_key_is_kept_as_written() -> None:
    assert normalise_status("🧪 QA", ["qa"]) == ("qa", None)
    assert normalise_status("QA") == ("in review", None)
    assert normalise_status("Deployed", ["deployed"]) == ("deployed", None)


def test_empty_status_is_none_without_error() -> None:
    assert normalise_status("  ") == (None, None)
    assert normalise_status("-") == (None, None)


@pytest.mark.parametrize(("raw", "expected"), [("✅", "done"), ("✔️", "done"), ("**🔄**", "in progress"),
                                               (":white_check_mark:", "done"), ("⏸️", "blocked")])
def test_status_emoji_alone(raw: str, expected: str) -> None:
    assert normalise_status(raw) == (expected, None)


def test_priority_emoji_alone_and_an_unclear_one() -> None:
    assert normalise_priority("🔴") == ("critical", None)
    value, error = normalise_priority("🔥")
    assert value is None and error is not None and '"🔥" is an emoji alone' in error
    value, error = normalise_status("🙂")
    assert value is None and error is not None and "write the word too" in error


def test_unknown_status_message() -> None:
    value, error = normalise_status("Sleeping", ["deployed"])
    assert value is None
    assert "open, in progress, in review, done, closed, blocked, deployed" in error


@pytest.mark.parametrize(("raw", "expected"), [
    ("🔴 Critical", "critical"), ("Highest", "critical"), ("blocker", "critical"), ("P0", "critical"),
    ("🟠 High", "high"), ("p1", "high"), ("🟡 Medium", "medium"), ("Normal", "medium"), ("major", "medium"),
    ("🟢 Low", "low"), ("minor", "low"), ("Trivial", "low"), ("lowest", "low"),
])
def test_priority_aliases(raw: str, expected: str) -> None:
    assert normalise_priority(raw) == (expected, None)


def test_unknown_priority() -> None:
    value, error = normalise_priority("Someday")
    assert value is None and error.startswith('unknown priority "Someday"; use one of: low, medium, high, critical')


@pytest.mark.parametrize(("raw", "expected"), [
    ("5", 5.0), ("2.5", 2.5), ("3 SP", 3.0), ("8 points", 8.0), ("1 pt", 1.0), ("½", 0.5), ("0,5", 0.5),
    ("**13**", 13.0), ("", None), ("-", None), ("TBD", None),
])
def test_points(raw: str, expected: float | None) -> None:
    assert parse_points(raw) == (expected, None)


@pytest.mark.parametrize("raw", ["five", "-3", "nan", "inf", "-inf", "1e999", "x"])
def test_bad_points(raw: str) -> None:
    value, error = parse_points(raw)
    assert value is None and error is not None and raw in error


def test_words_and_decoration() -> None:
    assert normalise_word("**Story Points:**") == "story points"
    assert strip_decoration("🚀 EPIC-001: Title ✨") == "EPIC-001: Title"
    assert strip_decoration(":rocket: Launch") == "Launch"
    # decoration is emoji, their modifiers, joiners and variation selectors - never a title's own signs
    assert strip_decoration("Support C++") == "Support C++"
    assert strip_decoration("Pay in $") == "Pay in $"
    assert strip_decoration("a => b") == "a => b"
    assert strip_decoration("Cafe\u0301") == "Cafe\u0301"
    assert strip_decoration("👍🏽 Nice ✔\ufe0f") == "Nice"
    assert strip_decoration("\u200d🔧\ufe0f Fix 1\ufe0f\u20e3") == "Fix 1"
    assert normalise_link_type("Related To") == "relates to"
    assert normalise_link_type("BLOCKS") == "blocks"
