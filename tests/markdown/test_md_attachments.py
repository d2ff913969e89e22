"""Attachments are confined to the spec's repository (spectryn_markdown/attachments.py)."""

from __future__ import annotations

import os
from pathlib import Path

from spectryn_markdown.attachments import AttachmentRules, find_root, safe_name
from spectryn_markdown.parser import parse_text

STORY = "# EPIC-1: Epic\n\n### US-1: Story\n\n#### Attachments\n"


def parse(tmp: Path, links: str, rules: AttachmentRules | None = None, spec: str = "spec.md"):
    path = tmp / spec
    path.parent.mkdir(parents=True, exist_ok=True)
    return parse_text(STORY + links, path, attachments=rules)


def test_the_root_is_the_git_work_tree_holding_the_spec(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "docs" / "specs").mkdir(parents=True)
    assert find_root(tmp_path / "docs" / "specs" / "EPIC.md") == (tmp_path, "the repository")
    assert find_root(tmp_path / "elsewhere" / "EPIC.md")[0] == tmp_path


def test_a_file_elsewhere_in_the_repository_is_attached(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "plan.pdf").write_bytes(b"%PDF")
    spec = parse(tmp_path, "- [plan.pdf](../assets/plan.pdf)\n", spec="docs/spec.md")
    assert spec.errors == []
    [attachment] = spec.stories()[0].attachments
    assert (attachment.name, attachment.path) == ("plan.pdf", tmp_path / "assets" / "plan.pdf")


def test_without_git_the_spec_folder_is_the_root(tmp_path: Path) -> None:
    (tmp_path / "outside.txt").write_text("x")
    spec = parse(tmp_path, "- [o](../outside.txt)\n", spec="docs/spec.md")
    [problem] = spec.errors
    assert problem.line == 6 and "leaves the spec's folder" in problem.message
    assert spec.stories()[0].attachments == []


def test_a_symlink_inside_the_repository_to_a_file_inside_is_fine(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "real.txt")
    spec = parse(tmp_path, "- [alias.txt](alias.txt)\n")
    assert spec.errors == []
    assert spec.stories()[0].attachments[0].path == tmp_path / "real.txt"


def test_a_symlinked_folder_leading_outside_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link").symlink_to(outside)
    [problem] = parse(repo, "- [s](link/secret.txt)\n").errors
    assert "is a symlink to" in problem.message and str(outside / "secret.txt") in problem.message


def test_configured_root_widens_and_narrows(tmp_path: Path) -> None:
    (tmp_path / "shared.txt").write_text("x")
    wide = AttachmentRules.for_spec(tmp_path / "repo" / "spec.md", root=tmp_path)
    assert parse(tmp_path / "repo", "- [s](../shared.txt)\n", wide).errors == []
    narrow = AttachmentRules.for_spec(tmp_path / "spec.md", root=tmp_path / "only-here")
    [problem] = parse(tmp_path, "- [s](shared.txt)\n", narrow).errors
    assert "attachments.root" in problem.message


def test_size_limit_is_an_error_not_a_truncation(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"x" * 11)
    rules = AttachmentRules.for_spec(tmp_path / "spec.md", max_size=10)
    [problem] = parse(tmp_path, "- [big](big.bin)\n", rules).errors
    assert "11 bytes, over attachments.max_size (10 bytes)" in problem.message
    (tmp_path / "big.bin").write_bytes(b"x" * 10)
    assert parse(tmp_path, "- [big](big.bin)\n", rules).errors == []


def test_upload_names_are_safe_basenames() -> None:
    assert safe_name("../../etc/passwd", "x") == ".._.._etc_passwd"
    assert safe_name('a "quoted"\n\x00name\u202e.txt', "x") == "a _quoted_name.txt"
    assert safe_name("..", "report.pdf") == "report.pdf"
    assert safe_name("", "") == "attachment"


def test_link_text_with_a_separator_is_uploaded_under_a_safe_name(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    spec = parse(tmp_path, "- [dir/evil\\name.txt](a.txt)\n")
    assert spec.stories()[0].attachments[0].name == "dir_evil_name.txt"


def test_two_attachments_of_one_story_with_one_name_name_both_lines(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("1")
    (tmp_path / "two.txt").write_text("2")
    [problem] = parse(tmp_path, "- [same.txt](one.txt)\n- [same.txt](two.txt)\n").errors
    assert problem.line == 7
    assert 'uploaded as "same.txt", like the one at line 6' in problem.message


def test_the_same_name_in_two_stories_is_fine(tmp_path: Path) -> None:
    (tmp_path / "one.txt").write_text("1")
    text = ("# EPIC-1: Epic\n\n### US-1: A\n\n#### Attachments\n- [n.txt](one.txt)\n\n"
            "### US-2: B\n\n#### Attachments\n- [n.txt](one.txt)\n")
    assert parse_text(text, tmp_path / "spec.md").errors == []


def test_proc_files_and_devices_are_refused(tmp_path: Path) -> None:
    rules = AttachmentRules.for_spec(tmp_path / "spec.md", root=Path("/"))
    depth = "../" * (len(tmp_path.parts) + 2)
    problems = parse(tmp_path, f"- [e]({depth}proc/self/environ)\n- [n]({depth}dev/null)\n",
                     rules).errors
    assert ["/proc-style" in problems[0].message, "not a regular file" in problems[1].message] \
        == [True, True]


def test_file_digest_streams_and_refuses_what_is_not_a_plain_file(tmp_path: Path) -> None:
    from spectryn_core.items import file_digest

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert file_digest(fifo) == "unreadable"  # and it did not block waiting for a writer
    assert file_digest(Path("/proc/self/environ")) == "unreadable"
    assert file_digest(tmp_path / "none") == "missing"
    (tmp_path / "f").write_bytes(b"abc")
    assert file_digest(tmp_path / "f") == "ba7816bf8f01cfea"
