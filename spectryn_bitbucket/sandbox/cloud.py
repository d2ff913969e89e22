"""Bitbucket Cloud 2.0 endpoints served under ``/2.0``."""

from __future__ import annotations

from dataclasses import replace
from email import policy
from email.parser import BytesParser
from typing import Any

from . import bbql, changes, insights, shapes
from . import scopes as need
from .errors import ApiError
from .routing import Request, Response, Route
from .store import CATALOGS

REPO = "/2.0/repositories/{ws}/{repo}"
READ_ONLY_DETAIL = ("{what} are read-only in the Bitbucket API: a repository admin creates them in "
                    "Repository settings -> Issue tracker.")


def _check_repo(req: Request, ws: str, repo: str | None = None) -> None:
    ctx = req.ctx
    if ws != ctx.workspace:
        raise ApiError(404, f"Workspace {ws} not found",
                       f"No workspace with identifier '{ws}' exists or you have no access to it.")
    if repo is not None and repo != ctx.repo:
        raise ApiError(404, f"Repository {ws}/{repo} not found",
                       f"No repository '{repo}' exists in workspace '{ws}' or you have no access to it.")


ADMIN_HUB_MESSAGE = ("Issue Tracker features are not supported for repositories in workspaces "
                     "administered through admin.atlassian.com")
REMOVED = ("This API was removed: cross-workspace listings are no longer available. Use "
           "/2.0/repositories/{workspace} and /2.0/user/workspaces.")


def _check_tracker(req: Request, ws: str, repo: str) -> None:
    _check_repo(req, ws, repo)
    _read_access(req)
    if req.ctx.admin_hub:
        raise ApiError(404, ADMIN_HUB_MESSAGE)
    if not req.ctx.has_issues:
        raise ApiError(404, f"Repository {ws}/{repo} does not have the issue tracker enabled",
                       "The issue tracker of this repository is disabled (Repository settings -> Issue tracker).")


NO_ACCESS = "You do not have access to this repository."
NOT_YOURS = "You may only edit what you created in this repository's issue tracker."


def _read_access(req: Request) -> None:
    """403 for an account that is not a member when the repository is private (Bitbucket: "If
    the repository is private and the authenticated user does not have access to it")."""
    account = req.account
    if account is not None and not account.member and not req.ctx.public:
        raise ApiError(403, NO_ACCESS, "The repository is private and this account is not a member of its workspace.")


def _edit_access(req: Request, owner: Any) -> None:
    """Members (and access tokens) edit anything; another account only what it created (on a
    public repository: a stranger creates issues and comments there, and edits only its own)."""
    _read_access(req)
    account = req.account
    if account is None or account.member:
        return
    if isinstance(owner, dict) and owner.get("uuid") == account.uuid:
        return
    raise ApiError(403, NOT_YOURS, "Only members of the workspace may edit what others created.")


def _write_access(req: Request, what: str) -> None:
    """Write access to the repository (members and access tokens): deleting an issue, and
    listing the workspace's members."""
    account = req.account
    if account is None or not account.member:
        raise ApiError(403, f"{what} requires write access to the repository.")


def _actor(req: Request) -> dict[str, str]:
    """Who a write is recorded as: the account (an access token: its bot account)."""
    account = req.account
    return account.user if account is not None else {}


def _catalog_ids(req: Request) -> dict[str, dict[str, int]]:
    return {catalog: {e["name"]: e["id"] for e in req.ctx.store.catalog(catalog)} for catalog in CATALOGS}


def _light(record: dict[str, Any]) -> dict[str, Any]:
    """The fields BBQL and sort look at (bbql.ISSUE), without rendering the whole issue."""
    def named(name: str | None) -> dict[str, str] | None:
        return None if name is None else {"name": name}

    def account(ref: Any) -> dict[str, Any] | None:
        return dict(ref) if isinstance(ref, dict) and ref.get("uuid") else None
    return {
        "id": record["id"], "title": record["title"], "state": record["state"], "kind": record["kind"],
        "priority": record["priority"], "milestone": named(record["milestone"]),
        "component": named(record["component"]), "version": named(record["version"]),
        "content": {"raw": record["content_raw"], "markup": record["markup"]},
        "created_on": record["created_on"], "updated_on": record["updated_on"],
        "edited_on": record["edited_on"], "assignee": account(record.get("assignee")),
        "reporter": account(record.get("reporter")), "votes": 0, "watches": 1,
    }


