"""Twin issues (two issues carrying one key, left by two runs at once), found by mutation testing
(issue 18): which twins are marked duplicate, which are only reported, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectryn_core.items import RemoteItem, base_digest
from spectryn_core.sync import untouched
from tests.core.test_engine import Harness


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    h = Harness(tmp_path)
    h.run()
    return h


def twin_of(h: Harness, key: str, *, base: bool = True) -> str:
    """A later issue with ``key``'s fields (and, with ``base``, its merge base); its id."""
    issue_id = h.tracker.id_of(key)
    twin_id = str(max(int(i) for i in h.tracker.issues) + 1)
    h.tracker.issues[twin_id] = dict(h.tracker.issues[issue_id])
    if base:
        h.tracker.bases[twin_id] = dict(h.tracker.bases[issue_id])
    return twin_id


def twin_warnings(result, key: str) -> list[str]:
    return [w for w in result.plan.warnings if f"two issues carry key {key}:" in w]


def test_every_untouched_twin_of_a_key_is_marked_duplicate_of_the_earliest(h):
    first, second = twin_of(h, "US-002"), twin_of(h, "US-002")
    kept = h.tracker.id_of("US-002")
    result = h.run()
    dups = [c for c in result.plan.changes if c.action == "duplicate"]
    assert [(c.key, c.kind, c.title, c.status) for c in dups] == [
        ("US-002", "story", "Pay by invoice", "done")] * 2
    assert sorted(c.remote.id for c in dups) == sorted([first, second])
    assert {c.kept_remote.id for c in dups} == {kept}
    assert h.tracker.issues[first]["state"] == h.tracker.issues[second]["state"] == "duplicate"
    assert h.tracker.comments[first] == [f"duplicate of #{kept}"]
    assert h.tracker.issues[kept].get("state") != "duplicate"


def test_a_twin_marked_duplicate_is_left_alone_and_not_reported_again(h):
    twin_of(h, "US-002")
    h.run()
    before = h.tracker.writes
    result = h.run()
    assert h.tracker.writes == before
    assert twin_warnings(result, "US-002") == []
    assert [c for c in result.plan.changes if c.action == "duplicate"] == []


def test_an_issue_spectryn_did_not_make_is_a_claim_never_a_twin_closed(h):
    twin = twin_of(h, "US-002", base=False)
    result = h.run()
    assert h.tracker.issues[twin].get("state") != "duplicate"
    assert twin_warnings(result, "US-002") == []
    (claim,) = [w for w in result.plan.warnings if "claims US-002" in w]
    assert claim.startswith(f"#{twin} ") and "not made by spectryn (it has no spectryn mark)" in claim
    assert "--adopt US-002 takes it over" in claim


def test_a_touched_twin_is_reported_with_why(h):
    twin = twin_of(h, "US-002")
    h.tracker.issues[twin]["priority"] = "blocker"
    second = twin_of(h, "US-001.1")
    result = h.run()
    (warning,) = twin_warnings(result, "US-002")
    assert "(it was changed since spectryn made it)" in warning
    assert h.tracker.issues[twin].get("state") != "duplicate"
    assert h.tracker.issues[second]["state"] == "duplicate"  # the next twin is still healed


def test_without_a_resolve_duplicate_hook_twins_are_only_reported(h):
    twin = twin_of(h, "US-002")
    h.plugins.pm.unregister(h.tracker)
    h.tracker.resolve_duplicate = None  # a third-party plugin without the hook
    h.plugins.pm.register(h.tracker, name="memory")
    result = h.run()
    (warning,) = twin_warnings(result, "US-002")
    assert "(this tracker plugin cannot mark duplicates)" in warning
    assert h.tracker.issues[twin].get("state") != "duplicate"


def test_untouched_means_a_base_that_every_field_still_matches():
    base = {"title": base_digest("US-1: A"), "state": base_digest("open")}
    fields = {"title": "US-1: A", "state": "open"}
    assert untouched(RemoteItem("US-1", "1", fields=fields, base=base))
    assert untouched(RemoteItem("US-1", "1", fields={"title": "US-1: A"}, base=base))
    assert not untouched(RemoteItem("US-1", "1", fields={**fields, "state": "closed"}, base=base))
    assert not untouched(RemoteItem("US-1", "1", fields=fields, base=None))
    assert not untouched(RemoteItem("US-1", "1", fields=fields, base={}))


def test_a_conflicted_item_gets_no_write_even_when_its_base_misses_its_extras(h):
    issue_id = h.tracker.id_of("US-001")
    h.tracker.bases[issue_id].pop("extras", None)  # e.g. the base line edited by hand
    h.tracker.issues[issue_id]["title"] = "US-001: Edited in the tracker"
    h.edit("### US-001: Pay by card", "### US-001: Pay by credit card")
    before = len(h.tracker.write_log)
    result = h.run()
    change = next(c for c in result.plan.changes if c.key == "US-001")
    assert change.action == "conflict"
    assert [w for w in h.tracker.write_log[before:] if w[1] == "US-001"] == []
