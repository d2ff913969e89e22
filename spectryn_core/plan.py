"""Planning: desired items vs the tracker's items vs the merge base.

Per field, three values meet: what the spec wants (``d``), what the tracker has (``r``) and the
merge base ``B``, the value both sides last agreed on. ``B`` comes from the tracker item itself
(``RemoteItem.base``, which a tracker such as Bitbucket carries in the issue) or else from the
local state cache, which also knows what the tracker answered (``R0``) when it normalised a
value (then ``r`` is compared with ``R0`` instead of ``B``):

============================  ======================================================
d == r                        nothing to do
no base for the field         update when the item has a base that lacks the field (the
                              spec started naming it); a conflict when the item has no
                              base at all ("no base, no overwrite")
d != B and r == B             update (changed in the file)
d != B and r != B             conflict (changed in both) - sent only with ``--force``
d == B and r != B             keep the tracker's edit (the file did not change)
============================  ======================================================

For a field kept as the tracker has it, the base stays the old one, so a later edit of it in
the file is a conflict, never a silent overwrite.

The plan is a value: it can be printed, serialised and applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from spectryn_core.items import (
    Extra,
    Item,
    RemoteItem,
    Rendered,
    base_digest,
    extra_tag,
    value_digest,
)
from spectryn_core.state import ItemState

Action = Literal["create", "update", "unchanged", "conflict", "orphan", "duplicate"]
SYMBOLS: dict[str, str] = {"create": "+", "update": "~", "unchanged": "=", "conflict": "!",
                           "orphan": "?", "duplicate": "x"}
#: The key of the confirmed extras' tags in a base.
EXTRAS = "extras"


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
    #: Conflicting fields: name -> (the spec's value, the tracker's value).
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: True when the item has no merge base at all (every difference is a conflict).
    no_base: bool = False
    #: Idents of the extras that reached the tracker in this run.
    sent: set[str] = field(default_factory=set)
    #: For a ``duplicate``: the issue kept for this key.
    kept_remote: RemoteItem | None = None
    #: Extras found on the tracker by reading them back that the item's base does not confirm
    #: yet (sent by a run that was killed): apply confirms them in the base.
    unconfirmed: bool = False

    @property
    def unsent_extras(self) -> list[Extra]:
        """Extras planned but not (yet) on the tracker."""
        return [extra for extra in self.extras if extra.ident not in self.sent]

    @property
    def pending(self) -> bool:
        """True when applying this change writes something."""
        return self.action in ("create", "update", "duplicate")

    def describe_fields(self) -> list[str]:
        """Changed field names followed by the extras to send (``comment``, ``attachment x``)."""
        return list(self.fields) + describe_extras(self.extras)


def describe_extras(extras: list[Extra]) -> list[str]:
    """``comment``, ``attachment notes.txt``, ``pull request #4`` for each extra."""
    names: list[str] = []
    for extra in extras:
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


def field_base(
    name: str, state: ItemState | None, base: dict[str, str] | None, have: Any = None
) -> tuple[str, str] | None:
    """The merge base of one field as (digest sent, digest seen back), or None when unknown.

    The tracker-carried ``base`` wins (another runner may have synced since this machine did),
    with two exceptions where the state is the newer agreement: it describes the same sync (then
    it also knows what the tracker answered, if it normalised the value), or the tracker's value
    ``have`` is the one the state last saw and not the base's (``spectryn pull`` brought it into
    the spec, or this machine's sync was answered with it)."""
    last = state.fields.get(name) if state else None
    if base is not None:
        digest = base.get(name)
        if digest is None:
            return None
        if last is not None and last[0][: len(digest)] == digest:
            return last
        if last is not None and _matches(have, last[1]) and not _matches(have, digest):
            return last
        return digest, digest
    return last


def _matches(value: Any, digest: str) -> bool:
    return value_digest(value)[: len(digest)] == digest


def diff_fields(
    rendered: dict[str, Any],
    remote: dict[str, Any],
    state: ItemState | None,
    base: dict[str, str] | None = None,
) -> tuple[list[str], list[str], list[str]]:
    """Split the rendered fields into (to update, in conflict, kept as the tracker has them)."""
    update: list[str] = []
    conflict: list[str] = []
    kept: list[str] = []
    no_base = base is None and state is None
    for name, wanted in rendered.items():
        have = remote.get(name)
        if value_digest(wanted) == value_digest(have):
            continue
        last = field_base(name, state, base, have)
        if last is None:
            (conflict if no_base else update).append(name)
            continue
        sent, seen = last
        file_changed = not _matches(wanted, sent)
        tracker_changed = not _matches(have, seen)
        if file_changed and tracker_changed:
            conflict.append(name)
        elif file_changed:
            update.append(name)
        elif tracker_changed:
            kept.append(name)
    return update, conflict, kept


def new_base(
    item: Item,
    rendered: dict[str, Any],
    remote: RemoteItem | None,
    state: ItemState | None,
    sent: set[str],
    extras_done: dict[str, str],
) -> dict[str, str]:
    """The merge base to store with a write of ``item`` that sends the fields ``sent``.

    A field sent, or equal on both sides, gets the digest of the spec's value; a field kept as
    the tracker has it (or in conflict and not sent) keeps its old base, so a later edit of it in
    the file is still a conflict. ``extras`` lists the tags of the item's extras known to be on
    the tracker."""
    have = remote.fields if remote is not None else {}
    old = remote.base if remote is not None else None
    result: dict[str, str] = {}
    for name, wanted in rendered.items():
        if name in sent or (remote is not None and value_digest(wanted) == value_digest(have.get(name))):
            result[name] = base_digest(wanted)
            continue
        last = field_base(name, state, old, have.get(name))
        if last is not None:
            result[name] = last[0][: len(base_digest(None))]
    tags = [extra_tag(e) for e in item.extras() if extras_done.get(e.ident) == e.digest]
    if tags:
        result[EXTRAS] = ".".join(sorted(tags))
    return result


def extras_in_base(item: Item, base: dict[str, str] | None) -> dict[str, str]:
    """The item's extras the tracker-carried base confirms (ident -> digest)."""
    if not base or not base.get(EXTRAS):
        return {}
    tags = set(base[EXTRAS].split("."))
    return {e.ident: e.digest for e in item.extras() if extra_tag(e) in tags}


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
    update, conflict, kept = diff_fields(rendered.fields, remote.fields, state, remote.base)
    change.kept = kept
    change.values = {name: (remote.fields.get(name), rendered.fields[name])
                     for name in update + conflict + kept}
    change.no_base = remote.base is None and state is None
    change.conflicts = {name: (rendered.fields[name], remote.fields.get(name)) for name in conflict}
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
