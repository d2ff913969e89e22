"""An edit of an issue's text, mapped back to the spec section it falls in (``spectryn pull``).

The content of a story is its spec sections laid out one after the other (content.py), then the
lines spectryn adds (pull requests, points, labels). Comparing the text the spec renders with
the text the issue holds, line by line, each edit is mapped when it falls inside one section and
is one of:

- lines added inside a section (a paragraph added to the description, a note under Technical
  Notes) -> a ``paragraph`` edit: the text goes into that section of the spec, after the line it
  follows;
- a criterion ticked or unticked (``- ☐ X`` <-> ``- ☑ X``) -> a ``criterion`` edit;
- criteria added to the acceptance criteria (``- ☐ Y`` lines) -> ``new_criterion`` edits.

Anything else - a line changed or removed, text added among the lines spectryn adds, a heading -
is reported, never guessed.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from spectryn_core.model import Section
from spectryn_core.spec_edits import SpecEdit

#: A criterion line as content.py writes it: indent, box, text.
_CRITERION = re.compile(r"^(?P<indent>(?: {4})*)- (?P<box>[\u2610\u2611]) (?P<text>\S.*)$")
#: Lines a pulled paragraph may not hold: they would start a heading, a table, a rule or a
#: setext underline in the spec, changing its outline.
_STRUCTURE = re.compile(r"^\s{0,3}(?:#|\||-{3,}\s*$|={3,}\s*$|\*{3,}\s*$|_{3,}\s*$)")


def _labelled(layout: list[tuple[Section | None, str]]) -> tuple[list[str], list[Section | None]]:
    """The content's lines, each with the section it belongs to (a blank line between two parts
    belongs to the part before it)."""
    lines: list[str] = []
    owners: list[Section | None] = []
    for index, (section, text) in enumerate(layout):
        if index:
            lines.append("")
            owners.append(owners[-1] if owners else section)
        for line in text.split("\n"):
            lines.append(line.rstrip())
            owners.append(section)
    return lines, owners


def content_edits(key: str, layout: list[tuple[Section | None, str]],
                  tracker: str) -> tuple[list[SpecEdit], list[str]]:
    """The spec edits that bring the issue text ``tracker`` into the spec whose content is
    ``layout`` (see :func:`spectryn_bitbucket.render.story_layout`), and notes on the edits that
    do not map to one section."""
    spec_lines, owners = _labelled(layout)
    theirs = tracker.split("\n")
    edits: list[SpecEdit] = []
    notes: list[str] = []
    matcher = SequenceMatcher(None, spec_lines, theirs, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        added = theirs[j1:j2]
        where = f"{key}: the issue text's line{'s' if j2 - j1 > 1 else ''} {j1 + 1}" + (
            f"-{j2}" if j2 - j1 > 1 else "")
        if tag == "replace":
            anchor = spec_lines[i1 - 1] if i1 else ""
            ticked = _ticks(spec_lines[i1:i2], added, owners[i1:i2], key, anchor)
            if ticked is None:
                notes.append(f"{where} changed text the spec has; not pulled (pull brings back "
                             "paragraphs added to a section and criteria ticked or added)")
            else:
                edits.extend(ticked)
            continue
        if tag == "delete":
            notes.append(f"{key}: the issue text lost line{'s' if i2 - i1 > 1 else ''} the spec has "
                         f"({_quote(spec_lines[i1])}); not pulled")
            continue
        owner = owners[i1 - 1] if i1 else owners[0] if owners else None
        if owner is None:
            notes.append(f"{where} {_quote(added)} are not in a section of the spec (they follow the "
                         "lines spectryn adds); not pulled - write them into the spec")
            continue
        anchor = next((spec_lines[i] for i in range(i1 - 1, -1, -1)
                       if spec_lines[i].strip() and owners[i] is owner), "")
        found = _added_edits(key, owner, anchor, added)
        if isinstance(found, str):
            notes.append(f"{where} {_quote(added)}: {found}; not pulled")
        else:
            edits.extend(found)
    return edits, notes


def _quote(lines: list[str] | str) -> str:
    text = lines if isinstance(lines, str) else next((line for line in lines if line.strip()), "")
    return f'("{text[:60]}{"..." if len(text) > 60 else ""}")'


def _ticks(old: list[str], new: list[str], owners: list[Section | None], key: str,
           anchor: str = "") -> list[SpecEdit] | None:
    """Criteria ticked or unticked (their box alone changed) and criteria added between them, as
    ``criterion`` / ``new_criterion`` edits; None when anything else changed."""
    if any(o is None or o.kind != "criteria" for o in owners):
        return None
    before = [_CRITERION.match(line) for line in old]
    after = [_CRITERION.match(line.rstrip()) for line in new]
    if any(m is None for m in before + after):
        return None
    texts_before = [(m["indent"], m["text"]) for m in before if m is not None]
    texts_after = [(m["indent"], m["text"]) for m in after if m is not None]
    edits: list[SpecEdit] = []
    previous = _CRITERION.match(anchor)
    last = previous["text"] if previous is not None and not previous["indent"] else ""
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, texts_before, texts_after, autojunk=False).get_opcodes():
        if tag == "equal":
            for a, b in zip(before[i1:i2], after[j1:j2], strict=True):
                assert a is not None and b is not None
                if a["box"] != b["box"]:
                    edits.append(SpecEdit(key, "criterion", "done" if b["box"] == "\u2611" else "open",
                                          after=a["text"]))
                if not a["indent"]:
                    last = a["text"]
        elif tag == "insert" and all(m is not None and not m["indent"] for m in after[j1:j2]):
            for match in after[j1:j2]:
                assert match is not None
                box = "x" if match["box"] == "\u2611" else " "
                edits.append(SpecEdit(key, "new_criterion", f"[{box}] {match['text']}", after=last))
                last = match["text"]
        else:
            return None
    return edits


def _added_edits(key: str, owner: Section, anchor: str, added: list[str]) -> list[SpecEdit] | str:
    """Lines added in ``owner`` after the line ``anchor``: new criteria, or a paragraph."""
    lines = [line.rstrip() for line in added]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return []
    if owner.kind == "criteria":
        matches = [_CRITERION.match(line) for line in lines]
        if all(m is not None and not m["indent"] for m in matches):
            previous = _CRITERION.match(anchor)
            after = previous["text"] if previous is not None and not previous["indent"] else ""
            edits = []
            for match in matches:
                assert match is not None
                box = "x" if match["box"] == "\u2611" else " "
                edits.append(SpecEdit(key, "new_criterion", f"[{box}] {match['text']}", after=after))
                after = match["text"]
            return edits
    if any(_STRUCTURE.match(line) for line in lines):
        return "they hold a heading, a table or a rule, which would change the spec's outline"
    if owner.kind in ("criteria", "subtasks", "links", "commits") and anchor.startswith(("- ", "    ")):
        return f"they are inside the {owner.title or owner.kind} list"
    return [SpecEdit(key, "paragraph", "\n".join(lines), after=anchor, line=owner.line)]
