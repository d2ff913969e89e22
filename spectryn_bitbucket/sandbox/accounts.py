"""Who calls the sandbox: Bitbucket Cloud's kinds of credential, each an account with scopes.

Two kinds, as Bitbucket Cloud has them (sources in ``shared/bitbucket-api.md``):

- an **API token** of an Atlassian account: HTTP Basic with the account's **email** as username
  and the token as password, nothing else (a Bitbucket username, an empty one, or the token as
  Bearer is a 401). Its scopes are the granular ``read:issue:bitbucket`` kind, and no scope implies
  another ("This scope does not imply the read:repository:bitbucket scope", API token
  permissions page).
- a **repository / project / workspace access token**: ``Authorization: Bearer`` only. It acts as
  its own bot account (the reporter of the issues it creates), has no user (``GET /2.0/user`` is a
  403) and sees only its own workspace. Its scopes are the legacy names the OpenAPI text's
  ``oauth2`` security lists (``issue``, ``issue:write``, ``pullrequest``...), where ``X:write``
  implies ``X`` and pull-request scopes imply the matching repository scope (the scope list of
  the REST API). The ``account`` scope, which listing workspace members needs, is offered to
  workspace access tokens only; the documentation does not list the access-token permission
  pages' choices completely, so this is the stricter reading.

An account is a workspace member (write access to the repository) or not (a stranger: on a
public repository it may read, create issues and comments, and edit only what it created).
The default accounts are :func:`default_accounts`: ``sync`` (the sync's repository access
token, ``sandbox-token``), ``person`` (a member with an API token: the PM who edits issues in
Bitbucket) and ``stranger`` (an API-token account that is not a member).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

API_TOKEN = "api_token"
ACCESS_TOKEN = "access_token"
TOKEN_LEVELS = ("repository", "project", "workspace")

#: Granular scopes an API token can carry (the Bitbucket ones the sandbox's endpoints name).
API_TOKEN_SCOPES = (
    "read:user:bitbucket", "read:workspace:bitbucket", "read:repository:bitbucket",
    "write:repository:bitbucket", "read:issue:bitbucket", "write:issue:bitbucket",
    "delete:issue:bitbucket", "read:pullrequest:bitbucket", "write:pullrequest:bitbucket",
)
#: Legacy scopes an access token can carry (``account``: workspace access tokens only).
ACCESS_TOKEN_SCOPES = ("repository", "repository:write", "issue", "issue:write", "pullrequest",
                       "pullrequest:write", "account")
#: What a legacy scope implies (the REST API's scope list: ``:write`` implies read; pull request
#: scopes imply the repository ones).
IMPLIES = {
    "repository:write": ("repository",),
    "issue:write": ("issue",),
    "pullrequest": ("repository",),
    "pullrequest:write": ("pullrequest", "repository:write", "repository"),
}

#: The sync's access token: everything a sync needs (issues read/write/delete, repository read,
#: pull requests read/write), no ``account``.
SYNC_SCOPES = ("issue:write", "repository", "pullrequest:write")
#: A person's API token: everything the sandbox serves.
PERSON_SCOPES = API_TOKEN_SCOPES

DEFAULT_TOKEN = "sandbox-token"
PERSON_EMAIL = "alice@example.com"
PERSON_TOKEN = "sandbox-person-token"
STRANGER_EMAIL = "sam@example.net"
STRANGER_TOKEN = "sandbox-stranger-token"

#: The 401 body's message for a credential Bitbucket does not take (seen in users' reports of
#: real answers, e.g. avivsinai/bitbucket-cli#30 and #174).
INVALID_TOKEN = "Token is invalid, expired, or not supported for this endpoint."


def identity(nickname: str, display_name: str | None = None, *, seed: str | None = None) -> dict[str, str]:
    """An account's public fields (the shape of a workspace member record): ``nickname``,
    ``display_name``, and the stable identifiers ``uuid`` and ``account_id`` derived from ``seed``
    (default: the nickname), the same across runs.

    Bitbucket's nickname is "defined by the owner" and "not guaranteed to be unique" (the
    OpenAPI text's ``user`` schema), so accounts seed their identifiers with something unique
    (an API token's email, an access token's name): two accounts may call themselves alike and
    still differ. The identifiers have the real shapes: ``{uuid}`` in braces, and an Atlassian
    account id ``557058:<uuid>``."""
    def uuid_of(text: str) -> str:
        h = hashlib.sha256(text.encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
    seed = seed if seed is not None else nickname
    return {"nickname": nickname, "display_name": display_name or nickname.title(),
            "account_id": f"557058:{uuid_of('account id ' + seed)}",
            "uuid": f"{{{uuid_of('uuid ' + seed)}}}"}


@dataclass(frozen=True)
class Account:
    """One credential and the account it acts as.

    ``handle`` is the sandbox's name for it (``sync``, ``person``, ``stranger``); ``secret`` the
    token; ``email`` the Atlassian account email (API tokens only); ``member`` whether it has
    write access to the workspace's repository; ``level`` the access token's kind
    (``repository``, ``project``, ``workspace``)."""

    handle: str
    kind: str
    secret: str = field(repr=False)
    scopes: frozenset[str]
    nickname: str
    display_name: str
    account_id: str
    uuid: str
    email: str | None = None
    member: bool = True
    level: str = "repository"

    def __post_init__(self) -> None:
        if self.kind not in (API_TOKEN, ACCESS_TOKEN):
            raise ValueError(f"account {self.handle}: kind must be {API_TOKEN} or {ACCESS_TOKEN}")
        if not self.secret:
            raise ValueError(f"account {self.handle}: the token must not be empty")
        if self.kind == API_TOKEN and not (self.email and "@" in self.email):
            raise ValueError(f"account {self.handle}: an API token needs the account's email")
        known = API_TOKEN_SCOPES if self.kind == API_TOKEN else ACCESS_TOKEN_SCOPES
        unknown = sorted(set(self.scopes) - set(known))
        if unknown:
            raise ValueError(f"account {self.handle}: unknown scope(s) for an {self.kind.replace('_', ' ')}: "
                             f"{', '.join(unknown)} (known: {', '.join(known)})")
        if self.kind == ACCESS_TOKEN:
            if self.level not in TOKEN_LEVELS:
                raise ValueError(f"account {self.handle}: level must be one of {', '.join(TOKEN_LEVELS)}")
            if "account" in self.scopes and self.level != "workspace":
                raise ValueError(f"account {self.handle}: only a workspace access token can have the "
                                 "account scope")

    # ------------------------------------------------------------------ what a client sends
    @property
    def is_access_token(self) -> bool:
        """True for a repository/project/workspace access token (Bearer, no user)."""
        return self.kind == ACCESS_TOKEN

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value this credential is sent with."""
        if self.is_access_token:
            return f"Bearer {self.secret}"
        pair = f"{self.email}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    @property
    def headers(self) -> dict[str, str]:
        """``{"Authorization": ...}`` for ``requests``/``urllib`` calls."""
        return {"Authorization": self.authorization}

    @property
    def auth(self) -> Any:
        """For ``requests``' ``auth=``: ``(email, token)`` for an API token, else a callable that
        sets the Bearer header (the sandbox imports no ``requests``)."""
        if self.is_access_token:
            return _Bearer(self.secret)
        return (self.email, self.secret)

    @property
    def env(self) -> dict[str, str]:
        """The environment spectryn's CLI takes this credential from (the other kinds emptied)."""
        if self.is_access_token:
            return {"BITBUCKET_ACCESS_TOKEN": self.secret, "BITBUCKET_EMAIL": "", "BITBUCKET_API_TOKEN": ""}
        return {"BITBUCKET_ACCESS_TOKEN": "", "BITBUCKET_EMAIL": str(self.email),
                "BITBUCKET_API_TOKEN": self.secret}

    @property
    def user(self) -> dict[str, str]:
        """The account's public fields as stored on what it writes (reporter, comment user...)."""
        return {"nickname": self.nickname, "display_name": self.display_name,
                "account_id": self.account_id, "uuid": self.uuid}

    @property
    def rate_key(self) -> str:
        """Whose allowance its requests count against: the user for an API token (all tokens of
        one account share it), each access token its own."""
        return f"user:{self.account_id}" if not self.is_access_token else f"token:{self.uuid}"

    # ------------------------------------------------------------------ scopes
    def granted(self) -> list[str]:
        """The scopes it was given, sorted (what a 403 names as ``granted``)."""
        return sorted(self.scopes)

    def effective(self) -> frozenset[str]:
        """Its scopes with what they imply."""
        found = set(self.scopes)
        for scope in self.scopes:
            found.update(IMPLIES.get(scope, ()))
        return frozenset(found)

    def missing(self, granular: Iterable[str], legacy: Iterable[str]) -> list[str]:
        """The required scopes it lacks: of ``granular`` for an API token, of ``legacy`` for an
        access token."""
        needed = legacy if self.is_access_token else granular
        have = self.effective()
        return [scope for scope in needed if scope not in have]


