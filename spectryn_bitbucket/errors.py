"""Bitbucket failures as :mod:`spectryn_core.errors` values, with the seed guide's troubleshooting
messages and what to do about each. Messages never contain a secret or a header."""

from __future__ import annotations

from spectryn_core.errors import AuthError, ItemError, TargetError, TrackerError, UnreachableError

APP_PASSWORD_NOTE = (
    "Bitbucket app passwords were removed on 2026-07-28; use an API token "
    "(BITBUCKET_EMAIL + BITBUCKET_API_TOKEN) or an access token (BITBUCKET_ACCESS_TOKEN)"
)
SCOPES = "issues read + write, repository read, pull requests read (write to comment on pull requests)"
SCOPE_NAMES = ("read:issue:bitbucket, write:issue:bitbucket, read:repository:bitbucket, "
               "read:pullrequest:bitbucket (write:pullrequest:bitbucket to comment on pull requests)")


def authentication_failed(auth_kind: str, mode: str, username: str | None = None) -> AuthError:
    """401: the credentials were refused. ``username``: the user of Basic auth, when sent (an
    API token goes with the Atlassian account email, never a Bitbucket username)."""
    if mode == "cloud" and username is not None and "@" not in username:
        hint = (f"Bitbucket Cloud takes an API token only with your Atlassian account email as the "
                f"username, and {username!r} is not an email: use your Atlassian account email "
                "(BITBUCKET_EMAIL) with the API token (BITBUCKET_API_TOKEN); "
                + APP_PASSWORD_NOTE.split("; ")[0])
    elif mode == "server" and auth_kind == "server_basic":
        hint = "check BITBUCKET_USERNAME and BITBUCKET_APP_PASSWORD (your password or an HTTP access " \
               "token), and that base_url points at your server"
    elif mode == "server":
        hint = "check the personal access token (BITBUCKET_ACCESS_TOKEN or app_password) has not " \
               "expired, and that base_url points at your server"
    elif auth_kind == "app_password":
        hint = APP_PASSWORD_NOTE
    elif auth_kind == "api_token":
        hint = "check BITBUCKET_EMAIL is your Atlassian account email and BITBUCKET_API_TOKEN " \
               "has not expired or been revoked; " + APP_PASSWORD_NOTE.split("; ")[0]
    else:
        hint = "check BITBUCKET_ACCESS_TOKEN has not expired or been revoked"
    return AuthError("Authentication failed", f"{hint}. Scopes needed: {SCOPES}")


def missing_scope(method: str, path: str) -> str:
    """The API-token scope a refused request needs (``read:issue:bitbucket``...)."""
    access = "read" if method.upper() in ("GET", "HEAD") else "write"
    if "/pullrequests" in path or "/pull-requests" in path:
        return f"{access}:pullrequest:bitbucket"
    if "/issues" in path or any(f"/{name}" in path for name in ("milestones", "components", "versions")):
        return f"{access}:issue:bitbucket"
    if path.rstrip("/").endswith("/user"):
        return "read:user:bitbucket"
    return "read:repository:bitbucket"


def permission_denied(what: str, scope: str | None = None, reason: str = "") -> AuthError:
    """403 (or a 401 of one endpoint): authenticated but not allowed; names the missing scope,
    or Bitbucket's ``reason`` when the refusal is not about scopes."""
    if reason:
        return AuthError(
            f"Permission denied ({what}): {reason}",
            "use credentials of an account (or an access token) with access to the repository",
        )
    if scope:
        return AuthError(
            f"Permission denied ({what}): the token lacks the scope {scope}",
            f"give the token {scope} (an access token: the matching permission), or use an account "
            f"with access to the repository. All scopes a sync needs: {SCOPE_NAMES}",
        )
    return AuthError(
        f"Permission denied ({what})",
        f"the token needs these scopes: {SCOPE_NAMES}; and your account needs access to the repository",
    )


def workspace_not_found(workspace: str, mode: str) -> TargetError:
    """404 on the workspace (Cloud) or project (Server)."""
    where = "project key (Server: /projects/KEY/repos/...)" if mode == "server" \
        else "workspace slug (Cloud: bitbucket.org/<workspace>/<repo>)"
    return TargetError(
        f"Workspace not found: {workspace}",
        f"check BITBUCKET_WORKSPACE is the {where} and the token has access to it",
    )


