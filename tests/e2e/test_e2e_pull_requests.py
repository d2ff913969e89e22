"""Pull-request references (issue 27): only this repository's are linked; a missing one is a
warning with its line, found in the dry run, and never fails or costs a request on later runs."""

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
