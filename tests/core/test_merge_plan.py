"""Planning with three-way text merges, base pairs, policies and base-text sources (issue 29)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from spectryn_core.basetext import BaseTexts
from spectryn_core.items import Item, Provenance, RemoteItem, Rendered, base_digest, value_digest
from spectryn_core.model import Spec, Story
from spectryn_core.plan import plan_item
from spectryn_core.policy import Policy, PolicyError
from spectryn_core.provenance import COMMIT, ItemBase, item_base, new_base, pair, split_pair
from spectryn_core.spec_history import SpecHistory
from spectryn_core.state import SyncState

BASE = "As a user\nI want to log out\n\n## Criteria\n\n- ☐ cookie cleared\n\nLabels: story"
PM = BASE.replace("Labels: story", "PM note\n\nLabels: story")
SPEC = BASE.replace("I want to log out", "I want to log out everywhere")
MERGED = PM.replace("I want to log out", "I want to log out everywhere")


def item() -> Item:
    story = Story("US-1", "Logout")
    return Item("story", "US-1", "Logout", story, Spec(Path("x.md")), origin="x.md")


def remote(content: str, base: dict[str, str], **fields: Any) -> RemoteItem:
    return RemoteItem("US-1", "1", fields={"content": content, **fields}, base=base,
                      provenance=Provenance("x.md", "US-1", 1))


def plan(spec: str, have: str, base: dict[str, str], texts: dict[str, str] | None = None, **options: Any) -> Any:
    held = remote(have, base)
    return plan_item(item(), Rendered({"content": spec}), held, item_base(held, None), {}, texts=texts, **options)


def test_a_conflicting_text_asks_for_its_base_text_then_merges() -> None:
    base = {"content": base_digest(BASE)}
    asked = plan(SPEC, PM, base)
    assert asked.action == "conflict" and asked.needs_text == ["content"]
    merged = plan(SPEC, PM, base, {"content": BASE})
    assert merged.action == "update" and merged.fields == ["content"]
    assert merged.send == {"content": MERGED} and merged.settled == {"content": "merged"}
    assert merged.values["content"] == (PM, MERGED)


def test_overlapping_edits_stay_a_conflict_with_the_base_text() -> None:
    tracker = BASE.replace("I want to log out", "I want to sign out")
    change = plan(SPEC, tracker, {"content": base_digest(BASE)}, {"content": BASE})
    assert change.action == "conflict" and change.bases == {"content": BASE}
    assert change.conflicts == {"content": (SPEC, tracker)}


def test_a_merged_text_records_both_sides_and_the_next_run_sends_nothing() -> None:
    merged = plan(SPEC, PM, {"content": base_digest(BASE)}, {"content": BASE})
    held = remote(PM, {"content": base_digest(BASE)})
    written = new_base(item(), {"content": SPEC}, held, item_base(held, None), {"content"}, {},
                       values=merged.send)
    assert written["content"] == f"{base_digest(SPEC)}.{base_digest(MERGED)}"
    again = plan(SPEC, MERGED, {"content": written["content"]})
    assert again.action == "unchanged" and not again.needs_text


def test_a_later_spec_edit_of_a_merged_text_is_merged_not_sent_over_it() -> None:
    base = {"content": pair(base_digest(SPEC), base_digest(MERGED))}
    later = SPEC.replace("- ☐ cookie cleared", "- ☑ cookie cleared")
    asked = plan(later, MERGED, base)
    assert asked.action == "conflict" and asked.needs_text == ["content"]  # never drops "PM note"
    merged = plan(later, MERGED, base, {"content": SPEC})
    assert merged.action == "update" and "PM note" in merged.send["content"]
    assert "- ☑ cookie cleared" in merged.send["content"]


def test_policy_settles_what_still_conflicts() -> None:
    tracker = PM.replace("I want to log out", "I want to sign out")
    base = {"content": base_digest(BASE)}
    spec_wins = plan(SPEC, tracker, base, {"content": BASE}, policy=Policy({"content": "spec"}))
    assert spec_wins.action == "update" and spec_wins.send["content"] == MERGED  # PM note kept
    assert spec_wins.settled == {"content": "merged, spec where both changed"}
    tracker_wins = plan(SPEC, tracker, base, {"content": BASE}, policy=Policy({"content": "tracker"}))
    assert tracker_wins.action == "unchanged" and tracker_wins.kept == ["content"]
    held = remote("x", {"state": base_digest("open")}, state="resolved")
    scalar = plan_item(item(), Rendered({"state": "on hold"}), held, item_base(held, None), {},
                       policy=Policy({"state": "tracker"}))
    assert scalar.kept == ["state"] and scalar.settled == {"state": "tracker"}
    forced = plan_item(item(), Rendered({"state": "on hold"}), held, item_base(held, None), {}, force=True)
    assert forced.fields == ["state"] and forced.settled == {"state": "force"}


def test_policy_from_config_or_flag() -> None:
    assert Policy.parse("state=tracker, content=spec")["state"] == "tracker"
    assert Policy.parse({"assignee": "tracker"})["title"] == "ask"
    with pytest.raises(PolicyError, match="unknown field 'colour'"):
        Policy.parse("colour=spec")
    with pytest.raises(PolicyError, match="'mine' is not one of"):
        Policy.parse({"state": "mine"})
    with pytest.raises(PolicyError, match="not FIELD=CHOICE"):
        Policy.parse("state")


def test_pairs_read_and_written() -> None:
    assert pair("a" * 16, "a" * 16) == "a" * 8
    assert split_pair("aaaaaaaa.bbbbbbbb") == ("aaaaaaaa", "bbbbbbbb")
    assert ItemBase({"c": "aaaaaaaa.bbbbbbbb"}).field("c") == ("aaaaaaaa", "bbbbbbbb")


def test_the_commit_follows_the_text_it_renders() -> None:
    held = remote(PM, {"content": base_digest(BASE), COMMIT: "abc123abc123"})
    # the content is kept (not sent): its base is the old text, so the old commit stays
    kept = new_base(item(), {"content": BASE, "title": "t"}, held, item_base(held, None), {"title"}, {},
                    commit="fedcba987654")
    assert kept[COMMIT] == "abc123abc123"
    sent = new_base(item(), {"content": SPEC}, held, item_base(held, None), {"content"}, {}, commit="fedcba987654")
    assert sent[COMMIT] == "fedcba987654"


def test_the_state_keeps_texts_by_digest(tmp_path: Path) -> None:
    state = SyncState(tmp_path / "s.sqlite")
    state.record_text(BASE)
    assert state.text(value_digest(BASE)[:8]) == BASE
    assert state.text(value_digest(SPEC)[:8]) is None and state.text("xyz") is None
    state.prune_texts()  # no item refers to it any more
    assert state.text(value_digest(BASE)[:8]) is None
    state.close()


class _Hooks:
    """Tracker hooks with a read_base_text that answers ``text``."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.read_base_text = self

    def get_hookimpls(self) -> list[str]:
        return ["impl"]

    def __call__(self, **_: Any) -> str | None:
        return self.text


