"""``BitbucketAdapter``: the seed guide's Python API, on the same client as the tracker hooks.

    from spectryn_bitbucket import BitbucketAdapter

    adapter = BitbucketAdapter(email="me@example.com", api_token="...", workspace="acme", repo="api")
    adapter.add_comment("#123", "This is a comment")

The seed's ``username`` / ``app_password`` keywords still work (app passwords themselves were
removed by Atlassian on 2026-07-28; a 401 says what to use instead). Issue keys may be ``"#123"``,
``"123"`` or ``123``. Failures raise :class:`spectryn_core.errors.TrackerError` (``ItemError``
for one missing issue or pull request).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.config import CLOUD_API, settings_from_section
from spectryn_bitbucket.tracker import BitbucketConnection, upload_file
from spectryn_core.errors import ItemError

PR_STATES = ("OPEN", "MERGED", "DECLINED", "SUPERSEDED")
PR_PAGELEN = 50  # pull request lists answer 400 "Invalid pagelen" above 50
PR_REF_RE = re.compile(
    r"(?:\bpull\s*request\s*#?\s*|\bPR\s*#\s*|/pull-?requests/)(\d+)", re.IGNORECASE
)


def issue_number(issue_key: str | int) -> int:
    """``"#123"``, ``"123"`` or ``123`` -> 123; anything else is a ValueError."""
    text = str(issue_key).strip().lstrip("#")
    if not text.isdigit():
        raise ValueError(f"not a Bitbucket issue number: {issue_key!r} (use '#123', '123' or 123)")
    return int(text)


class BitbucketAdapter:
    """Direct access to one repository's issues, attachments, comments and pull requests."""

    def __init__(
        self,
        username: str | None = None,
        app_password: str | None = None,
        workspace: str | None = None,
        repo: str | None = None,
        base_url: str = CLOUD_API,
        email: str | None = None,
        api_token: str | None = None,
        access_token: str | None = None,
        **options: Any,
    ) -> None:
        values = {
            "username": username, "app_password": app_password, "workspace": workspace, "repo": repo,
            "base_url": base_url, "email": email, "api_token": api_token, "access_token": access_token,
            **options,
        }
        self.settings = settings_from_section(values)
        self.client = BitbucketClient(self.settings)
        self.connection = BitbucketConnection(self.settings, self.client)

    def close(self) -> None:
        """Close the HTTP session."""
        self.client.close()

    def _issue(self, issue_key: str | int, suffix: str = "") -> str:
        return self.connection.issues_path(f"/{issue_number(issue_key)}{suffix}")

    def _missing_issue(self, issue_key: str | int) -> Any:
        return lambda: ItemError(f"issue #{issue_number(issue_key)} not found in {self.settings.full_name}",
                                 "check the issue number, and that the repository's issue tracker is on")

    def get_issue(self, issue_key: str | int) -> dict[str, Any]:
        """The issue as Bitbucket returns it."""
        return self.client.get(self._issue(issue_key), f"issue {issue_key}",
                               not_found=self._missing_issue(issue_key))

    # --- pull requests ---------------------------------------------------------------------

    def get_pull_requests_for_issue(self, issue_key: str | int) -> list[dict[str, Any]]:
        """Pull requests linked to the issue: those its content names (``pull request #456``,
        ``PR #456``, ``.../pull-requests/456``) and those whose title or description names it."""
        number = issue_number(issue_key)
        issue = self.get_issue(number)
        numbers = [int(n) for n in PR_REF_RE.findall((issue.get("content") or {}).get("raw") or "")]
        found: dict[int, dict[str, Any]] = {}
        # every state (the list defaults to OPEN), 50 a page (the pull request maximum), and
        # only an exact "#5" (BBQL's ~ also matches #50-#59)
        exact = re.compile(rf"#{number}(?!\d)")
        values = self.client.paginate(
            self.client.repo_path("/pullrequests"), f"pull requests naming issue #{number}",
            params={"q": f'title ~ "#{number}" OR description ~ "#{number}"', "state": list(PR_STATES),
                    "pagelen": PR_PAGELEN, "fields": "values.id,values.title,values.description,"
                                                      "values.state,values.links.html.href,next"},
        )
        for pr in values:
            if exact.search(pr.get("title") or "") or exact.search(pr.get("description") or ""):
                found[int(pr["id"])] = pr
        for pr_number in numbers:
            if pr_number not in found:
                answer = self.client.request("GET", self.client.repo_path(f"/pullrequests/{pr_number}"))
                if answer.ok:
                    found[pr_number] = answer.json()
        return [
            {"id": pid, "title": pr.get("title", ""), "state": pr.get("state", ""),
             "url": ((pr.get("links") or {}).get("html") or {}).get("href", "")}
            for pid, pr in sorted(found.items())
        ]

    def link_pull_request(self, issue_key: str | int, pull_request_id: int) -> bool:
        """Check the pull request exists and comment on it once, naming the issue."""
        number = issue_number(issue_key)
        pr = int(pull_request_id)
        not_found = lambda: ItemError(f"pull request #{pr} not found in {self.settings.full_name}")  # noqa: E731
        self.client.get(self.client.repo_path(f"/pullrequests/{pr}"), f"pull request #{pr}",
                        params={"fields": "id"}, not_found=not_found)
        text = f"Related issue: #{number}"
        path = self.client.repo_path(f"/pullrequests/{pr}/comments")

        def existing() -> bool | None:
            values = self.client.paginate(path, f"comments of pull request #{pr}",
                                          params={"fields": "values.content.raw,next"}, not_found=not_found)
            return True if any(text in ((v.get("content") or {}).get("raw") or "") for v in values) else None

        if existing():
            return True
        self.client.create(path, f"comment on pull request #{pr}", json={"content": {"raw": text}},
                           lookup=existing, not_found=not_found)
        return True

    # --- attachments -----------------------------------------------------------------------

    def get_issue_attachments(self, issue_key: str | int) -> list[dict[str, Any]]:
        """``[{"name", "id", "url"}]`` (Bitbucket identifies an attachment by its name)."""
        values = self.client.paginate(self._issue(issue_key, "/attachments"), f"attachments of {issue_key}",
                                      not_found=self._missing_issue(issue_key))
        return [
            {"name": v.get("name"), "id": v.get("name"),
             "url": ((v.get("links") or {}).get("self") or {}).get("href", "")}
            for v in values
        ]

    def upload_attachment(self, issue_key: str | int, file_path: str | Path,
                          description: str | None = None) -> dict[str, Any]:
        """Upload a file (streamed; same name replaces). Bitbucket keeps no description: it is
        returned, not stored."""
        path = Path(file_path)
        number = issue_number(issue_key)
        upload_file(self.connection, str(number), path, path.name, f"attachment {path.name} of issue #{number}")
        return {"name": path.name, "id": path.name, "description": description or ""}

    def delete_attachment(self, issue_key: str | int, attachment_id: str) -> bool:
        """Delete an attachment by name (the seed's ``attachment_id``)."""
        self.client.call("DELETE", self._issue(issue_key, f"/attachments/{attachment_id}"),
                         f"attachment {attachment_id} of issue {issue_key}",
                         not_found=lambda: ItemError(f"attachment {attachment_id} not found on issue {issue_key}"))
        return True

    # --- components, versions --------------------------------------------------------------

    def _names(self, kind: str) -> list[dict[str, Any]]:
        values = self.client.paginate(self.client.repo_path(f"/{kind}s"), f"{kind}s",
                                      not_found=self.connection.issues_not_found)
        return [{"name": v.get("name"), "id": v.get("id")} for v in values]

    def list_components(self) -> list[dict[str, Any]]:
        """``[{"name": "Frontend", "id": ...}]``."""
        return self._names("component")

    def list_versions(self) -> list[dict[str, Any]]:
        """``[{"name": "v1.0", "id": ...}]``."""
        return self._names("version")

    def list_milestones(self) -> list[dict[str, Any]]:
        """``[{"name": "Q1 2024", "id": ...}]``."""
        return self._names("milestone")

    def update_issue_with_metadata(self, issue_key: str | int, component: str | None = None,
                                   version: str | None = None, milestone: str | None = None) -> dict[str, Any]:
        """Set the component / version / milestone of an issue by name (they must exist)."""
        body = {k: {"name": v} for k, v in (("component", component), ("version", version),
                                             ("milestone", milestone)) if v is not None}
        if not body:
            return self.get_issue(issue_key)
        return self.client.call("PUT", self._issue(issue_key), f"issue {issue_key}", json=body,
                                not_found=self._missing_issue(issue_key))

    # --- comments --------------------------------------------------------------------------

    def get_comments(self, issue_key: str | int) -> list[dict[str, Any]]:
        """``[{"id", "body", "author", "created"}]``."""
        values = self.client.paginate(self._issue(issue_key, "/comments"), f"comments of {issue_key}",
                                      not_found=self._missing_issue(issue_key))
        return [
            {"id": v.get("id"), "body": (v.get("content") or {}).get("raw") or "",
             "author": (v.get("user") or {}).get("display_name", ""), "created": v.get("created_on", "")}
            for v in values
        ]

    def add_comment(self, issue_key: str | int, body: str) -> dict[str, Any]:
        """Add a comment; after an ambiguous failure, look for it before posting again."""
        path = self._issue(issue_key, "/comments")

        def existing() -> dict[str, Any] | None:
            for comment in self.get_comments(issue_key):
                if comment["body"].strip() == body.strip():
                    return comment
            return None

        created = self.client.create(path, f"comment on issue {issue_key}",
                                     json={"content": {"raw": body, "markup": "markdown"}},
                                     lookup=existing, not_found=self._missing_issue(issue_key))
        if created and "content" in created:
            return {"id": created.get("id"), "body": created["content"].get("raw", body),
                    "author": (created.get("user") or {}).get("display_name", ""),
                    "created": created.get("created_on", "")}
        return created or {}
