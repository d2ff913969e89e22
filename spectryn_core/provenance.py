"""Which tracker items are this spec's, and what each one last agreed with the spec.

Every rule here works the same on a fresh CI runner (no state file) as on a laptop with one:
what decides is recorded in the tracker item itself, and the local state is only a cache.

**Provenance.** Every write spectryn makes records in the item the spec file it came from
(:attr:`Item.origin`, the path relative to the repository), the item's key and the generation
of the merge base (``1`` on create, one more with each write). The tracker plugin encodes it
(Bitbucket: in the hidden base line) and returns it as :attr:`RemoteItem.provenance`; a plugin
that keeps the ``base`` dict as it is given keeps it for free (the record travels in it under
the names :data:`SPEC`, :data:`KEY` and :data:`GENERATION`).

**Which items are ours** (:func:`identify`). An item is this spec's when it carries spectryn's
mark (provenance, or the merge base of an earlier version) and was made by an account the sync
trusts, or the state knows its id. Who is trusted (:class:`Trust`):

- ``sync.trusted_accounts`` unset: the mark alone (whoever made the item). A hand-made item -
  a key in its title and no mark - is never ours.
- set: only items made by those accounts (Bitbucket: the reporter), or by the account this
  sync was seen writing as (a create's answer names it; remembered in the state). A copied
  base line in someone else's issue is then not enough.
- the state knows the item's id (this machine synced it): ours, whatever the above says.
- a tracker plugin that keeps no base in its items (``Connection.keeps_base`` False) can
  carry no mark: there the key in the title decides, as it did before provenance.

An item that carries a key of the spec but is not ours is a *claim*: never updated, linked,
pulled or used to close another; reported, and taken over only with ``--adopt KEY``. While a
claim is the only item carrying a key, no item is created for it either (a hand-made issue
made ahead of the spec, or one whose hidden line a person deleted, must not be duplicated):
the plan shows the key as held until it is adopted or the claim loses the key. An item
whose provenance names another spec file that still defines the key is a *clash* (exit 2): a
run of this file never changes it. One whose file is gone, or no longer defines the key, moves
to this file. Items of this spec whose key left it are *orphans* (reported, never deleted),
found by their provenance on any runner. Of several items of ours with one key (two runs at
once), the kept one is the one with provenance of this spec, then the lowest id (the order the
tracker created them in; a generation is text anyone may edit); the others are twins.

**The merge base** (:class:`ItemBase`). Per field, the digest both sides last agreed on: the
base the item carries, or the state's record when it describes a base at least as new (same
item id, generation not lower): the newest base wins, so a stale state never outvotes a base
another runner wrote since. No digest for a field is a conflict for that field unless the
tracker holds no value for it (then there is nothing to overwrite).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from spectryn_core.items import (
    BASE_DIGITS,
    COMMENT_TAG_DIGITS,
    MISSING,
    Account,
    Extra,
    Item,
    Provenance,
    RemoteItem,
    base_digest,
    comment_tag,
    extra_tag,
    position_tag,
    value_digest,
)
from spectryn_core.model import KEY_PATTERN

if TYPE_CHECKING:  # the state store (sqlite3, filelock) stays out of `validate`
    from spectryn_core.state import ItemState

#: Names of the provenance record in a ``base`` dict (beside the field digests).
SPEC = "spec"
KEY = "key"
GENERATION = "generation"
#: The confirmed extras' tags in a base.
EXTRAS = "extras"
#: The commit of the spec's repository the base was written from (when the spec file was
#: committed as it was read): its git history can render the base text again (see basetext.py).
COMMIT = "commit"
RECORD = (SPEC, KEY, GENERATION)
_NOT_FIELDS = {*RECORD, EXTRAS, COMMIT}
SPEC_SUFFIXES = (".md", ".markdown")
_KEY_RE = re.compile(rf"{KEY_PATTERN}(?:\.\d+)?")


# --- where a spec file is -------------------------------------------------------------------


def spec_root(path: Path) -> Path:
    """The repository holding ``path`` (the nearest folder above it with ``.git``), else its folder."""
    folder = path.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return folder


def spec_origin(path: Path) -> str:
    """``path`` as provenance records it: relative to its repository, ``/``-separated
    (``docs/specs/checkout.md``). The same file gives the same text on every runner and from
    any working directory; outside a git work tree it is the file's name."""
    resolved = path.resolve()
    return resolved.relative_to(spec_root(path)).as_posix()


