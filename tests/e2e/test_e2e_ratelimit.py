"""Bitbucket's rolling-hour quota, scaled down in time (a 30 s window becomes 3-4 s) so these run in
seconds: the run paces itself under the budget and says so, a 429 without Retry-After is waited
out, consecutive runs share one budget, and ``--max-wait`` stops cleanly with nothing lost."""

from __future__ import annotations

from typing import Any

LIMIT = "40"


def paced(window: float) -> dict[str, str]:
    """The client counting what the sandbox counts: 40 requests per ``window`` seconds."""
    return {"BITBUCKET_RATE_LIMIT": LIMIT, "BITBUCKET_RATE_WINDOW": str(window)}


def spend(world: Any, requests: int, window: float) -> None:
    """Another run of the same credential spends ``requests`` of the budget, now (this process,
    the same rolling log in the state folder)."""
    from spectryn_bitbucket.client import BitbucketClient
    from spectryn_bitbucket.config import settings_from_section

    settings = settings_from_section(
        {"workspace": world.sandbox.workspace, "repo": world.sandbox.repo, "access_token": world.sandbox.token,
         "base_url": world.sandbox.base_url, "rate_limit": int(LIMIT), "rate_window": window},
        state_dir=str(world.state_dir))
    client = BitbucketClient(settings)
    try:
        for _ in range(requests):
            client.get(client.repo_path(), "repository")
    finally:
        client.close()


def issues_once(world: Any, keys: set[str]) -> None:
    counts = world.key_counts()
    assert set(counts) == keys and set(counts.values()) == {1}


def test_a_rate_limited_sync_paces_itself_and_shows_its_waits(world_factory: Any, epic_writer: Any,
                                                              keys_of: Any) -> None:
    world = world_factory(rate_limit=40, rate_window=8.0)
    epic_writer(world.tmp / "BIG.md", 10, 3)  # 40 issues: more requests than one window allows
    spend(world, 40, 8.0)  # the budget is spent when the sync starts: it must wait, and say so
    run = world.sync("BIG.md", env=paced(8.0))
    assert run.code == 0, run.err
    issues_once(world, keys_of(10, 3))
    assert "rate limit: 0 requests left this 8 s window, next slot in" in run.err
    assert "Bitbucket counts 40 requests per rolling 8 s window for this credential" in run.err
    assert world.sandbox.stats()["faults"].get("rate_limited", 0) <= 2, "paced under the budget"


def test_429_without_retry_after_is_waited_out(world_factory: Any, epic_writer: Any, keys_of: Any) -> None:
    world = world_factory(rate_limit=40, rate_window=3.0)  # 429: text/plain, no Retry-After
    epic_writer(world.tmp / "BIG.md", 10, 3)
    run = world.sync("BIG.md", env={"BITBUCKET_RATE_LIMIT": "0", "BITBUCKET_RATE_WINDOW": "3"})
    assert run.code == 0, run.err
    assert world.sandbox.stats()["faults"]["rate_limited"] > 0
    assert "rate limit: Bitbucket answered 429" in run.err
    issues_once(world, keys_of(10, 3))


def test_consecutive_runs_share_one_budget(world_factory: Any, epic_writer: Any) -> None:
    world = world_factory(rate_limit=40, rate_window=600.0)
    spec = epic_writer(world.tmp / "BIG.md", 7, 2)  # about 26 requests (21 creates, a comment...)
    first = world.sync("BIG.md", "--max-wait", "0", env=paced(600.0))
    assert first.code == 0, first.err
    spec.write_text(spec.read_text().replace("| Part ", "| Piece ").replace("Story number", "Story no."))
    # 22 more: alone they would fit in 40, after the first run not - and it may not wait
    second = world.sync("BIG.md", "--max-wait", "0", env=paced(600.0))
    assert second.code == 1, second.err
    assert "Rate limit: stopped rather than wait" in second.err
    assert world.sandbox.stats()["faults"].get("rate_limited", 0) == 0


def test_max_wait_stops_cleanly_then_the_next_run_finishes(world_factory: Any, epic_writer: Any,
                                                           keys_of: Any) -> None:
    world = world_factory(rate_limit=40, rate_window=4.0)
    epic_writer(world.tmp / "BIG.md", 10, 3)
    spend(world, 20, 4.0)  # half the budget is spent: the run stops at the next wait
    stopped = world.sync("BIG.md", "--max-wait", "0", env=paced(4.0))
    assert stopped.code == 1, stopped.err
    assert "Rate limit: stopped rather than wait" in stopped.err
    assert "run again after" in stopped.err and "Traceback" not in stopped.err
    assert world.duplicates() == {}
    assert 0 < len(world.issues()) < 40
    finished = world.sync("BIG.md", env=paced(4.0))
    assert finished.code == 0, finished.err
    issues_once(world, keys_of(10, 3))  # nothing created twice, nothing lost


def test_a_damaged_rate_limit_log_is_rebuilt_with_a_warning(world: Any) -> None:
    """One non-ASCII byte in the log stopped every run until the file was deleted (issue 26)."""
    assert world.sync("EPIC.md", env=paced(3600)).code == 0
    (log,) = (world.state_dir / "ratelimit").glob("*.log")
    sent = len(log.read_text().splitlines()) - 1
    with open(log, "ab") as handle:
        handle.write(b"t 17\xe9\n")
    run = world.sync("EPIC.md", env=paced(3600))
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert f"the rate limit log {log} was damaged (a line it cannot read); rebuilt from the" in run.err
    assert log.read_bytes().isascii()
    again = world.sync("EPIC.md", env=paced(3600))
    assert again.code == 0 and "damaged" not in again.err
    assert sent > 0
