"""Applying a plan: parents before children, bounded parallel writes, state saved after each one.

Work happens in passes:

1. items, level by level (epics, stories, subtasks); each item is rendered again just before it is
   sent, so a subtask created after its story already names the story's new id. Content only
   ever names items that exist before it (a subtask its story, a story its epic; a parent lists
   its children by key), so each item is written once: no fix-up pass;
2. twins left by two runs at once that nobody touched since are marked duplicates;
3. the add-once extras (comments, attachments, pull-request links);
4. for a tracker that keeps the merge base in the item (``Connection.keeps_base``), one update
   per item whose extras were sent in this run, so the base it carries confirms them and a run
   on a fresh machine does not have to read them back.

Each create/update carries the new merge base and provenance (``base=``, see
:func:`spectryn_core.provenance.new_base`); the state records the generation it gave the item.

Writes run on a thread pool (``workers``); recording results in the state happens on the calling
thread, right after each write returns, so a killed run loses at most the writes in flight - and
those are found again by key on the next run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from spectryn_core.desired import LEVELS
from spectryn_core.errors import ItemError, TrackerError
from spectryn_core.items import MISSING, Account, Connection, Extra, Item, RemoteItem, value_digest
from spectryn_core.plan import Change, Plan, plan_item
from spectryn_core.policy import Policy
from spectryn_core.provenance import (
    ItemBase,
    comments_in_base,
    extras_in_base,
    generation_after,
    item_base,
    new_base,
    normalise,
    still_current,
)
from spectryn_core.state import PENDING, ItemState, SyncState

log = logging.getLogger("spectryn.apply")

#: ``progress(done, total, key, eta)``: writes made so far in this apply, every write the plan will
#: make (each at the tracker's :meth:`~spectryn_core.items.Connection.writes_for`; reads such as a
#: pull request's existence check are not counted), the item last written, and the seconds still
#: to go (including waits for the tracker's request quota, when its plugin counts one), or None
#: before there is anything to go by.
Progress = Callable[[int, int, str, "float | None"], None]
#: Up to this many creates, issues are created one at a time in the spec's order (a story, then
#: its subtasks), so their numbers follow the file; above it, in parallel (see README).
ORDERED_CREATES = 40
#: One write to run: the change, the call, what to record on success, whether it is the item's
#: own write (True) or one of its extras (False), and its kind for counting (``create``,
#: ``update``, ``comment``, ``attachment``, ``more_attachments``, ``pull_request``, ``duplicate``).
Task = tuple[Change, Callable[[], Any], Callable[[Change, Any], None], bool, str]


@dataclass
class Applier:
    """Applies one plan through the chosen tracker's hooks."""

    hooks: Any
    connection: Connection
    state: SyncState
    refs: dict[str, RemoteItem]
    state_items: dict[str, ItemState]
    extras_done: dict[str, dict[str, str]]
    workers: int = 8
    force: bool = False
    progress: Progress | None = None
    #: Keys whose tracker item is taken over in this run: the spec's values are sent.
    adopted: set[str] = field(default_factory=set)
    #: Who wins per field when both sides changed (as planned).
    policy: Policy = field(default_factory=Policy)
    #: The commit the spec was read at, when it is committed as read (recorded in each base).
    commit: str | None = None
    #: The accounts the sync writes as (see :class:`spectryn_core.provenance.Trust`): only a
    #: comment one of them wrote (or the issue's reporter) is ever edited.
    accounts: list[Account] = field(default_factory=list)
    writes: int = 0
    _failed: set[str] = field(default_factory=set)
    _total: int = 0
    _total_requests: int = 0
    _done: int = 0
    _started: float = 0.0
    _base_count: int = 0

    def apply(self, plan: Plan) -> None:
        active = [c for c in plan.changes if c.item is not None and c.action != "conflict"]
        self._total = self.planned(plan, self.connection.writes_for)
        self._total_requests = self.planned_requests(plan)
        self._started = time.monotonic()
        self._base_count = sum(self.connection.request_count().values())
        writes = [c for c in active if c.action != "duplicate" and c.pending]
        creates = [c for c in writes if c.action == "create"]
        if 1 < len(creates) <= ORDERED_CREATES:
            for change in creates:  # file order: a parent always comes before its children
                self._write_items([change])
            writes = [c for c in writes if c.action != "create"]
        for level in LEVELS:
            self._write_items([c for c in writes if c.kind == level])
        self._resolve_duplicates([c for c in active if c.action == "duplicate"])
        self._send_extras([c for c in active if c.key not in self._failed and c.extras
                           and c.action != "duplicate"])
        self._confirm_extras([c for c in active if (c.sent or c.missing or c.unconfirmed)
                              and c.key not in self._failed])
        self._record_baselines([c for c in active if c.action == "unchanged"])

    def planned_requests(self, plan: Plan) -> int:
        """The requests applying ``plan`` sends when nothing fails: each created or updated
        item, each extra, each duplicate marked, and one base update per item whose extras are
        then confirmed in the base it carries - each at the tracker's cost
        (:meth:`Connection.requests_for`)."""
        return self.planned(plan, self.connection.requests_for)

    def planned(self, plan: Plan, cost: Callable[[str], int]) -> int:
        """The plan's writes counted at ``cost`` per kind of write (requests, or writes only)."""
        total = 0
        for change in plan.changes:
            if change.item is None or change.action == "conflict":
                continue
            if change.action == "duplicate":
                total += cost("duplicate")
                continue
            if change.action == "create":
                total += cost("create")
            elif change.fields or change.takeover:
                total += cost("update")
            kinds = [_cost_kind(extra) for extra in change.extras]
            total += sum(cost(kind) for kind in kinds if kind != "attachment")
            if "attachment" in kinds:
                total += cost("attachment") + cost("more_attachments") * (kinds.count("attachment") - 1)
            if (change.extras or change.unconfirmed) and self.connection.keeps_base:
                total += cost("update")
        return total

    # --- passes -----------------------------------------------------------------------------

    def _write_items(self, changes: list[Change]) -> None:
        tasks: list[Task] = []
        for change in changes:
            item = change.item
            assert item is not None
            if item.parent in self._failed:
                change.status = "skipped"
                change.error = f"not sent: its parent {item.parent} failed"
                self._failed.add(change.key)
                continue
            rendered = self.hooks.render_item(connection=self.connection, item=item, refs=self.refs)
            remote = self.refs.get(change.key)
            base = self._base(change.key, remote)
            adopted = change.key in self.adopted
            fresh = plan_item(item, rendered, remote, base, {}, force=self.force or adopted,
                              title_lost_key=remote is not None and remote.key != item.key,
                              texts=change.bases, policy=self.policy)
            if fresh.action == "conflict":
                # re-rendered with the ids known now, it conflicts with the tracker as read at
                # the start of the run (nothing is read again during a run): leave it for the user
                change.action, change.fields, change.extras = "conflict", fresh.fields, []
                continue
            done = self._extras_known(item, remote)
            if remote is None:
                fields = dict(rendered.fields)
                record = new_base(item, rendered.fields, None, base, set(fields), {}, commit=self.commit)
                call = _bind(self.hooks.create_item, connection=self.connection, item=item,
                             fields=fields, base=record)
            elif fresh.fields or change.takeover:
                fields = {name: fresh.send.get(name, rendered.fields[name]) for name in fresh.fields}
                record = new_base(item, rendered.fields, remote, base, set(fields), done,
                                  values=fresh.send, commit=self.commit)
                call = _bind(self.hooks.update_item, connection=self.connection, item=item,
                             remote=remote, changes=fields, base=record)
            else:
                if change.status == "planned" and not change.extras:
                    change.status = "done"
                continue
            tasks.append((change, call,
                          self._item_recorder(rendered.fields, fields, remote, record), True,
                          "create" if remote is None else "update"))
        self._run(tasks)

    def _base(self, key: str, remote: RemoteItem | None) -> ItemBase:
        """The merge base of ``key``'s item as known now (none for an item being taken over)."""
        if key in self.adopted and remote is not None:
            generation = remote.provenance.generation if remote.provenance is not None else 0
            return ItemBase(generation=generation)
        return item_base(remote, self.state_items.get(key))

    def _extras_known(self, item: Item, remote: RemoteItem | None) -> dict[str, str]:
        """The item's extras known to be on the tracker (state cache, or the item's base), with
        the digest they were sent with (a comment the spec edited since: its earlier text's)."""
        if remote is None:
            return {}
        state = {ident: digest for ident, digest in self.extras_done.get(item.key, {}).items()
                 if not digest.startswith(PENDING)}
        base = {**comments_in_base(item, remote), **extras_in_base(item, remote)}
        current = {e.ident: e.digest for e in item.extras()}
        known = {**state, **base}  # the base is the newest record across machines ...
        for ident, digest in current.items():  # ... but what either knows is sent as it is now is
            if digest in (state.get(ident), base.get(ident)):
                known[ident] = digest
        return known

    def _resolve_duplicates(self, changes: list[Change]) -> None:
        tasks: list[Task] = []
        for change in changes:
            kept = self.refs.get(change.key)
            if kept is None or change.remote is None:
                continue
            call = _bind(self.hooks.resolve_duplicate, connection=self.connection,
                         item=change.item, duplicate=change.remote, kept=kept)
            tasks.append((change, call, _mark_done, True, "duplicate"))
        self._run(tasks)

    def _confirm_extras(self, changes: list[Change]) -> None:
        """One base-only update per item whose extras were sent in this run (trackers that keep
        the base in the item): a run on a fresh machine then knows they were sent."""
        if not self.connection.keeps_base:
            return
        tasks: list[Task] = []
        for change in changes:
            item, remote = change.item, self.refs.get(change.key)
            if item is None or remote is None:
                continue
            done = self._extras_known(item, remote)
            if extras_in_base(item, remote) == still_current(item, done):
                continue
            rendered = self.hooks.render_item(connection=self.connection, item=item, refs=self.refs)
            record = new_base(item, rendered.fields, remote, self._base(change.key, remote),
                              set(), done)
            call = _bind(self.hooks.update_item, connection=self.connection, item=item,
                         remote=remote, changes={}, base=record)
            tasks.append((change, call, self._base_recorder(remote, record), False, "update"))
        self._run(tasks)

    def _base_recorder(self, before: RemoteItem, base: dict[str, str]) -> Callable[[Change, Any], None]:
        def record(change: Change, result: Any) -> None:
            remote = result if isinstance(result, RemoteItem) else before
            _carry(remote, base)
            self.refs[change.key] = remote
            known = self.state_items.get(change.key)
            if known is not None and known.remote_id == remote.id:
                known.generation = generation_after(base)
                self.state.record_item(change.key, remote.id, remote.url, {}, known.generation)

        return record

    def _send_extras(self, changes: list[Change]) -> None:
        tasks: list[Task] = []
        for change in changes:
            remote = self.refs.get(change.key)
            if remote is None:
                continue
            first_attachment = True
            for extra in change.extras:
                # written before sending: if the run dies mid-request, the next run asks the
                # tracker whether this extra arrived instead of sending it twice
                self.state.record_extra(change.key, extra.ident, PENDING + extra.digest)
                call = self._extra_call(change, remote, extra)
                kind = _cost_kind(extra)
                if kind == "attachment":
                    kind = "attachment" if first_attachment else "more_attachments"
                    first_attachment = False
                tasks.append((change, call, self._extra_recorder(extra), False, kind))
        self._run(tasks)

    def _record_baselines(self, changes: list[Change]) -> None:
        """Unchanged items with no state yet (lost state, first run here): remember them now,
        so the next run can tell an edit in the tracker from an edit in the file."""
        for change in changes:
            remote = self.refs.get(change.key)
            if remote is None or change.key in self.state_items or change.item is None:
                continue
            rendered = self.hooks.render_item(connection=self.connection, item=change.item,
                                              refs=self.refs)
            generation = remote.provenance.generation if remote.provenance is not None else 0
            self._record(change.key, rendered.fields, {}, remote, remote, generation)

    # --- recording --------------------------------------------------------------------------

    def _item_recorder(
        self, rendered: dict[str, Any], sent: dict[str, Any], before: RemoteItem | None,
        base: dict[str, str],
    ) -> Callable[[Change, Any], None]:
        def record(change: Change, result: RemoteItem) -> None:
            if result is None:
                raise ItemError(f"{change.key}: the tracker plugin returned nothing")
            if before is None or before.id != result.id:
                # a new issue (perhaps re-created after one was deleted): whatever the state
                # recorded as sent went to the old one
                self.state.forget_extras(change.key)
                self.extras_done.pop(change.key, None)
            self._record(change.key, rendered, sent, result, before, generation_after(base))
            if self.connection.keeps_base:
                _carry(result, base)
            self.refs[change.key] = result
            change.remote = result
            if change.status != "failed":  # a failed extra of this item stays reported
                change.status = "done"

        return record

    def _record(
        self,
        key: str,
        rendered: dict[str, Any],
        sent: dict[str, Any],
        result: RemoteItem,
        before: RemoteItem | None,
        generation: int,
    ) -> None:
        """Record in the state what was sent (``sent``: name -> value; a merged text is not the
        spec's ``rendered`` value) and seen back, and the spec's texts as agreed."""
        pairs: dict[str, tuple[str, str]] = {}
        previous = before.fields if before else {}
        for name, wanted in rendered.items():
            # a plugin that leaves a field out of its answer is taken to hold what was sent
            have = result.fields.get(name, sent[name] if name in sent else previous.get(name))
            if name in sent or value_digest(wanted) == value_digest(have):
                pairs[name] = (value_digest(wanted), value_digest(have))
                if isinstance(wanted, str) and "\n" in wanted:
                    self.state.record_text(wanted)
        self.state.record_item(key, result.id, result.url, pairs, generation)
        known = self.state_items.get(key)
        if known is None or known.remote_id != result.id:
            known = self.state_items[key] = ItemState(key, result.id, result.url)
        known.url, known.generation = result.url, generation
        known.fields.update(pairs)

    def _extra_recorder(self, extra: Extra) -> Callable[[Change, Any], None]:
        def record(change: Change, result: Any) -> None:
            # a pull-request link answers False when the pull request does not exist
            missing = extra.kind == "pull_request" and result is False
            digest = MISSING if missing else extra.digest
            self.state.record_extra(change.key, extra.ident, digest)
            self.extras_done.setdefault(change.key, {})[extra.ident] = digest
            (change.missing if missing else change.sent).add(extra.ident)
            if change.status == "planned":
                change.status = "done"

        return record

    def _extra_call(self, change: Change, remote: RemoteItem, extra: Extra) -> Callable[[], Any]:
        common = {"connection": self.connection, "item": change.item, "remote": remote}
        if extra.kind == "comment" and (extra.previous or extra.earlier) \
                and self.hooks.edit_comment.get_hookimpls():
            accounts = list(self.accounts)
            if remote.reporter is not None and all(a.id != remote.reporter.id for a in accounts):
                accounts.append(remote.reporter)  # the account that made an issue of ours is the sync's
            edit = _bind(self.hooks.edit_comment, comment=extra.payload, previous=extra.previous,
                         accounts=accounts, earlier=list(extra.earlier), **common)
            add = _bind(self.hooks.add_comment, comment=extra.payload, **common)
            # not found (deleted in the tracker): the spec's comment is added again
            return lambda: edit() or add()
        if extra.kind == "comment":
            return _bind(self.hooks.add_comment, comment=extra.payload, **common)
        if extra.kind == "attachment":
            return _bind(self.hooks.upload_attachment, attachment=extra.payload, **common)
        return _bind(self.hooks.link_pull_request, number=extra.payload, **common)

    # --- running ----------------------------------------------------------------------------

    def _run(self, tasks: list[Task]) -> None:
        if not tasks:
            return
        abort: BaseException | None = None
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            futures: dict[Future[Any], tuple[Change, Callable[[Change, Any], None], bool, str]] = {
                pool.submit(call): (change, on_done, whole, kind)
                for change, call, on_done, whole, kind in tasks
            }
            try:
                for future in as_completed(futures):
                    change, on_done, whole, kind = futures.pop(future)
                    abort = self._finish(change, future, on_done, whole, kind) or abort
                    if abort is not None:
                        for pending in futures:
                            pending.cancel()
            except BaseException:  # Ctrl-C: keep what finished, then stop
                pool.shutdown(wait=True, cancel_futures=True)
                for future, (change, on_done, whole, kind) in futures.items():
                    if future.done() and not future.cancelled():
                        self._finish(change, future, on_done, whole, kind)
                raise
        if abort is not None:
            raise abort

    def _finish(
        self, change: Change, future: Future[Any], on_done: Callable[[Change, Any], None],
        whole: bool, kind: str,
    ) -> BaseException | None:
        if future.cancelled():
            change.status = "skipped"
            change.error = "not sent: the run stopped on an earlier error"
            return None
        try:
            on_done(change, future.result())
        except ItemError as error:
            self._fail(change, error.message, whole)
        except TrackerError as error:
            self._fail(change, error.message, whole)
            return error
        except Exception as error:  # a plugin bug must not lose the results of the others
            log.exception("unexpected error while writing %s", change.key)
            self._fail(change, f"{type(error).__name__}: {error}", whole)
        else:
            self.writes += 1
            self._done += self.connection.writes_for(kind)
            if self.progress is not None:
                total = max(self._total, self._done)
                self.progress(self._done, total, change.key, self._eta(self._done, total))
        return None

    def _eta(self, done: int, total: int) -> float | None:
        """Seconds still to go: the pace so far, or the tracker's quota if that is slower (for
        the requests still to send, reads included)."""
        if done <= 0:
            return None
        left = total - done
        eta = (time.monotonic() - self._started) / done * left
        budget = self.connection.quota()
        if budget is not None and left > 0:
            sent = sum(self.connection.request_count().values()) - self._base_count
            eta = max(eta, budget.seconds_until(max(left, self._total_requests - sent)))
        return eta

    def _fail(self, change: Change, message: str, whole: bool) -> None:
        """Record a failure. ``whole``: the item's own write failed (the change is failed, and an
        item not in the tracker yet holds back its children); otherwise one of its comments,
        attachments or pull-request links failed: the item stays done, with the error noted."""
        change.error = f"{change.error}; {message}" if change.error else message
        if whole:
            change.status = "failed"
            if change.key not in self.refs:
                self._failed.add(change.key)
        # the report prints it (FAILED / ERROR on the item's line, "error" in JSON): on the console
        # once, in the run log for the record
        log.info("failed: %s: %s", change.key, message)


def _cost_kind(extra: Extra) -> str:
    """The kind of write an extra is, for :meth:`Connection.requests_for`: an edited comment
    is ``comment_edit``."""
    return "comment_edit" if extra.kind == "comment" and (extra.previous or extra.earlier) else extra.kind


def _carry(remote: RemoteItem, base: dict[str, str]) -> None:
    """Set the base (and provenance) a write just gave ``remote``, as a later read would see it."""
    remote.base, remote.provenance = dict(base), None
    normalise(remote)


def _mark_done(change: Change, _result: Any) -> None:
    change.status = "done"


def _bind(func: Callable[..., Any], **kwargs: Any) -> Callable[[], Any]:
    return lambda: func(**kwargs)
