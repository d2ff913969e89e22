"""The sandbox's data: issues, comments, attachments, milestones/components/versions, pull requests.

One lock guards everything (requests are served from many threads). Records are kept in a plain
JSON-able dict so persistence is ``json.dump`` of it; attachment bytes are kept base64-encoded.
Methods validate their input like Bitbucket Cloud does and raise :class:`ApiError` (400/404).
Every method returns copies, so callers may render them outside the lock.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import changes
from .accounts import identity
from .errors import ApiError

STATES = ("new", "open", "submitted", "resolved", "on hold", "invalid", "duplicate", "wontfix", "closed")
KINDS = ("bug", "enhancement", "proposal", "task")
PRIORITIES = ("trivial", "minor", "major", "critical", "blocker")
MARKUPS = ("markdown", "creole", "plaintext")
CATALOGS = ("milestones", "components", "versions")
# issue field name -> catalog holding its allowed names
CATALOG_FIELDS = {"milestone": "milestones", "component": "components", "version": "versions"}

FORMAT_VERSION = 1


def json_bytes(value: Any) -> bytes:
    """``value`` as UTF-8 JSON. Text the API accepted is kept whatever it holds: Atlassian does not
    document whether a title may carry control characters or a lone surrogate (JSON can say
    ``"\\ud800"``; UTF-8 cannot), so the sandbox takes both - the harder case for a client - and
    escapes what UTF-8 cannot carry, as JSON allows."""
    try:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value).encode("ascii")


def now_iso() -> str:
    """The current UTC time in Bitbucket's timestamp format (always with microseconds)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def empty_data() -> dict[str, Any]:
    """A fresh, empty data document."""
    return {
        "format": FORMAT_VERSION,
        "next_issue_id": 1,
        "next_comment_id": 1,
        "issues": {},
        "issue_comments": {},
        "issue_changes": {},
        "attachments": {},
        "milestones": [],
        "components": [],
        "versions": [],
        "pull_requests": {},
        "pr_comments": {},
        "members": [],
    }


