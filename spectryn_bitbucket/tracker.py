"""The Bitbucket connection and what each tracker hook does with it.

Request budget of a sync (issues 7 and 12): ``read_items`` makes ``ceil(issues / 100)`` GETs of
issues (or one BBQL query when the spec has few keys: the keys in titles, or the spec file in the
base line, so a removed story or a retitled issue is found in the same request) - the first
answer proves the repository and its tracker exist, so the repository itself is read only when
that listing fails (to say why) - then a GET of the milestones / components / versions list only
if the spec names one that no issue carries yet, and one more BBQL query only when the local state
knows issue ids the listing did not return (an issue of an earlier version retitled without its
key, or deleted). A no-op re-sync therefore costs ``ceil(N / 100)`` reads and no writes.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from requests_toolbelt import MultipartEncoder

from spectryn_bitbucket import errors
from spectryn_bitbucket.client import BitbucketClient, error_detail
from spectryn_bitbucket.config import BitbucketSettings
from spectryn_bitbucket.pullback import content_edits
from spectryn_bitbucket.render import (
    ISSUE_LIST_FIELDS,
    RenderContext,
    issue_body,
    issue_content,
    needed_names,
    normalise_content,
    parse_title,
    posted_comment,
    provenance_note,
    raw_content,
    read_base,
    reembed,
    remote_item,
    render,
    render_comment,
    reporter,
    spec_marker,
    spectryns_own,
    story_layout,
    with_base,
    with_refs,
)
from spectryn_bitbucket.users import Directory
from spectryn_core.errors import ItemError, TrackerError
from spectryn_core.items import (
    MISSING,
    Account,
    Connection,
    Extra,
    Item,
    Quota,
    RemoteItem,
    Rendered,
    comment_digest,
    extra_tag,
    legacy_comment_digest,
    value_digest,
)
from spectryn_core.model import Attachment, Comment, Story
from spectryn_core.provenance import extras_in_base
from spectryn_core.spec_edits import SpecEdit
from spectryn_core.worktree import Repository, inside

log = logging.getLogger("spectryn.bitbucket")

#: Up to this many story/epic keys, issues are found with one BBQL query instead of a full listing.
BBQL_MAX_KEYS = 20
PR_MARKER = "linked by spectryn"
LIST_PATHS = {"milestone": "/milestones", "component": "/components", "version": "/versions"}


class BitbucketConnection(Connection):
    """One open connection to one repository: the client, and the caches the hooks share."""

    tracker = "bitbucket"
    keeps_base = True  # in a line of the issue content (see render.py)

    def __init__(self, settings: BitbucketSettings, client: BitbucketClient | None = None) -> None:
        self.settings = settings
        self.target = f"{settings.web_host}/{settings.workspace}/{settings.repo}"
        self.repositories = frozenset({settings.full_name.lower()})
        self._client = client
        self.repository: dict[str, Any] | None = None
        #: One attachment upload per issue per run (see :func:`upload_attachment`).
        self.attachment_batches: dict[str, Any] = {}
        self.batch_lock = threading.Lock()
        #: Each issue's comments as listed in this run (read_extras and edit_comment share one
        #: listing); dropped when a comment is added or edited.
        self.comment_lists: dict[str, list[dict[str, Any]]] = {}
        self.comment_lock = threading.Lock()
        #: Issue ids by key, of the issues read or created in this run: content written names
        #: them by ``#id`` (render.with_refs).
        self.ids: dict[str, str] = {}
        #: The provenance line of each spec file synced (by its path as given).
        self.notes: dict[str, str] = {}
        self.context = RenderContext(
            full_name=settings.full_name,
            epic_mode=settings.epic_mode,
            epic_label=settings.epic_label,
            story_label=settings.story_label,
            subtask_label=settings.subtask_label,
            directory=Directory.from_config(settings.users, settings.user_lookup),
        )

    @property
    def client(self) -> BitbucketClient:
        """The HTTP client, created on first use (opening a connection sends nothing)."""
        if self._client is None:
            self._client = BitbucketClient(self.settings)
        return self._client

    def note(self, item: Item) -> str:
        """The visible "Managed in" line of ``item``'s issues ("" when switched off)."""
        if not self.settings.provenance_line:
            return ""
        key = str(item.spec.path)
        if key not in self.notes:
            self.notes[key] = provenance_note(*spec_location(Path(item.spec.path), self.settings,
                                                             item.origin))
        return self.notes[key]

    def written(self, item: Item, content: str, base: dict[str, str]) -> str:
        """The content as written: issue ids before known keys, the provenance line, the base."""
        return with_base(with_refs(content, self.ids), base, self.note(item))

    def rewritten(self, item: Item, raw: str, base: dict[str, str]) -> str:
        """An issue's current raw content with the new base (and provenance line) and nothing
        else changed: a person's edit the sync keeps stays byte for byte."""
        return reembed(raw, base, self.note(item))

    def user_name(self, ref: str | None) -> str | None:
        """The spec name of an assignee account (``spectryn pull``)."""
        return self.context.directory.name_of(ref)

    def close(self) -> None:
        """Close the HTTP session."""
        if self._client is not None:
            self._client.close()

    def requests_for(self, write: str) -> int:
        """A PR link checks the PR (unless the issues' read found it) then comments (at most 2,
        counted as 2 for the quota); marking a duplicate reads its comments,
        comments and sets the state (3); an edited comment lists the issue's comments (shared
        with read_extras in one run) and PUTs it (2); an issue's attachments go in one upload
        (the first 1, the others 0); every other write is one request."""
        return {"pull_request": 2, "duplicate": 3, "comment_edit": 2, "more_attachments": 0}.get(write, 1)

    def writes_for(self, write: str) -> int:
        """:meth:`requests_for` without the reads: a PR link's existence check and a duplicate's
        or an edited comment's comment listing are reads."""
        return {"pull_request": 1, "duplicate": 2, "more_attachments": 0}.get(write, 1)

    def request_count(self) -> dict[str, int]:
        """Requests sent so far, ``{"read": n, "write": m}``."""
        return self._client.request_count() if self._client is not None else {"read": 0, "write": 0}

    def quota(self) -> Quota:
        """The credential's request budget now (requests left in the rolling hour, when the next
        slot frees, time waited); see :class:`spectryn_core.items.Quota`. Sends nothing."""
        return self.client.quota.quota()

    # --- repository ------------------------------------------------------------------------

    def issues_path(self, suffix: str = "") -> str:
        """Path of the repository's issues (Cloud shape, also tried on a server)."""
        return self.client.repo_path("/issues" + suffix)

    def _repo_not_found(self) -> TrackerError:
        """Tell a missing workspace from a missing repository (one more GET)."""
        s = self.settings
        if s.mode == "server":
            url = f"{s.server_root}/rest/api/1.0/projects/{s.workspace}"
        else:
            url = f"/workspaces/{s.workspace}"
        response = self.client.request("GET", url)
        if response.status_code == 404:
            return errors.workspace_not_found(s.workspace, s.mode)
        return errors.repository_not_found(s.full_name)

    def ensure_repository(self, check_tracker: bool = True) -> dict[str, Any]:
        """GET the repository once: exists, reachable, issue tracker on."""
        if self.repository is not None:
            return self.repository
        s = self.settings
        if s.mode == "server":
            repo = self.client.get(self.client.server_url(), f"repository {s.full_name}",
                                   not_found=self._repo_not_found) or {}
        else:
            repo = self.client.get(
                self.client.repo_path(), f"repository {s.full_name}",
                params={"fields": "full_name,name,has_issues,is_private,links.html.href"},
                not_found=self._repo_not_found,
            ) or {}
            if repo.get("has_issues") is False and check_tracker:
                raise self.tracker_off_reason()
        self.repository = repo
        return repo

    def issues_not_found(self) -> TrackerError:
        """What a 404 on an issue endpoint of an existing repository means."""
        if self.settings.mode == "server":
            return errors.server_has_no_issue_tracker(self.settings.host)
        return errors.issue_tracker_disabled(self.settings.full_name)

    def tracker_unavailable(self) -> TrackerError:
        """Why the issue list answered 404 (asked only on that failure path): no workspace, no
        repository, a tracker switched off, or a workspace that cannot have one."""
        if self.settings.mode == "server":
            return errors.server_has_no_issue_tracker(self.settings.host)
        self.repository = None
        self.ensure_repository(check_tracker=False)  # raises workspace / repository not found
        return self.tracker_off_reason()

    def tracker_off_reason(self) -> TrackerError:
        """Switched off in this repository, or impossible in its workspace (Atlassian
        Administration): told apart by what the issue list answers."""
        response = self.client.request("GET", self.issues_path(), params={"pagelen": 1})
        detail = error_detail(response).lower()
        if "admin.atlassian.com" in detail or "atlassian administration" in detail:
            return errors.issue_tracker_impossible(self.settings.full_name)
        return errors.issue_tracker_disabled(self.settings.full_name)

    def load_names(self, kind: str) -> list[str]:
        """Every milestone / component / version name of the repository (one listing)."""
        values = self.client.paginate(
            self.client.repo_path(LIST_PATHS[kind]), f"{kind}s of {self.settings.full_name}",
            params={"fields": "values.name,values.id,next"}, not_found=self.issues_not_found,
        )
        names = [v["name"] for v in values if v.get("name")]
        getattr(self.context, f"{kind}s").update(names)
        setattr(self.context, f"{kind}s_complete", True)
        return names


