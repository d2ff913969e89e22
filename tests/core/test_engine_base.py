"""The merge base through the engine (tests/support/memtracker.py keeps it like Bitbucket does):
runs without state, kept edits that stay kept, normalising trackers, plugins that leave fields out
of their answers or keep no base, re-created issues, twins, and what a stopped run reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from spectryn_core.report import to_json, to_text
from tests.core.test_engine import Harness


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def lose_state(h: Harness) -> None:
    shutil.rmtree(h.state_dir, ignore_errors=True)


def change_of(result, key: str):
    return next(c for c in result.plan.changes if c.key == key)


def writes_since(h: Harness, before: int) -> list[tuple[str, str, tuple[str, ...]]]:
    return h.tracker.write_log[before:]


def test_first_sync_writes_each_item_once_plus_one_base_confirmation_per_item_with_extras(h):
    h.run()
    log = h.tracker.write_log
    assert sorted(w[1] for w in log if w[0] == "create") == ["US-001", "US-001.1", "US-001.2",
                                                             "US-002"]
    assert [w for w in log if w[0] == "update"] == [("update", "US-001", ())]
    assert h.tracker.bases[h.tracker.id_of("US-001")].get("extras")


def test_without_state_a_tracker_edit_is_kept_and_a_spec_edit_sent(h):
    h.run()
    h.tracker.by_key()["US-002"]["state"] = "closed"
    h.edit("### US-002: Pay by invoice", "### US-002: Pay by monthly invoice")
    lose_state(h)
    before = len(h.tracker.write_log)
    result = h.run()
    change = change_of(result, "US-002")
    assert change.action == "update" and change.fields == ["title"] and change.kept == ["state"]
    assert writes_since(h, before) == [("update", "US-002", ("title",))]
    assert h.tracker.by_key()["US-002"]["state"] == "closed"


def test_without_state_an_edit_on_both_sides_is_a_conflict(h):
    h.run()
    h.tracker.by_key()["US-002"]["title"] = "US-002: Edited in the tracker"
    h.edit("### US-002: Pay by invoice", "### US-002: Pay later")
    lose_state(h)
    result = h.run()
    change = change_of(result, "US-002")
    assert change.action == "conflict" and not change.no_base
    assert change.conflicts == {"title": ("US-002: Pay later", "US-002: Edited in the tracker")}
    assert h.tracker.by_key()["US-002"]["title"] == "US-002: Edited in the tracker"


def test_no_op_without_state_reads_nothing_more_and_writes_nothing(h):
    h.run()
    lose_state(h)
    reads, writes = h.tracker.reads, h.tracker.writes
    result = h.run()
    assert h.tracker.writes == writes
    assert h.tracker.reads == reads + 1  # the listing only: extras are confirmed in the base
    assert {c.action for c in result.plan.changes} == {"unchanged"}


def test_no_base_no_overwrite_until_force(h):
    h.tracker.keep_base = False  # a third-party plugin that keeps no base
    h.run()
    h.tracker.by_key()["US-002"]["priority"] = "trivial"
    lose_state(h)
    result = h.run()
    change = change_of(result, "US-002")
    assert change.action == "conflict" and change.no_base
    assert "no merge base" in to_text(result)
    item = next(i for i in to_json(result)["items"] if i["key"] == "US-002")
    assert item["no_base"] is True and item["conflicts"]["priority"]["tracker"] == "trivial"
    assert h.tracker.by_key()["US-002"]["priority"] == "trivial"
    h.run(force=True)
    assert h.tracker.by_key()["US-002"]["priority"] != "trivial"


# --- issue 18, behaviours 7-10 ----------------------------------------------------------------


@pytest.mark.parametrize("lost", [False, True], ids=["with-state", "without-state"])
def test_kept_edit_then_another_field_updated_then_a_file_edit_of_the_kept_one_conflicts(h, lost):
    """Behaviour 7: the base of a kept field stays the old one when the issue is written."""
    h.run()
    h.tracker.by_key()["US-002"]["state"] = "closed"  # kept
    h.edit("### US-002: Pay by invoice", "### US-002: Pay by monthly invoice")
    if lost:
        lose_state(h)
    assert change_of(h.run(), "US-002").kept == ["state"]
    h.edit("| **Status** | Open |", "| **Status** | Done |")
    if lost:
        lose_state(h)
    result = h.run()
    change = change_of(result, "US-002")
    assert change.action == "conflict" and change.fields == ["state"]
    assert h.tracker.by_key()["US-002"]["state"] == "closed"


def test_baselines_of_unchanged_items_are_recorded_after_a_lost_state(h):
    """Behaviour 8, for a tracker that keeps no base: the state is the only base, so the run
    after a lost state must record it for items it did not write."""
    h.tracker.keep_base = False
    h.run()
    lose_state(h)
    assert {c.action for c in h.run().plan.changes} == {"unchanged"}
    h.tracker.by_key()["US-002"]["priority"] = "trivial"  # edited later, in the tracker
    before = h.tracker.writes
    change = change_of(h.run(), "US-002")
    assert change.action == "unchanged" and change.kept == ["priority"]
    assert h.tracker.writes == before


@pytest.mark.parametrize("keep_base", [True, False])
def test_a_value_the_tracker_normalises_is_not_re_sent_nor_a_false_conflict(h, keep_base):
    """Behaviour 9: the tracker stores titles upper-cased; with the state as cache."""
    h.tracker.keep_base = keep_base
    h.tracker.shout_titles = True
    h.run()
    stored = h.tracker.by_key()["US-002"]["title"]
    before = h.tracker.writes
    result = h.run()
    assert h.tracker.writes == before, h.tracker.write_log[-3:]
    change = change_of(result, "US-002")
    assert change.action == "unchanged"
    # a later file edit of the normalised field is an update, not a conflict
    h.edit("### US-002: Pay by invoice", "### US-002: Pay by bank transfer")
    result = h.run()
    change = change_of(result, "US-002")
    assert change.action == "update" and change.fields == ["title"], stored


def test_a_plugin_answer_missing_a_sent_field_gives_no_false_conflict(h):
    """Behaviour 10: the update answer leaves out the title it was sent; the engine takes the
    tracker to hold what was sent."""
    h.tracker.keep_base = False
    h.run()
    h.tracker.drop_from_answers = {"title"}
    h.edit("### US-002: Pay by invoice", "### US-002: Pay by monthly invoice")
    h.run()
    h.tracker.drop_from_answers = set()
    h.edit("### US-002: Pay by monthly invoice", "### US-002: Pay by card later")
    change = change_of(h.run(), "US-002")
    assert change.action == "update" and change.fields == ["title"]
    assert h.tracker.by_key()["US-002"]["title"] == "US-002: Pay by card later"


# --- issue 10, items 5 and 10 -----------------------------------------------------------------


def test_a_deleted_issue_comes_back_with_its_comments_once(h):
    h.run()
    story_id = h.tracker.id_of("US-001")
    del h.tracker.issues[story_id]
    h.tracker.comments.pop(story_id)
    result = h.run()
    change = change_of(result, "US-001")
    assert change.action == "create" and change.describe_fields()[-1] == "comment"
    new_id = h.tracker.id_of("US-001")
    assert len(h.tracker.comments[new_id]) == 1
    h.run()
    assert len(h.tracker.comments[new_id]) == 1


def test_a_run_stopping_error_lists_unsent_extras_as_pending(h):
    h.tracker.abort_on = {"US-002"}
    result = h.run()
    story = change_of(result, "US-001")
    assert story.status == "done" and "not sent: comment" in story.error
    text = to_text(result, verbose=True)
    line = next(x for x in text.splitlines() if "US-001 " in x and "Pay by card" in x)
    assert "[+ comment]" not in line and "not sent: comment" in line
    item = next(i for i in to_json(result)["items"] if i["key"] == "US-001")
    assert item["pending_extras"] == ["comment"] and "comment" not in item["fields"]
    h.tracker.abort_on = set()
    h.run()
    assert sum(len(c) for c in h.tracker.comments.values()) == 1


# --- twins ------------------------------------------------------------------------------------


def test_untouched_twin_is_marked_duplicate_and_a_touched_one_reported(h):
    h.run()
    # as two runs at once leave them: later issues with the same key and their own base
    for key in ("US-002", "US-001.1"):
        issue_id = h.tracker.id_of(key)
        twin_id = str(max(int(i) for i in h.tracker.issues) + 1)
        h.tracker.issues[twin_id] = dict(h.tracker.issues[issue_id])
        h.tracker.bases[twin_id] = dict(h.tracker.bases[issue_id])
    twin_sub = max(h.tracker.issues, key=int)
    h.tracker.issues[twin_sub]["priority"] = "blocker"  # a person touched it
    result = h.run()
    dup = [c for c in result.plan.changes if c.action == "duplicate"]
    assert [(c.key, c.status) for c in dup] == [("US-002", "done")]
    assert any("two issues carry key US-001.1" in w for w in result.plan.warnings)
    states = {i: v.get("state") for i, v in h.tracker.issues.items()}
    assert list(states.values()).count("duplicate") == 1
    assert h.tracker.issues[twin_sub].get("state") != "duplicate"
    before = h.tracker.writes
    h.run()
    assert h.tracker.writes == before
