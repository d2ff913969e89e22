"""The sandbox's stand-in for the Bitbucket Pipelines auth proxy: plain http to the API host
through it, no credential, Code Insights reports of the sandbox's repository only."""

from __future__ import annotations

import socket

import pytest
import requests

from tests.sandbox.test_sandbox_insights import COMMIT, REPORT, annotation, reports_url


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory(pipelines_proxy=0)


def through(sb) -> requests.Session:
    """A session like a pipeline step's: every http request through the proxy, no credential."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {"http": f"http://{sb.proxy_address}"}
    return session


def test_a_report_goes_through_the_proxy_without_a_credential(sb):
    with through(sb) as step:
        put = step.put(f"{reports_url(sb)}/spectryn-review", json=REPORT, timeout=10)
        assert put.status_code == 200, put.text
        posted = step.post(f"{reports_url(sb)}/spectryn-review/annotations", json=[annotation(1)], timeout=10)
        assert posted.status_code == 200, posted.text
        assert step.delete(f"{reports_url(sb)}/other", timeout=10).status_code == 404  # the API's answer
        # the real API host's name is forwarded to the sandbox too (a step writes api.bitbucket.org)
        real = f"http://api.bitbucket.org/2.0/repositories/{sb.workspace}/{sb.repo}/commit/{COMMIT}/reports"
        assert step.get(real, timeout=10).json()["values"][0]["external_id"] == "spectryn-review"
    held = requests.get(f"{reports_url(sb)}/spectryn-review", headers=sb.account("sync").headers,
                        timeout=10)
    assert held.status_code == 200 and held.json()["title"] == REPORT["title"]
    assert sb.proxy_stats() == {"requests": 4, "refused": 0, "credentials_seen": 0}
    assert requests.get(f"{reports_url(sb)}/spectryn-review", timeout=10).status_code == 401  # not direct


def test_the_proxy_refuses_a_request_carrying_a_credential(sb):
    with through(sb) as step:
        leaked = step.put(f"{reports_url(sb)}/r", json=REPORT, headers=sb.account("sync").headers,
                          timeout=10)
    assert leaked.status_code == 400 and "must not carry a credential" in leaked.text
    assert sb.proxy_stats()["credentials_seen"] == 1


def test_the_proxy_authenticates_reports_of_this_repository_only(sb):
    repo = f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}"
    with through(sb) as step:
        assert step.get(f"{repo}/issues", timeout=10).status_code == 403
        assert step.get(repo, timeout=10).status_code == 403
        other = f"{sb.base_url}/repositories/{sb.workspace}/other/commit/{COMMIT}/reports/r"
        assert step.put(other, json=REPORT, timeout=10).status_code == 403
        assert step.get("http://example.com/2.0/user", timeout=10).status_code == 403
    # the proxy's own account could not read issues anyway: its only scope is `repository`
    issues = requests.get(f"{repo}/issues", headers=sb.account("pipelines").headers, timeout=10)
    assert issues.status_code == 403
    assert sb.proxy_stats()["requests"] == 0


def test_the_proxy_takes_plain_http_proxy_requests_only(sb):
    host, port = sb.proxy_address.split(":")
    assert requests.get(f"http://{sb.proxy_address}/2.0/user", timeout=10).status_code == 400
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(b"CONNECT api.bitbucket.org:443 HTTP/1.1\r\nHost: api.bitbucket.org:443\r\n\r\n")
        assert raw.recv(200).startswith(b"HTTP/1.1 405")


def test_a_sandbox_without_the_proxy_has_none(bitbucket_sandbox_factory):
    plain = bitbucket_sandbox_factory()
    assert plain.proxy_stats() == {}
    with pytest.raises(RuntimeError):
        _ = plain.proxy_address
