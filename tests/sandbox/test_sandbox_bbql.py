"""BBQL as Bitbucket's "Filter and sort API objects" documents it: the documented examples, types
(unquoted datetimes, priority by rank, lists), accounts, and 400s naming a field that cannot be
filtered or sorted on (never an empty 200)."""

from __future__ import annotations

import pytest
import requests

from spectryn_bitbucket.sandbox import bbql
from spectryn_bitbucket.sandbox.errors import ApiError

ISSUE = {"id": 12, "title": 'US-001: Say "hi"', "state": "open", "priority": "major", "kind": "bug",
         "milestone": {"name": "Q1"}, "component": None, "version": None, "assignee": None,
         "reporter": {"nickname": "alice", "uuid": "{a}", "account_id": "557058:a", "display_name": "Alice A"},
         "content": {"raw": "Unicode everywhere", "markup": "markdown"},
         "created_on": "2026-01-02T03:04:05+00:00", "updated_on": "2026-01-03T00:00:00+00:00", "edited_on": None}


@pytest.mark.parametrize("query, expected", [
    ('title ~ "say \\"HI\\""', True),
    ("id = 12", True),
    ("id > 12", False),
    ('id >= 12 AND state = "open"', True),
    ('state = "new" OR (milestone.name = "Q1" AND id < 13)', True),
    ('milestone = "Q1"', True),  # an object compared with a value: its name
    ("component = null", True),
    ('component.name ~ "x"', False),
    ('component.name !~ "x"', True),
    ('content ~ "UNICODE"', True),  # content: its raw text
    ('content.raw !~ "unicode"', False),
    ('priority >= "major"', True),
    ('priority > "major"', False),
    ('priority < "critical" AND priority > "trivial"', True),
    ('state IN ("new", "open")', True),
    ('state NOT IN ("new", "open")', False),
    ("id in (1, 12) and state not in (\"closed\")", True),
    ("assignee = null", True),
    ("assignee != null", False),
    ('reporter.nickname = "alice"', True),
    ('reporter.account_id = "557058:a" AND reporter.uuid = "{a}"', True),
    ('reporter.display_name ~ "alice"', True),
    ("created_on > 2026-01-01", True),
    ("created_on > 2026-01-02T03:04:05", False),  # UTC when no offset
    ("created_on > 2026-01-02T03:04:05+01:00", True),
    ("created_on >= 2026-01-01T19:04:05.000-08:00", True),
    ("updated_on <= 2026-01-03", True),
    ("edited_on = null", True),
])
def test_bbql_over_an_issue(query, expected):
    assert bbql.parse(query, bbql.ISSUE)(ISSUE) is expected


@pytest.mark.parametrize("query, message", [
    ('nope = "x"', "Issue has no field named 'nope'"),
    ('reporter.username = "alice"', "Issue has no field named 'reporter.username'"),
    ('links.self = "x"', 'Field "links.self" does not support filtering'),
    ('content.html ~ "x"', 'Field "content.html" does not support filtering'),
    ('assignee = "alice"', 'Invalid value'),
    ('created_on > "2015-10-04"', "expected an unquoted datetime"),
    ('priority = "urgent"', "Invalid value"),
    ('id = "12"', "expected a number"),
    ('priority ~ "maj"', "needs a text field"),
])
def test_fields_and_values_that_cannot_be_filtered_are_400s(query, message):
    with pytest.raises(ApiError) as raised:
        bbql.parse(query, bbql.ISSUE)
    assert raised.value.status == 400 and message in raised.value.message


@pytest.mark.parametrize("query", ['title ~', 'title "x"', '(id = 1', 'id = 1 AND', 'id = 1 )', 'id = @',
                                   'state IN "new"', 'state IN ("new"', 'created_on > 2015-13-45'])
def test_malformed_queries_are_400s(query):
    with pytest.raises(ApiError) as raised:
        bbql.parse(query, bbql.ISSUE)
    assert raised.value.status == 400 and "Invalid query" in raised.value.message


# ------------------------------------------------------------------------------------ over HTTP
@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(milestones=["M1"], components=["UI", "api"], members=["evzijst", "bob"])


def issues_url(sb) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/issues"


def member(sb, nickname: str) -> dict[str, str]:
    return next(m for m in sb.store.members() if m["nickname"] == nickname)


