"""``spectryn review`` in a pull-request pipeline simulated on loopback (issue 30): the variables
Pipelines sets, the sandbox's stand-in for the Pipelines auth proxy, a read-only access token as
the secured repository variable, and no credential for the report. The tracker is only read; the
report on the commit says FAILED or PASSED with an annotation per finding at its line, a second
run replaces it, and more than 1000 findings are capped and said so."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from spectryn_bitbucket.sandbox.accounts import access_token

COMMIT = "4f6c0a2b9d1e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
READER = "spx-review-reader-7Hq2"  # the read-only repository access token (a secured variable)


@pytest.fixture
def pr(world_factory: Any) -> Any:
    reader = access_token("reader", READER, name="spectryn-reader", scopes=("issue", "repository",
                                                                             "pullrequest"))
    return world_factory(pipelines_proxy=0, accounts=[reader])


def pipeline_env(world: Any, *, token: str | None = READER, **extra: str) -> dict[str, str]:
    """What a pull-request step sees: Pipelines' variables, the proxy, the secured read token."""
    env = {name: "" for name in world.env if name.startswith("BITBUCKET_")}
    env.update({
        "CI": "true",
        "BITBUCKET_BUILD_NUMBER": "41",
        "BITBUCKET_PIPELINE_UUID": "{8a2f6b1e-0000-4000-8000-000000000041}",
        "BITBUCKET_STEP_UUID": "{8a2f6b1e-0000-4000-8000-000000000042}",
        "BITBUCKET_COMMIT": COMMIT,
        "BITBUCKET_BRANCH": "feature/checkout-v2",
        "BITBUCKET_PR_ID": "3",
        "BITBUCKET_PR_DESTINATION_BRANCH": "main",
        "BITBUCKET_WORKSPACE": world.sandbox.workspace,
        "BITBUCKET_REPO_SLUG": world.sandbox.repo,
        "BITBUCKET_REPO_FULL_NAME": f"{world.sandbox.workspace}/{world.sandbox.repo}",
        "BITBUCKET_CLONE_DIR": str(world.tmp),
        # the test's two additions: where Bitbucket and its proxy are (both on loopback)
        "BITBUCKET_BASE_URL": world.sandbox.base_url,
        "BITBUCKET_PIPELINES_PROXY": world.sandbox.proxy_address,
        "BITBUCKET_RATE_LIMIT": "0",
    })
    if token:
        env["BITBUCKET_ACCESS_TOKEN"] = token
    env.update(extra)
    return env


def review(world: Any, *args: str, env: dict[str, str] | None = None) -> Any:
    return world.cli("review", "--markdown", "EPIC.md", "--tracker", "bitbucket", *args,
                     env=env if env is not None else pipeline_env(world))


