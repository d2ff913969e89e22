"""Turning a parsed Spec into the flat list of items a tracker should hold.

Epics, stories and subtasks each become an :class:`~spectryn_core.items.Item`, parents before
children; statuses and priorities are mapped to the tracker's vocabulary here, and anything that
maps to nothing is a spec error (nothing is sent).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from spectryn_core.errors import SpecError, UsageError
from spectryn_core.items import Item, ItemKind
from spectryn_core.mappers import resolve
from spectryn_core.model import Epic, Spec, SpecProblem, Story, Subtask
from spectryn_core.provenance import spec_origin

if TYPE_CHECKING:
    from spectryn_core.config import Config

LEVELS = ("epic", "story", "subtask")


def build_items(
    spec: Spec, *, tracker: str, config: Config, mappers: Any, only: str | None = None
) -> list[Item]:
    """Every item of ``spec`` (or of the story ``only`` names, with its subtasks), in file order
    (a parent always comes before its children).

    Raises :class:`SpecError` listing every status or priority no mapper can translate.
    """
    items: list[Item] = []
    problems: list[SpecProblem] = []
    file = str(spec.path)
    origin = spec_origin(spec.path)

    def mapped(kind: Literal["status", "priority"], value: str | None, line: int) -> str | None:
        result = resolve(mappers, kind, value, tracker, config)
        if value is not None and result is None:
            problems.append(
                SpecProblem(
                    file,
                    line,
                    f"{kind} '{value}' maps to no {tracker} {kind}; add it to "
                    f"{tracker}.{kind}_mapping in your config",
                )
            )
        return result

    def add(kind: ItemKind, source: Epic | Story | Subtask, parent: str | None,
            children: list[str]) -> None:
        line = source.line
        items.append(Item(
            kind, str(source.key), source.title, source, spec, parent=parent, children=children,
            state=mapped("status", source.status, line),
            priority=mapped("priority", getattr(source, "priority", None), line),
            origin=origin,
        ))

    for epic in spec.epics:
        if epic.key:
            add("epic", epic, None, [s.key for s in epic.stories])
        for story in epic.stories:
            add("story", story, epic.key, [t.key for t in story.subtasks])
            for subtask in story.subtasks:
                add("subtask", subtask, story.key, [])
    if problems:
        raise SpecError(problems)
    return select(items, only) if only else items


def select(items: list[Item], only: str) -> list[Item]:
    """The items ``--only KEY`` names: a story and its subtasks, one subtask, or an epic's
    stories with their subtasks."""
    by_key = {item.key: item for item in items}
    if only not in by_key:
        raise UsageError(
            f"--only {only}: no story, subtask or epic with that key in the spec",
            "keys look like US-001 (a story), US-001.2 (its second subtask) or EPIC-001",
        )
    wanted = {only}
    frontier = [only]
    while frontier:
        key = frontier.pop()
        for child in by_key[key].children:
            if child in by_key and child not in wanted:
                wanted.add(child)
                frontier.append(child)
    return [item for item in items if item.key in wanted]
