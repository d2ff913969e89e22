"""CI runs: every sync on a fresh runner (a new checkout, empty state, log and config folders),
the way Bitbucket Pipelines runs it. The merge base travels with each issue, so what people changed
in Bitbucket survives, what changed in the spec is sent once, and a change on both sides is a
conflict - with no state file anywhere. Races are held at a known point with the sandbox's hold.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any

import requests

SPEC_EDIT = ("**I want** to log out", "**I want** to log out from every device")


def runner(world: Any, name: str) -> Any:
    """A fresh runner on the world's sandbox: its own checkout of the spec (copied from the
    world's, edits included) and empty state, log and config folders."""
    fresh = type(world)(world.sandbox, world.tmp / "runners" / name)
    fresh.tmp.mkdir(parents=True)
    (fresh.tmp / "attachments").mkdir()
    for path in (world.tmp / "attachments").iterdir():
        (fresh.tmp / "attachments" / path.name).write_bytes(path.read_bytes())
    for path in world.tmp.glob("*.md"):
        (fresh.tmp / path.name).write_text(path.read_text())
    fresh.secrets = world.secrets
    fresh.figures = world.figures
    return fresh


def two_runs_at_once(world: Any) -> None:
    """Two fresh runners sync at once: both read an empty tracker before either creates (their
    first creates are held until both are waiting), so every key is created twice."""
    world.sandbox.hold("POST", "/issues", count=0)
    first = runner(world, "a").start(*world.sync_args("EPIC.md", "--workers", "1"))
    second = runner(world, "b").start(*world.sync_args("EPIC.md", "--workers", "1"))
    try:
        assert world.sandbox.faults.hold.wait_for_waiting(2, timeout=60), "both runs must wait"
    finally:
        world.sandbox.release()
        for process in (first, second):
            process.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0


def edit_spec(world: Any, old: str, new: str, spec: str = "EPIC.md") -> None:
    path = world.tmp / spec
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def put_issue(world: Any, number: int, body: dict[str, Any]) -> None:
    """A person's edit through the API (the base line in the content is left as it is)."""
    url = (f"{world.sandbox.base_url}/repositories/{world.sandbox.workspace}/"
           f"{world.sandbox.repo}/issues/{number}")
    answer = requests.put(url, json=body, timeout=10, headers=world.sandbox.account("person").headers)
    assert answer.status_code == 200, answer.text


def number_of(world: Any, key: str) -> int:
    return int(world.by_key()[key]["id"])


def raw_content(world: Any, number: int) -> str:
    return world.sandbox.store.issue(number)["content_raw"]


def person_edits_content(world: Any, number: int, text: str) -> None:
    """A person rewrites the description in the web editor; the hidden base line stays."""
    raw = raw_content(world, number)
    base_line = raw.rsplit("\n", 1)[1]
    assert base_line.startswith("[//]: # (spectryn:1 ")
    put_issue(world, number, {"content": {"raw": f"{text}\n\n{base_line}"}})


def test_tracker_edits_survive_and_spec_edits_are_sent_once(world: Any) -> None:
    assert runner(world, "first").sync().code == 0
    us1, us2, us3 = (number_of(world, k) for k in ("US-001", "US-002", "US-003"))
    put_issue(world, us1, {"state": "resolved"})
    put_issue(world, us3, {"title": "US-003: Reset password (renamed in Bitbucket)"})
    person_edits_content(world, us2, "Rewritten by the product manager.")

    plan = runner(world, "plan").sync(execute=False)
    assert plan.code == 0, plan.err
    assert "= US-001" in plan.out and "(kept tracker edits: state)" in plan.out, plan.out
    assert "(kept tracker edits: title)" in plan.out and "0 to update" in plan.out

    writes = world.writes()
    done = runner(world, "noop").sync()
    assert done.code == 0, done.err
    assert world.writes() == writes, "tracker edits must not be reverted on a fresh runner"
    issues = world.by_key()
    assert issues["US-001"]["state"] == "resolved"
    assert issues["US-003"]["title"].endswith("(renamed in Bitbucket)")
    assert raw_content(world, us2).startswith("Rewritten by the product manager.")

    # a spec edit of another field of a kept-content issue: one write, the person's text stays
    edit_spec(world, "### 🔧 US-002: Logout", "### 🔧 US-002: Sign out")
    writes = world.writes()
    sent = runner(world, "edit").sync()
    assert sent.code == 0, sent.err
    assert world.writes() == writes + 1
    after = world.by_key()
    assert after["US-002"]["title"] == "US-002: Sign out"
    assert raw_content(world, us2).startswith("Rewritten by the product manager.")
    assert after["US-001"]["state"] == "resolved"

    # the kept content's base stayed the old one: a later file edit of it is a conflict
    edit_spec(world, *SPEC_EDIT)
    later = runner(world, "later").sync("EPIC.md", "--output", "json", execute=False)
    items = {i["key"]: i for i in json.loads(later.out)["items"]}
    assert items["US-002"]["action"] == "conflict" and items["US-002"]["fields"] == ["content"]


def test_both_sides_edit_is_a_conflict_in_the_plan_and_in_json(world: Any) -> None:
    assert runner(world, "first").sync().code == 0
    us2 = number_of(world, "US-002")
    person_edits_content(world, us2, "Edited in Bitbucket.")
    edit_spec(world, *SPEC_EDIT)

    text = runner(world, "text").sync(execute=False)
    assert "! US-002" in text.out and "[conflict: content]" in text.out, text.out
    assert "-Edited in Bitbucket." in text.out
    as_json = runner(world, "json").sync("EPIC.md", "--output", "json", execute=False)
    result = json.loads(as_json.out)
    item = next(i for i in result["items"] if i["key"] == "US-002")
    assert item["action"] == "conflict" and item["no_base"] is False
    assert item["conflicts"]["content"]["tracker"] == "Edited in Bitbucket."
    assert "every device" in item["conflicts"]["content"]["spec"]
    assert result["counts"]["conflicts"] == 1

    writes = world.writes()
    runner(world, "execute").sync()
    assert world.writes() == writes
    assert raw_content(world, us2).startswith("Edited in Bitbucket.")
    assert runner(world, "force").sync("EPIC.md", "--force").code == 0
    assert "every device" in raw_content(world, us2)


