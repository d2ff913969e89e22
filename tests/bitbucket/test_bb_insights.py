"""How the Bitbucket plugin decides where a review's report goes (issue 30): through the Pipelines
auth proxy, with no credential, only when Pipelines' own variables say this is a step, only to a
proxy on this machine, and only for Bitbucket Cloud's API (or a loopback sandbox)."""

from __future__ import annotations

import pytest

from spectryn_bitbucket import insights
from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.config import BitbucketSettings
from spectryn_core.errors import ConfigError
from spectryn_core.review import Finding, Review

STEP = {"BITBUCKET_BUILD_NUMBER": "7", "BITBUCKET_PIPELINE_UUID": "{p}", "BITBUCKET_STEP_UUID": "{s}"}


def test_inside_pipelines_takes_all_three_of_its_step_variables() -> None:
    assert insights.in_pipelines(STEP)
    for name in STEP:
        assert not insights.in_pipelines({**STEP, name: ""})
    assert not insights.in_pipelines({"CI": "true", "BITBUCKET_COMMIT": "abc1234"})


@pytest.mark.parametrize("value,expected", [
    (None, "localhost:29418"), ("127.0.0.1:7000", "127.0.0.1:7000"),
    ("host.docker.internal:29418", "host.docker.internal:29418"), ("off", None), ("[::1]:9", "[::1]:9"),
])
def test_the_proxy_is_on_this_machine_or_off(value: str | None, expected: str | None) -> None:
    assert insights.proxy_address(value) == expected


@pytest.mark.parametrize("value", ["proxy.example.com:29418", "10.0.0.5:29418", "api.bitbucket.org:80"])
def test_a_proxy_elsewhere_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="the Pipelines auth proxy is on this machine"):
        insights.proxy_address(value)


def test_only_clouds_api_or_a_loopback_sandbox_goes_through_the_proxy() -> None:
    assert insights.proxied_base_url("https://api.bitbucket.org/2.0") == "http://api.bitbucket.org/2.0"
    assert insights.proxied_base_url("http://127.0.0.1:7990/2.0") == "http://127.0.0.1:7990/2.0"
    assert insights.proxied_base_url("https://bitbucket.acme.test/rest/api/1.0") is None


def _settings(**changes: object) -> BitbucketSettings:
    base = {"base_url": "http://api.bitbucket.org/2.0", "mode": "cloud", "workspace": "w", "repo": "r",
            "auth_kind": "pipelines_proxy", "auth": ("none", ""), "rate_limit": 0,
            "via_proxy": "localhost:29418"}
    return BitbucketSettings(**{**base, **changes})  # type: ignore[arg-type]


def test_a_client_through_the_proxy_carries_no_credential(tmp_path) -> None:
    client = BitbucketClient(_settings(state_dir=str(tmp_path)))
    try:
        assert client.session.auth is None and client.session.trust_env is False
        assert "Authorization" not in client.session.headers
        assert client._transport["proxies"]["http"] == "http://localhost:29418"
    finally:
        client.close()
    with pytest.raises(ValueError, match="never sent through the Pipelines auth proxy"):
        BitbucketClient(_settings(state_dir=str(tmp_path), auth=("bearer", "spx-secret")))


def test_the_report_is_capped_at_1000_annotations_and_says_what_was_left_out() -> None:
    findings = [Finding("create", "EPIC.md", n, f"merging creates US-{n}") for n in range(1, 1101)]
    findings.insert(0, Finding("conflict", "EPIC.md", 3, "merging leaves #3 US-003 in conflict"))
    review = Review("bitbucket", "bitbucket.org/w/r", ["EPIC.md"], findings)
    body = insights.report_body(review)
    assert body["result"] == "FAILED" and len(body["data"]) <= 10
    assert {d["title"]: d["value"] for d in body["data"]}["Not annotated"] == 101
    assert "101 left out (101 create)" in body["details"]
    first = insights.annotation(1, review.findings[0])
    assert first["annotation_type"] == "BUG" and first["result"] == "FAILED" and first["line"] == 3
    long = insights.annotation(2, Finding("warning", "EPIC.md", 0, "x" * 600))
    assert len(long["summary"]) == insights.SUMMARY_MAX and "line" not in long
