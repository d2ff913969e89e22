"""Issue content exactly as spectryn 0.1.0 wrote it (before issue 27's layout), for no rewrite storm.

An issue written by the earlier layout is left as it is while the spec says what it said then:
:func:`spectryn_bitbucket.render.render` offers these forms when the issue holds one of them (or
its merge base records one), so an upgrade costs no request; the issue moves to the current
layout with its next real change. Keep these functions as they are: they describe text that is
already in people's issues.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from spectryn_bitbucket.dialect import BOX
from spectryn_core.model import Epic, Story, Subtask


def _lines_criteria(criteria: list[Any], old_form: bool) -> str:
    if old_form:  # the task-list form written before the ballot boxes
        lines = [f"- [{'x' if c.done else ' '}] {c.text}" for c in criteria]
    else:
        lines = [f"- {BOX[bool(c.done)]} {c.text}" for c in criteria]
    return "## Acceptance Criteria\n\n" + "\n".join(lines)


def story_contents(story: Story, points: str, epic_line: str, labels: str,
                   normalise: Callable[[str], str]) -> list[str]:
    """The story's content in the earlier layout: ballot boxes, then the task-list form. Only for a
    story whose criteria are not nested (the earlier reader never gave nested ones)."""
    if any(c.children for c in story.acceptance_criteria):
        return []
    forms = [_story(story, points, epic_line, labels, normalise, False)]
    if story.acceptance_criteria:
        forms.append(_story(story, points, epic_line, labels, normalise, True))
    return forms


def _story(story: Story, points: str, epic_line: str, labels: str,
           normalise: Callable[[str], str], old_form: bool) -> str:
    parts: list[str] = []
    if story.description.strip():
        parts.append(story.description.strip())
    if story.acceptance_criteria:
        parts.append(_lines_criteria(story.acceptance_criteria, old_form))
    if story.technical_notes.strip():
        parts.append("## Technical Notes\n\n" + story.technical_notes.strip())
    if points:
        parts.append(points)
    if story.subtasks:
        parts.append("## Subtasks\n\n" + "\n".join(f"- {story.key}.{s.number}: {s.title}"
                                                   for s in story.subtasks))
    if story.links:
        parts.append("## Links\n\n" + "\n".join(f"- {link.type}: {link.target}" for link in story.links))
    if story.commits:
        lines = [f"- `{c.sha}`{' ' + c.message if c.message else ''}" for c in story.commits]
        parts.append("## Related Commits\n\n" + "\n".join(lines))
    numbers = sorted({pr.number for pr in story.pull_requests})  # every number, as 0.1.0 read them
    if numbers:
        parts.append("## Pull Requests\n\n" + "\n".join(f"- pull request #{n}" for n in numbers))
    if epic_line:
        parts.append(epic_line)
    parts.append(labels)
    return normalise("\n\n".join(parts))


def subtask_content(sub: Subtask, points: str, parent_line: str, labels: str,
                    normalise: Callable[[str], str]) -> str:
    """A subtask's content in the earlier layout."""
    parts: list[str] = []
    if sub.description.strip():
        parts.append(sub.description.strip())
    if points:
        parts.append(points)
    if parent_line:
        parts.append(parent_line)
    parts.append(labels)
    return normalise("\n\n".join(parts))


def epic_content(epic: Epic, labels: str, normalise: Callable[[str], str]) -> str:
    """An epic's content in the earlier layout."""
    parts: list[str] = []
    if epic.description.strip():
        parts.append(epic.description.strip())
    if epic.stories:
        parts.append("## Stories\n\n" + "\n".join(f"- {s.key}: {s.title}" for s in epic.stories))
    parts.append(labels)
    return normalise("\n\n".join(parts))
