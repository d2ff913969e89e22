"""Writing a spec (``--write-back``, ``pull --execute``) when the file is a symlink, the disk is full,
the folder is read-only, or a killed run left a temporary file (issue 26), against the sandbox.

A full disk is a 64 KiB tmpfs filled to the brim and a read-only folder a read-only bind mount,
both in a private mount namespace (tests/support/mountns.py): the CLI meets ENOSPC and EROFS for
real, and nothing outside the test changes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import mountns

needs_mounts = pytest.mark.skipif(not mountns.available(), reason="needs unshare -m and mount")


def spec_in_folder(world: Any, epic_writer: Any) -> Path:
    """``specs/EPIC.md``: 2 stories of 2 subtasks, no attachments (a tmpfs holds it whole)."""
    (world.tmp / "specs").mkdir()
    return epic_writer(world.tmp / "specs/EPIC.md", 2, 2, comments_every=0)


def test_write_back_and_pull_write_through_a_symlinked_spec(world: Any, epic_writer: Any) -> None:
    target = spec_in_folder(world, epic_writer)
    link = world.tmp / "EPIC-link.md"
    link.symlink_to("specs/EPIC.md")
    run = world.sync("EPIC-link.md", "--write-back")
    assert run.code == 0, run.err
    assert link.is_symlink() and os.readlink(link) == "specs/EPIC.md"  # still the link
    assert "| **Issue** | [#" in target.read_text()  # its target got the links
    world.edit_in_bitbucket("US-001", {"title": "US-001: Renamed in Bitbucket"})
    pulled = world.cli("pull", "--markdown", "EPIC-link.md", "--tracker", "bitbucket", "--execute")
    assert pulled.code == 0, pulled.err
    assert link.is_symlink() and "US-001: Renamed in Bitbucket" in target.read_text()
    assert sorted(p.name for p in target.parent.iterdir()) == ["EPIC.md"]  # no temporary file


@needs_mounts
def test_write_back_on_a_full_disk_reports_what_was_sent_then_the_error(world: Any,
                                                                       epic_writer: Any) -> None:
    spec = spec_in_folder(world, epic_writer)
    before = spec.read_text()
    full = mountns.within(mountns.full_disk("specs"),
                          ("ls -a specs > listing.txt", "cp specs/EPIC.md after.md"))
    run = world.cli(*world.sync_args("specs/EPIC.md", "--write-back"), within=full)
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    assert "Done: 6 created" in run.out  # the report of what was sent comes first
    assert "Issue links NOT written: specs/EPIC.md: cannot write the file (No space left on device)" \
        in run.out
    assert "error: specs/EPIC.md: cannot write the file (No space left on device); it was left as " \
           "it was\n  hint: make the file and its folder writable (or free some disk space)" in run.err
    assert (world.tmp / "after.md").read_text() == before
    assert (world.tmp / "listing.txt").read_text().split() == [".", "..", "EPIC.md", "filler"]
    assert len(world.issues()) == 6

    as_json = world.cli(*world.sync_args("specs/EPIC.md", "--write-back", "--output", "json"),
                        within=full)
    assert as_json.code == 1
    answer = json.loads(as_json.out)
    assert answer["error"]["kind"] == "file" and "No space left" in answer["error"]["message"]
    assert answer["written_back"] == []

    again = world.sync("specs/EPIC.md", "--write-back")  # space again: the links, nothing new
    assert again.code == 0, again.err
    assert "Issue links written into specs/EPIC.md" in again.out
    assert len(world.issues()) == 6 and world.duplicates() == {}


@needs_mounts
def test_pull_into_a_read_only_folder_reports_then_fails_cleanly(world: Any, epic_writer: Any) -> None:
    spec = spec_in_folder(world, epic_writer)
    assert world.sync("specs/EPIC.md").code == 0
    world.edit_in_bitbucket("US-001", {"state": "resolved"})
    before = spec.read_text()
    read_only = mountns.within(mountns.read_only("specs"))
    args = ["pull", "--markdown", "specs/EPIC.md", "--tracker", "bitbucket", "--execute"]
    run = world.cli(*args, within=read_only)
    assert run.code == 1, run.err
    assert "Traceback" not in run.err
    assert '< US-001       status: "in progress" -> "done"' in run.out  # what would have come back
    assert "NOT written: specs/EPIC.md: cannot write the file (Read-only file system)" in run.out
    assert "0 value(s) brought back" in run.out
    assert "error: specs/EPIC.md: cannot write the file (Read-only file system)" in run.err
    assert spec.read_text() == before
    answer = json.loads(world.cli(*args, "--output", "json", within=read_only).out)
    assert answer["error"]["kind"] == "file"
    assert answer["files"][0]["written"] is False and answer["files"][0]["error"]["kind"] == "file"
    done = world.cli(*args)
    assert done.code == 0 and "✅ Done" in spec.read_text()


def test_temporary_files_a_killed_run_left_are_removed_by_the_next_run(world: Any,
                                                                      epic_writer: Any) -> None:
    spec = spec_in_folder(world, epic_writer)
    folder = spec.parent
    old = folder / ".EPIC.md.k3x9_a2b.tmp"  # an earlier version's name, left a while ago
    old.write_bytes(b"x" * 4096)
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    dead = folder / ".EPIC.md.spectryn-999999999-abcd1234.tmp"  # its process is gone
    dead.write_bytes(b"x" * 4096)
    fresh = folder / ".EPIC.md.zzzzzzzz.tmp"  # could be another run's, writing right now
    fresh.write_bytes(b"x")
    mine = folder / ".other.md.spectryn-999999999-abcd1234.tmp"  # another file's: left alone
    mine.write_bytes(b"x")
    run = world.sync("specs/EPIC.md", "--write-back")
    assert run.code == 0, run.err
    assert sorted(p.name for p in folder.iterdir()) == sorted(["EPIC.md", fresh.name, mine.name])
    assert f"removed {old.name}, a temporary file an interrupted run left beside specs/EPIC.md" \
        in run.err
    assert f"removed {dead.name}" in run.err
