"""The forms of the older spectryn tool's specs (issue 19): each gives the same issues as our own
form, bad values in them are errors on their line, and what looks like metadata but is not read is
a warning with its line - never silence."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectryn_markdown.jsonout import spec_to_json
from spectryn_markdown.parser import parse_text

PATH = Path("/specs/EPIC.md")

CANONICAL_STORY = """# Epic

## User Stories

### US-002: Login

| Field | Value |
|-------|-------|
| **Story Points** | 5 |
| **Priority** | High |
| **Status** | Done |

#### Description
As a user.
"""

#: (variant name, spec written that way) - each reads as CANONICAL_STORY does.
STORY_VARIANTS = [
    ("table without its |---| row", "# Epic\n\n## User Stories\n\n### US-002: Login\n"
     "| **Story Points** | 5 |\n| **Priority** | High |\n| **Status** | Done |\n\n#### Description\nAs a user.\n"),
    ("table without its |---| row, with a Field/Value header", "# Epic\n\n### US-002: Login\n\n| Field | Value |\n"
     "| **Story Points** | 5 |\n| **Priority** | High |\n| **Status** | Done |\n\n#### Description\nAs a user.\n"),
    ("inline fields", "# Epic\n\n### US-002: Login\n**Priority**: High\n**Story Points**: 5\n**Status**: Done\n\n"
     "#### Description\nAs a user.\n"),
    ("inline fields, colon inside the bold, as a list", "# Epic\n\n### US-002: Login\n\n- **Priority:** High\n"
     "- **Story Points:** 5\n- **Status:** Done\n\n#### Description\nAs a user.\n"),
    ("emoji alone", "# Epic\n\n### US-002: Login\n\n| Field | Value |\n|---|---|\n| **Story Points** | 5 |\n"
     "| **Priority** | 🟠 |\n| **Status** | ✅ |\n\n#### Description\nAs a user.\n"),
    ("key with an underscore, no stories heading", "# Epic\n\n### US_002: Login\n\n| Field | Value |\n|---|---|\n"
     "| **Story Points** | 5 |\n| **Priority** | High |\n| **Status** | Done |\n\n#### Description\nAs a user.\n"),
    ("key with a space", "# Epic\n\n### US 002: Login\n**Priority**: High\n**Story Points**: 5\n**Status**: Done\n\n"
     "#### Description\nAs a user.\n"),
    ("lower-case key", "# Epic\n\n## User Stories\n\n### us-002: Login\n| **Story Points** | 5 |\n| **Priority** | High |\n"
     "| **Status** | Done |\n\n#### Description\nAs a user.\n"),
    ("no links written as None", CANONICAL_STORY + "\n#### Dependencies\n- None\n"),
    ("no links written as N/A and -", CANONICAL_STORY + "\n#### Links\nN/A\n\n- -\n"),
    ("an overview table under an H3", CANONICAL_STORY.replace(
        "## User Stories", "### Milestones\n\n| Milestone | Date | Status |\n|---|---|---|\n| Beta | March | Planned |"
        "\n\n## User Stories")),
]


def issues(text: str) -> list[dict]:
    """What would be sent: the stories as JSON, without line numbers (the forms differ in length)."""
    spec = parse_text(text, PATH)
    assert spec.errors == [], spec.errors
    stories = [story for epic in spec_to_json(spec)["epics"] for story in epic["stories"]]
    for story in stories:
        del story["line"]
        # the free text as rendered (a description shows no heading; the structured content of
        # the other sections is compared through its fields above)
        story["sections"] = [(s["kind"], "" if s["kind"] == "description" else s["title"], s["text"])
                             for s in story["sections"] if s["text"]]
    return stories


@pytest.mark.parametrize(("name", "text"), STORY_VARIANTS, ids=[name for name, _ in STORY_VARIANTS])
def test_variant_gives_the_same_issues_as_the_canonical_form(name: str, text: str) -> None:
    assert issues(text) == issues(CANONICAL_STORY)


def test_checkbox_subtasks_give_the_same_issues_as_a_subtask_table() -> None:
    table = ("### US-1: s\n\n#### Subtasks\n| # | Subtask | Description | SP | Status |\n|---|---|---|---|---|\n"
             "| 1 | Login form | React component | 2 | |\n| 2 | Session handling | | 3 | Done |\n| 3 | Docs | | | |\n")
    checkboxes = ("### US-1: s\n\n#### Subtasks\n- [ ] Login form - React component (2 SP)\n"
                  "- [x] Session handling (3 pts)\n- [ ] Docs\n")
    assert issues(checkboxes) == issues(table)
    [story] = parse_text(checkboxes, PATH).stories()
    assert [(s.title, s.description, s.story_points) for s in story.subtasks] == [
        ("Login form", "React component", 2), ("Session handling", "", 3), ("Docs", "", None)]


def test_variant_values_are_checked_like_table_values() -> None:
    text = ("# Epic\n\n### US-1: a\n| **Story Points** | abc |\n| **Priority** | SuperUrgent |\n\n"
            "### US-2: b\n**Status**: Sleeping\n**Priority**: 🔥\n")
    spec = parse_text(text, PATH)
    assert [(p.line, p.message.split(";")[0]) for p in spec.errors] == [
        (4, 'story points "abc" is not a number'),
        (5, 'unknown priority "SuperUrgent"'),
        (8, 'unknown status "Sleeping"'),
        (9, 'priority "🔥" is an emoji alone and it is not clear which priority it means'),
    ]


def test_story_sections_make_a_heading_a_story_never_epic_text() -> None:
    text = "# Guide\n\n### Login page\n\n#### Description\nx\n\n#### Acceptance Criteria\n- [ ] y\n\n### US-2: ok\n"
    spec = parse_text(text, PATH)
    assert [(p.line, 'story heading "Login page" has no key' in p.message) for p in spec.errors] == [(3, True)]
    assert "Login page" not in spec.epics[0].description


def test_a_heading_followed_by_other_text_stays_epic_text() -> None:
    text = "# Guide\n\n### Background\n\nSome history.\n\n### US-2: ok\n"
    spec = parse_text(text, PATH)
    assert spec.errors == [] and spec.warnings == []
    assert spec.epics[0].description == "### Background\n\nSome history."


def test_normalised_keys_are_noted_with_their_line() -> None:
    spec = parse_text("# E\n\n### PROJ/123: Slash\n\n#### Description\nx\n", PATH)
    assert [story.key for story in spec.stories()] == ["PROJ-123"]
    assert [(p.line, p.message) for p in spec.warnings] == [
        (3, 'story key "PROJ/123" read as "PROJ-123"; write it as "### PROJ-123: Slash"')]


def test_metadata_that_is_not_read_is_a_warning_with_its_line() -> None:
    text = ("### US-1: s\n\n| Field | Value |\n|---|---|\n| Priority | High |\n\n| Field | Value |\n|---|---|\n"
            "| Status | Done |\n\n#### Technical Notes\n**Story Points**: 3\n\n#### Description\n"
            "Text | not a row\n| **Status** | Done |\n")
    spec = parse_text(text, PATH)
    [story] = spec.stories()
    assert (story.priority, story.status, story.story_points) == ("high", None, None)
    lines = [(p.line, p.message.split(" but ")[0]) for p in spec.warnings]
    assert lines == [(7, "looks like story metadata"), (12, "looks like story metadata"),
                     (15, "looks like story metadata")]


def test_field_lines_leave_the_rest_of_the_paragraph_as_description() -> None:
    text = "### US-1: s\n**As a** user\n**Priority**: High\n**I want** x\n"
    [story] = parse_text(text, PATH).stories()
    assert story.priority == "high"
    assert story.description == "**As a** user\n**I want** x"
