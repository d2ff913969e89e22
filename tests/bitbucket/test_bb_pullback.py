"""An issue's text edited in Bitbucket, mapped back to the spec's sections (pullback.py)."""

from __future__ import annotations

from spectryn_bitbucket.pullback import content_edits
from spectryn_core.model import Section
from spectryn_core.spec_edits import SpecEdit

DESCRIPTION = Section("description", "", "As a user\nI want to log out", 5)
CRITERIA = Section("criteria", "Acceptance Criteria", "", 12)
LAYOUT = [(DESCRIPTION, "As a user\nI want to log out"),
          (CRITERIA, "## Acceptance Criteria\n\n- ☐ Button visible\n- ☐ Cookie cleared"),
          (None, "Labels: story")]
TEXT = "\n\n".join(text for _, text in LAYOUT)


def test_a_paragraph_added_to_the_description() -> None:
    text = TEXT.replace("I want to log out", "I want to log out\n\nPM note: Apple Pay too")
    edits, notes = content_edits("US-1", LAYOUT, text)
    assert edits == [SpecEdit("US-1", "paragraph", "PM note: Apple Pay too", after="I want to log out", line=5)]
    assert notes == []


def test_a_criterion_ticked_and_one_added() -> None:
    text = TEXT.replace("- ☐ Cookie cleared", "- ☑ Cookie cleared\n- ☐ Tokens revoked")
    edits, notes = content_edits("US-1", LAYOUT, text)
    assert SpecEdit("US-1", "criterion", "done", after="Cookie cleared") in edits
    assert SpecEdit("US-1", "new_criterion", "[ ] Tokens revoked", after="Cookie cleared") in edits
    assert notes == []


def test_what_maps_to_no_section_is_reported() -> None:
    changed = TEXT.replace("I want to log out", "I want to sign out")
    edits, notes = content_edits("US-1", LAYOUT, changed)
    assert edits == [] and "changed text the spec has; not pulled" in notes[0]
    after_labels = TEXT + "\n\nPS from the PM"
    edits, notes = content_edits("US-1", LAYOUT, after_labels)
    assert edits == [] and "not in a section of the spec" in notes[0]
    heading = TEXT.replace("I want to log out", "I want to log out\n\n### US-9: Sneaky")
    edits, notes = content_edits("US-1", LAYOUT, heading)
    assert edits == [] and "would change the spec's outline" in notes[0]
    removed = TEXT.replace("- ☐ Button visible\n", "")
    edits, notes = content_edits("US-1", LAYOUT, removed)
    assert edits == [] and "lost line" in notes[0]
