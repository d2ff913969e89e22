"""End to end over real HTTP: the real CLI against the Bitbucket sandbox (issue 4)."""

from __future__ import annotations

import json
import math

import requests

STORIES = ["US-001", "US-002", "US-003", "US-004", "US-005"]
SUBTASKS = ["US-001.1", "US-001.2", "US-001.3", "US-002.1", "US-002.2", "US-003.1", "US-003.2",
            "US-003.3", "US-004.1", "US-004.2", "US-004.3", "US-005.1", "US-005.2"]


def comments_of(world, issue_id: int) -> list[str]:
    url = f"{world.sandbox.base_url}/repositories/sandbox/demo/issues/{issue_id}/comments"
    body = requests.get(url, params={"pagelen": 100}, timeout=10,
                        headers={"Authorization": f"Bearer {world.sandbox.token}"}).json()
    return [c["content"]["raw"] for c in body["values"]]


def attachments_of(world, issue_id: int) -> list[str]:
    url = f"{world.sandbox.base_url}/repositories/sandbox/demo/issues/{issue_id}/attachments"
    body = requests.get(url, timeout=10, headers={"Authorization": f"Bearer {world.sandbox.token}"}).json()
    return [a["name"] for a in body["values"]]


def test_dry_run_shows_the_plan_and_sends_nothing(world):
    run = world.sync(execute=False)
    assert run.code == 0, run.err
    assert "+ US-001" in run.out and "Dry run: nothing was sent" in run.out
    assert world.writes() == 0


def test_first_sync_creates_one_issue_per_item_with_milestone_then_noop(world):
    run = world.sync()
    assert run.code == 0, run.out + run.err
    issues = world.by_key()  # asserts no duplicates
    assert sorted(issues) == sorted(STORIES + SUBTASKS)
    assert all((i.get("milestone") or {}).get("name") == "Q1 2024" for i in issues.values())
    story = issues["US-001"]
    assert story["priority"] == "blocker" and story["state"] == "open"
    content = story["content"]["raw"]
    for key in ("US-001.1", "US-001.2", "US-001.3"):
        # the story lists its subtasks by key; their ids came with the story's one later write
        # (the base update confirming its comments), never with a write of their own
        assert f"\n- {key} (#{issues[key]['id']}): " in content
    assert f"Parent: #{story['id']}" in issues["US-001.1"]["content"]["raw"]
    assert "- \u2611 " in content and "- \u2610 " in content  # acceptance criteria as ballot boxes
    assert "- [ ]" not in content and "- [x]" not in content  # Bitbucket renders no task lists
    comments = comments_of(world, story["id"])
    assert len(comments) == 2
    assert attachments_of(world, story["id"]) == ["mockup.png"]

    writes, reads = world.writes(), world.reads()
    again = world.sync()
    assert again.code == 0, again.err
    assert world.writes() == writes, "a no-op re-sync must not write"
    items = len(STORIES) + len(SUBTASKS)
    assert world.reads() - reads <= math.ceil(items / 100) + 3
    assert len(comments_of(world, story["id"])) == 2
    assert attachments_of(world, story["id"]) == ["mockup.png"]


def test_editing_one_story_title_updates_only_that_issue(world):
    assert world.sync().code == 0
    before = world.by_key()
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("US-002: Logout", "US-002: Sign out"))
    world.sandbox.reset_stats()
    run = world.sync("EPIC.md", "--output", "json")
    assert run.code == 0, run.err
    result = json.loads(run.out)
    changed = [i for i in result["items"] if i["action"] != "unchanged"]
    assert [(i["key"], i["fields"]) for i in changed] == [("US-002", ["title"])]
    assert result["counts"]["updated"] == 1 and result["counts"]["created"] == 0
    stats = world.sandbox.stats()
    assert stats["writes"] == 1
    after = world.by_key()
    assert after["US-002"]["title"] == "US-002: Sign out"
    assert {k: v["title"] for k, v in after.items() if k != "US-002"} == {
        k: v["title"] for k, v in before.items() if k != "US-002"}


def test_changed_attachment_is_uploaded_again_but_never_duplicated(world):
    assert world.sync().code == 0
    (world.tmp / "attachments" / "mockup.png").write_bytes(b"\x89PNG\r\n\x1a\nchanged")
    world.sandbox.reset_stats()
    assert world.sync().code == 0
    story = world.by_key()["US-001"]
    assert attachments_of(world, story["id"]) == ["mockup.png"]
    # the upload, then the story's base confirms it (so a fresh runner need not read it back)
    assert world.sandbox.stats()["writes"] == 2