def spec_location(path: Path, settings: BitbucketSettings, origin: str = "") -> tuple[str, str | None]:
    """The spec's path in its repository - ``origin`` (:attr:`Item.origin`, what its issues'
    provenance records) when given (POSIX; the path as given outside a git work tree) - and, on
    Cloud with ``bitbucket.branch`` (Pipelines: ``BITBUCKET_BRANCH``) set, its web address."""
    resolved = path.resolve()
    repository = Repository.of(resolved.parent)
    if repository.git and inside(resolved, repository.root):
        shown = origin or resolved.relative_to(repository.root).as_posix()
    else:
        return path.as_posix(), None
    if not settings.branch or settings.mode != "cloud":
        return shown, None
    url = (f"{settings.web_root}/{quote(settings.workspace)}/{quote(settings.repo)}/src/"
           f"{quote(settings.branch, safe='')}/{quote(shown)}")
    return shown, url


# --- read -----------------------------------------------------------------------------------


def _query_keys(items: list[Item]) -> list[str]:
    """Keys whose issues (and subtask issues) a sync needs: stories and epics."""
    keys = {item.key for item in items if item.kind != "subtask"}
    keys |= {item.parent for item in items if item.kind == "subtask" and item.parent}
    return sorted(keys)


def _wanted(key: str, keys: set[str]) -> bool:
    return key in keys or key.split(".", 1)[0] in keys


#: Issue ids asked for in one BBQL query (``id = 1 OR id = 2 ...``).
IDS_PER_QUERY = 40


