"""The sandbox's Cloud 2.0 API over real HTTP: auth, errors, issues, paging, BBQL, extras."""

from __future__ import annotations

import hashlib

import pytest
import requests


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(milestones=["v1", "v2"], components=["api"], versions=["1.0"])


def repo_url(sb) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}"


def create(http, sb, **body):
    body.setdefault("title", "US-001: Login")
    response = http.post(f"{repo_url(sb)}/issues", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status, text):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert text.lower() in (body["error"]["message"] + " " + body["error"].get("detail", "")).lower()


# ------------------------------------------------------------------------------- auth and 404s
def test_no_credentials_is_401_with_error_body(sb):
    response = requests.get(f"{sb.base_url}/user")
    assert_error(response, 401, "Unauthorized")
    assert "WWW-Authenticate" in response.headers
    assert requests.get(f"{repo_url(sb)}/issues").status_code == 401  # a private repository


def test_wrong_token_is_401_with_the_real_message(sb):
    for answer in (requests.get(f"{sb.base_url}/user", headers={"Authorization": "Bearer nope"}),
                   requests.get(f"{sb.base_url}/user", auth=("alice@example.com", "nope"))):
        assert_error(answer, 401, "Token is invalid, expired, or not supported for this endpoint.")
    ok = requests.get(f"{sb.base_url}/user", auth=("alice@example.com", sb.account("person").secret))
    assert ok.status_code == 200
    assert ok.json()["type"] == "user" and ok.json()["nickname"] == "alice"


def test_workspace_and_repo_not_found(http, sb):
    assert_error(http.get(f"{sb.base_url}/workspaces/nope"), 404, "Workspace nope not found")
    assert_error(http.get(f"{sb.base_url}/repositories/nope/demo"), 404, "Workspace nope")
    assert_error(http.get(f"{sb.base_url}/repositories/{sb.workspace}/nope"), 404, "Repository sandbox/nope not found")
    assert_error(http.get(f"{sb.base_url}/repositories/{sb.workspace}/nope/issues"), 404, "not found")
    assert_error(http.get(f"{sb.base_url}/no/such/thing"), 404, "not found")


def test_repository_and_listing(http, sb):
    repo = http.get(repo_url(sb)).json()
    assert repo["full_name"] == "sandbox/demo"
    assert repo["has_issues"] is True
    assert repo["links"]["html"]["href"].endswith("/sandbox/demo")
    listing = http.get(f"{sb.base_url}/repositories/{sb.workspace}").json()
    assert [r["slug"] for r in listing["values"]] == ["demo"]
    assert http.get(f"{sb.base_url}/workspaces/{sb.workspace}").json()["slug"] == "sandbox"


