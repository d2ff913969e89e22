"""One sync, end to end: parse -> read -> plan -> (with ``execute``) apply.

This is the engine's entry point; the CLI builds a :class:`SyncRequest` from flags and config,
calls :func:`run_sync` and renders the :class:`SyncResult`. Each step is a function of its inputs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectryn_core.apply import Applier, Progress
from spectryn_core.desired import build_items
from spectryn_core.errors import SpecError, SpectrynError, TrackerError, UsageError
from spectryn_core.items import Connection, Item, RemoteItem, value_digest
from spectryn_core.model import Spec
from spectryn_core.plan import (
    EXTRAS,
    Change,
    Plan,
    describe_extras,
    extras_in_base,
    orphans,
    plan_item,
)
from spectryn_core.plugins import Plugins
from spectryn_core.state import PENDING, RunLock, SyncState, state_file

if TYPE_CHECKING:
    from spectryn_core.config import Config

log = logging.getLogger("spectryn.sync")

EXTRA_HOOKS = {"comment": "add_comment", "attachment": "upload_attachment",
               "pull_request": "link_pull_request"}


@dataclass
class SyncRequest:
    """What the user asked for."""

    spec_path: Path
    tracker: str
    state_dir: Path
    execute: bool = False
    only: str | None = None
    force: bool = False
    workers: int = 8


@dataclass
class SyncResult:
    """The plan, and after ``execute`` how each change went."""

    plan: Plan
    executed: bool
    tracker: str
    target: str
    spec_path: Path
    state_path: Path
    requests: dict[str, int] = field(default_factory=dict)
    #: The error that stopped an ``execute`` part-way (what was done before it is in the plan).
    error: SpectrynError | None = None

    @property
    def failed(self) -> list[Change]:
        """Changes that failed, were skipped, or are done with an error in an extra."""
        return [c for c in self.plan.changes if c.status in ("failed", "skipped") or c.error]


def parse(plugins: Plugins, path: Path, config: Config) -> Spec:
    """Parse ``path`` with the first parser plugin that takes it; raise on any spec problem."""
    if not path.exists():  # a FIFO or a device exists: the parser reports it, never reads it
        raise UsageError(f"{path}: no such file", "give the path of your spec, e.g. --markdown EPIC.md")
    spec: Spec | None = plugins.hook.parse_spec(path=path, config=config)
    if spec is None:
        hint = "pip install 'spectryn[markdown]'"
        for info in plugins.infos:
            if info.name == "markdown" and info.error:
                hint = info.hint
        raise UsageError(f"{path}: no installed parser reads this file", hint)
    if spec.errors:
        raise SpecError(spec.errors)
    return spec


def run_sync(
    plugins: Plugins, config: Config, request: SyncRequest, progress: Progress | None = None
) -> SyncResult:
    """Plan the sync of ``request.spec_path`` and, with ``request.execute``, apply it."""
    spec = parse(plugins, request.spec_path, config)
    hooks = plugins.tracker_hooks(request.tracker)
    mappers = plugins.mapper_hooks(config.get("sync.mapper") or "default")
    all_items = build_items(spec, tracker=request.tracker, config=config, mappers=mappers)
    items = build_items(
        spec, tracker=request.tracker, config=config, mappers=mappers, only=request.only
    ) if request.only else all_items

    connection: Connection | None = hooks.open_tracker(config=config)
    if connection is None:
        raise UsageError(f"the '{request.tracker}' plugin did not open a connection")
    for item in {id(i): i for i in [*all_items, *items]}.values():
        item.repositories = connection.repositories
    try:
        path = state_file(request.state_dir, request.tracker, connection.target, spec.path)
        lock = RunLock(request.state_dir, request.tracker, connection.target)
        if request.execute:
            with lock:
                result = _sync(hooks, connection, request, items, all_items, path, progress)
        else:
            result = _sync(hooks, connection, request, items, all_items, path, progress)
        result.plan.warnings[:0] = [str(warning) for warning in spec.warnings]  # the parser's, first
        return result
    finally:
        connection.close()


def _sync(
    hooks: Any,
    connection: Connection,
    request: SyncRequest,
    items: list[Item],
    all_items: list[Item],
    path: Path,
    progress: Progress | None,
) -> SyncResult:
    state = SyncState(path, readonly=not request.execute)
    try:
        state_items = state.items()
        extras_state = state.extras()
        remote = _read(hooks, connection, all_items, set(state_items))
        plan, discovered = make_plan(
            hooks, connection, items, all_items, remote, state_items, extras_state,
            force=request.force,
        )
        plan.warnings[:0] = state.warnings
        for change in plan.changes:
            log.info("plan: %s %s %s %s", change.action, change.key, ",".join(change.fields),
                     ("kept tracker edits: " + ",".join(change.kept)) if change.kept else "")
        result = SyncResult(plan, request.execute, request.tracker, connection.target,
                            request.spec_path, path)
        if request.execute:
            for key, found in discovered.items():
                for ident, digest in found.items():
                    state.record_extra(key, ident, digest)
                extras_state.setdefault(key, {}).update(found)
            applier = Applier(
                hooks, connection, state, dict(remote), state_items, extras_state,
                workers=request.workers, force=request.force, progress=progress,
            )
            try:
                applier.apply(plan)
            except TrackerError as error:  # stop, but still report what was done before it
                result.error = error
                stopped = f"the run stopped ({error.message})"
                for change in plan.changes:
                    if change.status == "planned" and (change.pending or change.extras):
                        change.status = "skipped"
                        change.error = change.error or f"not sent: {stopped}"
                    elif change.status == "done" and change.unsent_extras:
                        unsent = ", ".join(describe_extras(change.unsent_extras))
                        note = f"not sent: {unsent} ({stopped}; the next run sends them)"
                        change.error = f"{change.error}; {note}" if change.error else note
        result.requests = connection.request_count()
        return result
    finally:
        state.close()


def _read(
    hooks: Any, connection: Connection, items: list[Item], state_keys: set[str]
) -> dict[str, RemoteItem]:
    """The tracker's items that belong to this spec, by key."""
    known = {item.key for item in items}
    gone = sorted(key for key in state_keys if key not in known)
    found = hooks.read_items(connection=connection, items=items, gone=gone)
    if found is None:
        raise TrackerError("the tracker plugin does not implement read_items")
    wanted = {item.key for item in items} | state_keys
    stories = {item.key for item in items if item.kind == "story"}
    remote: dict[str, RemoteItem] = {}
    for item in found:
        parent = item.key.rsplit(".", 1)[0]
        if item.key in wanted or parent in stories:
            remote.setdefault(item.key, item)
    return remote


