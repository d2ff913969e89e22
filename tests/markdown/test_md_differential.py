"""The scanner-based reader against the reader it replaced (``tests/support/legacy_reader``).

On generated specs, on mutations of real ones and on markdown-shaped noise, both readers must give
the same epics, stories, subtasks and every other field, and the same errors on the same lines.
The only differences allowed are the deliberate ones in :data:`DELIBERATE`: each names what it
changed, and a difference is accepted only when the input contains what that change is about.
When this test is deleted, delete ``tests/support/legacy_reader`` with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from spectryn_core.model import Spec
from spectryn_markdown.parser import parse_text
from tests.support.legacy_reader.parser import parse_text as legacy_parse_text

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "tests" / "data" / "specs"
SOURCES = [path.read_text(encoding="utf-8-sig") for path in sorted(SPECS.glob("*.md"))] + [
    (ROOT / "examples" / "EPIC.md").read_text(encoding="utf-8")]
PATH = SPECS / "differential.md"  # attachments resolve against tests/data/specs

def _has(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern, re.MULTILINE)
    return lambda text: compiled.search(text) is not None


#: Deliberate changes since the legacy reader (issue 19): (what changed, does this input touch it?).
#: A difference between the readers is accepted only for an input that one of these touches.
DELIBERATE: list[tuple[str, Callable[[str], bool]]] = [
    ("table rows without a |---| row are read as story metadata", _has(r"^ {0,3}\|.*\|[ \t]*$")),
    ("**Field**: value lines under a story heading are read as metadata",
     _has(r"(?:\*\*|__)[^\n]*?(?::(?:\*\*|__)|(?:\*\*|__)\s*:)")),
    ("list subtasks: a (2 SP) suffix is points, ' - ' starts the description",
     _has(r"^\s*(?:[-*+]|\d+[.)])\s.*(?:\s[-–—]\s|\(\s*\d)")),
    ("story keys written US_002, US 003, us-002, PROJ/123 are read with a warning",
     _has(r"^\s{0,3}#{1,6}\s.*(?:[A-Za-z][A-Za-z0-9_]*[_/]\d|[A-Z] \d|[a-z][A-Za-z0-9_]*-\d)")),
    ("an H3 without a key followed by story sections is a story (or an error), never epic text",
     _has(r"^\s{0,3}###\s")),
    ("only field/value tables are metadata of an epic or of a heading without a key",
     _has(r"^\s{0,3}\|?[^|\n]*\|[^|\n]*\|[^|\n]*\|")),
    ("None / N/A / - under Links or Dependencies is no links", _has(r"(?i)^\W*(?:none|n/?a|-|–|—|nothing|tbd)\W*$")),
    ("an emoji alone as a status or priority is mapped or reported", lambda text: any(
        unicodedata.category(ch) == "So" for ch in text) or ":" in text),
    ("a title or value keeps a math or currency sign, an ASCII symbol or a word's accent at its ends (C++)",
     lambda text: any(unicodedata.category(ch) in ("Sm", "Sc", "Sk", "Mn", "Mc", "Me") for ch in text)),
]


def same(text: str) -> None:
    old = legacy_parse_text(text, PATH)
    new = parse_text(text, PATH)
    if _equal(old, new):
        return
    reasons = [name for name, touches in DELIBERATE if touches(text)]
    assert reasons, _difference(old, new)


def _equal(old: Spec, new: Spec) -> bool:
    return old.epics == new.epics and old.errors == new.errors


def _difference(old: Spec, new: Spec) -> str:
    if old.errors != new.errors:
        return f"errors differ:\nold {old.errors}\nnew {new.errors}"
    for before, after in zip(old.stories(), new.stories(), strict=False):
        if before != after:
            return f"story differs:\nold {before}\nnew {after}"
    return f"epics differ:\nold {old.epics}\nnew {new.epics}"


# --- generated specs -----------------------------------------------------------------------------

WORDS = st.sampled_from(["Login", "form", "🔄", "**bold**", "`code`", "[link](https://x/y)", "PR #12", "a\\|b",
                         "_em_", "pull request 7", "US-2", "Done", "High", "3", "x"])
TEXT = st.lists(WORDS, min_size=1, max_size=5).map(" ".join)
KEY = st.sampled_from(["US-1", "US-2", "US-001", "PROJ-7", "MY_P-3", "us-4", "EPIC-9", ""])
STATUS = st.sampled_from(["✅ Done", "🔄 In Progress", "To Do", "Sleeping", "", "done", "⏸️ Blocked"])
PRIORITY = st.sampled_from(["🔴 Critical", "High", "p2", "Whenever", "", "🟢 Low"])
POINTS = st.sampled_from(["5", "2.5", "3 SP", "big", "", "-", "½"])


@st.composite
def metadata_table(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.sampled_from([
        ("Story Points", POINTS), ("Priority", PRIORITY), ("Status", STATUS), ("Component", TEXT),
        ("Labels", TEXT), ("Assignee", st.just("@zoe")), ("Due Date", TEXT), ("Milestone", TEXT)]),
        max_size=5, unique_by=lambda row: row[0]))
    head = draw(st.sampled_from(["| Field | Value |", "| FIELD | VALUE |", "| Property | Value |"]))
    body = [f"| **{name}** | {draw(value)} |" for name, value in rows]
    return "\n".join([head, "|---|---|", *body])


@st.composite
def subtasks(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["table", "list", "bad"]))
    if kind == "list":
        return "\n".join(f"- [{draw(st.sampled_from([' ', 'x']))}] {draw(TEXT)}" for _ in range(draw(st.integers(0, 3))))
    head = "| # | Subtask | Description | SP | Status |" if kind == "table" else "| # | Description | SP |"
    rows = [f"| {draw(st.sampled_from(['1', '2', '3', 'one', '']))} | {draw(TEXT)} | {draw(TEXT)} | "
            f"{draw(POINTS)} | {draw(STATUS)} |" for _ in range(draw(st.integers(0, 3)))]
    return "\n".join([head, "|---|---|---|---|---|", *rows])


SECTION = st.sampled_from(["Description", "Acceptance Criteria", "Technical Notes", "Subtasks", "Comments",
                           "Attachments", "Links", "Dependencies", "Related Commits", "Risks"])


@st.composite
def section(draw: st.DrawFn) -> str:
    name = draw(SECTION)
    if name == "Subtasks":
        body = draw(subtasks())
    elif name == "Acceptance Criteria":
        body = "\n".join(f"- [{draw(st.sampled_from([' ', 'x']))}] {draw(TEXT)}" for _ in range(draw(st.integers(0, 3))))
    elif name == "Comments":
        body = f"> **@alice** (2024-01-15):\n> {draw(TEXT)}\n\n> {draw(TEXT)}"
    elif name == "Attachments":
        body = draw(st.sampled_from(["- [mock](./attachments/mockup.png)", "- [gone](./nope.png)",
                                     "- [web](https://figma.com/x)", "![img](attachments/mockup.png)"]))
    elif name in ("Links", "Dependencies"):
        body = "\n".join(draw(st.sampled_from(["- blocks: US-2", "- relates to: US-1, US-3", "- US-9",
                                               "- whatever", "- depends on US-4"])) for _ in range(draw(st.integers(0, 2))))
    elif name == "Related Commits":
        body = "| Commit | Message |\n|---|---|\n| `a1b2c3d` | feat: x |"
    else:
        body = draw(TEXT)
    return f"#### {name}\n{body}"


@st.composite
def story(draw: st.DrawFn) -> str:
    key = draw(KEY)
    heading = f"### {draw(st.sampled_from(['', '🔧 ']))}{key}{': ' if key else ''}{draw(TEXT)}"
    parts = [heading]
    if draw(st.booleans()):
        parts.append(draw(metadata_table()))
    if draw(st.booleans()):
        parts.append("**As a** user\n**I want** x\n**So that** y")
    parts += draw(st.lists(section(), max_size=5))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["```\n### US-99: fenced\n```", "<div>\n### US-98: html\n</div>",
                                           "> ### US-97: quoted", "    ### US-96: code", "---"])))
    return "\n\n".join(parts)


@st.composite
def spec(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(f"# {draw(st.sampled_from(['🚀 EPIC-001: ', 'EPIC-2: ', '']))}{draw(TEXT)}")
        if draw(st.booleans()):
            parts.append(draw(metadata_table()))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["## User Stories", "## Overview\n\nWhy.", "## Stories"])))
    parts += draw(st.lists(story(), min_size=1, max_size=4))
    return "\n\n".join(parts) + "\n"


@settings(max_examples=400, deadline=None)
@given(spec())
def test_generated_specs(text: str) -> None:
    same(text)


def test_each_deliberate_change_is_a_real_difference() -> None:
    """Every listed change shows on an input that touches only it (so none is listed for nothing)."""
    examples = {
        0: "### US-1: s\n| **Story Points** | 5 |\n| **Status** | Done |\n",
        1: "### US-1: s\n**Priority**: High\n",
        2: "### US-1: s\n\n#### Subtasks\n- [ ] Login form - React component (2 SP)\n",
        3: "## User Stories\n\n### US_002: Second\n",
        4: "# E\n\n### Login page\n\n#### Description\nx\n\n### US-1: ok\n",
        5: "# E\n\n| Milestone | Date | Status |\n|---|---|---|\n| Beta | March | Done |\n\n### US-1: ok\n",
        6: "### US-1: s\n\n#### Dependencies\n- None\n",
        7: "### US-1: s\n\n| Field | Value |\n|---|---|\n| Status | ✅ |\n",
        8: "### US-1: Support C++\n",
    }
    assert sorted(examples) == list(range(len(DELIBERATE)))
    for index, text in examples.items():
        name, touches = DELIBERATE[index]
        assert touches(text), name
        old, new = legacy_parse_text(text, PATH), parse_text(text, PATH)
        assert not _equal(old, new), name


# --- mutated real specs ----------------------------------------------------------------------------

@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SOURCES)).split("\n")
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "indent", "insert"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif action == "truncate":
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
        elif action == "indent":
            lines[index] = draw(st.sampled_from(["  ", "    ", "> ", "- ", "\t"])) + lines[index]
        else:
            lines.insert(index, draw(st.sampled_from(["```", "", "---", "<div>", "| a |", "|---|", "- x", "> q"])))
    return "\n".join(lines)


@settings(max_examples=500, deadline=None)
@given(mutated())
def test_mutated_specs(text: str) -> None:
    same(text)


def test_spec_files_unchanged() -> None:
    for text in SOURCES:
        same(text)


NOISE = st.lists(st.one_of(st.sampled_from([
    "# ", "## ", "### ", "#### ", "US-1: ", "EPIC-1: ", "| ", " |", "|---|---|", "- [ ] ", "- [x] ", "> ",
    "**@a** (d):", "```", "~~~", "<div>", "\\|", "`", "[x](./a.png)", "PR #1", "\n", "\n\n", "🔄 ", "Status",
    "Story Points", "Subtasks", "Comments", "Attachments", "Links", "blocks: ", "    ", "\t", "**Priority**: ",
    "(2 SP)", " - ", "None", "✅"]), st.text(max_size=6)), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(NOISE)
def test_markdown_noise(text: str) -> None:
    same(text.replace("\r\n", "\n").replace("\r", "\n"))
