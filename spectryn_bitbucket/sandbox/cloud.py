"""Bitbucket Cloud 2.0 endpoints served under ``/2.0``."""

from __future__ import annotations

from dataclasses import replace
from email import policy
from email.parser import BytesParser
from typing import Any

from . import access, bbql, changes, insights, pullrequests, shapes
from . import scopes as need
from .errors import ApiError
from .routing import Request, Response, Route
from .store import CATALOGS

REPO = "/2.0/repositories/{ws}/{repo}"
READ_ONLY_DETAIL = ("{what} are read-only in the Bitbucket API: a repository admin creates them in "
                    "Repository settings -> Issue tracker.")


#: The body of the endpoints CHANGE-2770 removed, as users quote it (community.atlassian.com
#: question 3218050, aashari/mcp-server-atlassian-bitbucket#230): error.data and a top-level data.
CHANGE_2770 = "https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770"


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


# ----------------------------------------------------------------------------- user / workspace / repos
def get_user(req: Request) -> Response:
    """``GET /2.0/user``: the account of an API token (access tokens: 403, see scopes.py)."""
    account = req.account
    if account is None:
        raise ApiError(401, "Unauthorized", "This resource requires authentication.")
    return Response(200, shapes.member(req.site, account.user))


def removed(req: Request, **_: str) -> Response:
    """``GET /2.0/repositories``, ``/2.0/workspaces`` and ``/2.0/user/permissions/workspaces``
    (CHANGE-2770, removed in 2026): 410 with the real body, to anyone. (``/2.0/user/permissions/
    repositories`` answered 410 too, but 404 since August 2026 - pingdotgg/t3code#8328 - which
    the sandbox gives any path it does not serve.)"""
    raise ApiError(410, "CHANGE-2770 - Functionality has been deprecated",
                   "Please read the changelog entry for more details.", data={"announcement_url": CHANGE_2770})


def user_workspaces(req: Request) -> Response:
    """``GET /2.0/user/workspaces``: the workspaces the account is a member of."""
    account = req.account
    if account is None or not account.member:
        return access.page(req, [])
    membership = {"type": "workspace_access", "administrator": False, "workspace": shapes.workspace(req.site)}
    return access.page(req, [membership])


def get_workspace(req: Request, ws: str) -> Response:
    """``GET /2.0/workspaces/{ws}``."""
    access.check_repo(req, ws)
    return Response(200, shapes.workspace(req.site))


def list_members(req: Request, ws: str) -> Response:
    """``GET /2.0/workspaces/{ws}/members`` (paginated, ``q``/``sort`` on the membership). The
    scope check (a repository access token has no ``account`` scope) is the handler's."""
    access.check_repo(req, ws)
    access.write_access(req, "Listing the workspace's members")
    documents = [shapes.membership(req.site, m) for m in req.ctx.store.members()]
    return access.page(req, access.filter_sort(documents, req, bbql.MEMBERSHIP))


def list_repositories(req: Request, ws: str) -> Response:
    """``GET /2.0/repositories/{ws}`` (an account without access sees none)."""
    access.check_repo(req, ws)
    account = req.account
    if account is not None and not account.member and not req.ctx.public:
        return access.page(req, [])
    return access.page(req, access.filter_sort([shapes.repository(req.site)], req, bbql.REPOSITORY))


def get_repository(req: Request, ws: str, repo: str) -> Response:
    """``GET /2.0/repositories/{ws}/{repo}``."""
    access.check_repo(req, ws, repo)
    access.read_access(req)
    return Response(200, shapes.repository(req.site))


# ----------------------------------------------------------------------------- issues
def list_issues(req: Request, ws: str, repo: str) -> Response:
    """``GET .../issues`` with ``q``, ``sort``, ``page``, ``pagelen`` (``fields`` is applied by the handler)."""
    access.check_tracker(req, ws, repo)
    records = sorted(req.ctx.store.issues(), key=lambda r: r["id"])
    records = access.filter_sort(records, req, bbql.ISSUE, view=_light)
    catalogs = _catalog_ids(req)
    return access.page(req, records, lambda r: shapes.issue(req.site, r, catalogs))


