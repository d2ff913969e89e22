"""``spectryn pull``: bring what changed in the tracker back into the spec (state, title, priority, assignee, text).

For each item of the spec that the tracker holds, and each field the spec states (title, state,
priority, assignee), three values meet as in a sync (see :mod:`spectryn_core.plan`): the spec's
rendered value ``d``, the tracker's ``r`` and the last sync's record of what was sent (``S``) and
seen (``R0``):

=============================  ==============================================================
d == r                         nothing to pull
r changed, d did not           pulled: the spec's cell gets the tracker's value, in the spec's
                               words (the inverse of the status / priority mapping)
d changed, r did not           nothing (the next sync sends the spec's value)
both changed, or no record     a conflict: shown with both values and left alone
=============================  ==============================================================

A dry-run prints the unified diff of each file; ``--execute`` writes it (atomically) and records
the pulled values as synced, so the next sync sends nothing for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from spectryn_core.desired import build_items
from spectryn_core.errors import FileWriteError, UsageError
from spectryn_core.items import Item, RemoteItem, value_digest
from spectryn_core.mappers import resolve
from spectryn_core.model import PRIORITIES, STATUSES
from spectryn_core.multi import TrackerView, parse_all, state_records
from spectryn_core.provenance import identify, item_base, spec_root
from spectryn_core.spec_edits import FileEdit, SpecEdit, edit_file
from spectryn_core.spec_files import SpecFile
from spectryn_core.state import ItemState, RunLock, SyncState, state_file
from spectryn_core.sync import SyncRequest, _defines, _read, parse, trust_for

if TYPE_CHECKING:
    from spectryn_core.config import Config
    from spectryn_core.plugins import Plugins

#: Tracker field -> the spec's name for it (a :class:`SpecEdit` field).
PULLED_FIELDS = {"title": "title", "state": "status", "priority": "priority", "assignee": "assignee"}


@dataclass(frozen=True)
class PulledValue:
    """One field brought back: ``old`` is what the spec said, ``new`` what it says now (spec
    words), ``tracker`` the tracker's value."""

    key: str
    field: str
    old: str | None
    new: str
    tracker: Any
    issue: str = ""


@dataclass(frozen=True)
class PullConflict:
    """A field that differs and cannot be pulled: changed on both sides since the last sync, or
    no record of the last sync to tell which side changed."""

    key: str
    field: str
    spec: Any
    tracker: Any
    reason: str


