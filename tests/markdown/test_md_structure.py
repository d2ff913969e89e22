"""Structure of parsed specs: what is a story, where text goes, model fields."""

from __future__ import annotations

from pathlib import Path

from spectryn_markdown.parser import parse_text


def parse(text: str):
    return parse_text(text, Path("/specs/spec.md"))


def test_code_fence_html_and_quote_headings_are_not_stories() -> None:
    text = ("### US-1: real\n\n```\n### US-999: fenced\n```\n\n    ### US-996: indented code\n\n"
            "<div>\n### US-998: html\n</div>\n\n> ### US-997: quoted\n\n- ### US-995: in a list\n")
    spec = parse(text)
    assert [story.key for story in spec.stories()] == ["US-1"]
    assert spec.errors == []


def test_story_model_fields() -> None:
    text = ("# 🚀 EPIC-7: Epic\n\n## User Stories\n\n### 🔧 PROJ-789: Title here\n\n"
            "#### Subtasks\n| Task | Description | Points |\n|---|---|---|\n| A | d | 1 |\n| B | e | 2 |\n")
    [story] = parse(text).stories()
    assert (story.key, story.title, story.line, story.epic_key) == ("PROJ-789", "Title here", 5, "EPIC-7")
    assert [(s.number, s.key, s.line) for s in story.subtasks] == [(1, "PROJ-789.1", 10), (2, "PROJ-789.2", 11)]


def test_hash_column_number_is_kept() -> None:
    text = "### US-1: s\n\n#### Subtasks\n| # | Subtask |\n|---|---|\n| 4 | later |\n| 2 | earlier |\n"
    [story] = parse(text).stories()
    assert [s.key for s in story.subtasks] == ["US-1.4", "US-1.2"]


def test_description_without_heading_and_unknown_sections_in_order() -> None:
    text = ("### US-1: s\n\n**As a** user\n**I want** x\n**So that** y\n\nMore.\n\n"
            "#### Technical Notes\nNotes.\n\n#### Risks\nRisky.\n\n#### Description\nLater text.\n")
    [story] = parse(text).stories()
    assert story.description == ("**As a** user\n**I want** x\n**So that** y\n\nMore.\n\nLater text."
                                 "\n\n#### Risks\n\nRisky.")
    assert story.technical_notes == "Notes."


def test_stories_before_h1_form_unnamed_epic_then_named() -> None:
    spec = parse("### US-1: a\n\n# EPIC-2: Named\n\n### US-2: b\n")
    assert [(e.key, e.title, [s.key for s in e.stories]) for e in spec.epics] == [
        (None, "", ["US-1"]), ("EPIC-2", "Named", ["US-2"])]
    assert spec.stories()[1].epic_key == "EPIC-2"


def test_h3_epic_heading_from_the_bitbucket_guide() -> None:
    spec = parse("### 🚀 EPIC-001: User Authentication Epic\n| Field | Value |\n|---|---|\n"
                 "| **Milestone** | Q1 2024 |\n\n### 🔧 US-001: Login Feature\n")
    [epic] = spec.epics
    assert (epic.key, epic.milestone, [s.key for s in epic.stories]) == ("EPIC-001", "Q1 2024", ["US-001"])


def test_pull_requests_not_from_code() -> None:
    text = ("### US-1: see PR #3\n\nFixed in Pull Request #5 and pull request 5.\n\n"
            "```\nPR #99\n```\n\n`PR #98` in code span.\n\n[link](https://h/x/pull-requests/7)\n")
    [story] = parse(text).stories()
    assert [(ref.number, ref.repository, ref.line) for ref in story.pull_requests] == [
        (3, None, 1), (5, None, 3), (7, "x", 11)]


def test_pull_request_urls_name_their_repository() -> None:
    text = ("### US-1: x\n\nhttps://bitbucket.org/acme/webapp/pull-requests/7 and\n"
            "[s](https://git.example.com/projects/P/repos/r/pullrequests/459) and /pull-requests/8.\n")
    [story] = parse(text).stories()
    assert [(ref.number, ref.repository) for ref in story.pull_requests] == [
        (7, "acme/webapp"), (8, None), (459, "P/r")]


def test_comment_headers() -> None:
    text = ("### US-1: s\n\n#### Comments\n> **@alice** (2025-01-15):\n> line one\n> line two\n\n"
            "> **@bob** (2025-02-01): same line\n\n> plain\n")
    [story] = parse(text).stories()
    assert [(c.author, c.date, c.body) for c in story.comments] == [
        ("alice", "2025-01-15", "line one\nline two"), ("bob", "2025-02-01", "same line"), (None, None, "plain")]


def test_web_links_under_attachments_stay_in_description() -> None:
    text = "### US-1: s\n\n#### Attachments\n- [Figma](https://figma.com/file/x)\n"
    spec = parse(text)
    [story] = spec.stories()
    assert spec.errors == [] and story.attachments == []
    assert story.description == "#### Attachments\n\n- [Figma](https://figma.com/file/x)"


def test_metadata_fields_case_insensitive_and_extra_rows_kept() -> None:
    text = ("### US-1: s\n\n| FIELD | VALUE |\n|---|---|\n| assignee | @zoe |\n| LABELS | a; b |\n"
            "| Kind | bug |\n| Due Date | Friday |\n")
    [story] = parse(text).stories()
    assert (story.assignee, story.labels, story.kind) == ("zoe", ["a", "b"], "bug")
    assert story.description == "**Due Date:** Friday"


def test_epic_overview_and_release() -> None:
    text = ("# Epic\n\n| Field | Value |\n|---|---|\n| Target Release | R1 |\n| Status | Done |\n\n"
            "## Overview\n\nWhy.\n\n## User Stories\n\n### US-1: s\n")
    [epic] = parse(text).epics
    assert (epic.key, epic.title, epic.milestone, epic.status, epic.description) == (None, "Epic", "R1", "done", "Why.")
