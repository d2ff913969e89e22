"""Many specs in one run: every file parsed and checked first, one tracker listing for all of them,
then each file synced in turn with its own state, and (``write_back``) issue links written back.

A spec problem in any file - or a key defined in two files - stops the run before any request,
with every problem listed (exit 2). The tracker is opened once and read once: a no-op over many
files costs what one listing costs. State stays per spec file, as with one file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectryn_core.errors import FileWriteError, SpecError, UsageError
from spectryn_core.spec_files import SpecFile, duplicate_keys, has_no_stories

# `validate` uses parse_all alone: the engine, the state store (sqlite3, filelock) and the spec
# editor are imported by the functions that sync, at their first call
if TYPE_CHECKING:
    from spectryn_core.apply import Progress
    from spectryn_core.config import Config
    from spectryn_core.items import Connection, Item, RemoteItem
    from spectryn_core.model import Spec
    from spectryn_core.plugins import Plugins
    from spectryn_core.spec_edits import FileEdit, SpecEdit
    from spectryn_core.sync import SyncRequest, SyncResult


@dataclass
class MultiResult:
    """Each file's :class:`SyncResult`, files skipped (with why) and write-back edits."""

    results: list[SyncResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    write_backs: list[FileEdit] = field(default_factory=list)
    #: True when the run was asked for several files (a folder, a glob or more than one file):
    #: the report then groups by file, whatever number of them had stories.
    many: bool = False
    #: Spec files the issue links could not be written into (a read-only folder, a full disk);
    #: what was sent is in ``results``, and the next run writes the links.
    write_errors: list[FileWriteError] = field(default_factory=list)


def parse_all(plugins: Plugins, files: list[SpecFile], config: Config) -> tuple[list[Spec], list[str]]:
    """Parse every file; skip folder/glob finds with no story (noted); raise one :class:`SpecError`
    with the problems of every file, duplicate keys across files included."""
    specs: list[Spec] = []
    notes: list[str] = []
    problems = []
    for file in files:
        spec = plugins.hook.parse_spec(path=file.path, config=config)
        if spec is None:
            if file.named:
                raise UsageError(f"{file.path}: no installed parser reads this file",
                                 "pip install 'spectryn[markdown]'")
            notes.append(f"{file.path}: skipped (no parser reads it)")
            continue
        if not file.named and has_no_stories(spec):
            notes.append(f"{file.path}: skipped (no stories in it)")
            continue
        problems.extend(spec.errors)
        specs.append(spec)
    problems.extend(duplicate_keys(specs))
    if problems:
        raise SpecError(problems)
    return specs, notes


class _Caller:
    """A hook caller with a different call but the same implementations (``get_hookimpls``)."""

    def __init__(self, caller: Any, call: Any) -> None:
        self._caller = caller
        self._call = call

    def __call__(self, **kwargs: Any) -> Any:
        return self._call(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._caller, name)


class _Shared:
    """What ``run_sync`` sees of the plugins during a many-spec run: parses come from the run's
    parse of every file, and the tracker hooks hand out the one open connection and the one
    listing made for all the files."""

    def __init__(self, plugins: Plugins, specs: list[Spec], connection: Connection,
                 listing: list[RemoteItem], tracker: str) -> None:
        self._plugins = plugins
        self._specs = {spec.path.resolve(): spec for spec in specs}
        self._tracker_hooks = plugins.tracker_hooks(tracker)
        self._connection = connection
        self._listing = listing
        self.hook = _HookView(plugins.hook, self._specs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._plugins, name)

    def tracker_hooks(self, tracker: str) -> Any:
        return TrackerView(self._tracker_hooks, self._connection, self._listing)


class _HookView:
    def __init__(self, hook: Any, specs: dict[Path, Spec]) -> None:
        self._hook = hook
        self._specs = specs
        self.parse_spec = _Caller(hook.parse_spec, self._parse)

    def _parse(self, path: Path, config: Any) -> Spec | None:
        spec = self._specs.get(Path(path).resolve())
        return spec if spec is not None else self._hook.parse_spec(path=path, config=config)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hook, name)


