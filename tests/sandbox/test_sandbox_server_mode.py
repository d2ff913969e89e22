"""Server (Data Center) mode: REST 1.0 repo / pull request endpoints, 404 on every issue path."""

from __future__ import annotations

import pytest
import requests


@pytest.fixture
def dc(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(server_mode=True, workspace="PROJ", repo="web", pull_requests=[1, 2, 456])


def get(dc, path, **kwargs):
    return requests.get(f"{dc.url}{path}", headers={"Authorization": f"Bearer {dc.token}"}, **kwargs)


def test_repo_and_pull_requests(dc):
    repo = get(dc, "/rest/api/1.0/projects/PROJ/repos/web").json()
    assert repo["slug"] == "web" and repo["project"]["key"] == "PROJ"
    assert get(dc, "/rest/api/latest/projects/PROJ/repos/web").status_code == 200
    pr = get(dc, "/rest/api/1.0/projects/PROJ/repos/web/pull-requests/456").json()
    assert pr["id"] == 456 and pr["state"] == "OPEN" and pr["links"]["self"][0]["href"]
    missing = get(dc, "/rest/api/1.0/projects/PROJ/repos/web/pull-requests/3")
    assert missing.status_code == 404 and "does not exist" in missing.json()["errors"][0]["message"]
    assert get(dc, "/rest/api/1.0/projects/NOPE/repos/web").status_code == 404
    assert get(dc, "/rest/api/1.0/projects/PROJ/repos/nope").status_code == 404


def test_repos_listing_is_paginated_dc_style(dc):
    page = get(dc, "/rest/api/1.0/projects/PROJ/repos", params={"limit": 1}).json()
    assert page["values"][0]["slug"] == "web"
    assert page["isLastPage"] is True and page["start"] == 0 and page["limit"] == 1
    prs = get(dc, "/rest/api/1.0/projects/PROJ/repos/web/pull-requests", params={"limit": 2}).json()
    assert [p["id"] for p in prs["values"]] == [1, 2] and prs["nextPageStart"] == 2 and not prs["isLastPage"]


def test_pr_comments(dc):
    url = f"{dc.url}/rest/api/1.0/projects/PROJ/repos/web/pull-requests/2/comments"
    headers = {"Authorization": f"Bearer {dc.token}"}
    created = requests.post(url, json={"text": "Linked to US-001"}, headers=headers)
    assert created.status_code == 201 and created.json()["text"] == "Linked to US-001"
    assert [c["text"] for c in requests.get(url, headers=headers).json()["values"]] == ["Linked to US-001"]


@pytest.mark.parametrize("path", [
    "/rest/api/2.0/repositories/PROJ/web/issues",
    "/rest/api/2.0/repositories/PROJ/web",
    "/rest/api/1.0/projects/PROJ/repos/web/issues",
    "/2.0/repositories/PROJ/web/issues",
])
def test_issue_paths_answer_404_with_dc_error_body(dc, path):
    response = get(dc, path)
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"]


def test_base_url_issue_endpoint_is_404_and_auth_is_bearer_or_basic(dc, bitbucket_sandbox_factory):
    assert dc.base_url == f"{dc.url}/rest/api/2.0"
    assert get(dc, "/rest/api/2.0/repositories/PROJ/web/issues").status_code == 404
    basic = requests.get(f"{dc.server_api_url}/projects/PROJ/repos/web", auth=("me", dc.token))
    assert basic.status_code == 200  # Data Center accepts Basic (user + password or token)
    wrong = requests.get(f"{dc.server_api_url}/projects/PROJ/repos/web", auth=("me", "wrong"))
    assert wrong.status_code == 401 and "errors" in wrong.json()
    assert requests.get(f"{dc.server_api_url}/projects/PROJ/repos/web").status_code == 401
    assert dc.stats()["requests"]["GET /rest/api/1.0/projects/{key}/repos/{repo}"] == 3
    old = bitbucket_sandbox_factory(server_mode=True, workspace="PROJ", repo="web", bearer_only=True)
    assert requests.get(f"{old.server_api_url}/projects/PROJ/repos/web", auth=("me", old.token)).status_code == 401
