"""Bitbucket Cloud pull requests: the documents and the endpoints (list, one, comments by id).

Shapes from Atlassian's OpenAPI text (``pullrequest``, ``pullrequest_endpoint``, ``participant``,
``pullrequest_comment``): ``author``, ``source``/``destination`` with ``branch``, ``commit``
(``hash``, 12 hex digits as Bitbucket lists them) and ``repository``, ``summary`` and
``rendered``, ``reviewers``, ``participants`` (reviewers, role REVIEWER, and whoever commented,
role PARTICIPANT, with ``participated_on`` the time of their last comment), ``state``,
``merge_commit``, ``close_source_branch``, ``comment_count``, ``task_count`` and the links.

Comments: ``GET/PUT/DELETE .../comments/{comment_id}``; only the author edits or deletes one
(the sandbox models no admins). A deleted comment stays in the list with ``deleted: true`` and
no text (users' logs of the real lists show such entries); editing it is a 404. Where the
documentation is silent on a deleted comment's text, the stricter answer: none is kept.
"""

from __future__ import annotations

import hashlib
from typing import Any

from . import access, bbql, shapes
from . import scopes as need
from .errors import ApiError
from .routing import Request, Response, Route
from .shapes import Site

REPO = "/2.0/repositories/{ws}/{repo}"
MERGE_STRATEGIES = ["merge_commit", "squash", "fast_forward"]


def commit_hash(site: Site, pr_id: int, side: str) -> str:
    """The (stable, made-up) commit at one end of a seeded pull request: 12 hex digits."""
    return hashlib.sha1(f"{site.workspace}/{site.repo}:pr-{pr_id}:{side}".encode()).hexdigest()[:12]


def _endpoint(site: Site, record: dict[str, Any], side: str) -> dict[str, Any]:
    digest = commit_hash(site, record["id"], side)
    branch: dict[str, Any] = {"name": record[f"{side}_branch"]}
    if side == "destination":
        branch.update({"merge_strategies": MERGE_STRATEGIES, "default_merge_strategy": "merge_commit"})
    return {"branch": branch, "repository": shapes.repository_ref(site),
            "commit": {"type": "commit", "hash": digest,
                       "links": {"self": shapes.href(f"{site.repo_api}/commit/{digest}"),
                                 "html": shapes.href(f"{site.repo_html}/commits/{digest}")}}}


