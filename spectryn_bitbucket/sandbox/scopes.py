"""The scopes each Cloud endpoint needs, as Atlassian's OpenAPI text gives them, and the 403s.

Every operation of ``swagger.v3.json`` (coderabbitai/bitbucket, ``src/cloud/openapi``) names two
sets: ``x-atlassian-oauth2-scopes`` (the granular scopes of API tokens, all of them required: no
scope implies another) and ``security.oauth2`` (the legacy scopes of access tokens and OAuth).
A request whose credential lacks one is a 403 with the body users report from the real service::

    {"type": "error", "error": {"message": "Your credentials lack one or more required privilege
     scopes.", "detail": {"required": [...], "granted": [...]}}}

(pingdotgg/t3code#6290, gildas/bitbucket-cli#56, backstage/backstage#22383).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError

LACK_SCOPES = "Your credentials lack one or more required privilege scopes."
#: GET /2.0/user and the cross-workspace listings with an access token (Bitbucket's KB article
#: "This API is not accessible by this authentication mechanism").
NOT_FOR_ACCESS_TOKENS = "This API is not accessible by this authentication mechanism"


@dataclass(frozen=True)
class Needs:
    """What one operation requires: ``granular`` scopes (API tokens), ``legacy`` scopes (access
    tokens); ``access_tokens`` False: no access token may call it, whatever its scopes;
    ``anonymous``: a read anyone may make, without credentials, of a public repository."""

    granular: tuple[str, ...]
    legacy: tuple[str, ...]
    access_tokens: bool = True
    anonymous: bool = False


READ_USER = Needs(("read:user:bitbucket",), ("account",), access_tokens=False)
READ_USER_WORKSPACES = Needs(("read:workspace:bitbucket",), ("account",), access_tokens=False)
READ_WORKSPACE = Needs(("read:workspace:bitbucket",), (), anonymous=True)
READ_MEMBERS = Needs(("read:workspace:bitbucket",), ("account",))
READ_REPOSITORY = Needs(("read:repository:bitbucket",), ("repository",), anonymous=True)
READ_ISSUE = Needs(("read:issue:bitbucket",), ("issue",), anonymous=True)
#: POST/PUT of issues, comments and changes: read and write both (the OpenAPI text lists both).
EDIT_ISSUE = Needs(("read:issue:bitbucket", "write:issue:bitbucket"), ("issue:write",))
#: Attachment upload/delete and comment delete: write only.
WRITE_ISSUE = Needs(("write:issue:bitbucket",), ("issue:write",))
DELETE_ISSUE = Needs(("delete:issue:bitbucket",), ("issue:write",))
READ_PULL_REQUEST = Needs(("read:pullrequest:bitbucket",), ("pullrequest",), anonymous=True)
#: Commenting on a pull request: the OpenAPI text asks only the read scope.
COMMENT_PULL_REQUEST = Needs(("read:pullrequest:bitbucket",), ("pullrequest",))
EDIT_PULL_REQUEST = Needs(("read:pullrequest:bitbucket", "write:pullrequest:bitbucket"), ("pullrequest:write",))


def check(needs: Needs | None, account: object) -> None:
    """Raise the 403 Bitbucket answers when ``account`` (an :class:`accounts.Account`, or None
    for an anonymous caller, which is checked elsewhere) may not call an operation needing
    ``needs``."""
    if needs is None or account is None:
        return
    from .accounts import Account

    assert isinstance(account, Account)
    if account.is_access_token and not needs.access_tokens:
        raise ApiError(403, NOT_FOR_ACCESS_TOKENS)
    missing = account.missing(needs.granular, needs.legacy)
    if missing:
        required = list(needs.legacy if account.is_access_token else needs.granular)
        raise ApiError(403, LACK_SCOPES, {"required": required, "granted": account.granted()})
