"""Conflicts: an issue edited in Bitbucket since the last sync.

Changed in Bitbucket and in the file: reported (``!`` line, JSON action ``conflict``) and left
as Bitbucket has it, until ``--force``. Changed in Bitbucket only: the edit is kept.
"""

from __future__ import annotations

import json
from typing import Any

BITBUCKET_EDIT = "Edited in Bitbucket by a teammate."


def content_of(world: Any, number: int) -> str:
    return world.sandbox.store.issue(number)["content_raw"]


def test_edited_in_both_is_a_conflict_until_force(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    assert world.sync().code == 0
    number = world.edit_in_bitbucket("US-002", {"content": {"raw": BITBUCKET_EDIT}})
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("**I want** to log out",
                                             "**I want** to log out from every device"))
    writes = world.writes()

    plan = world.sync(execute=False)
    assert plan.code == 0, plan.err
    lines = [line.strip() for line in plan.out.splitlines()]
    assert any(line.startswith("! US-002") and "content" in line for line in lines), plan.out
    as_json = world.sync("EPIC.md", "--output", "json", execute=False)
    items = {item["key"]: item for item in json.loads(as_json.out)["items"]}
    assert items["US-002"]["action"] == "conflict"
    assert json.loads(as_json.out)["counts"]["conflicts"] == 1

    done = world.sync()
    assert done.code == 0, done.err
    assert any(line.strip().startswith("! US-002") for line in done.out.splitlines()), done.out
    assert content_of(world, number) == BITBUCKET_EDIT  # not overwritten
    assert world.writes() == writes  # and nothing else was sent for it

    exit_code = world.sync("EPIC.md", "--exit-code", execute=False)
    assert exit_code.code == 3  # CI sees the conflict

    forced = world.sync("EPIC.md", "--force")
    assert forced.code == 0, forced.err
    assert "from every device" in content_of(world, number)
    assert world.duplicates() == {}
    after = world.sync(execute=False)
    assert "0 conflicts" in after.out and "0 to update" in after.out, after.out


def test_edited_in_bitbucket_only_is_kept(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    assert world.sync().code == 0
    number = world.edit_in_bitbucket("US-003", {"content": {"raw": BITBUCKET_EDIT},
                                                 "priority": "trivial"})
    writes = world.writes()
    done = world.sync()
    assert done.code == 0, done.err
    assert world.writes() == writes
    issue = world.sandbox.store.issue(number)
    assert issue["content_raw"] == BITBUCKET_EDIT and issue["priority"] == "trivial"
    as_json = json.loads(world.sync("EPIC.md", "--output", "json", execute=False).out)
    kept = {i["key"]: i for i in as_json["items"]}["US-003"]
    assert kept["action"] == "unchanged" and set(kept["kept_tracker_edits"]) >= {"content",
                                                                                  "priority"}


def test_an_edit_that_also_removed_the_base_line_survives_a_lost_state(
        secret_world_factory: Any) -> None:
    """State lost (deleted) after a person replaced the whole content, base line included: the
    issue has lost spectryn's mark, so nothing tells it from a hand-made one. It is held - never
    overwritten, never duplicated by a second issue for its key - until ``--adopt``."""
    world = secret_world_factory()
    assert world.sync().code == 0
    number = world.edit_in_bitbucket("US-004", {"content": {"raw": BITBUCKET_EDIT}})
    for path in world.state_dir.rglob("*.sqlite*"):
        path.unlink()
    done = world.sync()
    assert content_of(world, number) == BITBUCKET_EDIT
    assert "! US-004" in done.out and f"(held: #{number} " in done.out, done.out
    assert "spectryn did not make it - it has no spectryn mark; --adopt US-004 takes it over" in done.out
    assert world.duplicates() == {}
    forced = world.sync("EPIC.md", "--force")  # --force overwrites conflicts, never takes over
    assert content_of(world, number) == BITBUCKET_EDIT and world.duplicates() == {}
    adopted = world.sync("EPIC.md", "--adopt", "US-004")
    assert adopted.code == 0, adopted.err
    assert forced.code == 0, forced.err
    assert content_of(world, number) != BITBUCKET_EDIT
    assert "[//]: # (spectryn:1 " in content_of(world, number)  # it has a base again
