"""One test per error message of the markdown reader: each is reported with its line, never raised."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spectryn_markdown.parser import parse_file, parse_text

STORY = "# EPIC-1: Epic\n\n### US-1: Story\n\n"


def messages(text: str, tmp_path: Path | None = None) -> list[tuple[int, str]]:
    path = (tmp_path or Path("/nonexistent")) / "spec.md"
    return [(p.line, p.message) for p in parse_text(text, path).errors]


def only(text: str, tmp_path: Path | None = None) -> tuple[int, str]:
    found = messages(text, tmp_path)
    assert len(found) == 1, found
    return found[0]


def test_duplicate_key_names_first_line() -> None:
    line, message = only(STORY + "### US-1: Again\n")
    assert line == 5
    assert message.startswith("duplicate key US-1 (first used at line 3)")


def test_duplicate_story_is_not_kept() -> None:
    spec = parse_text(STORY + "### US-1: Again\n", Path("spec.md"))
    assert [story.title for story in spec.stories()] == ["Story"]


def test_story_heading_without_key_in_stories_area() -> None:
    line, message = only("# E\n\n## User Stories\n\n### Login page\n\n### US-2: Fine\n")
    assert line == 5
    assert 'story heading "Login page" has no key' in message
    assert '"### US-001: Login page"' in message


def test_story_heading_without_key_detected_by_metadata_table() -> None:
    text = "# E\n\n### Login page\n\n| Field | Value |\n|---|---|\n| Priority | High |\n\n### US-2: Fine\n"
    line, message = only(text)
    assert (line, "has no key" in message) == (3, True)


def test_lowercase_key_is_read_with_a_warning() -> None:
    spec = parse_text("# E\n\n## Stories\n\n### us-7: lower\n\n### US-2: ok\n", Path("spec.md"))
    assert spec.errors == [] and [story.key for story in spec.stories()] == ["US-7", "US-2"]
    assert [(p.line, p.message) for p in spec.warnings] == [
        (5, 'story key "us-7" read as "US-7"; write it as "### US-7: lower"')]


def test_lowercase_key_that_cannot_be_read() -> None:
    line, message = only("# E\n\n## Stories\n\n### my_proj-x7: lower\n\n### US-2: ok\n")
    assert line == 5 and 'has no key' in message


def test_key_without_title() -> None:
    line, message = only("### US-3\n")
    assert (line, message) == (1, 'story US-3 has no title; write "### US-3: Title"')


def test_non_numeric_story_points() -> None:
    line, message = only(STORY + "| Field | Value |\n|---|---|\n| Story Points | big |\n")
    assert line == 7
    assert message == 'story points "big" is not a number; write a number such as 3 or 0.5'


def test_unknown_priority_lists_accepted_values() -> None:
    line, message = only(STORY + "| Field | Value |\n|---|---|\n| Priority | 🔥 Whenever |\n")
    assert line == 7
    assert message.startswith('unknown priority "🔥 Whenever"; use one of: low, medium, high, critical')


def test_unknown_status_lists_accepted_and_config_values() -> None:
    spec = parse_text(STORY + "| Field | Value |\n|---|---|\n| Status | Sleeping |\n", Path("s.md"),
                      extra_statuses=["deployed"])
    assert len(spec.errors) == 1
    message = spec.errors[0].message
    assert message.startswith('unknown status "Sleeping"; use one of: open, in progress, in review, done, closed, blocked, deployed')


def test_unknown_epic_status() -> None:
    line, message = only("# E\n\n| Field | Value |\n|---|---|\n| Status | ??? maybe |\n\n### US-1: s\n")
    assert line == 5 and message.startswith('unknown status "??? maybe"')


def test_subtask_table_without_name_column() -> None:
    text = STORY + "#### Subtasks\n| # | Description | SP |\n|---|---|---|\n| 1 | something | 2 |\n"
    line, message = only(text)
    assert line == 6
    assert message == ('subtask table has no name column (columns: #, Description, SP); '
                       'add a "Subtask" or "Task" column')


def test_subtask_row_without_name() -> None:
    text = STORY + "#### Subtasks\n| Task | SP |\n|---|---|\n|  | 2 |\n"
    assert only(text) == (8, "subtask in US-1 has no name; fill in its name cell")


def test_subtask_number_not_a_number() -> None:
    text = STORY + "#### Subtasks\n| # | Task |\n|---|---|\n| one | A |\n"
    assert only(text) == (8, 'subtask number "one" is not a whole number; write 1, 2, 3 ...')


def test_duplicate_subtask_number() -> None:
    text = STORY + "#### Subtasks\n| # | Task |\n|---|---|\n| 2 | A |\n| 2 | B |\n"
    line, message = only(text)
    assert line == 9
    assert message.startswith("duplicate subtask number 2 in US-1 (first used at line 8)")


def test_subtask_bad_points_and_status() -> None:
    text = STORY + "#### Subtasks\n| Task | SP | Status |\n|---|---|---|\n| A | x | zzz |\n"
    found = messages(text)
    assert [line for line, _ in found] == [8, 8]
    assert found[0][1].startswith('story points "x"') and found[1][1].startswith('unknown status "zzz"')


def test_missing_attachment(tmp_path: Path) -> None:
    text = STORY + "#### Attachments\n- [plan](./docs/plan.pdf)\n"
    line, message = only(text, tmp_path)
    assert line == 6
    assert message == ('attachment "./docs/plan.pdf" not found; add the file or fix the link '
                       "(paths are relative to the spec file's folder)")


def test_present_attachment_resolves_against_spec_folder(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "plan file.pdf").write_bytes(b"%PDF")
    spec = parse_text(STORY + "#### Attachments\n- [plan](<docs/plan file.pdf>)\n", tmp_path / "spec.md")
    assert spec.errors == []
    [attachment] = spec.stories()[0].attachments
    assert attachment.name == "plan"
    assert attachment.path == (tmp_path / "docs" / "plan file.pdf").resolve()
    assert attachment.path.is_absolute()


def test_link_not_understood() -> None:
    line, message = only(STORY + "#### Links\n- whatever this is\n")
    assert (line, message) == (6, 'link "whatever this is" not understood; write it as "blocks: US-002"')


def test_no_stories_found() -> None:
    assert only("# Just an epic\n\nSome text.\n") == (
        1, 'no stories found; write each story as a "### US-001: Title" heading')


def test_unreadable_file(tmp_path: Path) -> None:
    spec = parse_file(tmp_path / "missing.md")
    assert len(spec.errors) == 1
    problem = spec.errors[0]
    assert problem.line == 1 and problem.file.endswith("missing.md")
    assert problem.message.startswith("cannot read the file: ")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
def test_unreadable_file_permissions(tmp_path: Path) -> None:
    path = tmp_path / "locked.md"
    path.write_text("### US-1: x\n")
    path.chmod(0)
    try:
        [problem] = parse_file(path).errors
    finally:
        path.chmod(0o644)
    assert "Permission denied" in problem.message


def test_invalid_utf8_reports_byte_and_line_and_keeps_parsing(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes(b"# E\n\n### US-1: Caf\xe9\n\n### US-1: dup\n")
    spec = parse_file(path)
    assert [(p.line, p.message) for p in spec.errors] == [
        (3, "not valid UTF-8 at byte 18; save the file as UTF-8"),
        (5, "duplicate key US-1 (first used at line 3); give each item its own key"),
    ]


def test_problem_str_is_file_line_message(tmp_path: Path) -> None:
    spec = parse_text("### US-1: a\n### US-1: b\n", tmp_path / "x.md")
    assert str(spec.errors[0]) == f"{tmp_path / 'x.md'}:2: duplicate key US-1 (first used at line 1); give each item its own key"


def test_all_errors_reported_in_one_run() -> None:
    spec = parse_file(Path(__file__).resolve().parents[1] / "data" / "specs" / "errors.md")
    assert len(spec.errors) >= 10
    assert [p.line for p in spec.errors] == sorted(p.line for p in spec.errors)


def test_short_table_row_is_an_error_not_a_padded_row(tmp_path):
    from spectryn_markdown.parser import parse_text

    text = (
        "### US-001: A\n\n#### Subtasks\n| # | Subtask | Description | SP | Status |\n"
        "|---|---------|-------------|----|--------|\n| 1 | Form | x | 2 | Done |\n| 2 | Sess\n"
    )
    spec = parse_text(text, tmp_path / "s.md")
    assert [(p.line, "cut short" in p.message) for p in spec.errors] == [(7, True)]
    escaped = text.replace("| 2 | Sess\n", "| 2 | a \\| b | c | 1 | Open |\n")
    assert parse_text(escaped, tmp_path / "s.md").errors == []
