"""An independent client against the sandbox: atlassian-python-api's Bitbucket Cloud API (a widely
used client we did not write), used as its users use it. What it does must behave as it does
against Bitbucket Cloud: API tokens with the account email, access tokens as Bearer, paging by
``next``, the documents its properties read (users with avatars, pull request commits and
participants, typed comments), BBQL as documented, and the errors it raises (the real 401, 403,
400 and 410 messages). It is in the ``test`` extra (pure Python, a few hundred kB of its own
beside requests); without it the module is skipped with the reason.
"""

from __future__ import annotations

import pytest

atlassian = pytest.importorskip("atlassian", reason="atlassian-python-api is not installed (pip install -e '.[test]')")
from atlassian.bitbucket import Cloud  # noqa: E402
from requests import HTTPError  # noqa: E402


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(milestones=["M1"], components=["UI"], members=["evzijst"],
                                     pull_requests=[1, {"id": 2, "title": "Login", "reviewers": ["evzijst"]}])


def cloud(sb, handle: str = "person") -> Cloud:
    """The client as its documentation shows: url, username (the account email) and password (the
    API token); an access token as ``token`` (Bearer)."""
    account = sb.account(handle)
    if account.is_access_token:
        return Cloud(url=sb.url, token=account.secret)
    return Cloud(url=sb.url, username=account.email, password=account.secret)


def repository(client: Cloud, sb):
    return client.workspaces.get(sb.workspace).repositories.get(sb.repo)


def test_issues_round_trip_and_paging(sb):
    repo = repository(cloud(sb), sb)
    assert repo.slug == "demo" and repo.is_private is True
    made = repo.issues.create("US-001: Login", "As a user", "task", "major")
    assert (made.id, made.title, made.kind, made.priority, made.state) == (1, "US-001: Login", "task", "major", "new")
    assert made.created_on is not None and made.content["raw"] == "As a user"
    made.update(state="resolved")
    assert repo.issues.get(1).state == "resolved"
    for n in range(2, 24):
        repo.issues.create(f"US-{n:03d}: Story", "", "bug", "minor")
    assert [i.id for i in repo.issues.each()] == list(range(1, 24))  # 3 pages, by next
    assert [i.id for i in repo.issues.each(q='state = "resolved" OR priority >= "major"')] == [1]
    assert [i.id for i in repo.issues.each(q="created_on > 2015-10-04T14:00:00-07:00", sort="-id")][:2] == [23, 22]
    repo.issues.get(23).delete()
    with pytest.raises(HTTPError) as gone:
        repo.issues.get(23)
    assert gone.value.response.status_code == 404


def test_bbql_errors_reach_the_client_as_bitbucket_words_them(sb):
    repo = repository(cloud(sb), sb)
    with pytest.raises(HTTPError) as raised:
        list(repo.issues.each(q='nope = "x"'))
    assert raised.value.response.status_code == 400 and "Issue has no field named 'nope'" in str(raised.value)


def test_credentials_as_bitbucket_takes_them(sb):
    person = sb.account("person")
    assert cloud(sb).workspaces.exists(sb.workspace) is True
    assert cloud(sb, "sync").repositories.get(sb.workspace, sb.repo).slug == "demo"
    for wrong in (Cloud(url=sb.url, username="alice", password=person.secret),  # a username, not the email
                  Cloud(url=sb.url, token=person.secret),  # an API token as Bearer
                  Cloud(url=sb.url, username=person.email, password=sb.token)):  # an access token as Basic
        with pytest.raises(HTTPError) as raised:
            wrong.repositories.get(sb.workspace, sb.repo)
        assert raised.value.response.status_code == 401
        assert "Token is invalid, expired, or not supported for this endpoint." in str(raised.value)


def test_a_missing_scope_names_it(sb):
    sb.set_scopes("person", ["read:workspace:bitbucket", "read:repository:bitbucket", "read:issue:bitbucket"])
    repo = repository(cloud(sb), sb)
    with pytest.raises(HTTPError) as raised:
        repo.issues.create("x", "", "bug", "major")
    assert raised.value.response.status_code == 403
    assert "Your credentials lack one or more required privilege scopes." in str(raised.value)
    assert "write:issue:bitbucket" in str(raised.value)


def test_workspaces_come_from_user_workspaces_and_the_removed_listing_is_gone(sb):
    client = cloud(sb)
    assert [w.slug for w in client.workspaces.each()] == ["sandbox"]  # via /2.0/user/workspaces
    with pytest.raises(HTTPError) as raised:
        list(client.repositories.each())  # /2.0/repositories: removed by CHANGE-2770
    assert raised.value.response.status_code == 410
    assert "CHANGE-2770 - Functionality has been deprecated" in str(raised.value)


def test_pull_requests_as_the_client_reads_them(sb):
    repo = repository(cloud(sb, "sync"), sb)
    prs = {pr.id: pr for pr in repo.pullrequests.each()}
    assert set(prs) == {1, 2}
    pr = repo.pullrequests.get(2)
    assert (pr.title, pr.source_branch, pr.destination_branch) == ("Login", "feature/pr-2", "main")
    assert len(pr.source_commit) == 12 and pr.destination_commit != pr.source_commit
    assert pr.author.nickname == "alice" and pr.author.avatar.startswith("http")
    assert [r.nickname for r in pr.reviewers()] == ["evzijst"]
    assert [(p.user.nickname, p.is_reviewer, p.has_approved) for p in pr.participants()] == [("evzijst", True, False)]
    pr.comment("#1 (US-001) is done here")
    [comment] = list(pr.comments())
    assert comment.raw == "#1 (US-001) is done here" and comment.user.display_name == "spectryn-sync"
    comment.update(content={"raw": "#1 (US-001)"})
    assert [c.raw for c in repo.pullrequests.get(2).comments()] == ["#1 (US-001)"]
    comment.delete()
    assert repo.pullrequests.get(2).comment_count == 0
