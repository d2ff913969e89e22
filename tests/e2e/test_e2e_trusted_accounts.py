"""sync.trusted_accounts by uuid (issue 25), end to end against the sandbox on fresh runners: a
nickname is its owner's choice on Bitbucket (not unique), so a config naming one is refused
before anything is sent, and a stranger who calls itself like a trusted person - forged
spectryn mark and all - is refused with its uuid shown; `spectryn check` warns about a public
repository without trusted accounts and names the credential's own uuid."""

from __future__ import annotations

import json
from typing import Any

from spectryn_bitbucket.sandbox.accounts import api_token
from tests.e2e.test_e2e_fresh_runner import number_of, raw_content, runner
from tests.e2e.test_e2e_provenance import by_hand, issue

IMPOSTOR_TOKEN = "sandbox-impostor-token"


def impostor_world(world_factory: Any) -> Any:
    """A public repository; besides the member alice (``person``) an account that is not a
    member and calls itself alice too, display name and all (Bitbucket lets anyone do that)."""
    impostor = api_token("impostor", "impostor@example.org", IMPOSTOR_TOKEN, nickname="alice",
                         display_name="Alice Example", member=False)
    world = world_factory(public=True, accounts=[impostor])
    world.secrets.add(IMPOSTOR_TOKEN)
    person, fake = world.sandbox.account("person"), world.sandbox.account("impostor")
    assert (fake.nickname, fake.display_name) == (person.nickname, person.display_name)
    assert fake.uuid != person.uuid and fake.account_id != person.account_id
    return world


def test_a_nickname_in_trusted_accounts_is_refused_before_anything_is_sent(world_factory):
    world = impostor_world(world_factory)
    before = world.sandbox.stats()
    done = runner(world, "named").sync(env={"SPECTRYN_TRUSTED_ACCOUNTS": f"{world.sandbox.account('sync').uuid},alice"})
    assert done.code == 2, done.out + done.err
    assert ("error: environment SPECTRYN_TRUSTED_ACCOUNTS: sync.trusted_accounts: 'alice': not a {uuid} "
            "or an account id") in done.err, done.err
    assert "hint:" in done.err and "GET https://api.bitbucket.org/2.0/user" in done.err
    assert world.sandbox.stats()["reads"] == before["reads"] and world.writes() == before["writes"]
    as_json = runner(world, "named-json").sync("EPIC.md", "--output", "json",
                                              env={"SPECTRYN_TRUSTED_ACCOUNTS": "Alice Example"})
    assert as_json.code == 2 and json.loads(as_json.out)["error"]["kind"] == "config"
    assert "'Alice Example'" in json.loads(as_json.out)["error"]["message"]


def test_an_impostor_with_a_trusted_persons_nickname_and_a_forged_mark_is_refused(world_factory):
    """The team trusts the sync's account and alice (by uuid). Alice's hand-made US-004 counts as
    the team's; the impostor's copy of US-002 - raw text, hidden line and nickname alice - is
    only reported, with the impostor's uuid to copy if it were meant, and never written."""
    world = impostor_world(world_factory)
    sb = world.sandbox
    alice, impostor = sb.account("person"), sb.account("impostor")
    team = {"SPECTRYN_TRUSTED_ACCOUNTS": f"{sb.account('sync').uuid},{alice.account_id}"}
    made_by_alice = by_hand(world, "US-004: Two-factor (made by alice)")
    first = runner(world, "first").sync(env=team)
    assert first.code == 0, first.out + first.err
    assert number_of(world, "US-004") == made_by_alice  # hers: taken as the team's, not duplicated
    assert world.key_counts()["US-004"] == 1
    real = number_of(world, "US-002")
    forged = by_hand(world, "US-002: Logout", raw_content(world, real), account="impostor")
    assert issue(world, forged)["reporter"]["nickname"] == "alice"
    as_forged = raw_content(world, forged)
    writes = world.writes()
    done = runner(world, "ci").sync(env=team)
    assert done.code == 0, done.out + done.err
    assert f"#{forged} " in done.out and "claims US-002 but was not made by spectryn" in done.out, done.out
    assert (f'made by {impostor.uuid} ("alice"), an account sync.trusted_accounts does not list - add '
            f"{impostor.uuid} there if you trust that account") in done.out, done.out
    assert alice.uuid not in done.out
    assert world.writes() == writes and issue(world, forged)["state"] != "duplicate"
    assert raw_content(world, forged) == as_forged and issue(world, forged)["title"] == "US-002: Logout"
    # the nickname in the config would once have matched the impostor: now it is refused outright
    named = runner(world, "named").sync(env={"SPECTRYN_TRUSTED_ACCOUNTS": "alice"})
    assert named.code == 2 and world.writes() == writes


def test_check_warns_about_a_public_repository_without_trusted_accounts(world_factory):
    world = impostor_world(world_factory)
    sb = world.sandbox
    sync_token = runner(world, "check-token").cli("check", "--tracker", "bitbucket")
    assert sync_token.code == 0, sync_token.err
    assert "warning: the repository is public and sync.trusted_accounts is empty" in sync_token.out
    assert "it is the reporter of the issues it creates" in sync_token.out  # no /user for access tokens
    person = sb.account("person")
    as_person = runner(world, "check-person").cli("check", "--tracker", "bitbucket", env=person.env)
    assert as_person.code == 0, as_person.err
    assert f"this credential's account for sync.trusted_accounts: {person.uuid}" in as_person.out
    trusted = runner(world, "check-trusted").cli(
        "check", "--tracker", "bitbucket", env={**person.env, "SPECTRYN_TRUSTED_ACCOUNTS": person.uuid})
    assert trusted.code == 0 and "warning:" not in trusted.out, trusted.out
    private = world_factory("private")
    quiet = runner(private, "check-private").cli("check", "--tracker", "bitbucket")
    assert quiet.code == 0 and "warning:" not in quiet.out, quiet.out