def read_items(
    conn: BitbucketConnection, items: list[Item], gone: list[str] | tuple[str, ...] = (),
    known: dict[str, str] | None = None,
) -> list[RemoteItem]:
    """The repository's issues that may be this spec's, each on its own: those whose title keys
    belong to ``items`` (stories, their subtasks including removed ones, epics) or are ``gone``,
    those whose base line names one of the items' spec files, and those whose ids the state
    ``known`` records (found even when a person removed the key from the title)."""
    if conn.settings.mode == "server":
        conn.ensure_repository()
        # Data Center has no issue tracker: this answers 404 and becomes the clear error.
        conn.client.get(conn.issues_path(), "issues", params={"pagelen": 1},
                        not_found=conn.issues_not_found)
    keys = set(_query_keys(items)) | set(gone)
    origins = sorted({item.origin for item in items if item.origin})
    params: dict[str, Any] = {"fields": ISSUE_LIST_FIELDS, "sort": "id"}
    if keys and len(keys) <= BBQL_MAX_KEYS:
        terms = [f'title ~ "{k}"' for k in sorted(keys)]
        terms += [f'content.raw ~ "{spec_marker(origin)}"' for origin in origins]
        params["q"] = " OR ".join(terms)
    # no GET of the repository: this listing's first page proves it (and its tracker) exists
    issues = conn.client.paginate(conn.issues_path(), f"issues of {conn.settings.full_name}",
                                  params=params, not_found=conn.tracker_unavailable)
    ids = set((known or {}).values())
    found = [issue for issue in issues if _concerns(issue, keys, set(origins), ids)]
    missing = sorted(ids - {str(issue.get("id")) for issue in found}, key=_as_number)
    if missing and "q" in params:
        found += _issues_by_id(conn, missing)
    remotes = sorted((remote_item(issue) for issue in found), key=lambda r: _as_number(r.id))
    by_key: dict[str, RemoteItem] = {}
    for remote in remotes:  # the lowest id carrying each key (only to skip confirmed PR checks)
        by_key.setdefault(remote.provenance.key if remote.provenance else remote.key, remote)
    _check_pull_requests(conn, items, by_key)
    _learn_names(conn, items, remotes)
    _learn_users(conn, items, found)
    return remotes


def _as_number(issue_id: str) -> int:
    return int(issue_id) if issue_id.isdigit() else 0


def _concerns(issue: dict[str, Any], keys: set[str], origins: set[str], ids: set[str]) -> bool:
    """Whether a listed issue may be one of this run's: a key of it in the title, its base line
    naming one of its spec files, or an id the state knows."""
    parsed = parse_title(issue.get("title") or "")
    if parsed is not None and _wanted(parsed[0], keys):
        return True
    if str(issue.get("id")) in ids:
        return True
    raw = raw_content(issue)
    if "spectryn:1" not in raw:
        return False
    provenance = read_base(raw).provenance
    return provenance is not None and provenance.spec in origins


def _issues_by_id(conn: BitbucketConnection, ids: list[str]) -> list[dict[str, Any]]:
    """Issues by id, in one BBQL query per :data:`IDS_PER_QUERY` (a deleted one is just absent)."""
    found: list[dict[str, Any]] = []
    numbers = [i for i in ids if i.isdigit()]
    for start in range(0, len(numbers), IDS_PER_QUERY):
        chunk = numbers[start:start + IDS_PER_QUERY]
        found += conn.client.paginate(
            conn.issues_path(), f"issues of {conn.settings.full_name}",
            params={"fields": ISSUE_LIST_FIELDS, "sort": "id",
                    "q": " OR ".join(f"id = {number}" for number in chunk)},
            not_found=conn.tracker_unavailable)
    return found


def _check_pull_requests(conn: BitbucketConnection, items: list[Item], remotes: dict[str, RemoteItem]) -> None:
    """One GET per pull request the spec names that no issue's base records (as linked, or as
    checked and missing): the plan then warns about a missing one, even in a dry run.

    A missing one is recorded in the issue's base as such (link_pull_request answers False), so
    later runs - fresh runners too - warn again with no request; the engine checks it again
    (link_pull_request) when the issue is written anyway or with --recheck-pull-requests."""
    numbers: set[int] = set()
    for item in items:
        remote = remotes.get(item.key)
        confirmed = extras_in_base(item, remote)
        numbers.update(n for n in item.pull_requests() if f"pr:{n}" not in confirmed)
        conn.context.recorded_missing.update(
            n for n in item.pull_requests() if confirmed.get(f"pr:{n}") == MISSING)
    for number in sorted(numbers):
        if conn.settings.mode == "server":
            url = conn.client.server_url(f"/pull-requests/{number}")
            response = conn.client.request("GET", url)
        else:
            response = conn.client.request("GET", conn.client.repo_path(f"/pullrequests/{number}"),
                                           params={"fields": "id"})
        if response.status_code == 404:
            conn.context.missing_prs.add(number)
        elif response.status_code == 200:
            conn.context.existing_prs.add(number)


def _learn_users(conn: BitbucketConnection, items: list[Item], issues: Any) -> None:
    """Assignees seen on issues; list the workspace's members only for names not mapped."""
    directory = conn.context.directory
    for issue in issues:
        directory.learn(issue.get("assignee"))
    names = {str(getattr(item.source, "assignee", None)) for item in items
             if getattr(item.source, "assignee", None)}
    if conn.settings.mode == "cloud" and names and directory.needs_listing(names):
        directory.load_members(conn.client, conn.settings.workspace)


