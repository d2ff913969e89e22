"""Planning: desired items vs the tracker's items vs the last-synced state.

Per field, three values meet: what the spec wants (``d``), what the tracker has (``r``) and, from
the state, digests of what was last sent (``S``) and seen back (``R0``):

============================  ======================================================
d == r                        nothing to do
no state for the field        update (the spec wins; first sync or lost state)
d != S and r == R0            update (changed in the file)
d != S and r != R0            conflict (changed in both) - sent only with ``--force``
d == S and r != R0            keep the tracker's edit (the file did not change)
d == S and r == R0            nothing (the tracker normalised the value)
============================  ======================================================

The plan is a value: it can be printed, serialised and applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from spectryn_core.items import Extra, Item, RemoteItem, Rendered, value_digest
from spectryn_core.state import ItemState

Action = Literal["create", "update", "unchanged", "conflict", "orphan"]
SYMBOLS: dict[str, str] = {"create": "+", "update": "~", "unchanged": "=", "conflict": "!", "orphan": "?"}


@dataclass
class Change:
    """What the plan does with one item, and (after apply) how it went."""

    key: str
    kind: str
    title: str
    action: Action
    fields: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    #: For each field that differs: (the tracker's value, the spec's value) - what the plan shows.
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    extras: list[Extra] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    item: Item | None = None
    remote: RemoteItem | None = None
    status: Literal["planned", "done", "failed", "skipped"] = "planned"
    error: str = ""

    @property
    def pending(self) -> bool:
        """True when applying this change writes something."""
        return self.action in ("create", "update")

    def describe_fields(self) -> list[str]:
        """Changed field names followed by the extras to send (``comment``, ``attachment x``)."""
        names = list(self.fields)
        for extra in self.extras:
            if extra.kind == "comment":
                names.append("comment")
            elif extra.kind == "attachment":
                names.append(f"attachment {extra.ident.split(':', 1)[1]}")
            else:
                names.append(f"pull request #{extra.payload}")
        return names


@dataclass
class Plan:
    """Every change of one sync, parents before children, then orphans."""

    changes: list[Change]
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        seen: Counter[str] = Counter(change.action for change in self.changes)
        return {action: seen.get(action, 0) for action in SYMBOLS}

    @property
    def has_pending(self) -> bool:
        return any(change.pending for change in self.changes)


def diff_fields(
    rendered: dict[str, Any], remote: dict[str, Any], state: ItemState | None
) -> tuple[list[str], list[str], list[str]]:
    """Split the rendered fields into (to update, in conflict, kept as the tracker has them)."""
    update: list[str] = []
    conflict: list[str] = []
    kept: list[str] = []
    for name, wanted in rendered.items():
        have = remote.get(name)
        wanted_digest = value_digest(wanted)
        if wanted_digest == value_digest(have):
            continue
        last = state.fields.get(name) if state else None
        if last is None:
            update.append(name)
            continue
        sent, seen = last
        file_changed = wanted_digest != sent
        tracker_changed = value_digest(have) != seen
        if file_changed and tracker_changed:
            conflict.append(name)
        elif file_changed:
            update.append(name)
        elif tracker_changed:
            kept.append(name)
    return update, conflict, kept


def plan_item(
    item: Item,
    rendered: Rendered,
    remote: RemoteItem | None,
    state: ItemState | None,
    extras_done: dict[str, str],
    *,
    force: bool = False,
) -> Change:
    """The change one item needs. ``extras_done`` maps extra idents already on the tracker to the
    digest they were sent with."""
    pending_extras = [e for e in item.extras() if extras_done.get(e.ident) != e.digest]
    change = Change(
        item.key, item.kind, item.title, "create", item=item, remote=remote,
        warnings=list(rendered.warnings), extras=pending_extras,
    )
    if remote is None:
        change.fields = list(rendered.fields)
        return change
    update, conflict, kept = diff_fields(rendered.fields, remote.fields, state)
    change.kept = kept
    change.values = {name: (remote.fields.get(name), rendered.fields[name])
                     for name in update + conflict + kept}
    if conflict and not force:
        change.action = "conflict"
        change.fields = conflict
        change.extras = []
        return change
    change.fields = update + conflict
    change.action = "update" if change.fields or change.extras else "unchanged"
    return change


def orphans(
    items: list[Item], remote: dict[str, RemoteItem], state_keys: set[str]
) -> list[Change]:
    """Tracker items that belong to this spec but are gone from it. Reported, never deleted.

    An item belongs to this spec when the state says it was synced from it, or when it is a
    subtask (``US-001.4``) of a story the spec still has.
    """
    wanted = {item.key for item in items}
    stories = {item.key for item in items if item.kind == "story"}
    found: list[Change] = []
    for key in sorted(remote):
        if key in wanted:
            continue
        parent = key.rsplit(".", 1)[0] if "." in key else None
        if key in state_keys or (parent is not None and parent in stories):
            found.append(
                Change(key, "subtask" if parent else "story", _title(remote[key]), "orphan",
                       remote=remote[key])
            )
    return found


def _title(remote: RemoteItem) -> str:
    title = str(remote.fields.get("title") or "")
    prefix = f"{remote.key}: "
    return title[len(prefix):] if title.startswith(prefix) else title
