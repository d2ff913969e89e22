"""Small engine contracts that mutation testing found unguarded (issue 18): how a change names its
extras, plan counts, orphan titles, the ``--only`` hint, the read-only state of a dry-run, and
attachments and pull-request links sent once through the engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from spectryn_core.config import load_config
from spectryn_core.desired import build_items
from spectryn_core.errors import SpecError, TrackerError, UsageError
from spectryn_core.items import Extra, RemoteItem, Rendered, value_digest
from spectryn_core.model import Attachment, Comment, Epic, Spec, Story, Subtask
from spectryn_core.plan import Change, Plan, orphan_change
from spectryn_core.plugins import load_plugins
from spectryn_core.state import RunLock, SyncState, state_file
from spectryn_core.sync import SyncRequest, SyncResult, parse, run_sync
from tests.support.memtracker import MemoryTracker

SPEC = """\
# EPIC-001: Checkout

### US-001: Pay by card

| Field | Value |
|-------|-------|
| **Status** | Open |

#### Description
**As a** shopper **I want** to pay by card **So that** I can finish my order; see PR #7.

#### Subtasks
| # | Subtask | Description | SP | Status |
|---|---------|-------------|----|--------|
| 1 | Card form | The form | 1 | Open |

#### Attachments
- [card.png](./card.png)

### US-002: Pay by invoice