def _learn_names(conn: BitbucketConnection, items: list[Item], remotes: list[RemoteItem]) -> None:
    """Names seen on issues exist; list milestones / components / versions only for the rest."""
    ctx = conn.context
    for remote in remotes:
        for kind in LIST_PATHS:
            name = remote.fields.get(kind)
            if name:
                getattr(ctx, f"{kind}s").add(name)
    for kind, names in needed_names(items, ctx).items():
        known = getattr(ctx, f"{kind}s")
        if names - known and not getattr(ctx, f"{kind}s_complete"):
            conn.load_names(kind)


# --- render / write -------------------------------------------------------------------------


def render_item(conn: BitbucketConnection, item: Item, refs: dict[str, RemoteItem]) -> Rendered:
    """The fields ``item`` should have; no request. ``refs`` are the issues the engine found to
    be this spec's (and those created since): written content names them by id."""
    conn.ids.update({key: remote.id for key, remote in refs.items() if remote.id})
    return render(item, refs, conn.context)


def find_issue(conn: BitbucketConnection, key: str, origin: str | None = None) -> dict[str, Any] | None:
    """The issue whose title starts with ``KEY:`` (lowest id), by BBQL; None if there is none.
    With ``origin``, only one whose base line records that spec file and key (what a create of
    this version sent): a hand-made issue with the same title is never taken for it."""
    issues = conn.client.paginate(
        conn.issues_path(), f"issue {key}",
        params={"q": f'title ~ "{key}:"', "fields": ISSUE_LIST_FIELDS, "sort": "id"},
        not_found=conn.issues_not_found,
    )
    matches = [i for i in issues if (parse_title(i.get("title") or "") or ("",))[0] == key]
    if origin is not None:
        matches = [i for i in matches if _made_from(i, origin, key)]
    return min(matches, key=lambda i: int(i.get("id") or 0)) if matches else None


def _made_from(issue: dict[str, Any], origin: str, key: str) -> bool:
    provenance = read_base(raw_content(issue)).provenance
    return provenance is not None and (provenance.spec, provenance.key) == (origin, key)


def create_item(
    conn: BitbucketConnection, item: Item, fields: dict[str, Any], base: dict[str, str] | None = None
) -> RemoteItem:
    """POST the issue (its content ending with the base line); after an ambiguous failure, look
    it up by key and provenance before sending again. The answer's reporter is the account this
    connection writes as."""
    wanted = {k: v for k, v in fields.items() if v is not None}
    if base is not None:
        wanted["content"] = conn.written(item, str(wanted.get("content") or ""), base)
    origin = base.get("spec") if base is not None else None
    issue = conn.client.create(
        conn.issues_path(), f"issue {item.key}", json=issue_body(wanted),
        lookup=lambda: find_issue(conn, item.key, origin), not_found=conn.issues_not_found,
    )
    number = issue.get("id") if isinstance(issue, dict) else None
    if isinstance(number, bool) or not isinstance(number, int | str) or not str(number).isdigit():
        raise errors.create_without_id(f"issue {item.key}")
    conn.ids[item.key] = str(number)
    if conn.account is None:
        conn.account = reporter(issue)
    return remote_item(issue)


def update_item(
    conn: BitbucketConnection, item: Item, remote: RemoteItem, changes: dict[str, Any],
    base: dict[str, str] | None = None,
) -> RemoteItem:
    """PUT only the changed fields, and the content with the new base line: the spec's content
    when it changed, else the issue's current content exactly as it is (a person's edit there is
    kept byte for byte: only the base line and the provenance line above it are written)."""
    body = dict(changes)
    if base is not None:
        if "content" in changes:
            body["content"] = conn.written(item, str(changes["content"] or ""), base)
        elif isinstance(remote.native, str) and not spectryns_own(remote):
            body["content"] = conn.rewritten(item, remote.native, base)
        else:  # spectryn's own text (ids after keys may be added), or read by another route
            body["content"] = conn.written(item, str(remote.fields.get("content") or ""), base)
    if not body:
        return remote
    issue = conn.client.call(
        "PUT", conn.issues_path(f"/{remote.id}"), f"issue #{remote.id} ({item.key})",
        json=issue_body(body),
        not_found=lambda: ItemError(f"issue #{remote.id} ({item.key}) no longer exists in "
                                    f"{conn.settings.full_name}", "it was deleted in Bitbucket; "
                                    "delete the sync state or re-create it by syncing again"),
    )
    if not issue:  # no body in the answer: the issue holds what it had plus what was sent
        return RemoteItem(remote.key, remote.id, remote.url, {**remote.fields, **changes},
                          base=base if base is not None else remote.base,
                          provenance=remote.provenance, reporter=remote.reporter,
                          native=body.get("content", remote.native))
    return remote_item(issue)


def duplicate_note(kept: RemoteItem, key: str = "") -> str:
    """The comment on a twin marked duplicate (also how a re-run recognises it was posted)."""
    return (f"Duplicate of #{kept.id}: two spectryn runs created {key or kept.key} at once, and "
            f"nobody had changed this one since. Marked duplicate by spectryn; nothing else was "
            f"changed.")


class _NoChangeRecords(TrackerError):
    """``/changes`` answered 404 for an issue that exists (a server keeping no change records)."""


#: ``fields=`` of a comment or change listing read to tell who touched an issue.
_WHO = ("values.user.uuid", "values.user.account_id", "values.user.nickname",
        "values.user.display_name", "next")


