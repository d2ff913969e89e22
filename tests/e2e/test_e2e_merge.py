"""Both edits survive (issue 29): a text changed in Bitbucket and in the spec is merged line by line.

Every run here is on a fresh runner (its own empty state folder) unless it says otherwise, and
the tmp folder is not a git repository unless a test makes it one: the base text then comes from
the issue's change records.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

PM_NOTE = "PM note: please also support Apple Pay"


def fresh(world: Any, name: str) -> dict[str, str]:
    """The environment of a fresh runner: a state folder nobody used."""
    return {"SPECTRYN_STATE_DIR": str(world.tmp / f"state-{name}")}


def raw(world: Any, number: int) -> str:
    return str(world.sandbox.store.issue(number)["content_raw"])


def add_pm_paragraph(world: Any, key: str) -> int:
    """A PM adds a paragraph at the end of the issue's text (above spectryn's lines), as a person."""
    issue = next(i for i in world.issues() if i["title"].startswith(f"{key}:"))
    text = issue["content"]["raw"]
    head, labels, tail = text.partition("\n\nLabels: ")
    return world.edit_in_bitbucket(key, {"content": {"raw": f"{head}\n\n{PM_NOTE}\n\nLabels: {tail}"}})


def edit_spec(world: Any, old: str, new: str) -> None:
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))


def test_a_pm_paragraph_and_a_spec_edit_are_merged_and_sent_once(world: Any) -> None:
    assert world.sync(env=fresh(world, "ci1")).code == 0
    number = add_pm_paragraph(world, "US-002")
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    writes = world.writes()

    plan = world.sync(execute=False, env=fresh(world, "ci2"))
    assert plan.code == 0, plan.err
    print(plan.out)
    assert "~ US-002" in plan.out and "merged" in plan.out, plan.out
    done = world.sync(env=fresh(world, "ci3"))
    assert done.code == 0, done.err
    assert world.writes() == writes + 1  # one PUT
    text = raw(world, number)
    assert PM_NOTE in text and "from every device" in text
    after = world.sync(env=fresh(world, "ci4"))
    assert after.code == 0 and world.writes() == writes + 1, after.out


def test_a_pm_paragraph_below_spectryns_lines_is_merged_and_the_note_written_once(
        world: Any) -> None:
    """The last line a PM sees is spectryn's "Managed in" note: they write below it (and below the
    hidden base line). Their paragraph is kept, and the note is not written twice."""
    assert world.sync(env=fresh(world, "ci1")).code == 0
    issue = next(i for i in world.issues() if i["title"].startswith("US-002:"))
    number = world.edit_in_bitbucket(
        "US-002", {"content": {"raw": issue["content"]["raw"] + f"\n\n{PM_NOTE}"}})
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    done = world.sync(env=fresh(world, "ci2"))
    assert done.code == 0 and "merged" in done.out, done.out
    text = raw(world, number)
    assert text.count("*Managed in ") == 1, text
    lines = text.rstrip("\n").split("\n")
    assert lines[-1].startswith("[//]: # (spectryn:1 ") and lines[-3].startswith("*Managed in ")
    assert PM_NOTE in lines[:-3] and "from every device" in text
    writes = world.writes()
    after = world.sync(env=fresh(world, "ci3"))
    assert after.code == 0 and world.writes() == writes, after.out  # a no-op on a fresh runner


def test_the_plan_json_says_how_it_was_merged(world: Any) -> None:
    assert world.sync(env=fresh(world, "ci1")).code == 0
    add_pm_paragraph(world, "US-002")
    edit_spec(world, "- [ ] Logging out clears the session cookie", "- [x] Logging out clears the session cookie")
    plan = world.sync("EPIC.md", "--output", "json", execute=False, env=fresh(world, "ci2"))
    items = {item["key"]: item for item in json.loads(plan.out)["items"]}
    item = items["US-002"]
    assert item["action"] == "update" and item["fields"] == ["content"]
    assert item["settled"] == {"content": {"by": "merged", "base_source": "tracker"}}
    sent = item["values"]["content"]["spec"]
    assert PM_NOTE in sent and "- ☑ Logging out clears the session cookie" in sent


def overlapping(world: Any) -> int:
    """The PM and the spec both rewrite the same line of US-002's description."""
    issue = next(i for i in world.issues() if i["title"].startswith("US-002:"))
    number = world.edit_in_bitbucket("US-002", {"content": {"raw": issue["content"]["raw"].replace(
        "**I want** to log out", "**I want** to sign out")}})
    edit_spec(world, "**I want** to log out", "**I want** to log out everywhere")
    return number


