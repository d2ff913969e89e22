"""Nested acceptance criteria and a story's sections in the order written (issue 27)."""

from __future__ import annotations

from pathlib import Path

from spectryn_core.model import Criterion
from spectryn_core.spec_json import spec_to_json
from spectryn_markdown.parser import parse_file, parse_text

ROOT = Path(__file__).resolve().parents[2]
PATH = ROOT / "tests" / "data" / "specs" / "sections.md"

NESTED = """### US-001: Pay

#### Acceptance Criteria
- [ ] Payment method
  - [ ] Credit card
  - [x] PayPal
    - only in the EU
- [x] Receipt
  is emailed
"""


def story(text: str):  # noqa: ANN201 - a Story
    spec = parse_text(text, PATH)
    assert spec.errors == [], spec.errors
    return spec.stories()[0]


def test_nested_criteria_keep_their_own_state() -> None:
    criteria = story(NESTED).acceptance_criteria
    assert criteria == [
        Criterion("Payment method", False, (
            Criterion("Credit card", False),
            Criterion("PayPal", True, (Criterion("only in the EU", False, (), checkbox=False),)),
        )),
        Criterion("Receipt is emailed", True),
    ]


def test_nested_criteria_in_validate_json() -> None:
    spec = parse_text(NESTED, PATH)
    first = spec_to_json(spec)["epics"][0]["stories"][0]["acceptance_criteria"][0]
    assert first["text"] == "Payment method" and first["done"] is False
    assert [(c["text"], c["done"], c["checkbox"]) for c in first["children"]] == [
        ("Credit card", False, True), ("PayPal", True, True)]
    assert first["children"][1]["children"][0] == {"text": "only in the EU", "done": False,
                                                   "checkbox": False, "children": []}


def test_nested_criteria_follow_commonmark_indentation() -> None:
    # four spaces under "- " is still a nested list; an item under a numbered one needs three
    text = "### US-001: x\n\n#### Acceptance Criteria\n1. [ ] one\n   - [x] sub\n2. [x] two\n    - [ ] sub2\n"
    criteria = story(text).acceptance_criteria
    assert [(c.text, c.done, [(k.text, k.done) for k in c.children]) for c in criteria] == [
        ("one", False, [("sub", True)]), ("two", True, [("sub2", False)])]


def test_flat_criteria_are_unchanged() -> None:
    text = "### US-001: x\n\n#### Acceptance Criteria\n- [ ] a\n- [X] b\n- c\n"
    assert story(text).acceptance_criteria == [
        Criterion("a"), Criterion("b", True), Criterion("c", checkbox=False)]


def test_sections_in_the_order_written_with_their_own_text() -> None:
    spec = parse_file(ROOT / "examples" / "EPIC.md")
    us5 = [s for s in spec.stories() if s.key == "US-005"][0]
    assert [(s.kind, s.title) for s in us5.sections] == [
        ("description", ""), ("criteria", "Acceptance Criteria"), ("subtasks", "Subtasks"),
        ("commits", "Related Commits")]
    assert us5.sections[-1].text == "Merged in https://bitbucket.org/acme/webapp/pull-requests/7."
    assert us5.sections[0].text.startswith("**As a** visitor")
    us4 = [s for s in spec.stories() if s.key == "US-004"][0]
    assert [(s.kind, s.title) for s in us4.sections][-2:] == [("links", "Links"), ("other", "Open Questions")]
    assert us4.sections[-1].text == "Which authenticator apps do we test against? Waiting on the security team."


def test_checklist_section_keeps_its_items_as_written() -> None:
    text = "### US-001: x\n\n#### Checklist\n- [ ] a\n  - [x] b\n\n#### Technical Notes\nn\n"
    sections = story(text).sections
    assert [(s.kind, s.title, s.text) for s in sections[1:]] == [
        ("other", "Checklist", "- [ ] a\n  - [x] b"), ("notes", "Technical Notes", "n")]