def _filter_sort(items: list[Any], req: Request, schema: bbql.Schema, view=lambda x: x) -> list[Any]:
    """Apply ``q=`` and ``sort=`` to a list of ``schema`` objects, looking at ``view(item)``."""
    return bbql.apply(items, req.params.get("q"), req.params.get("sort"), schema, view)


def _url(req: Request) -> str:
    return req.site.root + req.path.rstrip("/")


def _page(req: Request, values: list[Any], render=lambda v: v,
          maximum: int = shapes.CLOUD_PAGELEN_MAX) -> Response:
    limit = None if req.ctx.lenient_pagelen else maximum
    return Response(200, shapes.cloud_page(values, req.params, _url(req), render, max_pagelen=limit,
                                           repeated=req.param_lists))


# ----------------------------------------------------------------------------- user / workspace / repos
def get_user(req: Request) -> Response:
    """``GET /2.0/user``: the account of an API token (access tokens: 403, see scopes.py)."""
    account = req.account
    if account is None:
        raise ApiError(401, "Unauthorized", "This resource requires authentication.")
    return Response(200, shapes.member(req.site, account.user))


def removed(req: Request, **_: str) -> Response:
    """``GET /2.0/repositories`` and ``/2.0/workspaces`` (removed in 2026, CHANGE-2770): 410 Gone."""
    raise ApiError(410, "Gone", REMOVED)


def user_workspaces(req: Request) -> Response:
    """``GET /2.0/user/workspaces``: the workspaces the account is a member of."""
    account = req.account
    if account is None or not account.member:
        return _page(req, [])
    access = {"type": "workspace_access", "administrator": False, "workspace": shapes.workspace(req.site)}
    return _page(req, [access])


def get_workspace(req: Request, ws: str) -> Response:
    """``GET /2.0/workspaces/{ws}``."""
    _check_repo(req, ws)
    return Response(200, shapes.workspace(req.site))


def list_members(req: Request, ws: str) -> Response:
    """``GET /2.0/workspaces/{ws}/members`` (paginated, ``q``/``sort`` on the membership). The
    scope check (a repository access token has no ``account`` scope) is the handler's."""
    _check_repo(req, ws)
    _write_access(req, "Listing the workspace's members")
    documents = [shapes.membership(req.site, m) for m in req.ctx.store.members()]
    return _page(req, _filter_sort(documents, req, bbql.MEMBERSHIP))


def list_repositories(req: Request, ws: str) -> Response:
    """``GET /2.0/repositories/{ws}`` (an account without access sees none)."""
    _check_repo(req, ws)
    account = req.account
    if account is not None and not account.member and not req.ctx.public:
        return _page(req, [])
    return _page(req, _filter_sort([shapes.repository(req.site)], req, bbql.REPOSITORY))


def get_repository(req: Request, ws: str, repo: str) -> Response:
    """``GET /2.0/repositories/{ws}/{repo}``."""
    _check_repo(req, ws, repo)
    _read_access(req)
    return Response(200, shapes.repository(req.site))


# ----------------------------------------------------------------------------- issues
def list_issues(req: Request, ws: str, repo: str) -> Response:
    """``GET .../issues`` with ``q``, ``sort``, ``page``, ``pagelen`` (``fields`` is applied by the handler)."""
    _check_tracker(req, ws, repo)
    records = sorted(req.ctx.store.issues(), key=lambda r: r["id"])
    records = _filter_sort(records, req, bbql.ISSUE, view=_light)
    catalogs = _catalog_ids(req)
    return _page(req, records, lambda r: shapes.issue(req.site, r, catalogs))


def create_issue(req: Request, ws: str, repo: str) -> Response:
    """``POST .../issues``."""
    _check_tracker(req, ws, repo)
    record = req.ctx.store.create_issue(req.json(), _actor(req))
    document = shapes.issue(req.site, record, _catalog_ids(req))
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


