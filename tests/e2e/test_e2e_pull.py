"""``spectryn pull``: tracker edits come back into the spec as a minimal edit, against the sandbox."""

from __future__ import annotations

import json
import re
from typing import Any


def pull(world: Any, *extra: str) -> Any:
    return world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", *extra)


def test_pull_brings_tracker_edits_back_and_leaves_conflicts(world: Any) -> None:
    assert world.sync().code == 0
    spec = world.tmp / "EPIC.md"
    world.edit_in_bitbucket("US-001", {"state": "resolved"})
    world.edit_in_bitbucket("US-001.2", {"state": "resolved"})
    world.edit_in_bitbucket("US-002", {"title": "US-002: Sign out"})
    world.edit_in_bitbucket("US-003", {"priority": "blocker"})
    world.edit_in_bitbucket("US-004", {"state": "resolved"})  # and the spec changes it too:
    original = spec.read_text().replace("| **Status** | ⏸️ Blocked |", "| **Status** | 🔄 In Progress |")
    spec.write_text(original)
    writes = world.writes()

    dry = pull(world)
    assert dry.code == 0, dry.err
    assert spec.read_text() == original  # a dry-run never writes the file
    assert "-| **Status** | 🔄 In Progress |\n+| **Status** | ✅ Done |" in dry.out, dry.out
    assert "-### 🔧 US-002: Logout\n+### 🔧 US-002: Sign out" in dry.out
    assert "< US-001       status: \"in progress\" -> \"done\"" in dry.out
    assert "! US-004       status:" in dry.out and "changed in the spec and in the tracker" in dry.out
    assert "Re-run with --execute" in dry.out

    done = pull(world, "--execute")
    assert done.code == 0, done.err
    expected = (original
                .replace("| **Status** | 🔄 In Progress |\n| **Component** | Frontend |\n| **Assignee**",
                         "| **Status** | ✅ Done |\n| **Component** | Frontend |\n| **Assignee**")
                .replace("| 2 | Session cookie | Set and refresh the `session` cookie | 2 | 🔄 In Progress |",
                         "| 2 | Session cookie | Set and refresh the `session` cookie | 2 | ✅ Done |")
                .replace("### 🔧 US-002: Logout", "### 🔧 US-002: Sign out")
                .replace("| **Story Points** | 8 |\n| **Priority** | 🟠 High |",
                         "| **Story Points** | 8 |\n| **Priority** | 🔴 Critical |"))
    assert spec.read_text() == expected
    assert world.writes() == writes  # a pull never writes to the tracker

    # after a pull, a sync sends nothing (the conflict stays a conflict until --force)
    plan = json.loads(world.sync("EPIC.md", "--output", "json", execute=False).out)
    actions = {item["key"]: item["action"] for item in plan["items"]}
    assert {k for k, a in actions.items() if a != "unchanged"} == {"US-004"}, actions
    assert actions["US-004"] == "conflict"
    assert world.sync().code == 0 and world.writes() == writes

    again = json.loads(pull(world, "--output", "json").out)
    (file,) = again["files"]
    assert file["pulled"] == [] and file["diff"] == ""
    assert [(c["key"], c["field"]) for c in file["conflicts"]] == [("US-004", "status")]


def test_a_fresh_runner_pulls_by_the_issues_base_and_no_base_is_a_conflict(world: Any) -> None:
    assert world.sync().code == 0
    world.edit_in_bitbucket("US-001", {"state": "resolved"})
    spec = world.tmp / "EPIC.md"
    fresh = {"SPECTRYN_STATE_DIR": str(world.tmp / "fresh-state")}  # a CI runner: no local state
    out = world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", "--execute", env=fresh)
    assert out.code == 0, out.err
    assert "< US-001" in out.out and "| **Status** | ✅ Done |\n| **Component** | Frontend |" in spec.read_text()

    # a base line deleted by hand: the issue lost spectryn's mark (nothing tells it from a
    # hand-made one), so nothing is pulled from it
    issue = next(i for i in world.issues() if i["title"].startswith("US-002:"))
    content = world.sandbox.store.issue(int(issue["id"]))["content_raw"]
    kept = "\n".join(line for line in content.split("\n") if not line.startswith("[//]: # (spectryn"))
    world.edit_in_bitbucket("US-002", {"state": "resolved", "content": {"raw": kept}})
    before = spec.read_bytes()
    out = world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", "--execute",
                    env={"SPECTRYN_STATE_DIR": str(world.tmp / "fresher-state")})
    assert out.code == 0, out.err
    assert f"#{issue['id']} " in out.out and "claims US-002 but was not made by spectryn" in out.out
    assert spec.read_bytes() == before

    # the base line kept but the state of a field without a base: a conflict, never pulled
    issue = next(i for i in world.issues() if i["title"].startswith("US-003:"))
    content = world.sandbox.store.issue(int(issue["id"]))["content_raw"]
    world.edit_in_bitbucket("US-003", {"priority": "trivial", "content": {
        "raw": re.sub(r" p=[0-9a-f]+", "", content)}})
    out = world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", "--execute",
                    env={"SPECTRYN_STATE_DIR": str(world.tmp / "freshest-state")})
    assert out.code == 0, out.err
    assert "! US-003" in out.out and "no record of the last sync" in out.out
    assert spec.read_bytes() == before


def test_pull_of_a_bad_spec_sends_and_writes_nothing(world: Any) -> None:
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("| **Story Points** | 5 |", "| **Story Points** | five |"))
    reads = world.reads()
    out = pull(world, "--execute")
    assert out.code == 2 and "EPIC.md:" in out.err and "story points" in out.err
    assert world.reads() == reads


def test_the_readme_example_is_what_pull_prints(world: Any) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (shown,) = re.findall(r"<!-- pull-example -->\n```diff\n(.*?)```\n", readme, re.S)
    assert world.sync().code == 0
    world.edit_in_bitbucket("US-001", {"state": "resolved"})
    world.edit_in_bitbucket("US-003", {"title": "US-003: Reset password", "priority": "blocker"})
    out = json.loads(pull(world, "--output", "json").out)
    assert out["files"][0]["diff"] == shown


def test_pull_over_a_folder_reads_the_tracker_once(world: Any, epic_writer: Any) -> None:
    folder = world.tmp / "specs"
    folder.mkdir()
    epic_writer(folder / "a.md", 2, 1)
    b = epic_writer(folder / "b.md", 2, 1)
    b.write_text(b.read_text().replace("US-0", "UB-0").replace("EPIC-900", "EPIC-901"))
    (folder / "notes.md").write_text("Just notes.\n")
    assert world.sync("specs").code == 0
    world.edit_in_bitbucket("US-001", {"state": "resolved"})
    world.edit_in_bitbucket("UB-002", {"title": "UB-002: Renamed"})
    reads = world.reads()
    assert world.cli("pull", "--markdown", "specs/a.md", "--tracker", "bitbucket").code == 0
    one = world.reads() - reads
    reads = world.reads()
    out = world.cli("pull", "--markdown", "specs", "--tracker", "bitbucket", "--execute")
    assert out.code == 0, out.err
    assert world.reads() - reads == one
    assert "note: specs/notes.md: skipped (no stories in it)" in out.out
    assert "### 🔧 UB-002: Renamed" in b.read_text()
    assert "| **Status** | ✅ Done |" in (folder / "a.md").read_text()
    plan = json.loads(world.sync("specs", "--output", "json", execute=False).out)
    assert plan["counts"]["updated"] == 0 and plan["counts"]["conflicts"] == 0, plan["counts"]
