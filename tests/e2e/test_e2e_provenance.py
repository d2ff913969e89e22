"""Which issues are spectryn's (issue 25), end to end against the sandbox, every run on a fresh
runner unless it says otherwise: a hand-made issue with a key is never updated, linked, pulled
or used to close another; a key only it carries is held until adopted; two spec files with one
key never overwrite each other; a fresh runner reports the orphans a laptop with state does; a
stale state never outvotes a newer base; a base line without a field is a conflict for it; a kept
edit survives byte for byte; a retitled issue is never duplicated; twins people touched are never
closed; issues of earlier versions keep syncing and gain provenance on their next write."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import requests

from tests.e2e.test_e2e_fresh_runner import (
    edit_spec,
    number_of,
    raw_content,
    runner,
    two_runs_at_once,
)

BASE_LINE = re.compile(r"^\[//\]: # \(spectryn:1 .*\)$", re.M)


def bb(world: Any, method: str, path: str, account: str = "person", **kwargs: Any) -> Any:
    """A request through the sandbox's API as one of its accounts: ``person`` (a workspace
    member: the PM in Bitbucket's web UI), ``stranger`` (not a member) or ``sync``."""
    url = (f"{world.sandbox.base_url}/repositories/{world.sandbox.workspace}/"
           f"{world.sandbox.repo}{path}")
    answer = requests.request(method, url, timeout=10, **kwargs,
                              headers=world.sandbox.account(account).headers)
    assert answer.status_code in (200, 201, 204), answer.text
    return answer.json() if answer.content else None


def by_hand(world: Any, title: str, content: str = "Made by hand in Bitbucket.",
            account: str = "person") -> int:
    """An issue a person creates in Bitbucket; its number."""
    made = bb(world, "POST", "/issues", account, json={"title": title, "content": {"raw": content}})
    return int(made["id"])


def as_person(world: Any, number: int, body: dict[str, Any], account: str = "person") -> None:
    """A person's edit of issue ``number`` in Bitbucket."""
    bb(world, "PUT", f"/issues/{number}", account, json=body)


def plan(world: Any, *extra: str) -> dict[str, Any]:
    """A dry run's JSON report."""
    done = world.sync("EPIC.md", "--output", "json", *extra, execute=False)
    assert done.code == 0, done.out + done.err
    return json.loads(done.out)


def items(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for i in report["items"]}


def issue(world: Any, number: int) -> dict[str, Any]:
    return next(i for i in world.issues() if int(i["id"]) == number)


# --- a hand-made issue that carries a key -----------------------------------------------------


def test_a_hand_made_issue_with_a_key_is_never_updated_linked_pulled_or_used_to_close_one(world):
    """A PM made an issue before the spec's first sync, then titled it like US-004: it has the
    lower number, yet the real US-004 stays the issue, and the hand-made one is only reported."""
    early = by_hand(world, "Two-factor idea")
    assert runner(world, "first").sync().code == 0
    real = number_of(world, "US-004")
    as_person(world, early, {"title": "US-004: Two-factor (made by hand)", "state": "resolved",
                             "priority": "trivial"})
    writes = world.writes()

    dry = runner(world, "dry").sync(execute=False)
    assert dry.code == 0, dry.err
    assert f"#{early} " in dry.out and "claims US-004 but was not made by spectryn" in dry.out
    assert "duplicate" not in dry.out and world.writes() == writes

    edit_spec(world, "### 🛡️ US-004: Two-Factor Authentication", "### 🛡️ US-004: Two-factor sign-in")
    ci = runner(world, "ci")
    done = ci.sync("EPIC.md", "--write-back")
    assert done.code == 0, done.err
    assert world.writes() == writes + 1  # the real US-004's title, nothing else
    assert issue(world, real)["title"] == "US-004: Two-factor sign-in"
    hand = issue(world, early)
    assert hand["title"] == "US-004: Two-factor (made by hand)"
    assert hand["state"] == "resolved" and raw_content(world, early) == "Made by hand in Bitbucket."
    spec = (ci.tmp / "EPIC.md").read_text()
    assert f"[#{real}](" in spec and f"[#{early}](" not in spec  # the link is the real issue's

    pulled = runner(world, "pull").cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket",
                                       "--output", "json")
    assert pulled.code == 0, pulled.err
    report = json.loads(pulled.out)
    assert [p for f in report["files"] for p in f["pulled"] if p["key"] == "US-004"] == []


