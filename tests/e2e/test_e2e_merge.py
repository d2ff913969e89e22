"""Both edits survive (issue 29): a text changed in Bitbucket and in the spec is merged line by line.

Every run here is on a fresh runner (its own empty state folder) unless it says otherwise, and
the tmp folder is not a git repository unless a test makes it one: the base text then comes from
the issue's change records.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

PM_NOTE = "PM note: please also support Apple Pay"


def fresh(world: Any, name: str) -> dict[str, str]:
    """The environment of a fresh runner: a state folder nobody used."""
    return {"SPECTRYN_STATE_DIR": str(world.tmp / f"state-{name}")}


def raw(world: Any, number: int) -> str:
    return str(world.sandbox.store.issue(number)["content_raw"])


def add_pm_paragraph(world: Any, key: str) -> int:
    """A PM adds a paragraph at the end of the issue's text (above spectryn's lines), as a person."""
    issue = next(i for i in world.issues() if i["title"].startswith(f"{key}:"))
    text = issue["content"]["raw"]
    head, labels, tail = text.partition("\n\nLabels: ")
    return world.edit_in_bitbucket(key, {"content": {"raw": f"{head}\n\n{PM_NOTE}\n\nLabels: {tail}"}})


def edit_spec(world: Any, old: str, new: str) -> None:
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))


def test_a_pm_paragraph_and_a_spec_edit_are_merged_and_sent_once(world: Any) -> None:
    assert world.sync(env=fresh(world, "ci1")).code == 0
    number = add_pm_paragraph(world, "US-002")
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    writes = world.writes()

    plan = world.sync(execute=False, env=fresh(world, "ci2"))
    assert plan.code == 0, plan.err
    print(plan.out)
    assert "~ US-002" in plan.out and "merged" in plan.out, plan.out
    done = world.sync(env=fresh(world, "ci3"))
    assert done.code == 0, done.err
    assert world.writes() == writes + 1  # one PUT
    text = raw(world, number)
    assert PM_NOTE in text and "from every device" in text
    after = world.sync(env=fresh(world, "ci4"))
    assert after.code == 0 and world.writes() == writes + 1, after.out
