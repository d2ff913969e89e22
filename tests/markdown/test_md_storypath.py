"""The story path (:mod:`spectryn_markdown.storypath`) reads exactly what the block walk reads.

The reader takes a story of the common shape whole (``read_story``) and leaves any other to the block
walk. Here every document is read twice - as the reader reads it, and by the walk alone (``read_story``
switched off) - and the two Specs must be equal: epics, stories with every field and section, lines,
pull-request mentions, errors, warnings and the words kept as written (``Spec.written``). The walk
itself is checked block for block against markdown-it-py (test_md_scanner, test_md_fastpath) and
against the legacy reader (test_md_differential).

The documents: stories of the common shape with every section, whose lines are bent now and then at
the edges of the story path's rules (the fast path's edge lines, indentation, trailing spaces, escaped
pipes, short rows, field lines, H5/H6 headings, thematic breaks, a last line without newline), the
differential test's generated specs, mutations of the real spec files, and the benchmark's spec. Other
tests count the stories the path reads, so that a path that gives up on everything fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_parse import generate_spec, story_markdown
from spectryn_core.model import Spec
from spectryn_markdown import parser
from spectryn_markdown.parser import parse_text
from tests.markdown.test_md_differential import SOURCES, mutated
from tests.markdown.test_md_differential import spec as differential_spec
from tests.markdown.test_md_fastpath import EDGES, MUTATIONS

PATH = Path(__file__).resolve().parents[2] / "tests" / "data" / "specs" / "storypath.md"


@contextmanager
def counting() -> Iterator[list[int]]:
    """Count the stories the story path reads (``[read, left to the walk]``)."""
    counts = [0, 0]
    original = parser.read_story

    def read_story(*args: object) -> tuple[int, int] | None:
        resume = original(*args)  # type: ignore[arg-type]
        counts[resume is None] += 1
        return resume

    with mock.patch.object(parser, "read_story", read_story):
        yield counts


def walk_alone(text: str) -> Spec:
    with mock.patch.object(parser, "read_story", lambda *args: None):
        return parse_text(text, PATH)


def same(text: str) -> list[int]:
    """Assert that the reader and the walk alone read ``text`` alike; the story path's counts."""
    with counting() as counts:
        ours = parse_text(text, PATH)
    walked = walk_alone(text)
    for before, after in zip(walked.stories(), ours.stories(), strict=False):
        assert before == after, f"story differs:\nwalk {before}\npath {after}"
    assert walked.epics == ours.epics
    assert walked.errors == ours.errors
    assert walked.warnings == ours.warnings
    assert walked.written == ours.written
    return counts


# --- stories of the common shape, bent at the edges ----------------------------------------------

WORD = st.sampled_from([
    "Login", "form", "🔄", "**bold**", "`code`", "`a|b`", "[link](https://x/y)", "PR #12", "pull request 7",
    "bitbucket.org/ws/repo/pull-requests/3", "a\\|b", "_em_", "US-2", "Done", "High", "3", "x", "é", "C++", "$",
    "**Priority**: High", "| **Status** | Done |", "<b>", "&amp;", "#", ">", "-", "*", ":", "`PR` #4",
])
TEXT = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
CELL = st.one_of(TEXT, st.sampled_from(["", " ", "✅ Done", "📋 To Do", "🔴 Critical", "5", "2.5", "big", "½",
                                         "generated, bench", "@zoe", "`a1b2c3d`", "-", "N/A", "a \\| b"]))
FIELD = st.sampled_from(["**Story Points**", "**Priority**", "**Status**", "**Component**", "**Labels**",
                         "Assignee", "**Due Date**", "Milestone", "**Issue**", "Kind", "Version", "Nothing"])
H4 = st.sampled_from(["Description", "Acceptance Criteria", "Technical Notes", "Subtasks", "Comments", "Links",
                      "Dependencies", "Related Commits", "Risks", "🧪 Acceptance Criteria", "Subtasks ##",
                      "**Links**", "Attachments"])


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


