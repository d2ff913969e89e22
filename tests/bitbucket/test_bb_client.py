"""The HTTP client: auth headers, secrets, pagination, retries, 429, POST lookups, errors."""

from __future__ import annotations

import base64
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from bb_helpers import REPO, SECRET, client, settings

from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.ratelimit import RollingLog
from spectryn_core.errors import ItemError, TrackerError


def _auth_of(c: BitbucketClient, requests_mock) -> str:
    requests_mock.get(f"{REPO}", json={"full_name": "acme/backend-api"})
    c.get(c.repo_path(), "repo")
    return requests_mock.last_request.headers["Authorization"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"access_token": "tok"}, "Bearer tok"),
        ({}, "Basic " + base64.b64encode(f"me@acme.test:{SECRET}".encode()).decode()),
        ({"email": None, "api_token": None, "username": "bob", "app_password": "pw"},
         "Basic " + base64.b64encode(b"bob:pw").decode()),
    ],
)
def test_each_cloud_auth_mode_sends_its_header(overrides, expected, requests_mock) -> None:
    assert _auth_of(client(**overrides), requests_mock) == expected


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"access_token": "pat-123"}, "Bearer pat-123"),
        ({"app_password": "pat-123"}, "Bearer pat-123"),  # the seed's key, alone: a token
        # Data Center takes Basic too: username + password, or username + token (the seed's form)
        ({"username": "john", "app_password": "pat-123"}, "Basic " + base64.b64encode(b"john:pat-123").decode()),
    ],
)
def test_server_mode_sends_bearer_or_basic(overrides, expected, requests_mock) -> None:
    c = client(base_url="https://bb.corp.test/rest/api/2.0", email=None, api_token=None, **overrides)
    assert c.settings.mode == "server"
    requests_mock.get("https://bb.corp.test/rest/api/1.0/projects/acme/repos/backend-api", json={})
    c.get(c.server_url(), "repo")
    assert requests_mock.last_request.headers["Authorization"] == expected


def test_secrets_never_in_logs_or_errors(requests_mock, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="spectryn.bitbucket")
    c = client()
    requests_mock.get(REPO, status_code=401, json={"type": "error", "error": {"message": "Unauthorized"}})
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path(), "repo")
    assert "Authentication failed" in str(info.value)
    text = str(info.value) + caplog.text + repr(c.settings)
    assert SECRET not in text
    assert base64.b64encode(f"me@acme.test:{SECRET}".encode()).decode() not in text
    assert "GET /2.0/repositories/acme/backend-api -> 401" in caplog.text


def test_app_password_401_explains_the_removal(requests_mock) -> None:
    c = client(email=None, api_token=None, username="bob", app_password="pw")
    requests_mock.get(REPO, status_code=401)
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path(), "repo")
    assert "2026-07-28" in info.value.hint and "BITBUCKET_API_TOKEN" in info.value.hint


def test_a_401_for_an_api_token_sent_with_a_username_asks_for_the_account_email(requests_mock) -> None:
    c = client(email="alice-bb", api_token="tok")  # a Bitbucket username where the email goes
    requests_mock.get(REPO, status_code=401, json={"type": "error", "error": {
        "message": "Token is invalid, expired, or not supported for this endpoint."}})
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path(), "repo")
    assert "use your Atlassian account email" in info.value.hint and "'alice-bb'" in info.value.hint
    ok = client()  # an email: the usual hint (the token expired or was revoked)
    requests_mock.get(REPO, status_code=401)
    with pytest.raises(TrackerError) as again:
        ok.get(ok.repo_path(), "repo")
    assert "use your Atlassian account email" not in again.value.hint


def test_a_403_names_the_scopes_bitbucket_says_are_required(requests_mock) -> None:
    c = client()
    requests_mock.get(f"{REPO}/issues", status_code=403, json={"type": "error", "error": {
        "message": "Your credentials lack one or more required privilege scopes.",
        "detail": {"required": ["read:issue:bitbucket"], "granted": ["read:repository:bitbucket"]}}})
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path("/issues"), "issues")
    assert "lacks the scope read:issue:bitbucket" in info.value.message
    requests_mock.get(REPO, status_code=403, json={"type": "error", "error": {
        "message": "You do not have access to this repository."}})
    with pytest.raises(TrackerError) as other:
        c.get(c.repo_path(), "repo")
    assert "You do not have access to this repository." in other.value.message  # not a scope guess
    assert "scope" not in other.value.message


def test_pagination_follows_next_and_sends_pagelen_once(requests_mock) -> None:
    c = client()
    requests_mock.get(f"{REPO}/issues", json={"values": [{"id": 1}], "next": f"{REPO}/issues?page=2&pagelen=100"})
    requests_mock.get(f"{REPO}/issues?page=2", json={"values": [{"id": 2}]})
    ids = [v["id"] for v in c.paginate(c.repo_path("/issues"), "issues", params={"fields": "values.id,next"})]
    assert ids == [1, 2]
    first = requests_mock.request_history[0]
    assert first.qs["pagelen"] == ["100"] and first.qs["fields"] == ["values.id,next"]
    assert requests_mock.request_history[1].qs == {"page": ["2"], "pagelen": ["100"]}
    assert c.request_count() == {"read": 2, "write": 0}


