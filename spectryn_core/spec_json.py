"""The parsed spec as one JSON-ready dict, printed by ``spectryn validate FILE --output json``.

The shape is fixed (issue 3): ``{"epics": [...], "errors": [{"file", "line", "message"}]}``, plus
``"warnings"`` in the shape of ``"errors"`` (problems that do not block a sync); missing
values are None (null).
A criterion carries ``checkbox`` (written with ``[ ]``/``[x]``) and its nested ``children``; a
story's ``sections`` list its sections in the order written, each with the free text it keeps. Attachment paths are given relative to the spec's folder, in POSIX form.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from spectryn_core.model import Criterion, Epic, Spec, Story, Subtask


def _number(value: float | None) -> float | int | None:
    """Whole story points as ints (``5`` not ``5.0``), so the JSON reads as the author wrote it."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(os.path.relpath(path, folder.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _subtask(subtask: Subtask) -> dict[str, Any]:
    return {
        "number": subtask.number,
        "title": subtask.title,
        "description": subtask.description,
        "story_points": _number(subtask.story_points),
        "status": subtask.status,
    }


def _criterion(criterion: Criterion) -> dict[str, Any]:
    return {
        "text": criterion.text,
        "done": criterion.done,
        "checkbox": criterion.checkbox,
        "children": [_criterion(child) for child in criterion.children],
    }


def _story(story: Story, folder: Path) -> dict[str, Any]:
    return {
        "key": story.key,
        "title": story.title,
        "line": story.line,
        "story_points": _number(story.story_points),
        "priority": story.priority,
        "status": story.status,
        "description": story.description,
        "acceptance_criteria": [_criterion(c) for c in story.acceptance_criteria],
        "technical_notes": story.technical_notes,
        "subtasks": [_subtask(subtask) for subtask in story.subtasks],
        "comments": [{"author": c.author, "date": c.date, "body": c.body} for c in story.comments],
        "attachments": [{"name": a.name, "path": _relative(a.path, folder)} for a in story.attachments],
        "links": [{"type": link.type, "target": link.target} for link in story.links],
        "commits": [{"sha": c.sha, "message": c.message} for c in story.commits],
        "pull_requests": sorted({ref.number for ref in story.pull_requests}),
        "pull_request_refs": [{"number": ref.number, "repository": ref.repository, "line": ref.line}
                              for ref in story.pull_requests],
        "component": story.component,
        "version": story.version,
        "assignee": story.assignee,
        "labels": list(story.labels),
        "sections": [{"kind": s.kind, "title": s.title, "line": s.line, "text": s.text}
                     for s in story.sections],
    }


def _epic(epic: Epic, folder: Path) -> dict[str, Any]:
    return {
        "key": epic.key,
        "title": epic.title,
        "milestone": epic.milestone,
        "description": epic.description,
        "stories": [_story(story, folder) for story in epic.stories],
    }


def spec_to_json(spec: Spec) -> dict[str, Any]:
    """The spec in the ``validate --output json`` shape (pass it to ``json.dumps(..., indent=2)``)."""
    folder = Path(spec.path).parent
    return {
        "epics": [_epic(epic, folder) for epic in spec.epics],
        "errors": [{"file": p.file, "line": p.line, "message": p.message} for p in spec.errors],
        "warnings": [{"file": p.file, "line": p.line, "message": p.message} for p in spec.warnings],
    }