@dataclass
class FilePull:
    """What a pull does to one spec file."""

    path: Path
    target: str = ""
    pulled: list[PulledValue] = field(default_factory=list)
    conflicts: list[PullConflict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    edit: FileEdit | None = None
    #: Why the edit could not be written (a read-only folder, a full disk): the file is unchanged.
    error: FileWriteError | None = None

    @property
    def written(self) -> bool:
        return bool(self.edit and self.edit.written)

    @property
    def diff(self) -> str:
        return self.edit.diff() if self.edit else ""


@dataclass
class PullRequest:
    """What the user asked for."""

    spec_paths: list[Path]
    tracker: str
    state_dir: Path
    execute: bool = False
    #: As :attr:`spectryn_core.sync.SyncRequest.trusted_accounts`.
    trusted_accounts: tuple[str, ...] = ()

    def sync_request(self) -> SyncRequest:
        """The trust-related part of this request, as a sync would see it."""
        return SyncRequest(self.spec_paths[0] if self.spec_paths else Path("."), self.tracker,
                           self.state_dir, trusted_accounts=self.trusted_accounts)


def inverse(hooks: Any, kind: Literal["status", "priority"], value: str, tracker: str, config: Config,
            current: str | None = None) -> str | None:
    """The spec word whose mapping gives the tracker's ``value`` (``resolved`` -> ``done``): the
    spec's ``current`` word if it already maps there, else the first in the model's order, then
    the config's own words. None when no word maps to it."""
    words = list(STATUSES if kind == "status" else PRIORITIES)
    words += [w for w in config.mapping(kind) if w not in words]
    if current is not None:
        words.insert(0, current)
    for word in words:
        if resolve(hooks, kind, word, tracker, config) == value:
            return word
    return None


def run_pull(plugins: Plugins, config: Config, request: PullRequest,
             files: list[SpecFile] | None = None) -> tuple[list[FilePull], list[str]]:
    """Plan (and with ``request.execute`` write) the pull of every spec file of ``request`` (or of
    ``files``: several files, folders, globs). Every file is parsed and checked before any
    request, and the tracker is read once for all of them. Returns the files' pulls and notes on
    files skipped."""
    files = files if files is not None else [SpecFile(path, True) for path in request.spec_paths]
    specs, notes = parse_all(plugins, files, config)
    hooks = plugins.tracker_hooks(request.tracker)
    mappers = plugins.mapper_hooks(config.get("sync.mapper") or "default")
    items_of = {id(spec): build_items(spec, tracker=request.tracker, config=config, mappers=mappers)
                for spec in specs}
    if not specs:
        return [], notes
    connection = hooks.open_tracker(config=config)
    if connection is None:
        raise UsageError(f"the '{request.tracker}' plugin did not open a connection")
    results: list[FilePull] = []
    try:
        gone, known = state_records(request.state_dir, request.tracker, connection.target, specs,
                                    items_of)
        listing = hooks.read_items(connection=connection, gone=sorted(gone), known=known,
                                   items=[i for s in specs for i in items_of[id(s)]]) or []
        view = TrackerView(hooks, connection, listing)
        for spec in specs:
            items = items_of[id(spec)]
            path = state_file(request.state_dir, request.tracker, connection.target, spec.path)
            result = FilePull(spec.path, connection.target)
            lock = RunLock(request.state_dir, request.tracker, connection.target)
            if request.execute:
                with lock:
                    _pull_file(plugins, view, connection, config, request, items, path, result, mappers)
            else:
                _pull_file(plugins, view, connection, config, request, items, path, result, mappers)
            results.append(result)
    finally:
        connection.close()
    return results, notes


def _pull_file(plugins: Plugins, hooks: Any, connection: Any, config: Config, request: PullRequest,
               items: list[Item], state_path: Path, result: FilePull, mappers: Any) -> None:
    state = SyncState(state_path, readonly=not request.execute)
    try:
        known = state.items()
        trust = trust_for(request.sync_request(), state, known, connection)
        listing = _read(hooks, connection, items, known)
        origin = items[0].origin if items else ""
        identified = identify(listing, items, origin, trust,
                              still_defines=_defines(plugins, config, spec_root(result.path)))
        # an item that is not this spec's (a hand-made or someone else's issue carrying a key)
        # is never pulled from; a clash is left for the sync to report
        remote = identified.issues
        result.notes.extend(claim.message() for claim in identified.claims)
        clashed = {clash.key for clash in identified.clashes}
        edits: list[SpecEdit] = []
        for item in items:
            existing = remote.get(item.key)
            if existing is None or item.key in clashed or item.key in identified.adopted:
                continue
            rendered = hooks.render_item(connection=connection, item=item, refs=remote)
            if rendered is None or rendered.skip:
                continue
            for name, spec_field in PULLED_FIELDS.items():
                if name not in rendered.fields:
                    continue  # the spec leaves it open: nothing to bring back into it
                found = _compare(item, name, rendered.fields[name], existing, known.get(item.key))
                if isinstance(found, PullConflict):
                    result.conflicts.append(found)
                    continue
                if found is None:
                    continue
                words = _spec_words(connection, mappers, item, name, found, request.tracker, config)
                if words is None:
                    fix = (f"add it to {request.tracker}.users" if name == "assignee" else
                           f"add it to {request.tracker}.{spec_field}_mapping")
                    result.notes.append(f"{item.key}: {name} '{found}' in the tracker maps to no spec "
                                        f"{spec_field}; {fix}")
                    continue
                old = _spec_value(item, spec_field)
                result.pulled.append(PulledValue(item.key, spec_field, old, words, found, existing.id))
                edits.append(SpecEdit(item.key, spec_field, words))  # type: ignore[arg-type]
            edits.extend(_pull_text(hooks, connection, item, rendered.fields, existing, known.get(item.key),
                                    remote, result))
        try:
            result.edit = edit_file(plugins.hook, result.path, edits, write=request.execute)
        except FileWriteError as error:
            result.error = error
            result.edit = edit_file(plugins.hook, result.path, edits, write=False)  # what was not written
        result.notes.extend(result.edit.notes)
        unmade = {(edit.key, edit.field) for edit in result.edit.skipped}
        result.pulled = [p for p in result.pulled if (p.key, p.field) not in unmade]
        if result.written:
            _record(plugins, hooks, connection, config, request, result, remote, state, mappers)
    finally:
        state.close()


def _pull_text(hooks: Any, connection: Any, item: Item, rendered: dict[str, Any], existing: RemoteItem,
               known: ItemState | None, remote: dict[str, RemoteItem], result: FilePull) -> list[SpecEdit]:
    """The spec edits that bring an edit of the item's text made in the tracker alone into the
    sections of the spec it falls in (the tracker plugin's ``pull_text`` maps it); what does
    not map is noted. A text changed on both sides is a conflict here: a sync merges it."""
    if "content" not in rendered or not hooks.pull_text.get_hookimpls():
        return []
    found = _compare(item, "content", rendered["content"], existing, known)
    if isinstance(found, PullConflict):
        result.conflicts.append(PullConflict(item.key, "text", "(the spec's text)", "(the issue's text)",
                                             found.reason + "; a sync merges the two edits"))
        return []
    if not isinstance(found, str):
        return []
    mapped = hooks.pull_text(connection=connection, item=item, refs=remote, text=found)
    if mapped is None:
        result.notes.append(f"{item.key}: the issue's text changed in the tracker; this tracker "
                            "plugin cannot map it to the spec's sections (not pulled)")
        return []
    edits, notes = mapped
    result.notes.extend(notes)
    for edit in edits:
        result.pulled.append(PulledValue(item.key, edit.field, edit.after or None, edit.value, "(text)",
                                         existing.id))
    return list(edits)


def _compare(item: Item, name: str, wanted: Any, existing: RemoteItem,
             known: ItemState | None) -> Any:
    """The tracker's value when it should be pulled, a :class:`PullConflict`, or None.

    The merge base is the engine's (:class:`spectryn_core.provenance.ItemBase`): the one the
    issue carries, or the local state's when that is at least as new."""
    have = existing.fields.get(name)
    if value_digest(wanted) == value_digest(have):
        return None
    last = item_base(existing, known).field(name, have)
    if last is None:
        return PullConflict(item.key, PULLED_FIELDS.get(name, name), wanted, have,
                            "no record of the last sync to tell which side changed")
    sent, seen = last
    tracker_changed = not _matches(have, seen)
    file_changed = not _matches(wanted, sent)
    if tracker_changed and file_changed:
        return PullConflict(item.key, PULLED_FIELDS.get(name, name), wanted, have,
                            "changed in the spec and in the tracker")
    return have if tracker_changed and have is not None else None


def _matches(value: Any, digest: str) -> bool:
    return value_digest(value)[: len(digest)] == digest


def _spec_words(connection: Any, mappers: Any, item: Item, name: str, value: Any, tracker: str,
                config: Config) -> str | None:
    if name == "title":
        # only the tracker's exact words after the key: what the next sync renders back
        prefix = f"{item.key}: "
        text = str(value)
        return text[len(prefix):] if text.startswith(prefix) and text[len(prefix):].strip() else None
    if name in ("state", "priority"):
        kind: Literal["status", "priority"] = "status" if name == "state" else "priority"
        return inverse(mappers, kind, str(value), tracker, config, _spec_value(item, kind))
    if name == "assignee":
        name_of = getattr(connection, "user_name", None)
        return name_of(str(value)) if name_of is not None else None
    return None


def _spec_value(item: Item, spec_field: str) -> str | None:
    value = getattr(item.source, spec_field, None)
    return None if value is None else str(value)


def _record(plugins: Plugins, hooks: Any, connection: Any, config: Config, request: PullRequest,
            result: FilePull, remote: dict[str, RemoteItem], state: SyncState, mappers: Any) -> None:
    """After writing: each pulled field the spec now renders as the tracker has it is recorded as
    synced (sent = seen = the tracker's value), so the next sync and pull leave it."""
    spec = parse(plugins, result.path, config)
    items = {i.key: i for i in build_items(spec, tracker=request.tracker, config=config, mappers=mappers)}
    names = {spec_field: name for name, spec_field in PULLED_FIELDS.items()}
    known = state.items()  # read once: it is the whole table
    for pulled in result.pulled:
        item, existing = items.get(pulled.key), remote.get(pulled.key)
        if item is None or existing is None:
            continue
        rendered = hooks.render_item(connection=connection, item=item, refs=remote)
        name = names.get(pulled.field, "content")  # a text edit: the whole content
        value = existing.fields.get(name)
        if rendered is not None and value_digest(rendered.fields.get(name)) == value_digest(value):
            digest = value_digest(value)
            generation = item_base(existing, known.get(pulled.key)).generation
            state.record_item(pulled.key, existing.id, existing.url, {name: (digest, digest)},
                              generation)
