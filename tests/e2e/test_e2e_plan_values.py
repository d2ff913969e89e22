"""The plan shows values: old -> new per field, a short content diff (--diff: all of it), both
sides of a conflict; its closing line never says "matches" while conflicts or orphans are listed."""

from __future__ import annotations

import json
from typing import Any


def test_the_plan_shows_old_and_new_values(world: Any) -> None:
    assert world.sync().code == 0
    world.edit_in_bitbucket("US-004", {"state": "resolved"})
    world.edit_in_bitbucket("US-005", {"priority": "trivial"})
    spec = world.tmp / "EPIC.md"
    text = (spec.read_text()
            .replace("| **Status** | ⏸️ Blocked |", "| **Status** | 🔄 In Progress |")
            .replace("### 🔧 US-002: Logout", "### 🔧 US-002: Sign out")
            .replace("| **Priority** | 🟡 Medium |", "| **Priority** | 🔴 Critical |")
            .replace("**I want** to log out", "**I want** to log out everywhere")
            .replace("| **Version** | 1.1 |", "| **Version** | 1.0 |"))
    spec.write_text(text)
    plan = world.sync(execute=False)
    assert plan.code == 0, plan.err
    lines = [line.strip() for line in plan.out.splitlines()]
    for expected in ('title: "US-002: Logout" -> "US-002: Sign out"',
                     'priority: "major" -> "blocker"', 'version: "1.1" -> "1.0"',
                     "-**I want** to log out", "+**I want** to log out everywhere",
                     'state: tracker "resolved", spec "open"',
                     'priority: kept "trivial" (the spec still says "🟠 High")'):
        assert expected in lines, (expected, plan.out)

    as_json = json.loads(world.sync("EPIC.md", "--output", "json", execute=False).out)
    items = {item["key"]: item for item in as_json["items"]}
    assert items["US-003"]["values"] == {"version": {"tracker": "1.1", "spec": "1.0"}}
    assert items["US-004"]["values"]["state"] == {"tracker": "resolved", "spec": "open"}


def test_a_long_content_change_is_cut_unless_diff(world: Any) -> None:
    assert world.sync().code == 0
    spec = world.tmp / "EPIC.md"
    extra = "\n".join(f"Line {n} of a long note." for n in range(30))
    spec.write_text(spec.read_text().replace("Reset tokens are random 32-byte values, stored hashed.",
                                             "Reset tokens are random 32-byte values, stored hashed.\n" + extra))
    short = world.sync(execute=False)
    assert "more line(s); --diff shows the whole diff" in short.out
    assert "+Line 29 of a long note." not in short.out
    full = world.cli("--markdown", "EPIC.md", "--tracker", "bitbucket", "--diff")
    assert "+Line 29 of a long note." in full.out and "--diff shows" not in full.out


def test_the_closing_line_never_says_matches_with_conflicts_or_orphans(world: Any) -> None:
    assert world.sync().code == 0
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    spec.write_text(text[: text.index("### 👤 US-005")])  # US-005 is gone: its issues are orphans
    orphans = world.sync(execute=False)
    assert "? US-005" in orphans.out
    assert "matches" not in orphans.out and "3 orphan(s) (listed above)" in orphans.out, orphans.out

    spec.write_text(text.replace("| **Status** | ⏸️ Blocked |", "| **Status** | 🔄 In Progress |"))
    world.edit_in_bitbucket("US-004", {"state": "resolved"})
    conflict = world.sync(execute=False)
    assert "! US-004" in conflict.out and "matches" not in conflict.out, conflict.out
    assert "Dry run: nothing to send, but 1 conflict(s) (listed above) differ from the spec." in conflict.out