class _Connection:
    def request_count(self) -> dict[str, int]:
        return {"read": 0}


def test_a_base_text_without_the_base_digest_is_not_taken() -> None:
    held = remote(PM, {"content": base_digest(BASE)})
    digest = base_digest(BASE)
    good = BaseTexts(hooks=_Hooks(BASE), connection=_Connection())  # type: ignore[arg-type]
    assert good.find(item(), held, "content", digest) == (BASE, "tracker")
    forged = BaseTexts(hooks=_Hooks(BASE + " (edited)"), connection=_Connection())  # type: ignore[arg-type]
    assert forged.find(item(), held, "content", digest) is None
    assert forged.tally["tracker"].asked == 1 and forged.tally["tracker"].found == 0


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(folder), "-c", "user.name=a", "-c", "user.email=a@b", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def test_spec_history_names_a_commit_only_for_a_committed_file(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "x.md").write_text("one\n")
    history = SpecHistory(tmp_path)
    assert history.commit_of("x.md") is None  # not committed
    _git(tmp_path, "add", "x.md")
    _git(tmp_path, "commit", "-qm", "x")
    head = _git(tmp_path, "rev-parse", "HEAD")
    assert SpecHistory(tmp_path).commit_of("x.md") == head[:12]
    (tmp_path / "x.md").write_text("two\n")
    assert SpecHistory(tmp_path).commit_of("x.md") is None  # edited since
    assert history.read(head[:12], "x.md") == b"one\n"
    assert history.read("0" * 12, "x.md") is None and history.read("--help", "x.md") is None
    assert SpecHistory(tmp_path / "nowhere").commit_of("x.md") is None
