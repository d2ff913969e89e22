"""Crashes: ``kill -9`` of the CLI in the middle of a first sync, lost and damaged state files,
and two runs at once on one target.

A kill lands at a random point of the write phase: the test watches the sandbox's write count and
sends SIGKILL when it reaches a random number between the first and the last write of a full sync.
After each kill a plain re-run must finish with exactly one issue per key and every field, comment
and attachment as a fault-free reference sync of the same spec produced.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

#: What happens to the state file between the kill and the re-run.
STATE_DAMAGE = ("keep", "delete", "delete-all", "truncate", "corrupt")


def reference(factory: Any, epic_writer: Any, stories: int, subtasks: int) -> tuple[dict, int]:
    """The fault-free result of the spec, and how many writes a full first sync makes."""
    ref = factory(folder="reference")
    epic_writer(ref.tmp / "BIG.md", stories, subtasks)
    done = ref.sync("BIG.md")
    assert done.code == 0, done.err
    return ref.snapshot(), ref.writes()


def kill_after_writes(world: Any, spec: str, writes: int, timeout: float = 60) -> bool:
    """Start a sync and SIGKILL it once the sandbox has seen ``writes`` more writes.
    Returns True if it was killed (False: it finished first)."""
    before = world.writes()
    process = world.start(*world.sync_args(spec))
    deadline = time.monotonic() + timeout
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if world.writes() - before >= writes:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
                world.figures["kills"] += 1
                return True
            time.sleep(0.002)
        assert process.poll() is not None, "the sync did not finish in time"
        return False
    finally:
        if process.poll() is None:
            process.kill()
        out, err = process.communicate(timeout=10)
        world.check_no_secret(out + err, "the killed CLI's output")


def state_files(world: Any) -> list[Path]:
    """The SQLite state files of the world's syncs (not the WAL/SHM sidecars, not locks)."""
    return sorted(world.state_dir.rglob("*.sqlite"))


def damage_state(world: Any, how: str, rng: random.Random) -> None:
    for path in state_files(world):
        sidecars = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        if how == "delete":  # what a user does: the main file only
            path.unlink()
        elif how == "delete-all":
            for file in [path, *sidecars]:
                file.unlink(missing_ok=True)
        elif how == "truncate":
            _checkpoint(path)
            size = path.stat().st_size
            with path.open("r+b") as handle:
                handle.truncate(rng.randrange(1, max(2, size // 2)))
        elif how == "corrupt":
            _checkpoint(path)
            data = bytearray(path.read_bytes())
            for offset in range(0, min(len(data), 100)):
                data[offset] = rng.randrange(256)
            path.write_bytes(bytes(data))


def _checkpoint(path: Path) -> None:
    """Move the WAL into the main file first, so damaging the main file damages the state."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def crash_and_resume(factory: Any, epic_writer: Any, keys_of: Any, *, stories: int,
                     subtasks: int, kills: int, seed: int, latency_ms: float) -> None:
    rng = random.Random(seed)
    expected, total_writes = reference(factory, epic_writer, stories, subtasks)
    keys = keys_of(stories, subtasks)
    for trial in range(kills):
        how = STATE_DAMAGE[trial % len(STATE_DAMAGE)]
        world = factory(folder=f"trial{trial}", latency_ms=latency_ms)
        epic_writer(world.tmp / "BIG.md", stories, subtasks)
        at = rng.randint(1, max(1, total_writes - 1))
        kill_after_writes(world, "BIG.md", at)
        damage_state(world, how, rng)
        world.calm()
        again = world.sync("BIG.md")
        context = f"trial {trial}: killed after {at} of {total_writes} writes, state {how}"
        assert again.code == 0, f"{context}\n{again.err}"
        assert "Traceback" not in again.err
        if how in ("truncate", "corrupt") and state_files(world):
            assert "unreadable" in again.out + again.err, f"{context}: no warning\n{again.out}"
        found = world.duplicates()
        assert found == {}, f"{context}: duplicates {found}"
        got = world.snapshot()
        missing = keys - set(got)
        world.figures["lost_updates"] += len(missing)
        assert not missing, f"{context}: missing {sorted(missing)}"
        for key in sorted(keys):
            differ = [n for n in expected[key] if got[key][n] != expected[key][n]]
            world.figures["lost_updates"] += len(differ)
            assert not differ, f"{context}: {key} {differ} differ from the reference"


def test_kill_9_during_first_sync(secret_world_factory: Any, epic_writer: Any,
                                  keys_of: Any) -> None:
    crash_and_resume(secret_world_factory, epic_writer, keys_of, stories=8, subtasks=3,
                     kills=5, seed=11, latency_ms=5)


@pytest.mark.soak
def test_soak_20_kills_during_50x3_first_sync(secret_world_factory: Any, epic_writer: Any,
                                              keys_of: Any) -> None:
    crash_and_resume(secret_world_factory, epic_writer, keys_of, stories=50, subtasks=3,
                     kills=20, seed=20, latency_ms=10)


@pytest.mark.soak
def test_soak_20_kills_with_damaged_state(secret_world_factory: Any, epic_writer: Any,
                                          keys_of: Any) -> None:
    crash_and_resume(secret_world_factory, epic_writer, keys_of, stories=20, subtasks=3,
                     kills=20, seed=21, latency_ms=5)


def test_corrupted_state_warns_and_rediscovers(secret_world_factory: Any) -> None:
    """A finished sync whose state is then overwritten with garbage: one warning, nothing sent."""
    world = secret_world_factory()
    assert world.sync().code == 0
    before = world.snapshot()
    for path in state_files(world):
        _checkpoint(path)
        path.write_bytes(b"\x00garbage, not a database\xff" * 40)
    writes = world.writes()
    again = world.sync()
    assert again.code == 0, again.err
    assert "unreadable" in again.out + again.err and "re-discovering" in again.out + again.err
    assert "Traceback" not in again.err
    assert world.duplicates() == {}
    assert world.snapshot() == before
    # only the baselines are recorded; nothing is written to the tracker
    assert world.writes() == writes


def test_two_runs_at_once_never_interleave(secret_world_factory: Any, epic_writer: Any,
                                           keys_of: Any) -> None:
    """The first run is held inside its first create (a sandbox hold, not a timing guess) while
    the second starts on the same machine: the second refuses and sends nothing."""
    expected, total_writes = reference(secret_world_factory, epic_writer, 8, 2)
    world = secret_world_factory(folder="race")
    epic_writer(world.tmp / "BIG.md", 8, 2)
    world.sandbox.hold("POST", "/issues", count=1)
    first = world.start(*world.sync_args("BIG.md"))
    try:
        assert world.sandbox.faults.hold.wait_for_waiting(1, timeout=60), "no create was held"
        assert first.poll() is None
        second = world.sync("BIG.md")
    finally:
        world.sandbox.release()
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.code == 1, second.err
    assert f"another spectryn run (pid {first.pid}) is syncing" in second.err
    assert "wait for it to finish" in second.err
    assert "Traceback" not in second.err
    assert world.writes() == total_writes  # the second run sent nothing
    assert world.duplicates() == {}
    assert world.snapshot() == expected
    assert set(expected) == keys_of(8, 2)
