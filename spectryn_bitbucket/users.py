"""Assignees: a spec's ``@alice`` -> the Bitbucket account an issue is assigned to.

Bitbucket Cloud assigns only by ``account_id`` or ``{uuid}``. A name from the spec is looked up:

1. in ``bitbucket.users`` (config): ``{alice: "557058:...", "bob@acme.com": "{uuid}"}`` - a name
   or an email as written in the spec (``@`` and case ignored) -> an account id or a ``{uuid}``;
2. else, when the credentials may list them, among the workspace's members by nickname (one
   listing of ``/workspaces/{workspace}/members`` per run, made only when a name is not mapped).

A name found nowhere is a plan warning naming the spec line, and the issue's assignee is left as
it is - never silently cleared or dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

PAGE_FIELDS = "values.user.nickname,values.user.account_id,values.user.uuid,next"
#: ``fields=`` entries of an issue listing for its assignee.
ISSUE_FIELDS = ("assignee.account_id", "assignee.uuid", "assignee.nickname")


def user_key(name: str) -> str:
    """A spec name as compared: no leading ``@``, lowercase."""
    return name.strip().lstrip("@").strip().lower()


def assignee_body(ref: str | None) -> dict[str, str] | None:
    """The ``assignee`` of a POST/PUT body for an account id or ``{uuid}`` (None clears)."""
    if ref is None:
        return None
    return {"uuid": ref} if ref.startswith("{") else {"account_id": ref}


def assignee_ref(value: Any) -> str | None:
    """An issue's ``assignee`` object -> its account id (else uuid), as compared with the spec's."""
    if not isinstance(value, dict):
        return None
    return value.get("account_id") or value.get("uuid") or None


@dataclass
class Directory:
    """Names -> account refs for one run: the configured map, then workspace members."""

    configured: dict[str, str] = field(default_factory=dict)
    lookup: bool = True
    members: dict[str, str] | None = None
    #: uuid -> account id, learned from issues and members (so a ``{uuid}`` in config compares
    #: equal to the account id Bitbucket answers with).
    uuids: dict[str, str] = field(default_factory=dict)
    #: Why the members could not be listed (shown once in the plan), or "".
    problem: str = ""
    #: account ref -> the name to write in a spec (``spectryn pull``): configured names first,
    #: then nicknames seen on issues and members.
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, users: dict[str, str] | None, lookup: bool = True) -> Directory:
        directory = cls({user_key(k): str(v).strip() for k, v in (users or {}).items()}, lookup)
        for name, ref in (users or {}).items():
            directory.names.setdefault(str(ref).strip(), str(name).strip().lstrip("@"))
        return directory

    def name_of(self, ref: str | None) -> str | None:
        """The spec name for an account ref, or None when unknown."""
        if ref is None:
            return None
        if ref in self.names:
            return self.names[ref]
        uuid = next((u for u, a in self.uuids.items() if a == ref), None)
        return self.names.get(uuid) if uuid else None

    def resolve(self, name: str) -> str | None:
        """The account ref of a spec name, or None when nobody matches."""
        key = user_key(name)
        ref = self.configured.get(key)
        if ref is None and self.members is not None:
            ref = self.members.get(key)
        if ref is not None and ref.startswith("{"):
            return self.uuids.get(ref, ref)
        return ref

    def needs_listing(self, names: set[str]) -> bool:
        return self.lookup and self.members is None and not self.problem and any(
            user_key(n) not in self.configured for n in names)

    def learn(self, assignee: Any) -> None:
        """Remember what an issue's assignee object (or a member) tells: its uuid -> account id,
        and its nickname for its refs."""
        if not isinstance(assignee, dict):
            return
        if assignee.get("uuid") and assignee.get("account_id"):
            self.uuids[assignee["uuid"]] = assignee["account_id"]
        if assignee.get("nickname"):
            for ref in (assignee.get("account_id"), assignee.get("uuid")):
                if ref:
                    self.names.setdefault(ref, assignee["nickname"])

    def load_members(self, client: Any, workspace: str) -> None:
        """List the workspace's members once (nickname -> account id). Credentials that may not
        (403/401, e.g. a repository access token) leave a note instead of failing the run."""
        found: dict[str, str] = {}
        url: str | None = f"/workspaces/{workspace}/members"
        params: dict[str, Any] | None = {"pagelen": 100, "fields": PAGE_FIELDS}
        while url:
            try:
                response = client.request("GET", url, params=params)
            except (requests.ConnectionError, requests.Timeout) as error:
                self.problem = f"could not list the workspace's members ({type(error).__name__})"
                return
            if response.status_code in (401, 403, 404):
                self.problem = (f"these credentials may not list the members of workspace {workspace} "
                                f"(HTTP {response.status_code})")
                return
            client.raise_for(response, f"members of workspace {workspace}")
            page = response.json() if response.content else {}
            for value in page.get("values", []):
                user = value.get("user") or {}
                self.learn(user)
                ref = user.get("account_id") or user.get("uuid")
                if user.get("nickname") and ref:
                    found.setdefault(user_key(user["nickname"]), ref)
            url, params = page.get("next"), None
        self.members = found

    def warning(self, name: str, where: str) -> str:
        """The plan warning for a name that maps to nobody."""
        fix = "add it to bitbucket.users in your config (name: account_id or {uuid})"
        if self.problem:
            fix += f"; {self.problem}"
        elif self.members is not None:
            fix += " - no workspace member has that nickname"
        return f"{where}: assignee '@{user_key(name)}' maps to no Bitbucket account; not assigned; {fix}"
