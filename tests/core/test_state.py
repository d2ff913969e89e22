"""The SQLite sync state and the run lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from spectryn_core.errors import TrackerError
from spectryn_core.state import RunLock, SyncState, state_file


def test_state_round_trip_and_merge(tmp_path: Path):
    path = tmp_path / "s.sqlite"
    st = SyncState(path)
    st.record_item("US-1", "12", "http://x/12", {"title": ("a", "b")})
    st.record_item("US-1", "12", "http://x/12", {"content": ("c", "d")})
    st.record_extra("US-1", "comment:1", "d1")
    st.close()
    again = SyncState(path)
    item = again.items()["US-1"]
    assert item.remote_id == "12" and item.fields == {"title": ("a", "b"), "content": ("c", "d")}
    assert again.extras() == {"US-1": {"comment:1": "d1"}}
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_state_files_are_separate_per_tracker_target_and_spec(tmp_path: Path):
    a = state_file(tmp_path, "bitbucket", "h/w/r", Path("EPIC.md"))
    assert a != state_file(tmp_path, "bitbucket", "h/w/other", Path("EPIC.md"))
    assert a != state_file(tmp_path, "bitbucket", "h/w/r", Path("OTHER.md"))
    assert a != state_file(tmp_path, "jira", "h/w/r", Path("EPIC.md"))


@pytest.mark.parametrize("damage", [b"", b"garbage" * 100, b"SQLite format 3\x00" + b"\xff" * 50])
def test_damaged_state_is_moved_aside_with_a_warning(tmp_path: Path, damage: bytes):
    path = tmp_path / "s.sqlite"
    st = SyncState(path)
    st.record_item("US-1", "1", "", {})
    st.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(damage)
    fresh = SyncState(path)
    if damage:
        assert fresh.warnings and "re-discovering" in fresh.warnings[0]
    assert fresh.items() == {}


def test_lock_refuses_a_second_holder_even_in_another_process(tmp_path: Path):
    with RunLock(tmp_path, "bitbucket", "h/w/r"):
        code = (
            "import sys; from pathlib import Path; from spectryn_core.state import RunLock\n"
            f"RunLock(Path({str(tmp_path)!r}), 'bitbucket', 'h/w/r').__enter__()\n"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode != 0
        assert f"pid {os.getpid()}" in done.stderr
    with RunLock(tmp_path, "bitbucket", "h/w/r"):  # released: can be taken again
        pass
    with pytest.raises(TrackerError):
        with RunLock(tmp_path, "bitbucket", "h/w/r"):
            with RunLock(tmp_path, "bitbucket", "h/w/r"):
                pass


def test_a_schema_1_state_file_reads_and_gains_generations_and_accounts(tmp_path: Path) -> None:
    """A state file written before generations (issue 25): read as generation 0 in a dry run,
    and migrated in place on the first executing run."""
    import sqlite3

    from spectryn_core.items import Account

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE items (key TEXT PRIMARY KEY, remote_id TEXT NOT NULL,"
               " url TEXT NOT NULL DEFAULT '', fields TEXT NOT NULL DEFAULT '{}')")
    db.execute("CREATE TABLE extras (key TEXT NOT NULL, ident TEXT NOT NULL, digest TEXT NOT NULL,"
               " PRIMARY KEY (key, ident))")
    db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT)")
    db.execute("INSERT INTO meta VALUES ('schema', '1')")
    db.execute("INSERT INTO items VALUES ('US-1', '7', 'u', '{\"title\": [\"a\", \"b\"]}')")
    db.commit()
    db.close()
    readonly = SyncState(path, readonly=True)
    assert readonly.items()["US-1"].generation == 0 and readonly.accounts() == []
    readonly.close()
    state = SyncState(path)
    assert state.items()["US-1"].fields == {"title": ("a", "b")}
    state.record_item("US-1", "7", "u", {"state": ("c", "c")}, 4)
    state.record_account(Account("{bot}", "CI bot", ("ci-bot",)))
    state.close()
    again = SyncState(path, readonly=True)
    known = again.items()["US-1"]
    assert known.generation == 4 and set(known.fields) == {"title", "state"}
    assert again.accounts() == [Account("{bot}", "CI bot", ("ci-bot",))]
    # a new issue for the key starts afresh (its fields described the old one)
    again.close()
    state = SyncState(path)
    state.record_item("US-1", "9", "u2", {"content": ("d", "d")})
    assert state.items()["US-1"].fields == {"content": ("d", "d")}
    assert state.items()["US-1"].generation == 0
    state.close()
