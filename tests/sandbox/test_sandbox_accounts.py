"""Accounts as Bitbucket Cloud has them: API tokens (Basic with the account email), access tokens
(Bearer, a bot account, no user), scopes named in 403s, members and strangers."""

from __future__ import annotations

import base64

import pytest
import requests

from spectryn_bitbucket.sandbox import Sandbox
from spectryn_bitbucket.sandbox.accounts import access_token, api_token

LACK = "Your credentials lack one or more required privilege scopes."


def repo_url(sb: Sandbox) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}"


def basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory()


def test_an_api_token_is_basic_with_its_email_only(sb) -> None:
    person = sb.account("person")
    assert requests.get(f"{sb.base_url}/user", headers=person.headers, timeout=5).json()["nickname"] == "alice"
    assert requests.get(f"{sb.base_url}/user", auth=person.auth, timeout=5).status_code == 200
    for user in ("alice", "", "someone@example.com", "ALICE@example.com"):
        answer = requests.get(f"{sb.base_url}/user", headers=basic(user, person.secret), timeout=5)
        assert answer.status_code == 401, user
        assert answer.json()["error"]["message"] == "Token is invalid, expired, or not supported for this endpoint."
    as_bearer = requests.get(f"{repo_url(sb)}/issues", headers={"Authorization": f"Bearer {person.secret}"}, timeout=5)
    assert as_bearer.status_code == 401


def test_an_access_token_is_bearer_only_and_has_no_user(sb) -> None:
    sync = sb.account("sync")
    assert sync.secret == "sandbox-token" == sb.token  # in docs and tests
    assert requests.get(f"{repo_url(sb)}/issues", headers=sync.headers, timeout=5).status_code == 200
    for user in ("x-token-auth", "alice@example.com", ""):
        answer = requests.get(f"{repo_url(sb)}/issues", headers=basic(user, sync.secret), timeout=5)
        assert answer.status_code == 401, user
    me = requests.get(f"{sb.base_url}/user", headers=sync.headers, timeout=5)
    assert me.status_code == 403 and me.json()["error"]["message"] == (
        "This API is not accessible by this authentication mechanism")


def test_every_write_records_its_account(sb) -> None:
    sync, person = sb.account("sync"), sb.account("person")
    made = requests.post(f"{repo_url(sb)}/issues", json={"title": "By the sync"}, headers=sync.headers, timeout=5)
    reporter = made.json()["reporter"]
    assert reporter["display_name"] == "spectryn-sync" and reporter["uuid"] == sync.uuid  # its bot account
    by_person = requests.post(f"{repo_url(sb)}/issues", json={"title": "By Alice"}, headers=person.headers, timeout=5)
    assert by_person.json()["reporter"]["account_id"] == person.account_id
    comment = requests.post(f"{repo_url(sb)}/issues/1/comments", json={"content": {"raw": "hi"}},
                            headers=person.headers, timeout=5)
    assert comment.json()["user"]["nickname"] == "alice"
    pr = requests.post(f"{repo_url(sb)}/pullrequests/1/comments", json={"content": {"raw": "see #1"}},
                       headers=sync.headers, timeout=5)
    assert pr.json()["user"]["uuid"] == sync.uuid
    # the person is a workspace member (assignable), the bot and the stranger are not
    members = {m["nickname"] for m in sb.store.members()}
    assert "alice" in members and "sam" not in members and "spectryn-sync" not in members


