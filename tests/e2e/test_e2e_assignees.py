"""Assignees reach Bitbucket (config map, then workspace members by nickname); a name that maps to
nobody is a plan warning naming its line; a reassignment in Bitbucket comes back with pull."""

from __future__ import annotations

import json
from typing import Any

import requests


def member(world: Any, nickname: str) -> dict[str, str]:
    return next(m for m in world.sandbox.store.members() if m["nickname"] == nickname)


def assign(spec: Any) -> str:
    """US-002 gets @dave (nobody), US-003 @carol (mapped in config), US-001 keeps @alice."""
    text = spec.read_text()
    text = text.replace("| **Component** | Frontend |\n\n**As a** logged-in user",
                        "| **Component** | Frontend |\n| **Assignee** | @dave |\n\n**As a** logged-in user")
    text = text.replace("| **Version** | 1.1 |", "| **Version** | 1.1 |\n| **Assignee** | @carol |")
    spec.write_text(text)
    return text


def test_assignees_are_set_and_an_unknown_one_is_a_warning_naming_its_line(world_factory: Any) -> None:
    world = world_factory(token_level="workspace")  # a workspace access token may list members
    spec = world.tmp / "EPIC.md"
    text = assign(spec)
    dave_line = text[: text.index("### 🔧 US-002")].count("\n") + 1
    carol = member(world, "carol")
    (world.tmp / ".spectryn.yaml").write_text(f"bitbucket:\n  users:\n    carol: \"{carol['uuid']}\"\n")
    done = world.sync()
    assert done.code == 0, done.err
    assert (f"warning: EPIC.md:{dave_line}: assignee '@dave' maps to no Bitbucket account; not assigned"
            in done.out), done.out
    issues = world.by_key()
    assert issues["US-001"]["assignee"]["account_id"] == member(world, "alice")["account_id"]
    assert issues["US-003"]["assignee"]["uuid"] == carol["uuid"]
    assert issues["US-002"]["assignee"] is None
    writes = world.writes()
    again = world.sync()
    assert again.code == 0 and world.writes() == writes, again.out  # a no-op stays a no-op

    # reassigned in Bitbucket: pull brings the name back into the exact cell
    bob = member(world, "bob")
    url = (f"{world.sandbox.base_url}/repositories/{world.sandbox.workspace}/{world.sandbox.repo}"
           f"/issues/{issues['US-001']['id']}")
    answer = requests.put(url, json={"assignee": {"account_id": bob["account_id"]}}, timeout=10,
                          headers=world.sandbox.account("person").headers)
    assert answer.status_code == 200
    pulled = world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", "--execute")
    assert pulled.code == 0, pulled.err
    assert spec.read_text() == text.replace("| **Assignee** | @alice |", "| **Assignee** | @bob |")
    plan = json.loads(world.sync("EPIC.md", "--output", "json", execute=False).out)
    assert all(i["action"] == "unchanged" for i in plan["items"]), plan["items"]


def test_credentials_that_may_not_list_members_are_named_in_the_warning(world_factory: Any) -> None:
    world = world_factory()  # the sync's repository access token has no account scope
    done = world.sync()
    assert done.code == 0, done.err
    assert "assignee '@alice' maps to no Bitbucket account" in done.out
    assert "may not list the members of workspace" in done.out
    assert world.by_key()["US-001"]["assignee"] is None