def test_429_waits_retry_after_and_warns(requests_mock, caplog) -> None:
    c = client()
    requests_mock.get(REPO, [{"status_code": 429, "headers": {"Retry-After": "12"}},
                             {"status_code": 200, "json": {"ok": 1}}])
    assert c.get(c.repo_path(), "repo") == {"ok": 1}
    assert c.slept and c.slept[0] == pytest.approx(12.0, abs=0.05)
    assert "Bitbucket answered 429" in caplog.text and "pausing 12 s" in caplog.text


def test_429_as_bitbucket_sends_it_pauses_and_grows_until_max_wait(requests_mock, caplog) -> None:
    """text/plain, no Retry-After: growing pauses, then a clean stop past max_wait."""
    now = [1_000_000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    quota = RollingLog(None, 1000, 3600, max_wait=300, clock=lambda: now[0], sleep=sleep)
    c = BitbucketClient(settings(), backoff=0, sleep=sleep, quota=quota)
    requests_mock.get(REPO, status_code=429, text="Rate limit for this resource has been exceeded",
                      headers={"Content-Type": "text/plain"})
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path(), "repo")
    assert "stopped rather than wait" in info.value.message
    assert "run again after" in info.value.hint
    assert len(slept) >= 3 and all(b > a for a, b in zip(slept, slept[1:], strict=False))
    assert sum(slept) <= 300
    assert "pausing" in caplog.text


def test_429_then_success_goes_on(requests_mock) -> None:
    c = client()
    requests_mock.get(REPO, [{"status_code": 429, "text": "Rate limit for this resource has been exceeded"}] * 3
                      + [{"status_code": 200, "json": {"ok": 1}}])
    assert c.get(c.repo_path(), "repo") == {"ok": 1}
    assert len(c.slept) == 3


def test_post_is_not_resent_when_lookup_finds_it(requests_mock) -> None:
    c = client()
    requests_mock.post(f"{REPO}/issues", status_code=502)
    found = {"id": 7}
    assert c.create(c.repo_path("/issues"), "issue", json={}, lookup=lambda: found) is found
    assert requests_mock.call_count == 1


def test_post_is_resent_only_after_lookup_finds_nothing(requests_mock) -> None:
    c = client()
    requests_mock.post(f"{REPO}/issues", [{"exc": requests.exceptions.ReadTimeout},
                                           {"status_code": 201, "json": {"id": 9}}])
    lookups: list[int] = []
    result = c.create(c.repo_path("/issues"), "issue", json={}, lookup=lambda: lookups.append(1))
    assert result == {"id": 9} and lookups == [1]
    assert requests_mock.call_count == 2


@pytest.mark.parametrize(
    ("status", "message"),
    [(403, "Permission denied"), (400, "Bitbucket refused"), (500, "Bitbucket failed")],
)
def test_error_mapping(status, message, requests_mock) -> None:
    c = client()
    requests_mock.put(f"{REPO}/issues/3", status_code=status,
                      json={"type": "error", "error": {"message": "bad milestone"}})
    with pytest.raises(TrackerError) as info:
        c.call("PUT", c.repo_path("/issues/3"), "issue #3", json={})
    assert info.value.message.startswith(message) and info.value.hint
    assert isinstance(info.value, ItemError) == (status == 400)


def test_connection_error_says_cannot_reach(requests_mock) -> None:
    c = client()
    requests_mock.get(REPO, exc=requests.exceptions.ConnectionError("Failed to establish a new connection: refused"))
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path(), "repo")
    assert info.value.message.startswith("Cannot reach api.bitbucket.org")
    assert "BITBUCKET_BASE_URL" in info.value.hint or "base_url" in info.value.hint


def test_tls_error_hints_at_ca_bundle(requests_mock) -> None:
    c = client()
    requests_mock.get(REPO, exc=requests.exceptions.SSLError("certificate verify failed"))
    with pytest.raises(TrackerError) as info:
        c.get(c.repo_path(), "repo")
    assert "BITBUCKET_SSL_VERIFY" in info.value.hint and "ca_bundle" in info.value.hint


def test_ssl_settings_reach_the_session() -> None:
    assert client(ssl_verify=False).session.verify is False
    assert client(ca_bundle="/etc/ca.pem").session.verify == "/etc/ca.pem"
    assert client().session.verify is True


def test_each_request_takes_a_slot_of_the_rolling_log(requests_mock) -> None:
    quota = RollingLog(None, 5, 3600)
    c = BitbucketClient(settings(), backoff=0, sleep=lambda s: None, quota=quota)
    requests_mock.get(REPO, json={}, headers={"X-RateLimit-Limit": "9000"})
    c.get(c.repo_path(), "repo")
    c.get(c.repo_path(), "repo")
    assert quota.quota().remaining == 3  # an explicit rate_limit is kept over the header


# --- real HTTP: urllib3's Retry mounted on the session -------------------------------------


class _Flaky(BaseHTTPRequestHandler):
    plan: list[str] = []
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        step = self.plan.pop(0) if self.plan else "ok"
        self.seen.append(step)
        if step == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        code = 503 if step == "503" else 200
        body = b'{"ok": true}'
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def flaky():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Flaky.seen = []
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("failure", ["503", "drop"])
def test_get_is_retried_over_real_http(flaky, failure) -> None:
    _Flaky.plan = [failure, failure, "ok"]
    c = BitbucketClient(settings(base_url=f"http://127.0.0.1:{flaky.server_port}/2.0", retries=3),
                        backoff=0, sleep=lambda s: None)
    assert c.get("/repositories/acme/backend-api", "repo") == {"ok": True}
    assert _Flaky.seen == [failure, failure, "ok"]