def read_touches(
    conn: BitbucketConnection, item: Item, remote: RemoteItem, accounts: list[Account]
) -> list[str]:
    """Comments and changes on ``remote`` that are not the sync's: two reads (its comments and
    its change records). A comment is the sync's when one of ``accounts`` wrote it and it is
    one of the item's spec comments; a change when one of ``accounts`` made it."""
    ours = {render_comment(c) for c in getattr(item.source, "comments", []) or []}
    touches: list[str] = []
    for comment in issue_comments(conn, remote.id):
        who = reporter({"reporter": comment.get("user")})
        text = normalise_content((comment.get("content") or {}).get("raw"))
        if not _is_sync(who, accounts) or text not in ours:
            touches.append(f"a comment by {_name_of(who)}")
    try:
        changes = list(conn.client.paginate(
            conn.issues_path(f"/{remote.id}/changes"), f"changes of issue #{remote.id}",
            params={"fields": ",".join(["values.changes", *_WHO])},
            not_found=lambda: _NoChangeRecords("no change records")))
    except _NoChangeRecords:
        changes = []  # Bitbucket Cloud keeps them for every issue; a server that keeps none
    for change in changes:
        who = reporter({"reporter": change.get("user")})
        if not _is_sync(who, accounts):
            names = ", ".join(sorted((change.get("changes") or {}).keys())) or "the issue"
            touches.append(f"{names} changed by {_name_of(who)}")
    return touches


def pull_text(conn: BitbucketConnection, item: Item, refs: dict[str, RemoteItem],
              text: str) -> tuple[list[SpecEdit], list[str]] | None:
    """A story's issue text edited in Bitbucket, as spec edits of the sections it falls in
    (pullback.py); for a subtask or an epic, a note (not pulled)."""
    if not isinstance(item.source, Story):
        where = "a subtask's description is a cell of its story's table" if item.kind == "subtask" else \
            "an epic's text is not pulled"
        return [], [f"{item.key}: the issue text changed in Bitbucket; not pulled ({where})"]
    layout = story_layout(item, item.source, refs, conn.context)
    return content_edits(item.key, layout, text)


#: Change records read per page when looking for a base text (each may hold the whole content
#: twice), and the pages read at most: a base text older than that is not looked for.
BASE_TEXT_PAGELEN = 10
BASE_TEXT_PAGES = 3


def read_base_text(conn: BitbucketConnection, item: Item, remote: RemoteItem, name: str, digest: str,
                   accounts: list[Account]) -> str | None:
    """The content whose digest starts with ``digest`` (read as ``read_items`` reads it), from
    the issue's change records, written by one of ``accounts``.

    Records are read newest first, :data:`BASE_TEXT_PAGELEN` a page (one request for most
    issues, at most :data:`BASE_TEXT_PAGES`). Each content a record shows has a known author:
    a record's new content is its user's; the old content of the issue's first record is what
    the issue was created with, the reporter's. The newest one by such an account with the
    digest is the base text."""
    if name != "content" or not re.fullmatch(r"[0-9a-f]{8,}", digest) or conn.settings.mode != "cloud":
        return None  # Data Center has no issue tracker (and no change records)
    params = {"sort": "-created_on", "pagelen": BASE_TEXT_PAGELEN,
              "fields": ",".join(["values.changes.content.new", "values.changes.content.old", *_WHO])}
    records = conn.client.paginate(conn.issues_path(f"/{remote.id}/changes"), f"changes of issue #{remote.id}",
                                   params=params, not_found=lambda: _NoChangeRecords("no change records"))
    first: str | None = None
    try:
        for number, change in enumerate(records, start=1):
            content = (change.get("changes") or {}).get("content") or {}
            if isinstance(content.get("new"), str):
                first = content.get("old") if isinstance(content.get("old"), str) else None
                if _is_sync(reporter({"reporter": change.get("user")}), accounts):
                    text = issue_content({"content": {"raw": content["new"]}})[0]
                    if value_digest(text)[: len(digest)] == digest:
                        return text
            if number >= BASE_TEXT_PAGELEN * BASE_TEXT_PAGES:
                return None  # older than we look (the next page is not read)
    except _NoChangeRecords:
        return None
    if first is not None and _is_sync(remote.reporter, accounts):  # as the issue was created
        text = issue_content({"content": {"raw": first}})[0]
        if value_digest(text)[: len(digest)] == digest:
            return text
    return None


def _is_sync(who: Account | None, accounts: list[Account]) -> bool:
    """True when ``who`` is one of ``accounts`` (same id, or one names the other by an alias:
    a config entry may name an account by its account id; never by a nickname)."""
    return who is not None and any(
        who.id == a.id or a.id in who.aliases or who.id in a.aliases for a in accounts)


def _name_of(who: Account | None) -> str:
    return (who.name or who.id) if who is not None else "someone"


def resolve_duplicate(
    conn: BitbucketConnection, item: Item, duplicate: RemoteItem, kept: RemoteItem
) -> bool:
    """Comment on the twin naming the kept issue (once, even after an interruption), then set
    its state to ``duplicate``; nothing else is changed."""
    text = duplicate_note(kept, item.key)
    if text not in issue_comment_texts(conn, duplicate.id):
        conn.client.create(
            conn.issues_path(f"/{duplicate.id}/comments"),
            f"comment on issue #{duplicate.id} ({item.key})",
            json={"content": {"raw": text, "markup": "markdown"}},
            lookup=lambda: True if text in issue_comment_texts(conn, duplicate.id) else None,
            not_found=conn.issues_not_found,
        )
    conn.client.call(
        "PUT", conn.issues_path(f"/{duplicate.id}"), f"issue #{duplicate.id} ({item.key})",
        json={"state": "duplicate"}, not_found=conn.issues_not_found,
    )
    return True


