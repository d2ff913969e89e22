"""Text anyone with an issue can type, coming back from the tracker (issue 26), against the sandbox:
``spectryn pull`` writes it escaped for where it goes or reports it, never changing the spec's
structure; the next ``validate`` passes and the next sync sends nothing for it; printed, it is
shown, never obeyed (no raw escape sequence reaches the terminal or the run log)."""

from __future__ import annotations

import json
from typing import Any

import requests


def pull(world: Any, *extra: str) -> Any:
    return world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", *extra)


def reassign(world: Any, key: str, nickname: str) -> None:
    account = next(m for m in world.sandbox.store.members() if m["nickname"] == nickname)
    issue = world.by_key()[key]
    url = (f"{world.sandbox.base_url}/repositories/{world.sandbox.workspace}/{world.sandbox.repo}"
           f"/issues/{issue['id']}")
    answer = requests.put(url, json={"assignee": {"account_id": account["account_id"]}}, timeout=10,
                          headers={"Authorization": f"Bearer {world.sandbox.token}"})
    assert answer.status_code == 200, answer.text


def test_pulled_titles_and_names_read_back_exactly_or_are_reported(world_factory: Any) -> None:
    # a workspace access token may list members (to find @alice, and name the new assignee)
    world = world_factory(members=["alice", "bob", "carol", "ops|oncall"], token_level="workspace")
    assert world.sync().code == 0
    spec = world.tmp / "EPIC.md"
    written = {
        "US-001": "Login *fast* with <b>SSO</b>, C:\\temp\\ and [docs](x) ###",
        "US-001.1": "Login form | with a pipe and _under_ scores",
    }
    refused = {
        "US-002": "Logout\n\n### US-009: Injected\n\n| Field | Value |\n|---|---|\n| **Status** | Done |",
        "US-001.2": "Session\rcookie",
    }
    for key, title in {**written, **refused}.items():
        world.edit_in_bitbucket(key, {"title": f"{key}: {title}"})
    reassign(world, "US-001", "ops|oncall")
    writes = world.writes()

    done = pull(world, "--execute")
    assert done.code == 0, done.err
    text = spec.read_text()
    assert ("### 🔧 US-001: Login \\*fast\\* with \\<b\\>SSO\\</b\\>, C:\\\\temp\\\\ and "
            "\\[docs\\](x) \\###") in text
    assert "| 1 | Login form \\| with a pipe and \\_under\\_ scores |" in text
    assert "| **Assignee** | @ops\\|oncall |" in text
    assert "US-009" not in text and "Session\r" not in text
    assert 'US-002: title "Logout\\n\\n### US-009: Injected' in done.out
    assert "not written: it holds a line break, which a spec cannot" in done.out
    assert 'US-001.2: title "Session\\rcookie" not written: it holds a line break' in done.out
    assert "< US-002" not in done.out and "< US-001.2" not in done.out  # not counted as pulled

    valid = world.cli("validate", "EPIC.md", "--output", "json")
    assert valid.code == 0, valid.err
    parsed = json.loads(valid.out)
    stories = {s["key"]: s for e in parsed["epics"] for s in e["stories"]}
    assert sorted(stories) == ["US-001", "US-002", "US-003", "US-004", "US-005"]
    assert stories["US-001"]["title"] == written["US-001"]
    assert stories["US-001"]["assignee"] == "ops|oncall"
    assert stories["US-001"]["subtasks"][0]["title"] == written["US-001.1"]

    plan = json.loads(world.sync("EPIC.md", "--output", "json", execute=False).out)
    items = {item["key"]: item for item in plan["items"]}
    for item in plan["items"]:  # nothing is sent for a pulled value
        assert not {"title", "assignee"} & set(item["fields"]), item
    assert items["US-001.1"]["action"] == "unchanged"
    # US-001's content lists its subtasks by title: the renamed one is brought up to date there
    assert items["US-001"]["fields"] == ["content"]
    for key in refused:  # the tracker's title is kept there; the spec still says the old one
        assert items[key]["kept_tracker_edits"] == ["title"], items[key]
    assert world.sync().code == 0 and world.writes() == writes + 1
    assert world.sync().code == 0 and world.writes() == writes + 1


def test_escape_sequences_and_lone_surrogates_in_titles_are_shown_not_obeyed(world: Any) -> None:
    assert world.sync().code == 0
    spoof = "\x1b[2K\x1b[1A\rDone: 0 errors \x1b]0;pwned\x07 \ud800 end"
    world.edit_in_bitbucket("US-003", {"title": f"US-003: {spoof}"})
    for run in (world.sync("EPIC.md", "--verbose", execute=False), pull(world), pull(world, "--execute"),
                world.sync("EPIC.md", "--diff", execute=False)):
        assert run.code == 0, run.err
        assert "Traceback" not in run.err
        for raw in ("\x1b", "\r", "\x07", "\ud800"):
            assert raw not in run.out + run.err
    assert "\\x1b[2K" in run.out or "\\u001b[2K" in run.out
    notes = pull(world).out
    assert "US-003: title " in notes and "not written: it holds a control character (U+001B)" in notes
    assert "\\ud800" in notes
    for log in world.log_dir.rglob("*.log"):
        data = log.read_bytes()
        assert b"\x1b" not in data and b"\x07" not in data
    assert "Password Reset" in (world.tmp / "EPIC.md").read_text()
