"""Bitbucket failures as :mod:`spectryn_core.errors` values, with the seed guide's troubleshooting
messages and what to do about each. Messages never contain a secret or a header."""

from __future__ import annotations

from spectryn_core.errors import ItemError, TrackerError

APP_PASSWORD_NOTE = (
    "Bitbucket app passwords were removed on 2026-07-28; use an API token "
    "(BITBUCKET_EMAIL + BITBUCKET_API_TOKEN) or an access token (BITBUCKET_ACCESS_TOKEN)"
)
SCOPES = "issues read + write, repository read, pull requests read (write to comment on pull requests)"


def authentication_failed(auth_kind: str, mode: str) -> TrackerError:
    """401: the credentials were refused."""
    if mode == "server":
        hint = "check the personal access token (BITBUCKET_ACCESS_TOKEN or app_password) has not " \
               "expired, and that base_url points at your server"
    elif auth_kind == "app_password":
        hint = APP_PASSWORD_NOTE
    elif auth_kind == "api_token":
        hint = "check BITBUCKET_EMAIL is your Atlassian account email and BITBUCKET_API_TOKEN " \
               "has not expired or been revoked; " + APP_PASSWORD_NOTE.split("; ")[0]
    else:
        hint = "check BITBUCKET_ACCESS_TOKEN has not expired or been revoked"
    return TrackerError("Authentication failed", f"{hint}. Scopes needed: {SCOPES}")


def permission_denied(what: str) -> TrackerError:
    """403: authenticated but not allowed."""
    return TrackerError(
        f"Permission denied ({what})",
        f"the token needs these scopes: {SCOPES}; and your account needs access to the repository",
    )


def workspace_not_found(workspace: str, mode: str) -> TrackerError:
    """404 on the workspace (Cloud) or project (Server)."""
    where = "project key (Server: /projects/KEY/repos/...)" if mode == "server" \
        else "workspace slug (Cloud: bitbucket.org/<workspace>/<repo>)"
    return TrackerError(
        f"Workspace not found: {workspace}",
        f"check BITBUCKET_WORKSPACE is the {where} and the token has access to it",
    )


def repository_not_found(full_name: str) -> TrackerError:
    """404 on the repository of an existing workspace."""
    return TrackerError(
        f"Repository not found: {full_name}",
        "check BITBUCKET_REPO is the repository slug, that it exists in the workspace, "
        "and that the token has access to it (`spectryn bitbucket repos` lists them)",
    )


def issue_tracker_disabled(full_name: str) -> TrackerError:
    """The repository exists but its issue tracker is off."""
    return TrackerError(
        f"Issue tracker disabled in {full_name}",
        "turn it on in Repository settings -> Issue tracker (needs a repository admin), then sync again",
    )


def server_has_no_issue_tracker(host: str) -> TrackerError:
    """Server / Data Center mode: the REST API has no issues."""
    return TrackerError(
        f"This server has no issue tracker ({host})",
        "Bitbucket Data Center's REST API has no issue tracker; sync to Bitbucket Cloud "
        "(base_url https://api.bitbucket.org/2.0) or to Jira instead",
    )


def rate_limit_exceeded(retries: int) -> TrackerError:
    """429 still answered after every retry."""
    return TrackerError(
        f"Rate limit exceeded (still 429 after {retries} waits)",
        "Bitbucket Cloud allows about 1000 requests per hour; wait and run again (it resumes "
        "where it stopped), sync less often, or lower bitbucket.rate_limit",
    )


def cannot_reach(host: str, reason: str, tls: bool) -> TrackerError:
    """Connection error, DNS failure, refused connection, TLS failure, timeout."""
    hint = "check bitbucket.base_url (BITBUCKET_BASE_URL) and your network or proxy"
    if tls:
        hint += "; for a self-signed certificate set bitbucket.ca_bundle (BITBUCKET_CA_BUNDLE) " \
                "or, not for production, BITBUCKET_SSL_VERIFY=false"
    return TrackerError(f"Cannot reach {host}: {reason}", hint)


def server_error(status: int, method: str, path: str, detail: str) -> TrackerError:
    """5xx that survived the retries."""
    return TrackerError(
        f"Bitbucket failed: {method} {path} -> {status}{': ' + detail if detail else ''}",
        "Bitbucket may be having an outage (https://bitbucket.status.atlassian.com); run again later "
        "- the sync resumes where it stopped",
    )


def bad_request(what: str, detail: str) -> ItemError:
    """400 on one issue: that item fails, the others go on."""
    return ItemError(
        f"Bitbucket refused {what}: {detail or 'bad request'}",
        "check the item's milestone, component, version, kind, state and priority exist in the repository",
    )
