"""Issue change records as the OpenAPI text describes them: every edit (a PUT by anyone, a POST to
/changes) makes an immutable record with its user, time, ``{field: {old, new}}`` strings and
message; paginated, filterable (``changes.state.new = "resolved"``), one by id."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(milestones=["M1"], components=["UI"], versions=["1.0"], members=["bob"])


def url(sb, suffix: str = "") -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/issues{suffix}"


def bob(sb) -> dict[str, str]:
    return next(m for m in sb.store.members() if m["nickname"] == "bob")


def changes(sb, number: int = 1, **params) -> list[dict]:
    answer = requests.get(url(sb, f"/{number}/changes"), params=params, headers=sb.account("sync").headers, timeout=5)
    assert answer.status_code == 200, answer.text
    return answer.json()["values"]


def test_a_put_records_who_changed_what_with_the_whole_content(sb):
    sync, person = sb.account("sync"), sb.account("person")
    requests.post(url(sb), json={"title": "A", "content": {"raw": "first text"}}, headers=sync.headers, timeout=5)
    assert changes(sb) == []  # creating is not a change
    edited = requests.put(url(sb, "/1"), json={"content": {"raw": "second text"}, "state": "open",
                                               "assignee": {"account_id": bob(sb)["account_id"]},
                                               "milestone": {"name": "M1"}},
                          headers=person.headers, timeout=5)
    assert edited.status_code == 200
    [record] = changes(sb)
    assert record["type"] == "issue_change" and record["user"]["account_id"] == person.account_id
    assert record["changes"] == {
        "content": {"old": "first text", "new": "second text"}, "state": {"old": "new", "new": "open"},
        "milestone": {"old": "", "new": "M1"}, "assignee": {"old": "", "new": "bob"},
        "assignee_account_id": {"old": "", "new": bob(sb)["account_id"]}}
    assert record["message"]["raw"] == "" and record["created_on"] == edited.json()["edited_on"]
    assert record["issue"]["id"] == 1 and record["links"]["self"]["href"].endswith("/issues/1/changes/1")
    # a PUT that changes nothing recorded makes no record; a sync's edit names the bot
    requests.put(url(sb, "/1"), json={"state": "open"}, headers=person.headers, timeout=5)
    requests.put(url(sb, "/1"), json={"title": "B", "assignee": None, "milestone": None}, headers=sync.headers, timeout=5)
    records = changes(sb)
    assert len(records) == 2 and records[1]["user"]["uuid"] == sync.uuid
    assert records[1]["changes"] == {"title": {"old": "A", "new": "B"}, "milestone": {"old": "M1", "new": ""},
                                     "assignee": {"old": "bob", "new": ""},
                                     "assignee_account_id": {"old": bob(sb)["account_id"], "new": ""}}
    one = requests.get(url(sb, f"/1/changes/{records[0]['id']}"), headers=sync.headers, timeout=5).json()
    assert one == records[0]
    assert requests.get(url(sb, "/1/changes/999"), headers=sync.headers, timeout=5).status_code == 404


def test_the_documented_post_of_a_change(sb):
    person = sb.account("person")
    requests.post(url(sb), json={"title": "A"}, headers=person.headers, timeout=5)
    body = {"changes": {"assignee_account_id": {"new": bob(sb)["account_id"]}, "state": {"new": "resolved"}},
            "message": {"raw": "This is now resolved."}}
    made = requests.post(url(sb, "/1/changes"), json=body, headers=person.headers, timeout=5)
    assert made.status_code == 201, made.text
    assert made.headers["Location"] == made.json()["links"]["self"]["href"]
    record = made.json()
    assert record["changes"]["state"] == {"old": "new", "new": "resolved"}
    assert record["changes"]["assignee"] == {"old": "", "new": "bob"}
    assert record["message"]["raw"] == "This is now resolved." and "<p>" in record["message"]["html"]
    issue = requests.get(url(sb, "/1"), headers=person.headers, timeout=5).json()
    assert issue["state"] == "resolved" and issue["assignee"]["nickname"] == "bob"
    # the documentation's query over changes; records are never edited afterwards
    requests.put(url(sb, "/1"), json={"state": "open"}, headers=person.headers, timeout=5)
    resolved = changes(sb, q='changes.state.new = "resolved"')
    assert [r["id"] for r in resolved] == [record["id"]]
    assert changes(sb, sort="-created_on")[0]["changes"]["state"]["new"] == "open"
    assert requests.put(url(sb, f"/1/changes/{record['id']}"), json={}, headers=person.headers,
                        timeout=5).status_code == 405


def test_changes_share_the_comment_id_sequence_and_are_not_comments(sb):
    headers = sb.account("person").headers
    requests.post(url(sb), json={"title": "A"}, headers=headers, timeout=5)
    first = requests.post(url(sb, "/1/comments"), json={"content": {"raw": "a comment"}}, headers=headers, timeout=5)
    change = requests.post(url(sb, "/1/changes"), json={"changes": {"kind": {"new": "task"}}}, headers=headers, timeout=5)
    second = requests.post(url(sb, "/1/comments"), json={"content": {"raw": "another"}}, headers=headers, timeout=5)
    assert [first.json()["id"], change.json()["id"], second.json()["id"]] == [1, 2, 3]
    assert change.json()["links"]["html"]["href"].endswith("/issues/1#comment-2")
    listed = requests.get(url(sb, "/1/comments"), headers=headers, timeout=5).json()
    assert [c["id"] for c in listed["values"]] == [1, 3]


@pytest.mark.parametrize("body, field", [
    ({}, "changes"),
    ({"changes": {}}, "changes"),
    ({"changes": {"assignee": {"new": "bob"}}}, "assignee_account_id"),
    ({"changes": {"assignee_account_id": {"new": ""}}}, "assignee_account_id"),
    ({"changes": {"votes": {"new": "3"}}}, "votes"),
    ({"changes": {"state": {"old": "new"}}}, "state"),
    ({"changes": {"state": {"new": "done"}}}, "state"),
    ({"changes": {"milestone": {"new": "M9"}}}, "milestone"),
])
def test_a_bad_change_is_a_400_and_records_nothing(sb, body, field):
    headers = sb.account("person").headers
    requests.post(url(sb), json={"title": "A"}, headers=headers, timeout=5)
    answer = requests.post(url(sb, "/1/changes"), json=body, headers=headers, timeout=5)
    assert answer.status_code == 400 and field in answer.text
    assert changes(sb) == [] and sb.store.issue(1)["state"] == "new"


def test_uploads_are_recorded_and_scopes_and_ownership_apply(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(public=True)
    person, stranger = sb.account("person").headers, sb.account("stranger").headers
    requests.post(url(sb), json={"title": "A"}, headers=person, timeout=5)
    upload = requests.post(url(sb, "/1/attachments"), files={"files": ("a.txt", b"x")}, headers=person, timeout=5)
    assert upload.status_code == 201
    assert changes(sb)[-1]["changes"] == {"attachment": {"old": "", "new": "a.txt"}}
    refused = requests.post(url(sb, "/1/changes"), json={"changes": {"state": {"new": "open"}}}, headers=stranger,
                            timeout=5)
    assert refused.status_code == 403  # not its issue
    reader = sb.set_scopes("person", ["read:issue:bitbucket"])
    assert requests.get(url(sb, "/1/changes"), headers=reader.headers, timeout=5).status_code == 200
    assert requests.post(url(sb, "/1/changes"), json={"changes": {"state": {"new": "open"}}}, headers=reader.headers,
                         timeout=5).json()["error"]["detail"]["required"] == ["read:issue:bitbucket",
                                                                              "write:issue:bitbucket"]


def test_records_survive_a_restart(tmp_path):
    from spectryn_bitbucket.sandbox import Sandbox

    data = tmp_path / "sb.json"
    with Sandbox(data=data) as sb:
        requests.post(url(sb), json={"title": "A"}, headers=sb.account("sync").headers, timeout=5)
        requests.put(url(sb, "/1"), json={"title": "B"}, headers=sb.account("person").headers, timeout=5)
    with Sandbox(data=data) as again:
        [record] = changes(again)
        assert record["changes"] == {"title": {"old": "A", "new": "B"}} and record["user"]["nickname"] == "alice"
        requests.delete(url(again, "/1"), headers=again.account("sync").headers, timeout=5)
        assert again.store.data["issue_changes"] == {}


def test_the_documented_put_example(sb):
    """The OpenAPI text's PUT: title, assignee by account_id, priority, version by name, component
    cleared with null; every other field keeps its value, and one change records it all."""
    headers = sb.account("person").headers
    requests.post(url(sb), json={"title": "Old", "component": {"name": "UI"}, "kind": "task",
                                 "content": {"raw": "kept"}}, headers=headers, timeout=5)
    body = {"title": "Updated title", "assignee": {"account_id": bob(sb)["account_id"]}, "priority": "minor",
            "version": {"name": "1.0"}, "component": None}
    issue = requests.put(url(sb, "/1"), json=body, headers=headers, timeout=5).json()
    assert (issue["title"], issue["assignee"]["nickname"], issue["priority"], issue["version"]["name"],
            issue["component"], issue["kind"], issue["content"]["raw"]) == (
        "Updated title", "bob", "minor", "1.0", None, "task", "kept")
    [record] = changes(sb)
    assert set(record["changes"]) == {"title", "assignee", "assignee_account_id", "priority", "version", "component"}
    assert record["changes"]["component"] == {"old": "UI", "new": ""}
