"""The seed's BitbucketAdapter API, and the config section / flags."""

from __future__ import annotations

import argparse

import pytest
from bb_helpers import REPO
from marshmallow import ValidationError

from spectryn_bitbucket import BitbucketAdapter
from spectryn_bitbucket.adapter import issue_number
from spectryn_bitbucket.config import add_options, detect_mode
from spectryn_bitbucket.schema import BitbucketSchema
from spectryn_core.errors import ItemError


@pytest.fixture
def adapter() -> BitbucketAdapter:
    return BitbucketAdapter(username="user", app_password="pass", workspace="acme", repo="backend-api",
                            rate_limit=0, retries=1)


def test_issue_numbers() -> None:
    assert issue_number("#123") == issue_number("123") == issue_number(123) == 123
    with pytest.raises(ValueError):
        issue_number("US-001")


def test_comments(adapter, requests_mock) -> None:
    requests_mock.get(f"{REPO}/issues/123/comments", json={"values": [
        {"id": 1, "content": {"raw": "first"}, "user": {"display_name": "Ada"}, "created_on": "2025"}]})
    requests_mock.post(f"{REPO}/issues/123/comments", status_code=201,
                       json={"id": 2, "content": {"raw": "This is a comment"}})
    assert adapter.get_comments("#123") == [{"id": 1, "body": "first", "author": "Ada", "created": "2025"}]
    assert adapter.add_comment("#123", "This is a comment")["id"] == 2
    assert requests_mock.last_request.json()["content"]["raw"] == "This is a comment"


def test_components_versions_and_metadata(adapter, requests_mock) -> None:
    requests_mock.get(f"{REPO}/components", json={"values": [{"name": "Frontend", "id": 3}]})
    requests_mock.get(f"{REPO}/versions", json={"values": [{"name": "v1.0", "id": 4}]})
    requests_mock.put(f"{REPO}/issues/123", json={"id": 123, "component": {"name": "Frontend"}})
    assert adapter.list_components() == [{"name": "Frontend", "id": 3}]
    assert adapter.list_versions() == [{"name": "v1.0", "id": 4}]
    adapter.update_issue_with_metadata(issue_key="#123", component="Frontend", version="v1.0")
    assert requests_mock.last_request.json() == {"component": {"name": "Frontend"}, "version": {"name": "v1.0"}}


def test_attachments(adapter, requests_mock, tmp_path) -> None:
    path = tmp_path / "document.pdf"
    path.write_bytes(b"%PDF")
    requests_mock.get(f"{REPO}/issues/123/attachments", json={"values": [{"name": "document.pdf"}]})
    requests_mock.post(f"{REPO}/issues/123/attachments", status_code=201)
    requests_mock.delete(f"{REPO}/issues/123/attachments/att1", status_code=204)
    assert adapter.get_issue_attachments("#123")[0]["name"] == "document.pdf"
    assert adapter.upload_attachment(issue_key="#123", file_path=str(path), description="Docs")["name"] == "document.pdf"
    assert adapter.delete_attachment("#123", attachment_id="att1") is True
    assert requests_mock.last_request.method == "DELETE"


def test_pull_requests(adapter, requests_mock) -> None:
    requests_mock.get(f"{REPO}/issues/123", json={"id": 123, "content": {"raw": "See pull request #456"}})
    requests_mock.get(f"{REPO}/pullrequests", json={"values": [{"id": 7, "title": "Fix #123", "state": "OPEN"}]})
    requests_mock.get(f"{REPO}/pullrequests/456", json={"id": 456, "title": "Login", "state": "MERGED"})
    requests_mock.get(f"{REPO}/pullrequests/456/comments", json={"values": []})
    requests_mock.post(f"{REPO}/pullrequests/456/comments", status_code=201, json={"id": 1})
    assert [pr["id"] for pr in adapter.get_pull_requests_for_issue("#123")] == [7, 456]
    assert adapter.link_pull_request(issue_key="#123", pull_request_id=456) is True
    assert "#123" in requests_mock.last_request.json()["content"]["raw"]
    requests_mock.get(f"{REPO}/pullrequests/999", status_code=404)
    with pytest.raises(ItemError, match="pull request #999 not found"):
        adapter.link_pull_request(issue_key="#123", pull_request_id=999)


def test_schema_defaults_and_validation() -> None:
    values = BitbucketSchema().load({"workspace": "acme", "repo": "r", "ssl_verify": "false", "rate_limit": "500"})
    assert values["base_url"] == "https://api.bitbucket.org/2.0" and values["ssl_verify"] is False
    assert values["rate_limit"] == 500 and values["epic_mode"] == "milestone" and values["retries"] == 5
    with pytest.raises(ValidationError):
        BitbucketSchema().load({"epic_mode": "label"})


def test_mode_detection() -> None:
    assert detect_mode("https://api.bitbucket.org/2.0") == "cloud"
    assert detect_mode("https://bitbucket.company.com/rest/api/2.0") == "server"
    assert detect_mode("http://127.0.0.1:8080/2.0") == "cloud"
    assert detect_mode("https://api.bitbucket.org/2.0", "server") == "server"


def test_flags() -> None:
    parser = argparse.ArgumentParser()
    add_options(parser)
    args = vars(parser.parse_args(["--bitbucket-repo", "r", "--bitbucket-no-ssl-verify", "--bitbucket-rate-limit", "50"]))
    assert args["bitbucket.repo"] == "r" and args["bitbucket.ssl_verify"] is False
    assert args["bitbucket.rate_limit"] == 50 and args["bitbucket.workspace"] is None
    assert vars(parser.parse_args([]))["bitbucket.ssl_verify"] is None


def test_web_root_is_where_people_browse_the_repository() -> None:
    from bb_helpers import settings

    assert settings().web_root == "https://bitbucket.org"
    assert settings(base_url="http://127.0.0.1:7990/2.0").web_root == "http://127.0.0.1:7990"
    assert settings(base_url="https://u:p@bb.example.com:8443/api/2.0").web_root == "https://bb.example.com:8443"


def test_the_spec_link_of_a_cloud_repository(tmp_path) -> None:
    import subprocess

    from bb_helpers import settings

    from spectryn_bitbucket.tracker import spec_location

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    spec = tmp_path / "docs" / "EPIC.md"
    spec.parent.mkdir()
    spec.write_text("# E\n")
    shown, url = spec_location(spec, settings(branch="release/1.0"))
    assert shown == "docs/EPIC.md"
    assert url == "https://bitbucket.org/acme/backend-api/src/release%2F1.0/docs/EPIC.md"