def repository_not_found(full_name: str) -> TargetError:
    """404 on the repository of an existing workspace."""
    return TargetError(
        f"Repository not found: {full_name}",
        "check BITBUCKET_REPO is the repository slug, that it exists in the workspace, "
        "and that the token has access to it (`spectryn bitbucket repos` lists them)",
    )


def issue_tracker_disabled(full_name: str) -> TargetError:
    """The repository exists but its issue tracker is switched off."""
    return TargetError(
        f"Issue tracker switched off in {full_name}",
        "a repository admin can switch it on in Repository settings -> Issue tracker; then sync again",
    )


def issue_tracker_impossible(full_name: str) -> TargetError:
    """The repository's workspace is administered in Atlassian Administration: no tracker at all."""
    return TargetError(
        f"{full_name} cannot have an issue tracker: its workspace is administered in Atlassian "
        "Administration (admin.atlassian.com)",
        "Bitbucket offers no issue tracker there and it cannot be switched on; sync to a repository "
        "of a workspace not administered there, or track the spec in Jira",
    )


def server_has_no_issue_tracker(host: str) -> TargetError:
    """Server / Data Center mode: the REST API has no issues."""
    return TargetError(
        f"This server has no issue tracker ({host})",
        "Bitbucket Data Center's REST API has no issue tracker; sync to Bitbucket Cloud "
        "(base_url https://api.bitbucket.org/2.0) or to Jira instead",
    )


def rate_limit_exceeded(retries: int) -> UnreachableError:
    """429 still answered after many growing pauses."""
    return UnreachableError(
        f"Rate limit exceeded (still 429 after {retries} waits)",
        "Bitbucket Cloud allows about 1000 requests per rolling hour per credential, and other "
        "tools may be spending the same quota; run again later - it resumes where it stopped",
    )


def quota_stop(why: str, wait: float, max_wait: float, resume_at: float) -> TrackerError:
    """Waiting for the quota would pass ``max_wait``: stop cleanly, say when to run again."""
    import time

    from spectryn_bitbucket.ratelimit import duration_text

    when = time.strftime("%H:%M:%S %Z", time.localtime(resume_at))
    return TrackerError(
        f"Rate limit: stopped rather than wait {duration_text(wait)} (max wait "
        f"{duration_text(max_wait)}); {why}",
        f"run again after {when} - it resumes where it stopped; nothing sent was lost",
    )


def cannot_reach(host: str, reason: str, tls: bool) -> UnreachableError:
    """Connection error, DNS failure, refused connection, TLS failure, timeout."""
    hint = "check bitbucket.base_url (BITBUCKET_BASE_URL) and your network or proxy"
    if tls:
        hint += "; for a self-signed certificate set bitbucket.ca_bundle (BITBUCKET_CA_BUNDLE) " \
                "or, not for production, BITBUCKET_SSL_VERIFY=false"
    return UnreachableError(f"Cannot reach {host}: {reason}", hint)


def server_error(status: int, method: str, path: str, detail: str) -> UnreachableError:
    """5xx that survived the retries."""
    return UnreachableError(
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


def off_origin(what: str, target: str, base_url: str) -> TrackerError:
    """A ``next`` link or a redirect that leaves the base_url's scheme, host and port."""
    return TrackerError(
        f"Refused to follow {what} to {target}: it leaves {base_url} (credentials go only there)",
        "check bitbucket.base_url (BITBUCKET_BASE_URL) is the API's own address, not a proxy "
        "or a mirror that redirects elsewhere",
    )


def write_redirected(method: str, path: str, status: int, target: str) -> TrackerError:
    """A write answered with a redirect: it was not applied, and is never re-sent to the target."""
    return TrackerError(
        f"Bitbucket answered {method} {path} with a redirect ({status} to {target}); "
        "writes never follow redirects, so nothing was written",
        "set bitbucket.base_url (BITBUCKET_BASE_URL) to the address the API answers on "
        "(https://api.bitbucket.org/2.0 for Cloud)",
    )


def create_without_id(what: str) -> TrackerError:
    """A create answered as success but without the new issue's id: never taken as success."""
    return TrackerError(
        f"Bitbucket answered the create of {what} without an issue id; "
        "nothing was recorded as created",
        "check bitbucket.base_url (BITBUCKET_BASE_URL) points at the API itself; run again "
        "once it does (an issue created meanwhile is found by its key, not duplicated)",
    )
