"""An in-memory tracker plugin for engine tests: keeps issues in a dict and counts writes.

It renders like a real tracker does: the story's content lists its subtasks by key, a subtask
names its parent by id (``Parent: #3``), so parents must be written before their children. Like
Bitbucket it keeps the merge base with each issue (``keep_base``; switch it off to act as a
third-party plugin that does not), and reports two issues with one key as twins.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

from spectryn_core import Connection, ItemError, RemoteItem, Rendered, TrackerError, hookimpl
from spectryn_core.items import Account

#: The account the test tracker's syncs write as (the reporter of what create_item makes).
SYNC = Account("{sync}", "Sync bot", ("sync-bot",))


class MemoryConnection(Connection):
    def __init__(self, store: MemoryTracker) -> None:
        self.tracker = store.name
        self.target = f"memory/{store.name}"
        self.store = store

    def request_count(self) -> dict[str, int]:
        return {"read": self.store.reads, "write": self.store.writes}


class MemoryTracker:
    """A tracker plugin object; register it with ``plugins.pm.register(tracker, name=...)``."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str]] = {}
        self.attachments: dict[str, dict[str, bytes]] = {}
        self.pr_links: dict[str, set[int]] = {}
        self.reads = 0
        self.writes = 0
        self.write_log: list[tuple[str, str, tuple[str, ...]]] = []
        self.fail_on: set[str] = set()  # keys whose create/update raise ItemError
        self.abort_on: set[str] = set()  # keys whose create raises TrackerError (stops the run)
        self.fail_comments = False  # add_comment raises ItemError
        self.crash_after: int | None = None  # raise KeyboardInterrupt after this many writes
        self.epics_as_issues = False  # epics become issues; a story's content names its epic
        self.keep_base = True  # store the merge base with each issue (like Bitbucket)
        self.bases: dict[str, dict[str, str]] = {}
        self.reporters: dict[str, Account] = {}  # who made each issue (like Bitbucket's reporter)
        self.report_makers = False  # give RemoteItem.reporter and Connection.account
        self.drop_from_answers: set[str] = set()  # fields left out of update answers
        self.shout_titles = False  # store titles upper-cased (a tracker that normalises)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- helpers for tests -------------------------------------------------------------------

    def by_key(self) -> dict[str, dict[str, Any]]:
        return {issue["title"].split(":", 1)[0]: issue for issue in self.issues.values()}

    def add_by_hand(self, title: str, content: str = "", reporter: Account | None = None) -> str:
        """An issue someone made in the tracker (not through a sync); returns its id."""
        with self._lock:
            issue_id = str(next(self._ids))
            self.issues[issue_id] = {"title": title, "content": content, "state": "open",
                                     "priority": None}
            self.reporters[issue_id] = reporter or Account("{someone}", "Someone")
        return issue_id

    def id_of(self, key: str) -> str:
        return next(i for i, v in self.issues.items() if v["title"].split(":", 1)[0] == key)

    def _remote(self, issue_id: str) -> RemoteItem:
        issue = self.issues[issue_id]
        key = issue["title"].split(":", 1)[0]
        base = self.bases.get(issue_id) if self.keep_base else None
        return RemoteItem(key, issue_id, f"mem://{issue_id}", dict(issue),
                          base=dict(base) if base is not None else None,
                          reporter=self.reporters.get(issue_id) if self.report_makers else None)

    def _count_write(self, what: str, key: str, fields: tuple[str, ...]) -> None:
        with self._lock:
            if self.crash_after is not None and self.writes >= self.crash_after:
                raise KeyboardInterrupt
            self.writes += 1
            self.write_log.append((what, key, fields))

    def _normalised(self, fields: dict[str, Any]) -> dict[str, Any]:
        if self.shout_titles and "title" in fields:
            key, _, rest = fields["title"].partition(": ")
            return {**fields, "title": f"{key}: {rest.upper()}"}
        return fields

    # --- hooks --------------------------------------------------------------------------------

    @hookimpl
    def tracker_name(self) -> str:
        return self.name

    @hookimpl
    def open_tracker(self, config: Any) -> Connection:
        connection = MemoryConnection(self)
        connection.keeps_base = self.keep_base
        return connection

    @hookimpl
    def check_tracker(self, connection: Connection) -> list[str]:
        return [f"{len(self.issues)} issues"]

    @hookimpl
    def read_items(self, connection: Connection, items: list[Any]) -> list[RemoteItem]:
        self.reads += 1
        found: dict[str, RemoteItem] = {}
        for issue_id in sorted(self.issues, key=int):
            remote = self._remote(issue_id)
            if remote.key in found:
                found[remote.key].twins.append(remote)
            else:
                found[remote.key] = remote
        return list(found.values())

    @hookimpl
    def render_item(self, connection: Connection, item: Any, refs: dict[str, RemoteItem]) -> Rendered:
        if item.kind == "epic" and not self.epics_as_issues:
            return Rendered({}, skip=True)
        lines = [getattr(item.source, "description", "") or ""]
        for child in item.children:
            lines.append(f"- {child}")
        if item.parent and item.kind == "story" and self.epics_as_issues:
            ref = refs.get(item.parent)
            lines.append(f"Epic: {'#' + ref.id if ref else item.parent}")
        if item.parent and item.kind == "subtask":
            ref = refs.get(item.parent)
            lines.append(f"Parent: {'#' + ref.id if ref else item.parent}")
        return Rendered({
            "title": f"{item.key}: {item.title}",
            "content": "\n".join(lines).strip(),
            "state": item.state,
            "priority": item.priority,
        })

    @hookimpl
    def create_item(self, connection: Connection, item: Any, fields: dict[str, Any],
                    base: dict[str, str]) -> RemoteItem:
        if item.key in self.fail_on:
            raise ItemError(f"{item.key}: refused by the test tracker")
        if item.key in self.abort_on:
            raise TrackerError("Authentication failed", "the test tracker stopped the run")
        self._count_write("create", item.key, tuple(sorted(fields)))
        fields = self._normalised(fields)
        with self._lock:
            issue_id = str(next(self._ids))
            self.issues[issue_id] = dict(fields)
            self.bases[issue_id] = dict(base)
            self.reporters[issue_id] = SYNC
        if self.report_makers and connection.account is None:
            connection.account = SYNC
        return self._remote(issue_id)

    @hookimpl
    def update_item(self, connection: Connection, item: Any, remote: RemoteItem,
                    changes: dict[str, Any], base: dict[str, str]) -> RemoteItem:
        if item.key in self.fail_on:
            raise ItemError(f"{item.key}: refused by the test tracker")
        if remote.id not in self.issues:
            raise TrackerError(f"issue {remote.id} vanished")
        self._count_write("update", item.key, tuple(sorted(changes)))
        self.issues[remote.id].update(self._normalised(changes))
        self.bases[remote.id] = dict(base)
        answer = self._remote(remote.id)
        for name in self.drop_from_answers:
            answer.fields.pop(name, None)
        return answer

    @hookimpl
    def resolve_duplicate(self, connection: Connection, item: Any, duplicate: RemoteItem,
                          kept: RemoteItem) -> bool:
        self._count_write("duplicate", item.key, (kept.id,))
        self.comments.setdefault(duplicate.id, []).append(f"duplicate of #{kept.id}")
        self.issues[duplicate.id]["state"] = "duplicate"
        return True

    @hookimpl
    def read_extras(self, connection: Connection, item: Any, remote: RemoteItem) -> set[str]:
        self.reads += 1
        present = {e.ident for e in item.extras() if e.kind == "comment"
                   and f"comment:{e.digest}" in self.comments.get(remote.id, [])}
        present |= {f"attachment:{n}" for n in self.attachments.get(remote.id, {})}
        present |= {f"pr:{n}" for n in self.pr_links.get(remote.id, set())}
        return {e.ident for e in item.extras() if e.ident in present}

    @hookimpl
    def add_comment(self, connection: Connection, item: Any, remote: RemoteItem, comment: Any) -> bool:
        from spectryn_core import Extra
        if self.fail_comments:
            raise ItemError("comments are refused by the test tracker")
        self._count_write("comment", item.key, ())
        self.comments.setdefault(remote.id, []).append(f"comment:{Extra.for_comment(comment).digest}")
        return True

    @hookimpl
    def upload_attachment(self, connection: Connection, item: Any, remote: RemoteItem,
                          attachment: Any) -> bool:
        self._count_write("attachment", item.key, (attachment.name,))
        self.attachments.setdefault(remote.id, {})[attachment.name] = attachment.path.read_bytes()
        return True

    @hookimpl
    def link_pull_request(self, connection: Connection, item: Any, remote: RemoteItem,
                          number: int) -> bool:
        self._count_write("pr", item.key, (str(number),))
        self.pr_links.setdefault(remote.id, set()).add(number)
        return True