def create_issue(req: Request, ws: str, repo: str) -> Response:
    """``POST .../issues``."""
    access.check_tracker(req, ws, repo)
    record = req.ctx.store.create_issue(req.json(), access.actor(req))
    document = shapes.issue(req.site, record, _catalog_ids(req))
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


def get_issue(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}``."""
    access.check_tracker(req, ws, repo)
    return Response(200, shapes.issue(req.site, req.ctx.store.issue(id), _catalog_ids(req)))


def update_issue(req: Request, ws: str, repo: str, id: int) -> Response:
    """``PUT .../issues/{id}``: only the fields sent change."""
    access.check_tracker(req, ws, repo)
    access.edit_access(req, req.ctx.store.issue(id).get("reporter"))
    record, _ = req.ctx.store.update_issue(id, req.json(), access.actor(req))
    return Response(200, shapes.issue(req.site, record, _catalog_ids(req)))


def delete_issue(req: Request, ws: str, repo: str, id: int) -> Response:
    """``DELETE .../issues/{id}`` ("This requires write access to the repository")."""
    access.check_tracker(req, ws, repo)
    req.ctx.store.issue(id)
    access.write_access(req, "Deleting an issue")
    req.ctx.store.delete_issue(id)
    return Response(204)


# ----------------------------------------------------------------------------- changes
def list_changes(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}/changes``: oldest first, ``q`` (``changes.state.new = "resolved"``)
    and ``sort``."""
    access.check_tracker(req, ws, repo)
    issue = req.ctx.store.issue(id)
    documents = [shapes.issue_change(req.site, issue, c) for c in req.ctx.store.changes(id)]
    return access.page(req, access.filter_sort(documents, req, bbql.CHANGE))


def get_change(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``GET .../issues/{id}/changes/{cid}``."""
    access.check_tracker(req, ws, repo)
    return Response(200, shapes.issue_change(req.site, req.ctx.store.issue(id), req.ctx.store.change(id, cid)))


def create_change(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../issues/{id}/changes``: ``{"changes": {field: {"new": "..."}}, "message": {"raw"}}``
    edits the issue and records the change (see changes.py); 201 with the record."""
    access.check_tracker(req, ws, repo)
    access.edit_access(req, req.ctx.store.issue(id).get("reporter"))
    edit, named, raw, markup = changes.edit_from_post(req.json())
    issue, change = req.ctx.store.update_issue(id, edit, access.actor(req), (raw, markup), named)
    assert change is not None  # a POST always records
    document = shapes.issue_change(req.site, issue, change)
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


# ----------------------------------------------------------------------------- comments
def list_comments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}/comments``."""
    access.check_tracker(req, ws, repo)
    issue = req.ctx.store.issue(id)
    documents = [shapes.issue_comment(req.site, issue, c) for c in req.ctx.store.comments(id)]
    return access.page(req, access.filter_sort(documents, req, bbql.COMMENT))


def create_comment(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../issues/{id}/comments``."""
    access.check_tracker(req, ws, repo)
    record = req.ctx.store.add_comment(id, req.json(), access.actor(req))
    document = shapes.issue_comment(req.site, req.ctx.store.issue(id), record)
    return Response(201, document, {"Location": document["links"]["self"]["href"]})


def get_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``GET .../issues/{id}/comments/{cid}``."""
    access.check_tracker(req, ws, repo)
    return Response(200, shapes.issue_comment(req.site, req.ctx.store.issue(id), req.ctx.store.comment(id, cid)))


def update_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``PUT .../issues/{id}/comments/{cid}``."""
    access.check_tracker(req, ws, repo)
    access.author_access(req, req.ctx.store.comment(id, cid).get("user"))
    record = req.ctx.store.update_comment(id, cid, req.json())
    return Response(200, shapes.issue_comment(req.site, req.ctx.store.issue(id), record))