class Store:
    """Thread-safe in-memory store with atomic JSON persistence."""

    def __init__(self, data: dict[str, Any] | None = None):
        self.lock = threading.RLock()
        self.data = data if data is not None else empty_data()
        self.dirty = False

    # ----------------------------------------------------------------- persistence
    @classmethod
    def load(cls, path: Path | None) -> Store:
        """Load the store from ``path`` (a missing or empty file gives an empty store)."""
        if path is None or not path.exists() or path.stat().st_size == 0:
            return cls()
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: not a sandbox data file ({exc}); delete it or pass another --data file") from exc
        data = empty_data()
        data.update(loaded)
        return cls(data)

    def save(self, path: Path) -> None:
        """Write the data to ``path`` atomically (temporary file + ``os.replace``)."""
        with self.lock:
            data = json_bytes(self.data)
            self.dirty = False
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def _changed(self) -> None:
        self.dirty = True

    # ----------------------------------------------------------------- seeding
    def seed(self, milestones: Iterable[str] = (), components: Iterable[str] = (),
             versions: Iterable[str] = (), pull_requests: Iterable[int | dict[str, Any]] = (),
             members: Iterable[str | dict[str, str]] = (), pr_author: dict[str, str] | None = None) -> None:
        """Add catalog entries, pull requests and workspace members that are not there yet.

        A member is a nickname (its account id and uuid are derived from it) or a dict with
        ``nickname``, ``display_name``, ``account_id``, ``uuid``. A pull request is a number or a
        dict with ``id`` and any of ``title``, ``description``, ``state``, ``source_branch``,
        ``destination_branch``, ``author`` and ``reviewers`` (members' nicknames); its author
        is ``pr_author`` unless it names one."""
        for member in members:
            self.add_member(member)
        for catalog, names in (("milestones", milestones), ("components", components), ("versions", versions)):
            for name in names:
                if name and self.catalog_entry(catalog, name) is None:
                    self.add_catalog_entry(catalog, name)
        with self.lock:
            for spec in pull_requests:
                spec = {"id": int(spec)} if not isinstance(spec, dict) else dict(spec)
                key = str(int(spec["id"]))
                if key not in self.data["pull_requests"]:
                    self.data["pull_requests"][key] = self._pull_request_record(spec, pr_author)
                    self._changed()

    def _pull_request_record(self, spec: dict[str, Any], author: dict[str, str] | None) -> dict[str, Any]:
        number = int(spec["id"])
        stamp = now_iso()
        by_nickname = {m["nickname"]: m for m in self.data["members"]}

        def account(nickname: str) -> dict[str, str]:
            if nickname not in by_nickname:
                raise ValueError(f"pull request {number}: {nickname!r} is not a workspace member")
            return dict(by_nickname[nickname])
        owner = account(spec["author"]) if spec.get("author") else dict(author or {})
        reviewers = [account(n) for n in spec.get("reviewers", [])]
        if any(r.get("uuid") == owner.get("uuid") for r in reviewers):
            # Bitbucket: "<name> is the author and cannot be included as a reviewer"
            raise ValueError(f"pull request {number}: its author cannot be one of its reviewers")
        state = str(spec.get("state", "OPEN")).upper()
        if state not in ("OPEN", "MERGED", "DECLINED", "SUPERSEDED"):
            raise ValueError(f"pull request {number}: state must be OPEN, MERGED, DECLINED or SUPERSEDED")
        return {"id": number, "title": spec.get("title", f"Pull request {number}"), "state": state,
                "description": spec.get("description", ""),
                "source_branch": spec.get("source_branch", f"feature/pr-{number}"),
                "destination_branch": spec.get("destination_branch", "main"), "author": owner,
                "reviewers": reviewers, "created_on": stamp, "updated_on": stamp}

    # ----------------------------------------------------------------- workspace members
    def add_member(self, member: str | dict[str, str]) -> dict[str, str]:
        """Add a workspace member (once, by nickname)."""
        if isinstance(member, str):
            member = identity(member)
        with self.lock:
            known = next((m for m in self.data["members"] if m["nickname"] == member["nickname"]), None)
            if known is not None:
                return dict(known)
            self.data["members"].append(dict(member))
            self._changed()
            return dict(member)

    def members(self) -> list[dict[str, str]]:
        """The workspace's members (users), in the order added."""
        with self.lock:
            return [dict(m) for m in self.data["members"]]

    def _member_for(self, value: Any) -> dict[str, str]:
        """The member an ``assignee`` body names by ``account_id`` or ``uuid``; 400 otherwise."""
        if isinstance(value, dict):
            for name in ("account_id", "uuid"):
                wanted = value.get(name)
                if isinstance(wanted, str):
                    found = next((m for m in self.data["members"] if m[name] == wanted), None)
                    if found is not None:
                        return dict(found)
        shown = value if not isinstance(value, dict) else (value.get("account_id") or value.get("uuid") or value)
        raise ApiError(400, f"assignee: {shown} is not a valid user.",
                       "Name a member of the workspace by account_id or uuid.",
                       fields={"assignee": [f"{shown} is not a valid user."]})

    # ----------------------------------------------------------------- catalogs
    def catalog(self, catalog: str) -> list[dict[str, Any]]:
        """All entries of ``milestones`` / ``components`` / ``versions``."""
        with self.lock:
            return copy.deepcopy(self.data[catalog])

    def catalog_entry(self, catalog: str, name: str) -> dict[str, Any] | None:
        """The entry named ``name`` in ``catalog``, or None."""
        with self.lock:
            for entry in self.data[catalog]:
                if entry["name"] == name:
                    return dict(entry)
        return None

    def catalog_entry_by_id(self, catalog: str, entry_id: int) -> dict[str, Any]:
        """The entry with ``entry_id``; 404 when there is none."""
        with self.lock:
            for entry in self.data[catalog]:
                if entry["id"] == entry_id:
                    return dict(entry)
        raise ApiError(404, f"{catalog[:-1].capitalize()} {entry_id} not found")

    def add_catalog_entry(self, catalog: str, name: object) -> dict[str, Any]:
        """Add ``name`` (as a repository admin would in Repository settings); idempotent."""
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "name is required", fields={"name": ["This field is required."]})
        with self.lock:
            existing = self.catalog_entry(catalog, name)
            if existing is not None:
                return existing
            entries = self.data[catalog]
            entry = {"id": max((e["id"] for e in entries), default=0) + 1, "name": name}
            entries.append(entry)
            self._changed()
            return dict(entry)

    # ----------------------------------------------------------------- issues
    def issues(self) -> list[dict[str, Any]]:
        """All issues, ordered by id."""
        with self.lock:
            return [dict(issue) for issue in self.data["issues"].values()]

    def issue(self, issue_id: int) -> dict[str, Any]:
        """One issue; 404 when there is none."""
        with self.lock:
            record = self.data["issues"].get(str(issue_id))
            if record is None:
                raise ApiError(404, f"Issue {issue_id} not found", "There is no issue with this id in this repository.")
            return dict(record)

    def create_issue(self, body: Any, reporter: dict[str, str]) -> dict[str, Any]:
        """Create an issue from a Cloud POST body; 400 on invalid fields. ``reporter``: the
        account's ``user`` fields."""
        if not isinstance(body, dict):
            raise ApiError(400, "Bad request", "The request body must be a JSON object.")
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ApiError(400, "title: This field is required.", fields={"title": ["This field is required."]})
        with self.lock:
            changes = self._validated_changes(body)
            stamp = now_iso()
            issue_id = self.data["next_issue_id"]
            record = {
                "id": issue_id, "title": title, "content_raw": "", "markup": "markdown",
                "state": "new", "kind": "bug", "priority": "major",
                "milestone": None, "component": None, "version": None, "assignee": None,
                "reporter": reporter, "created_on": stamp, "updated_on": stamp, "edited_on": None,
            }
            record.update(changes)
            self.data["issues"][str(issue_id)] = record
            self.data["next_issue_id"] = issue_id + 1
            self._changed()
            return dict(record)

    def update_issue(self, issue_id: int, body: Any, user: dict[str, str],
                     message: tuple[str, str] | None = None, named: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Apply a Cloud PUT body (only the fields sent change; 400 on invalid fields) as
        ``user``, and record the change (see changes.py). ``message`` (raw, markup) and ``named``
        (fields recorded even when unchanged) come with a ``POST .../changes``, which always
        records. Returns the issue and the change record (None when nothing was recorded)."""
        if not isinstance(body, dict):
            raise ApiError(400, "Bad request", "The request body must be a JSON object.")
        with self.lock:
            record = self.data["issues"].get(str(issue_id))
            if record is None:
                raise ApiError(404, f"Issue {issue_id} not found", "There is no issue with this id in this repository.")
            if "title" in body and (not isinstance(body["title"], str) or not body["title"].strip()):
                raise ApiError(400, "title: This field may not be blank.", fields={"title": ["This field may not be blank."]})
            updates = self._validated_changes(body)
            if "title" in body:
                updates["title"] = body["title"]
            before = changes.snapshot(record)
            record.update(updates)
            stamp = now_iso()
            record["updated_on"] = stamp
            record["edited_on"] = stamp
            recorded = changes.diff(before, changes.snapshot(record), named)
            change = None
            if recorded or message is not None:
                change = self._record_change(issue_id, recorded, user, message or ("", "markdown"), stamp)
            self._changed()
            return dict(record), change

    def _record_change(self, issue_id: int, recorded: dict[str, dict[str, str]], user: dict[str, str],
                       message: tuple[str, str], stamp: str) -> dict[str, Any]:
        change_id = self.data["next_comment_id"]  # one sequence with comments (#comment-N)
        self.data["next_comment_id"] = change_id + 1
        change = {"id": change_id, "created_on": stamp, "user": dict(user), "changes": recorded,
                  "message": {"raw": message[0], "markup": message[1]}}
        self.data["issue_changes"].setdefault(str(issue_id), []).append(change)
        return copy.deepcopy(change)

    def changes(self, issue_id: int) -> list[dict[str, Any]]:
        """The change records of an issue, oldest first; 404 when the issue does not exist."""
        with self.lock:
            self.issue(issue_id)
            return copy.deepcopy(self.data["issue_changes"].get(str(issue_id), []))

    def change(self, issue_id: int, change_id: int) -> dict[str, Any]:
        """One change record; 404 when the issue or the change does not exist."""
        with self.lock:
            for change in self.changes(issue_id):
                if change["id"] == change_id:
                    return change
        raise ApiError(404, f"Change {change_id} not found", "There is no such change of this issue.")

    def delete_issue(self, issue_id: int) -> None:
        """Delete an issue with its comments and attachments; 404 when there is none."""
        with self.lock:
            if self.data["issues"].pop(str(issue_id), None) is None:
                raise ApiError(404, f"Issue {issue_id} not found")
            self.data["issue_comments"].pop(str(issue_id), None)
            self.data["issue_changes"].pop(str(issue_id), None)
            self.data["attachments"].pop(str(issue_id), None)
            self._changed()

    def _validated_changes(self, body: dict[str, Any]) -> dict[str, Any]:
        """The record fields a create/update body sets (without title), validated."""
        changes: dict[str, Any] = {}
        if "content" in body:
            content = body["content"]
            if content is None:
                content = {"raw": ""}
            if not isinstance(content, dict) or not isinstance(content.get("raw", ""), str):
                raise ApiError(400, "content: expected an object with a string 'raw'.",
                               fields={"content": ["Expected {\"raw\": string, \"markup\": string}."]})
            changes["content_raw"] = content.get("raw") or ""
            markup = content.get("markup", "markdown")
            if markup not in MARKUPS:
                raise ApiError(400, f"content.markup: \"{markup}\" is not a valid choice.",
                               fields={"content.markup": [f"Choose one of: {', '.join(MARKUPS)}."]})
            changes["markup"] = markup
        for field, choices in (("state", STATES), ("kind", KINDS), ("priority", PRIORITIES)):
            if field in body:
                value = body[field]
                if value not in choices:
                    raise ApiError(400, f"{field}: \"{value}\" is not a valid choice.",
                                   fields={field: [f"\"{value}\" is not a valid choice; choose one of: {', '.join(choices)}."]})
                changes[field] = value
        if "assignee" in body:
            value = body["assignee"]
            changes["assignee"] = None if value is None else self._member_for(value)
        for field, catalog in CATALOG_FIELDS.items():
            if field not in body:
                continue
            value = body[field]
            if value is None:
                changes[field] = None
                continue
            name = value.get("name") if isinstance(value, dict) else None
            if name is None and isinstance(value, dict) and "id" in value:
                entry = next((e for e in self.data[catalog] if e["id"] == value["id"]), None)
            else:
                entry = self.catalog_entry(catalog, name) if isinstance(name, str) else None
            if entry is None:
                shown = name if name is not None else value
                raise ApiError(400, f"{field}: no {field} named \"{shown}\" exists in this repository.",
                               f"Create it in Repository settings -> Issue tracker -> {catalog.capitalize()}.",
                               fields={field: [f"\"{shown}\" is not a valid choice."]})
            changes[field] = entry["name"]
        return changes

    # ----------------------------------------------------------------- comments
    def comments(self, issue_id: int) -> list[dict[str, Any]]:
        """The comments of an issue, oldest first; 404 when the issue does not exist."""
        with self.lock:
            self.issue(issue_id)
            return [dict(c) for c in self.data["issue_comments"].get(str(issue_id), [])]

    def comment(self, issue_id: int, comment_id: int) -> dict[str, Any]:
        """One comment of an issue; 404 when either does not exist."""
        with self.lock:
            return dict(self._comment_record(issue_id, comment_id))

    def _comment_record(self, issue_id: int, comment_id: int) -> dict[str, Any]:
        self.issue(issue_id)
        for record in self.data["issue_comments"].get(str(issue_id), []):
            if record["id"] == comment_id:
                return record
        raise ApiError(404, f"Comment {comment_id} not found")

    def add_comment(self, issue_id: int, body: Any, user: dict[str, str]) -> dict[str, Any]:
        """Add a comment from a ``{"content": {"raw": ...}}`` body."""
        raw, markup = _comment_text(body)
        with self.lock:
            self.issue(issue_id)
            record = self._new_comment(raw, markup, user)
            self.data["issue_comments"].setdefault(str(issue_id), []).append(record)
            self._changed()
            return dict(record)

    def update_comment(self, issue_id: int, comment_id: int, body: Any) -> dict[str, Any]:
        """Change a comment's text."""
        raw, markup = _comment_text(body)
        with self.lock:
            record = self._comment_record(issue_id, comment_id)
            record.update({"raw": raw, "markup": markup, "updated_on": now_iso()})
            self._changed()
            return dict(record)

    def delete_comment(self, issue_id: int, comment_id: int) -> None:
        """Delete a comment."""
        with self.lock:
            record = self._comment_record(issue_id, comment_id)
            self.data["issue_comments"][str(issue_id)].remove(record)
            self._changed()

    def _new_comment(self, raw: str, markup: str, user: Any) -> dict[str, Any]:
        comment_id = self.data["next_comment_id"]
        self.data["next_comment_id"] = comment_id + 1
        stamp = now_iso()
        return {"id": comment_id, "raw": raw, "markup": markup, "user": user,
                "created_on": stamp, "updated_on": None}

    # ----------------------------------------------------------------- attachments
    def attachments(self, issue_id: int) -> list[dict[str, Any]]:
        """Attachment metadata (no bytes) of an issue, in upload order."""
        with self.lock:
            self.issue(issue_id)
            found = self.data["attachments"].get(str(issue_id), {})
            return [{k: v for k, v in a.items() if k != "data"} for a in found.values()]

    def attachment(self, issue_id: int, name: str) -> tuple[dict[str, Any], bytes]:
        """Metadata and bytes of one attachment; 404 when missing."""
        with self.lock:
            self.issue(issue_id)
            record = self.data["attachments"].get(str(issue_id), {}).get(name)
            if record is None:
                raise ApiError(404, f"Attachment {name} not found")
            meta = {k: v for k, v in record.items() if k != "data"}
            return meta, base64.b64decode(record["data"])

    def put_attachment(self, issue_id: int, name: str, content: bytes, content_type: str,
                       user: dict[str, str]) -> dict[str, Any]:
        """Store a file, uploaded by ``user``; an existing attachment of the same name is
        replaced. Records a change (``changes.attachment``, see changes.py)."""
        with self.lock:
            self.issue(issue_id)
            self._record_change(issue_id, {"attachment": {"old": "", "new": name}}, user, ("", "markdown"), now_iso())
            files = self.data["attachments"].setdefault(str(issue_id), {})
            files.pop(name, None)  # a replaced file moves to the end, like a new upload
            files[name] = {
                "name": name, "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                "content_type": content_type, "created_on": now_iso(),
                "data": base64.b64encode(content).decode("ascii"),
            }
            self._changed()
            return {k: v for k, v in files[name].items() if k != "data"}

    def delete_attachment(self, issue_id: int, name: str) -> None:
        """Delete an attachment; 404 when missing."""
        with self.lock:
            self.issue(issue_id)
            if self.data["attachments"].get(str(issue_id), {}).pop(name, None) is None:
                raise ApiError(404, f"Attachment {name} not found")
            self._changed()

    # ----------------------------------------------------------------- pull requests
    def pull_requests(self) -> list[dict[str, Any]]:
        """All seeded pull requests, ordered by id."""
        with self.lock:
            return sorted((dict(p) for p in self.data["pull_requests"].values()), key=lambda p: p["id"])

    def pull_request(self, pr_id: int) -> dict[str, Any]:
        """One pull request; 404 when it was not seeded."""
        with self.lock:
            record = self.data["pull_requests"].get(str(pr_id))
            if record is None:
                raise ApiError(404, f"Pull request {pr_id} not found")
            return dict(record)

    def pr_comments(self, pr_id: int) -> list[dict[str, Any]]:
        """The comments of a pull request."""
        with self.lock:
            self.pull_request(pr_id)
            return [dict(c) for c in self.data["pr_comments"].get(str(pr_id), [])]

    def add_pr_comment(self, pr_id: int, raw: str, user: Any) -> dict[str, Any]:
        """Add a comment to a pull request."""
        with self.lock:
            self.pull_request(pr_id)
            record = self._new_comment(raw, "markdown", user)
            self.data["pr_comments"].setdefault(str(pr_id), []).append(record)
            self.data["pull_requests"][str(pr_id)]["updated_on"] = record["created_on"]
            self._changed()
            return dict(record)

    def _pr_comment_record(self, pr_id: int, comment_id: int) -> dict[str, Any]:
        self.pull_request(pr_id)
        for record in self.data["pr_comments"].get(str(pr_id), []):
            if record["id"] == comment_id:
                return record
        raise ApiError(404, f"Comment {comment_id} not found")

    def pr_comment(self, pr_id: int, comment_id: int) -> dict[str, Any]:
        """One comment of a pull request; 404 when either does not exist."""
        with self.lock:
            return dict(self._pr_comment_record(pr_id, comment_id))

    def update_pr_comment(self, pr_id: int, comment_id: int, raw: str) -> dict[str, Any]:
        """Change a pull request comment's text."""
        with self.lock:
            record = self._pr_comment_record(pr_id, comment_id)
            record.update({"raw": raw, "updated_on": now_iso()})
            self._changed()
            return dict(record)

    def delete_pr_comment(self, pr_id: int, comment_id: int) -> None:
        """Mark a pull request comment deleted (it stays in the list, without its text)."""
        with self.lock:
            record = self._pr_comment_record(pr_id, comment_id)
            record.update({"deleted": True, "raw": "", "updated_on": now_iso()})
            self._changed()


def _comment_text(body: Any) -> tuple[str, str]:
    """The (raw, markup) of a comment body ``{"content": {"raw": ..., "markup": ...}}``."""
    content = body.get("content") if isinstance(body, dict) else None
    raw = content.get("raw") if isinstance(content, dict) else None
    if not isinstance(content, dict) or not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, "content.raw: This field is required.", fields={"content.raw": ["This field is required."]})
    markup = content.get("markup", "markdown")
    return raw, markup if markup in MARKUPS else "markdown"
