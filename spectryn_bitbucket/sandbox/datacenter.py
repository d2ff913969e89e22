"""Bitbucket Data Center (Server) REST 1.0 endpoints, served in server mode.

Data Center has no issue tracker: only the project's repositories, pull requests and their
comments, users and application properties are served; everything else answers 404.
"""

from __future__ import annotations

from . import shapes
from .errors import ApiError
from .routing import Request, Response, Route

PROJECT = "/rest/api/{ver:ver}/projects/{key}"
REPO = PROJECT + "/repos/{repo}"


def _check(req: Request, key: str, repo: str | None = None) -> None:
    if key.upper() != req.ctx.workspace.upper():
        raise ApiError(404, f"Project {key} does not exist.")
    if repo is not None and repo != req.ctx.repo:
        raise ApiError(404, f"Repository {key}/{repo} does not exist.")


def application_properties(req: Request, ver: str) -> Response:
    """``GET /rest/api/1.0/application-properties``."""
    return Response(200, {"version": "8.19.1", "buildNumber": "8019001", "buildDate": "1700000000000",
                          "displayName": "Bitbucket"})


def get_user(req: Request, ver: str, slug: str) -> Response:
    """``GET /rest/api/1.0/users/{slug}``."""
    if slug != shapes.USER_NAME:
        raise ApiError(404, f"User {slug} does not exist.")
    return Response(200, shapes.server_user(req.site))


def get_project(req: Request, ver: str, key: str) -> Response:
    """``GET /rest/api/1.0/projects/{key}``."""
    _check(req, key)
    return Response(200, shapes.server_repository(req.site)["project"])


def list_repos(req: Request, ver: str, key: str) -> Response:
    """``GET /rest/api/1.0/projects/{key}/repos`` (``start`` / ``limit`` paging)."""
    _check(req, key)
    return Response(200, shapes.server_page([shapes.server_repository(req.site)], req.params))


def get_repo(req: Request, ver: str, key: str, repo: str) -> Response:
    """``GET /rest/api/1.0/projects/{key}/repos/{repo}``."""
    _check(req, key, repo)
    return Response(200, shapes.server_repository(req.site))


def _pull_request(req: Request, key: str, repo: str, pr_id: int) -> dict:
    _check(req, key, repo)
    try:
        return req.ctx.store.pull_request(pr_id)
    except ApiError:
        raise ApiError(404, f"Pull request {pr_id} does not exist in {key}/{repo}.") from None


def list_pull_requests(req: Request, ver: str, key: str, repo: str) -> Response:
    """``GET .../pull-requests``."""
    _check(req, key, repo)
    state = req.params.get("state", "OPEN").upper()
    records = [p for p in req.ctx.store.pull_requests() if state == "ALL" or p["state"] == state]
    return Response(200, shapes.server_page(records, req.params, lambda p: shapes.server_pull_request(req.site, p)))


def get_pull_request(req: Request, ver: str, key: str, repo: str, id: int) -> Response:
    """``GET .../pull-requests/{id}``."""
    return Response(200, shapes.server_pull_request(req.site, _pull_request(req, key, repo, id)))


def list_pr_comments(req: Request, ver: str, key: str, repo: str, id: int) -> Response:
    """``GET .../pull-requests/{id}/comments``."""
    _pull_request(req, key, repo, id)
    comments = req.ctx.store.pr_comments(id)
    return Response(200, shapes.server_page(comments, req.params, lambda c: shapes.server_comment(req.site, c)))


def create_pr_comment(req: Request, ver: str, key: str, repo: str, id: int) -> Response:
    """``POST .../pull-requests/{id}/comments`` with ``{"text": ...}``."""
    _pull_request(req, key, repo, id)
    body = req.json()
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Please enter a non-empty value for the comment text.")
    record = req.ctx.store.add_pr_comment(id, text, shapes.USER_NAME)
    return Response(201, shapes.server_comment(req.site, record))


def routes() -> list[Route]:
    """The Data Center route table."""
    return [
        Route("/rest/api/{ver:ver}/application-properties", {"GET": application_properties}),
        Route("/rest/api/{ver:ver}/users/{slug}", {"GET": get_user}),
        Route(PROJECT, {"GET": get_project}),
        Route(PROJECT + "/repos", {"GET": list_repos}),
        Route(REPO, {"GET": get_repo}),
        Route(REPO + "/pull-requests", {"GET": list_pull_requests}),
        Route(REPO + "/pull-requests/{id:int}", {"GET": get_pull_request}),
        Route(REPO + "/pull-requests/{id:int}/comments", {"GET": list_pr_comments, "POST": create_pr_comment}),
    ]
