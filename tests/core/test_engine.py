"""The sync engine driven through an in-test tracker plugin (tests/support/memtracker.py)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from spectryn_core.config import load_config
from spectryn_core.errors import SpecError, TrackerError, UsageError
from spectryn_core.plugins import load_plugins
from spectryn_core.state import RunLock
from spectryn_core.sync import SyncRequest, run_sync
from tests.support.memtracker import MemoryTracker

SPEC = """\
# EPIC-001: Checkout

### US-001: Pay by card

| Field | Value |
|-------|-------|
| **Story Points** | 3 |
| **Priority** | High |
| **Status** | In Progress |

#### Description
**As a** shopper **I want** to pay by card **So that** I can finish my order

#### Subtasks
| # | Subtask | Description | SP | Status |
|---|---------|-------------|----|--------|
| 1 | Card form | The form | 1 | Done |
| 2 | Card API | The call | 2 | Open |

#### Comments
> **@alice** (2025-01-15):
> Card brands: Visa and Mastercard first.

### US-002: Pay by invoice

| Field | Value |
|-------|-------|
| **Priority** | Low |
| **Status** | Open |

#### Description
**As a** company **I want** invoices **So that** accounting is happy
"""


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.spec = tmp_path / "EPIC.md"
        self.spec.write_text(SPEC)
        self.tracker = MemoryTracker("memory")
        self.plugins = load_plugins()
        self.plugins.pm.register(self.tracker, name="memory")
        self.state_dir = tmp_path / "state"

    def config(self, **cli):
        sections = []
        return load_config(sections, cli=cli, cwd=self.tmp, env={}, user_config_dir=self.tmp / "u",
                           tracker="memory")

    def run(self, execute: bool = True, only: str | None = None, force: bool = False,
            tracker: str = "memory"):
        request = SyncRequest(self.spec, tracker, self.state_dir, execute=execute, only=only,
                              force=force, workers=3)
        return run_sync(self.plugins, self.config(), request)

    def edit(self, old: str, new: str) -> None:
        text = self.spec.read_text()
        assert old in text
        self.spec.write_text(text.replace(old, new))


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def actions(result) -> dict[str, str]:
    return {c.key: c.action for c in result.plan.changes}


def test_dry_run_plans_everything_and_sends_nothing(h):
    result = h.run(execute=False)
    assert actions(result) == {"US-001": "create", "US-001.1": "create", "US-001.2": "create",
                               "US-002": "create"}
    assert h.tracker.writes == 0 and h.tracker.issues == {}


def test_first_sync_creates_each_item_once_and_links_parents(h):
    result = h.run()
    assert not result.failed
    issues = h.tracker.by_key()
    assert sorted(issues) == ["US-001", "US-001.1", "US-001.2", "US-002"]
    parent_id = next(i for i, v in h.tracker.issues.items() if v["title"].startswith("US-001:"))
    assert f"Parent: #{parent_id}" in issues["US-001.1"]["content"]
    # the story lists its subtasks by key: no id that does not exist yet, so no second write
    assert "- US-001.1\n- US-001.2" in issues["US-001"]["content"]
    creates = [w for w in h.tracker.write_log if w[0] == "create"]
    updates = [w for w in h.tracker.write_log if w[0] == "update"]
    assert len(creates) == 4
    # one more update: the story's base now confirms the comment sent after it was created
    assert updates == [("update", "US-001", ())]
    assert issues["US-001"]["state"] == "open" and issues["US-001"]["priority"] == "critical"
    assert issues["US-001.1"]["state"] == "resolved"
    assert len(h.tracker.comments) == 1


def test_no_op_resync_makes_zero_writes(h):
    h.run()
    before = h.tracker.writes
    result = h.run()
    assert h.tracker.writes == before
    assert set(actions(result).values()) == {"unchanged"}


def test_one_changed_field_sends_one_update_naming_it(h):
    h.run()
    h.edit("### US-002: Pay by invoice", "### US-002: Pay by monthly invoice")
    before = len(h.tracker.write_log)
    result = h.run()
    change = next(c for c in result.plan.changes if c.key == "US-002")
    assert change.action == "update" and change.fields == ["title"]
    assert h.tracker.write_log[before:] == [("update", "US-002", ("title",))]


def test_conflict_is_reported_and_not_overwritten_unless_forced(h):
    h.run()
    issue = h.tracker.by_key()["US-002"]
    issue["title"] = "US-002: Edited in the tracker"
    h.edit("### US-002: Pay by invoice", "### US-002: Pay later")
    result = h.run()
    change = next(c for c in result.plan.changes if c.key == "US-002")
    assert change.action == "conflict" and change.fields == ["title"]
    assert h.tracker.by_key()["US-002"]["title"] == "US-002: Edited in the tracker"
    h.run(force=True)
    assert h.tracker.by_key()["US-002"]["title"] == "US-002: Pay later"


def test_tracker_edit_is_kept_when_the_file_did_not_change(h):
    h.run()
    h.tracker.by_key()["US-002"]["state"] = "closed"
    before = h.tracker.writes
    result = h.run()
    assert h.tracker.writes == before
    change = next(c for c in result.plan.changes if c.key == "US-002")
    assert change.action == "unchanged" and change.kept == ["state"]


def test_removed_subtask_is_an_orphan_and_never_deleted(h):
    h.run()
    h.edit("| 2 | Card API | The call | 2 | Open |\n", "")
    result = h.run()
    assert actions(result)["US-001.2"] == "orphan"
    assert "US-001.2" in h.tracker.by_key()


def test_removed_story_is_an_orphan_thanks_to_state(h):
    h.run()
    text = h.spec.read_text()
    h.spec.write_text(text[: text.index("### US-002")])
    result = h.run()
    assert actions(result)["US-002"] == "orphan"
    assert "US-002" in h.tracker.by_key()


def test_only_limits_to_one_story_and_its_subtasks(h):
    result = h.run(only="US-001")
    assert sorted(actions(result)) == ["US-001", "US-001.1", "US-001.2"]
    assert "US-002" not in h.tracker.by_key()
    with pytest.raises(UsageError):
        h.run(only="US-404")


def test_interrupted_apply_resumes_without_duplicates(h):
    h.tracker.crash_after = 2
    with pytest.raises(KeyboardInterrupt):
        h.run()
    h.tracker.crash_after = None
    h.run()
    keys = [v["title"].split(":")[0] for v in h.tracker.issues.values()]
    assert sorted(keys) == ["US-001", "US-001.1", "US-001.2", "US-002"]
    assert sum(len(c) for c in h.tracker.comments.values()) == 1


@pytest.mark.parametrize("crash_after", range(0, 8))
def test_crash_at_every_write_then_rerun_gives_exactly_one_of_each(h, crash_after):
    h.tracker.crash_after = crash_after
    with contextlib.suppress(KeyboardInterrupt):
        h.run()
    h.tracker.crash_after = None
    h.run()
    keys = sorted(v["title"].split(":")[0] for v in h.tracker.issues.values())
    assert keys == ["US-001", "US-001.1", "US-001.2", "US-002"]
    assert sum(len(c) for c in h.tracker.comments.values()) == 1
    before = h.tracker.writes
    h.run()
    assert h.tracker.writes == before


def test_deleted_state_is_rediscovered_without_duplicates(h):
    h.run()
    for path in h.state_dir.rglob("*.sqlite*"):
        path.unlink()
    before = h.tracker.writes
    result = h.run()
    assert h.tracker.writes == before, h.tracker.write_log[before:]
    assert len(h.tracker.issues) == 4
    assert set(actions(result).values()) == {"unchanged"}


def test_corrupted_state_warns_and_rediscovers(h):
    h.run()
    for path in h.state_dir.rglob("*.sqlite"):
        path.write_bytes(b"this is not a database" * 10)
    for path in h.state_dir.rglob("*.sqlite-*"):
        path.unlink()
    result = h.run()
    assert any("unreadable" in w for w in result.plan.warnings)
    assert len(h.tracker.issues) == 4


def test_failed_parent_skips_its_children_and_reports_errors(h):
    h.tracker.fail_on = {"US-001"}
    result = h.run()
    status = {c.key: c.status for c in result.plan.changes}
    assert status["US-001"] == "failed"
    assert status["US-001.1"] == status["US-001.2"] == "skipped"
    assert status["US-002"] == "done"
    h.tracker.fail_on = set()
    h.run()
    assert len(h.tracker.issues) == 4


def test_two_trackers_installed_only_the_chosen_one_acts(h):
    other = MemoryTracker("other")
    h.plugins.pm.register(other, name="other")
    h.run(tracker="memory")
    assert other.writes == 0 and other.reads == 0
    assert h.tracker.writes > 0


def test_unknown_tracker_is_a_usage_error(h):
    with pytest.raises(UsageError, match="unknown tracker 'nope'"):
        h.run(tracker="nope")


def test_spec_errors_send_nothing(h):
    h.edit("| **Story Points** | 3 |", "| **Story Points** | lots |")
    with pytest.raises(SpecError):
        h.run()
    assert h.tracker.writes == 0 and h.tracker.reads == 0


def test_second_run_on_same_target_refuses_while_first_holds_lock(h):
    with RunLock(h.state_dir, "memory", "memory/memory"):
        with pytest.raises(TrackerError, match=f"pid {os.getpid()}"):
            h.run()
    h.run()  # released: runs fine


def test_comment_sent_but_not_recorded_is_not_sent_again(h, monkeypatch):
    """kill -9 between the tracker accepting a comment and the state recording it."""
    from spectryn_core import apply as apply_module

    original = apply_module.Applier._extra_recorder

    def dying_recorder(self, extra):
        def record(change, result):
            raise KeyboardInterrupt  # the comment is on the tracker; the state never hears of it
        return record

    monkeypatch.setattr(apply_module.Applier, "_extra_recorder", dying_recorder)
    with pytest.raises(KeyboardInterrupt):
        h.run()
    monkeypatch.setattr(apply_module.Applier, "_extra_recorder", original)
    assert sum(len(c) for c in h.tracker.comments.values()) == 1
    h.run()
    assert sum(len(c) for c in h.tracker.comments.values()) == 1


def test_dry_run_creates_no_state_and_leaves_a_damaged_one_in_place(h):
    h.run(execute=False)
    assert not list(h.state_dir.rglob("*.sqlite*"))
    h.run()
    files = list(h.state_dir.rglob("*.sqlite"))
    files[0].write_bytes(b"garbage" * 50)
    for path in h.state_dir.rglob("*.sqlite-*"):
        path.unlink()
    result = h.run(execute=False)
    assert any("unreadable" in w for w in result.plan.warnings)
    assert files[0].read_bytes() == b"garbage" * 50  # a dry-run never moves it
    assert set(actions(result).values()) == {"unchanged"}  # re-discovered by key all the same


def test_failed_comment_keeps_the_item_created_and_its_subtasks_going(h):
    from spectryn_core.report import counts

    h.tracker.fail_comments = True
    result = h.run()
    story = next(c for c in result.plan.changes if c.key == "US-001")
    assert story.status == "done" and "comments are refused" in story.error
    assert len(h.tracker.issues) == 4
    assert counts(result)["created"] == 4 and counts(result)["errors"] == 1
    assert result.failed == [story]
    h.tracker.fail_comments = False
    h.run()
    assert sum(len(c) for c in h.tracker.comments.values()) == 1


def test_a_run_stopping_error_still_reports_what_was_done(h):
    h.tracker.abort_on = {"US-002"}
    h.tracker.crash_after = None
    result = h.run()
    assert result.error is not None and "Authentication failed" in result.error.message
    status = {c.key: c.status for c in result.plan.changes}
    assert status["US-001"] == "done"
    assert status["US-002"] == "failed"
    assert all(s in ("done", "failed", "skipped") for s in status.values())
    h.tracker.abort_on = set()
    h.run()
    assert len(h.tracker.issues) == 4