def origin_path(root: Path, origin: str) -> Path | None:
    """The file a provenance ``origin`` names under ``root``, or None when it cannot be a spec
    file of that repository (absolute, ``..``, not markdown, or resolving outside it)."""
    pure = PurePosixPath(origin)
    if not origin or pure.is_absolute() or ".." in pure.parts or pure.suffix.lower() not in SPEC_SUFFIXES:
        return None
    candidate = (root / Path(*pure.parts)).resolve()
    if root.resolve() not in candidate.parents:
        return None
    return candidate


# --- the record in the base -----------------------------------------------------------------


def record(item: Item, generation: int) -> dict[str, str]:
    """The provenance entries of a ``base`` dict for ``item`` at ``generation``."""
    return {SPEC: item.origin, KEY: item.key, GENERATION: str(generation)}


def normalise(remote: RemoteItem) -> RemoteItem:
    """Move a provenance record kept inside ``remote.base`` (a plugin that stores the base dict
    as it is given) to :attr:`RemoteItem.provenance`; the base keeps only digests."""
    base = remote.base
    if base is None or not any(name in base for name in RECORD):
        return remote
    if remote.provenance is None and base.get(SPEC) is not None and base.get(KEY):
        try:
            generation = int(base.get(GENERATION) or 0)
        except ValueError:
            generation = 0
        remote.provenance = Provenance(str(base[SPEC]), str(base[KEY]), max(generation, 0))
    remote.base = {name: value for name, value in base.items() if name not in RECORD}
    return remote


def field_digests(base: dict[str, str] | None) -> dict[str, str]:
    """The field digests of a base (no provenance, no extras)."""
    return {name: value for name, value in (base or {}).items() if name not in _NOT_FIELDS}


def copied(remote: RemoteItem) -> bool:
    """True when ``remote``'s provenance names another key than its title carries: the record
    (and the base with it) was copied from another item - a person pasted an issue's raw text
    into another one - and describes that item, not this one."""
    provenance = remote.provenance
    return bool(provenance is not None and provenance.key != remote.key
                and _KEY_RE.fullmatch(remote.key))


def record_of(remote: RemoteItem) -> Provenance | None:
    """The provenance that describes ``remote`` itself (None when absent or copied)."""
    return None if copied(remote) else remote.provenance


def base_of(remote: RemoteItem) -> dict[str, str] | None:
    """The base that describes ``remote`` itself (None when absent or copied)."""
    return None if copied(remote) else remote.base


def has_mark(remote: RemoteItem) -> bool:
    """True when ``remote`` carries spectryn's mark: provenance, or a merge base with at least one
    field digest (what earlier versions wrote). An empty base line is no mark, nor one copied
    from another item."""
    return record_of(remote) is not None or bool(field_digests(base_of(remote)))


# --- who is trusted -------------------------------------------------------------------------


@dataclass
class Trust:
    """What a run trusts: ``trusted`` - the config's account references (``sync.trusted_accounts``:
    stable identifiers only, matched by :meth:`Account.matches`; empty: the mark alone decides); ``accounts`` - the accounts this sync writes as, when known;
    ``known`` - item ids the state recorded (id -> key); ``adopt`` - keys to take over."""

    trusted: list[str] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)
    adopt: set[str] = field(default_factory=set)
    #: False for a tracker plugin that keeps no base (``Connection.keeps_base``): its items can
    #: carry no mark, so the key in an item's title identifies it, as before provenance.
    marks: bool = True

    @property
    def strict(self) -> bool:
        """True when the maker of an item is weighed, not only its mark."""
        return bool(self.trusted)

    def trusts_account(self, account: Account | None) -> bool:
        """True when ``account`` is one this run trusts to have made items."""
        if account is None:
            return False
        return (any(account.matches(ref) for ref in self.trusted)
                or any(account.id == own.id for own in self.accounts))

    def judge(self, remote: RemoteItem) -> tuple[bool, str]:
        """(is it ours, why not): see the module's rules."""
        if remote.id in self.known:
            return True, ""
        marked = has_mark(remote)
        if self.strict and remote.reporter is not None:
            if self.trusts_account(remote.reporter):
                return True, ""  # made by the sync, marked or from before marks
            return False, (f"made by {remote.reporter}, an account sync.trusted_accounts does not "
                           "list" + ("" if marked else ", and it has no spectryn mark")
                           + f" - add {remote.reporter.id} there if you trust that account")
        if marked or not self.marks:
            return True, ""
        if copied(remote) and remote.provenance is not None:
            return False, (f"its hidden spectryn line names {remote.provenance.key}: copied from "
                           "another issue")
        return False, "it has no spectryn mark"


