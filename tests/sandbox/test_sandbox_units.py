"""Unit tests of the pure parts (BBQL: test_sandbox_bbql.py): fields= trimming, fault decisions, paging, routes."""

from __future__ import annotations

import time

import pytest

from spectryn_bitbucket.sandbox.errors import ApiError
from spectryn_bitbucket.sandbox.faults import AMBIGUOUS, DROP, DROP_AFTER, FAIL, PASS, Faults
from spectryn_bitbucket.sandbox.fields import trim
from spectryn_bitbucket.sandbox.routing import Route
from spectryn_bitbucket.sandbox.shapes import cloud_page, server_page


def test_fields_trim():
    doc = {"values": [{"id": 1, "title": "a", "milestone": {"name": "Q1", "id": 3}}], "next": "u", "size": 1}
    assert trim(doc, "values.id,values.milestone.name,next") == {"values": [{"id": 1, "milestone": {"name": "Q1"}}], "next": "u"}
    assert trim(doc, "values.*") == {"values": doc["values"]}
    assert trim({"a": 1, "b": {"c": 2, "d": 3}}, "-b.c,+x") == {"a": 1, "b": {"d": 3}}
    assert trim(doc, "") is doc


def test_fault_decisions():
    assert Faults().decide("POST").action == PASS
    assert Faults(fail_rate=1.0).decide("GET").action == FAIL
    assert Faults(drop_rate=1.0).decide("GET").action == DROP
    post_drops = {Faults(drop_rate=1.0, seed=s).decide("POST").action for s in range(20)}
    assert post_drops == {DROP, DROP_AFTER}
    ambiguous = Faults(ambiguous_rate=1.0)
    assert ambiguous.decide("GET").action == PASS and ambiguous.decide("POST").action == AMBIGUOUS
    with pytest.raises(ValueError, match="drop_rate"):
        Faults(drop_rate=-0.1)


def test_rate_limit_window_per_credential():
    faults = Faults(rate_limit=2, rate_window=100, retry_after=True)
    assert [faults.decide("GET", "token:a").action for _ in range(2)] == [PASS, PASS]
    limited = faults.decide("GET", "token:a")
    assert limited.action == "rate_limited" and 99 <= limited.retry_after <= 100
    assert faults.decide("GET", "user:b").action == PASS  # another credential: its own window
    faults.update({"retry_after": False})
    assert faults.decide("GET", "token:a").retry_after is None
    assert faults.allowance("token:a") == (2, True) and faults.allowance("token:c") == (2, False)
    assert Faults().allowance("token:a") == (1000, False)  # no enforced limit: Bitbucket's base


def test_refused_requests_count_and_anonymous_ones_have_60():
    faults = Faults(rate_limit=1, rate_window=0.4)
    assert faults.decide("GET", "token:a").action == PASS
    time.sleep(0.25)
    assert faults.decide("GET", "token:a").action == "rate_limited"
    time.sleep(0.25)  # the accepted request left the window, the refused one has not
    assert faults.decide("GET", "token:a").action == "rate_limited"
    anonymous = Faults(rate_window=100)
    assert [anonymous.decide("GET").action for _ in range(61)].count("rate_limited") == 1
    assert Faults(anonymous_rate_limit=None).decide("GET").action == PASS
    with pytest.raises(ValueError, match="anonymous_rate_limit"):
        Faults(anonymous_rate_limit=0)


def test_paging_shapes():
    page = cloud_page(list(range(25)), {"pagelen": "10", "page": "2", "q": 'id > 1'}, "http://h/2.0/x")
    assert page["values"] == list(range(10, 20)) and page["size"] == 25
    assert page["next"] == "http://h/2.0/x?pagelen=10&page=3&q=id+%3E+1"
    assert page["previous"].endswith("page=1&q=id+%3E+1")
    with pytest.raises(ApiError):
        cloud_page([], {"page": "x"}, "http://h")
    dc = server_page(list(range(5)), {"start": "4", "limit": "2"})
    assert dc == {"size": 1, "limit": 2, "isLastPage": True, "values": [4], "start": 4}


def test_route_templates():
    route = Route("/2.0/repositories/{ws}/{repo}/issues/{id:int}/attachments/{name:path}", {})
    params = route.match("/2.0/repositories/a/b/issues/7/attachments/my%20file.png")
    assert params == {"ws": "a", "repo": "b", "id": 7, "name": "my file.png"}
    assert route.stats_template(params) == "/2.0/repositories/{ws}/{repo}/issues/{id}/attachments/{name}"
    assert route.match("/2.0/repositories/a/b/issues/x/attachments/f") is None
