"""Pulled text written into a story's sections (textedits.py through edit_spec_text)."""

from __future__ import annotations

from pathlib import Path

from spectryn_core.spec_edits import SpecEdit
from spectryn_markdown.writeback import edit_spec_text

SPEC = """# EPIC-1: Shop

### US-1: Logout

| Field | Value |
|-------|-------|
| **Status** | Open |

**As a** user
**I want** to log out

#### Acceptance Criteria
- [ ] Button visible
  - [ ] On mobile
- [ ] Cookie cleared

#### Technical Notes
Use the session service.

### US-2: Login

**As a** user
"""


def edit(*edits: SpecEdit) -> tuple[str, list[str]]:
    done = edit_spec_text(SPEC, Path("EPIC.md"), list(edits))
    return done.text, done.notes


def test_a_paragraph_goes_after_the_line_it_follows() -> None:
    text, notes = edit(SpecEdit("US-1", "paragraph", "PM note: *Apple Pay* too", after="**I want** to log out",
                                line=3))
    assert notes == []
    assert "**I want** to log out\n\nPM note: *Apple Pay* too\n\n#### Acceptance Criteria" in text


def test_a_paragraph_at_the_top_of_a_section() -> None:
    line = SPEC.splitlines().index("#### Technical Notes") + 1
    text, notes = edit(SpecEdit("US-1", "paragraph", "A first note", after="## Technical Notes", line=line))
    assert notes == [] and "#### Technical Notes\n\nA first note\n\nUse the session service." in text


def test_criteria_ticked_and_added_keep_their_list() -> None:
    text, notes = edit(SpecEdit("US-1", "criterion", "done", after="On mobile"),
                       SpecEdit("US-1", "new_criterion", "[ ] Tokens revoked", after="Button visible"))
    assert notes == []
    assert "- [ ] Button visible\n  - [x] On mobile\n- [ ] Tokens revoked\n- [ ] Cookie cleared" in text


def test_what_cannot_be_placed_is_a_note_and_nothing_changes() -> None:
    text, notes = edit(SpecEdit("US-1", "criterion", "done", after="No such criterion"),
                       SpecEdit("US-1", "paragraph", "x", after="not in the section", line=3))
    assert text == SPEC and len(notes) == 2


def test_a_paragraph_that_would_start_a_story_is_not_written() -> None:
    text, notes = edit(SpecEdit("US-1", "paragraph", "### US-9: Sneaky", after="**I want** to log out", line=3))
    assert text == SPEC and "would change the spec's structure" in notes[0]


def test_a_pulled_text_with_a_control_character_is_not_written() -> None:
    text, notes = edit(SpecEdit("US-1", "new_criterion", "[ ] Beep\x07", after="Cookie cleared"))
    assert text == SPEC and "control character" in notes[0]