class TrackerView:
    """Tracker hooks whose ``open_tracker`` and ``read_items`` answer with the run's one
    connection and one listing."""

    def __init__(self, hooks: Any, connection: Connection, listing: list[RemoteItem]) -> None:
        self._hooks = hooks
        self.open_tracker = _Caller(hooks.open_tracker, lambda **_: connection)
        self.read_items = _Caller(hooks.read_items, lambda **_: list(listing))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hooks, name)


def run_many(
    plugins: Plugins,
    config: Config,
    files: list[SpecFile],
    request: SyncRequest,
    *,
    write_back: bool = False,
    progress: Progress | None = None,
) -> MultiResult:
    """Sync every spec of ``files`` (``request`` gives tracker, state folder, execute, only ...).

    ``request.only`` names a key in any of the files: that file alone is synced, for that key."""
    from spectryn_core.desired import build_items, select
    from spectryn_core.sync import run_sync

    specs, notes = parse_all(plugins, files, config)
    outcome = MultiResult(notes=notes, many=len(files) > 1 or any(not f.named for f in files))
    if not specs:
        return outcome
    hooks = plugins.tracker_hooks(request.tracker)
    mappers = plugins.mapper_hooks(config.get("sync.mapper") or "default")
    items_of = {id(spec): build_items(spec, tracker=request.tracker, config=config, mappers=mappers)
                for spec in specs}
    if request.only:
        owner = [s for s in specs if any(i.key == request.only for i in items_of[id(s)])]
        if not owner:
            select([], request.only)  # raises the usual "no such key" error
        specs = owner[:1]
    connection: Connection | None = hooks.open_tracker(config=config)
    if connection is None:
        raise UsageError(f"the '{request.tracker}' plugin did not open a connection")
    close = connection.close
    connection.close = lambda: None  # type: ignore[method-assign]  # one connection for all files
    try:
        all_items: list[Item] = [item for spec in specs for item in items_of[id(spec)]]
        gone, known = state_records(request.state_dir, request.tracker, connection.target, specs,
                                    items_of)
        listing = hooks.read_items(connection=connection, items=all_items, gone=sorted(gone),
                                   known=known) or []
        shared: Any = _Shared(plugins, specs, connection, listing, request.tracker)
        for spec in specs:
            result = run_sync(shared, config, replace(request, spec_path=spec.path), progress=progress)
            outcome.results.append(result)
            if write_back and result.executed and result.error is None:
                try:
                    outcome.write_backs.append(write_links(plugins, spec.path, result))
                except FileWriteError as error:
                    outcome.write_errors.append(error)
            if result.error is not None:
                break  # the tracker stopped the run: leave the other files for the next one
    finally:
        connection.close = close  # type: ignore[method-assign]
        connection.close()
    return outcome


def state_records(state_dir: Path, tracker: str, target: str, specs: list[Spec],
                  items_of: dict[int, list[Item]]) -> tuple[set[str], dict[str, str]]:
    """What the files' states know: the keys a file no longer has (to report them as orphans),
    and the tracker id of every key they recorded (found even when a title lost its key)."""
    from spectryn_core.state import SyncState, state_file

    gone: set[str] = set()
    known: dict[str, str] = {}
    for spec in specs:
        keys = {item.key for item in items_of[id(spec)]}
        state = SyncState(state_file(state_dir, tracker, target, spec.path), readonly=True)
        try:
            recorded = state.items()
        finally:
            state.close()
        gone |= set(recorded) - keys
        known.update({key: item.remote_id for key, item in recorded.items()})
    return gone, known


def issue_links(result: SyncResult) -> list[SpecEdit]:
    """An ``issue`` edit for every item of the result that has its issue now."""
    from spectryn_core.spec_edits import SpecEdit

    edits: list[SpecEdit] = []
    for change in result.plan.changes:
        remote = change.remote
        if remote is None or not remote.id or change.action in ("orphan", "duplicate"):
            continue
        if change.status in ("failed", "skipped"):
            continue
        edits.append(SpecEdit(change.key, "issue", f"#{remote.id}", remote.url))
    return edits


def write_links(plugins: Plugins, path: Path, result: SyncResult) -> FileEdit:
    """Write each item's issue link into the spec at ``path`` (atomically; only what changed)."""
    from spectryn_core.spec_edits import edit_file

    return edit_file(plugins.hook, path, issue_links(result), write=True)