def get_issue(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}``."""
    _check_tracker(req, ws, repo)
    return Response(200, shapes.issue(req.site, req.ctx.store.issue(id), _catalog_ids(req)))


def update_issue(req: Request, ws: str, repo: str, id: int) -> Response:
    """``PUT .../issues/{id}``: only the fields sent change."""
    _check_tracker(req, ws, repo)
    _edit_access(req, req.ctx.store.issue(id).get("reporter"))
    record, _ = req.ctx.store.update_issue(id, req.json(), _actor(req))
    return Response(200, shapes.issue(req.site, record, _catalog_ids(req)))


def delete_issue(req: Request, ws: str, repo: str, id: int) -> Response:
    """``DELETE .../issues/{id}`` ("This requires write access to the repository")."""
    _check_tracker(req, ws, repo)
    req.ctx.store.issue(id)
    _write_access(req, "Deleting an issue")
    req.ctx.store.delete_issue(id)
    return Response(204)


# ----------------------------------------------------------------------------- changes
def list_changes(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}/changes``: oldest first, ``q`` (``changes.state.new = "resolved"``)
    and ``sort``."""
    _check_tracker(req, ws, repo)
    issue = req.ctx.store.issue(id)
    documents = [shapes.issue_change(req.site, issue, c) for c in req.ctx.store.changes(id)]
    return _page(req, _filter_sort(documents, req, bbql.CHANGE))


def get_change(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``GET .../issues/{id}/changes/{cid}``."""
    _check_tracker(req, ws, repo)
    return Response(200, shapes.issue_change(req.site, req.ctx.store.issue(id), req.ctx.store.change(id, cid)))


def create_change(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../issues/{id}/changes``: ``{"changes": {field: {"new": "..."}}, "message": {"raw"}}``
    edits the issue and records the change (see changes.py); 201 with the record."""
    _check_tracker(req, ws, repo)
    _edit_access(req, req.ctx.store.issue(id).get("reporter"))
    edit, named, raw, markup = changes.edit_from_post(req.json())
    issue, change = req.ctx.store.update_issue(id, edit, _actor(req), (raw, markup), named)
    assert change is not None  # a POST always records
    document = shapes.issue_change(req.site, issue, change)
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


# ----------------------------------------------------------------------------- comments
def list_comments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}/comments``."""
    _check_tracker(req, ws, repo)
    issue = req.ctx.store.issue(id)
    documents = [shapes.issue_comment(req.site, issue, c) for c in req.ctx.store.comments(id)]
    return _page(req, _filter_sort(documents, req, bbql.COMMENT))


def create_comment(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../issues/{id}/comments``."""
    _check_tracker(req, ws, repo)
    record = req.ctx.store.add_comment(id, req.json(), _actor(req))
    document = shapes.issue_comment(req.site, req.ctx.store.issue(id), record)
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


def get_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``GET .../issues/{id}/comments/{cid}``."""
    _check_tracker(req, ws, repo)
    return Response(200, shapes.issue_comment(req.site, req.ctx.store.issue(id), req.ctx.store.comment(id, cid)))


def update_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``PUT .../issues/{id}/comments/{cid}``."""
    _check_tracker(req, ws, repo)
    _edit_access(req, req.ctx.store.comment(id, cid).get("user"))
    record = req.ctx.store.update_comment(id, cid, req.json())
    return Response(200, shapes.issue_comment(req.site, req.ctx.store.issue(id), record))


def delete_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``DELETE .../issues/{id}/comments/{cid}``."""
    _check_tracker(req, ws, repo)
    _edit_access(req, req.ctx.store.comment(id, cid).get("user"))
    req.ctx.store.delete_comment(id, cid)
    return Response(204)


# ----------------------------------------------------------------------------- attachments
def list_attachments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}/attachments``."""
    _check_tracker(req, ws, repo)
    return _page(req, [shapes.attachment(req.site, id, m) for m in req.ctx.store.attachments(id)])


