"""Pull-request references (issue 27): only this repository's are linked; a missing one is a
warning with its line, found in the dry run, never fails, is warned about again on later runs at
no request, and is linked once it exists - when its issue is next written, or asked for."""

from __future__ import annotations

import json


def pr_comments(world, number: int) -> list[str]:
    return [c.get("raw") or "" for c in world.sandbox.store.pr_comments(number)]


def test_a_url_of_another_repository_is_not_this_repositorys_pull_request(world) -> None:
    spec = world.tmp / "EPIC.md"
    # US-005 already ends "Merged in https://bitbucket.org/acme/webapp/pull-requests/7."
    spec.write_text(spec.read_text().replace(
        "- depends on: US-001\n", "- depends on: US-001\n\nReviewed in https://bitbucket.org/sandbox/demo/pull-requests/3.\n", 1))
    run = world.sync()
    assert run.code == 0, run.out + run.err
    issues = world.by_key()
    assert pr_comments(world, 7) == []  # acme/webapp's PR 7: never commented on
    assert "pull request #7" not in issues["US-005"]["content"]["raw"]
    assert "https://bitbucket.org/acme/webapp/pull-requests/7" in issues["US-005"]["content"]["raw"]
    # a URL of this repository is its pull request: linked once, listed for Bitbucket to link
    assert len([c for c in pr_comments(world, 3) if "US-002" in c]) == 1
    assert "- pull request #3" in issues["US-002"]["content"]["raw"]


def test_a_missing_pull_request_is_a_warning_with_its_line_and_is_not_retried(world_factory) -> None:
    world = world_factory(pull_requests=range(1, 5))  # examples/EPIC.md names PR #12
    line = next(n for n, text in enumerate((world.tmp / "EPIC.md").read_text().split("\n"), 1)
                if "PR #12" in text)
    dry = world.sync(execute=False)
    assert dry.code == 0, dry.out + dry.err
    warning = f"EPIC.md:{line}: pull request #12 (US-001) does not exist in sandbox/demo"
    assert warning in dry.out + dry.err
    run = world.sync("EPIC.md", "--output", "json")
    assert run.code == 0, run.out + run.err
    result = json.loads(run.out)
    assert result["error"] is None and any(warning in w for w in result["warnings"])
    # later runs, on this machine and on a fresh runner: no check, no link, no failure
    for env in (None, {"SPECTRYN_STATE_DIR": str(world.tmp / "fresh-state")}):
        world.sandbox.reset_stats()
        again = world.sync(env=env)
        assert again.code == 0, again.out + again.err
        stats = world.sandbox.stats()
        assert stats["writes"] == 0
        assert not any("pullrequests" in name for name in stats["requests"]), stats["requests"]
        assert "0 updated" in again.out and "error" not in again.err.lower()
        # still warned: it is recorded as missing
        assert f"EPIC.md:{line}: pull request #12 (US-001) was missing in sandbox/demo" in again.out + again.err


def _pr12_world(world_factory):
    world = world_factory(pull_requests=range(1, 5))  # examples/EPIC.md's US-001 names PR #12
    assert world.sync().code == 0
    assert pr_comments_or_none(world, 12) is None
    return world


def pr_comments_or_none(world, number: int) -> list[str] | None:
    if number not in [p["id"] for p in world.sandbox.store.pull_requests()]:
        return None
    return pr_comments(world, number)


def test_a_pull_request_created_later_is_linked_by_the_next_write_of_its_issue(world_factory) -> None:
    world = _pr12_world(world_factory)
    world.sandbox.store.seed(pull_requests=[12])  # someone opens PR #12 after the first sync
    # nothing to write: still warned, still no request about it (fresh runner too)
    for env in (None, {"SPECTRYN_STATE_DIR": str(world.tmp / "fresh-a")}):
        world.sandbox.reset_stats()
        run = world.sync(env=env)
        assert run.code == 0 and "pull request #12 (US-001) was missing" in run.out + run.err
        assert not any("pullrequests" in name for name in world.sandbox.stats()["requests"])
        assert pr_comments(world, 12) == []
    # the issue is written for another reason: the pull request is checked again and linked
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("US-001: Login Feature", "US-001: Sign-in Feature", 1))
    world.sandbox.reset_stats()
    run = world.sync(env={"SPECTRYN_STATE_DIR": str(world.tmp / "fresh-b")})
    assert run.code == 0, run.out + run.err
    assert [c for c in pr_comments(world, 12) if "US-001" in c], pr_comments(world, 12)
    requests_made = world.sandbox.stats()["requests"]
    assert requests_made["GET /2.0/repositories/{ws}/{repo}/pullrequests/{id}"] == 1, requests_made
    assert requests_made["POST /2.0/repositories/{ws}/{repo}/pullrequests/{id}/comments"] == 1
    # linked now: no warning, no request, nothing sent again
    world.sandbox.reset_stats()
    again = world.sync(env={"SPECTRYN_STATE_DIR": str(world.tmp / "fresh-c")})
    assert again.code == 0 and "pull request #12" not in again.out + again.err
    assert world.writes() == 0 and len([c for c in pr_comments(world, 12) if "US-001" in c]) == 1


def test_recheck_pull_requests_links_one_created_since_without_another_change(world_factory) -> None:
    world = _pr12_world(world_factory)
    dry = world.sync("EPIC.md", "--recheck-pull-requests", execute=False)
    assert dry.code == 0 and "pull request #12 (checked again)" in dry.out, dry.out
    world.sandbox.reset_stats()
    still = world.sync("EPIC.md", "--recheck-pull-requests")  # one read; still missing: no write
    assert still.code == 0, still.out + still.err
    assert world.writes() == 0 and "0 updated" in still.out
    assert world.sandbox.stats()["requests"]["GET /2.0/repositories/{ws}/{repo}/pullrequests/{id}"] == 1
    world.sandbox.store.seed(pull_requests=[12])
    run = world.sync("EPIC.md", "--recheck-pull-requests", env={"SPECTRYN_STATE_DIR": str(world.tmp / "fresh")})
    assert run.code == 0, run.out + run.err
    assert [c for c in pr_comments(world, 12) if "US-001" in c]
    assert "does not exist" not in run.out + run.err
    assert "pull request #12" not in world.sync("EPIC.md", execute=False).out  # linked: no warning


def test_an_item_error_is_printed_once_and_not_counted_as_updated(world) -> None:
    """The issue is deleted while the run's update of it is held (a sandbox hold, not a timing
    guess): the update fails, and the run says so once, on the item's line."""
    assert world.sync().code == 0
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("US-002: Logout", "US-002: Sign out"))
    issue = world.by_key()["US-002"]["id"]
    world.sandbox.hold("PUT", f"/issues/{issue}", count=1)
    run = world.start(*world.sync_args())
    try:
        assert world.sandbox.faults.hold.wait_for_waiting(1, timeout=60), "no update was held"
        world.sandbox.store.delete_issue(int(issue))
    finally:
        world.sandbox.release()
        out, err = run.communicate(timeout=120)
    assert run.returncode == 1, out + err
    message = f"issue #{issue} (US-002) no longer exists"
    assert (out + err).count(message) == 1, out + err
    assert "0 updated" in out and "1 errors" in out