# --- which items are ours -------------------------------------------------------------------


@dataclass
class Claim:
    """An item carrying a key of the spec that is not ours (see :class:`Trust`)."""

    key: str
    remote: RemoteItem
    why: str

    def message(self) -> str:
        """``#6 claims US-004 but was not made by spectryn (...)``, with what to do."""
        where = f" {self.remote.url}" if self.remote.url else ""
        return (f"#{self.remote.id}{where} claims {self.key} but was not made by spectryn "
                f"({self.why}); left alone - --adopt {self.key} takes it over")


@dataclass
class Clash:
    """An item of another spec file that still defines the key: a run of this file leaves it."""

    key: str
    remote: RemoteItem
    other: str


@dataclass
class Identified:
    """The tracker's items as one spec sees them."""

    #: key -> the item of this spec for it.
    issues: dict[str, RemoteItem] = field(default_factory=dict)
    #: key -> later items of ours with the same key (heal candidates), lowest id first.
    twins: dict[str, list[RemoteItem]] = field(default_factory=dict)
    #: key -> an item of this spec whose key the spec no longer has.
    orphans: dict[str, RemoteItem] = field(default_factory=dict)
    claims: list[Claim] = field(default_factory=list)
    #: key -> the claim that holds it: no item of ours carries the key, so none is created.
    held: dict[str, Claim] = field(default_factory=dict)
    clashes: list[Clash] = field(default_factory=list)
    #: Keys whose item is taken over in this run (``--adopt``): the spec's values are sent.
    adopted: set[str] = field(default_factory=set)
    #: Keys whose item moves to this spec (its file no longer defines the key): written once,
    #: even when nothing differs, so its provenance names this file.
    moved: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


@dataclass
class _Judged:
    remote: RemoteItem
    key: str
    ours: bool
    why: str

    @property
    def spec(self) -> str | None:
        provenance = record_of(self.remote)
        return provenance.spec if provenance is not None and self.ours else None


def flatten(listing: Iterable[RemoteItem]) -> list[RemoteItem]:
    """Every item of a listing on its own (twins a plugin grouped are taken out), each once."""
    seen: set[str] = set()
    flat: list[RemoteItem] = []
    for remote in listing:
        for one in (remote, *remote.twins):
            if one.id in seen:
                continue
            seen.add(one.id)
            flat.append(normalise(one))
    for one in flat:
        one.twins = []
    return flat


def _number(remote: RemoteItem) -> tuple[int, str]:
    return (int(remote.id), "") if remote.id.isdigit() else (1 << 62, remote.id)


def identify(
    listing: Iterable[RemoteItem],
    items: list[Item],
    origin: str,
    trust: Trust,
    *,
    still_defines: Callable[[str, str], bool] = lambda spec, key: True,
) -> Identified:
    """Sort the tracker's items into this spec's issues, twins, orphans, claims and clashes.

    ``items`` are every item of the spec (whatever ``--only`` selects), ``origin`` the spec file
    as provenance names it; ``still_defines(spec, key)`` says whether another spec file still
    defines ``key`` (False: it was removed or renamed, and its items move to this file)."""
    spec_keys = {item.key for item in items}
    stories = {item.key for item in items if item.kind == "story"}
    groups: dict[str, list[_Judged]] = {}
    for remote in sorted(flatten(listing), key=_number):
        ours, why = trust.judge(remote)
        provenance = record_of(remote)
        if ours and provenance is not None:
            key = provenance.key
        elif remote.id in trust.known:
            key = trust.known[remote.id]
        else:
            key = remote.key or (provenance.key if provenance is not None else "")
        if key:
            groups.setdefault(key, []).append(_Judged(remote, key, ours, why))
    found = Identified()
    for key, group in groups.items():
        if key in spec_keys:
            _settle(found, key, group, origin, trust, still_defines)
            continue
        parent = key.rsplit(".", 1)[0] if "." in key else None
        for judged in group:
            if not judged.ours:
                continue
            if judged.spec == origin or (judged.spec is None and (
                    trust.known.get(judged.remote.id) == key or parent in stories)):
                found.orphans.setdefault(key, judged.remote)
    return found


