"""Faults on the wire: 5xx, dropped connections, ambiguous POSTs and 429s, against the real CLI.

Each faulty sync is compared field by field (title, content, state, kind, priority, milestone,
component, version, comments, attachments, pull-request links) with a fault-free reference sync of
the same spec: faults may slow a sync down or stop it clearly, never change what it produces.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

#: A sync that stops on a fault gets this many more runs to finish.
RE_RUNS = 3


def sync_to_the_end(world: Any, spec: str) -> list[Any]:
    """Run the sync until it exits 0 (at most ``1 + RE_RUNS`` runs); every failed run must have
    failed clearly: exit 1 (or 5, the tracker unavailable), a message, no traceback."""
    runs = [world.sync(spec)]
    while runs[-1].code != 0 and len(runs) <= RE_RUNS:
        failed = runs[-1]
        assert failed.code in (1, 5), failed.err
        assert "Traceback" not in failed.err
        assert failed.err.strip() or "failed" in failed.out.lower()
        runs.append(world.sync(spec))
    assert runs[-1].code == 0, f"still failing after {len(runs)} runs:\n{runs[-1].err}"
    return runs


def reference(secret_world_factory: Any, epic_writer: Any, stories: int, subtasks: int) -> dict[str, Any]:
    """What a fault-free first sync of the generated spec produces."""
    ref = secret_world_factory(folder="reference")
    epic_writer(ref.tmp / "BIG.md", stories, subtasks)
    done = ref.sync("BIG.md")
    assert done.code == 0, done.err
    return ref.snapshot()


def check_like_reference(world: Any, expected: dict[str, Any], keys: set[str]) -> None:
    world.calm()
    assert world.duplicates() == {}
    got = world.snapshot()
    assert set(got) == keys
    for key in sorted(keys):
        lost = {name for name in expected[key] if got[key][name] != expected[key][name]}
        world.figures["lost_updates"] += len(lost)
        assert got[key] == expected[key], f"{key}: {sorted(lost)} differ from the reference"
    # and the state agrees: a re-run has nothing to send
    again = world.sync("BIG.md", execute=False)
    assert again.code == 0 and "0 to create, 0 to update" in again.out, again.out


def faulty_first_sync(secret_world_factory: Any, epic_writer: Any, keys_of: Any, stories: int,
                      subtasks: int, **faults: Any) -> Any:
    expected = reference(secret_world_factory, epic_writer, stories, subtasks)
    world = secret_world_factory(folder="faulty", **faults)
    epic_writer(world.tmp / "BIG.md", stories, subtasks)
    runs = sync_to_the_end(world, "BIG.md")
    assert world.faults_injected() > 0
    check_like_reference(world, expected, keys_of(stories, subtasks))
    return world, runs


@pytest.mark.parametrize("seed", [1])
def test_5xx_and_dropped_connections(secret_world_factory: Any, epic_writer: Any, keys_of: Any,
                                     seed: int) -> None:
    world, _ = faulty_first_sync(secret_world_factory, epic_writer, keys_of, 10, 3,
                                 fail_rate=0.10, drop_rate=0.03, seed=seed)
    faults = world.sandbox.stats()["faults"]
    assert faults["failed"] > 0


@pytest.mark.soak
@pytest.mark.parametrize("seed", range(1, 6))
def test_soak_5xx_and_dropped_connections_50x3(secret_world_factory: Any, epic_writer: Any,
                                               keys_of: Any, seed: int) -> None:
    faulty_first_sync(secret_world_factory, epic_writer, keys_of, 50, 3,
                      fail_rate=0.10, drop_rate=0.03, seed=seed)


@pytest.mark.parametrize("seed", [3])
def test_ambiguous_creates_never_duplicate(secret_world_factory: Any, epic_writer: Any, keys_of: Any,
                                           seed: int) -> None:
    """20% of POSTs are applied but answered 502: the client must look before sending again."""
    world, _ = faulty_first_sync(secret_world_factory, epic_writer, keys_of, 10, 3,
                                 ambiguous_rate=0.20, seed=seed)
    assert world.sandbox.stats()["faults"]["ambiguous"] > 0


@pytest.mark.soak
@pytest.mark.parametrize("seed", range(1, 6))
def test_soak_ambiguous_creates_50x3(secret_world_factory: Any, epic_writer: Any, keys_of: Any,
                                     seed: int) -> None:
    faulty_first_sync(secret_world_factory, epic_writer, keys_of, 50, 3, ambiguous_rate=0.20,
                      fail_rate=0.05, drop_rate=0.02, seed=seed)


def test_ambiguous_comments_and_pr_links_never_duplicate(secret_world_factory: Any) -> None:
    """The example spec has comments, an attachment and pull-request links: every POST of them
    is applied but answered 502."""
    ref = secret_world_factory(folder="reference")
    assert ref.sync().code == 0
    expected = ref.snapshot()
    world = secret_world_factory(folder="faulty", ambiguous_rate=0.5, seed=5)
    runs = sync_to_the_end(world, "EPIC.md")
    assert world.sandbox.stats()["faults"]["ambiguous"] > 0
    world.calm()
    assert world.duplicates() == {}
    assert world.snapshot() == expected, [r.err for r in runs]


@pytest.mark.parametrize("retry_after", [True, False], ids=["Retry-After", "no-Retry-After"])
def test_rate_limited_sync_waits_and_completes(secret_world_factory: Any, epic_writer: Any,
                                               keys_of: Any, retry_after: bool) -> None:
    """The client does not count (rate_limit 0): every 429 is waited out, with or without
    Retry-After (Bitbucket Cloud sends none), in pauses scaled to the 1 s window."""
    expected = reference(secret_world_factory, epic_writer, 6, 2)
    world = secret_world_factory(folder="limited", rate_limit=15, rate_window=1.0,
                          retry_after=retry_after)
    epic_writer(world.tmp / "BIG.md", 6, 2)
    done = world.sync("BIG.md", env={"BITBUCKET_RATE_WINDOW": "1"})
    assert done.code == 0, done.err
    assert world.sandbox.stats()["faults"]["rate_limited"] > 0
    pauses = re.findall(r"rate limit: Bitbucket answered 429 .*; pausing ([\d.]+) s", done.err)
    assert pauses, done.err
    assert all(0 < float(seconds) <= 1.0 for seconds in pauses)
    check_like_reference(world, expected, keys_of(6, 2))
