"""Request counting and each injected fault: fail, drop, ambiguous, rate limit, latency settings."""

from __future__ import annotations

import pytest
import requests


def issues_url(sb) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/issues"


def auth(sb) -> dict[str, str]:
    return {"Authorization": f"Bearer {sb.token}"}


def all_issues(sb) -> list[dict]:
    return requests.get(f"{sb.url}/_sandbox/issues").json()


def test_stats_count_reads_writes_by_template(bitbucket_sandbox):
    sb = bitbucket_sandbox
    h = auth(sb)
    requests.post(issues_url(sb), json={"title": "A"}, headers=h)
    requests.get(f"{issues_url(sb)}/1", headers=h)
    requests.get(f"{issues_url(sb)}/1", headers=h)
    requests.post(f"{issues_url(sb)}/1/comments", json={"content": {"raw": "c"}}, headers=h)
    requests.put(f"{issues_url(sb)}/1/comments/1", json={"content": {"raw": "d"}}, headers=h)
    requests.get(f"{sb.base_url}/user")  # 401 still counts
    requests.get(f"{sb.url}/_sandbox/issues")  # control endpoints do not count
    stats = requests.get(f"{sb.url}/_sandbox/stats").json()
    assert stats["requests"] == {
        "GET /2.0/repositories/{ws}/{repo}/issues/{id}": 2,
        "POST /2.0/repositories/{ws}/{repo}/issues": 1,
        "POST /2.0/repositories/{ws}/{repo}/issues/{id}/comments": 1,
        "PUT /2.0/repositories/{ws}/{repo}/issues/{id}/comments/{id}": 1,
        "GET /2.0/user": 1,
    }
    assert (stats["reads"], stats["writes"], stats["total"]) == (3, 3, 6)
    assert stats["by_method"] == {"GET": 3, "POST": 2, "PUT": 1}
    assert stats == sb.stats()
    assert requests.post(f"{sb.url}/_sandbox/reset-stats").status_code == 200
    assert sb.stats()["total"] == 0 and sb.stats()["requests"] == {}


def test_fail_rate_answers_5xx_without_applying(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(fail_rate=1.0, seed=1)
    statuses = {requests.post(issues_url(sb), json={"title": f"T{n}"}, headers=auth(sb)).status_code for n in range(12)}
    assert statuses <= {500, 502, 503} and len(statuses) > 1
    response = requests.get(issues_url(sb), headers=auth(sb))
    assert response.json()["type"] == "error"
    assert all_issues(sb) == []
    assert sb.stats()["faults"]["failed"] == 13 and sb.stats()["writes"] == 12


def test_drop_closes_connection_without_response(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(drop_rate=1.0, seed=3)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(issues_url(sb), headers=auth(sb), timeout=5)
    posts = 20
    for n in range(posts):
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(issues_url(sb), json={"title": f"T{n}"}, headers=auth(sb), timeout=5)
    created = len(all_issues(sb))
    assert 0 < created < posts  # some POSTs were applied before the drop, some not: ambiguous
    assert sb.stats()["faults"]["dropped"] == posts + 1


def test_ambiguous_post_is_applied_but_answered_502(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(ambiguous_rate=1.0)
    response = requests.post(issues_url(sb), json={"title": "US-001: Login"}, headers=auth(sb))
    assert response.status_code == 502 and response.json()["type"] == "error"
    assert [i["title"] for i in all_issues(sb)] == ["US-001: Login"]
    assert requests.get(f"{issues_url(sb)}/1", headers=auth(sb)).status_code == 200  # GETs unaffected
    assert sb.stats()["faults"]["ambiguous"] == 1


def test_rate_limit_with_retry_after(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(rate_limit=3, rate_window=60, retry_after=True)
    codes = [requests.get(f"{sb.base_url}/repositories/sandbox/demo", headers=auth(sb)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = requests.get(f"{sb.base_url}/repositories/sandbox/demo", headers=auth(sb))
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert sb.stats()["faults"]["rate_limited"] == 2


def test_rate_limit_as_bitbucket_answers_it_and_window_expiry(bitbucket_sandbox_factory):
    """By default as Bitbucket Cloud: text/plain, no Retry-After, a rolling window."""
    sb = bitbucket_sandbox_factory(rate_limit=1, rate_window=0.3)
    assert requests.get(f"{sb.base_url}/repositories/sandbox/demo", headers=auth(sb)).status_code == 200
    limited = requests.get(f"{sb.base_url}/repositories/sandbox/demo", headers=auth(sb))
    assert limited.status_code == 429 and "Retry-After" not in limited.headers
    assert limited.headers["Content-Type"].startswith("text/plain")
    assert limited.text == "Rate limit for this resource has been exceeded"
    import time
    time.sleep(0.35)
    assert requests.get(f"{sb.base_url}/repositories/sandbox/demo", headers=auth(sb)).status_code == 200


def test_faults_change_while_running(bitbucket_sandbox):
    sb = bitbucket_sandbox
    changed = requests.post(f"{sb.url}/_sandbox/faults", json={"fail_rate": 1.0, "latency_ms": 1})
    assert changed.status_code == 200 and changed.json()["fail_rate"] == 1.0
    repo = f"{sb.base_url}/repositories/sandbox/demo"
    assert requests.get(repo, headers=auth(sb)).status_code in (500, 502, 503)
    requests.post(f"{sb.url}/_sandbox/faults", json={"fail_rate": 0})
    assert requests.get(repo, headers=auth(sb)).status_code == 200
    bad = requests.post(f"{sb.url}/_sandbox/faults", json={"fail_rate": 2})
    assert bad.status_code == 400 and "fail_rate" in bad.json()["error"]["message"]
    assert requests.post(f"{sb.url}/_sandbox/faults", json={"nope": 1}).status_code == 400
    assert sb.set_faults(rate_limit=5)["rate_limit"] == 5


def test_seeded_faults_repeat(bitbucket_sandbox_factory):
    def run(seed):
        sb = bitbucket_sandbox_factory(fail_rate=0.5, seed=seed)
        return [requests.get(f"{sb.base_url}/user", headers=auth(sb)).status_code for _ in range(16)]
    assert run(7) == run(7)