def _settle(found: Identified, key: str, group: list[_Judged], origin: str, trust: Trust,
            still_defines: Callable[[str, str], bool]) -> None:
    """The item of ``key`` (a key of this spec) among the items carrying it."""
    mine = [j for j in group if j.ours and j.spec == origin]
    legacy = [j for j in group if j.ours and j.spec is None]
    others = [j for j in group if j.ours and j.spec not in (origin, None)]
    strangers = [j for j in group if not j.ours]
    clashing = [j for j in others if still_defines(str(j.spec), key)]
    moved = [j for j in others if j not in clashing]
    ranked = mine + legacy + moved
    adopting = key in trust.adopt
    if adopting and not ranked and (clashing or strangers):
        taken = (clashing or strangers)[0]
        found.issues[key] = taken.remote
        found.adopted.add(key)
        found.notes.append(f"{key}: taking over #{taken.remote.id} (--adopt {key}); the spec's "
                           "values are sent to it")
        clashing = [j for j in clashing if j is not taken]
        strangers = [j for j in strangers if j is not taken]
    elif adopting and ranked:
        found.notes.append(f"--adopt {key}: #{ranked[0].remote.id} is already this spec's issue "
                           "for it; nothing to take over")
    if ranked:
        found.issues[key] = ranked[0].remote
        if ranked[0] in moved:
            found.moved.add(key)
            found.notes.append(f"{key}: #{ranked[0].remote.id} was made from {ranked[0].spec}, which "
                               "no longer defines it; this file takes it over")
        if len(ranked) > 1:
            found.twins[key] = [j.remote for j in ranked[1:]]
    found.clashes.extend(Clash(key, j.remote, str(j.spec)) for j in clashing)
    claims = [Claim(key, j.remote, j.why) for j in strangers]
    if claims and key not in found.issues:
        found.held[key] = claims[0]
    found.claims.extend(claims)


# --- the merge base -------------------------------------------------------------------------


def _matches(value: Any, digest: str) -> bool:
    return value_digest(value)[: len(digest)] == digest


def _empty(value: Any) -> bool:
    return value is None or value == ""


@dataclass
class ItemBase:
    """The merge base of one tracker item: the digests it carries, and the state's record when
    that describes a base at least as new (see the module's rules)."""

    carried: dict[str, str] | None = None
    state: ItemState | None = None
    #: The newest generation known for the item (0: none, or from before generations).
    generation: int = 0

    @property
    def missing(self) -> bool:
        """True when there is no base at all (every difference is a conflict)."""
        return self.carried is None and self.state is None

    def field(self, name: str, have: Any = None) -> tuple[str, str] | None:
        """The base of one field as (digest sent, digest seen back), or None when unknown.

        With a state as new as the carried base, the state adds what the tracker answered when
        it normalised a value, and what ``spectryn pull`` agreed since (the tracker's value
        ``have`` is the one the state last saw and not the carried base's). A carried base may
        hold a pair, ``SPEC.TRACKER`` (:func:`pair`): the two sides agreed on different values (a
        merged text the spec does not render)."""
        last = self.state.fields.get(name) if self.state is not None else None
        if self.carried is None:
            return last
        carried = self.carried.get(name)
        if carried is None:
            return last
        sent, seen = split_pair(carried)
        if last is not None and last[0][: len(sent)] == sent and last[1][: len(seen)] == seen:
            return last
        if last is not None and _matches(have, last[1]) and not _matches(have, seen):
            return last
        return sent, seen


def pair(sent: str, seen: str) -> str:
    """A field's base as carried: the digest of the spec's value, and ``.`` and the digest of the
    tracker's when the two differ (a merged text: the tracker holds lines the spec lacks)."""
    sent, seen = sent[:BASE_DIGITS], seen[:BASE_DIGITS]
    return sent if sent == seen else f"{sent}.{seen}"


def split_pair(carried: str) -> tuple[str, str]:
    """A carried field base -> (the spec's digest, the tracker's)."""
    sent, _, seen = carried.partition(".")
    return sent, seen or sent


