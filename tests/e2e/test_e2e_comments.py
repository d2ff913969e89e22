"""Spec comments keep their identity across edits (issue 27): an edited spec comment is edited in
place in Bitbucket (never posted twice), a removed one is reported and kept, a comment someone
else wrote is never edited, and issues synced by the earlier encoding (comments tagged by their
text) get no duplicate. Every run here that matters is a fresh runner (an empty state folder)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import requests

from spectryn_bitbucket.render import read_base, render_comment
from spectryn_core.items import Extra, Item, comment_tag, extra_tag
from spectryn_core.model import Comment
from spectryn_markdown.parser import parse_file

OLD = "> The design review is done; the mockup below is final."
NEW = "> The design review is done; the mockup below is final (v2)."
ALICE_NEW = Comment("The design review is done; the mockup below is final (v2).", "alice", "2024-01-15")


def fresh(world: Any, name: str) -> dict[str, str]:
    """The env of a run on a fresh runner: a state folder nobody used."""
    return {"SPECTRYN_STATE_DIR": str(world.tmp / f"fresh-{name}")}


def comments_of(world: Any, key: str) -> list[dict[str, Any]]:
    issue = world.by_key()[key]
    return world.sandbox.store.comments(int(issue["id"]))


def edit_spec(world: Any, old: str, new: str) -> None:
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    assert old in text
    spec.write_text(text.replace(old, new, 1))


def comment_url(world: Any, issue_id: int | str, comment_id: int) -> str:
    sandbox = world.sandbox
    return (f"{sandbox.base_url}/repositories/{sandbox.workspace}/{sandbox.repo}/issues/{issue_id}"
            f"/comments/{comment_id}")


def test_an_edited_spec_comment_is_edited_in_place_on_a_fresh_runner(world) -> None:
    assert world.sync().code == 0
    before = comments_of(world, "US-001")
    assert len(before) == 2
    alice = next(c for c in before if "@alice" in c["raw"])
    edit_spec(world, OLD, NEW)
    dry = world.sync("EPIC.md", "--output", "json", execute=False, env=fresh(world, "dry"))
    assert dry.code == 0, dry.out + dry.err
    item = next(i for i in json.loads(dry.out)["items"] if i["key"] == "US-001")
    assert item["action"] == "update" and item["fields"] == ["comment edited"]
    world.sandbox.reset_stats()
    run = world.sync(env=fresh(world, "run"))
    assert run.code == 0, run.out + run.err
    assert "comment edited" in run.out
    after = comments_of(world, "US-001")
    assert [c["id"] for c in after] == [c["id"] for c in before]  # no comment added
    edited = next(c for c in after if c["id"] == alice["id"])
    assert edited["raw"] == render_comment(ALICE_NEW)
    assert next(c for c in after if "@bob" in c["raw"])["raw"] == next(
        c for c in before if "@bob" in c["raw"])["raw"]
    requests_made = world.sandbox.stats()["requests"]
    puts = {name: n for name, n in requests_made.items() if name.startswith("PUT")}
    # the comment, then the base confirming it; the listing read for the plan served the edit
    assert puts == {"PUT /2.0/repositories/{ws}/{repo}/issues/{id}/comments/{id}": 1,
                    "PUT /2.0/repositories/{ws}/{repo}/issues/{id}": 1}, requests_made
    assert requests_made.get("GET /2.0/repositories/{ws}/{repo}/issues/{id}/comments") == 1
    # the next run, on another fresh runner and on this machine: nothing to send
    for env in (fresh(world, "again"), None):
        world.sandbox.reset_stats()
        again = world.sync(env=env)
        assert again.code == 0, again.out + again.err
        assert world.writes() == 0, world.sandbox.stats()["requests"]
    assert len(comments_of(world, "US-001")) == 2


def test_an_edit_on_the_machine_that_posted_it_needs_one_listing(world) -> None:
    assert world.sync().code == 0
    edit_spec(world, OLD, NEW)
    world.sandbox.reset_stats()
    run = world.sync()
    assert run.code == 0, run.out + run.err
    assert render_comment(ALICE_NEW) in [c["raw"] for c in comments_of(world, "US-001")]
    assert world.writes() == 2 and len(comments_of(world, "US-001")) == 2


def test_a_comment_someone_else_wrote_is_never_edited(world) -> None:
    assert world.sync().code == 0
    issue = world.by_key()["US-001"]
    alice = next(c for c in comments_of(world, "US-001") if "@alice" in c["raw"])
    # a person posts a copy of the sync's comment (same text) ...
    person = world.sandbox.account("person")
    url = f"{comment_url(world, issue['id'], 0).rsplit('/', 1)[0]}"
    answer = requests.post(url, json={"content": {"raw": alice["raw"]}}, headers=person.headers, timeout=10)
    assert answer.status_code == 201, answer.text
    copy_id = answer.json()["id"]
    # ... and Bitbucket lets only a comment's author edit it: the sandbox refuses the sync's
    # comment to the person, as Bitbucket does (403)
    refused = requests.put(comment_url(world, issue["id"], alice["id"]), json={"content": {"raw": "x"}},
                           headers=person.headers, timeout=10)
    assert refused.status_code == 403, refused.text
    edit_spec(world, OLD, NEW)
    run = world.sync(env=fresh(world, "run"))
    assert run.code == 0, run.out + run.err
    by_id = {c["id"]: c for c in comments_of(world, "US-001")}
    assert by_id[alice["id"]]["raw"] == render_comment(ALICE_NEW)
    assert by_id[copy_id]["raw"] == alice["raw"]  # the person's copy: untouched
    assert len(by_id) == 3


def test_a_comment_removed_from_the_spec_is_reported_and_kept(world) -> None:
    assert world.sync().code == 0
    edit_spec(world, "> **@alice** (2024-01-15):\n" + OLD + "\n\n", "")
    world.sandbox.reset_stats()
    run = world.sync("EPIC.md", "--output", "json", env=fresh(world, "run"))
    assert run.code == 0, run.out + run.err
    result = json.loads(run.out)
    item = next(i for i in result["items"] if i["key"] == "US-001")
    assert item["removed_comments"] == 1
    issue_id = world.by_key()["US-001"]["id"]
    assert any(f"US-001: 1 comment(s) removed from the spec; kept in Bitbucket #{issue_id}" in w
               for w in result["warnings"]), result["warnings"]
    assert world.writes() == 0  # never deleted; nothing else to send
    assert len(comments_of(world, "US-001")) == 2
    text = world.sync(execute=False, env=fresh(world, "text"))
    assert "comment(s) removed from the spec; kept in Bitbucket" in text.out + text.err


def _old_encoding(world: Any, state_dir: Path | None = None) -> None:
    """Turn US-001's issue (and a state) into what the version before comment positions wrote:
    each comment's tag in the base line names its text's digest (``comment:<digest>``), bound
    to the issue; the state records comments under those idents."""
    spec = parse_file(world.tmp / "EPIC.md")
    story = next(s for epic in spec.epics for s in epic.stories if s.key == "US-001")
    item = Item("story", "US-001", story.title, story, spec)
    issue = world.by_key()["US-001"]
    raw = issue["content"]["raw"]
    assert read_base(raw).base is not None
    line = next(text for text in raw.splitlines() if text.startswith("[//]: # (spectryn:1"))
    changed = line
    for extra in item.extras():
        if extra.kind == "comment":
            old = Extra("comment", *extra.legacy, extra.payload)
            assert comment_tag(extra, issue["id"]) in changed
            changed = changed.replace(comment_tag(extra, issue["id"]), extra_tag(old, str(issue["id"])))
    sync = world.sandbox.account("sync")
    answer = requests.put(f"{comment_url(world, issue['id'], 0).rsplit('/comments', 1)[0]}",
                          json={"content": {"raw": raw.replace(line, changed)}}, headers=sync.headers,
                          timeout=10)
    assert answer.status_code == 200, answer.text
    if state_dir is not None:
        for path in state_dir.rglob("*.db"):
            with sqlite3.connect(path) as db:
                for extra in item.extras():
                    if extra.kind == "comment":
                        db.execute("UPDATE extras SET ident = ?, digest = ? WHERE key = ? AND ident = ?",
                                   (*extra.legacy, "US-001", extra.ident))


def test_issues_of_the_earlier_encoding_get_no_duplicate_comment(world) -> None:
    assert world.sync().code == 0
    _old_encoding(world, world.state_dir)
    count = len(comments_of(world, "US-001"))
    for env in (fresh(world, "upgrade"), None):  # a fresh runner, then the laptop's old state
        world.sandbox.reset_stats()
        run = world.sync(env=env)
        assert run.code == 0, run.out + run.err
        assert world.writes() == 0, world.sandbox.stats()["requests"]
        assert len(comments_of(world, "US-001")) == count


def test_an_edit_of_a_comment_the_earlier_encoding_tagged_is_edited_in_place(world) -> None:
    """The first change after the upgrade is a comment edit: the comment's earlier text is known
    only by the hash the earlier version tagged it with; it is found by its author and date
    among the sync's comments whose text has one of the base's unaccounted tags."""
    assert world.sync().code == 0
    _old_encoding(world)
    before = comments_of(world, "US-001")
    alice = next(c for c in before if "@alice" in c["raw"])
    edit_spec(world, OLD, NEW)
    dry = world.sync(execute=False, env=fresh(world, "dry"))
    assert "comment edited" in dry.out, dry.out
    run = world.sync(env=fresh(world, "run"))
    assert run.code == 0, run.out + run.err
    after = {c["id"]: c["raw"] for c in comments_of(world, "US-001")}
    assert len(after) == 2 and after[alice["id"]] == render_comment(ALICE_NEW)
    world.sandbox.reset_stats()
    assert world.sync(env=fresh(world, "again")).code == 0
    assert world.writes() == 0  # the base records positions now