def delete_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``DELETE .../issues/{id}/comments/{cid}``."""
    access.check_tracker(req, ws, repo)
    access.author_access(req, req.ctx.store.comment(id, cid).get("user"))
    req.ctx.store.delete_comment(id, cid)
    return Response(204)


# ----------------------------------------------------------------------------- attachments
def list_attachments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../issues/{id}/attachments``."""
    access.check_tracker(req, ws, repo)
    return access.page(req, [shapes.attachment(req.site, id, m) for m in req.ctx.store.attachments(id)])


def upload_attachments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../issues/{id}/attachments`` (multipart/form-data, field ``files``, may repeat).

    Like Bitbucket Cloud, answers 201 with an empty body and a ``Location`` header.
    """
    access.check_tracker(req, ws, repo)
    access.edit_access(req, req.ctx.store.issue(id).get("reporter"))
    files = parse_multipart(req.headers.get("Content-Type", ""), req.body)
    if not files:
        raise ApiError(400, "No files were attached",
                       "Send multipart/form-data with one or more file parts named 'files'.")
    for name, content, content_type in files:
        req.ctx.store.put_attachment(id, name, content, content_type, access.actor(req))
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
    """``GET .../issues/{id}/attachments/{name}``: a 302 to a one-time link (downloads.py)."""
    access.check_tracker(req, ws, repo)
    req.ctx.store.attachment(id, name)  # 404 when there is none
    return Response(302, None, {"Location": req.site.root + req.ctx.downloads.issue(id, name)})


def delete_attachment(req: Request, ws: str, repo: str, id: int, name: str) -> Response:
    """``DELETE .../issues/{id}/attachments/{name}``."""
    access.check_tracker(req, ws, repo)
    access.edit_access(req, req.ctx.store.issue(id).get("reporter"))
    req.ctx.store.delete_attachment(id, name)
    return Response(204)


# ----------------------------------------------------------------------------- milestones & co
def _catalog_endpoints(catalog: str) -> tuple[Any, Any]:
    schema = replace(bbql.CATALOG_ENTRY, name=catalog[:-1].capitalize())

    def list_entries(req: Request, ws: str, repo: str) -> Response:
        access.check_tracker(req, ws, repo)
        entries = [shapes.catalog_entry(req.site, catalog, e) for e in req.ctx.store.catalog(catalog)]
        return access.page(req, access.filter_sort(entries, req, schema))

    def get_entry(req: Request, ws: str, repo: str, id: int) -> Response:
        access.check_tracker(req, ws, repo)
        return Response(200, shapes.catalog_entry(req.site, catalog, req.ctx.store.catalog_entry_by_id(catalog, id)))

    list_entries.__doc__ = f"``GET .../{catalog}``."
    get_entry.__doc__ = f"``GET .../{catalog}/{{id}}``."
    return list_entries, get_entry


def routes() -> list[Route]:
    """The Cloud route table, with the scopes each operation needs (see scopes.py)."""
    read_issue, edit_issue = need.READ_ISSUE, need.EDIT_ISSUE
    table = [
        Route("/2.0/user", {"GET": get_user}, needs={"GET": need.READ_USER}),
        Route("/2.0/user/workspaces", {"GET": user_workspaces}, needs={"GET": need.READ_USER_WORKSPACES}),
        Route("/2.0/workspaces", {"GET": removed}),
        Route("/2.0/repositories", {"GET": removed}),
        Route("/2.0/user/permissions/workspaces", {"GET": removed}),
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
    ]
    table.extend(pullrequests.routes())
    table.extend(insights.routes())
    for catalog in CATALOGS:
        list_entries, get_entry = _catalog_endpoints(catalog)
        detail = READ_ONLY_DETAIL.format(what=catalog.capitalize())
        table.append(Route(REPO + f"/{catalog}", {"GET": list_entries}, detail, needs={"GET": read_issue}))
        table.append(Route(REPO + f"/{catalog}/{{id:int}}", {"GET": get_entry}, detail, needs={"GET": read_issue}))
    return table