# --- extras ---------------------------------------------------------------------------------


#: ``fields=`` of an issue's comment listing (edit_comment, read_extras, read_touches).
_COMMENT_FIELDS = ",".join(["values.id", "values.content.raw", *_WHO])


def issue_comments(conn: BitbucketConnection, issue_id: str) -> list[dict[str, Any]]:
    """An issue's comments (id, text, author), listed once per run and issue."""
    with conn.comment_lock:
        if issue_id not in conn.comment_lists:
            conn.comment_lists[issue_id] = list(conn.client.paginate(
                conn.issues_path(f"/{issue_id}/comments"), f"comments of issue #{issue_id}",
                params={"fields": _COMMENT_FIELDS}, not_found=conn.issues_not_found))
        return conn.comment_lists[issue_id]


def _forget_comments(conn: BitbucketConnection, issue_id: str) -> None:
    with conn.comment_lock:
        conn.comment_lists.pop(issue_id, None)


def issue_comment_texts(conn: BitbucketConnection, issue_id: str) -> list[str]:
    """The raw text of every comment of an issue, normalised - listed afresh (it decides
    whether a comment was posted, e.g. by another run or before an interruption)."""
    _forget_comments(conn, issue_id)
    return [normalise_content((v.get("content") or {}).get("raw"))
            for v in issue_comments(conn, issue_id)]


def issue_attachment_names(conn: BitbucketConnection, issue_id: str) -> list[str]:
    """The names of an issue's attachments."""
    values = conn.client.paginate(
        conn.issues_path(f"/{issue_id}/attachments"), f"attachments of issue #{issue_id}",
        params={"fields": "values.name,next"}, not_found=conn.issues_not_found,
    )
    return [v["name"] for v in values if v.get("name")]


def pr_marker(item: Item, remote: RemoteItem) -> str:
    """The text by which a pull request's comment is recognised as spectryn's for this issue."""
    return f"#{remote.id} ({item.key}) - {PR_MARKER}"


def pr_comment_texts(conn: BitbucketConnection, number: int) -> list[str]:
    """Raw texts of a pull request's comments (Cloud)."""
    values = conn.client.paginate(
        conn.client.repo_path(f"/pullrequests/{number}/comments"), f"comments of pull request #{number}",
        params={"fields": "values.content.raw,next"},
        not_found=lambda: ItemError(f"pull request #{number} not found in {conn.settings.full_name}"),
    )
    return [(v.get("content") or {}).get("raw") or "" for v in values]


def read_extras(conn: BitbucketConnection, item: Item, remote: RemoteItem) -> set[str]:
    """Which of the item's comments, attachments and PR links ``remote`` already has."""
    extras = item.extras()
    present: set[str] = set()
    if any(e.kind == "comment" for e in extras):
        texts = {normalise_content((c.get("content") or {}).get("raw")) for c in issue_comments(conn, remote.id)}
        present |= {e.ident for e in extras if isinstance(e.payload, Comment)
                    and render_comment(e.payload) in texts}
    if any(e.kind == "attachment" for e in extras):
        names = set(issue_attachment_names(conn, remote.id))
        present |= {e.ident for e in extras if isinstance(e.payload, Attachment)
                    and e.payload.name in names}
    marker = pr_marker(item, remote)
    missing = conn.context.missing_prs | conn.context.recorded_missing
    for extra in extras:
        if extra.kind == "pull_request" and extra.payload in missing:
            continue  # nothing to read: it does not exist (link_pull_request records that)
        if extra.kind == "pull_request" and isinstance(extra.payload, int):
            try:
                texts_pr = pr_comment_texts(conn, extra.payload)
            except ItemError:
                continue  # a missing PR is reported when linking
            if any(marker in text for text in texts_pr):
                present.add(extra.ident)
    return present


def add_comment(conn: BitbucketConnection, item: Item, remote: RemoteItem, comment: Comment) -> bool:
    """Post a spec comment once; after an ambiguous failure, look for it before re-posting."""
    text = render_comment(comment)
    _forget_comments(conn, remote.id)
    conn.client.create(
        conn.issues_path(f"/{remote.id}/comments"), f"comment on issue #{remote.id} ({item.key})",
        json={"content": {"raw": text, "markup": "markdown"}},
        lookup=lambda: True if text in issue_comment_texts(conn, remote.id) else None,
        not_found=conn.issues_not_found,
    )
    return True


def edit_comment(conn: BitbucketConnection, item: Item, remote: RemoteItem, comment: Comment,
                 previous: str, accounts: list[Account], earlier: list[str] | None = None) -> bool:
    """PUT the new text of the spec comment posted with the text whose digest starts with
    ``previous`` (found in the issue's comments, a listing read_extras may have made already:
    one request at most), but only one that one of ``accounts`` wrote - Bitbucket lets only a
    comment's author edit it (403), and a comment someone else wrote is never ours to change.
    With ``earlier`` (an earlier version's tags, no ``previous``): one with ``comment``'s author
    and date whose text has one of those tags. False when there is none (deleted since)."""
    found = None
    for posted in issue_comments(conn, remote.id):
        raw = normalise_content((posted.get("content") or {}).get("raw"))
        if not _is_sync(reporter({"reporter": posted.get("user")}), accounts):
            continue
        # read back as render_comment wrote it; a text with no head is its own body
        readings = (posted_comment(raw), Comment(body=raw))
        if (previous and any(comment_digest(c).startswith(previous) for c in readings)) or (
                not previous and earlier and _earlier_text(readings[0], comment, remote.id, set(earlier))):
            found = posted
            break
    if found is None or found.get("id") is None:
        return False
    text = render_comment(comment)
    _forget_comments(conn, remote.id)
    what = f"comment {found['id']} of issue #{remote.id} ({item.key})"
    # Atlassian's OpenAPI: "only the content.raw field can be modified"
    response = conn.client.request("PUT", conn.issues_path(f"/{remote.id}/comments/{found['id']}"),
                                   json={"content": {"raw": text}})
    if response.status_code == 403:  # written by another account the sync trusts: only its author edits it
        who = _name_of(reporter({"reporter": found.get("user")}))
        raise ItemError(f"{what} was written by {who}; Bitbucket lets only a comment's author edit it "
                        "- not edited", f"edit it in Bitbucket, or sync with {who}'s credentials")
    conn.client.raise_for(response, what, lambda: ItemError(f"{what} no longer exists",
                                                            "run the sync again: it is added anew"))
    return True