def make_plan(
    hooks: Any,
    connection: Connection,
    items: list[Item],
    all_items: list[Item],
    remote: dict[str, RemoteItem],
    state_items: dict[str, Any],
    extras_state: dict[str, dict[str, str]],
    *,
    force: bool = False,
) -> tuple[Plan, dict[str, dict[str, str]]]:
    """The plan for ``items``; also the extras found on the tracker for items without state."""
    plan = Plan([])
    discovered: dict[str, dict[str, str]] = {}
    unsupported = {
        kind for kind, hook in EXTRA_HOOKS.items() if not getattr(hooks, hook).get_hookimpls()
    }
    for item in items:
        rendered = hooks.render_item(connection=connection, item=item, refs=remote)
        if rendered is None:
            raise TrackerError(f"the tracker plugin cannot render {item.kind} {item.key}")
        _add_warnings(plan, rendered.warnings)
        if rendered.skip:
            continue
        existing = remote.get(item.key)
        known = state_items.get(item.key)
        done: dict[str, str] = {}
        if existing is not None and known is not None and known.remote_id == existing.id:
            # trust what the state recorded only while the issue it was sent to still exists
            done = dict(extras_state.get(item.key, {}))
        extras = item.extras()
        if existing is not None:
            confirmed = extras_in_base(item, existing.base)
            fresh = {i: d for i, d in confirmed.items() if done.get(i) != d}
            if fresh:
                discovered[item.key] = fresh
                done.update(fresh)
        missing = [e for e in extras if done.get(e.ident) != e.digest]
        unsure = (known is None or known.remote_id != (existing.id if existing else None)
                  or any(d.startswith(PENDING) for d in done.values()))
        if existing is not None and unsure and missing:
            present = hooks.read_extras(connection=connection, item=item, remote=existing) or set()
            found = {e.ident: e.digest for e in extras if e.ident in present}
            if found:
                discovered.setdefault(item.key, {}).update(found)
                done.update(found)
        change = plan_item(item, rendered, existing, state_items.get(item.key), done, force=force)
        change.unconfirmed = bool(
            existing is not None and existing.base is not None
            and set(extras_in_base(item, existing.base)) != {i for i in done if i in
                                                             {e.ident for e in extras}}
        )
        skipped = [e for e in change.extras if e.kind in unsupported]
        if skipped:
            change.extras = [e for e in change.extras if e.kind not in unsupported]
            if change.action == "update" and not change.fields and not change.extras:
                change.action = "unchanged"
            kinds = sorted({e.kind.replace("_", " ") for e in skipped})
            _add_warnings(plan, [f"this tracker does not support {', '.join(kinds)}s; not sent"])
        plan.changes.append(change)
        if existing is not None and existing.twins:
            plan.changes.extend(_twins(hooks, plan, item, existing))
    selected = {item.key for item in items}
    for change in orphans(all_items, remote, set(state_items)):
        parent = change.key.rsplit(".", 1)[0]
        if len(selected) == len(all_items) or parent in selected:
            plan.changes.append(change)
    return plan, discovered


def untouched(remote: RemoteItem) -> bool:
    """True when ``remote`` carries a base and every field still has the value it records."""
    if not remote.base:
        return False
    return all(
        name not in remote.fields or value_digest(remote.fields[name])[: len(digest)] == digest
        for name, digest in remote.base.items() if name != EXTRAS
    )


def _twins(hooks: Any, plan: Plan, item: Item, kept: RemoteItem) -> list[Change]:
    """Later issues carrying the key of ``kept``: marked duplicates when spectryn made them and
    nobody touched them since (and the tracker can do it), else reported with both links."""
    changes: list[Change] = []
    can = bool(hooks.resolve_duplicate.get_hookimpls())
    for twin in kept.twins:
        if twin.fields.get("state") == "duplicate":
            continue
        if can and untouched(twin):
            changes.append(Change(item.key, item.kind, item.title, "duplicate", item=item,
                                  remote=twin, kept_remote=kept))
            continue
        why = ("it was changed since spectryn made it" if twin.base
               else "spectryn did not make it, or it was made before merge bases were kept")
        if not can:
            why = "this tracker plugin cannot mark duplicates"
        _add_warnings(plan, [
            f"two issues carry key {item.key}: #{kept.id} {kept.url} (kept) and #{twin.id} "
            f"{twin.url} ({why}); left open - close one by hand"
        ])
    return changes


def _add_warnings(plan: Plan, warnings: list[str]) -> None:
    for warning in warnings:
        if warning not in plan.warnings:
            plan.warnings.append(warning)
