"""The content of an issue: a story, subtask or epic laid out in Bitbucket's markdown.

Layout of a story (each part only when the spec has it):

- its sections in the order written, each under a ``## Title`` heading as the spec names it
  (``## Acceptance Criteria``, ``## Checklist``, ``## Dependencies``); the description - the text
  under the story heading and a ``#### Description`` section - has no heading. The structured
  part of a section (criteria, the subtasks by key, links, commits) comes first, then the text
  written in that section (a sentence after the commits table stays under Related Commits);
  comments and attachments are sent on their own, so their sections show only such text;
- ``## Pull Requests``; then the lines spectryn adds: ``**Story Points:** 5``, ``Assignee: @dave
  (no Bitbucket account)`` for a name that maps to no account, ``Epic: #5 EPIC-001`` and last
  ``Labels: story, ...``.

Acceptance criteria, and task items in any section, show as ``☐``/``☑`` bullets (Bitbucket has
no task lists), nested four spaces per level with their own state; all free text goes through
:func:`spectryn_bitbucket.dialect.to_bitbucket`. One heading level, ``##``, serves spectryn's
sections and the spec's own.
"""

from __future__ import annotations

from spectryn_bitbucket.dialect import BOX, INDENT, to_bitbucket
from spectryn_core.model import Criterion, Epic, Section, Story, Subtask

#: The parts of a story that have a structured rendering, in the order of a story written
#: without sections (a parser that does not fill ``Story.sections``).
_DEFAULT_ORDER = (("description", ""), ("criteria", "Acceptance Criteria"), ("notes", "Technical Notes"),
                  ("subtasks", "Subtasks"), ("links", "Links"), ("commits", "Related Commits"))


def criteria_lines(criteria: list[Criterion] | tuple[Criterion, ...], depth: int = 0) -> list[str]:
    """``- ☐ text`` / ``- ☑ text``, nested criteria four spaces deeper with their own state; a
    nested item written without a box stays a plain bullet."""
    lines: list[str] = []
    for criterion in criteria:
        box = BOX[bool(criterion.done)] + " " if criterion.checkbox or depth == 0 else ""
        lines.append(f"{INDENT * depth}- {box}{criterion.text}")
        lines.extend(criteria_lines(criterion.children, depth + 1))
    return lines


def _sections(story: Story) -> list[Section]:
    if story.sections:
        return story.sections
    sections = []
    for kind, title in _DEFAULT_ORDER:
        text = {"description": story.description, "notes": story.technical_notes}.get(kind, "")
        sections.append(Section(kind, title, text))
    return sections


def _structured(kind: str, story: Story) -> list[str]:
    """The lines of a section's structured part (the first section of its kind shows it)."""
    if kind == "criteria":
        return criteria_lines(story.acceptance_criteria)
    if kind == "subtasks":
        return [f"- {sub.key or f'{story.key}.{sub.number}'}: {sub.title}" for sub in story.subtasks]
    if kind == "links":
        return [f"- {link.type}: {link.target}" for link in story.links]
    if kind == "commits":
        return [f"- `{c.sha}`{' ' + c.message if c.message else ''}" for c in story.commits]
    return []


def story_body(story: Story) -> list[str]:
    """The story's sections, in the order written (see the module's docstring)."""
    return [text for _, text in story_parts(story)]


def story_parts(story: Story) -> list[tuple[Section, str]]:
    """:func:`story_body`'s parts, each with the spec section it shows (``spectryn pull`` maps
    an edit of the issue text back to the section it falls in)."""
    parts: list[tuple[Section, str]] = []
    shown: set[str] = set()
    for section in _sections(story):
        body: list[str] = []
        if section.kind not in shown:
            lines = _structured(section.kind, story)
            if lines:
                body.append("\n".join(lines))
                shown.add(section.kind)
        text = to_bitbucket(section.text) if section.text.strip() else ""
        if text:
            body.append(text)
        if not body:
            continue
        if section.kind == "description":
            parts.extend((section, part) for part in body)
        else:
            title = section.title.strip() or section.kind.title()
            parts.append((section, f"## {title}\n\n" + "\n\n".join(body)))
    for kind, title in _DEFAULT_ORDER:  # a field no section of the story shows (an API-made story)
        lines = _structured(kind, story) if kind not in shown else []
        if lines:
            parts.append((Section(kind, title, "", 0), f"## {title}\n\n" + "\n".join(lines)))
    return parts


def subtask_body(sub: Subtask) -> list[str]:
    """A subtask's description."""
    return [to_bitbucket(sub.description.strip())] if sub.description.strip() else []


def epic_body(epic: Epic) -> list[str]:
    """An epic's description and its stories, by key."""
    parts: list[str] = []
    if epic.description.strip():
        parts.append(to_bitbucket(epic.description))
    if epic.stories:
        parts.append("## Stories\n\n" + "\n".join(f"- {s.key}: {s.title}" for s in epic.stories))
    return parts
