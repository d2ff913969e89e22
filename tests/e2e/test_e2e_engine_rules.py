"""Engine rules as a user sees them, end to end against the sandbox (issue 18): ``--only`` with an
epic key, epics as issues, orphans after a lost state and under ``--only``, comment identity, and
a failed update that does not hold back the subtasks."""

from __future__ import annotations

import json
import shutil
import textwrap

import requests

TWO_EPICS = textwrap.dedent("""\
    # EPIC-001: Checkout

    | Field | Value |
    |-------|-------|
    | **Status** | {epic_status} |

    ## User Stories

    ### US-001: Pay by card

    | Field | Value |
    |-------|-------|
    | **Priority** | High |
    | **Status** | Open |

    #### Subtasks
    | # | Subtask | Description | SP | Status |
    |---|---------|-------------|----|--------|
    | 1 | Card form | The form | 1 | Open |
    | 2 | Card API | The call | 2 | Open |

    ### US-002: Pay by invoice

    | Field | Value |
    |-------|-------|
    | **Status** | Open |

    # EPIC-002: Shipping

    | Field | Value |
    |-------|-------|
    | **Status** | Open |

    ## User Stories

    ### US-003: Track parcels

    | Field | Value |
    |-------|-------|
    | **Status** | Open |

    #### Subtasks
    | # | Subtask | Description | SP | Status |
    |---|---------|-------------|----|--------|
    | 1 | Carrier API | Poll the carrier | 2 | Open |
    | 2 | Tracking page | Show the steps | 1 | Open |
    """)
ISSUE_MODE = {"BITBUCKET_EPIC_MODE": "issue"}


def two_epics(world, epic_status: str = "Open") -> None:
    (world.tmp / "EPIC.md").write_text(TWO_EPICS.format(epic_status=epic_status))


def api(world, method: str, path: str, **kwargs):
    url = f"{world.sandbox.base_url}/repositories/{world.sandbox.workspace}/{world.sandbox.repo}{path}"
    answer = requests.request(method, url, timeout=10, **kwargs,
                              headers={"Authorization": f"Bearer {world.sandbox.token}"})
    answer.raise_for_status()
    return answer.json()


def comments_of(world, issue_id: int) -> list[str]:
    body = api(world, "GET", f"/issues/{issue_id}/comments", params={"pagelen": 100})
    return [c["content"]["raw"] for c in body["values"]]


def plan_json(world, *extra: str, env=None) -> dict:
    run = world.sync("EPIC.md", "--output", "json", *extra, execute=False, env=env)
    assert run.code == 0, run.out + run.err
    return json.loads(run.out)


def orphans(result: dict) -> list[str]:
    return sorted(i["key"] for i in result["items"] if i["action"] == "orphan")


def edit(world, old: str, new: str) -> None:
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    assert old in text, old
    spec.write_text(text.replace(old, new))


# --- 1. --only with an epic key -------------------------------------------------------------


def test_only_an_epic_key_sends_its_stories_with_their_subtasks(world_factory):
    world = world_factory("milestones")
    two_epics(world)
    run = world.sync("EPIC.md", "--only", "EPIC-002")
    assert run.code == 0, run.out + run.err
    assert sorted(world.by_key()) == ["US-003", "US-003.1", "US-003.2"]

    as_issues = world_factory("issues")
    two_epics(as_issues)
    run = as_issues.sync("EPIC.md", "--only", "EPIC-002", env=ISSUE_MODE)
    assert run.code == 0, run.out + run.err
    issues = as_issues.by_key()
    assert sorted(issues) == ["EPIC-002", "US-003", "US-003.1", "US-003.2"]
    assert f"Epic: #{issues['EPIC-002']['id']} EPIC-002" in issues["US-003"]["content"]["raw"]


# --- 2. epics as issues ---------------------------------------------------------------------


def test_epic_mode_issue_stories_name_their_epic_issue(world):
    run = world.sync(env=ISSUE_MODE)
    assert run.code == 0, run.out + run.err
    issues = world.by_key()
    epic_ref = f"Epic: #{issues['EPIC-001']['id']} EPIC-001"
    stories = [k for k in issues if k.startswith("US-") and "." not in k]
    assert len(stories) == 5
    for key in stories:
        assert epic_ref in issues[key]["content"]["raw"], key
    assert "Epic:" not in issues["US-001.1"]["content"]["raw"]  # a subtask names its story