def item_base(remote: RemoteItem | None, state: ItemState | None) -> ItemBase:
    """The merge base of ``remote`` (None: a new item), given the state's record of its key."""
    if remote is None:
        return ItemBase()
    record = record_of(remote)
    carried = record.generation if record is not None else 0
    usable = (state is not None and state.remote_id == remote.id
              and state.generation >= carried)
    base = base_of(remote)
    digests = field_digests(base) if base is not None else None
    if usable and state is not None:
        return ItemBase(digests, state, max(carried, state.generation))
    return ItemBase(digests, None, carried)


def diff_fields(
    rendered: dict[str, Any], remote: dict[str, Any], base: ItemBase
) -> tuple[list[str], list[str], list[str]]:
    """Split the rendered fields into (to update, in conflict, kept as the tracker has them).

    ============================  ======================================================
    d == r                        nothing to do
    no base for the field         update when the tracker holds no value (nothing to
                                  overwrite), else a conflict ("no base, no overwrite")
    d != B and r == B             update (changed in the file)
    d != B and r != B             conflict (changed in both) - sent only with ``--force``
    d == B and r != B             keep the tracker's edit (the file did not change)
    ============================  ======================================================
    """
    update: list[str] = []
    conflict: list[str] = []
    kept: list[str] = []
    for name, wanted in rendered.items():
        have = remote.get(name)
        if value_digest(wanted) == value_digest(have):
            continue
        last = base.field(name, have)
        if last is None:
            (update if _empty(have) else conflict).append(name)
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
    base: ItemBase,
    sent: set[str],
    extras_done: dict[str, str],
    *,
    values: dict[str, Any] | None = None,
    commit: str | None = None,
) -> dict[str, str]:
    """The merge base (and provenance) to store with a write of ``item`` that sends ``sent``.

    A field sent, or equal on both sides, gets the digest of the spec's value - paired with the
    digest of the value sent when ``values`` sends another one than the spec renders (a merged
    text, see :func:`pair`); a field kept as the tracker has it (or in conflict and not sent)
    keeps its old base, so a later edit of it in the file is still a conflict. ``extras`` lists
    the tags of the item's extras known to be on the tracker, bound to the item's id. The
    generation is one more than the newest known; ``commit`` (the spec's repository commit the
    spec was read at, when it was committed as read) is recorded for the base texts."""
    have = remote.fields if remote is not None else {}
    values = values or {}
    result = record(item, base.generation + 1)
    renewed = True  # every text field's base is the spec's text as read now
    for name, wanted in rendered.items():
        if name in sent or (remote is not None and value_digest(wanted) == value_digest(have.get(name))):
            result[name] = pair(base_digest(wanted), base_digest(values.get(name, wanted)))
            continue
        renewed = renewed and not (isinstance(wanted, str) and "\n" in wanted)
        last = base.field(name, have.get(name))
        if last is not None:
            result[name] = pair(*last)
    # the commit must render the text the base records: an older base text keeps its commit
    earlier = (base_of(remote) or {}).get(COMMIT) if remote is not None else None
    if commit and renewed:
        result[COMMIT] = commit
    elif earlier:
        result[COMMIT] = earlier
    if remote is not None:
        tags = extra_tags(item, remote.id, extras_done)
        if tags:
            result[EXTRAS] = ".".join(sorted(tags))
    return result


def extra_tags(item: Item, item_id: str, done: dict[str, str]) -> list[str]:
    """The base's tags of the item's extras known to be on tracker item ``item_id`` (``done``:
    ident -> the digest sent). A comment's tag names the digest it was sent with, even an
    earlier text the spec has edited since (the edit not sent yet: a later run still finds the
    comment by it); a pull request checked and found missing gets its own tag (:data:`MISSING`)."""
    tags: list[str] = []
    for extra in item.extras():
        digest = done.get(extra.ident)
        if digest is None:
            continue
        if extra.kind == "comment":
            tags.append(comment_tag(extra, item_id, digest))
        elif digest == extra.digest or (extra.kind == "pull_request" and digest == MISSING):
            tags.append(extra_tag(_sent_as(extra, digest), item_id))
    return tags


def _sent_as(extra: Extra, digest: str) -> Extra:
    return Extra(extra.kind, extra.ident, digest, extra.payload)


