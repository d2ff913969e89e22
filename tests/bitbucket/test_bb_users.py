"""Assignee names -> Bitbucket accounts: the configured map, then workspace members by nickname."""

from __future__ import annotations

from spectryn_bitbucket.config import settings_from_section
from spectryn_bitbucket.sandbox import Sandbox
from spectryn_bitbucket.tracker import BitbucketConnection
from spectryn_bitbucket.users import Directory, assignee_body, assignee_ref


def connection(sb: Sandbox) -> BitbucketConnection:
    return BitbucketConnection(settings_from_section({
        "base_url": sb.base_url, "workspace": sb.workspace, "repo": sb.repo,
        "access_token": sb.token, "rate_limit": 0}))


def test_configured_names_win_and_members_are_listed_once(tmp_path) -> None:
    with Sandbox(members=["alice", "bob"], token_level="workspace") as sb:  # may list members
        conn = connection(sb)
        directory = Directory.from_config({"@Carol": "557058:carol", "bob@acme.com": "{b0b}"})
        assert directory.resolve("carol") == "557058:carol"
        assert directory.resolve("Bob@Acme.com") == "{b0b}"
        assert directory.needs_listing({"carol"}) is False
        assert directory.needs_listing({"alice"}) is True
        reads = sb.stats()["reads"]
        directory.load_members(conn.client, sb.workspace)
        assert sb.stats()["reads"] == reads + 1
        alice = next(m for m in sb.store.members() if m["nickname"] == "alice")
        assert directory.resolve("@alice") == alice["account_id"]
        assert directory.resolve("dave") is None
        assert directory.needs_listing({"dave"}) is False  # listed already
        assert "no workspace member has that nickname" in directory.warning("dave", "EPIC.md:20")
        # a {uuid} in config compares as the account id Bitbucket answers with
        directory.configured["al"] = alice["uuid"]
        assert directory.resolve("al") == alice["account_id"]


def test_credentials_that_may_not_list_members_leave_a_note(tmp_path) -> None:
    with Sandbox(members=["alice"]) as sb:  # a repository access token has no account scope
        directory = Directory.from_config({})
        directory.load_members(connection(sb).client, sb.workspace)
        assert directory.members is None and "HTTP 403" in directory.problem
        warning = directory.warning("alice", "EPIC.md:20")
        assert warning.startswith("EPIC.md:20: assignee '@alice' maps to no Bitbucket account")
        assert "bitbucket.users" in warning and "HTTP 403" in warning


def test_assignee_bodies() -> None:
    assert assignee_body("557058:x") == {"account_id": "557058:x"}
    assert assignee_body("{u-1}") == {"uuid": "{u-1}"}
    assert assignee_body(None) is None
    assert assignee_ref({"account_id": "a", "uuid": "{u}"}) == "a"
    assert assignee_ref(None) is None
