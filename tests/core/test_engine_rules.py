"""Engine rules that a mutation study found unguarded (issue 18), checked through the in-test
tracker plugin (tests/support/memtracker.py): ``--only`` with an epic key, epics as issues, orphans
after a lost state and under ``--only``, comment identity, and which failures hold children back."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectryn_core.config import load_config
from spectryn_core.desired import build_items, select
from spectryn_core.plugins import load_plugins
from spectryn_core.sync import SyncRequest, SyncResult, parse, run_sync
from tests.support.memtracker import MemoryTracker

SPEC = """\
# EPIC-001: Checkout

| Field | Value |
|-------|-------|
| **Status** | In Progress |

## User Stories

### US-001: Pay by card

| Field | Value |
|-------|-------|
| **Priority** | High |
| **Status** | In Progress |

#### Description
**As a** shopper **I want** to pay by card **So that** I can finish my order

#### Subtasks
| # | Subtask | Description | SP | Status |
|---|---------|-------------|----|--------|
| 1 | Card form | The form | 1 | Done |
| 2 | Card API | The call | 2 | Open |
| 3 | Card errors | The messages | 1 | Open |

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

# EPIC-002: Shipping

| Field | Value |
|-------|-------|
| **Status** | Open |

## User Stories

### US-003: Track parcels

| Field | Value |
|-------|-------|
| **Priority** | Medium |
| **Status** | Open |

#### Description
**As a** buyer **I want** to track my parcel **So that** I know when to be home

