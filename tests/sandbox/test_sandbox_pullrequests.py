"""Pull requests as real documents (author, source/destination with branch, commit and repository,
summary, reviewers, participants, links) and their comments by id, as the OpenAPI text has them."""

from __future__ import annotations

import re

import pytest
import requests


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(members=["evzijst", "bob"], pull_requests=[
        1, {"id": 2, "title": "Login form", "description": "Closes #1", "reviewers": ["evzijst"],
            "destination_branch": "master"},
        {"id": 3, "title": "Old", "state": "MERGED", "author": "bob"}])


def prs(sb) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/pullrequests"


def test_a_pull_request_is_a_whole_document(sb):
    headers = sb.account("sync").headers
    pr = requests.get(f"{prs(sb)}/2", headers=headers, timeout=5).json()
    assert pr["type"] == "pullrequest" and pr["state"] == "OPEN" and pr["title"] == "Login form"
    assert pr["author"]["nickname"] == "alice"  # seeded pull requests are the person's
    assert pr["summary"]["raw"] == "Closes #1" and pr["summary"]["markup"] == "markdown"
    assert pr["rendered"]["title"]["raw"] == "Login form"
    for side, branch in (("source", "feature/pr-2"), ("destination", "master")):
        end = pr[side]
        assert end["branch"]["name"] == branch and end["repository"]["full_name"] == "sandbox/demo"
        assert re.fullmatch(r"[0-9a-f]{12}", end["commit"]["hash"])
    assert pr["source"]["commit"]["hash"] != pr["destination"]["commit"]["hash"]
    assert [r["nickname"] for r in pr["reviewers"]] == ["evzijst"]
    assert [(p["role"], p["user"]["nickname"], p["participated_on"]) for p in pr["participants"]] == [
        ("REVIEWER", "evzijst", None)]
    assert {"self", "html", "commits", "approve", "diff", "diffstat", "comments", "activity", "merge",
            "decline"} <= set(pr["links"])
    assert pr["merge_commit"] is None and pr["comment_count"] == 0 and pr["close_source_branch"] is False
    merged = requests.get(f"{prs(sb)}/3", headers=headers, timeout=5).json()
    assert merged["author"]["nickname"] == "bob" and re.fullmatch(r"[0-9a-f]{12}", merged["merge_commit"]["hash"])
    listed = requests.get(prs(sb), headers=headers, timeout=5).json()
    assert [p["id"] for p in listed["values"]] == [1, 2]  # open ones by default
    assert requests.get(prs(sb), params={"state": ["OPEN", "MERGED"]}, headers=headers, timeout=5).json()["size"] == 3


def test_the_documented_pull_request_query(sb):
    query = ('source.repository.full_name != "main/repo" AND state = "OPEN" AND reviewers.nickname = "evzijst" '
             'AND destination.branch.name = "master"')
    found = requests.get(prs(sb), params={"q": query}, headers=sb.account("sync").headers, timeout=5)
    assert [p["id"] for p in found.json()["values"]] == [2]
    authored = requests.get(prs(sb), params={"q": 'author.nickname = "alice"', "sort": "-id"},
                            headers=sb.account("sync").headers, timeout=5)
    assert [p["id"] for p in authored.json()["values"]] == [2, 1]


def test_comments_by_id_only_their_author_edits_or_deletes(sb):
    sync, person = sb.account("sync").headers, sb.account("person").headers
    url = f"{prs(sb)}/2/comments"
    made = requests.post(url, json={"content": {"raw": "#5 (US-001) is linked"}}, headers=sync, timeout=5)
    assert made.status_code == 201 and made.headers["Location"].endswith(f"/pullrequests/2/comments/{made.json()['id']}")
    cid = made.json()["id"]
    one = requests.get(f"{url}/{cid}", headers=person, timeout=5).json()
    assert one["content"]["raw"] == "#5 (US-001) is linked" and one["user"]["uuid"] == sb.account("sync").uuid
    assert one["deleted"] is False and one["pullrequest"]["id"] == 2
    assert requests.put(f"{url}/{cid}", json={"content": {"raw": "hijacked"}}, headers=person, timeout=5).status_code == 403
    assert requests.delete(f"{url}/{cid}", headers=person, timeout=5).status_code == 403
    edited = requests.put(f"{url}/{cid}", json={"content": {"raw": "#5 (US-001)"}}, headers=sync, timeout=5)
    assert edited.status_code == 200 and edited.json()["content"]["raw"] == "#5 (US-001)"
    assert edited.json()["updated_on"] is not None
    pr = requests.get(f"{prs(sb)}/2", headers=sync, timeout=5).json()
    assert pr["comment_count"] == 1
    assert [(p["role"], p["user"]["display_name"]) for p in pr["participants"]] == [
        ("REVIEWER", "Evzijst"), ("PARTICIPANT", "spectryn-sync")]
    assert requests.delete(f"{url}/{cid}", headers=sync, timeout=5).status_code == 204
    gone = requests.get(f"{url}/{cid}", headers=sync, timeout=5).json()
    assert gone["deleted"] is True and gone["content"]["raw"] == ""
    assert [c["deleted"] for c in requests.get(url, headers=sync, timeout=5).json()["values"]] == [True]
    assert requests.put(f"{url}/{cid}", json={"content": {"raw": "x"}}, headers=sync, timeout=5).status_code == 404
    assert requests.get(f"{prs(sb)}/2", headers=sync, timeout=5).json()["comment_count"] == 0
    assert requests.get(f"{url}/999", headers=sync, timeout=5).status_code == 404


def test_seeding_refuses_what_bitbucket_would(bitbucket_sandbox_factory):
    with pytest.raises(ValueError, match="not a workspace member"):
        bitbucket_sandbox_factory(pull_requests=[{"id": 1, "reviewers": ["nobody"]}])
    with pytest.raises(ValueError, match="author cannot be one of its reviewers"):
        bitbucket_sandbox_factory(pull_requests=[{"id": 1, "reviewers": ["alice"]}])