def upload_attachments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../issues/{id}/attachments`` (multipart/form-data, field ``files``, may repeat).

    Like Bitbucket Cloud, answers 201 with an empty body and a ``Location`` header.
    """
    _check_tracker(req, ws, repo)
    _edit_access(req, req.ctx.store.issue(id).get("reporter"))
    files = parse_multipart(req.headers.get("Content-Type", ""), req.body)
    if not files:
        raise ApiError(400, "No files were attached",
                       "Send multipart/form-data with one or more file parts named 'files'.")
    for name, content, content_type in files:
        req.ctx.store.put_attachment(id, name, content, content_type, _actor(req))
    return Response(201, None, {"Location": f"{req.site.repo_api}/issues/{id}/attachments"})


def parse_multipart(content_type: str, body: bytes) -> list[tuple[str, bytes, str]]:
    """The (filename, bytes, content type) of each file part of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(400, "Bad request", "Attachments must be sent as multipart/form-data.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "Bad request", "The multipart body could not be parsed.")
    files = []
    for part in message.iter_parts():
        filename = part.get_filename()
        if not filename:
            continue
        payload = part.get_payload(decode=True)  # bytes for a non-multipart part
        if not isinstance(payload, bytes):
            payload = b""
        files.append((filename.replace("\\", "/").rsplit("/", 1)[-1], payload, part.get_content_type()))
    return files


def download_attachment(req: Request, ws: str, repo: str, id: int, name: str) -> Response:
    """``GET .../issues/{id}/attachments/{name}``: the file's bytes."""
    _check_tracker(req, ws, repo)
    meta, content = req.ctx.store.attachment(id, name)
    return Response(200, content, {"X-Content-SHA256": meta["sha256"]},
                    content_type=meta.get("content_type") or "application/octet-stream")


def delete_attachment(req: Request, ws: str, repo: str, id: int, name: str) -> Response:
    """``DELETE .../issues/{id}/attachments/{name}``."""
    _check_tracker(req, ws, repo)
    _edit_access(req, req.ctx.store.issue(id).get("reporter"))
    req.ctx.store.delete_attachment(id, name)
    return Response(204)


# ----------------------------------------------------------------------------- milestones & co
def _catalog_endpoints(catalog: str) -> tuple[Any, Any]:
    schema = replace(bbql.CATALOG_ENTRY, name=catalog[:-1].capitalize())

    def list_entries(req: Request, ws: str, repo: str) -> Response:
        _check_tracker(req, ws, repo)
        entries = [shapes.catalog_entry(req.site, catalog, e) for e in req.ctx.store.catalog(catalog)]
        return _page(req, _filter_sort(entries, req, schema))

    def get_entry(req: Request, ws: str, repo: str, id: int) -> Response:
        _check_tracker(req, ws, repo)
        return Response(200, shapes.catalog_entry(req.site, catalog, req.ctx.store.catalog_entry_by_id(catalog, id)))

    list_entries.__doc__ = f"``GET .../{catalog}``."
    get_entry.__doc__ = f"``GET .../{catalog}/{{id}}``."
    return list_entries, get_entry


# ----------------------------------------------------------------------------- pull requests
def list_pull_requests(req: Request, ws: str, repo: str) -> Response:
    """``GET .../pullrequests`` (``state=`` may repeat, default OPEN; ``q``, ``sort``)."""
    _check_repo(req, ws, repo)
    _read_access(req)
    states = {s.upper() for s in req.param_lists.get("state", ["OPEN"])}
    documents = [shapes.pull_request(req.site, p, len(req.ctx.store.pr_comments(p["id"])))
                 for p in req.ctx.store.pull_requests() if p["state"] in states]
    return _page(req, _filter_sort(documents, req, bbql.PULL_REQUEST), maximum=shapes.PULL_REQUEST_PAGELEN_MAX)


def get_pull_request(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../pullrequests/{id}``."""
    _check_repo(req, ws, repo)
    _read_access(req)
    record = req.ctx.store.pull_request(id)
    return Response(200, shapes.pull_request(req.site, record, len(req.ctx.store.pr_comments(id))))


def list_pr_comments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../pullrequests/{id}/comments``."""
    _check_repo(req, ws, repo)
    _read_access(req)
    pr = req.ctx.store.pull_request(id)
    documents = [shapes.pr_comment(req.site, pr, c) for c in req.ctx.store.pr_comments(id)]
    return _page(req, _filter_sort(documents, req, bbql.COMMENT))


def create_pr_comment(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../pullrequests/{id}/comments``."""
    _check_repo(req, ws, repo)
    _read_access(req)
    body = req.json()
    content = body.get("content") if isinstance(body, dict) else None
    raw = content.get("raw") if isinstance(content, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, "content.raw: This field is required.", fields={"content.raw": ["This field is required."]})
    pr = req.ctx.store.pull_request(id)
    record = req.ctx.store.add_pr_comment(id, raw, _actor(req))
    document = shapes.pr_comment(req.site, pr, record)
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


def routes() -> list[Route]:
    """The Cloud route table, with the scopes each operation needs (see scopes.py)."""
    read_issue, edit_issue = need.READ_ISSUE, need.EDIT_ISSUE
    table = [
        Route("/2.0/user", {"GET": get_user}, needs={"GET": need.READ_USER}),
        Route("/2.0/user/workspaces", {"GET": user_workspaces}, needs={"GET": need.READ_USER_WORKSPACES}),
        Route("/2.0/workspaces", {"GET": removed}),
        Route("/2.0/repositories", {"GET": removed}),
        Route("/2.0/workspaces/{ws}", {"GET": get_workspace}, needs={"GET": need.READ_WORKSPACE}),
        Route("/2.0/workspaces/{ws}/members", {"GET": list_members}, needs={"GET": need.READ_MEMBERS}),
        Route("/2.0/repositories/{ws}", {"GET": list_repositories}, needs={"GET": need.READ_REPOSITORY}),
        Route(REPO, {"GET": get_repository}, needs={"GET": need.READ_REPOSITORY}),
        Route(REPO + "/issues", {"GET": list_issues, "POST": create_issue},
              needs={"GET": read_issue, "POST": edit_issue}),
        Route(REPO + "/issues/{id:int}", {"GET": get_issue, "PUT": update_issue, "DELETE": delete_issue},
              needs={"GET": read_issue, "PUT": edit_issue, "DELETE": need.DELETE_ISSUE}),
        Route(REPO + "/issues/{id:int}/changes", {"GET": list_changes, "POST": create_change},
              needs={"GET": read_issue, "POST": edit_issue}),
        Route(REPO + "/issues/{id:int}/changes/{cid:int}", {"GET": get_change}, needs={"GET": read_issue}),
        Route(REPO + "/issues/{id:int}/comments", {"GET": list_comments, "POST": create_comment},
              needs={"GET": read_issue, "POST": edit_issue}),
        Route(REPO + "/issues/{id:int}/comments/{cid:int}",
              {"GET": get_comment, "PUT": update_comment, "DELETE": delete_comment},
              needs={"GET": read_issue, "PUT": edit_issue, "DELETE": need.WRITE_ISSUE}),
        Route(REPO + "/issues/{id:int}/attachments", {"GET": list_attachments, "POST": upload_attachments},
              needs={"GET": read_issue, "POST": need.WRITE_ISSUE}),
        Route(REPO + "/issues/{id:int}/attachments/{name:path}",
              {"GET": download_attachment, "DELETE": delete_attachment},
              needs={"GET": read_issue, "DELETE": need.WRITE_ISSUE}),
        Route(REPO + "/pullrequests", {"GET": list_pull_requests}, needs={"GET": need.READ_PULL_REQUEST}),
        Route(REPO + "/pullrequests/{id:int}", {"GET": get_pull_request}, needs={"GET": need.READ_PULL_REQUEST}),
        # the OpenAPI text asks only read:pullrequest:bitbucket (legacy: pullrequest) to comment
        Route(REPO + "/pullrequests/{id:int}/comments", {"GET": list_pr_comments, "POST": create_pr_comment},
              needs={"GET": need.READ_PULL_REQUEST, "POST": need.READ_PULL_REQUEST}),
    ]
    table.extend(insights.routes())
    for catalog in CATALOGS:
        list_entries, get_entry = _catalog_endpoints(catalog)
        detail = READ_ONLY_DETAIL.format(what=catalog.capitalize())
        table.append(Route(REPO + f"/{catalog}", {"GET": list_entries}, detail, needs={"GET": read_issue}))
        table.append(Route(REPO + f"/{catalog}/{{id:int}}", {"GET": get_entry}, detail, needs={"GET": read_issue}))
    return table
