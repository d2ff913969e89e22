"""Credentials stay on the base_url's origin, over https (or plain http to loopback)."""

from __future__ import annotations

import pytest
from bb_helpers import API, REPO, client, settings

from spectryn_bitbucket.config import is_loopback
from spectryn_core.errors import ConfigError, TrackerError


@pytest.mark.parametrize("target", [
    "https://evil.test/2.0/repositories",
    "http://api.bitbucket.org/2.0/repositories",        # another scheme
    "https://api.bitbucket.org:8443/2.0/repositories",  # another port
    "https://api.bitbucket.org@evil.test/2.0",          # user info hiding the host
])
def test_absolute_urls_off_the_base_origin_are_refused(target: str) -> None:
    with pytest.raises(TrackerError, match="leaves https://api.bitbucket.org/2.0"):
        client().url(target)


def test_a_path_cannot_move_a_pathless_base_url_to_another_host() -> None:
    c = client(base_url="https://bb.corp.test")
    with pytest.raises(TrackerError, match="evil.test"):
        c.url("@evil.test/x")
    assert client().url(REPO[len(API):]) == REPO
    assert client().url("https://API.bitbucket.org:443/2.0/x") == "https://API.bitbucket.org:443/2.0/x"


def test_pagination_stops_at_a_next_link_elsewhere(requests_mock) -> None:
    requests_mock.get(f"{REPO}/issues", json={"values": [{"id": 1}],
                                              "next": "https://evil.test/2.0/page2"})
    evil = requests_mock.get("https://evil.test/2.0/page2", json={"values": []})
    c = client()
    with pytest.raises(TrackerError, match="Refused to follow the next page of issues"):
        list(c.paginate(c.repo_path("/issues"), "issues"))
    assert not evil.called


def test_writes_never_follow_redirects(requests_mock) -> None:
    requests_mock.post(f"{REPO}/issues", status_code=307, headers={"Location": f"{REPO}/issues"})
    c = client()
    with pytest.raises(TrackerError, match="writes never follow redirects"):
        c.create(c.repo_path("/issues"), "issue US-1", json={}, lookup=lambda: None)
    assert requests_mock.call_count == 1


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.8.9.1", "[::1]", "app.localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)
    assert settings(base_url=f"http://{host.strip('[]') if ':' not in host else host}:7990/2.0")


@pytest.mark.parametrize("host", ["10.99.0.1", "bitbucket.corp.test", "127.0.0.1.evil.test", "0.0.0.0"])
def test_plain_http_elsewhere_is_refused_unless_allowed(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError, match="plain http") as refused:
        settings(base_url=f"http://{host}/2.0")
    assert f"use https://{host}/2.0" in refused.value.hint
    assert settings(base_url=f"http://{host}/2.0", allow_insecure_http=True).base_url \
        == f"http://{host}/2.0"
