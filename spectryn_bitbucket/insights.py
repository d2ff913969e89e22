"""``publish_review`` for Bitbucket: one Code Insights report on the pull request's commit.

The report (id ``spectryn-review``) says PASSED or FAILED, carries the counts as data fields
(at most 10) and one annotation per finding at its ``file:line`` (at most 1000 per report, sent
100 per request; what does not fit is counted in the report's details). A re-run replaces it:
the report is deleted first (its annotations go with it), then put again - so annotations never
pile up. Cost: 1 DELETE + 1 PUT + one POST per 100 annotations (2 to 12 requests).

Where it is sent (:func:`route`):

- inside Bitbucket Pipelines - decided by the variables only Pipelines sets for a step
  (``BITBUCKET_BUILD_NUMBER``, ``BITBUCKET_PIPELINE_UUID`` and ``BITBUCKET_STEP_UUID``, all
  three) - through the Pipelines auth proxy (``bitbucket.pipelines_proxy``, default
  ``localhost:29418``) in plain http to the API host, **with no credential**: the proxy
  authenticates it as the pipeline (Atlassian documents this for reports). The proxy address
  may only be a loopback address or ``host.docker.internal`` (a pipe's container), and a
  repository file cannot set it: the report's text (issue titles) goes where it points.
  ``pipelines_proxy: off`` uses the configured credential even inside Pipelines. Only the
  Cloud API (or a loopback sandbox) is reached through it;
- elsewhere, with the configured credential, like any other request (https only; the reports
  endpoints need only ``read:repository:bitbucket`` / ``repository``, the OpenAPI text says).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from spectryn_bitbucket import config as bb_config
from spectryn_core.errors import UsageError

if TYPE_CHECKING:
    from spectryn_bitbucket.client import BitbucketClient
    from spectryn_core.review import Finding, Published, Review

REPORT_ID = "spectryn-review"
#: Atlassian: 100 annotations per POST, 1000 per report, 10 data fields.
PER_REQUEST = 100
PER_REPORT = 1000
#: Longest annotation summary sent (the Cloud docs give none; Data Center documents 450).
SUMMARY_MAX = 450
#: The variables only Bitbucket Pipelines sets, all three, for a step it runs.
PIPELINES_VARIABLES = ("BITBUCKET_BUILD_NUMBER", "BITBUCKET_PIPELINE_UUID", "BITBUCKET_STEP_UUID")
DEFAULT_PROXY = "localhost:29418"
_COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")

_TYPES = {"error": "BUG", "clash": "BUG", "conflict": "BUG"}
_SEVERITY = {"error": "HIGH", "clash": "HIGH", "conflict": "MEDIUM", "warning": "MEDIUM"}


def in_pipelines(env: Mapping[str, str]) -> bool:
    """True inside a Bitbucket Pipelines step: every one of :data:`PIPELINES_VARIABLES` is set."""
    return all(env.get(name) for name in PIPELINES_VARIABLES)


def proxy_address(value: str | None) -> str | None:
    """The ``host:port`` of ``bitbucket.pipelines_proxy`` (None for ``off``); ConfigError for a
    host that is neither loopback nor ``host.docker.internal``."""
    from spectryn_core.errors import ConfigError

    text = (value or DEFAULT_PROXY).strip()
    if text.lower() in ("off", "none", "false", "no"):
        return None
    host = urlsplit(f"//{text}").hostname or ""
    if not (bb_config.is_loopback(host) or host == "host.docker.internal"):
        raise ConfigError(f"bitbucket.pipelines_proxy {text}: the Pipelines auth proxy is on this "
                          "machine (localhost:29418, or host.docker.internal:29418 from a pipe)",
                          "leave it unset, or set BITBUCKET_PIPELINES_PROXY=localhost:PORT")
    return text


def proxied_base_url(base_url: str) -> str | None:
    """The plain-http API URL sent through the proxy (``http://api.bitbucket.org/2.0``), or None
    when the API is not one the proxy serves (Bitbucket Cloud's, or a loopback sandbox)."""
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    if host != "api.bitbucket.org" and not bb_config.is_loopback(host):
        return None
    return "http://" + base_url.split("://", 1)[1]


def route(config: Any, env: Mapping[str, str]) -> tuple[bb_config.BitbucketSettings, str]:
    """The settings to send the report with, and how it goes (for the user): through the
    Pipelines auth proxy without a credential, or with the configured one."""
    values = dict(config.section(bb_config.SECTION) or {})
    base_url = str(values.get("base_url") or bb_config.CLOUD_API).rstrip("/")
    proxy = proxy_address(values.get("pipelines_proxy")) if in_pipelines(env) else None
    plain = proxied_base_url(base_url) if proxy else None
    if proxy and plain:
        missing = [k for k in ("workspace", "repo") if not values.get(k)]
        if missing:
            raise UsageError(f"Bitbucket {' and '.join(missing)} not set",
                             "Pipelines sets BITBUCKET_WORKSPACE and BITBUCKET_REPO_SLUG")
        settings = bb_config.BitbucketSettings(
            base_url=plain, mode="cloud", workspace=str(values["workspace"]), repo=str(values["repo"]),
            auth_kind="pipelines_proxy", auth=("none", ""), timeout=float(values.get("timeout") or 30.0),
            retries=5 if values.get("retries") is None else int(str(values["retries"])),
            rate_limit=0, state_dir=bb_config.state_dir_of(config), via_proxy=proxy)
        return settings, f"the Pipelines auth proxy at {proxy} (no credential)"
    settings = bb_config.settings_from_config(config)
    return settings, f"the configured credential ({settings.auth_kind.replace('_', ' ')})"


def publish(config: Any, review: Review) -> Published:
    """Put ``review`` on its commit (``review.commit``, else ``BITBUCKET_COMMIT``)."""
    from spectryn_bitbucket.client import BitbucketClient
    from spectryn_core.review import Published

    env = os.environ
    commit = review.commit or env.get("BITBUCKET_COMMIT") or ""
    if not commit:
        return Published(note="no commit to put it on: pass --commit SHA (Bitbucket Pipelines sets "
                              "BITBUCKET_COMMIT)")
    if not _COMMIT.fullmatch(commit):
        raise UsageError(f"--commit {commit}: not a commit hash", "give 7 to 40 hex digits")
    settings, via = route(config, env)
    if settings.mode == "server":
        return Published(note="Code Insights reports of Bitbucket Data Center are not supported")
    client = BitbucketClient(settings)
    try:
        sent = send(client, commit, review)
    finally:
        client.close()
    annotated = min(len(review.findings), PER_REPORT)
    return Published(where=f"Code Insights report {REPORT_ID} on commit {commit[:12]}", via=via,
                     annotated=annotated, left_out=len(review.findings) - annotated, requests=sent)


def send(client: BitbucketClient, commit: str, review: Review) -> int:
    """Replace the report on ``commit`` (delete, put, annotations 100 at a time); the requests sent."""
    before = sum(client.request_count().values())
    path = client.repo_path(f"/commit/{commit}/reports/{REPORT_ID}")
    what = f"the Code Insights report {REPORT_ID} of commit {commit[:12]}"
    gone = client.request("DELETE", path)
    if gone.status_code != 404:  # none yet: nothing to replace
        client.raise_for(gone, what)
    client.call("PUT", path, what, json=report_body(review))
    annotations = [annotation(n, finding) for n, finding in enumerate(review.findings[:PER_REPORT], 1)]
    for start in range(0, len(annotations), PER_REQUEST):
        chunk = annotations[start:start + PER_REQUEST]
        # a POST creates or updates by external_id: sending it again after a timeout is safe
        client.create(path + "/annotations", f"annotations of {what}", lookup=lambda: None, json=chunk)
    return sum(client.request_count().values()) - before


def report_body(review: Review) -> dict[str, Any]:
    """The report: result, what merging does, the counts (at most 10 data fields)."""
    counts = review.counts
    left = max(0, len(review.findings) - PER_REPORT)
    details = review.headline()
    if left:
        kinds = _left_out_kinds(review.findings[PER_REPORT:])
        details += (f" {len(review.findings)} findings: the first {PER_REPORT} are annotated (Bitbucket "
                    f"keeps {PER_REPORT} per report); {left} left out ({kinds}) - the pipeline's log "
                    "lists every one.")
    data: list[dict[str, Any]] = [
        {"title": "Creates", "type": "NUMBER", "value": counts["creates"]},
        {"title": "Updates", "type": "NUMBER", "value": counts["updates"]},
        {"title": "Conflicts", "type": "NUMBER", "value": counts["conflicts"]},
        {"title": "Orphans", "type": "NUMBER", "value": counts["orphans"]},
        {"title": "Warnings", "type": "NUMBER", "value": counts["warnings"]},
        {"title": "Errors", "type": "NUMBER", "value": counts["errors"]},
        {"title": "Clashes", "type": "NUMBER", "value": counts["clashes"]},
        {"title": "Plan", "type": "TEXT",
         "value": "computed" if review.plan_computed else "validation only"},
    ]
    if left:
        data.append({"title": "Not annotated", "type": "NUMBER", "value": left})
    return {"title": "spectryn: what merging does to the issues", "details": details,
            "report_type": "TEST", "reporter": "spectryn", "result": review.result, "data": data}


def _left_out_kinds(findings: list[Finding]) -> str:
    seen: dict[str, int] = {}
    for finding in findings:
        seen[finding.kind] = seen.get(finding.kind, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in seen.items())


def annotation(number: int, finding: Finding) -> dict[str, Any]:
    """One finding as a Code Insights annotation at its file and line."""
    summary = finding.summary if len(finding.summary) <= SUMMARY_MAX else finding.summary[:SUMMARY_MAX - 1] + "…"
    body: dict[str, Any] = {
        "external_id": f"{REPORT_ID}-{number}",
        "annotation_type": _TYPES.get(finding.kind, "CODE_SMELL"),
        "summary": summary,
        "severity": _SEVERITY.get(finding.kind, "LOW"),
        "path": finding.path,
    }
    if finding.line >= 1:
        body["line"] = finding.line
    if finding.failing:
        body["result"] = "FAILED"
    if finding.details:
        body["details"] = finding.details
    return body

