"""Provenance through the engine (issue 25), with the in-memory tracker: the rules of
spectryn_core/provenance.py as a sync applies them, without and with a state file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spectryn_core.errors import OwnershipError
from spectryn_core.items import Account
from spectryn_core.provenance import GENERATION, KEY, SPEC
from spectryn_core.sync import SyncRequest, run_sync
from tests.core.test_engine import Harness
from tests.support.memtracker import SYNC

EVE = Account("{eve}", "Eve")


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def sync(h: Harness, *, execute: bool = True, adopt: tuple[str, ...] = (),
         trusted: tuple[str, ...] = (), spec: Path | None = None):
    request = SyncRequest(spec or h.spec, "memory", h.state_dir, execute=execute, workers=3,
                          adopt=adopt, trusted_accounts=trusted)
    return run_sync(h.plugins, h.config(), request)


def lose_state(h: Harness) -> None:
    shutil.rmtree(h.state_dir, ignore_errors=True)


def change(result, key: str):
    return next(c for c in result.plan.changes if c.key == key)


def test_every_write_records_provenance_and_a_growing_generation(h):
    sync(h)
    us2 = h.tracker.id_of("US-002")
    assert {k: h.tracker.bases[us2][k] for k in (SPEC, KEY, GENERATION)} == {
        SPEC: "EPIC.md", KEY: "US-002", GENERATION: "1"}
    h.edit("### US-002: Pay by invoice", "### US-002: Pay later")
    sync(h)
    assert h.tracker.bases[us2][GENERATION] == "2"
    lose_state(h)
    h.edit("### US-002: Pay later", "### US-002: Pay much later")
    sync(h)
    assert h.tracker.bases[us2][GENERATION] == "3"  # one more than the item's, without state


def test_a_hand_made_issue_is_held_never_written_and_adopt_takes_it_over(h):
    made = h.tracker.add_by_hand("US-002: By hand", "PM notes")
    result = sync(h)
    held = change(result, "US-002")
    assert held.action == "conflict" and held.claimed_by.id == made and held.fields == []
    assert h.tracker.issues[made] == {"title": "US-002: By hand", "content": "PM notes",
                                      "state": "open", "priority": None}
    assert list(h.tracker.by_key()).count("US-002") == 1 and "US-001" in h.tracker.by_key()
    before = len(h.tracker.write_log)
    adopted = sync(h, adopt=("US-002",))
    taken = change(adopted, "US-002")
    assert taken.action == "update" and taken.takeover and taken.status == "done"
    assert h.tracker.write_log[before:] == [("update", "US-002", ("content", "priority", "title"))]
    assert h.tracker.bases[made][KEY] == "US-002"
    lose_state(h)
    after = sync(h)
    assert change(after, "US-002").action == "unchanged" and after.plan.warnings == []


def test_an_adopted_issue_that_already_matches_is_written_once_for_its_provenance(h):
    sync(h)
    us2 = h.tracker.id_of("US-002")
    h.tracker.bases.pop(us2)  # the hidden line deleted by hand: no mark any more
    lose_state(h)
    assert change(sync(h), "US-002").claimed_by is not None
    before = len(h.tracker.write_log)
    sync(h, adopt=("US-002",))
    assert h.tracker.write_log[before:] == [("update", "US-002", ())]
    assert h.tracker.bases[us2][KEY] == "US-002"


def test_a_stale_state_never_outvotes_a_newer_base_in_the_item(h):
    sync(h)  # the laptop
    laptop_state = h.tmp / "laptop-state"
    shutil.copytree(h.state_dir, laptop_state)
    lose_state(h)
    h.edit("| **Priority** | Low |", "| **Priority** | High |")
    sync(h)  # CI, no state: priority sent, generation 2
    us2 = h.tracker.id_of("US-002")
    h.tracker.issues[us2]["priority"] = "minor"  # the PM sets it back to what the laptop saw
    shutil.rmtree(h.state_dir)
    shutil.copytree(laptop_state, h.state_dir)
    before = h.tracker.writes
    result = sync(h)
    assert change(result, "US-002").kept == ["priority"] and h.tracker.writes == before
    assert h.tracker.issues[us2]["priority"] == "minor"


def test_a_title_that_lost_its_key_is_restored_and_never_duplicated(h):
    sync(h)
    us2 = h.tracker.id_of("US-002")
    h.tracker.issues[us2]["title"] = "Pay by invoice (US 002)"
    for state in (True, False):
        if not state:
            h.tracker.issues[us2]["title"] = "Pay by invoice"
            lose_state(h)
        result = sync(h)
        assert change(result, "US-002").fields == ["title"]
        assert h.tracker.issues[us2]["title"] == "US-002: Pay by invoice"
        assert len(h.tracker.issues) == 4


def test_removed_items_are_orphans_found_by_provenance_without_state(h):
    sync(h)
    lose_state(h)
    text = h.spec.read_text()
    h.spec.write_text(text[: text.index("### US-002")].replace("| 2 | Card API | The call | 2 | Open |\n", ""))
    result = sync(h, execute=False)
    assert sorted(c.key for c in result.plan.changes if c.action == "orphan") == ["US-001.2", "US-002"]


def test_an_issue_of_another_spec_file_that_defines_the_key_stops_the_run(h):
    other = h.tmp / "OTHER.md"
    other.write_text(h.spec.read_text().replace("# EPIC-001: Checkout", "# EPIC-002: Other"))
    sync(h, spec=other)
    before = h.tracker.writes
    with pytest.raises(OwnershipError) as raised:
        sync(h)
    assert h.tracker.writes == before and raised.value.kind == "ownership"
    assert raised.value.headline == "4 key(s) belong to another spec file; nothing was sent"
    problems = [str(p) for p in raised.value.problems]
    us1 = h.tracker.id_of("US-001")
    assert any(p.startswith(f"{h.spec}:3: US-001 is issue #{us1}") and "made from OTHER.md" in p
               for p in problems), problems
    # the stories moved to EPIC.md: it takes their issues over
    other.write_text(other.read_text().replace("US-001", "US-101").replace("US-002", "US-102"))
    result = sync(h)
    assert change(result, "US-001").takeover and h.tracker.bases[us1][SPEC] == "EPIC.md"


def test_with_trusted_accounts_only_their_issues_are_ours(h):
    h.tracker.report_makers = True
    sync(h)
    assert h.state_dir.exists()
    lose_state(h)
    real = h.tracker.id_of("US-002")
    copy = h.tracker.add_by_hand("US-002: Pay by invoice", reporter=EVE)
    h.tracker.issues[copy] = dict(h.tracker.issues[real])  # the text copied, hidden line and all
    h.tracker.bases[copy] = dict(h.tracker.bases[real])
    result = sync(h, execute=False, trusted=("sync-bot",))
    claims = [w for w in result.plan.warnings if "claims US-002" in w]
    assert claims and ('made by {eve} ("Eve"), an account sync.trusted_accounts does not list - add '
                       "{eve} there if you trust that account") in claims[0]
    assert not [c for c in result.plan.changes if c.action == "duplicate"]
    # without the setting the pasted line is taken at its word: a twin, touched by nobody
    lenient = sync(h, execute=False)
    assert [c.remote.id for c in lenient.plan.changes if c.action == "duplicate"] == [copy]


def test_the_account_a_create_is_answered_with_is_remembered_and_trusted(h):
    h.tracker.report_makers = True
    sync(h)
    from spectryn_core.state import SyncState, state_file

    state = SyncState(state_file(h.state_dir, "memory", "memory/memory", h.spec), readonly=True)
    assert state.accounts() == [SYNC]
    state.close()
    # trusted_accounts names someone else: the sync's own issues are still its own
    result = sync(h, execute=False, trusted=("{nobody}",))
    assert {c.action for c in result.plan.changes} == {"unchanged"}
