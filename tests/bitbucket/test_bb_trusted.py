"""sync.trusted_accounts for Bitbucket (issue 25): only a {uuid} or an account id names an
account (a nickname is its owner's choice and not unique); `check` weighs a public repository."""

from __future__ import annotations

from dataclasses import replace

import pytest
from bb_helpers import API, REPO, FakeConfig, connection

from spectryn_bitbucket import plugin, tracker
from spectryn_bitbucket.trusted import problem
from spectryn_core.errors import ConfigError

UUID = "{5a4db0c5-1e2f-4a3b-8c4d-0123456789ab}"
ACCOUNT_ID = "557058:5a4db0c5-1e2f-4a3b-8c4d-0123456789ab"


@pytest.mark.parametrize("ref", [UUID, ACCOUNT_ID, "5b10ac8d82e05b22cc7d4ef5", "77cb4ae0e4b97ab11a18e99f5",
                                 f"  {UUID} "])
def test_a_uuid_or_an_account_id_names_an_account(ref: str) -> None:
    assert problem(ref) is None


@pytest.mark.parametrize(("ref", "said"), [
    ("alice", "a nickname or display name is chosen by its owner"),
    ("Alice Example", "a nickname or display name is chosen by its owner"),
    ("ci-bot", "a nickname or display name is chosen by its owner"),
    ("{alice}", "not a {uuid} or an account id"),
    ("557058:alice", "not a {uuid} or an account id"),
    (UUID.upper(), f"in lowercase: {UUID}"),
    (UUID[1:-1], f"in braces, as Bitbucket writes it: {UUID}"),
])
def test_a_name_is_never_an_account(ref: str, said: str) -> None:
    assert said in (problem(ref) or "")


def test_a_nickname_in_trusted_accounts_is_a_config_error_naming_key_value_and_where() -> None:
    config = FakeConfig({"workspace": "acme", "repo": "r", "access_token": "t"},
                        sync={"trusted_accounts": [UUID, "alice", "Bob Smith"]})
    with pytest.raises(ConfigError) as info:
        plugin.open_tracker(config)
    error = info.value
    assert error.exit_code == 2
    assert error.message.startswith("environment sync.trusted_accounts: sync.trusted_accounts: 'alice': ")
    assert "'Bob Smith'" in error.message and UUID not in error.message
    assert "GET https://api.bitbucket.org/2.0/user" in error.hint and "spectryn check" in error.hint
    good = plugin.open_tracker(replace_sync(config, [UUID, ACCOUNT_ID]))
    assert good.settings.trusted_accounts == (UUID, ACCOUNT_ID)


def replace_sync(config: FakeConfig, trusted: list[str]) -> FakeConfig:
    return FakeConfig(config.section("bitbucket"), sync={"trusted_accounts": trusted})


# --- check ----------------------------------------------------------------------------------------


def _world(m, *, private: bool) -> None:
    m.get(REPO, json={"full_name": "acme/backend-api", "has_issues": True, "is_private": private})
    m.get(f"{REPO}/issues", json={"size": 0})
    m.get(f"{REPO}/pullrequests", json={"size": 0})
    for kind in ("milestones", "components", "versions"):
        m.get(f"{REPO}/{kind}", json={"values": []})


def test_check_warns_on_a_public_repository_without_trusted_accounts_and_names_the_uuid(requests_mock) -> None:
    _world(requests_mock, private=False)
    requests_mock.get(f"{API}/user", json={"display_name": "Ada", "uuid": UUID, "account_id": ACCOUNT_ID})
    conn = connection()
    lines = tracker.check_tracker(conn)
    assert any(line.startswith("warning: the repository is public and sync.trusted_accounts is empty")
               for line in lines), lines
    assert f"authenticated as Ada (api token), account {UUID}" in lines
    assert f"this credential's account for sync.trusted_accounts: {UUID}" in lines
    sent = conn.request_count()["read"]
    assert "is_private" in requests_mock.request_history[0].qs["fields"][0]
    # the same check of a private repository: no warning, and not one request more
    requests_mock.reset_mock()
    _world(requests_mock, private=True)
    conn = connection()
    quiet = tracker.check_tracker(conn)
    assert not any(line.startswith("warning:") for line in quiet) and conn.request_count()["read"] == sent


def test_check_warns_when_the_credentials_account_is_not_trusted(requests_mock) -> None:
    _world(requests_mock, private=False)
    requests_mock.get(f"{API}/user", json={"display_name": "Ada", "uuid": UUID})
    conn = connection()
    conn.settings = replace(conn.settings, trusted_accounts=("{00000000-0000-4000-8000-000000000000}",))
    lines = tracker.check_tracker(conn)
    assert "sync.trusted_accounts: 1 account(s); issues others made are never taken for spectryn's" in lines
    assert any(line.startswith(f"warning: this credential's account {UUID} is not in") for line in lines)
    conn = connection()
    conn.settings = replace(conn.settings, trusted_accounts=(UUID,))
    assert not any(line.startswith("warning:") for line in tracker.check_tracker(conn))


def test_check_with_an_access_token_says_where_its_uuid_shows(requests_mock) -> None:
    """Access tokens get 403 on /user: no uuid to name, and check still answers."""
    _world(requests_mock, private=False)
    requests_mock.get(f"{API}/user", status_code=403)
    lines = tracker.check_tracker(connection(access_token="tok", email=None, api_token=None))
    assert any(line.startswith("warning: the repository is public") for line in lines)
    assert any("it is the reporter of the issues it creates" in line for line in lines)
    assert not any("this credential's account" in line for line in lines)