def test_a_key_only_a_hand_made_issue_carries_is_held_until_adopted(world):
    """No second issue is created for a key a person already made an issue for (even one whose
    content is an empty base line): the plan holds it, and --adopt takes the issue over."""
    made = by_hand(world, "US-004: 2FA (made by hand)", "Notes.\n\n[//]: # (spectryn:1)")
    first = runner(world, "first").sync()
    assert first.code == 0, first.err
    assert "! US-004" in first.out and f"(held: #{made} " in first.out
    assert "--adopt US-004 takes it over" in first.out
    assert world.key_counts()["US-004"] == 1 and "US-005" in world.by_key()
    assert raw_content(world, made) == "Notes.\n\n[//]: # (spectryn:1)"
    held = items(plan(runner(world, "json")))["US-004"]
    assert held["action"] == "conflict" and held["claimed_by"]["id"] == str(made)

    adopt = runner(world, "adopt").sync("EPIC.md", "--adopt", "US-004")
    assert adopt.code == 0, adopt.err
    assert f"(taking over issue #{made})" in adopt.out
    assert issue(world, made)["title"] == "US-004: Two-Factor Authentication"
    assert "spectryn:1 f=EPIC.md n=US-004 g=" in raw_content(world, made)
    writes = world.writes()
    again = runner(world, "after").sync()
    assert again.code == 0 and world.writes() == writes and "claims" not in again.out
    assert world.key_counts()["US-004"] == 1


def test_raw_text_copied_from_another_issue_changes_neither_issue(world):
    """A PM copies US-001's raw text, hidden line included, into US-002's issue: the line names
    US-001, so it describes that issue, not this one. Nothing is overwritten, no third issue is
    made, and US-001's issue stays the one."""
    assert world.sync().code == 0
    us1, us2 = number_of(world, "US-001"), number_of(world, "US-002")
    pasted = raw_content(world, us1)
    as_person(world, us2, {"content": {"raw": pasted}})
    done = runner(world, "ci").sync()
    assert done.code == 0, done.err
    assert f"(held: #{us2} " in done.out and "names US-001: copied from another issue" in done.out
    assert raw_content(world, us2) == pasted and number_of(world, "US-001") == us1
    assert world.duplicates() == {}
    laptop = world.sync()  # the state knows #us2 is US-002's: a conflict (no base), never a copy
    assert laptop.code == 0, laptop.err
    assert raw_content(world, us2) == pasted and world.duplicates() == {}


# --- a stranger's copy of a base line (a public repository's tracker) --------------------------


def test_a_strangers_copy_of_a_base_line_is_refused_when_the_team_names_its_accounts(world_factory):
    """On a public repository anyone may create issues. A stranger copies US-002's raw text,
    hidden line and all, into an issue of their own, titled like it: with the sync's account in
    sync.trusted_accounts the copy is only reported - never written, never a twin closing the
    real one, never pulled from - whatever its number."""
    world = world_factory(public=True)
    stranger = by_hand(world, "US-004: Two-factor (stranger)", account="stranger")  # the lower number
    team = {"SPECTRYN_TRUSTED_ACCOUNTS": world.sandbox.account("sync").user["uuid"]}
    first = runner(world, "first").sync(env=team)
    assert first.code == 0, first.err
    assert f"(held: #{stranger} " in first.out and f'made by {world.sandbox.account("stranger").uuid} ("sam")' in first.out, first.out
    assert world.key_counts()["US-004"] == 1
    real = number_of(world, "US-002")
    copy = by_hand(world, "US-002: Logout", raw_content(world, real), account="stranger")
    writes = world.writes()
    done = runner(world, "ci").sync(env=team)
    assert done.code == 0, done.err
    assert f"#{copy} " in done.out and "claims US-002 but was not made by spectryn" in done.out
    assert 'made by {' in done.out and '("sam"), an account sync.trusted_accounts does not list' in done.out
    assert world.writes() == writes and issue(world, copy)["state"] != "duplicate"
    pulled = runner(world, "pull").cli("pull", "--markdown", "EPIC.md", "--tracker", "bitbucket",
                                       "--output", "json", env=team)
    assert [p for f in json.loads(pulled.out)["files"] for p in f["pulled"]] == []
    # the team adopts the stranger's US-004 on purpose: the sync writes to it
    adopted = runner(world, "adopt").sync("EPIC.md", "--adopt", "US-004", env=team)
    assert adopted.code == 0, adopted.err
    assert issue(world, stranger)["title"] == "US-004: Two-Factor Authentication"
    # without the setting, the same copy is taken at its word (README: set it on public trackers)
    lenient = runner(world, "lenient").sync(execute=False)
    assert "claims US-002" not in lenient.out


