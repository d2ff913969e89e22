"""Text pulled from the tracker written into a story's sections (``spectryn pull``): a paragraph
added to a section, an acceptance criterion ticked, unticked or added.

Each edit changes or adds whole lines inside one story and nothing else; whatever cannot be
placed exactly (the line it follows is not in the section, or is there twice; no such criterion)
is a note, never a guess. A pulled paragraph is markdown, kept as the tracker has it; after the
edits the file is read again (writeback.edit_spec_text) and they are dropped, with a note, if the
stories, their keys, their sections or the problems the reader finds changed - a pulled line
must never start a story or a section.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from spectryn_core.model import Spec, Story
from spectryn_core.spec_edits import SpecEdit

if TYPE_CHECKING:
    from spectryn_markdown.writeback import Lines

TEXT_FIELDS = ("paragraph", "criterion", "new_criterion")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:\s|$)")
_CRITERION = re.compile(r"^(?P<lead>\s*[-*+]\s+)\[(?P<box>[ xX])\](?P<gap>\s+)(?P<text>.*?)\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _next_heading(lines: Lines, start: int, end: int, level: int) -> int:
    """The index of the first heading of ``level`` or less after ``start`` (outside code
    fences), else ``end``: with level 3 where a story ends, with 4 where a section ends."""
    fence = False
    for index in range(start + 1, end):
        body = lines[index]
        if _FENCE.match(body):
            fence = not fence
            continue
        match = _HEADING.match(body)
        if not fence and match is not None and len(match.group(1)) <= level:
            return index
    return end


def _criteria(lines: Lines, start: int, end: int, text: str) -> list[int]:
    """Lines between ``start`` and ``end`` that are a criterion reading ``text``."""
    found = []
    for index in range(start, end):
        match = _CRITERION.match(lines[index])
        if match is not None and match["text"] == text:
            found.append(index)
    return found


def _item_end(lines: Lines, index: int, end: int) -> int:
    """The last line of the list item starting at ``index`` (its nested lines included)."""
    indent = len(lines[index]) - len(lines[index].lstrip())
    last = index
    for below in range(index + 1, end):
        body = lines[below]
        if not body.strip():
            continue
        if len(body) - len(body.lstrip()) <= indent:
            break
        last = below
    return last


def apply_text_edit(lines: Lines, story: Story, edit: SpecEdit) -> str | None:
    """Apply one text edit to ``story``; None when done, else why not."""
    heading = story.line - 1
    end = _next_heading(lines, heading, len(lines), 3)
    if edit.field == "criterion":
        found = _criteria(lines, heading, end, edit.after)
        if len(found) != 1:
            return f"{'no' if not found else 'more than one'} criterion reads {edit.after!r}"
        match = _CRITERION.match(lines[found[0]])
        assert match is not None
        box = "x" if edit.value == "done" else " "
        lines.set(found[0], f"{match['lead']}[{box}]{match['gap']}{match['text']}")
        return None
    if edit.field == "new_criterion":
        if "\n" in edit.value or not edit.value.startswith(("[ ] ", "[x] ")):
            return "not one criterion"
        if edit.after:
            found = _criteria(lines, heading, end, edit.after)
            if len(found) != 1:
                return f"{'no' if not found else 'more than one'} criterion reads {edit.after!r}"
            match = _CRITERION.match(lines[found[0]])
            assert match is not None
            lines.add_after(_item_end(lines, found[0], end), [f"{match['lead']}{edit.value}"])
            return None
        first = next((i for i in range(heading, end) if _CRITERION.match(lines[i])), None)
        if first is None:
            return "the story has no criteria to add it to"
        lead = _CRITERION.match(lines[first])
        assert lead is not None
        lines.add_after(first - 1, [f"{lead['lead']}{edit.value}"])
        return None
    return _add_paragraph(lines, heading, end, edit)


def _add_paragraph(lines: Lines, heading: int, end: int, edit: SpecEdit) -> str | None:
    start = max(edit.line - 1, heading)
    if not heading <= start < end:
        return "its section is not in the story"
    stop = _next_heading(lines, start, end, 4)
    if not edit.after or edit.after.startswith("## "):
        anchor = start
    else:
        found = [i for i in range(start + 1, stop) if lines[i].strip() == edit.after.strip()]
        if len(found) != 1:
            return (f"the line it follows ({edit.after[:40]!r}) is "
                    f"{'not' if not found else 'more than once'} in that section")
        anchor = found[0]
    added = ["", *edit.value.split("\n")]
    following = lines[anchor + 1] if anchor + 1 < len(lines) else ""
    if following.strip():
        added.append("")
    lines.add_after(anchor, added)
    return None


def sections(spec: Spec) -> list[tuple[str, int]]:
    """Each story's key and number of sections: a pulled text must not add or remove one."""
    return [(story.key, len(story.sections)) for epic in spec.epics for story in epic.stories]
