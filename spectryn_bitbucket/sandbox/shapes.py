"""JSON shapes of the API: store records -> Bitbucket Cloud / Data Center documents, and pagination.

Links are absolute and use the host the client called (``Site.root``), like Bitbucket's ``next``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from .errors import ApiError
from .rendering import render_html

USER_NAME = "sandbox-user"
USER_UUID = "{5a4db0c5-0000-4000-8000-5a4db0c50001}"
REPO_UUID = "{5a4db0c5-0000-4000-8000-5a4db0c50002}"
WORKSPACE_UUID = "{5a4db0c5-0000-4000-8000-5a4db0c50003}"

CLOUD_PAGELEN_DEFAULT = 10
CLOUD_PAGELEN_MAX = 100
PULL_REQUEST_PAGELEN_MAX = 50
SERVER_LIMIT_DEFAULT = 25
SERVER_LIMIT_MAX = 1000


@dataclass(frozen=True)
class Site:
    """Where the documents live: the root URL the client called, workspace and repository."""

    root: str  # e.g. "http://127.0.0.1:8080"
    workspace: str
    repo: str
    has_issues: bool = True
    #: The repository is public (``is_private`` false): anyone reads it, any account may create issues.
    public: bool = False

    @property
    def repo_api(self) -> str:
        """API URL of the repository."""
        return f"{self.root}/2.0/repositories/{self.workspace}/{self.repo}"

    @property
    def repo_html(self) -> str:
        """Web URL of the repository."""
        return f"{self.root}/{self.workspace}/{self.repo}"


def href(url: str) -> dict[str, str]:
    """A link object: ``{"href": url}``."""
    return {"href": url}


def user(site: Site) -> dict[str, Any]:
    """The user of records written before the sandbox had accounts (and of Data Center mode)."""
    return member(site, {"display_name": "Sandbox User", "nickname": USER_NAME, "uuid": USER_UUID,
                         "account_id": "sandbox:0001"})


def member(site: Site, record: dict[str, str]) -> dict[str, Any]:
    """An account document (an issue's reporter and assignee, a member, a comment's user), with
    the ``self``, ``html`` and ``avatar`` links Bitbucket's have."""
    return {
        "type": "user", "display_name": record["display_name"], "nickname": record["nickname"],
        "uuid": record["uuid"], "account_id": record["account_id"],
        "links": {"self": href(f"{site.root}/2.0/users/{quote(record['uuid'])}"),
                  "html": href(f"{site.root}/{record['nickname']}/"),
                  "avatar": href(f"{site.root}/account/{quote(record['uuid'])}/avatar/")},
    }


def person(site: Site, ref: Any) -> dict[str, Any]:
    """The account document of a stored reference (an account's ``user`` fields: the reporter of
    an issue, the user of a comment or change); a plain name is a record from before accounts."""
    if isinstance(ref, dict) and ref.get("uuid"):
        return member(site, ref)
    return user(site)


def membership(site: Site, record: dict[str, str]) -> dict[str, Any]:
    """A ``workspace_membership`` document: the member and the workspace."""
    return {
        "type": "workspace_membership", "user": member(site, record),
        "workspace": {"type": "workspace", "slug": site.workspace, "name": site.workspace,
                      "uuid": WORKSPACE_UUID},
        "links": {"self": href(f"{site.root}/2.0/workspaces/{site.workspace}/members/"
                                f"{quote(record['uuid'])}")},
    }


def workspace(site: Site) -> dict[str, Any]:
    """The workspace document."""
    return {
        "type": "workspace", "slug": site.workspace, "name": site.workspace, "uuid": WORKSPACE_UUID,
        "is_private": True,
        "links": {"self": href(f"{site.root}/2.0/workspaces/{site.workspace}"),
                  "html": href(f"{site.root}/{site.workspace}/"),
                  "repositories": href(f"{site.root}/2.0/repositories/{site.workspace}")},
    }


def repository(site: Site) -> dict[str, Any]:
    """The repository document (``has_issues`` says whether the tracker is on)."""
    return {
        "type": "repository", "name": site.repo, "slug": site.repo,
        "full_name": f"{site.workspace}/{site.repo}", "uuid": REPO_UUID, "is_private": not site.public,
        "scm": "git", "has_issues": site.has_issues, "has_wiki": False,
        "mainbranch": {"type": "branch", "name": "main"},
        "workspace": {"type": "workspace", "slug": site.workspace, "name": site.workspace, "uuid": WORKSPACE_UUID},
        "links": {
            "self": href(site.repo_api), "html": href(site.repo_html),
            "issues": href(f"{site.repo_api}/issues"), "pullrequests": href(f"{site.repo_api}/pullrequests"),
        },
    }