def test_a_missing_scope_is_a_403_naming_it(sb) -> None:
    reader = sb.set_scopes("person", ["read:issue:bitbucket", "read:repository:bitbucket"])
    assert requests.get(f"{repo_url(sb)}/issues", headers=reader.headers, timeout=5).status_code == 200
    write = requests.post(f"{repo_url(sb)}/issues", json={"title": "x"}, headers=reader.headers, timeout=5)
    assert write.status_code == 403
    assert write.json()["error"] == {"message": LACK, "detail": {
        "required": ["read:issue:bitbucket", "write:issue:bitbucket"],
        "granted": ["read:issue:bitbucket", "read:repository:bitbucket"]}}
    me = requests.get(f"{sb.base_url}/user", headers=reader.headers, timeout=5)
    assert me.status_code == 403 and me.json()["error"]["detail"]["required"] == ["read:user:bitbucket"]
    # no granular scope implies another: write without read cannot edit
    writer = sb.set_scopes("person", ["write:issue:bitbucket"])
    assert requests.put(f"{repo_url(sb)}/issues/1", json={}, headers=writer.headers, timeout=5).status_code == 403
    # delete has its own scope
    sb.set_scopes("person", ["read:issue:bitbucket", "write:issue:bitbucket"])
    requests.post(f"{repo_url(sb)}/issues", json={"title": "x"}, headers=sb.account("person").headers, timeout=5)
    gone = requests.delete(f"{repo_url(sb)}/issues/1", headers=sb.account("person").headers, timeout=5)
    assert gone.status_code == 403 and gone.json()["error"]["detail"]["required"] == ["delete:issue:bitbucket"]


def test_access_token_scopes_are_the_legacy_names_with_their_implications(bitbucket_sandbox_factory) -> None:
    sb = bitbucket_sandbox_factory(token_scopes=["issue"])  # issues read only
    headers = sb.account("sync").headers
    assert requests.get(f"{repo_url(sb)}/issues", headers=headers, timeout=5).status_code == 200
    refused = requests.post(f"{repo_url(sb)}/issues", json={"title": "x"}, headers=headers, timeout=5)
    assert refused.status_code == 403
    assert refused.json()["error"]["detail"] == {"required": ["issue:write"], "granted": ["issue"]}
    assert requests.get(f"{repo_url(sb)}/pullrequests", headers=headers, timeout=5).json()["error"]["detail"][
        "required"] == ["pullrequest"]
    writer = bitbucket_sandbox_factory(token_scopes=["issue:write", "pullrequest"])  # :write implies read
    assert requests.get(f"{repo_url(writer)}/issues", headers=writer.account("sync").headers, timeout=5).ok
    assert requests.get(repo_url(writer), headers=writer.account("sync").headers, timeout=5).ok  # pullrequest -> repository


def test_only_a_workspace_access_token_may_list_members(bitbucket_sandbox_factory) -> None:
    repository = bitbucket_sandbox_factory(members=["bob"])
    url = f"{repository.base_url}/workspaces/{repository.workspace}/members"
    assert requests.get(url, headers=repository.account("sync").headers, timeout=5).status_code == 403
    workspace = bitbucket_sandbox_factory(members=["bob"], token_level="workspace")
    url = f"{workspace.base_url}/workspaces/{workspace.workspace}/members"
    listed = requests.get(url, headers=workspace.account("sync").headers, timeout=5).json()
    assert {v["user"]["nickname"] for v in listed["values"]} == {"alice", "bob"}
    with pytest.raises(ValueError, match="only a workspace access token"):
        bitbucket_sandbox_factory(token_scopes=["issue", "account"])


def test_a_stranger_on_a_private_repository_sees_nothing(sb) -> None:
    stranger = sb.account("stranger")
    assert requests.get(f"{sb.base_url}/user", headers=stranger.headers, timeout=5).status_code == 200
    assert requests.get(repo_url(sb), headers=stranger.headers, timeout=5).status_code == 403
    assert requests.get(f"{repo_url(sb)}/issues", headers=stranger.headers, timeout=5).status_code == 403
    made = requests.post(f"{repo_url(sb)}/issues", json={"title": "x"}, headers=stranger.headers, timeout=5)
    assert made.status_code == 403 and sb.store.issues() == []
    listing = requests.get(f"{sb.base_url}/repositories/{sb.workspace}", headers=stranger.headers, timeout=5)
    assert listing.json()["values"] == []
    assert requests.get(f"{repo_url(sb)}/issues", timeout=5).status_code == 401  # anonymous