# --- two spec files, one key ----------------------------------------------------------------


TWO = """\
# EPIC-001: {name}

### US-001: {title}

| Field | Value |
|-------|-------|
| **Status** | Open |

#### Description
**As a** user **I want** {title} **So that** it works
"""


def repo_runner(world: Any, name: str) -> Any:
    """A fresh runner whose checkout is a git repository with docs/a.md and docs/b.md."""
    fresh = runner(world, name)
    subprocess.run(["git", "init", "-q", str(fresh.tmp)], check=True)
    docs = fresh.tmp / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(TWO.format(name="Checkout", title="Pay by card"))
    (docs / "b.md").write_text(TWO.format(name="Shipping", title="Track parcels"))
    return fresh


def test_two_spec_files_with_one_key_never_overwrite_each_other(world):
    assert repo_runner(world, "a").sync("docs/a.md").code == 0
    number = number_of(world, "US-001")
    before, writes = issue(world, number), world.writes()
    clash = repo_runner(world, "b").sync("docs/b.md")
    assert clash.code == 2, clash.out + clash.err
    assert (f"docs/b.md:3: US-001 is issue #{number}" in clash.err
            and "made from docs/a.md, which also defines US-001" in clash.err), clash.err
    assert world.writes() == writes and issue(world, number) == before
    dry = repo_runner(world, "b-dry").sync("docs/b.md", "--output", "json", execute=False)
    assert dry.code == 2, dry.out + dry.err
    error = json.loads(dry.out)["error"]
    assert error["kind"] == "ownership" and "docs/a.md" in error["problems"][0]
    assert error["message"] == "1 key(s) belong to another spec file; nothing was sent"

    # the story moves to b.md (removed from a.md): b.md takes the issue over, and a.md no
    # longer reports it as its orphan
    moved = repo_runner(world, "moved")
    (moved.tmp / "docs" / "a.md").write_text(
        TWO.format(name="Checkout", title="Pay by card").replace("US-001", "US-010"))
    done = moved.sync("docs/b.md")
    assert done.code == 0, done.err
    assert "made from docs/a.md, which no longer defines it" in done.out
    assert issue(world, number)["title"] == "US-001: Track parcels"
    assert "spectryn:1 f=docs/b.md n=US-001 " in raw_content(world, number)
    left = moved.sync("docs/a.md", "--output", "json", execute=False)
    assert json.loads(left.out)["counts"]["orphans"] == 0, left.out + left.err
    assert world.key_counts()["US-001"] == 1


# --- orphans without state ------------------------------------------------------------------