def repository_ref(site: Site) -> dict[str, Any]:
    """The repository as embedded in other documents."""
    return {"type": "repository", "name": site.repo, "full_name": f"{site.workspace}/{site.repo}",
            "uuid": REPO_UUID, "links": {"self": href(site.repo_api), "html": href(site.repo_html)}}


def content(raw: str, markup: str) -> dict[str, Any]:
    """A rendered-content object; ``html`` as Bitbucket renders markdown (see rendering.py)."""
    rendered = render_html(raw) if markup == "markdown" else "".join(
        f"<p>{html.escape(p)}</p>" for p in raw.split("\n\n") if p.strip())
    return {"type": "rendered", "raw": raw, "markup": markup, "html": rendered}


def catalog_entry(site: Site, catalog: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A milestone / component / version document."""
    return {"type": catalog[:-1], "id": entry["id"], "name": entry["name"],
            "links": {"self": href(f"{site.repo_api}/{catalog}/{entry['id']}")}}


def issue(site: Site, record: dict[str, Any], catalogs: dict[str, dict[str, int]]) -> dict[str, Any]:
    """An issue document. ``catalogs`` maps catalog -> name -> id (for milestone/component/version)."""
    issue_url = f"{site.repo_api}/issues/{record['id']}"
    document: dict[str, Any] = {
        "type": "issue", "id": record["id"], "title": record["title"],
        "content": content(record["content_raw"], record["markup"]),
        "state": record["state"], "kind": record["kind"], "priority": record["priority"],
        "assignee": member(site, record["assignee"]) if record.get("assignee") else None,
        "reporter": person(site, record.get("reporter")), "votes": 0, "watches": 1,
        "created_on": record["created_on"], "updated_on": record["updated_on"],
        "edited_on": record["edited_on"], "repository": repository_ref(site),
        "links": {
            "self": href(issue_url), "html": href(f"{site.repo_html}/issues/{record['id']}"),
            "comments": href(f"{issue_url}/comments"), "attachments": href(f"{issue_url}/attachments"),
            "watch": href(f"{issue_url}/watch"), "vote": href(f"{issue_url}/vote"),
        },
    }
    for field, catalog in (("milestone", "milestones"), ("component", "components"), ("version", "versions")):
        name = record[field]
        if name is None:
            document[field] = None
        else:
            entry_id = catalogs.get(catalog, {}).get(name, 0)
            document[field] = catalog_entry(site, catalog, {"id": entry_id, "name": name})
    return document


def issue_comment(site: Site, issue_record: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """An issue comment document."""
    issue_url = f"{site.repo_api}/issues/{issue_record['id']}"
    return {
        "type": "issue_comment", "id": record["id"], "content": content(record["raw"], record["markup"]),
        "user": person(site, record.get("user")), "created_on": record["created_on"], "updated_on": record["updated_on"],
        "issue": {"type": "issue", "id": issue_record["id"], "title": issue_record["title"],
                  "repository": repository_ref(site), "links": {"self": href(issue_url)}},
        "links": {"self": href(f"{issue_url}/comments/{record['id']}"),
                  "html": href(f"{site.repo_html}/issues/{issue_record['id']}#comment-{record['id']}")},
    }


def issue_change(site: Site, issue_record: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """An ``issue_change`` document (the shape of the OpenAPI text's example)."""
    issue_url = f"{site.repo_api}/issues/{issue_record['id']}"
    message = record.get("message") or {}
    return {
        "type": "issue_change", "id": record["id"], "created_on": record["created_on"],
        "user": person(site, record.get("user")), "changes": record["changes"],
        "message": content(message.get("raw") or "", message.get("markup") or "markdown"),
        "issue": {"type": "issue", "id": issue_record["id"], "title": issue_record["title"],
                  "repository": repository_ref(site), "links": {"self": href(issue_url)}},
        "links": {"self": href(f"{issue_url}/changes/{record['id']}"), "issue": href(issue_url),
                  "html": href(f"{site.repo_html}/issues/{issue_record['id']}#comment-{record['id']}")},
    }


def attachment(site: Site, issue_id: int, meta: dict[str, Any]) -> dict[str, Any]:
    """An issue attachment document."""
    return {"type": "issue_attachment", "name": meta["name"],
            "links": {"self": href(f"{site.repo_api}/issues/{issue_id}/attachments/{quote(meta['name'])}")}}


def _int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}: {raw!r} is not an integer") from None


def cloud_page(values: list[Any], params: dict[str, str], base_url: str,
               render: Callable[[Any], Any] = lambda v: v,
               max_pagelen: int | None = CLOUD_PAGELEN_MAX,
               repeated: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """One page of a Cloud collection (``page``, ``pagelen``, absolute ``next``).

    A ``pagelen`` above the endpoint's maximum (100; 50 for pull requests) is a 400 "Invalid
    pagelen", as Bitbucket answers; ``max_pagelen`` None caps it silently instead (the sandbox's
    old ``lenient_pagelen`` behaviour). ``base_url`` is the collection URL without query; the other
    query parameters are carried over.
    """
    requested = _int_param(params, "pagelen", CLOUD_PAGELEN_DEFAULT)
    if max_pagelen is not None and requested > max_pagelen:
        raise ApiError(400, "Invalid pagelen", f"pagelen must be between 1 and {max_pagelen}")
    pagelen = max(1, min(requested, max_pagelen or CLOUD_PAGELEN_MAX))
    page = _int_param(params, "page", 1)
    if page < 1:
        raise ApiError(400, f"Invalid page: {page}")
    start = (page - 1) * pagelen
    chunk = values[start:start + pagelen]
    document: dict[str, Any] = {"pagelen": pagelen, "size": len(values), "page": page,
                                "values": [render(v) for v in chunk]}

    def link(to_page: int) -> str:
        query: dict[str, Any] = dict(params)
        for name, values in (repeated or {}).items():
            if len(values) > 1:  # state=OPEN&state=MERGED stays both
                query[name] = values
        query["page"] = str(to_page)
        if "pagelen" in params:
            query["pagelen"] = str(pagelen)
        return f"{base_url}?{urlencode(query, doseq=True)}"

    if start + pagelen < len(values):
        document["next"] = link(page + 1)
    if page > 1:
        document["previous"] = link(page - 1)
    return document


def server_page(values: list[Any], params: dict[str, str],
                render: Callable[[Any], Any] = lambda v: v) -> dict[str, Any]:
    """One page of a Data Center collection (``start``, ``limit``, ``isLastPage``, ``nextPageStart``)."""
    limit = max(1, min(_int_param(params, "limit", SERVER_LIMIT_DEFAULT), SERVER_LIMIT_MAX))
    start = max(0, _int_param(params, "start", 0))
    chunk = values[start:start + limit]
    last = start + limit >= len(values)
    document: dict[str, Any] = {"size": len(chunk), "limit": limit, "isLastPage": last,
                                "values": [render(v) for v in chunk], "start": start}
    if not last:
        document["nextPageStart"] = start + limit
    return document


def epoch_ms(stamp: str) -> int:
    """An ISO timestamp as Data Center's milliseconds since the epoch."""
    return int(datetime.fromisoformat(stamp).timestamp() * 1000)


def server_user(site: Site) -> dict[str, Any]:
    """The Data Center user document."""
    return {"name": USER_NAME, "emailAddress": "sandbox@example.invalid", "id": 1,
            "displayName": "Sandbox User", "active": True, "slug": USER_NAME, "type": "NORMAL",
            "links": {"self": [href(f"{site.root}/users/{USER_NAME}")]}}


def server_repository(site: Site) -> dict[str, Any]:
    """The Data Center repository document (project key = workspace)."""
    project = {"key": site.workspace, "id": 1, "name": site.workspace, "public": False, "type": "NORMAL",
               "links": {"self": [href(f"{site.root}/projects/{site.workspace}")]}}
    return {"slug": site.repo, "id": 1, "name": site.repo, "hierarchyId": "5a4db0c5", "scmId": "git",
            "state": "AVAILABLE", "statusMessage": "Available", "forkable": True, "project": project,
            "public": False, "archived": False,
            "links": {"self": [href(f"{site.root}/projects/{site.workspace}/repos/{site.repo}/browse")],
                      "clone": [{"href": f"{site.root}/scm/{site.workspace.lower()}/{site.repo}.git", "name": "http"}]}}


def server_pull_request(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """A Data Center pull request document."""
    repo_ref = {"slug": site.repo, "name": site.repo, "project": {"key": site.workspace}}

    def ref(branch: str) -> dict[str, Any]:
        return {"id": f"refs/heads/{branch}", "displayId": branch, "latestCommit": "0" * 40, "repository": repo_ref}

    return {
        "id": record["id"], "version": 0, "title": record["title"], "description": record["description"],
        "state": record["state"], "open": record["state"] == "OPEN", "closed": record["state"] != "OPEN",
        "createdDate": epoch_ms(record["created_on"]), "updatedDate": epoch_ms(record["updated_on"]),
        "fromRef": ref(record["source_branch"]), "toRef": ref(record["destination_branch"]), "locked": False,
        "author": {"user": server_user(site), "role": "AUTHOR", "approved": False, "status": "UNAPPROVED"},
        "reviewers": [], "participants": [],
        "links": {"self": [href(f"{site.root}/projects/{site.workspace}/repos/{site.repo}/pull-requests/{record['id']}")]},
    }


def server_comment(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """A Data Center pull request comment document."""
    updated = record["updated_on"] or record["created_on"]
    return {"id": record["id"], "version": 0, "text": record["raw"], "author": server_user(site),
            "createdDate": epoch_ms(record["created_on"]), "updatedDate": epoch_ms(updated),
            "comments": [], "tasks": []}