def test_missing_milestone_is_reported_then_assigned_once_it_exists(world_factory):
    world = world_factory(milestones=[])
    plan = world.sync(execute=False)
    assert "milestone 'Q1 2024'" in plan.out and "Milestones" in plan.out
    assert world.sync().code == 0
    assert all(i.get("milestone") is None for i in world.issues())
    world.sandbox.add_milestone("Q1 2024")
    assert world.sync().code == 0
    assert all((i.get("milestone") or {}).get("name") == "Q1 2024" for i in world.issues())


def test_epic_mode_issue_makes_an_epic_issue_listing_its_stories(world):
    run = world.sync(env={"BITBUCKET_EPIC_MODE": "issue"})
    assert run.code == 0, run.err
    issues = world.by_key()
    epic = issues["EPIC-001"]
    for key in STORIES:
        assert f"\n- {key}: " in epic["content"]["raw"]  # stories by key: the epic is written once
        assert f"Epic: #{epic['id']} EPIC-001" in issues[key]["content"]["raw"]
    writes = world.writes()
    assert world.sync(env={"BITBUCKET_EPIC_MODE": "issue"}).code == 0
    assert world.writes() == writes


def test_only_sends_one_story_and_its_subtasks(world):
    run = world.sync("EPIC.md", "--only", "US-003")
    assert run.code == 0, run.err
    assert sorted(world.by_key()) == ["US-003", "US-003.1", "US-003.2", "US-003.3"]


def test_exit_code_flag_reports_pending_changes_for_ci(world):
    assert world.sync("EPIC.md", "--exit-code", execute=False).code == 3
    assert world.sync().code == 0
    assert world.sync("EPIC.md", "--exit-code", execute=False).code == 0


def test_check_lists_what_the_repository_has(world):
    run = world.cli("check", "--tracker", "bitbucket")
    assert run.code == 0, run.err
    assert "Q1 2024" in run.out and "Frontend" in run.out and "1.1" in run.out
    # an access token: /user answers 403, as on Bitbucket; the check does not depend on it
    assert "authenticated with an access token (Bitbucket names no user for access tokens)" in run.out
    assert "issue tracker on; issues readable" in run.out and "pull requests readable" in run.out


def test_check_names_the_user_of_an_api_token(world):
    run = world.cli("check", "--tracker", "bitbucket", env=world.sandbox.account("person").env)
    assert run.code == 0, run.err
    assert "authenticated as Alice Example (api token)" in run.out


def test_check_tells_a_workspace_that_cannot_have_a_tracker(world_factory):
    world = world_factory(admin_hub=True)
    run = world.cli("check", "--tracker", "bitbucket")
    assert run.code == 2  # a target that cannot work: like a config error, nothing can be sent
    assert "sandbox/demo cannot have an issue tracker" in run.err and "Atlassian Administration" in run.err
    assert "Traceback" not in run.err


def test_repos_lists_the_workspace_repositories(world):
    run = world.cli("bitbucket", "repos")
    assert run.code == 0, run.err
    assert "demo" in run.out


def test_seed_yaml_config_file_works(world):
    env = {k: "" for k in ("BITBUCKET_WORKSPACE", "BITBUCKET_REPO", "BITBUCKET_BASE_URL")}
    (world.tmp / ".spectryn.yaml").write_text(
        "bitbucket:\n"
        f"  workspace: sandbox\n  repo: demo\n  base_url: {world.sandbox.base_url}\n"
        "  status_mapping:\n    blocked: \"open\"\n"
        "sync:\n  execute: true\n  verbose: false\n"
    )
    run = world.cli("--markdown", "EPIC.md", "--tracker", "bitbucket", env=env)
    assert run.code == 0, run.err
    issues = world.by_key()
    assert len(issues) == 18  # execute: true in the file applies without --execute
    assert issues["US-004"]["state"] == "open"  # blocked -> open from status_mapping


def test_app_password_401_says_what_to_use_now(world):
    env = {"BITBUCKET_ACCESS_TOKEN": "", "BITBUCKET_USERNAME": "someone",
           "BITBUCKET_APP_PASSWORD": "an-old-app-password"}
    run = world.sync(env=env)
    assert run.code == 4  # credentials refused
    assert "Authentication failed" in run.err and "API token" in run.err
    assert "an-old-app-password" not in run.err + run.out
    assert "Traceback" not in run.err
    assert world.writes() == 0