def participants(site: Site, record: dict[str, Any], comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reviewers (REVIEWER) and commenters who are not reviewers (PARTICIPANT)."""
    last: dict[str, tuple[dict[str, Any], str]] = {}
    for comment in comments:
        user = comment.get("user")
        if isinstance(user, dict) and user.get("uuid"):
            last[user["uuid"]] = (user, comment["created_on"])
    found = []
    for reviewer in record.get("reviewers", []):
        spoke = last.pop(reviewer["uuid"], (reviewer, None))[1]
        found.append({"type": "participant", "user": shapes.member(site, reviewer), "role": "REVIEWER",
                      "approved": False, "state": None, "participated_on": spoke})
    for user, spoke in last.values():
        found.append({"type": "participant", "user": shapes.member(site, user), "role": "PARTICIPANT",
                      "approved": False, "state": None, "participated_on": spoke})
    return found


def document(site: Site, record: dict[str, Any], comments: list[dict[str, Any]]) -> dict[str, Any]:
    """A Cloud pull request document (``comments``: its comment records)."""
    pr_url = f"{site.repo_api}/pullrequests/{record['id']}"
    html = f"{site.repo_html}/pull-requests/{record['id']}"
    description = record.get("description") or ""
    open_ = record["state"] == "OPEN"
    return {
        "type": "pullrequest", "id": record["id"], "title": record["title"], "description": description,
        "summary": shapes.content(description, "markdown"),
        "rendered": {"title": shapes.content(record["title"], "markdown"),
                     "description": shapes.content(description, "markdown")},
        "state": record["state"], "draft": False, "author": shapes.person(site, record.get("author")),
        "source": _endpoint(site, record, "source"), "destination": _endpoint(site, record, "destination"),
        "merge_commit": None if open_ or record["state"] != "MERGED" else {
            "type": "commit", "hash": commit_hash(site, record["id"], "merge")},
        "close_source_branch": False, "closed_by": None, "reason": "",
        "reviewers": [shapes.member(site, r) for r in record.get("reviewers", [])],
        "participants": participants(site, record, [c for c in comments if not c.get("deleted")]),
        "comment_count": sum(1 for c in comments if not c.get("deleted")), "task_count": 0,
        "created_on": record["created_on"], "updated_on": record["updated_on"],
        "links": {name: shapes.href(target) for name, target in (
            ("self", pr_url), ("html", html), ("commits", f"{pr_url}/commits"), ("approve", f"{pr_url}/approve"),
            ("diff", f"{site.repo_api}/diff/{site.workspace}/{site.repo}:{commit_hash(site, record['id'], 'source')}"
                     f"%0D{commit_hash(site, record['id'], 'destination')}"),
            ("diffstat", f"{pr_url}/diffstat"), ("comments", f"{pr_url}/comments"),
            ("activity", f"{pr_url}/activity"), ("merge", f"{pr_url}/merge"), ("decline", f"{pr_url}/decline"),
            ("statuses", f"{pr_url}/statuses"))},
    }


def comment_document(site: Site, pr: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """A Cloud pull request comment document."""
    pr_url = f"{site.repo_api}/pullrequests/{pr['id']}"
    deleted = bool(record.get("deleted"))
    return {
        "type": "pullrequest_comment", "id": record["id"],
        "content": shapes.content("" if deleted else record["raw"], record["markup"]),
        "user": shapes.person(site, record.get("user")), "created_on": record["created_on"],
        "updated_on": record["updated_on"], "deleted": deleted, "pending": False,
        "pullrequest": {"type": "pullrequest", "id": pr["id"], "title": pr["title"],
                        "links": {"self": shapes.href(pr_url),
                                  "html": shapes.href(f"{site.repo_html}/pull-requests/{pr['id']}")}},
        "links": {"self": shapes.href(f"{pr_url}/comments/{record['id']}"),
                  "html": shapes.href(f"{site.repo_html}/pull-requests/{pr['id']}#comment-{record['id']}")},
    }


# ----------------------------------------------------------------------------- endpoints
def list_pull_requests(req: Request, ws: str, repo: str) -> Response:
    """``GET .../pullrequests`` (``state=`` may repeat, default OPEN; ``q``, ``sort``)."""
    access.check_repo(req, ws, repo)
    access.read_access(req)
    states = {s.upper() for s in req.param_lists.get("state", ["OPEN"])}
    store = req.ctx.store
    documents = [document(req.site, p, store.pr_comments(p["id"])) for p in store.pull_requests() if p["state"] in states]
    return access.page(req, access.filter_sort(documents, req, bbql.PULL_REQUEST),
                       maximum=shapes.PULL_REQUEST_PAGELEN_MAX)


def get_pull_request(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../pullrequests/{id}``."""
    access.check_repo(req, ws, repo)
    access.read_access(req)
    return Response(200, document(req.site, req.ctx.store.pull_request(id), req.ctx.store.pr_comments(id)))


def list_comments(req: Request, ws: str, repo: str, id: int) -> Response:
    """``GET .../pullrequests/{id}/comments`` (deleted ones too, marked)."""
    access.check_repo(req, ws, repo)
    access.read_access(req)
    pr = req.ctx.store.pull_request(id)
    documents = [comment_document(req.site, pr, c) for c in req.ctx.store.pr_comments(id)]
    return access.page(req, access.filter_sort(documents, req, bbql.COMMENT))


def _raw(req: Request) -> str:
    body = req.json()
    content = body.get("content") if isinstance(body, dict) else None
    raw = content.get("raw") if isinstance(content, dict) else None
    if not isinstance(raw, str) or not raw.strip():
        raise ApiError(400, "content.raw: This field is required.", fields={"content.raw": ["This field is required."]})
    return raw


def create_comment(req: Request, ws: str, repo: str, id: int) -> Response:
    """``POST .../pullrequests/{id}/comments``."""
    access.check_repo(req, ws, repo)
    access.read_access(req)
    raw = _raw(req)
    pr = req.ctx.store.pull_request(id)
    record = req.ctx.store.add_pr_comment(id, raw, access.actor(req))
    made = comment_document(req.site, pr, record)
    return Response(201, made, {"Location": made["links"]["self"]["href"]})


def _own_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> dict[str, Any]:
    access.check_repo(req, ws, repo)
    access.read_access(req)
    record = req.ctx.store.pr_comment(id, cid)
    if record.get("deleted"):
        raise ApiError(404, f"Comment {cid} not found", "The comment was deleted.")
    access.author_access(req, record.get("user"))
    return record


def get_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``GET .../pullrequests/{id}/comments/{cid}``."""
    access.check_repo(req, ws, repo)
    access.read_access(req)
    pr = req.ctx.store.pull_request(id)
    return Response(200, comment_document(req.site, pr, req.ctx.store.pr_comment(id, cid)))


def update_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``PUT .../pullrequests/{id}/comments/{cid}``: its author changes ``content.raw``."""
    _own_comment(req, ws, repo, id, cid)
    record = req.ctx.store.update_pr_comment(id, cid, _raw(req))
    return Response(200, comment_document(req.site, req.ctx.store.pull_request(id), record))


def delete_comment(req: Request, ws: str, repo: str, id: int, cid: int) -> Response:
    """``DELETE .../pullrequests/{id}/comments/{cid}``: 204; it stays listed, ``deleted``."""
    _own_comment(req, ws, repo, id, cid)
    req.ctx.store.delete_pr_comment(id, cid)
    return Response(204)


def routes() -> list[Route]:
    """The pull request routes (added to the Cloud table). The OpenAPI text asks only
    ``read:pullrequest:bitbucket`` (legacy ``pullrequest``) of every comment operation."""
    read = need.READ_PULL_REQUEST
    return [
        Route(REPO + "/pullrequests", {"GET": list_pull_requests}, needs={"GET": read}),
        Route(REPO + "/pullrequests/{id:int}", {"GET": get_pull_request}, needs={"GET": read}),
        Route(REPO + "/pullrequests/{id:int}/comments", {"GET": list_comments, "POST": create_comment},
              needs={"GET": read, "POST": need.COMMENT_PULL_REQUEST}),
        Route(REPO + "/pullrequests/{id:int}/comments/{cid:int}",
              {"GET": get_comment, "PUT": update_comment, "DELETE": delete_comment},
              needs={"GET": read, "PUT": need.COMMENT_PULL_REQUEST, "DELETE": need.COMMENT_PULL_REQUEST}),
    ]