def _earlier_text(posted: Comment, comment: Comment, issue_id: str, tags: set[str]) -> bool:
    """True when ``posted`` has ``comment``'s author and date and an earlier version tagged its
    text with one of ``tags`` (bound to the issue, or unbound as before provenance)."""
    if (posted.author, posted.date) != ((comment.author or "").lstrip("@") or None, comment.date):
        return False
    digest = legacy_comment_digest(posted)
    old = Extra("comment", f"comment:{digest}", digest, posted)
    return extra_tag(old, issue_id) in tags or extra_tag(old) in tags


def multipart_body(files: list[tuple[Path, str]]) -> tuple[MultipartEncoder, dict[str, str], list[Any]]:
    """A streamed multipart body with one ``files`` field per file (Bitbucket takes several in one
    POST); returns (body, headers, open files)."""
    handles = [path.open("rb") for path, _ in files]
    fields = [("files", (name, handle, mimetypes.guess_type(name)[0] or "application/octet-stream"))
              for (_, name), handle in zip(files, handles, strict=True)]
    encoder = MultipartEncoder(fields=fields)
    return encoder, {"Content-Type": encoder.content_type}, handles


def upload_files(conn: BitbucketConnection, issue_id: str, files: list[tuple[Path, str]], what: str) -> None:
    """Upload files to an issue in one streamed multipart POST.

    An upload with an existing name replaces that attachment, so re-sending after an ambiguous
    failure cannot duplicate it: no lookup is needed.
    """
    for path, _ in files:
        if not path.is_file():
            raise ItemError(f"{what}: file not found: {path}", "check the path in the spec's Attachments")
    handles: list[Any] = []

    def make_body() -> tuple[Any, dict[str, str]]:
        encoder, headers, opened = multipart_body(files)
        handles.extend(opened)
        return encoder, headers

    try:
        conn.client.create(
            conn.issues_path(f"/{issue_id}/attachments"), what, make_body=make_body,
            lookup=lambda: None, not_found=conn.issues_not_found,
        )
    finally:
        for handle in handles:
            handle.close()


def upload_file(conn: BitbucketConnection, issue_id: str, path: Path, name: str, what: str) -> None:
    """Upload one file to an issue (see :func:`upload_files`)."""
    upload_files(conn, issue_id, [(path, name)], what)


@dataclass
class _Batch:
    """The one upload of an item's attachments that the first ``upload_attachment`` call sends."""

    names: set[str]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


def upload_attachment(
    conn: BitbucketConnection, item: Item, remote: RemoteItem, attachment: Attachment
) -> bool:
    """Upload (or replace, same name) a spec attachment; never delete one.

    The engine calls this once per attachment to send. The first call for an issue uploads every
    attachment of the item whose file exists in **one** multipart POST (Bitbucket takes several
    ``files`` fields); the calls for its other attachments wait for that upload and send nothing.
    Re-sending an unchanged sibling only replaces it with the same bytes (same name), so one
    request per issue is the price of one changed file, as of several.
    """
    what = f"attachment {attachment.name} of issue #{remote.id} ({item.key})"
    with conn.batch_lock:
        batch = conn.attachment_batches.get(remote.id)
        owner = batch is None
        if batch is None:
            files = [(Path(a.path), a.name) for a in _attachments(item) if Path(a.path).is_file()]
            batch = _Batch({name for _, name in files})
            conn.attachment_batches[remote.id] = batch
    if owner:
        try:
            if batch.names:
                upload_files(conn, remote.id, [(Path(a.path), a.name) for a in _attachments(item)
                                              if a.name in batch.names],
                             f"attachments of issue #{remote.id} ({item.key})")
        except BaseException as error:
            batch.error = error
            raise
        finally:
            batch.done.set()
    else:
        batch.done.wait()
    if attachment.name not in batch.names:  # its file is missing: say so for this attachment
        upload_file(conn, remote.id, Path(attachment.path), attachment.name, what)
        return True
    if batch.error is not None and not owner:
        raise ItemError(f"{what}: not uploaded ({batch.error})")
    return True


def _attachments(item: Item) -> list[Attachment]:
    source = item.source
    return list(getattr(source, "attachments", []) or [])