def test_epic_mode_issue_a_story_is_not_created_when_its_epic_failed(world):
    two_epics(world, epic_status="Frozen")  # mapped to a state Bitbucket refuses (400)
    (world.tmp / ".spectryn.yaml").write_text(
        "bitbucket:\n  status_mapping:\n    frozen: frozen\n")
    run = world.sync("EPIC.md", "--output", "json", env=ISSUE_MODE)
    assert run.code == 1, run.out + run.err
    status = {i["key"]: i["status"] for i in json.loads(run.out)["items"]}
    assert status["EPIC-001"] == "failed"
    assert {status[k] for k in ("US-001", "US-001.1", "US-001.2", "US-002")} == {"skipped"}
    assert sorted(world.by_key()) == ["EPIC-002", "US-003", "US-003.1", "US-003.2"]


# --- 3. orphans after a lost state ----------------------------------------------------------


def test_after_a_lost_state_a_removed_subtask_is_an_orphan_and_a_hand_made_one_is_not(world):
    assert world.sync().code == 0
    shutil.rmtree(world.state_dir)  # a fresh runner
    edit(world, "| 3 | Error messages | Map API errors to friendly text | 1 | 📋 To Do |\n", "")
    made = api(world, "POST", "/issues", json={"title": "US-001.4: Made by hand"})
    result = plan_json(world)
    assert orphans(result) == ["US-001.3"]  # the hand-made one carries a key, not our mark
    shown = {i["key"]: i["id"] for i in result["items"] if i["action"] == "orphan"}
    assert shown["US-001.3"] != str(made["id"])
    before = world.by_key()
    run = world.sync()
    assert run.code == 0, run.out + run.err
    after = world.by_key()
    for key in ("US-001.3", "US-001.4"):  # never deleted, never changed
        assert after[key]["title"] == before[key]["title"]
        assert after[key]["content"] == before[key]["content"]
        assert after[key]["state"] == before[key]["state"]


# --- 4. --only reports the selection's orphans ----------------------------------------------


def test_only_a_story_reports_its_removed_subtasks_as_orphans(world):
    assert world.sync().code == 0
    edit(world, "| 3 | Error messages | Map API errors to friendly text | 1 | 📋 To Do |\n", "")
    edit(world, "| 2 | Clear session | Call `POST /logout` and drop the cookie | 1 | To Do |\n",
         "")
    result = plan_json(world, "--only", "US-001")
    assert orphans(result) == ["US-001.3"]
    assert result["counts"]["orphans"] == 1
    assert orphans(plan_json(world)) == ["US-001.3", "US-002.2"]


# --- 5. a comment's identity covers its body ------------------------------------------------


def test_same_author_and_date_comments_are_sent_and_an_edited_one_is_edited(world):
    assert world.sync().code == 0
    story = world.by_key()["US-001"]
    assert len(comments_of(world, story["id"])) == 2
    edit(world, "> The design review is done; the mockup below is final.\n",
         "> The design review is done; the mockup below is final.\n\n"
         "> **@alice** (2024-01-15):\n> One more thing: dark mode later.\n")
    edit(world, "Backend endpoint is ready in PR #12.", "Backend endpoint is merged in PR #12.")
    run = world.sync()
    assert run.code == 0, run.out + run.err
    comments = comments_of(world, story["id"])
    assert len(comments) == 3, comments  # a second comment of alice's that day is its own
    assert any("dark mode later" in c for c in comments)
    assert any("merged in PR #12" in c for c in comments)
    assert not any("ready in PR #12" in c for c in comments)  # edited in place, not posted again
    writes = world.writes()
    assert world.sync().code == 0
    assert world.writes() == writes


# --- 6. only a failed create holds children back --------------------------------------------


def test_a_failed_story_update_does_not_stop_its_subtasks_updates(world):
    assert world.sync().code == 0
    # the story's new priority maps to a value Bitbucket refuses: its update fails with a 400
    (world.tmp / ".spectryn.yaml").write_text(
        "bitbucket:\n  priority_mapping:\n    low: urgent\n")
    edit(world, "| **Priority** | 🔴 Critical |", "| **Priority** | 🟢 Low |")
    edit(world, "| 1 | Login form |", "| 1 | Login form v2 |")
    edit(world, "| 2 | Session cookie |", "| 2 | Session cookie v2 |")
    run = world.sync("EPIC.md", "--output", "json")
    assert run.code == 1, run.out + run.err
    status = {i["key"]: i["status"] for i in json.loads(run.out)["items"]}
    assert status["US-001"] == "failed"
    assert status["US-001.1"] == status["US-001.2"] == "done"
    issues = world.by_key()
    assert issues["US-001.1"]["title"] == "US-001.1: Login form v2"
    assert issues["US-001.2"]["title"] == "US-001.2: Session cookie v2"
    assert issues["US-001"]["priority"] == "blocker"
