"""Rate limits as Bitbucket Cloud counts them: per credential (each API-token user, each access
token), unauthenticated and refused requests per address at 60, refused ones counted, and the
X-RateLimit-* headers of access tokens on repository endpoints. Also the CHANGE-2770 410s."""

from __future__ import annotations

import requests


def repo(sb) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}"


def test_each_credential_has_its_own_allowance(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(rate_limit=2, rate_window=60)
    sync, person = sb.account("sync").headers, sb.account("person").headers
    assert [requests.get(repo(sb), headers=sync, timeout=5).status_code for _ in range(3)] == [200, 200, 429]
    assert requests.get(repo(sb), headers=person, timeout=5).status_code == 200  # alice's own hour
    # two tokens of one account share the user's allowance
    from spectryn_bitbucket.sandbox.accounts import api_token

    sb2 = bitbucket_sandbox_factory(rate_limit=2, rate_window=60, accounts=[
        api_token("alice-ci", "alice@example.com", "another-token-of-alice", nickname="alice")])
    assert requests.get(repo(sb2), headers=sb2.account("person").headers, timeout=5).status_code == 200
    assert requests.get(repo(sb2), headers=sb2.account("alice-ci").headers, timeout=5).status_code == 200
    assert requests.get(repo(sb2), headers=sb2.account("person").headers, timeout=5).status_code == 429


def test_unauthenticated_and_refused_requests_count_per_address(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(anonymous_rate_limit=3, rate_window=60, public=True)
    codes = [requests.get(f"{repo(sb)}/issues", timeout=5).status_code for _ in range(2)]
    codes.append(requests.get(repo(sb), headers={"Authorization": "Bearer wrong"}, timeout=5).status_code)
    codes.append(requests.get(f"{repo(sb)}/issues", timeout=5).status_code)
    assert codes == [200, 200, 401, 429]
    assert requests.get(repo(sb), headers=sb.account("sync").headers, timeout=5).status_code == 200
    default = bitbucket_sandbox_factory()
    anonymous = [requests.get(f"{default.base_url}/user", timeout=5).status_code for _ in range(61)]
    assert anonymous.count(401) == 60 and anonymous[-1] == 429  # "60 requests per hour"


def test_access_tokens_get_the_rate_limit_headers_on_repository_endpoints(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(rate_limit=5, rate_window=60)
    sync = sb.account("sync").headers
    first = requests.get(f"{repo(sb)}/issues", headers=sync, timeout=5)
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Resource"],
            first.headers["X-RateLimit-NearLimit"]) == ("5", "api", "false")
    for _ in range(3):
        last = requests.get(repo(sb), headers=sync, timeout=5)
    assert last.headers["X-RateLimit-NearLimit"] == "false"  # 4 of 5 used: 20% left, not less
    last = requests.get(repo(sb), headers=sync, timeout=5)
    assert last.headers["X-RateLimit-NearLimit"] == "true"  # none left
    person = requests.get(repo(sb), headers=sb.account("person").headers, timeout=5)
    assert person.ok and not any(h.startswith("X-RateLimit") for h in person.headers)  # API tokens: none
    workspace = requests.get(f"{sb.base_url}/workspaces/{sb.workspace}", headers=sync, timeout=5)
    assert "X-RateLimit-Limit" not in workspace.headers  # not a scaled endpoint
    unlimited = bitbucket_sandbox_factory()
    assert requests.get(repo(unlimited), headers=unlimited.account("sync").headers,
                        timeout=5).headers["X-RateLimit-Limit"] == "1000"


def test_removed_endpoints_answer_the_real_410(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory()
    for path in ("/repositories", "/workspaces", "/user/permissions/workspaces"):
        answer = requests.get(sb.base_url + path, headers=sb.account("person").headers, timeout=5)
        assert answer.status_code == 410, path
        assert answer.json() == {
            "type": "error",
            "error": {"message": "CHANGE-2770 - Functionality has been deprecated",
                      "detail": "Please read the changelog entry for more details.",
                      "data": {"announcement_url": "https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770"}},
            "data": {"announcement_url": "https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770"}}