def link_pull_request(conn: BitbucketConnection, item: Item, remote: RemoteItem, number: int) -> bool:
    """Check the PR exists, then comment once on it naming the issue. False (nothing sent) for
    a pull request that does not exist - found missing when the issues were read, or now: the
    engine records it as checked and missing, and the plan warns."""
    if number in conn.context.missing_prs:
        return False
    full = conn.settings.full_name
    not_found = lambda: ItemError(  # noqa: E731
        f"pull request #{number} not found in {full}",
        f"check the pull request number in {item.key} of the spec",
    )
    gone = lambda: _Missing()  # noqa: E731
    text = f"Related issue: {pr_marker(item, remote)}"
    if number not in conn.context.existing_prs:  # not seen when the issues were read
        try:
            if conn.settings.mode == "server":
                conn.client.get(conn.client.server_url(f"/pull-requests/{number}"),
                                f"pull request #{number}", not_found=gone)
            else:
                conn.client.get(conn.client.repo_path(f"/pullrequests/{number}"),
                                f"pull request #{number}", params={"fields": "id"}, not_found=gone)
        except _Missing:
            conn.context.missing_prs.add(number)
            return False
    if conn.settings.mode == "server":
        conn.client.call("POST", conn.client.server_url(f"/pull-requests/{number}/comments"),
                         f"comment on pull request #{number}", json={"text": text}, not_found=not_found)
        return True
    marker = pr_marker(item, remote)
    conn.client.create(
        conn.client.repo_path(f"/pullrequests/{number}/comments"), f"comment on pull request #{number}",
        json={"content": {"raw": text}},
        lookup=lambda: True if any(marker in t for t in pr_comment_texts(conn, number)) else None,
        not_found=not_found,
    )
    return True


class _Missing(ItemError):
    """A pull request's GET answered 404."""

    def __init__(self) -> None:
        super().__init__("pull request not found")


# --- check ----------------------------------------------------------------------------------


def check_tracker(conn: BitbucketConnection) -> list[str]:
    """``spectryn check``: the repository, its issue list, then who (when Bitbucket says), the
    named things and pull requests. Works for every credential kind: access tokens have no user
    (403 on ``/user``), so the identity is only named when ``/user`` answers."""
    s = conn.settings
    kind = s.auth_kind.replace("_", " ")
    lines: list[str] = []
    repo = conn.ensure_repository()  # 401 -> credentials, 403 -> scope, 404 -> workspace / repo
    name = repo.get("full_name") or s.full_name
    lines.append(f"repository {name} ({conn.target})")
    if s.mode == "server":
        lines.append(f"authenticated with {kind}")
        conn.client.get(conn.issues_path(), "issues", params={"pagelen": 1}, not_found=conn.issues_not_found)
        return [*lines, *s.sources]
    conn.client.get(conn.issues_path(), f"issues of {s.full_name}", params={"pagelen": 1, "fields": "size"},
                    not_found=conn.tracker_unavailable)
    lines.append("issue tracker on; issues readable")
    lines.extend(s.sources)
    who = conn.client.request("GET", "/user", params={"fields": "display_name,nickname,uuid,account_id"})
    own = ""
    if who.ok:
        data = who.json() if who.content else {}
        own = str(data.get("uuid") or "")
        lines.append(f"authenticated as {data.get('display_name') or data.get('nickname') or '?'} ({kind})"
                     + (f", account {own}" if own else ""))
    elif s.auth_kind == "access_token":
        lines.append("authenticated with an access token (Bitbucket names no user for access tokens)")
    else:
        lines.append(f"authenticated with {kind} (the user is not named: the token has no "
                     "read:user:bitbucket scope, which a sync does not need)")
    lines.extend(trust_lines(s, repo, own))
    for kind_name in LIST_PATHS:
        names = conn.load_names(kind_name)
        lines.append(f"{kind_name}s: {', '.join(names) if names else '(none; create them in Repository settings -> Issue tracker)'}")
    prs = conn.client.request("GET", conn.client.repo_path("/pullrequests"), params={"pagelen": 1, "fields": "size"})
    if prs.status_code in (401, 403):
        lines.append("pull requests: not readable - the token lacks read:pullrequest:bitbucket "
                     "(pull request links in the spec will fail)")
    elif prs.ok:
        lines.append("pull requests readable")
    lines.append("writing issues (write:issue:bitbucket) is first tried by a sync with --execute")
    return lines


def trust_lines(s: BitbucketSettings, repo: dict[str, Any], own: str) -> list[str]:
    """What ``check`` says about ``sync.trusted_accounts``, from answers it already has (the
    repository's ``is_private``, ``/user``'s uuid): no request of its own. A public repository's
    tracker takes issues from anyone, so with no trusted accounts an issue carrying a copied
    spectryn mark counts as spectryn's."""
    lines: list[str] = []
    public = repo.get("is_private") is False
    if s.trusted_accounts:
        lines.append(f"sync.trusted_accounts: {len(s.trusted_accounts)} account(s); issues others made "
                     "are never taken for spectryn's")
        if own and own not in s.trusted_accounts:
            lines.append(f"warning: this credential's account {own} is not in sync.trusted_accounts: "
                         "issues it made count as spectryn's only on a machine whose state saw them "
                         "made - add it if this credential syncs")
    elif public:
        lines.append("warning: the repository is public and sync.trusted_accounts is empty: anyone "
                     "can create an issue carrying a copied spectryn mark and have it taken for the "
                     "spec's - set sync.trusted_accounts (SPECTRYN_TRUSTED_ACCOUNTS) to the {uuid} of "
                     "the account the sync writes as")
    if own and not s.trusted_accounts:
        lines.append(f"this credential's account for sync.trusted_accounts: {own}")
    elif not own and (public or s.trusted_accounts) and s.auth_kind == "access_token":
        lines.append("an access token's own account is not named here: it is the reporter of the "
                     "issues it creates (a sync that refuses one prints that uuid)")
    return lines