| Field | Value |
|-------|-------|
| **Status** | Open |
"""


class Harness:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.spec = tmp_path / "spec" / "EPIC.md"
        self.spec.parent.mkdir()
        self.spec.write_text(SPEC)
        (self.spec.parent / "card.png").write_bytes(b"\x89PNG first")
        self.tracker = MemoryTracker("memory")
        self.plugins = load_plugins()
        self.plugins.pm.register(self.tracker, name="memory")
        self.state_dir = tmp_path / "state"

    def run(self, execute: bool = True, only: str | None = None) -> SyncResult:
        config = load_config([], cli={}, cwd=self.spec.parent, env={},
                             user_config_dir=self.tmp / "u", tracker="memory")
        request = SyncRequest(self.spec, "memory", self.state_dir, execute=execute, only=only,
                              workers=2)
        return run_sync(self.plugins, config, request)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_a_change_names_its_fields_then_its_extras(tmp_path):
    png = tmp_path / "card.png"
    png.write_bytes(b"png")
    extras = [Extra.for_comment(Comment("hi", "alice", "2025-01-01")),
              Extra.for_attachment(Attachment("card.png", png)),
              Extra.for_pull_request(7)]
    change = Change("US-001", "story", "Pay", "update", fields=["title", "state"], extras=extras)
    assert change.describe_fields() == ["title", "state", "comment", "attachment card.png",
                                        "pull request #7"]
    colon = Change("US-001", "story", "Pay", "update",
                   extras=[Extra.for_attachment(Attachment("v2:final.png", png))])
    assert colon.describe_fields() == ["attachment v2:final.png"]
    assert change.pending
    assert not Change("US-002", "story", "Pay", "orphan").pending


def test_extras_are_identified_by_what_they_hold(tmp_path):
    png = tmp_path / "card.png"
    png.write_bytes(b"png")
    attachment = Extra.for_attachment(Attachment("card.png", png))
    assert (attachment.kind, attachment.ident) == ("attachment", "attachment:card.png")
    png.write_bytes(b"png, changed")
    changed = Extra.for_attachment(Attachment("card.png", png))
    assert changed.ident == attachment.ident and changed.digest != attachment.digest
    gone = Extra.for_attachment(Attachment("gone.png", tmp_path / "gone.png"))
    assert gone.digest == "missing"
    pr = Extra.for_pull_request(7)
    assert (pr.kind, pr.ident, pr.digest, pr.payload) == ("pull_request", "pr:7", "7", 7)
    assert Extra.for_pull_request(8).ident != pr.ident
    one = Extra.for_comment(Comment("body", "alice", "2025-01-01"))
    assert one.kind == "comment" and one.ident == f"comment:{one.digest}"
    assert Extra.for_comment(Comment("body", "bob", "2025-01-01")).ident != one.ident
    assert Extra.for_comment(Comment("body", "alice", "2025-01-02")).ident != one.ident


def test_plan_counts_every_action(tmp_path):
    plan = Plan([Change("A", "story", "a", "create"), Change("B", "story", "b", "create"),
                 Change("C", "story", "c", "conflict"), Change("D", "story", "d", "orphan")])
    counts = plan.counts()
    assert {action: counts[action] for action in ("create", "update", "unchanged", "conflict",
                                                  "orphan")} == {
        "create": 2, "update": 0, "unchanged": 0, "conflict": 1, "orphan": 1}
    assert sum(counts.values()) == 4
    assert plan.has_pending
    assert not Plan([Change("C", "story", "c", "conflict")]).has_pending


def test_orphan_titles_lose_their_key_prefix_only_when_it_is_there(h):
    remote = {
        "US-001.7": RemoteItem("US-001.7", "9", fields={"title": "US-001.7: By hand"}),
        "US-001.8": RemoteItem("US-001.8", "10", fields={"title": "US-001.8 - no colon"}),
        "US-001.9": RemoteItem("US-001.9", "11", fields={}),
    }
    found = {key: orphan_change(key, one).title for key, one in remote.items()}
    assert found == {"US-001.7": "By hand", "US-001.8": "US-001.8 - no colon", "US-001.9": ""}
    assert [orphan_change(key, one).kind for key, one in remote.items()] == ["subtask"] * 3


def test_only_an_unknown_key_says_what_keys_look_like(h):
    with pytest.raises(UsageError) as raised:
        h.run(only="US-404", execute=False)
    assert "--only US-404" in raised.value.message
    assert raised.value.hint == (
        "keys look like US-001 (a story), US-001.2 (its second subtask) or EPIC-001")


def test_a_dry_run_reads_the_state_without_a_warning(h):
    h.run()
    text = h.spec.read_text()
    h.spec.write_text(text[: text.index("### US-002")])
    result = h.run(execute=False)
    assert result.plan.warnings == []
    assert [c.key for c in result.plan.changes if c.action == "orphan"] == ["US-002"]


def test_a_dry_run_without_state_writes_no_file_anywhere(h, monkeypatch):
    work = h.tmp / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    result = h.run(execute=False)
    assert result.plan.warnings == []
    assert os.listdir(work) == [] and not h.state_dir.exists()


def test_an_unreadable_state_in_a_dry_run_says_execute_moves_it_aside(h):
    h.run()
    for path in h.state_dir.rglob("*.sqlite"):
        path.write_bytes(b"not a database" * 20)
    for path in h.state_dir.rglob("*.sqlite-*"):
        path.unlink()
    warnings = h.run(execute=False).plan.warnings
    assert len(warnings) == 1
    assert "unreadable" in warnings[0] and "--execute moves it aside" in warnings[0]


def test_attachment_and_pull_request_are_sent_once_and_a_changed_file_again(h):
    result = h.run()
    story = next(c for c in result.plan.changes if c.key == "US-001")
    assert story.describe_fields()[-2:] == ["attachment card.png", "pull request #7"]
    sent = [w for w in h.tracker.write_log if w[0] in ("attachment", "pr")]
    assert sent == [("attachment", "US-001", ("card.png",)), ("pr", "US-001", ("7",))]
    before = h.tracker.writes
    h.run()
    assert h.tracker.writes == before
    (h.spec.parent / "card.png").write_bytes(b"\x89PNG second")
    result = h.run()
    story = next(c for c in result.plan.changes if c.key == "US-001")
    assert story.action == "update" and story.describe_fields() == ["attachment card.png"]
    extras_sent = [w for w in h.tracker.write_log[before:] if w[0] in ("attachment", "pr", "comment")]
    assert extras_sent == [("attachment", "US-001", ("card.png",))]
    issue_id = next(i for i, v in h.tracker.issues.items() if v["title"].startswith("US-001:"))
    assert h.tracker.attachments[issue_id]["card.png"] == b"\x89PNG second"
    assert h.tracker.pr_links[issue_id] == {7}


def test_digests_are_stable_across_versions(tmp_path):
    """State files and tracker issues keep these digests: a new formula would make every field
    look changed and send every comment again after an upgrade."""
    assert value_digest("US-1: A") == "6f8ff358594eba5c"
    assert value_digest(None) == "dc937b59892604f5"
    assert Extra.for_comment(Comment("hello")).ident == "comment:02ec2f94ed87f74b"
    assert Extra.for_comment(Comment("hello", "alice", "2025-01-01")).ident == "comment:5f9c23f2ddf76a4e"
    png = tmp_path / "card.png"
    png.write_bytes(b"png")
    assert Extra.for_attachment(Attachment("card.png", png)).digest == "8f8cbb7dcf46e0bc"


def test_items_carry_their_spec_and_mapped_values(h):
    config = load_config([], cli={}, cwd=h.tmp, env={}, user_config_dir=h.tmp / "u",
                         tracker="memory")
    spec = parse(h.plugins, h.spec, config)
    built = build_items(spec, tracker="memory", config=config,
                        mappers=h.plugins.mapper_hooks("default"))
    assert all(item.spec is spec for item in built)
    assert [(i.key, i.state) for i in built if i.kind == "story"] == [("US-001", "open"),
                                                                      ("US-002", "open")]


def test_every_unmapped_status_and_priority_is_a_spec_error_naming_file_and_line(h):
    """A reader plugin may give words no mapper knows: each is a problem at its line."""
    story = Story("US-001", "Pay", line=12, status="frozen", priority="urgent",
                  subtasks=[Subtask(1, "Form", status="thawed", line=20, parent_key="US-001")])
    spec = Spec(Path("specs/EPIC.md"), epics=[Epic("Checkout", "EPIC-001", line=1, stories=[story])])
    config = load_config([], cli={}, cwd=h.tmp, env={}, user_config_dir=h.tmp / "u",
                         tracker="memory")
    with pytest.raises(SpecError) as raised:
        build_items(spec, tracker="memory", config=config, mappers=h.plugins.mapper_hooks("default"))
    problems = [(p.file, p.line, p.message) for p in raised.value.problems]
    assert problems == [
        ("specs/EPIC.md", 12, "status 'frozen' maps to no memory status; add it to "
                              "memory.status_mapping in your config"),
        ("specs/EPIC.md", 12, "priority 'urgent' maps to no memory priority; add it to "
                              "memory.priority_mapping in your config"),
        ("specs/EPIC.md", 20, "status 'thawed' maps to no memory status; add it to "
                              "memory.status_mapping in your config"),
    ]


def test_mappers_are_asked_for_the_chosen_tracker(h):
    seen: list[str] = []

    class TrackerAwareMapper:
        from spectryn_core import hookimpl

        @hookimpl(tryfirst=True)
        def map_status(self, status, tracker, config):
            seen.append(tracker)
            return None

    h.plugins.pm.register(TrackerAwareMapper(), name="aware")
    h.run(execute=False)
    h.run(execute=False, only="US-001")
    assert seen and set(seen) == {"memory"}


def test_quota_says_how_long_until_requests_can_have_been_sent():
    from spectryn_core.items import Quota

    frees = (5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0)  # 8 of 10 slots used
    quota = Quota(limit=10, window=60.0, remaining=2, next_slot_in=0.0, frees_in=frees)
    assert quota.seconds_until(0) == 0.0
    assert quota.seconds_until(2) == 0.0  # fits now
    assert Quota(10, 60.0, remaining=1, next_slot_in=4.0).seconds_until(1) == 0.0
    assert quota.seconds_until(3) == 5.0  # the first used slot frees
    assert quota.seconds_until(10) == 40.0  # the last one of this window
    assert quota.seconds_until(11) == 40.0 + 60.0  # then limit per window
    assert quota.seconds_until(20) == 40.0 + 60.0
    assert quota.seconds_until(21) == 40.0 + 120.0
    over = Quota(limit=4, window=60.0, remaining=0, next_slot_in=0.0,
                 frees_in=(1.0, 2.0, 3.0, 4.0, 5.0, 6.0))  # more used than the limit
    assert over.seconds_until(1) == 3.0
    assert Quota(5, 60.0, 0, 0.0).seconds_until(1) == 60.0  # nothing used is known
    paused = Quota(limit=10, window=60.0, remaining=0, next_slot_in=50.0, frees_in=frees)
    assert paused.seconds_until(1) == 50.0  # a pause the server asked for wins
    uncounted = Quota(limit=0, window=0.0, remaining=0, next_slot_in=7.0)
    assert uncounted.seconds_until(3) == 7.0 and uncounted.seconds_until(0) == 0.0
    assert uncounted.seconds_until(1) == 7.0
    single = Quota(limit=1, window=60.0, remaining=0, next_slot_in=0.0, frees_in=(30.0,))
    assert single.seconds_until(1) == 30.0


class Exploding(MemoryTracker):
    """A tracker plugin with a bug: creating US-002 raises a plain exception."""

    def _count_write(self, what: str, key: str, fields: tuple[str, ...]) -> None:
        if (what, key) == ("create", "US-002"):
            raise ValueError("boom")
        super()._count_write(what, key, fields)


def test_a_plugin_bug_fails_its_item_with_the_error_and_the_others_go_on(h):
    h.plugins.pm.unregister(h.tracker)
    h.tracker = Exploding("memory")
    h.plugins.pm.register(h.tracker, name="memory")
    result = h.run()
    status = {c.key: (c.status, c.error) for c in result.plan.changes}
    assert status["US-002"] == ("failed", "ValueError: boom")
    assert status["US-001"][0] == status["US-001.1"][0] == "done"


def test_a_second_run_on_a_target_is_told_who_holds_it_and_what_to_do(tmp_path):
    with RunLock(tmp_path, "memory", "memory/t"):
        with pytest.raises(TrackerError) as raised:
            with RunLock(tmp_path, "memory", "memory/t"):
                pass
    assert raised.value.message == f"another spectryn run (pid {os.getpid()}) is syncing memory/t"
    assert raised.value.hint == ("wait for it to finish and run again; runs on one target never "
                                 "interleave")


def test_state_files_are_named_after_tracker_target_and_spec(tmp_path):
    path = state_file(tmp_path, "memory", "bitbucket.org/acme/api", Path("/specs/EPIC.md"))
    tracker, target, name = path.relative_to(tmp_path).parts
    assert tracker == "memory"
    assert target.startswith("bitbucket.org_acme_api-") and len(target) == len("bitbucket.org_acme_api-") + 10
    assert name.startswith("_specs_EPIC.md-") and name.endswith(".sqlite")
    other = state_file(tmp_path, "memory", "bitbucket.org/acme/web", Path("/specs/EPIC.md"))
    assert other.parent != path.parent
    deep = SyncState(tmp_path / "a" / "b" / "c.sqlite")  # its folders are made
    deep.close()
    assert (tmp_path / "a" / "b" / "c.sqlite").is_file()


def test_a_missing_spec_file_says_what_to_give(h):
    h.spec = h.tmp / "nope.md"
    with pytest.raises(UsageError) as raised:
        h.run(execute=False)
    assert raised.value.message == f"{h.spec}: no such file"
    assert raised.value.hint == "give the path of your spec, e.g. --markdown EPIC.md"


def test_an_orphan_carries_its_tracker_issue(h):
    h.run()
    made = h.tracker.id_of("US-001.1")
    h.spec.write_text(h.spec.read_text().replace("| 1 | Card form | The form | 1 | Open |\n", ""))
    result = h.run(execute=False)
    (orphan,) = [c for c in result.plan.changes if c.action == "orphan"]
    assert orphan.key == "US-001.1" and orphan.remote is not None and orphan.remote.id == made


class Blind(MemoryTracker):
    """A tracker plugin that cannot render stories."""

    from spectryn_core import hookimpl

    @hookimpl
    def render_item(self, connection, item, refs):
        return None if item.kind == "story" else Rendered({}, skip=True)


def test_a_plugin_that_cannot_render_an_item_stops_before_anything_is_sent(h):
    h.plugins.pm.unregister(h.tracker)
    h.tracker = Blind("memory")
    h.plugins.pm.register(h.tracker, name="memory")
    with pytest.raises(TrackerError) as raised:
        h.run()
    assert raised.value.message == "the tracker plugin cannot render story US-001"
    assert h.tracker.writes == 0


def test_extras_a_tracker_cannot_take_are_named_in_a_warning(h):
    h.plugins.pm.unregister(h.tracker)
    h.tracker.link_pull_request = None  # a plugin without the hook
    h.plugins.pm.register(h.tracker, name="memory")
    result = h.run()
    assert "this tracker does not support pull requests; not sent" in result.plan.warnings
    assert not h.tracker.pr_links
    assert [w[0] for w in h.tracker.write_log if w[0] in ("attachment", "pr")] == ["attachment"]
    again = h.run()
    assert {c.action for c in again.plan.changes} == {"unchanged"}


def test_a_file_no_parser_reads_says_which_extra_to_install(h):
    h.spec = h.spec.with_suffix(".txt")
    h.spec.write_text("# EPIC-001: Checkout\n")
    with pytest.raises(UsageError) as raised:
        h.run(execute=False)
    assert raised.value.message == f"{h.spec}: no installed parser reads this file"
    assert raised.value.hint == "pip install 'spectryn[markdown]'"


def test_a_run_stopped_by_an_error_reports_the_unsent_items_as_skipped(h):
    h.tracker.abort_on = {"US-001"}
    result = h.run()
    assert result.error is not None
    for key in ("US-001.1",):
        change = next(c for c in result.plan.changes if c.key == key)
        assert change.status == "skipped"
        assert change.error.startswith("not sent: ")