class _Bearer:
    """``Authorization: Bearer`` for ``requests`` (duck-typed ``AuthBase``)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "Bearer(***)"


def access_token(handle: str, secret: str, *, name: str | None = None, level: str = "repository",
                 scopes: Iterable[str] = SYNC_SCOPES) -> Account:
    """A repository/project/workspace access token acting as its bot account ``name``."""
    bot = identity(name or f"{handle}-token", (name or f"{handle}-token"))
    return Account(handle, ACCESS_TOKEN, secret, frozenset(scopes), email=None, member=True,
                   level=level, **bot)


def api_token(handle: str, email: str, secret: str, *, nickname: str, display_name: str | None = None,
              member: bool = True, scopes: Iterable[str] = PERSON_SCOPES) -> Account:
    """An Atlassian account's API token (Basic: ``email`` + token)."""
    return Account(handle, API_TOKEN, secret, frozenset(scopes), email=email, member=member,
                   **identity(nickname, display_name, seed=email))


def default_accounts(token: str = DEFAULT_TOKEN, *, token_level: str = "repository",
                     token_scopes: Iterable[str] | None = None,
                     person: tuple[str, str] = (PERSON_EMAIL, PERSON_TOKEN),
                     stranger: tuple[str, str] = (STRANGER_EMAIL, STRANGER_TOKEN)) -> list[Account]:
    """``sync`` (an access token), ``person`` (alice, a member) and ``stranger`` (sam, not one)."""
    scopes = list(token_scopes) if token_scopes is not None else list(SYNC_SCOPES)
    if token_scopes is None and token_level == "workspace":
        scopes.append("account")
    return [
        access_token("sync", token, name="spectryn-sync", level=token_level, scopes=scopes),
        api_token("person", person[0], person[1], nickname="alice", display_name="Alice Example"),
        api_token("stranger", stranger[0], stranger[1], nickname="sam", display_name="Sam Stranger",
                  member=False),
    ]