def test_overlapping_edits_are_a_conflict_showing_base_tracker_and_spec(world: Any) -> None:
    assert world.sync(env=fresh(world, "ci1")).code == 0
    number = overlapping(world)
    before, writes = raw(world, number), world.writes()

    plan = world.sync(execute=False, env=fresh(world, "ci2"))
    assert "! US-002" in plan.out, plan.out
    block = plan.out[plan.out.index("! US-002"):]
    for line in ("<<<<<<< tracker", "**I want** to sign out", "||||||| base", "**I want** to log out",
                 "=======", "**I want** to log out everywhere", ">>>>>>> spec",
                 "base text from the tracker's change records"):
        assert line in block, plan.out
    assert "--conflict-policy FIELD=spec|tracker" in plan.out  # every way out is named
    as_json = world.sync("EPIC.md", "--output", "json", execute=False, env=fresh(world, "ci3"))
    item = {i["key"]: i for i in json.loads(as_json.out)["items"]}["US-002"]
    conflict = item["conflicts"]["content"]
    assert item["action"] == "conflict" and conflict["base_source"] == "tracker"
    assert "**I want** to log out\n" in conflict["base"]
    assert "**I want** to sign out" in conflict["tracker"] and "log out everywhere" in conflict["spec"]

    done = world.sync(env=fresh(world, "ci4"))
    assert done.code == 0 and raw(world, number) == before and world.writes() == writes


def test_base_text_from_the_local_state(world: Any) -> None:
    """A laptop that synced keeps the agreed text: no change record is read."""
    assert world.sync().code == 0
    reads = world.reads()
    assert world.sync(execute=False).code == 0
    plain = world.reads() - reads  # what a plan reads with nothing to merge
    add_pm_paragraph(world, "US-002")
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    reads = world.reads()
    plan = world.sync(execute=False)
    assert "base text from the local state" in plan.out, plan.out
    assert world.reads() - reads == plain
    assert world.sync().code == 0
    assert PM_NOTE in raw(world, int(world.by_key()["US-002"]["id"]))


def plain_reads(world: Any) -> int:
    """What a dry run on a fresh runner reads when it has nothing to merge (US-002 left out)."""
    reads = world.reads()
    assert world.sync("EPIC.md", "--only", "US-001", execute=False, env=fresh(world, "plain")).code == 0
    return world.reads() - reads


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), "-c", "user.name=Dev", "-c", "user.email=dev@example.com",
                           *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def committed_world(world: Any) -> None:
    git(world.tmp, "init", "-q", "-b", "main")
    (world.tmp / ".gitignore").write_text("state*/\nlogs/\nuserconfig/\nsandbox.json\n")
    git(world.tmp, "add", "-A")
    git(world.tmp, "commit", "-q", "-m", "the spec")


def test_base_text_from_the_specs_git_history(world: Any) -> None:
    committed_world(world)
    assert world.sync(env=fresh(world, "ci1")).code == 0
    head = git(world.tmp, "rev-parse", "HEAD")
    issue = world.by_key()["US-002"]
    assert f" h={head[:12]} " in issue["content"]["raw"] or f" h={head[:12]})" in issue["content"]["raw"]
    add_pm_paragraph(world, "US-002")
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    git(world.tmp, "commit", "-q", "-am", "log out everywhere")
    plain = plain_reads(world)
    reads = world.reads()
    plan = world.sync(execute=False, env=fresh(world, "ci2"))
    assert "base text from the spec's git history" in plan.out, plan.out
    assert world.reads() - reads == plain


def test_a_shallow_clone_without_the_commit_falls_back_to_the_change_records(world: Any) -> None:
    committed_world(world)
    assert world.sync(env=fresh(world, "ci1")).code == 0
    add_pm_paragraph(world, "US-002")
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    git(world.tmp, "commit", "-q", "-am", "log out everywhere")
    clone = world.tmp / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{world.tmp}", str(clone)], check=True)
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    (clone / "attachments").mkdir(exist_ok=True)
    (clone / "attachments" / "mockup.png").write_bytes((world.tmp / "attachments" / "mockup.png").read_bytes())
    plan = world.cli("--markdown", "EPIC.md", "--tracker", "bitbucket", env=fresh(world, "ci2"), cwd=clone)
    assert plan.code == 0, plan.err
    assert "base text from the tracker's change records" in plan.out, plan.out


def test_no_base_text_found_stays_a_conflict(world: Any) -> None:
    """A base text older than the change records read (30) is not looked for further."""
    import requests

    assert world.sync(env=fresh(world, "ci1")).code == 0
    number = add_pm_paragraph(world, "US-002")
    url = f"{world.sandbox.base_url}/repositories/{world.sandbox.workspace}/{world.sandbox.repo}/issues/{number}"
    for turn in range(32):
        answer = requests.put(url, json={"priority": "minor" if turn % 2 else "trivial"}, timeout=10,
                              headers=world.sandbox.account("person").headers)
        assert answer.status_code == 200
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    plain = plain_reads(world)
    reads = world.reads()
    plan = world.sync(execute=False, env=fresh(world, "ci2"))
    assert "! US-002" in plan.out and "[conflict: content" in plan.out, plan.out
    assert world.reads() - reads == plain + 3  # then three pages of change records