def test_disabled_issue_tracker(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(has_issues=False)
    headers = {"Authorization": f"Bearer {sb.token}"}
    assert requests.get(repo_url(sb), headers=headers).json()["has_issues"] is False
    assert_error(requests.get(f"{repo_url(sb)}/issues", headers=headers), 404, "does not have the issue tracker enabled")
    assert_error(requests.post(f"{repo_url(sb)}/issues", json={"title": "x"}, headers=headers), 404, "does not have the issue tracker enabled")
    assert sb.stats()["writes"] == 1


# ------------------------------------------------------------------------------- issues
def test_create_get_update_delete_issue(http, sb):
    issue = create(http, sb, content={"raw": "Hello *world*", "markup": "markdown"}, milestone={"name": "v1"})
    assert issue["id"] == 1
    assert issue["type"] == "issue"
    assert (issue["state"], issue["kind"], issue["priority"]) == ("new", "bug", "major")
    assert issue["content"]["raw"] == "Hello *world*"
    assert issue["milestone"]["name"] == "v1" and issue["milestone"]["id"] == 1
    assert issue["component"] is None and issue["assignee"] is None and issue["edited_on"] is None
    assert issue["links"]["self"]["href"] == f"{repo_url(sb)}/issues/1"
    assert issue["reporter"]["type"] == "user"

    url = f"{repo_url(sb)}/issues/1"
    assert http.get(url).json()["title"] == "US-001: Login"
    updated = http.put(url, json={"state": "resolved", "component": {"name": "api"}}).json()
    assert updated["state"] == "resolved" and updated["component"]["name"] == "api"
    assert updated["title"] == "US-001: Login" and updated["milestone"]["name"] == "v1"
    assert updated["content"]["raw"] == "Hello *world*"
    assert updated["edited_on"] is not None and updated["updated_on"] >= issue["updated_on"]
    cleared = http.put(url, json={"milestone": None}).json()
    assert cleared["milestone"] is None

    assert http.delete(url).status_code == 204
    assert_error(http.get(url), 404, "Issue 1 not found")
    assert create(http, sb)["id"] == 2  # ids are never reused


def test_create_validation(http, sb):
    url = f"{repo_url(sb)}/issues"
    assert_error(http.post(url, json={}), 400, "title")
    assert_error(http.post(url, json={"title": "x", "state": "done"}), 400, "state")
    assert_error(http.post(url, json={"title": "x", "priority": "urgent"}), 400, "priority")
    response = http.post(url, json={"title": "x", "milestone": {"name": "Q9"}})
    assert_error(response, 400, "milestone")
    assert "milestone" in response.json()["error"]["fields"]
    assert_error(http.post(url, json={"title": "x", "version": {"name": "9.9"}}), 400, "version")
    assert_error(http.post(url, data="{not json", headers={"Content-Type": "application/json"}), 400, "JSON")
    assert http.get(f"{sb.url}/_sandbox/issues").json() == []


def test_pagination_with_next_over_more_than_100(http, sb):
    for n in range(1, 131):
        create(http, sb, title=f"US-{n:03d}: Story {n}")
    first = http.get(f"{repo_url(sb)}/issues", params={"pagelen": 100}).json()
    assert (first["size"], first["pagelen"], first["page"], len(first["values"])) == (130, 100, 1, 100)
    assert first["next"].startswith(sb.url)
    second = http.get(first["next"]).json()
    assert len(second["values"]) == 30 and "next" not in second
    ids = [i["id"] for i in first["values"] + second["values"]]
    assert ids == list(range(1, 131))
    default = http.get(f"{repo_url(sb)}/issues").json()
    assert default["pagelen"] == 10 and len(default["values"]) == 10
    too_long = http.get(f"{repo_url(sb)}/issues", params={"pagelen": 101})
    assert_error(too_long, 400, "Invalid pagelen")  # as Bitbucket: no silent capping


def test_pull_request_lists_take_at_most_50_a_page(http, sb):
    assert_error(http.get(f"{repo_url(sb)}/pullrequests", params={"pagelen": 51}), 400, "Invalid pagelen")
    assert http.get(f"{repo_url(sb)}/pullrequests", params={"pagelen": 50}).status_code == 200


def test_lenient_pagelen_keeps_the_old_capping(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(lenient_pagelen=True)
    page = requests.get(f"{repo_url(sb)}/issues", params={"pagelen": 500},
                        headers={"Authorization": f"Bearer {sb.token}"}).json()
    assert page["pagelen"] == 100


def test_access_tokens_get_403_on_user_api_tokens_do_not(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory()
    bearer = requests.get(f"{sb.base_url}/user", headers={"Authorization": f"Bearer {sb.token}"})
    assert_error(bearer, 403, "not accessible by this authentication mechanism")
    basic = requests.get(f"{sb.base_url}/user", headers=sb.account("person").headers)
    assert basic.status_code == 200 and basic.json()["display_name"] == "Alice Example"


def test_removed_cross_workspace_listings_are_gone(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory()
    headers = {"Authorization": f"Bearer {sb.token}"}
    for path in ("/repositories", "/workspaces"):
        assert requests.get(sb.base_url + path, headers=headers).status_code == 410, path
    listed = requests.get(f"{sb.base_url}/user/workspaces", headers=sb.account("person").headers).json()
    assert [v["workspace"]["slug"] for v in listed["values"]] == ["sandbox"]
    # an access token sees only its own workspace: no cross-workspace listing (Bitbucket's KB)
    assert_error(requests.get(f"{sb.base_url}/user/workspaces", headers=headers), 403, "not accessible")
    assert requests.get(f"{sb.base_url}/repositories/sandbox", headers=headers).status_code == 200


def test_submitted_state_and_lowercase_bbql_keywords(http, sb):
    created = create(http, sb, title="US-001: A", state="submitted")
    assert created["state"] == "submitted"
    create(http, sb, title="US-002: B")
    found = http.get(f"{repo_url(sb)}/issues", params={"q": 'title ~ "US-001" or title ~ "US-002" and id > 0'}).json()
    assert sorted(i["id"] for i in found["values"]) == [1, 2]


def test_a_workspace_of_atlassian_administration_cannot_have_a_tracker(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(admin_hub=True)
    headers = {"Authorization": f"Bearer {sb.token}"}
    assert requests.get(repo_url(sb), headers=headers).json()["has_issues"] is False
    assert_error(requests.get(f"{repo_url(sb)}/issues", headers=headers), 404, "administered through admin.atlassian.com")


def test_next_uses_the_host_the_client_called(http, sb):
    for n in range(3):
        create(http, sb, title=f"T{n}")
    page = http.get(f"http://localhost:{sb.port}/2.0/repositories/sandbox/demo/issues", params={"pagelen": 2}).json()
    assert page["next"].startswith(f"http://localhost:{sb.port}/2.0/")


def test_fields_trimming(http, sb):
    create(http, sb, milestone={"name": "v2"})
    create(http, sb, title="US-002: Other")
    page = http.get(f"{repo_url(sb)}/issues",
                    params={"fields": "values.id,values.title,values.milestone.name,next", "pagelen": 1}).json()
    assert page["values"] == [{"id": 1, "title": "US-001: Login", "milestone": {"name": "v2"}}]
    assert set(page) == {"values", "next"}
    minus = http.get(f"{repo_url(sb)}/issues/1", params={"fields": "-content,-links"}).json()
    assert "content" not in minus and "links" not in minus and minus["title"] == "US-001: Login"


@pytest.mark.parametrize("query, expected", [
    ('title ~ "us-00"', [1, 2]),
    ('title = "US-002: Signup"', [2]),
    ('title !~ "login"', [2, 3]),
    ('state = "open" AND id > 1', [3]),
    ('milestone.name = "v1" OR component.name = "api"', [1, 3]),
    ('(state != "new" OR kind = "task") AND priority >= "critical"', [2, 3]),
    ('id <= 2 AND content.raw ~ "BODY"', [1]),
    ('milestone.name = null', [2]),
])
def test_bbql_filters(http, sb, query, expected):
    create(http, sb, title="US-001: Login", milestone={"name": "v1"}, content={"raw": "the body"})
    create(http, sb, title="US-002: Signup", kind="task", priority="critical")
    create(http, sb, title="Bug three", state="open", component={"name": "api"}, priority="critical",
           milestone={"name": "v2"})
    page = http.get(f"{repo_url(sb)}/issues", params={"q": query}).json()
    assert [i["id"] for i in page["values"]] == expected


def test_bbql_syntax_error_and_sort(http, sb):
    assert_error(http.get(f"{repo_url(sb)}/issues", params={"q": 'title ~'}), 400, "Invalid query")
    for title in ("b", "c", "a"):
        create(http, sb, title=title)
    def by(sort: str) -> list[str]:
        return [i["title"] for i in http.get(f"{repo_url(sb)}/issues", params={"sort": sort}).json()["values"]]

    assert by("-id") == ["a", "c", "b"]
    assert by("title") == ["a", "b", "c"]


# ------------------------------------------------------------------------------- milestones & co
def test_catalogs_are_read_only(http, sb):
    milestones = http.get(f"{repo_url(sb)}/milestones").json()
    assert [m["name"] for m in milestones["values"]] == ["v1", "v2"]
    assert http.get(f"{repo_url(sb)}/milestones/2").json()["name"] == "v2"
    assert_error(http.get(f"{repo_url(sb)}/milestones/9"), 404, "not found")
    assert_error(http.post(f"{repo_url(sb)}/milestones", json={"name": "v3"}), 405, "read-only")
    assert_error(http.put(f"{repo_url(sb)}/components/1", json={"name": "x"}), 405, "Repository settings")
    assert_error(http.delete(f"{repo_url(sb)}/versions/1"), 405, "not allowed")
    assert [c["name"] for c in http.get(f"{repo_url(sb)}/components").json()["values"]] == ["api"]
    assert [v["name"] for v in http.get(f"{repo_url(sb)}/versions").json()["values"]] == ["1.0"]


def test_admin_adds_a_milestone_through_the_control_endpoint(http, sb):
    assert http.post(f"{repo_url(sb)}/issues", json={"title": "x", "milestone": {"name": "Q1"}}).status_code == 400
    added = requests.post(f"{sb.url}/_sandbox/milestones", json={"name": "Q1"})
    assert added.status_code == 201
    assert create(http, sb, milestone={"name": "Q1"})["milestone"]["name"] == "Q1"


# ------------------------------------------------------------------------------- comments
def test_comments(http, sb):
    create(http, sb)
    url = f"{repo_url(sb)}/issues/1/comments"
    first = http.post(url, json={"content": {"raw": "**@alice** (2025-01-15): first"}})
    assert first.status_code == 201
    comment = first.json()
    assert comment["type"] == "issue_comment" and comment["content"]["raw"].endswith("first")
    http.post(url, json={"content": {"raw": "second"}})
    listing = http.get(url).json()
    assert [c["content"]["raw"] for c in listing["values"]] == ["**@alice** (2025-01-15): first", "second"]
    cid = comment["id"]
    assert http.put(f"{url}/{cid}", json={"content": {"raw": "edited"}}).json()["content"]["raw"] == "edited"
    assert http.get(f"{url}/{cid}").json()["content"]["raw"] == "edited"
    assert http.delete(f"{url}/{cid}").status_code == 204
    assert [c["content"]["raw"] for c in http.get(url).json()["values"]] == ["second"]
    assert_error(http.post(url, json={"content": {}}), 400, "content.raw")
    assert_error(http.get(f"{repo_url(sb)}/issues/99/comments"), 404, "Issue 99")


# ------------------------------------------------------------------------------- attachments
def test_multipart_attachments_upload_replace_list_download_delete(http, sb):
    create(http, sb)
    url = f"{repo_url(sb)}/issues/1/attachments"
    png = bytes(range(256)) * 4
    files = [("files", ("diagram.png", png, "image/png")), ("files", ("notes.txt", b"v1\r\n\r\n--x", "text/plain"))]
    response = http.post(url, files=files)
    assert response.status_code == 201 and response.content == b""
    response = http.post(url, files=[("files", ("notes.txt", b"version two", "text/plain"))])
    assert response.status_code == 201
    listing = http.get(url).json()
    assert [a["name"] for a in listing["values"]] == ["diagram.png", "notes.txt"]
    # as Bitbucket: a 302 to a one-time link on the file host (no credentials, good once)
    moved = http.get(listing["values"][0]["links"]["self"]["href"], allow_redirects=False)
    assert moved.status_code == 302 and moved.content == b""
    link = moved.headers["Location"]
    assert link.startswith(f"{sb.url}/_downloads/") and link.endswith("/diagram.png")
    reads = sb.stats()["reads"]
    download = requests.get(link)  # no Authorization header
    assert download.content == png and hashlib.sha256(download.content).hexdigest() == hashlib.sha256(png).hexdigest()
    assert download.headers["Content-Type"] == "image/png" and "X-Content-SHA256" not in download.headers
    assert sb.stats()["reads"] == reads  # the file host is not the API
    again = requests.get(link)
    assert again.status_code == 403  # used up
    assert http.get(listing["values"][0]["links"]["self"]["href"]).content == png  # a new link each time
    assert http.get(f"{url}/notes.txt").content == b"version two"
    assert http.delete(f"{url}/notes.txt").status_code == 204
    assert [a["name"] for a in http.get(url).json()["values"]] == ["diagram.png"]
    assert_error(http.get(f"{url}/notes.txt"), 404, "not found")
    assert_error(http.post(url, data=b"x", headers={"Content-Type": "text/plain"}), 400, "multipart")


def test_attachment_streamed_with_requests_toolbelt(http, sb):
    toolbelt = pytest.importorskip("requests_toolbelt")
    create(http, sb)
    encoder = toolbelt.MultipartEncoder(fields={"files": ("report one.pdf", b"%PDF-1.4 data", "application/pdf")})
    response = http.post(f"{repo_url(sb)}/issues/1/attachments", data=encoder,
                         headers={"Content-Type": encoder.content_type})
    assert response.status_code == 201
    assert http.get(f"{repo_url(sb)}/issues/1/attachments/report%20one.pdf").content == b"%PDF-1.4 data"


# ------------------------------------------------------------------------------- pull requests
def test_pull_requests(http, sb):
    listing = http.get(f"{repo_url(sb)}/pullrequests", params={"pagelen": 50}).json()
    assert [p["id"] for p in listing["values"]] == list(range(1, 11))
    assert http.get(f"{repo_url(sb)}/pullrequests", params={"q": "id > 8"}).json()["size"] == 2
    pr = http.get(f"{repo_url(sb)}/pullrequests/4").json()
    assert pr["type"] == "pullrequest" and pr["state"] == "OPEN"
    assert_error(http.get(f"{repo_url(sb)}/pullrequests/456"), 404, "Pull request 456 not found")
    url = f"{repo_url(sb)}/pullrequests/4/comments"
    assert http.post(url, json={"content": {"raw": "Linked to issue #12"}}).status_code == 201
    comments = http.get(url).json()["values"]
    assert [c["content"]["raw"] for c in comments] == ["Linked to issue #12"]
    assert comments[0]["type"] == "pullrequest_comment"
    assert http.get(f"{repo_url(sb)}/pullrequests/4").json()["comment_count"] == 1


def test_keep_alive_reuses_one_connection(http, sb):
    create(http, sb)
    before = sb.stats()["connections"]
    for _ in range(5):
        assert http.get(f"{repo_url(sb)}/issues/1").status_code == 200
    http.put(f"{repo_url(sb)}/issues/1", json={"state": "open"})
    http.delete(f"{repo_url(sb)}/issues/1")
    assert sb.stats()["connections"] == before