@pytest.fixture
def tracker(sb):
    """Five issues: #1 by the sync (new, UI, minor), #2 by alice, the person (open, major, unicode
    title), #3 by the sync (on hold, UI, critical, assigned to bob), #4 by the sync (resolved,
    trivial, M1), #5 by alice (new, blocker, api, unicode content)."""
    sync, person = sb.account("sync").headers, sb.account("person").headers
    bob = member(sb, "bob")["account_id"]
    bodies = [
        (sync, {"title": "Login", "component": {"name": "UI"}, "priority": "minor"}),
        (person, {"title": "Unicode titles break", "state": "open", "priority": "major"}),
        (sync, {"title": "Layout", "state": "on hold", "component": {"name": "UI"}, "priority": "critical",
                "assignee": {"account_id": bob}}),
        (sync, {"title": "Typo", "state": "resolved", "priority": "trivial", "milestone": {"name": "M1"}}),
        (person, {"title": "Crash", "priority": "blocker", "content": {"raw": "A unicode crash"},
                  "component": {"name": "api"}}),
    ]
    for headers, body in bodies:
        assert requests.post(issues_url(sb), json=body, headers=headers, timeout=5).status_code == 201
    return sb


def ids(sb, **params) -> list[int]:
    answer = requests.get(issues_url(sb), params=params, headers=sb.account("sync").headers, timeout=5)
    assert answer.status_code == 200, answer.text
    return [i["id"] for i in answer.json()["values"]]


@pytest.mark.parametrize("query, expected", [
    # the filtering documentation's issue-tracker examples, as written
    ('(state = "open" OR state = "new") AND assignee = null', [1, 2, 5]),
    ('reporter.nickname != "evzijst" AND priority >= "major"', [2, 3, 5]),
    ('(title ~ "unicode" OR content.raw ~ "unicode") AND created_on > 2015-10-04T14:00:00-07:00', [2, 5]),
    ('state IN ("new", "on hold") AND assignee = null AND component = "UI" and updated_on > 2015-11-11T00:00:00-07:00',
     [1]),
    ('state="new"', [1, 5]),
    # and what the brief names
    ('milestone = "M1"', [4]),
    ('component = "api"', [5]),
    ('content ~ "UNICODE CRASH"', [5]),
    ('reporter.nickname = "alice"', [2, 5]),
    ('reporter.display_name = "spectryn-sync"', [1, 3, 4]),
    ("assignee != null", [3]),
    ("created_on > 2999-01-01", []),
])
def test_documented_examples(tracker, query, expected):
    assert ids(tracker, q=query) == expected


def test_the_documented_sort_and_priority_by_rank(tracker):
    assert ids(tracker, q='state="new"', sort="-updated_on") == [5, 1]
    assert ids(tracker, sort="priority") == [4, 1, 2, 3, 5]  # trivial < minor < major < critical < blocker
    assert ids(tracker, sort="-priority") == [5, 3, 2, 1, 4]
    assert ids(tracker, sort="assignee.display_name") == [1, 2, 4, 5, 3]  # unassigned first
    assert ids(tracker, sort="-id") == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("params, message", [
    ({"q": 'nope = "x"'}, "Issue has no field named 'nope'"),
    ({"q": 'links.html.href ~ "x"'}, 'Field "links.html.href" does not support filtering'),
    ({"sort": "nope"}, "Issue has no field named 'nope'"),
    ({"sort": "-links"}, 'Field "links" does not support filtering'),
    ({"sort": "assignee"}, 'does not support sorting'),
    ({"sort": "priority,id"}, "Invalid sort"),
])
def test_unknown_fields_are_a_400_naming_them_not_an_empty_page(tracker, params, message):
    answer = requests.get(issues_url(tracker), params=params, headers=tracker.account("sync").headers, timeout=5)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["error"]["message"]


def test_other_collections_have_their_own_fields(tracker):
    sb = tracker
    headers = sb.account("person").headers
    repo = f"{sb.base_url}/repositories/{sb.workspace}"
    assert [r["slug"] for r in requests.get(repo, params={"q": "is_private = true"}, headers=headers,
                                            timeout=5).json()["values"]] == ["demo"]
    members = requests.get(f"{sb.base_url}/workspaces/{sb.workspace}/members",
                           params={"q": 'user.nickname = "bob"'}, headers=headers, timeout=5).json()
    assert [m["user"]["nickname"] for m in members["values"]] == ["bob"]
    milestones = requests.get(f"{repo}/{sb.repo}/milestones", params={"q": 'name ~ "m"'}, headers=headers, timeout=5)
    assert [m["name"] for m in milestones.json()["values"]] == ["M1"]
    bad = requests.get(f"{repo}/{sb.repo}/components", params={"q": 'title = "x"'}, headers=headers, timeout=5)
    assert bad.status_code == 400 and "Component has no field named 'title'" in bad.json()["error"]["message"]
    requests.post(f"{issues_url(sb)}/1/comments", json={"content": {"raw": "Looks fine"}}, headers=headers, timeout=5)
    comments = requests.get(f"{issues_url(sb)}/1/comments", params={"q": 'user.nickname = "alice" AND content ~ "fine"'},
                            headers=headers, timeout=5).json()
    assert len(comments["values"]) == 1