def test_a_fresh_runner_reports_the_same_orphans_as_a_machine_with_state(world):
    assert world.sync().code == 0
    text = (world.tmp / "EPIC.md").read_text()
    start, end = text.index("### 🔒 US-003"), text.index("### 🛡️ US-004")
    (world.tmp / "EPIC.md").write_text(text[:start] + text[end:])  # a story removed
    edit_spec(world, "| 3 | Error messages | Map API errors to friendly text | 1 | 📋 To Do |\n", "")

    def orphans(report: dict[str, Any]) -> list[tuple[str, str]]:
        return sorted((i["key"], i["id"]) for i in report["items"] if i["action"] == "orphan")

    laptop = orphans(plan(world))
    fresh = orphans(plan(runner(world, "ci")))
    assert [key for key, _ in laptop] == ["US-001.3", "US-003", "US-003.1", "US-003.2", "US-003.3"]
    assert fresh == laptop
    before = {k: v for k, v in world.by_key().items() if k in ("US-001.3", "US-003")}
    assert runner(world, "ci-execute").sync().code == 0
    after = world.by_key()
    for key, was in before.items():  # never deleted, never changed
        assert after[key]["title"] == was["title"] and after[key]["state"] == was["state"]


# --- the newest base wins ---------------------------------------------------------------------


def test_a_laptop_with_an_old_state_never_outvotes_a_newer_base(world):
    """CI (fresh) sends a priority change; the PM sets it back; a laptop whose state last saw
    the PM's value keeps the PM's edit instead of sending the spec's value again."""
    assert world.sync().code == 0  # the laptop: priority critical (High)
    us3 = number_of(world, "US-003")
    edit_spec(world, "| **Priority** | 🟠 High |\n| **Status** | 📋 To Do |",
              "| **Priority** | 🔴 Critical |\n| **Status** | 📋 To Do |")
    assert runner(world, "ci").sync().code == 0
    assert issue(world, us3)["priority"] == "blocker"
    as_person(world, us3, {"priority": "critical"})  # the PM sets it back
    writes = world.writes()
    laptop = world.sync()  # the laptop, with its state from before CI's run, and the new spec
    assert laptop.code == 0, laptop.err
    assert world.writes() == writes and issue(world, us3)["priority"] == "critical"
    assert "(kept tracker edits: priority)" in laptop.out


def test_a_base_line_without_a_field_is_a_conflict_for_that_field(world):
    assert world.sync().code == 0
    us3 = number_of(world, "US-003")
    raw = raw_content(world, us3)
    as_person(world, us3, {"title": "US-003: Reset a password (PM)",
                           "content": {"raw": re.sub(r" t=[0-9a-f]+", "", raw)}})
    report = plan(runner(world, "ci"))
    change = items(report)["US-003"]
    assert change["action"] == "conflict" and change["fields"] == ["title"]
    assert runner(world, "ci-execute").sync().code == 0
    assert issue(world, us3)["title"] == "US-003: Reset a password (PM)"


def test_a_kept_content_edit_survives_byte_for_byte_when_the_base_is_rewritten(world):
    assert world.sync().code == 0
    us2 = number_of(world, "US-002")
    line = BASE_LINE.findall(raw_content(world, us2))[-1]
    person = ("Rewritten by the PM.  \nWith a hard line break.\n\n```\n"
              "[//]: # (spectryn:1 f=EPIC.md n=US-009 g=9 t=00000000)\n```\n\ttabbed line  ")
    as_person(world, us2, {"content": {"raw": f"{person}\n\n{line}"}})
    edit_spec(world, "### 🔧 US-002: Logout", "### 🔧 US-002: Sign out")
    done = runner(world, "ci").sync()
    assert done.code == 0, done.err
    after = raw_content(world, us2)
    # the person's text byte for byte; then only spectryn's own lines: the note and the base
    assert after.startswith(person + "\n\n*Managed in `EPIC.md` - edit the spec;")
    assert re.fullmatch(r"\*Managed in [^\n]*\*\n\n\[//\]: # \(spectryn:1 f=EPIC\.md n=US-002 g=\d+ [^\n]*\)",
                        after[len(person) + 2:]), after
    assert issue(world, us2)["title"] == "US-002: Sign out"
    writes = world.writes()
    assert runner(world, "again").sync().code == 0 and world.writes() == writes


# --- a retitled issue ---------------------------------------------------------------------------


