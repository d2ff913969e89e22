"""Code Insights in the sandbox over real HTTP: reports and annotations on a commit, with the
shapes, enums and limits of Atlassian's OpenAPI text, and the stricter answer where it is silent."""

from __future__ import annotations

import pytest
import requests

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPORT = {"title": "spectryn review", "details": "What merging this pull request does to the issues.",
          "report_type": "BUG", "reporter": "spectryn", "result": "PASSED",
          "data": [{"title": "Creates", "type": "NUMBER", "value": 3},
                   {"title": "Safe to merge?", "type": "BOOLEAN", "value": True}]}


@pytest.fixture
def sb(bitbucket_sandbox_factory):
    return bitbucket_sandbox_factory()


def reports_url(sb, commit: str = COMMIT) -> str:
    return f"{sb.base_url}/repositories/{sb.workspace}/{sb.repo}/commit/{commit}/reports"


def annotation(n: int, **extra):
    return {"external_id": f"spectryn-{n}", "annotation_type": "BUG", "summary": f"finding {n}",
            "path": "docs/EPIC.md", "line": n, **extra}


def error_text(response) -> str:
    error = response.json()["error"]
    return f"{error['message']} {error.get('detail', '')}"


def test_a_report_is_created_read_listed_replaced_and_deleted(sb, http):
    url = f"{reports_url(sb)}/spectryn-review"
    put = http.put(url, json=REPORT)
    assert put.status_code == 200, put.text
    made = put.json()
    assert made["type"] == "report" and made["external_id"] == "spectryn-review"
    assert made["uuid"].startswith("{") and made["result"] == "PASSED" and made["data"] == REPORT["data"]
    assert http.get(url).json()["title"] == "spectryn review"
    again = http.put(url, json={**REPORT, "result": "FAILED"}).json()
    assert again["uuid"] == made["uuid"] and again["result"] == "FAILED"  # one report per id
    listed = http.get(reports_url(sb)).json()
    assert [r["external_id"] for r in listed["values"]] == ["spectryn-review"]
    assert http.get(reports_url(sb, "fedcba9876543210fedcba9876543210fedcba98")).json()["values"] == []
    assert http.delete(url).status_code == 204
    assert http.get(url).status_code == 404
    assert http.delete(url).status_code == 404  # stricter: deleting what is not there is not ok


@pytest.mark.parametrize("body,detail", [
    ({**REPORT, "title": None}, "title"),
    ({k: v for k, v in REPORT.items() if k != "details"}, "details"),
    ({**REPORT, "report_type": "LINT"}, "report_type"),
    ({**REPORT, "result": "OK"}, "result"),
    ({**REPORT, "data": [{"title": f"d{n}", "value": n} for n in range(11)]}, "at most 10"),
    ({**REPORT, "data": [{"title": "p", "type": "PERCENTAGE", "value": 120}]}, "PERCENTAGE"),
    ({**REPORT, "data": [{"title": "l", "type": "LINK", "value": "https://x"}]}, "LINK"),
    ({**REPORT, "data": [{"title": "t", "type": "COLOUR", "value": "red"}]}, "type"),
    ({**REPORT, "link": "not a uri"}, "link"),
    ([REPORT], "object"),
])
def test_a_malformed_report_is_400(sb, http, body, detail):
    response = http.put(f"{reports_url(sb)}/r", json=body)
    assert response.status_code == 400 and detail in error_text(response), response.text


def test_not_a_commit_or_another_repository_is_404(sb, http):
    assert http.put(f"{reports_url(sb, 'not-a-hash')}/r", json=REPORT).status_code == 404
    other = f"{sb.base_url}/repositories/{sb.workspace}/other/commit/{COMMIT}/reports/r"
    assert http.put(other, json=REPORT).status_code == 404


