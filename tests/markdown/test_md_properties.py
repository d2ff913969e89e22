"""Property tests: whatever the input, the reader returns a Spec (maybe with errors) and never raises."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectryn_core.model import Spec
from spectryn_markdown.jsonout import spec_to_json
from spectryn_markdown.parser import parse_file, parse_text

VALID = (Path(__file__).resolve().parents[1] / "data" / "specs" / "format_reference.md").read_text(encoding="utf-8")
VALID_LINES = VALID.split("\n")
FAKE_PATH = Path("/nonexistent/spec.md")

MARKDOWN_BITS = st.sampled_from([
    "# ", "## ", "### ", "#### ", "US-1: ", "EPIC-1: ", "| ", " |", "|---|---|", "- [ ] ", "- [x] ", "> ",
    "**@a** (d):", "```", "~~~", "<div>", "\\|", "`", "[x](./a.png)", "PR #1", "\n", "\n\n", "🔄 ", "Status",
    "Story Points", "Subtasks", "Comments", "Attachments", "Links", "blocks: ", "    ", "\t", "\r\n",
])


def check(spec: Spec) -> None:
    assert isinstance(spec, Spec)
    json.dumps(spec_to_json(spec))  # always serialisable
    for problem in spec.errors:
        assert problem.line >= 1 and problem.message


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    check(parse_text(text, FAKE_PATH))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=8)), max_size=60).map("".join))
def test_markdown_shaped_text(text: str) -> None:
    check(parse_text(text, FAKE_PATH))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "spec.md"
    path.write_bytes(data)
    check(parse_file(path))


@st.composite
def mutated_spec(draw: st.DrawFn) -> str:
    lines = list(VALID_LINES)
    for _ in range(draw(st.integers(1, 8))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate"]))
        if action == "delete":
            del lines[index]
        elif action == "duplicate":
            lines.insert(index, lines[index])
        elif action == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            lines[index] = lines[index][: draw(st.integers(0, len(lines[index])))]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None)
@given(mutated_spec())
def test_mutated_valid_spec(text: str) -> None:
    check(parse_text(text, Path(__file__).resolve().parents[1] / "data" / "specs" / "spec.md"))


def test_valid_reference_has_no_errors() -> None:
    spec = parse_text(VALID, Path(__file__).resolve().parents[1] / "data" / "specs" / "x.md")
    assert spec.errors == []
    assert len(spec.stories()) == 2