@st.composite
def metadata(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(["| Field | Value |", "| Property | Value |", "| Story Points | Status |",
                                 "| Priority | Notes |"]))
    width = head.count("|") - 1
    rows = [_row([draw(FIELD)] + [draw(CELL) for _ in range(width - 1)]) for _ in range(draw(st.integers(0, 5)))]
    return "\n".join([head, "|" + "---|" * width, *rows])


@st.composite
def body(draw: st.DrawFn, name: str) -> str:
    """What a section of this name usually holds, now and then what another holds."""
    if draw(st.integers(0, 5)) == 0:
        name = draw(H4)
    if "Criteria" in name:
        return "\n".join(f"{draw(st.sampled_from(['- [ ]', '- [x]', '- [X]', '-', '1.', '2)']))} {draw(TEXT)}"
                         for _ in range(draw(st.integers(1, 4))))
    if "Subtasks" in name:
        if draw(st.booleans()):
            return "\n".join(f"- [{draw(st.sampled_from(' x'))}] {draw(TEXT)}{draw(st.sampled_from(['', ' - d', ' (2 SP)']))}"
                             for _ in range(draw(st.integers(1, 3))))
        head = draw(st.sampled_from(["| # | Subtask | Description | SP | Status |", "| Task | Points |",
                                     "| # | Description |", "| Subtask | Status | Priority | Assignee |"]))
        width = head.count("|") - 1
        rows = [_row([draw(st.one_of(st.sampled_from(["1", "2", "#3", "one", ""]), CELL)) if column == 0 else draw(CELL)
                      for column in range(width)]) for _ in range(draw(st.integers(0, 3)))]
        return "\n".join([head, "|" + "---|" * width, *rows])
    if name == "Comments":
        return "\n\n".join(draw(st.sampled_from([
            f"> **@alice** (2024-01-15):\n> {draw(TEXT)}", f"> {draw(TEXT)}", f"- **@bob**: {draw(TEXT)}",
            f"**@carol** (today): {draw(TEXT)}", ">", "> "])) for _ in range(draw(st.integers(1, 2))))
    if name in ("Links", "Dependencies", "**Links**"):
        return "\n".join(draw(st.sampled_from(["- relates to: US-00002", "- blocks: US-2, US-3", "- US-9", "- whatever",
                                               "- depends on US-4", "- None", "relates to: US-5", "- `US-6`"]))
                         for _ in range(draw(st.integers(1, 3))))
    if name == "Related Commits":
        if draw(st.booleans()):
            return "- `a1b2c3d` - feat: x\n- deadbee fix"
        rows = [_row([draw(CELL), draw(CELL)]) for _ in range(draw(st.integers(0, 2)))]
        return "\n".join(["| Commit | Message |", "|--------|---------|", *rows])
    if name == "Attachments":
        return "- [mock](./attachments/mockup.png)"
    paragraphs = [draw(st.lists(TEXT, min_size=1, max_size=3).map("\n".join)) for _ in range(draw(st.integers(1, 2)))]
    return "\n\n".join(paragraphs)


@st.composite
def story(draw: st.DrawFn, number: int) -> str:
    key = draw(st.sampled_from([f"US-{number:03d}", f"US-{number:03d}", "US-001", f"PROJ-{number}"]))
    heading = f"### {draw(st.sampled_from(['', '🔧 ', '']))}{key}: {draw(st.one_of(TEXT, st.just('')))}"
    parts = [heading]
    if draw(st.integers(0, 4)):
        parts.append(draw(metadata()))
    if draw(st.integers(0, 3)) == 0:
        parts.append(draw(TEXT))
    for name in draw(st.lists(H4, max_size=6)):
        parts.append(f"#### {name}")
        if draw(st.integers(0, 6)):
            parts.append(draw(body(name)))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["---", "***", "- - -", "##### Deep", "###### Deeper", "---\n"])))
    return "\n\n".join(parts)