def test_server_mode_says_it_has_no_issue_tracker(world_factory):
    world = world_factory(server_mode=True)
    env = {"BITBUCKET_BASE_URL": world.sandbox.base_url}  # .../rest/api/2.0: a Server URL
    check = world.cli("check", "--tracker", "bitbucket", env=env)
    assert check.code == 2  # a target that cannot be used: fix the config
    assert "no issue tracker" in check.err.lower()
    run = world.sync(env=env)
    assert run.code == 2 and "no issue tracker" in run.err.lower()
    assert "Traceback" not in run.err
    assert world.writes() == 0


def test_removed_story_and_subtask_are_orphans_never_deleted(world):
    assert world.sync().code == 0
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    spec.write_text(text[: text.index("### 👤 US-005")])  # the last story, with its subtasks
    world.sandbox.reset_stats()
    run = world.sync("EPIC.md", "--output", "json")
    assert run.code == 0, run.err
    result = json.loads(run.out)
    orphans = sorted(i["key"] for i in result["items"] if i["action"] == "orphan")
    assert orphans == ["US-005", "US-005.1", "US-005.2"]
    assert result["counts"]["orphans"] == 3
    assert world.sandbox.stats()["writes"] == 0
    assert {"US-005", "US-005.1", "US-005.2"} <= set(world.by_key())


def test_issues_written_with_task_list_criteria_are_kept_until_they_change(world):
    """Issues of earlier versions hold ``- [ ]`` / ``- [x]`` (and an earlier layout):
    recognised, not rewritten every run."""
    from spectryn_bitbucket.render import RenderContext, earlier_layouts
    from spectryn_core.items import Item
    from spectryn_markdown.parser import parse_file

    assert world.sync().code == 0
    auth = {"Authorization": f"Bearer {world.sandbox.token}"}
    spec = parse_file(world.tmp / "EPIC.md")
    issues = world.by_key()
    for story in spec.stories():
        item = Item("story", story.key, story.title, story, spec, parent=story.epic_key)
        old = earlier_layouts(item, {}, RenderContext(full_name="sandbox/demo"))[-1]  # earlier versions kept no base line
        assert "- [ ] " in old or "- [x] " in old
        url = f"{world.sandbox.base_url}/repositories/sandbox/demo/issues/{issues[story.key]['id']}"
        requests.put(url, json={"content": {"raw": old}}, headers=auth, timeout=10).raise_for_status()
    for state in world.state_dir.glob("**/*"):  # as after an upgrade: no state matching the new form
        if state.is_file() and "ratelimit" not in state.parts:
            state.unlink()
    # issues of earlier versions carry no spectryn mark: a team that upgrades names the account
    # its syncs write as (here the sync's access token's bot), and those issues are its own again
    world.env["SPECTRYN_TRUSTED_ACCOUNTS"] = world.sandbox.account("sync").uuid
    writes = world.writes()
    assert world.sync().code == 0 and world.sync().code == 0
    assert world.writes() == writes, "the old form must not be rewritten on every run"
    assert "- [x] User can enter email" in world.by_key()["US-001"]["content"]["raw"]
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("I can see my dashboard", "I can see my own dashboard"))
    run = world.sync()
    assert run.code == 0, run.err
    assert world.writes() == writes + 1
    content = world.by_key()["US-001"]["content"]["raw"]
    assert "- \u2611 User can enter email" in content and "[x]" not in content


def test_new_attachments_of_an_issue_go_in_one_upload(world):
    """Bitbucket takes several files in one multipart POST: three attachments, one request."""
    folder = world.tmp / "attachments"
    for name in ("spec.pdf", "flow.txt"):
        (folder / name).write_bytes(name.encode() * 50)
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace(
        "- [mockup.png](./attachments/mockup.png)\n",
        "- [mockup.png](./attachments/mockup.png)\n- [spec.pdf](./attachments/spec.pdf)\n"
        "- [flow.txt](./attachments/flow.txt)\n"))
    run = world.sync()
    assert run.code == 0, run.err
    story = world.by_key()["US-001"]
    assert sorted(attachments_of(world, story["id"])) == ["flow.txt", "mockup.png", "spec.pdf"]
    uploads = world.sandbox.stats()["requests"]["POST /2.0/repositories/{ws}/{repo}/issues/{id}/attachments"]
    assert uploads == 1
    (folder / "flow.txt").write_bytes(b"changed")
    world.sandbox.reset_stats()
    assert world.sync().code == 0
    # one upload for the changed file, then the story's base confirms it (issue 17)
    assert world.sandbox.stats()["writes"] == 2
    assert sorted(attachments_of(world, story["id"])) == ["flow.txt", "mockup.png", "spec.pdf"]