def test_a_stranger_on_a_public_repository_edits_only_its_own(bitbucket_sandbox_factory) -> None:
    sb = bitbucket_sandbox_factory(public=True)
    stranger, person = sb.account("stranger").headers, sb.account("person").headers
    theirs = requests.post(f"{repo_url(sb)}/issues", json={"title": "Alice's"}, headers=person, timeout=5).json()
    own = requests.post(f"{repo_url(sb)}/issues", json={"title": "Sam's"}, headers=stranger, timeout=5)
    assert own.status_code == 201 and own.json()["reporter"]["nickname"] == "sam"
    mine = own.json()["id"]
    assert requests.put(f"{repo_url(sb)}/issues/{mine}", json={"title": "Sam's, edited"},
                        headers=stranger, timeout=5).status_code == 200
    refused = requests.put(f"{repo_url(sb)}/issues/{theirs['id']}", json={"title": "hijacked"},
                           headers=stranger, timeout=5)
    assert refused.status_code == 403 and sb.store.issue(theirs["id"])["title"] == "Alice's"
    assert requests.delete(f"{repo_url(sb)}/issues/{mine}", headers=stranger, timeout=5).status_code == 403
    # comments: anyone may add one, and edit only its own
    said = requests.post(f"{repo_url(sb)}/issues/{theirs['id']}/comments", json={"content": {"raw": "+1"}},
                         headers=stranger, timeout=5)
    assert said.status_code == 201
    alices = requests.post(f"{repo_url(sb)}/issues/{theirs['id']}/comments", json={"content": {"raw": "mine"}},
                           headers=person, timeout=5).json()
    assert requests.put(f"{repo_url(sb)}/issues/{theirs['id']}/comments/{alices['id']}",
                        json={"content": {"raw": "edited"}}, headers=stranger, timeout=5).status_code == 403
    assert requests.put(f"{repo_url(sb)}/issues/{theirs['id']}/comments/{said.json()['id']}",
                        json={"content": {"raw": "+2"}}, headers=stranger, timeout=5).status_code == 200
    # a member edits anything; anyone reads a public repository, even without credentials
    assert requests.put(f"{repo_url(sb)}/issues/{mine}", json={"state": "open"}, headers=person, timeout=5).ok
    assert requests.get(f"{repo_url(sb)}/issues/{mine}", timeout=5).status_code == 200
    assert requests.post(f"{repo_url(sb)}/issues", json={"title": "anon"}, timeout=5).status_code == 401


def test_more_accounts_can_be_added(bitbucket_sandbox_factory) -> None:
    extra = [api_token("bob", "bob@example.com", "bob-token", nickname="bob"),
             access_token("ci", "ci-token", level="project", scopes=["issue"])]
    sb = bitbucket_sandbox_factory(accounts=extra)
    assert requests.get(f"{sb.base_url}/user", headers=sb.account("bob").headers, timeout=5).json()["nickname"] == "bob"
    assert requests.get(f"{repo_url(sb)}/issues", headers=sb.account("ci").headers, timeout=5).ok
    assert sb.account("ci").env == {"BITBUCKET_ACCESS_TOKEN": "ci-token", "BITBUCKET_EMAIL": "",
                                    "BITBUCKET_API_TOKEN": ""}
    assert sb.account("bob").env["BITBUCKET_EMAIL"] == "bob@example.com"
    with pytest.raises(ValueError, match="same token"):
        bitbucket_sandbox_factory(accounts=[api_token("x", "x@example.com", "sandbox-token", nickname="x")])
    with pytest.raises(KeyError, match="no sandbox account 'nobody'"):
        sb.account("nobody")


def test_command_line_options_set_the_accounts() -> None:
    import argparse

    from spectryn_bitbucket.sandbox.options import add_sandbox_arguments
    from spectryn_bitbucket.sandbox.server import sandbox_from_args

    parser = add_sandbox_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--person", "pm@corp.test:pm-token", "--stranger", "x@else.test:x-token",
                              "--token-level", "workspace", "--public"])
    sandbox = sandbox_from_args(args)
    assert sandbox.account("person").email == "pm@corp.test" and sandbox.account("person").secret == "pm-token"
    assert sandbox.account("stranger").secret == "x-token"
    assert "account" in sandbox.account("sync").scopes and sandbox.ctx.public
    with pytest.raises(SystemExit):
        parser.parse_args(["--person", "alice:token"])  # not an email
