"""Many specs in one run (files, folders, globs) and issue links written back, against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def two_specs(world: Any, epic_writer: Any) -> Path:
    """specs/a.md (US-001..3), specs/team/b.md (UB-001..2), specs/README.md (no story)."""
    folder = world.tmp / "specs"
    (folder / "team").mkdir(parents=True)
    epic_writer(folder / "a.md", 3, 2)
    epic_writer(folder / "team" / "b.md", 2, 1)
    b = folder / "team" / "b.md"
    b.write_text(b.read_text().replace("US-0", "UB-0").replace("EPIC-900", "EPIC-901"))
    (folder / "README.md").write_text("# Our specs\n\nOne file per epic.\n")
    return folder


def test_a_folder_syncs_every_spec_with_one_listing(world: Any, epic_writer: Any) -> None:
    two_specs(world, epic_writer)
    first = world.sync("specs")
    assert first.code == 0, first.err
    assert "specs/README.md: skipped (no stories in it)" in first.out + first.err
    assert "Synced specs/a.md" in first.out and "Synced specs/team/b.md" in first.out
    assert first.out.index("Synced specs/a.md") < first.out.index("Synced specs/team/b.md")
    assert set(world.key_counts()) == {"US-001", "US-002", "US-003", "UB-001", "UB-002"} | {
        f"US-00{n}.{m}" for n in (1, 2, 3) for m in (1, 2)} | {"UB-001.1", "UB-002.1"}
    assert world.duplicates() == {}
    state_files = sorted(p.name.split("-")[0] for p in (world.state_dir / "bitbucket").rglob("*.sqlite"))
    assert len(state_files) == 2  # state stays per spec file

    # a no-op over both files costs what a no-op over one costs: one listing
    reads, writes = world.reads(), world.writes()
    assert world.sync("specs/a.md", execute=False).code == 0
    one_file = world.reads() - reads
    reads = world.reads()
    noop = world.sync("specs", execute=False)
    assert noop.code == 0 and "0 to create, 0 to update" in noop.out, noop.out
    assert world.reads() - reads == one_file and world.writes() == writes

    # a glob and --only across files
    (world.tmp / "specs" / "team" / "b.md").write_text(
        (world.tmp / "specs" / "team" / "b.md").read_text().replace("Story number 2", "Second story"))
    only = world.cli("--markdown", "specs/*.md", "specs/team/*.md", "--tracker", "bitbucket",
                     "--only", "UB-002", "--output", "json")
    assert only.code == 0, only.err
    plan = json.loads(only.out)
    changed = [(f["spec"], i["key"]) for f in plan["files"] for i in f["items"] if i["action"] != "unchanged"]
    assert changed == [("specs/team/b.md", "UB-002")]


def test_a_key_in_two_files_stops_the_run_before_any_request(world: Any, epic_writer: Any) -> None:
    epic_writer(world.tmp / "one.md", 2, 0)
    epic_writer(world.tmp / "two.md", 1, 0)
    requests = world.reads() + world.writes()
    out = world.cli("--markdown", "one.md", "two.md", "--tracker", "bitbucket", "--execute")
    assert out.code == 2
    assert "two.md:12: key US-001 is also defined at one.md:12" in out.err, out.err
    assert world.reads() + world.writes() == requests and world.issues() == []


def test_validate_takes_several_files_and_folders(world: Any, epic_writer: Any) -> None:
    two_specs(world, epic_writer)
    ok = world.cli("validate", "specs", "specs/team/b.md")
    assert ok.code == 0, ok.err
    assert "specs/a.md: OK - 1 epic(s), 3 stories, 6 subtasks" in ok.out
    assert ok.out.count("specs/team/b.md: OK - 1 epic(s), 2 stories, 2 subtasks") == 1
    assert "specs/README.md: skipped" in ok.out + ok.err
    clash = world.cli("validate", "specs/a.md", "EPIC.md")  # the same keys in two files
    assert clash.code == 2 and "EPIC.md:13: key US-001 is also defined at specs/a.md:12" in clash.err
    bad = world.tmp / "bad.md"
    bad.write_text("### US-100: A\n\n| Field | Value |\n|---|---|\n| Story Points | many |\n")
    out = world.cli("validate", "specs/team/b.md", "bad.md")
    assert out.code == 2 and "bad.md:5:" in out.err


def test_write_back_puts_issue_links_in_the_spec_once(world: Any) -> None:
    spec = world.tmp / "EPIC.md"
    original = spec.read_bytes()
    dry = world.sync("EPIC.md", "--write-back", execute=False)
    assert dry.code == 0 and spec.read_bytes() == original  # a dry-run never writes the file

    done = world.sync("EPIC.md", "--write-back")
    assert done.code == 0, done.err
    text = spec.read_text()
    issues = world.by_key()
    story = issues["US-001"]
    url = story["links"]["html"]["href"]
    assert f"| **Assignee** | @alice |\n| **Labels** | auth, ui |\n| **Issue** | [#{story['id']}]({url}) |\n" in text
    sub = issues["US-001.2"]
    assert (f"| 2 | Session cookie | Set and refresh the `session` cookie | 2 | 🔄 In Progress | "
            f"[#{sub['id']}]({sub['links']['html']['href']}) |") in text
    assert "| # | Subtask | Description | SP | Status | Issue |" in text
    # every line of the old file is still there, in order
    old_lines = original.decode().split("\n")
    new_lines = text.split("\n")
    position = 0
    for line in old_lines:
        if line.startswith("|"):
            continue  # table rows may have gained a cell
        position = new_lines.index(line, position) + 1

    # the links change nothing the tracker sees, and a second run changes nothing in the file
    writes = world.writes()
    linked = spec.read_bytes()
    again = world.sync("EPIC.md", "--write-back")
    assert again.code == 0 and world.writes() == writes, again.out
    assert spec.read_bytes() == linked


def test_write_back_from_config_keeps_crlf(world: Any) -> None:
    spec = world.tmp / "EPIC.md"
    spec.write_bytes(spec.read_bytes().replace(b"\n", b"\r\n"))
    (world.tmp / ".spectryn.yaml").write_text("sync:\n  write_back: true\n")
    assert world.sync().code == 0
    data = spec.read_bytes()
    assert b"| **Issue** | [#" in data and data.count(b"\n") == data.count(b"\r\n")
