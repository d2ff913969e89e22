"""What the Cloud endpoints share: the repository and tracker checks, who may read and edit
(members, access tokens, strangers), who a write is recorded as, ``q``/``sort`` and paging."""

from __future__ import annotations

from typing import Any

from . import bbql, shapes
from .errors import ApiError
from .routing import Request, Response


def check_repo(req: Request, ws: str, repo: str | None = None) -> None:
    """404 unless ``ws`` (and ``repo``) are the sandbox's workspace (and repository)."""
    ctx = req.ctx
    if ws != ctx.workspace:
        raise ApiError(404, f"Workspace {ws} not found",
                       f"No workspace with identifier '{ws}' exists or you have no access to it.")
    if repo is not None and repo != ctx.repo:
        raise ApiError(404, f"Repository {ws}/{repo} not found",
                       f"No repository '{repo}' exists in workspace '{ws}' or you have no access to it.")


ADMIN_HUB_MESSAGE = ("Issue Tracker features are not supported for repositories in workspaces "
                     "administered through admin.atlassian.com")


def check_tracker(req: Request, ws: str, repo: str) -> None:
    """The repository exists, the caller may read it, and its issue tracker is on (else 404)."""
    check_repo(req, ws, repo)
    read_access(req)
    if req.ctx.admin_hub:
        raise ApiError(404, ADMIN_HUB_MESSAGE)
    if not req.ctx.has_issues:
        raise ApiError(404, f"Repository {ws}/{repo} does not have the issue tracker enabled",
                       "The issue tracker of this repository is disabled (Repository settings -> Issue tracker).")


NO_ACCESS = "You do not have access to this repository."
NOT_YOURS = "You may only edit what you created in this repository's issue tracker."


def read_access(req: Request) -> None:
    """403 for an account that is not a member when the repository is private (Bitbucket: "If
    the repository is private and the authenticated user does not have access to it")."""
    account = req.account
    if account is not None and not account.member and not req.ctx.public:
        raise ApiError(403, NO_ACCESS, "The repository is private and this account is not a member of its workspace.")


def edit_access(req: Request, owner: Any) -> None:
    """Members (and access tokens) edit anything; another account only what it created (on a
    public repository: a stranger creates issues and comments there, and edits only its own)."""
    read_access(req)
    account = req.account
    if account is None or account.member:
        return
    if isinstance(owner, dict) and owner.get("uuid") == account.uuid:
        return
    raise ApiError(403, NOT_YOURS, "Only members of the workspace may edit what others created.")


def author_access(req: Request, author: Any) -> None:
    """Only a comment's author edits or deletes it (Bitbucket lets repository admins delete
    others' comments too; the sandbox models no admins, so the stricter answer)."""
    read_access(req)
    account = req.account
    if account is None or not (isinstance(author, dict) and author.get("uuid") == account.uuid):
        raise ApiError(403, "You may only edit your own comments.")


def write_access(req: Request, what: str) -> None:
    """Write access to the repository (members and access tokens): deleting an issue, and
    listing the workspace's members."""
    account = req.account
    if account is None or not account.member:
        raise ApiError(403, f"{what} requires write access to the repository.")


def actor(req: Request) -> dict[str, str]:
    """Who a write is recorded as: the account (an access token: its bot account)."""
    account = req.account
    return account.user if account is not None else {}


def filter_sort(items: list[Any], req: Request, schema: bbql.Schema, view: Any = lambda x: x) -> list[Any]:
    """Apply ``q=`` and ``sort=`` to a list of ``schema`` objects, looking at ``view(item)``."""
    return bbql.apply(items, req.params.get("q"), req.params.get("sort"), schema, view)


def url(req: Request) -> str:
    """The collection's URL as the client called it (the base of ``next``)."""
    return req.site.root + req.path.rstrip("/")


def page(req: Request, values: list[Any], render: Any = lambda v: v,
          maximum: int = shapes.CLOUD_PAGELEN_MAX) -> Response:
    """One page of ``values`` (rendered with ``render``) as the answer."""
    limit = None if req.ctx.lenient_pagelen else maximum
    return Response(200, shapes.cloud_page(values, req.params, url(req), render, max_pagelen=limit,
                                           repeated=req.param_lists))