def test_a_retitled_issue_keeps_its_identity_and_gets_its_key_back(world):
    assert world.sync().code == 0
    us2 = number_of(world, "US-002")
    as_person(world, us2, {"title": "Logout (US 002)"})
    dry = runner(world, "dry").sync(execute=False)
    assert "+ US-002" not in dry.out and f"#{us2} is US-002's issue" in dry.out, dry.out
    done = runner(world, "ci").sync()
    assert done.code == 0, done.err
    assert issue(world, us2)["title"] == "US-002: Logout" and world.key_counts()["US-002"] == 1
    as_person(world, us2, {"title": "Logout"})
    assert world.sync().code == 0  # the laptop, with state
    assert issue(world, us2)["title"] == "US-002: Logout" and world.key_counts()["US-002"] == 1


def test_a_retitled_issue_is_found_in_a_full_listing_too(world, epic_writer):
    """Above 20 keys the issues are listed whole (no BBQL): the same rules hold."""
    epic_writer(world.tmp / "EPIC.md", 21, 1, comments_every=1000)
    assert world.sync().code == 0
    us7 = number_of(world, "US-007")
    as_person(world, us7, {"title": "Story number seven"})
    done = runner(world, "ci").sync()
    assert done.code == 0, done.err
    assert issue(world, us7)["title"] == "US-007: Story number 7"
    assert world.duplicates() == {}


# --- twins ------------------------------------------------------------------------------------


def test_a_twin_a_person_commented_on_is_never_closed_and_a_dry_run_only_says_would(world):
    two_runs_at_once(world)
    twins = sorted((i for i in world.issues() if i["title"].startswith("US-002:")),
                   key=lambda i: i["id"])
    assert len(twins) == 2
    bb(world, "POST", f"/issues/{twins[1]['id']}/comments",
       json={"content": {"raw": "Keep this open, customer ACME asked for it."}})
    us3 = sorted((i for i in world.issues() if i["title"].startswith("US-003:")), key=lambda i: i["id"])
    bb(world, "POST", f"/issues/{us3[1]['id']}/comments", "sync",  # someone using the CI token
       json={"content": {"raw": "Not a spec comment, though the sync's own account wrote it."}})

    writes = world.writes()
    dry = runner(world, "dry").sync(execute=False)
    assert dry.code == 0, dry.err
    assert "would mark it duplicate" in dry.out and "would be marked duplicate (dry run)" in dry.out
    assert "marked duplicate." not in dry.out.replace("would be marked duplicate", "")
    assert world.writes() == writes

    heal = runner(world, "heal").sync()
    assert heal.code == 0, heal.err
    assert f"#{twins[1]['id']}" in heal.out and "a comment by alice" in heal.out
    assert f"#{us3[1]['id']}" in heal.out and "a comment by spectryn-sync" in heal.out
    assert issue(world, int(twins[1]["id"]))["state"] != "duplicate"
    live = [i for i in world.issues() if i["state"] != "duplicate"]
    counts: dict[str, int] = {}
    for one in live:
        key = one["title"].split(":", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    assert {k: n for k, n in counts.items() if n != 1} == {"US-002": 2, "US-003": 2}


# --- issues of earlier versions -----------------------------------------------------------------


def test_issues_of_an_earlier_version_keep_syncing_and_gain_provenance_on_their_next_write(
        world, epic_writer):
    epic_writer(world.tmp / "EPIC.md", 3, 1, comments_every=1000)
    assert world.sync().code == 0
    for one in world.issues():  # as an earlier version wrote them: no f=, n=, g=
        raw = raw_content(world, int(one["id"]))
        as_person(world, int(one["id"]), {"content": {"raw": re.sub(r" [fng]=\S+", "", raw)}})
        assert "spectryn:1 t=" in raw_content(world, int(one["id"]))
    writes = world.writes()
    noop = runner(world, "ci").sync()
    assert noop.code == 0, noop.err
    assert world.writes() == writes and "claims" not in noop.out
    edit_spec(world, "### 🔧 US-002: Story number 2", "### 🔧 US-002: Story number two")
    done = runner(world, "edit").sync()
    assert done.code == 0 and world.writes() == writes + 1
    assert "spectryn:1 f=EPIC.md n=US-002 g=" in raw_content(world, number_of(world, "US-002"))
    assert "spectryn:1 t=" in raw_content(world, number_of(world, "US-003"))
