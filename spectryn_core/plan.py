"""Planning: what each item of the spec needs, given the tracker's item and its merge base.

Which tracker item is an item's, and what both sides last agreed on, are decided in
:mod:`spectryn_core.provenance`; this module turns that into a :class:`Change` per item
(create, update, unchanged, conflict, orphan, duplicate). The plan is a value: it can be
printed, serialised and applied.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from spectryn_core.items import MISSING, Extra, Item, RemoteItem, Rendered
from spectryn_core.policy import Policy
from spectryn_core.provenance import EXTRAS, ItemBase, diff_fields
from spectryn_core.textmerge import merge3

#: Marks a ``previous`` of :func:`pending_extras` that holds an earlier version's tags.
EARLIER = "*"
Action = Literal["create", "update", "unchanged", "conflict", "orphan", "duplicate"]
SYMBOLS: dict[str, str] = {"create": "+", "update": "~", "unchanged": "=", "conflict": "!",
                           "orphan": "?", "duplicate": "x"}
__all__ = ["EXTRAS", "SYMBOLS", "Action", "Change", "Plan", "describe_extras", "orphan_change",
           "plan_item"]


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
    #: The tracker item is taken over in this run (``--adopt``, or from a spec file that no
    #: longer defines the key): written even when no field differs, so it carries this spec's
    #: provenance from now on.
    takeover: bool = False
    #: For an item held back (a ``conflict`` with no field): the item that carries its key but
    #: was not made by spectryn, and why (see :class:`spectryn_core.provenance.Claim`).
    claimed_by: RemoteItem | None = None
    claim_reason: str = ""
    #: Values to send that are not the spec's (a merged text): name -> value. The spec's own
    #: value is in :attr:`values` as before; the merge base records both.
    send: dict[str, Any] = field(default_factory=dict)
    #: How a field changed on both sides was settled: name -> ``merged``, ``spec`` or
    #: ``tracker`` (the policy that decided; ``force`` for --force).
    settled: dict[str, str] = field(default_factory=dict)
    #: The base text of each text field merged or in conflict, when it was found.
    bases: dict[str, str] = field(default_factory=dict)
    #: Where each base text came from (``state``, ``git``, ``tracker``).
    base_sources: dict[str, str] = field(default_factory=dict)
    #: Text fields that a base text would let the plan merge (asked for by the caller).
    needs_text: list[str] = field(default_factory=list)
    #: Idents of the pull requests checked in this run and found missing (recorded as such).
    missing: set[str] = field(default_factory=set)
    #: Comments the item's base records that the spec no longer has (kept in the tracker).
    removed_comments: int = 0

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
            names.append("comment edited" if extra.previous or extra.earlier else "comment")
        elif extra.kind == "attachment":
            names.append(f"attachment {extra.ident.split(':', 1)[1]}")
        elif extra.previous == MISSING:
            names.append(f"pull request #{extra.payload} (checked again)")
        else:
            names.append(f"pull request #{extra.payload}")
    return names


def pending_extras(
    item: Item, done: dict[str, str], previous: dict[str, str] | None = None,
) -> tuple[list[Extra], list[Extra]]:
    """The item's extras not on the tracker as they are now (``done``: ident -> the digest
    sent), and apart the pull requests recorded as missing (checked again only when asked).
    A comment sent before with another text (``done``, or ``previous``: what the item's base
    records at its position) carries that digest as :attr:`Extra.previous`: it is edited. A
    ``previous`` of :data:`EARLIER` and ``.``-joined tags: the comment may have been posted by
    an earlier version with one of those tags (:attr:`Extra.earlier`)."""
    previous = previous or {}
    pending: list[Extra] = []
    rechecks: list[Extra] = []
    for extra in item.extras():
        was = done.get(extra.ident)
        if was == extra.digest:
            continue
        if extra.kind == "pull_request" and was == MISSING:
            rechecks.append(replace(extra, previous=MISSING))
            continue
        # the base's record first: the state may predate an edit another runner sent
        was = previous.get(extra.ident) or was if extra.kind == "comment" else was
        if extra.kind == "comment" and was and was.startswith(EARLIER):
            extra = replace(extra, earlier=tuple(was[len(EARLIER):].split(".")))
        elif extra.kind == "comment" and was:
            extra = replace(extra, previous=was)
        pending.append(extra)
    return pending, rechecks


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


def plan_item(
    item: Item,
    rendered: Rendered,
    remote: RemoteItem | None,
    base: ItemBase,
    extras_done: dict[str, str],
    *,
    force: bool = False,
    title_lost_key: bool = False,
    texts: dict[str, str] | None = None,
    policy: Policy | None = None,
    previous: dict[str, str] | None = None,
    recheck: bool = False,
) -> Change:
    """The change one item needs. ``extras_done`` maps extra idents already on the tracker to the
    digest they were sent with; ``title_lost_key``: the item's title no longer carries its key
    (a person retitled it), so the spec's title is sent whatever the base says (the spec owns
    titles: the key in them is how people and earlier versions find the issue).

    A text field changed on both sides is merged line by line when ``texts`` has its base text
    (:mod:`spectryn_core.textmerge`): edits apart are both sent, as one value. So is a text the
    spec changed while the tracker holds lines the spec lacks (a text merged before: its base is
    a pair). Without the base text such a field is listed in :attr:`Change.needs_text` (the
    caller looks for it and plans again) and stays a conflict. What is still in conflict then
    goes as ``policy`` says for its field (``ask``: a conflict); ``force`` sends the spec's
    value for all of it.

    Extras: see :func:`pending_extras` (``previous``: the comment digests the item's base
    records). A pull request recorded as missing is checked again when the item is written
    anyway (a field, another extra, a take-over) or with ``recheck``; otherwise it costs no
    request (the tracker plugin still warns about it)."""
    texts = texts or {}
    policy = policy or Policy()
    pending, rechecks = pending_extras(item, extras_done, previous)
    change = Change(
        item.key, item.kind, item.title, "create", item=item, remote=remote,
        warnings=list(rendered.warnings), extras=pending,
    )
    if remote is None:
        change.fields = list(rendered.fields)
        return change
    update, conflict, kept = diff_fields(rendered.fields, remote.fields, base)
    if title_lost_key and "title" in rendered.fields:
        update = ["title", *(n for n in update if n != "title")]
        conflict = [n for n in conflict if n != "title"]
        kept = [n for n in kept if n != "title"]
    change.no_base = base.missing
    for name in [*conflict, *(n for n in update if _holds_more(base, n, remote.fields.get(n)))]:
        wanted, have = rendered.fields[name], remote.fields.get(name)
        if not _text(wanted, have):
            continue
        if name not in texts:
            change.needs_text.append(name)
            if name in update:  # sending the spec's text would drop the tracker's lines
                update.remove(name)
                conflict.append(name)
            continue
        change.bases[name] = texts[name]
        merge = merge3(texts[name], str(have or ""), str(wanted))
        choice = "spec" if force else policy[name]
        if merge.clean:
            value, how = merge.text, "merged"
        elif choice == "ask":
            if name in update:
                update.remove(name)
                conflict.append(name)
            continue
        else:
            value, how = merge.resolved(choice), f"merged, {choice} where both changed"
        for group in (update, conflict):
            if name in group:
                group.remove(name)
        if value == have and choice == "tracker" and not merge.clean:
            kept.append(name)
        else:
            update.append(name)
        change.settled[name] = how
        if value != wanted:
            change.send[name] = value
    for name in list(conflict):
        choice = "spec" if force else policy[name]
        if choice == "ask":
            continue
        conflict.remove(name)
        (update if choice == "spec" else kept).append(name)
        change.settled[name] = "force" if force else choice
    change.kept = kept
    change.values = {name: (remote.fields.get(name), change.send.get(name, rendered.fields[name]))
                     for name in update + conflict + kept}
    forced = [name for name, how in change.settled.items() if how == "force"]
    change.conflicts = {name: (rendered.fields[name], remote.fields.get(name)) for name in conflict + forced}
    if conflict:
        change.action = "conflict"
        change.fields = conflict
        change.extras = []
        return change
    change.fields = update
    if rechecks and (recheck or change.fields or change.extras):
        change.extras = [*change.extras, *rechecks]
    change.action = "update" if change.fields or change.extras else "unchanged"
    return change


def _text(*values: Any) -> bool:
    """True for a text field worth merging line by line (a multi-line string on either side)."""
    return all(value is None or isinstance(value, str) for value in values) and any(
        isinstance(value, str) and "\n" in value for value in values)


def _holds_more(base: ItemBase, name: str, have: Any) -> bool:
    """True when the field's base is a pair (the tracker holds a merged text the spec does not
    render) and the tracker still holds that text."""
    last = base.field(name, have)
    return last is not None and last[0][:8] != last[1][:8]


def orphan_change(key: str, remote: RemoteItem) -> Change:
    """The report of a tracker item of this spec whose key left it (never deleted)."""
    return Change(key, "subtask" if "." in key else "story", _title(remote), "orphan", remote=remote)


def _title(remote: RemoteItem) -> str:
    title = str(remote.fields.get("title") or "")
    prefix = f"{remote.key}: "
    return title[len(prefix):] if remote.key and title.startswith(prefix) else title