def test_fresh_runner_no_op_sends_nothing_and_reads_no_more_than_with_state(world: Any) -> None:
    assert world.sync().code == 0
    reads = world.reads()
    assert world.sync().code == 0  # with the state file
    with_state = world.reads() - reads
    writes, reads = world.writes(), world.reads()
    fresh = runner(world, "fresh").sync()
    assert fresh.code == 0, fresh.err
    assert world.writes() == writes, "a fresh-runner no-op must not write"
    assert world.reads() - reads <= with_state + 2
    assert "0 created, 0 updated" in fresh.out


def test_kill_9_mid_fresh_runner_run_then_a_fresh_rerun(world: Any) -> None:
    """The run is killed while creates are held in the sandbox; they are applied after the
    process died (never answered), and a new fresh runner finds them by key."""
    reference = runner(world, "reference")
    world.sandbox.hold("POST", "/issues", count=0)
    doomed = runner(world, "doomed").start(*world.sync_args())
    try:
        assert world.sandbox.faults.hold.wait_for_waiting(1, timeout=60)
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(timeout=10)
    finally:
        world.sandbox.release()
        doomed.communicate(timeout=10)
    again = reference.sync()
    assert again.code == 0, again.err
    assert world.duplicates() == {}
    keys = set(world.by_key())
    assert {"US-001", "US-001.1", "US-005"} <= keys
    writes = world.writes()
    assert runner(world, "after").sync().code == 0
    assert world.writes() == writes
    issue = world.by_key()["US-001"]
    comments = world.sandbox.store.comments(int(issue["id"]))
    assert len(comments) == 2


def test_two_fresh_runners_at_once_then_a_healing_run(world: Any) -> None:
    """Both runs read an empty tracker before either creates (their first creates are held
    until both are waiting), so every key is created twice; one more run keeps the earliest of
    each pair, marks the other duplicate with a comment naming it, and leaves a twin a person
    touched open with both links in the report."""
    two_runs_at_once(world)
    counts = world.key_counts()
    assert set(counts.values()) == {2}, counts

    twins = sorted((i for i in world.issues() if i["title"].startswith("US-002:")),
                   key=lambda i: i["id"])
    put_issue(world, twins[1]["id"], {"priority": "trivial"})  # a person touched this twin

    heal = runner(world, "heal").sync()
    assert heal.code == 0, heal.err
    assert "two issues carry key US-002" in heal.out and f"#{twins[1]['id']}" in heal.out
    live: dict[str, list[int]] = {}
    for issue in world.issues():
        key = issue["title"].split(":", 1)[0]
        if issue["state"] != "duplicate":
            live.setdefault(key, []).append(int(issue["id"]))
    assert {k: len(v) for k, v in live.items() if len(v) != 1} == {"US-002": 2}
    for issue in world.issues():
        if issue["state"] != "duplicate":
            continue
        key = issue["title"].split(":", 1)[0]
        kept = min(live[key])
        notes = [c["raw"] for c in world.sandbox.store.comments(int(issue["id"]))
                 if c["raw"].startswith("Duplicate of")]
        assert notes == [notes[0]] and notes[0].startswith(f"Duplicate of #{kept}:")
        assert int(issue["id"]) > kept
    assert world.sandbox.store.issue(twins[1]["id"])["state"] != "duplicate"

    writes = world.writes()
    assert runner(world, "after").sync().code == 0
    assert world.writes() == writes  # healed: nothing more to do


def test_the_base_line_is_hidden_markdown(world: Any) -> None:
    """The base line is a CommonMark link reference definition: it renders as nothing."""
    from markdown_it import MarkdownIt

    assert world.sync().code == 0
    raw = raw_content(world, number_of(world, "US-002"))
    line = raw.rsplit("\n", 1)[1]
    assert line.startswith("[//]: # (spectryn:1 ") and len(line) < 160
    assert MarkdownIt("commonmark").render(line).strip() == ""
    assert line not in MarkdownIt("commonmark").render(raw)



def test_small_first_sync_numbers_issues_in_spec_order_and_progress_counts_every_request(
        world: Any, epic_writer: Any) -> None:
    """Up to 40 creates go one at a time in file order (a story, then its subtasks), so issue
    numbers follow the spec; the progress total is every request the run sends."""
    epic_writer(world.tmp / "BIG.md", 8, 2, comments_every=4)
    run = world.sync("BIG.md")
    assert run.code == 0, run.err
    by_id = sorted(world.issues(), key=lambda i: int(i["id"]))
    keys = [i["title"].split(":", 1)[0] for i in by_id]
    spec_order = [k for n in range(1, 9) for k in (f"US-{n:03d}", f"US-{n:03d}.1", f"US-{n:03d}.2")]
    assert keys == spec_order
    lines = [line for line in run.err.splitlines() if line.startswith("progress: ")]
    assert lines, run.err
    done, total = lines[-1].split()[1].split("/")
    # 24 creates, 2 comments and 2 base confirmations: all writes, no lookups
    assert int(done) == int(total) == world.writes() == 24 + 2 + 2