@st.composite
def common_specs(draw: st.DrawFn) -> str:
    """Common-shape stories under an epic; then a few lines bent (an edge line put in, a line mutated,
    a blank line dropped so that two blocks touch)."""
    parts = [draw(st.sampled_from(["# 🚀 EPIC-001: Epic\n\n## User Stories", "# Epic", "## Stories", ""]))]
    parts += [draw(story(number)) for number in range(1, draw(st.integers(1, 4)) + 1)]
    lines = "\n\n".join(parts).split("\n")
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["edge", "mutate", "join", "blank"]))
        if action == "edge":
            lines.insert(at, draw(st.sampled_from(EDGES)))
        elif action == "mutate":
            lines[at] = draw(st.sampled_from(MUTATIONS))(lines[at])
        elif action == "join" and not lines[at].strip():
            del lines[at]
        else:
            lines.insert(at, draw(st.sampled_from(["", " ", "\t"])))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "  "]))


@settings(max_examples=1000, deadline=None)
@given(common_specs())
def test_common_shape_stories_read_as_the_walk_reads_them(text: str) -> None:
    same(text)


@settings(max_examples=300, deadline=None)
@given(differential_spec())
def test_differential_specs_read_as_the_walk_reads_them(text: str) -> None:
    same(text)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_mutated_spec_files_read_as_the_walk_reads_them(text: str) -> None:
    same(text)


def test_spec_files_read_as_the_walk_reads_them() -> None:
    for text in SOURCES:
        same(text)


# --- the path is taken --------------------------------------------------------------------------

def test_every_generated_story_takes_the_path() -> None:
    """The benchmark's stories are the common shape: all are read whole (so a path that gives up fails)."""
    read, left = same(generate_spec(40))
    assert (read, left) == (40, 0)


@pytest.mark.parametrize("bend, read", [
    ("", 3),
    ("##### Deep\n\n", 2),                        # an H5 is a block of its section: the walk's
    ("| a | c |\n|---|---|\n| x \\| y | z |\n\n", 2),  # an escaped pipe in a row: the walk's
    ("| a | b |\n|---|---|\n| x |\n\n", 2),          # a short row (warned): the walk's
    ("  indented\n\n", 2),                         # not at column 0: the walk's
    ("#### Notes\n**Priority**: High\n\n", 2),     # a field line the walk reads as metadata: the walk's
    ("#### Attachments\n- [m](./attachments/mockup.png)\n\n", 2),  # files checked: the walk's
    ("- a\n\n  continued\n\n", 2),                 # a loose item: not a fast-path block
])
def test_what_the_path_leaves_to_the_walk(bend: str, read: int) -> None:
    stories = [story_markdown(number) for number in (1, 2, 3)]
    stories[1] = stories[1].replace("#### Links\n", bend + "#### Links\n")
    counts = same("# 🚀 EPIC-001: E\n\n## User Stories\n\n" + "\n".join(stories))
    assert counts == [read, 3 - read]


def test_the_walk_resumes_where_the_path_ends() -> None:
    """A story the walk reads between two the path reads; a fence in a story leaves it to the walk, and the
    story after it is read whole again."""
    text = (story_markdown(1) + "\n### US-00009: walked\n\n#### Notes\n  odd\n\n" + story_markdown(2)
            + "\n```\n### US-00099: fenced\n```\n\n" + story_markdown(3))
    spec = parse_text(text, PATH)
    assert [story.key for story in spec.stories()] == ["US-00001", "US-00009", "US-00002", "US-00003"]
    assert [story.line for story in spec.stories()] == [
        text[:text.index(heading)].count("\n") + 1
        for heading in ("### 🔧 US-00001", "### US-00009", "### 🔧 US-00002", "### 🔧 US-00003")]
    assert same(text) == [2, 2]