def report(world: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report on the commit and its annotations, as the sync account reads them."""
    sb = world.sandbox
    url = (f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/commit/{COMMIT}/reports")
    headers = sb.account("sync").headers
    listed = requests.get(url, headers=headers, timeout=10).json()["values"]
    assert [r["external_id"] for r in listed] == ["spectryn-review"], listed
    annotations: list[dict[str, Any]] = []
    page: str | None = f"{url}/spectryn-review/annotations?pagelen=100"
    while page:
        body = requests.get(page, headers=headers, timeout=10).json()
        annotations += body["values"]
        page = body.get("next")
    return listed[0], annotations


def data(found: dict[str, Any]) -> dict[str, Any]:
    return {item["title"]: item["value"] for item in found["data"]}


def issue_writes(world: Any) -> int:
    """Writes to issues (reports are writes too, but not to issues)."""
    return sum(n for route, n in world.sandbox.stats()["requests"].items()
               if not route.startswith(("GET", "HEAD")) and "/reports" not in route)


def line_of(world: Any, text: str) -> int:
    lines = (world.tmp / "EPIC.md").read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def test_a_spec_with_an_error_gets_a_failed_report_with_an_annotation_at_its_line(pr: Any) -> None:
    spec = pr.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("| **Story Points** | 5 |", "| **Story Points** | five |", 1))
    run = review(pr)
    assert run.code == 2, run.err
    assert "error: 1 problem(s) in the spec" in run.err and "sent" not in run.err
    found, annotations = report(pr)
    assert found["result"] == "FAILED" and data(found)["Errors"] == 1
    assert data(found)["Plan"] == "validation only"
    (error,) = [a for a in annotations if a["annotation_type"] == "BUG"]
    assert error["path"] == "EPIC.md" and error["line"] == line_of(pr, "| **Story Points** | five |")
    assert 'story points "five" is not a number' in error["summary"] and error["result"] == "FAILED"
    assert pr.sandbox.proxy_stats()["credentials_seen"] == 0 and issue_writes(pr) == 0
    assert run.out.count('story points "five"') == 1 and 'story points "five"' not in run.err  # once
    as_json = review(pr, "--output", "json")
    assert as_json.code == 2
    answer = json.loads(as_json.out)
    assert answer["result"] == "FAILED" and answer["error"]["kind"] == "spec"
    assert answer["findings"][0]["kind"] == "error" and answer["published"]["annotated"] == 1


def test_a_good_spec_gets_a_passed_report_listing_what_the_merge_changes(pr: Any) -> None:
    assert pr.sync().code == 0  # main, synced earlier
    spec = pr.tmp / "EPIC.md"
    text = spec.read_text()
    spec.write_text(text.replace("### 🔧 US-002: Logout", "### 🔧 US-002: Sign out")
                    .replace("| **Priority** | 🟡 Medium |", "| **Priority** | 🔴 Critical |")
                    + "\n### US-006: Export invoices\n\n#### Description\nAs a buyer I want a PDF.\n")
    pr.sandbox.reset_stats()
    run = review(pr)
    assert run.code == 0, run.err
    found, annotations = report(pr)
    assert found["result"] == "PASSED", found
    assert data(found) == {"Creates": 1, "Updates": 1, "Conflicts": 0, "Orphans": 0, "Warnings": 1,
                           "Errors": 0, "Clashes": 0, "Plan": "computed"}
    by_summary = {a["summary"]: a for a in annotations}
    number = pr.by_key()["US-002"]["id"]
    update = by_summary[f"merging updates #{number} US-002: title, priority"]
    assert update["line"] == line_of(pr, "US-002: Sign out") and update["path"] == "EPIC.md"
    assert 'priority: "major" -> "blocker"' in update["details"]
    create = by_summary["merging creates US-006 (story): Export invoices"]
    assert create["line"] == line_of(pr, "### US-006: Export invoices")
    assert "Merging creates 1, updates 1 item(s)" in found["details"]
    # read-only: not one write to an issue; the report went through the proxy without a credential
    assert issue_writes(pr) == 0
    stats = pr.sandbox.proxy_stats()
    assert stats["credentials_seen"] == 0 and stats["refused"] == 0 and stats["requests"] == 3
    assert "via the Pipelines auth proxy at" in run.out and "(no credential)" in run.out
    # what a review costs: the dry run's reads with the read token, 3 report requests
    reads = sum(n for route, n in pr.sandbox.stats()["requests"].items() if route.startswith("GET"))
    assert f"{len(annotations)} annotations; 3 requests" in run.out
    assert reads <= 6, pr.sandbox.stats()["requests"]


def test_a_second_run_replaces_the_report(pr: Any) -> None:
    assert pr.sync().code == 0
    spec = pr.tmp / "EPIC.md"
    original = spec.read_text()
    spec.write_text(original.replace("### 🔧 US-002: Logout", "### 🔧 US-002: Sign out"))
    assert review(pr).code == 0
    first, first_annotations = report(pr)
    spec.write_text(original)  # the branch reverts the change: nothing to merge any more
    assert review(pr).code == 0
    second, second_annotations = report(pr)
    assert second["uuid"] != first["uuid"] or second["updated_on"] != first["updated_on"]
    assert data(second)["Updates"] == 0 and data(first)["Updates"] == 1
    assert len(first_annotations) == 2  # the update and the assignee warning
    assert [a["summary"] for a in second_annotations] == [
        a["summary"] for a in first_annotations if not a["summary"].startswith("merging")]


def test_conflicts_fail_the_report(pr: Any) -> None:
    assert pr.sync().code == 0
    pr.edit_in_bitbucket("US-004", {"state": "resolved"})
    spec = pr.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("| **Status** | ⏸️ Blocked |", "| **Status** | 🔄 In Progress |"))
    run = review(pr, "--exit-code")
    assert run.code == 3, run.err
    found, annotations = report(pr)
    assert found["result"] == "FAILED" and data(found)["Conflicts"] == 1
    (conflict,) = [a for a in annotations if "conflict" in a["summary"]]
    number = pr.by_key()["US-004"]["id"]
    assert conflict["summary"].startswith(f"merging leaves #{number} US-004 in conflict: state")
    assert conflict["line"] == line_of(pr, "US-004: Two-Factor Authentication")
    assert review(pr).code == 0  # without --exit-code the report is the signal


def test_more_than_1000_findings_are_capped_and_the_report_says_so(pr: Any, epic_writer: Any) -> None:
    epic_writer(pr.tmp / "EPIC.md", 350, 2, comments_every=0)  # 1050 issues to create
    run = review(pr)
    assert run.code == 0, run.err
    found, annotations = report(pr)
    assert len(annotations) == 1000 and data(found)["Not annotated"] == 50
    assert data(found)["Creates"] == 1050
    assert "1050 findings: the first 1000 are annotated" in found["details"]
    assert "50 left out (50 create)" in found["details"]
    assert "1000 annotations, 50 left out; 12 requests" in run.out  # delete, put, 10 posts
    assert len(re.findall(r"merging creates", run.out)) == 1050  # the log lists every one


def test_without_a_read_credential_the_report_is_of_validation_only(pr: Any) -> None:
    run = review(pr, env=pipeline_env(pr, token=None))
    assert run.code == 0, run.err
    assert pr.sandbox.stats()["reads"] == 0  # nothing but the report was sent
    found, annotations = report(pr)
    assert found["result"] == "PASSED" and data(found)["Plan"] == "validation only"
    assert "validation only: the tracker was not read (no Bitbucket credentials" in found["details"]
    assert not any(a["summary"].startswith("merging") for a in annotations)


def test_outside_pipelines_the_report_goes_with_the_configured_credential(pr: Any) -> None:
    run = pr.cli("review", "--markdown", "EPIC.md", "--tracker", "bitbucket", "--commit", COMMIT)
    assert run.code == 0, run.err
    assert "via the configured credential (access token)" in run.out
    assert pr.sandbox.proxy_stats()["requests"] == 0
    found, _annotations = report(pr)
    assert data(found)["Creates"] == 18
    local = pr.cli("review", "--markdown", "EPIC.md", "--tracker", "bitbucket")  # no commit: printed
    assert local.code == 0 and "not published: no commit to put it on" in local.out


def test_the_proxy_is_never_given_a_credential_nor_chosen_by_a_repository_file(pr: Any) -> None:
    # a repository file naming another proxy is ignored (the report's text would go there)
    (pr.tmp / ".spectryn.yaml").write_text("bitbucket:\n  pipelines_proxy: 127.0.0.2:9\n")
    env = pipeline_env(pr)
    run = review(pr, env=env)
    assert run.code == 0, run.err
    assert "pipelines_proxy" in run.err  # the warning naming the ignored key
    assert pr.sandbox.proxy_stats()["requests"] == 3 and pr.sandbox.proxy_stats()["credentials_seen"] == 0
    (pr.tmp / ".spectryn.yaml").unlink()
    far = review(pr, env={**env, "BITBUCKET_PIPELINES_PROXY": "proxy.example.com:29418"})
    assert far.code == 2 and "bitbucket.pipelines_proxy proxy.example.com:29418" in far.err


def test_two_spec_files_claiming_one_key_fail_the_report_with_a_clash_at_its_line(pr: Any) -> None:
    """docs/a.md synced US-001 (its issue records that file); the pull request's docs/b.md defines
    US-001 too. The review of docs/b.md meets the engine's own OwnershipError (kind ownership,
    raised while identifying the tracker's issues - nothing mocked): FAILED, a clash annotation at
    b.md's US-001 line naming the issue and docs/a.md, the Clashes field, exit 2, and no issue
    written."""
    from tests.e2e.test_e2e_fresh_runner import number_of
    from tests.e2e.test_e2e_provenance import repo_runner

    assert repo_runner(pr, "main").sync("docs/a.md").code == 0
    number = number_of(pr, "US-001")
    branch = repo_runner(pr, "pull-request")
    pr.sandbox.reset_stats()
    run = branch.cli("review", "--markdown", "docs/b.md", "--tracker", "bitbucket", "--output", "json",
                     env=pipeline_env(branch))
    assert run.code == 2, run.out + run.err
    answer = json.loads(run.out)
    assert answer["error"]["kind"] == "ownership" and answer["result"] == "FAILED"
    assert answer["counts"]["clashes"] == 1 and answer["counts"]["errors"] == 0
    found, annotations = report(pr)
    assert found["result"] == "FAILED", found
    assert data(found)["Clashes"] == 1 and data(found)["Errors"] == 0
    assert data(found)["Plan"] == "validation only"  # the clash stops the plan, as it stops a sync
    assert "1 key(s) belong to another spec file" in found["details"]
    (clash,) = [a for a in annotations if a["annotation_type"] == "BUG"]
    heading = next(n for n, line in enumerate((branch.tmp / "docs" / "b.md").read_text().splitlines(), 1)
                   if line.startswith("### US-001"))
    assert clash["path"] == "docs/b.md" and clash["line"] == heading, clash
    assert clash["severity"] == "HIGH" and clash["result"] == "FAILED"
    assert f"US-001 is issue #{number}" in clash["summary"]
    assert "made from docs/a.md, which also defines US-001" in clash["summary"]
    assert issue_writes(pr) == 0 and pr.sandbox.proxy_stats()["credentials_seen"] == 0
    text = branch.cli("review", "--markdown", "docs/b.md", "--tracker", "bitbucket", env=pipeline_env(branch))
    assert text.code == 2 and "docs/b.md:3: clash: US-001 is issue" in text.out, text.out
    assert "error: 1 key(s) belong to another spec file" in text.err and "nothing was sent" not in text.err