#### Subtasks
| # | Subtask | Description | SP | Status |
|---|---------|-------------|----|--------|
| 1 | Carrier API | Poll the carrier | 2 | Open |
| 2 | Tracking page | Show the steps | 1 | Open |
"""

ALL_ISSUES = ["US-001", "US-001.1", "US-001.2", "US-001.3", "US-002", "US-003", "US-003.1",
              "US-003.2"]


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.spec = tmp_path / "EPIC.md"
        self.spec.write_text(SPEC)
        self.tracker = MemoryTracker("memory")
        self.plugins = load_plugins()
        self.plugins.pm.register(self.tracker, name="memory")
        self.state_dir = tmp_path / "state"

    def config(self):
        return load_config([], cli={}, cwd=self.tmp, env={}, user_config_dir=self.tmp / "u",
                           tracker="memory")

    def run(self, execute: bool = True, only: str | None = None) -> SyncResult:
        request = SyncRequest(self.spec, "memory", self.state_dir, execute=execute, only=only,
                              workers=3)
        return run_sync(self.plugins, self.config(), request)

    def edit(self, old: str, new: str) -> None:
        text = self.spec.read_text()
        assert old in text, old
        self.spec.write_text(text.replace(old, new))

    def lose_state(self) -> None:
        """A fresh runner: a state folder that has never seen this spec."""
        self.state_dir = self.tmp / f"fresh-{len(list(self.tmp.glob('fresh-*')))}"

    def items(self, only: str | None = None):
        config = self.config()
        spec = parse(self.plugins, self.spec, config)
        mappers = self.plugins.mapper_hooks("default")
        return build_items(spec, tracker="memory", config=config, mappers=mappers, only=only)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def actions(result: SyncResult) -> dict[str, str]:
    return {c.key: c.action for c in result.plan.changes}


def orphan_keys(result: SyncResult) -> list[str]:
    return sorted(c.key for c in result.plan.changes if c.action == "orphan")


# --- 1. --only with an epic key -------------------------------------------------------------


def test_selecting_an_epic_gives_the_epic_its_stories_and_their_subtasks_in_file_order(h):
    items = h.items()
    assert [i.key for i in select(items, "EPIC-001")] == [
        "EPIC-001", "US-001", "US-001.1", "US-001.2", "US-001.3", "US-002"]
    assert [i.key for i in select(items, "EPIC-002")] == ["EPIC-002", "US-003", "US-003.1",
                                                          "US-003.2"]
    assert [i.key for i in select(items, "US-003")] == ["US-003", "US-003.1", "US-003.2"]
    assert [i.key for i in select(items, "US-001.2")] == ["US-001.2"]
    assert [i.key for i in h.items(only="EPIC-002")] == ["EPIC-002", "US-003", "US-003.1",
                                                         "US-003.2"]


def test_items_name_their_parent_and_children(h):
    by_key = {i.key: i for i in h.items()}
    assert by_key["EPIC-001"].kind == "epic" and by_key["EPIC-001"].parent is None
    assert by_key["EPIC-001"].children == ["US-001", "US-002"]
    assert by_key["US-001"].kind == "story" and by_key["US-001"].parent == "EPIC-001"
    assert by_key["US-001"].children == ["US-001.1", "US-001.2", "US-001.3"]
    assert by_key["US-001.2"].kind == "subtask" and by_key["US-001.2"].parent == "US-001"
    assert by_key["US-001.2"].children == []
    assert (by_key["US-001"].state, by_key["US-001"].priority) == ("open", "critical")
    assert by_key["US-001.1"].state == "resolved"


def test_only_an_epic_key_sends_its_stories_with_their_subtasks(h):
    result = h.run(only="EPIC-002")
    assert sorted(actions(result)) == ["US-003", "US-003.1", "US-003.2"]
    assert sorted(h.tracker.by_key()) == ["US-003", "US-003.1", "US-003.2"]
    assert all(c.status == "done" for c in result.plan.changes)


# --- 2. epics as issues ---------------------------------------------------------------------


def test_epic_issue_is_created_first_and_its_stories_name_it(h):
    h.tracker.epics_as_issues = True
    result = h.run()
    assert not result.failed
    issues = h.tracker.by_key()
    epic_ids = {key: next(i for i, v in h.tracker.issues.items() if v["title"].startswith(key))
                for key in ("EPIC-001", "EPIC-002")}
    assert f"Epic: #{epic_ids['EPIC-001']}" in issues["US-001"]["content"]
    assert f"Epic: #{epic_ids['EPIC-002']}" in issues["US-003"]["content"]
    created = [w[1] for w in h.tracker.write_log if w[0] == "create"]
    assert created.index("EPIC-001") < created.index("US-001") < created.index("US-001.1")
    # the story was created naming its epic: no update was needed for that
    assert not [w for w in h.tracker.write_log if w[0] == "update" and w[1] == "US-002"]


def test_a_story_is_not_created_when_its_epic_failed(h):
    h.tracker.epics_as_issues = True
    h.tracker.fail_on = {"EPIC-001"}
    result = h.run()
    status = {c.key: c.status for c in result.plan.changes}
    assert status["EPIC-001"] == "failed"
    for key in ("US-001", "US-001.1", "US-001.2", "US-001.3", "US-002"):
        assert status[key] == "skipped", key
    assert status["EPIC-002"] == status["US-003"] == status["US-003.1"] == "done"
    assert sorted(h.tracker.by_key()) == ["EPIC-002", "US-003", "US-003.1", "US-003.2"]
    h.tracker.fail_on = set()
    h.run()
    assert len(h.tracker.issues) == len(ALL_ISSUES) + 2


# --- 3. orphans after a lost state ----------------------------------------------------------


def test_after_a_lost_state_a_removed_subtask_is_an_orphan_and_a_hand_made_one_is_not(h):
    h.run()
    h.lose_state()
    h.edit("| 3 | Card errors | The messages | 1 | Open |\n", "")
    h.tracker.add_by_hand("US-001.4: Made by hand")  # a key, but no spectryn mark: not ours
    h.tracker.add_by_hand("US-404.1: Someone else's")  # not a subtask of a story of this spec
    before = len(h.tracker.write_log)
    result = h.run()
    assert orphan_keys(result) == ["US-001.3"]
    kinds = {c.key: c.kind for c in result.plan.changes if c.action == "orphan"}
    assert kinds == {"US-001.3": "subtask"}
    titles = {c.key: c.title for c in result.plan.changes if c.action == "orphan"}
    assert titles == {"US-001.3": "Card errors"}
    # orphans are never deleted or changed (the story's subtask list is updated)
    assert h.tracker.write_log[before:] == [("update", "US-001", ("content",))]
    assert {"US-001.3", "US-001.4"} <= set(h.tracker.by_key())


def test_a_removed_story_is_an_orphan_while_the_state_remembers_it(h):
    h.run()
    text = h.spec.read_text()
    h.spec.write_text(text[: text.index("### US-002")])
    result = h.run(execute=False)
    assert orphan_keys(result) == ["US-002", "US-003", "US-003.1", "US-003.2"]
    kinds = {c.key: c.kind for c in result.plan.changes if c.action == "orphan"}
    assert kinds["US-002"] == "story" and kinds["US-003.1"] == "subtask"


# --- 4. --only reports the selection's orphans ----------------------------------------------


def test_only_a_story_reports_its_removed_subtasks_and_no_other_orphans(h):
    h.run()
    h.edit("| 3 | Card errors | The messages | 1 | Open |\n", "")
    h.edit("| 2 | Tracking page | Show the steps | 1 | Open |\n", "")
    result = h.run(only="US-001", execute=False)
    assert orphan_keys(result) == ["US-001.3"]
    assert sorted(k for k, a in actions(result).items() if a != "orphan") == [
        "US-001", "US-001.1", "US-001.2"]
    result = h.run(only="EPIC-002", execute=False)
    assert orphan_keys(result) == ["US-003.2"]
    assert orphan_keys(h.run(execute=False)) == ["US-001.3", "US-003.2"]


# --- 5. a comment's identity covers its body ------------------------------------------------

COMMENT = "> **@alice** (2025-01-15):\n> Card brands: Visa and Mastercard first.\n"


def test_same_author_and_date_but_another_body_is_a_new_comment(h):
    h.run()
    h.edit(COMMENT, COMMENT + "\n> **@alice** (2025-01-15):\n> Amex later.\n")
    result = h.run()
    change = next(c for c in result.plan.changes if c.key == "US-001")
    assert [e.kind for e in change.extras] == ["comment"]
    assert change.extras[0].payload.body.strip() == "Amex later."
    assert change.status == "done" and change.error == ""
    assert len(h.tracker.comments[_id(h, "US-001")]) == 2
    before = h.tracker.writes
    h.run()
    assert h.tracker.writes == before


def test_an_edited_comment_is_sent_again(h):
    h.run()
    h.edit("Visa and Mastercard first.", "Visa, Mastercard and Amex first.")
    result = h.run()
    change = next(c for c in result.plan.changes if c.key == "US-001")
    assert change.action == "update" and change.fields == []
    assert [e.kind for e in change.extras] == ["comment"]
    assert len(h.tracker.comments[_id(h, "US-001")]) == 2  # never deleted, the new one added


def _id(h: Harness, key: str) -> str:
    return next(i for i, v in h.tracker.issues.items() if v["title"].startswith(f"{key}:"))


# --- 6. only a failed create holds children back --------------------------------------------


def test_a_failed_update_of_a_story_does_not_hold_back_its_subtasks(h):
    h.run()
    h.edit("### US-001: Pay by card", "### US-001: Pay by any card")
    h.edit("| 1 | Card form | The form |", "| 1 | Card entry form | The form |")
    h.edit("| 2 | Card API | The call |", "| 2 | Card API v2 | The call |")
    h.tracker.fail_on = {"US-001"}
    result = h.run()
    status = {c.key: c.status for c in result.plan.changes}
    assert status["US-001"] == "failed"
    assert status["US-001.1"] == status["US-001.2"] == "done"
    issues = h.tracker.by_key()
    assert issues["US-001.1"]["title"] == "US-001.1: Card entry form"
    assert issues["US-001.2"]["title"] == "US-001.2: Card API v2"
    assert issues["US-001"]["title"] == "US-001: Pay by card"
    assert [c.key for c in result.failed] == ["US-001"]
    h.tracker.fail_on = set()
    again = h.run()
    assert actions(again)["US-001"] == "update"
    assert h.tracker.by_key()["US-001"]["title"] == "US-001: Pay by any card"


def test_every_failed_extra_of_an_item_is_reported(h):
    h.edit(COMMENT, COMMENT + "\n> **@bob** (2025-01-16):\n> And Amex.\n")
    h.tracker.fail_comments = True
    result = h.run()
    story = next(c for c in result.plan.changes if c.key == "US-001")
    assert story.status == "done"  # the issue itself was created
    assert story.error.count("comments are refused") == 2 and not story.error.startswith(";")
    assert "; " in story.error