def test_annotations_are_posted_in_bulk_updated_by_external_id_and_deleted_with_the_report(sb, http):
    url = f"{reports_url(sb)}/r"
    assert http.post(f"{url}/annotations", json=[annotation(1)]).status_code == 404  # no report yet
    http.put(url, json=REPORT)
    posted = http.post(f"{url}/annotations", json=[annotation(1), annotation(2, severity="HIGH")])
    assert posted.status_code == 200, posted.text
    assert [a["external_id"] for a in posted.json()] == ["spectryn-1", "spectryn-2"]
    assert posted.json()[1]["type"] == "report_annotation" and posted.json()[1]["severity"] == "HIGH"
    http.post(f"{url}/annotations", json=[annotation(1, summary="changed")])
    listed = http.get(f"{url}/annotations").json()["values"]
    assert [(a["external_id"], a["summary"]) for a in listed] == [("spectryn-1", "changed"),
                                                                  ("spectryn-2", "finding 2")]
    assert http.get(f"{url}/annotations/spectryn-2").json()["line"] == 2
    assert http.delete(f"{url}/annotations/spectryn-2").status_code == 204
    # a PUT of the report keeps its annotations (the stricter reading): only a delete clears them
    http.put(url, json=REPORT)
    assert len(http.get(f"{url}/annotations").json()["values"]) == 1
    http.delete(url)
    http.put(url, json=REPORT)
    assert http.get(f"{url}/annotations").json()["values"] == []


@pytest.mark.parametrize("body,detail", [
    ([], "1 to 100"),
    ([annotation(n) for n in range(1, 102)], "1 to 100"),
    ({"external_id": "x"}, "array"),
    ([annotation(1, line=0)], "line"),
    ([annotation(1, annotation_type="TYPO")], "annotation_type"),
    ([annotation(1, severity="URGENT")], "severity"),
    ([annotation(1, result="PENDING")], "result"),
    ([{**annotation(1), "summary": None}], "summary"),
    ([{k: v for k, v in annotation(1).items() if k != "external_id"}], "external_id"),
    ([annotation(1), annotation(1)], "unique"),
])
def test_malformed_annotations_are_400_and_none_is_stored(sb, http, body, detail):
    url = f"{reports_url(sb)}/r"
    http.put(url, json=REPORT)
    response = http.post(f"{url}/annotations", json=body)
    assert response.status_code == 400 and detail in error_text(response), response.text
    assert http.get(f"{url}/annotations").json()["values"] == []


def test_a_report_holds_at_most_1000_annotations(sb, http):
    url = f"{reports_url(sb)}/r"
    http.put(url, json=REPORT)
    for start in range(0, 1000, 100):
        batch = [annotation(n) for n in range(start + 1, start + 101)]
        assert http.post(f"{url}/annotations", json=batch).status_code == 200
    more = http.post(f"{url}/annotations", json=[annotation(1001), annotation(5, summary="again")])
    assert more.status_code == 400 and "at most 1000" in error_text(more)
    assert http.get(f"{url}/annotations/spectryn-5").json()["summary"] == "finding 5"  # all or none
    assert http.post(f"{url}/annotations", json=[annotation(5, summary="again")]).status_code == 200
    page = http.get(f"{url}/annotations", params={"pagelen": 100, "page": 10}).json()
    assert page["size"] == 1000 and "next" not in page


def test_reports_survive_a_restart_of_a_sandbox_with_a_data_file(bitbucket_sandbox_factory, tmp_path):
    data = tmp_path / "sandbox.json"
    first = bitbucket_sandbox_factory(data=data)
    auth = {"Authorization": f"Bearer {first.token}"}
    requests.put(f"{reports_url(first)}/r", json=REPORT, headers=auth, timeout=10)
    requests.post(f"{reports_url(first)}/r/annotations", json=[annotation(1)], headers=auth, timeout=10)
    first.stop()
    second = bitbucket_sandbox_factory(data=data)
    listed = requests.get(f"{reports_url(second)}/r/annotations", headers=auth, timeout=10).json()
    assert [a["external_id"] for a in listed["values"]] == ["spectryn-1"]


def test_reports_need_repository_read_only_and_a_credential(bitbucket_sandbox_factory):
    """The OpenAPI text names only read:repository:bitbucket (``repository``) for every reports
    operation: a read-only token may post a report; a token without it, or no credential, may not."""
    sb = bitbucket_sandbox_factory(token_scopes=["issue", "repository", "pullrequest"])  # read-only
    url = f"{reports_url(sb)}/r"
    assert requests.put(url, json=REPORT, headers=sb.account("sync").headers, timeout=10).status_code == 200
    issues_only = sb.set_scopes("person", ["read:issue:bitbucket"])
    refused = requests.put(url, json=REPORT, headers=issues_only.headers, timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"]["detail"]["required"] == ["read:repository:bitbucket"]
    assert requests.get(url, timeout=10).status_code == 401