def test_after_a_merge_a_later_spec_edit_is_merged_again(world: Any) -> None:
    """The base of a merged text records both sides: the next run sends nothing, and a later
    edit of the spec keeps the PM's paragraph (base text from the state, then from git)."""
    committed_world(world)
    assert world.sync().code == 0
    number = add_pm_paragraph(world, "US-002")
    edit_spec(world, "**I want** to log out", "**I want** to log out from every device")
    git(world.tmp, "commit", "-q", "-am", "log out everywhere")
    assert world.sync().code == 0
    assert "c=" in raw(world, number) and PM_NOTE in raw(world, number)
    writes = world.writes()
    for name in ("laptop", "ci"):
        again = world.sync(env=None if name == "laptop" else fresh(world, "ci-noop"))
        assert again.code == 0 and world.writes() == writes, again.out
    edit_spec(world, "- [ ] Logging out clears the session cookie", "- [x] Logging out clears the session cookie")
    git(world.tmp, "commit", "-q", "-am", "cookie")
    laptop = world.sync(execute=False)
    assert "base text from the local state" in laptop.out, laptop.out
    ci = world.sync(execute=False, env=fresh(world, "ci5"))
    assert "base text from the spec's git history" in ci.out, ci.out
    assert world.sync(env=fresh(world, "ci6")).code == 0
    text = raw(world, number)
    assert PM_NOTE in text and "from every device" in text and "☑ Logging out clears" in text
    assert world.writes() == writes + 1


def test_policy_decides_who_wins(world: Any) -> None:
    assert world.sync(env=fresh(world, "ci1")).code == 0
    number = overlapping(world)
    world.edit_in_bitbucket("US-003", {"state": "resolved"})
    edit_spec(world, "| **Status** | 📋 To Do |\n| **Component** | Backend |",
              "| **Status** | 🚫 Blocked |\n| **Component** | Backend |")
    policy = "--conflict-policy", "state=tracker,content=spec"
    plan = world.sync("EPIC.md", *policy, execute=False, env=fresh(world, "ci2"))
    assert plan.code == 0, plan.err
    assert "~ US-002" in plan.out and "sync.conflict_policy content=spec" in plan.out, plan.out
    assert "state: kept \"resolved\" (sync.conflict_policy state=tracker" in plan.out, plan.out
    done = world.sync("EPIC.md", *policy, env=fresh(world, "ci3"))
    assert done.code == 0, done.err
    assert "log out everywhere" in raw(world, number)
    assert world.by_key()["US-003"]["state"] == "resolved"
    (world.tmp / ".spectryn.yaml").write_text("sync:\n  conflict_policy:\n    state: spec\n")
    from_file = world.sync(execute=False, env=fresh(world, "ci4"))
    assert "~ US-003" in from_file.out and "sync.conflict_policy state=spec" in from_file.out, from_file.out


def pull(world: Any, *extra: str, env: dict[str, str] | None = None) -> Any:
    return world.cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket", *extra, env=env)


def test_pull_brings_a_paragraph_and_a_ticked_criterion_into_the_spec(world: Any) -> None:
    """A PM adds a sentence to US-002's description and ticks a criterion in Bitbucket; pull
    writes both into the spec's sections (a fresh runner), and the next sync sends nothing."""
    assert world.sync(env=fresh(world, "ci1")).code == 0
    issue = next(i for i in world.issues() if i["title"].startswith("US-002:"))
    text = issue["content"]["raw"].replace(
        "**So that** nobody else can use my session on a shared computer",
        f"**So that** nobody else can use my session on a shared computer\n\n{PM_NOTE}").replace(
        "- ☐ Logging out clears the session cookie", "- ☑ Logging out clears the session cookie")
    world.edit_in_bitbucket("US-002", {"content": {"raw": text}})
    before = (world.tmp / "EPIC.md").read_text()

    plan = pull(world, env=fresh(world, "ci2"))
    assert plan.code == 0, plan.err
    assert "US-002" in plan.out and f"+{PM_NOTE}" in plan.out, plan.out
    assert "+- [x] Logging out clears the session cookie" in plan.out, plan.out
    assert (world.tmp / "EPIC.md").read_text() == before  # a dry run writes nothing
    done = pull(world, "--execute", env=fresh(world, "ci3"))
    assert done.code == 0, done.err
    after = (world.tmp / "EPIC.md").read_text()
    assert "**So that** nobody else can use my session on a shared computer\n\n" + PM_NOTE in after
    assert "- [x] Logging out clears the session cookie" in after
    assert world.cli("validate", "EPIC.md").code == 0
    writes = world.writes()
    synced = world.sync(env=fresh(world, "ci4"))
    assert synced.code == 0 and world.writes() == writes, synced.out


def test_pull_reports_an_edit_that_maps_to_no_section(world: Any) -> None:
    assert world.sync(env=fresh(world, "ci1")).code == 0
    issue = next(i for i in world.issues() if i["title"].startswith("US-002:"))
    world.edit_in_bitbucket("US-002", {"content": {"raw": issue["content"]["raw"].replace(
        "**I want** to log out", "**I want** to sign out")}})
    before = (world.tmp / "EPIC.md").read_text()
    done = pull(world, "--execute", env=fresh(world, "ci2"))
    assert done.code == 0, done.err
    assert "US-002: the issue text's line 2 changed text the spec has; not pulled" in done.out, done.out
    assert (world.tmp / "EPIC.md").read_text() == before