def _tags(remote: RemoteItem | None) -> set[str]:
    base = base_of(remote) if remote is not None else None
    return set(base[EXTRAS].split(".")) if base and base.get(EXTRAS) else set()


def extras_in_base(item: Item, remote: RemoteItem | None) -> dict[str, str]:
    """The item's extras the base ``remote`` carries confirms (ident -> digest): sent as they
    are now, or (a pull request) checked and found missing (:data:`MISSING`).

    Tags are bound to the item's id; an item without provenance (written by an earlier version)
    also confirms the unbound tags that version wrote. A comment is also confirmed by the tag an
    earlier version wrote for its text (before comments were identified by position)."""
    tags = _tags(remote)
    if remote is None or not tags:
        return {}
    legacy = remote.provenance is None
    found: dict[str, str] = {}
    for e in item.extras():
        if e.kind == "comment":
            old_ident, old_digest = e.legacy
            old = Extra("comment", old_ident, old_digest, e.payload)
            if comment_tag(e, remote.id) in tags or extra_tag(old, remote.id) in tags or (
                    legacy and extra_tag(old) in tags):
                found[e.ident] = e.digest
        elif extra_tag(e, remote.id) in tags or (legacy and extra_tag(e) in tags):
            found[e.ident] = e.digest
        elif e.kind == "pull_request" and extra_tag(_sent_as(e, MISSING), remote.id) in tags:
            found[e.ident] = MISSING
    return found


def still_current(item: Item, done: dict[str, str]) -> dict[str, str]:
    """The extras of ``done`` (ident -> digest sent) that the spec still has as they were sent -
    or, a pull request, recorded as missing: what the item's base should confirm."""
    current = {e.ident: e.digest for e in item.extras()}
    return {i: d for i, d in done.items() if i in current and d in (current[i], MISSING)}


def comments_in_base(item: Item, remote: RemoteItem | None) -> dict[str, str]:
    """The item's comments the base of ``remote`` records at their position, whatever text
    they were sent with: ident -> the first :data:`BASE_DIGITS` of that text's digest."""
    if remote is None:
        return {}
    by_position = {tag[:6]: tag[6:] for tag in _tags(remote) if len(tag) == COMMENT_TAG_DIGITS}
    found: dict[str, str] = {}
    for e in item.extras():
        digest = by_position.get(position_tag(e.ident, remote.id)) if e.kind == "comment" else None
        if digest is not None:
            found[e.ident] = digest
    return found


def removed_comments(item: Item, remote: RemoteItem | None) -> int:
    """How many comments the base of ``remote`` records at positions the spec no longer has (a
    comment removed from the spec: kept in the tracker, never deleted)."""
    if remote is None:
        return 0
    positions = {position_tag(e.ident, remote.id) for e in item.extras() if e.kind == "comment"}
    return sum(1 for tag in _tags(remote) if len(tag) == COMMENT_TAG_DIGITS and tag[:6] not in positions)


def earlier_comment_tags(item: Item, remote: RemoteItem | None) -> list[str]:
    """The tags of a base written before comments had positions (no comment tag of today's form)
    that no extra of the item accounts for in any form: a comment the spec edited since may be
    one of them (an earlier version tagged a comment by a hash of its text)."""
    tags = _tags(remote)
    if remote is None or not tags or any(len(tag) == COMMENT_TAG_DIGITS for tag in tags):
        return []
    accounted: set[str] = set()
    for e in item.extras():
        forms = [e, _sent_as(e, MISSING)]
        if e.kind == "comment":
            forms.append(Extra("comment", *e.legacy, e.payload))
        for form in forms:
            accounted |= {extra_tag(form, remote.id), extra_tag(form)}
    return sorted(tag for tag in tags if len(tag) == 6 and tag not in accounted)


def untouched(remote: RemoteItem) -> bool:
    """True when ``remote`` carries a base and every field still has the value it records."""
    digests = field_digests(base_of(remote))
    if not digests:
        return False
    return all(name not in remote.fields or _matches(remote.fields[name], split_pair(digest)[1])
               for name, digest in digests.items())


def generation_after(base: dict[str, str]) -> int:
    """The generation a ``base`` dict written by :func:`new_base` records."""
    try:
        return int(base.get(GENERATION) or 0)
    except ValueError:
        return 0
