"""One sync, end to end: parse -> read -> plan -> (with ``execute``) apply.

This is the engine's entry point; the CLI builds a :class:`SyncRequest` from flags and config,
calls :func:`run_sync` and renders the :class:`SyncResult`. Each step is a function of its inputs.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from spectryn_core.apply import Applier, Progress
from spectryn_core.basetext import BaseTexts, Tally
from spectryn_core.desired import build_items
from spectryn_core.errors import (
    OwnershipError,
    SpecError,
    SpectrynError,
    TrackerError,
    UsageError,
)
from spectryn_core.items import MISSING, Account, Connection, Item, RemoteItem
from spectryn_core.model import Spec, SpecProblem
from spectryn_core.plan import EARLIER, Change, Plan, describe_extras, orphan_change, plan_item
from spectryn_core.plugins import Plugins
from spectryn_core.policy import Policy
from spectryn_core.provenance import (
    Identified,
    ItemBase,
    Trust,
    base_of,
    comments_in_base,
    earlier_comment_tags,
    extras_in_base,
    flatten,
    identify,
    item_base,
    origin_path,
    removed_comments,
    spec_origin,
    spec_root,
    still_current,
    untouched,
)
from spectryn_core.spec_history import SpecHistory
from spectryn_core.state import PENDING, ItemState, RunLock, SyncState, state_file

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
    #: Keys whose tracker item, made by hand or by someone else, this run takes over.
    adopt: tuple[str, ...] = ()
    #: Accounts whose items carrying spectryn's mark are this sync's (``sync.trusted_accounts``);
    #: empty: the mark alone decides.
    trusted_accounts: tuple[str, ...] = ()
    #: Who wins, per field, when a field changed on both sides (``sync.conflict_policy``).
    policy: Policy = field(default_factory=Policy)
    #: Check again the pull requests recorded as missing, even in items not written otherwise
    #: (``--recheck-pull-requests``): one read each.
    recheck_pull_requests: bool = False


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
    #: Base texts looked for (text merges), per source: asked, found, requests.
    base_texts: dict[str, Tally] = field(default_factory=dict)

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
        defines = _defines(plugins, config, spec_root(spec.path))
        history = SpecHistory(spec_root(spec.path))
        render_at = _renderer(plugins, config, request.tracker, mappers, hooks, connection, history)
        if request.execute:
            with lock:
                result = _sync(hooks, connection, request, items, all_items, path, progress, defines,
                               (history, render_at))
        else:
            result = _sync(hooks, connection, request, items, all_items, path, progress, defines,
                           (history, render_at))
        result.plan.warnings[:0] = [str(warning) for warning in spec.warnings]  # the parser's, first
        return result
    finally:
        connection.close()


def _renderer(plugins: Plugins, config: Config, tracker: str, mappers: Any, hooks: Any,
              connection: Connection, history: SpecHistory) -> Any:
    """``render_at(commit, origin, item, refs)`` for :class:`BaseTexts`: the item's fields as the
    spec file ``origin`` was at ``commit`` (parsed once per commit)."""
    parsed: dict[tuple[str, str], dict[str, Item] | None] = {}

    def items_at(commit: str, origin: str) -> dict[str, Item] | None:
        data = history.read(commit, origin)
        if data is None:
            return None
        with tempfile.TemporaryDirectory(prefix="spectryn-base-") as folder:
            path = Path(folder) / PurePosixPath(origin).name
            path.write_bytes(data)
            try:
                spec = plugins.hook.parse_spec(path=path, config=config)
                built = build_items(spec, tracker=tracker, config=config, mappers=mappers) if spec else []
            except (SpectrynError, ValueError) as error:  # a spec the reader of today refuses
                log.info("the spec %s at %s cannot be read now: %s", origin, commit, error)
                return None
        return {item.key: item for item in built}

    def render_at(commit: str, origin: str, item: Item, refs: dict[str, RemoteItem]) -> dict[str, Any] | None:
        if (commit, origin) not in parsed:
            parsed[commit, origin] = items_at(commit, origin)
        then = (parsed[commit, origin] or {}).get(item.key)
        if then is None:
            return None
        then.repositories = item.repositories
        rendered = hooks.render_item(connection=connection, item=then, refs=refs)
        return dict(rendered.fields) if rendered is not None else None

    return render_at


def _defines(plugins: Plugins, config: Config, root: Path) -> Any:
    """``still_defines(origin, key)`` for :func:`identify`: does the spec file a provenance
    names (under this spec's repository) still define ``key``? Each file is parsed once."""
    keys_of: dict[str, set[str] | None] = {}

    def still_defines(origin: str, key: str) -> bool:
        path = origin_path(root, origin)
        if path is None or not path.is_file():
            return False  # gone (or never a spec file here): its items move to this file
        if origin not in keys_of:
            spec = plugins.hook.parse_spec(path=path, config=config)
            keys_of[origin] = None if spec is None else spec_keys(spec)
        keys = keys_of[origin]
        return True if keys is None else key in keys

    return still_defines


def spec_keys(spec: Spec) -> set[str]:
    """Every key a spec defines: epics, stories and their subtasks."""
    keys: set[str] = set()
    for epic in spec.epics:
        if epic.key:
            keys.add(epic.key)
        for story in epic.stories:
            if story.key:
                keys.add(story.key)
                keys.update(f"{story.key}.{sub.number}" for sub in story.subtasks)
    return keys


def trust_for(request: SyncRequest, state: SyncState, state_items: dict[str, ItemState],
              connection: Connection) -> Trust:
    """What this run trusts (see :class:`spectryn_core.provenance.Trust`)."""
    accounts = state.accounts()
    if connection.account is not None:
        accounts.append(connection.account)
    return Trust(list(request.trusted_accounts), accounts,
                 {known.remote_id: key for key, known in state_items.items()}, set(request.adopt),
                 marks=connection.keeps_base)


def _sync(
    hooks: Any,
    connection: Connection,
    request: SyncRequest,
    items: list[Item],
    all_items: list[Item],
    path: Path,
    progress: Progress | None,
    defines: Any,
    git: tuple[SpecHistory, Any],
) -> SyncResult:
    history, render_at = git
    state = SyncState(path, readonly=not request.execute)
    try:
        state_items = state.items()
        extras_state = state.extras()
        trust = trust_for(request, state, state_items, connection)
        listing = _read(hooks, connection, all_items, state_items)
        origin = all_items[0].origin if all_items else spec_origin(request.spec_path)
        identified = identify(listing, all_items, origin, trust, still_defines=defines)
        if identified.clashes:
            raise OwnershipError(clash_problems(identified, all_items))
        accounts = list(trust.accounts)
        accounts += [Account(ref, aliases=(ref,)) for ref in trust.trusted]
        texts = BaseTexts(state, lambda commit, origin, item: render_at(commit, origin, item, identified.issues),
                          hooks, connection, accounts)
        plan, discovered = make_plan(
            hooks, connection, items, all_items, identified, state_items, extras_state,
            force=request.force, trust=trust, texts=texts, policy=request.policy,
            recheck=request.recheck_pull_requests,
        )
        plan.warnings[:0] = state.warnings
        for change in plan.changes:
            log.info("plan: %s %s %s %s", change.action, change.key, ",".join(change.fields),
                     ("kept tracker edits: " + ",".join(change.kept)) if change.kept else "")
        result = SyncResult(plan, request.execute, request.tracker, connection.target,
                            request.spec_path, path, base_texts=texts.tally)
        if request.execute:
            for key, found in discovered.items():
                for ident, digest in found.items():
                    state.record_extra(key, ident, digest)
                extras_state.setdefault(key, {}).update(found)
            applier = Applier(
                hooks, connection, state, dict(identified.issues), state_items, extras_state,
                workers=request.workers, force=request.force, progress=progress,
                adopted=identified.adopted, policy=request.policy, accounts=accounts,
                commit=history.commit_of(all_items[0].origin) if all_items and all_items[0].origin else None,
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
            finally:
                if connection.account is not None:
                    state.record_account(connection.account)
                state.prune_texts()
        result.requests = connection.request_count()
        return result
    finally:
        state.close()


def clash_problems(identified: Identified, items: list[Item]) -> list[SpecProblem]:
    """``file:line:`` problems for the items of another spec file that carry this spec's keys."""
    by_key = {item.key: item for item in items}
    problems = []
    for clash in identified.clashes:
        item = by_key[clash.key]
        where = f" {clash.remote.url}" if clash.remote.url else ""
        problems.append(SpecProblem(
            str(item.spec.path), item.source.line,
            f"{clash.key} is issue #{clash.remote.id}{where}, made from {clash.other}, which also "
            f"defines {clash.key}; rename it in one of them, or --adopt {clash.key} to move the "
            f"issue to {item.origin}"))
    return problems


def _read(
    hooks: Any, connection: Connection, items: list[Item], state_items: dict[str, ItemState]
) -> list[RemoteItem]:
    """The tracker's items that may concern this spec, each on its own (twins taken apart)."""
    known = {item.key for item in items}
    gone = sorted(key for key in state_items if key not in known)
    found = hooks.read_items(connection=connection, items=items, gone=gone,
                             known={key: s.remote_id for key, s in state_items.items()})
    if found is None:
        raise TrackerError("the tracker plugin does not implement read_items")
    return flatten(found)


def make_plan(
    hooks: Any,
    connection: Connection,
    items: list[Item],
    all_items: list[Item],
    identified: Identified,
    state_items: dict[str, Any],
    extras_state: dict[str, dict[str, str]],
    *,
    force: bool = False,
    trust: Trust | None = None,
    texts: BaseTexts | None = None,
    policy: Policy | None = None,
    recheck: bool = False,
) -> tuple[Plan, dict[str, dict[str, str]]]:
    """The plan for ``items``; also the extras found on the tracker for items without state
    (``recheck``: see :attr:`SyncRequest.recheck_pull_requests`)."""
    plan = Plan([])
    trust = trust or Trust()
    remote = identified.issues
    _add_warnings(plan, identified.notes)
    _add_warnings(plan, [claim.message() for claim in identified.claims
                         if claim.key not in identified.held])
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
        held = identified.held.get(item.key)
        if held is not None:
            plan.changes.append(Change(item.key, item.kind, item.title, "conflict", item=item,
                                       claimed_by=held.remote, claim_reason=held.why))
            continue
        existing = remote.get(item.key)
        known = state_items.get(item.key)
        adopted = item.key in identified.adopted
        base = ItemBase() if adopted else item_base(existing, known)
        done: dict[str, str] = {}
        if existing is not None and known is not None and known.remote_id == existing.id:
            # trust what the state recorded only while the issue it was sent to still exists
            done = dict(extras_state.get(item.key, {}))
            carried = _renamed_extras(item, done)
            if carried:  # recorded by a version that named comments by their text
                discovered.setdefault(item.key, {}).update(carried)
                done.update(carried)
        extras = item.extras()
        confirmed: dict[str, str] = {}
        if existing is not None:
            confirmed = extras_in_base(item, existing)
            fresh = {i: d for i, d in confirmed.items() if done.get(i) != d}
            if fresh:
                discovered[item.key] = fresh
                done.update(fresh)
        # a pull request recorded as missing is not looked for (it does not exist)
        missing = [e for e in extras if done.get(e.ident) not in (e.digest, MISSING)]
        unsure = (known is None or known.remote_id != (existing.id if existing else None)
                  or any(d.startswith(PENDING) for d in done.values()))
        if existing is not None and unsure and missing:
            present = hooks.read_extras(connection=connection, item=item, remote=existing) or set()
            found = {e.ident: e.digest for e in extras if e.ident in present}
            if found:
                discovered.setdefault(item.key, {}).update(found)
                done.update(found)
        lost_key = existing is not None and existing.key != item.key
        previous = comments_in_base(item, existing)
        earlier = earlier_comment_tags(item, existing)
        for extra in extras:  # by author and date only: a rank tells nothing across versions
            if earlier and extra.kind == "comment" and extra.ident.startswith("comment:@") \
                    and extra.ident not in previous and extra.ident not in done:
                previous[extra.ident] = EARLIER + ".".join(earlier)
        change = plan_item(item, rendered, existing, base, done, force=force or adopted,
                           title_lost_key=lost_key, policy=policy, previous=previous, recheck=recheck)
        if change.needs_text and existing is not None and texts is not None:
            bases: dict[str, str] = {}
            sources: dict[str, str] = {}
            for name in change.needs_text:
                last = base.field(name, existing.fields.get(name))
                hit = texts.find(item, existing, name, last[0]) if last is not None else None
                if hit is not None:
                    bases[name], sources[name] = hit
            if bases:
                change = plan_item(item, rendered, existing, base, done, force=force or adopted,
                                   title_lost_key=lost_key, texts=bases, policy=policy,
                                   previous=previous, recheck=recheck)
                change.base_sources = sources
        if adopted or item.key in identified.moved:
            change.takeover = True
            if change.action == "unchanged":
                change.action = "update"  # a write that gives it this spec's provenance
        if lost_key and existing is not None and "title" in change.fields:
            _add_warnings(plan, [f"#{existing.id} is {item.key}'s issue (its provenance or the state "
                                 f"says so) but its title {existing.fields.get('title')!r} lost the "
                                 "key; the spec's title is sent back"])
        change.unconfirmed = bool(
            existing is not None and base_of(existing) is not None
            and set(confirmed) != set(still_current(item, done))
        )
        change.removed_comments = removed_comments(item, existing)
        if change.removed_comments and existing is not None:
            _add_warnings(plan, [
                f"{item.spec.path}:{item.source.line}: {item.key}: {change.removed_comments} "
                f"comment(s) removed from the spec; kept in {_tracker_name(connection)} #{existing.id} "
                "(spectryn never deletes a comment) - reported until the issue is next written"])
        skipped = [e for e in change.extras if e.kind in unsupported]
        if skipped:
            change.extras = [e for e in change.extras if e.kind not in unsupported]
            if change.action == "update" and not change.fields and not change.extras:
                change.action = "unchanged"
            kinds = sorted({e.kind.replace("_", " ") for e in skipped})
            _add_warnings(plan, [f"this tracker does not support {', '.join(kinds)}s; not sent"])
        plan.changes.append(change)
        twins = identified.twins.get(item.key, [])
        if existing is not None and twins:
            plan.changes.extend(_twins(hooks, connection, plan, item, existing, twins, trust))
    selected = {item.key for item in items}
    for key, orphan in sorted(identified.orphans.items()):
        parent = key.rsplit(".", 1)[0]
        if len(selected) == len(all_items) or parent in selected:
            plan.changes.append(orphan_change(key, orphan))
    return plan, discovered


def _tracker_name(connection: Connection) -> str:
    return connection.tracker.capitalize() if connection.tracker else "the tracker"


def _renamed_extras(item: Item, done: dict[str, str]) -> dict[str, str]:
    """The item's comments a state of an earlier version recorded by their text's digest
    (``comment:<digest>``), under the idents they have now (their positions)."""
    found: dict[str, str] = {}
    for extra in item.extras():
        old_ident, old_digest = extra.legacy
        if extra.kind == "comment" and extra.ident not in done and old_ident != extra.ident \
                and done.get(old_ident) == old_digest:
            found[extra.ident] = extra.digest
    return found


def _twins(hooks: Any, connection: Connection, plan: Plan, item: Item, kept: RemoteItem,
           twins: list[RemoteItem], trust: Trust) -> list[Change]:
    """Later issues of ours carrying the key of ``kept``: marked duplicates when spectryn made
    them and nobody but the sync touched them since (and the tracker can do it), else reported
    with both links. Proving "nobody touched it" asks the tracker (``read_touches``: Bitbucket
    reads the twin's comments and change records) - only for twins whose fields still match
    their base, and twins are rare."""
    changes: list[Change] = []
    can = bool(hooks.resolve_duplicate.get_hookimpls())
    for twin in twins:
        if twin.fields.get("state") == "duplicate":
            continue
        why = ""
        if not can:
            why = "this tracker plugin cannot mark duplicates"
        elif not untouched(twin):
            why = ("it was changed since spectryn made it" if twin.base
                   else "spectryn did not make it, or it was made before merge bases were kept")
        else:
            accounts = list(trust.accounts)
            if twin.reporter is not None and not any(a.id == twin.reporter.id for a in accounts):
                accounts.append(twin.reporter)  # the account that made a twin of ours is the sync's
            touches = hooks.read_touches(connection=connection, item=item, remote=twin,
                                         accounts=_accounts(accounts))
            if touches:
                why = "people touched it: " + "; ".join(touches)
        if not why:
            changes.append(Change(item.key, item.kind, item.title, "duplicate", item=item,
                                  remote=twin, kept_remote=kept))
            continue
        _add_warnings(plan, [
            f"two issues carry key {item.key}: #{kept.id} {kept.url} (kept) and #{twin.id} "
            f"{twin.url} ({why}); left open - close one by hand"
        ])
    return changes


def _accounts(accounts: list[Account]) -> list[Account]:
    seen: dict[str, Account] = {}
    for account in accounts:
        seen.setdefault(account.id, account)
    return list(seen.values())


def _add_warnings(plan: Plan, warnings: list[str]) -> None:
    for warning in warnings:
        if warning not in plan.warnings:
            plan.warnings.append(warning)