@dataclass(frozen=True)
class Caller:
    """Who sent a request: ``account`` when the credentials are good; ``refused`` when
    credentials were sent and Bitbucket would refuse them (a 401); neither: anonymous."""

    account: Account | None = None
    refused: bool = False

    @property
    def rate_key(self) -> str:
        """The allowance the request counts against (anonymous and refused ones: the address's)."""
        return self.account.rate_key if self.account is not None else "anonymous"


class Accounts:
    """The sandbox's accounts by handle, and who a request's ``Authorization`` header is."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._by_handle: dict[str, Account] = {}
        for account in accounts:
            self.add(account)

    def add(self, account: Account) -> Account:
        """Add (or replace, by handle) an account; two accounts may not share a token, nor a
        uuid or account id unless they are two API tokens of one Atlassian account (one email):
        those are Bitbucket's stable identifiers, one account each (a nickname may be shared)."""
        for other in self._by_handle.values():
            if other.handle == account.handle:
                continue
            if hmac.compare_digest(other.secret.encode(), account.secret.encode()):
                raise ValueError(f"accounts {other.handle} and {account.handle} have the same token")
            same_account = other.email is not None and other.email == account.email
            if (other.uuid == account.uuid or other.account_id == account.account_id) and not same_account:
                raise ValueError(f"accounts {other.handle} and {account.handle} have the same uuid "
                                 "or account id")
        self._by_handle[account.handle] = account
        return account

    def __getitem__(self, handle: str) -> Account:
        try:
            return self._by_handle[handle]
        except KeyError:
            known = ", ".join(self._by_handle)
            raise KeyError(f"no sandbox account {handle!r} (accounts: {known})") from None

    def __iter__(self) -> Iterator[Account]:
        return iter(list(self._by_handle.values()))

    def with_scopes(self, handle: str, scopes: Iterable[str]) -> Account:
        """Give ``handle`` exactly ``scopes`` (a token re-created with other permissions)."""
        return self.add(replace(self[handle], scopes=frozenset(scopes)))

    def identify(self, header: str, basic_allowed: bool = True) -> Caller:
        """The caller of a request with this ``Authorization`` header."""
        scheme, _, value = header.strip().partition(" ")
        if not scheme:
            return Caller()
        if scheme.lower() == "bearer":
            return self._match(value.strip(), kind=ACCESS_TOKEN, email=None)
        if scheme.lower() == "basic" and basic_allowed:
            try:
                user, sep, secret = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return Caller(refused=True)
            if not sep:
                return Caller(refused=True)
            return self._match(secret, kind=API_TOKEN, email=user)
        return Caller(refused=True)

    def _match(self, secret: str, kind: str, email: str | None) -> Caller:
        for account in self._by_handle.values():
            if hmac.compare_digest(account.secret.encode(), secret.encode()):
                # a token of the other kind, or an API token with any username but its email
                # (even another case of it: the documentation is silent, so the stricter answer)
                if account.kind != kind or (kind == API_TOKEN and email != account.email):
                    return Caller(refused=True)
                return Caller(account)
        return Caller(refused=True)
