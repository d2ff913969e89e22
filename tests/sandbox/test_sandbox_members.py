"""Workspace members and issue assignees in the sandbox, as Bitbucket Cloud serves them."""

from __future__ import annotations

import requests

from spectryn_bitbucket.sandbox import Sandbox


def test_members_are_listed_and_assignable_by_account_id_or_uuid(tmp_path) -> None:
    with Sandbox(data=tmp_path / "s.json", members=["alice", "bob"], token_level="workspace") as sb:
        auth = {"Authorization": f"Bearer {sb.token}"}
        page = requests.get(f"{sb.base_url}/workspaces/{sb.workspace}/members", headers=auth, timeout=5).json()
        users = {v["user"]["nickname"]: v["user"] for v in page["values"]}
        assert set(users) == {"alice", "bob"} and users["alice"]["display_name"] == "Alice Example" and page["values"][0]["type"] == "workspace_membership"
        alice, bob = users["alice"], users["bob"]
        issues = f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/issues"
        made = requests.post(issues, json={"title": "x", "assignee": {"account_id": alice["account_id"]}},
                             headers=auth, timeout=5)
        assert made.status_code == 201 and made.json()["assignee"]["uuid"] == alice["uuid"]
        number = made.json()["id"]
        moved = requests.put(f"{issues}/{number}", json={"assignee": {"uuid": bob["uuid"]}}, headers=auth, timeout=5)
        assert moved.json()["assignee"]["account_id"] == bob["account_id"]
        listed = requests.get(issues, params={"fields": "values.assignee.account_id"}, headers=auth, timeout=5)
        assert listed.json()["values"] == [{"assignee": {"account_id": bob["account_id"]}}]
        bad = requests.put(f"{issues}/{number}", json={"assignee": {"account_id": "nobody"}}, headers=auth, timeout=5)
        assert bad.status_code == 400 and "assignee" in bad.json()["error"]["message"]
        cleared = requests.put(f"{issues}/{number}", json={"assignee": None}, headers=auth, timeout=5)
        assert cleared.json()["assignee"] is None


def test_a_repository_access_token_may_not_list_members(tmp_path) -> None:
    with Sandbox(members=["alice"]) as sb:
        answer = requests.get(f"{sb.base_url}/workspaces/{sb.workspace}/members",
                              headers={"Authorization": f"Bearer {sb.token}"}, timeout=5)
        assert answer.status_code == 403
        assert answer.json()["error"]["detail"]["required"] == ["account"]
        person = requests.get(f"{sb.base_url}/workspaces/{sb.workspace}/members",
                              headers=sb.account("person").headers, timeout=5)
        assert person.status_code == 200  # an API token with read:workspace:bitbucket may
        stranger = requests.get(f"{sb.base_url}/workspaces/{sb.workspace}/members",
                                headers=sb.account("stranger").headers, timeout=5)
        assert stranger.status_code == 403  # not a member
