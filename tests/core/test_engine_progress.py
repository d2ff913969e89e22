"""What progress counts and how it estimates the time left (found unguarded by mutation testing,
issue 18): every request the plan will send at the tracker's cost, and an ETA from the pace so far
or the tracker's quota, whichever is slower."""

from __future__ import annotations

import time
from pathlib import Path

from spectryn_core.apply import Applier
from spectryn_core.items import Connection, Extra, Item, Quota
from spectryn_core.model import Attachment, Comment, Spec, Story
from spectryn_core.plan import Change, Plan

#: A distinct weight per kind of write, so the total says how many of each were counted.
COST = {"create": 1, "update": 10, "comment": 100, "attachment": 1_000, "more_attachments": 10_000,
        "pull_request": 100_000, "duplicate": 1_000_000}


class Weighted(Connection):
    def __init__(self, keeps_base: bool, quota: Quota | None = None) -> None:
        self.keeps_base = keeps_base
        self._quota = quota

    def requests_for(self, write: str) -> int:
        return COST[write]

    def quota(self) -> Quota | None:
        return self._quota


def applier(connection: Connection) -> Applier:
    return Applier(None, connection, None, {}, {}, {})  # type: ignore[arg-type]


def change(key: str, action: str, *, fields=(), extras=(), unconfirmed=False, item=True) -> Change:
    story = Story(key, "T")
    made = Change(key, "story", "T", action, fields=list(fields), extras=list(extras),
                  item=Item("story", key, "T", story, Spec(Path("x.md"))) if item else None)
    made.unconfirmed = unconfirmed
    return made


def test_planned_requests_count_each_write_at_the_trackers_cost(tmp_path):
    png = tmp_path / "a.png"
    png.write_bytes(b"a")
    extras = [Extra.for_comment(Comment("hi")), Extra.for_attachment(Attachment("a.png", png)),
              Extra.for_attachment(Attachment("b.png", png)), Extra.for_pull_request(7)]
    plan = Plan([
        change("US-1", "create", fields=["title"], extras=extras),     # 1 + 100 + 1000 + 10000 + 100000
        change("US-2", "update", fields=["title"]),                    # 10
        change("US-3", "update", extras=[Extra.for_comment(Comment("x"))]),  # 100
        change("US-4", "conflict", fields=["title"]),                  # nothing
        change("US-5", "duplicate"),                                   # 1000000
        change("US-6", "orphan", item=False),                          # nothing
        change("US-7", "unchanged", unconfirmed=True),                 # (base confirmation only)
    ])
    without_base = 1 + 100 + 1_000 + 10_000 + 100_000 + 10 + 100 + 1_000_000
    assert applier(Weighted(keeps_base=False)).planned_requests(plan) == without_base
    # one base update more per item whose extras are then confirmed in its base
    assert applier(Weighted(keeps_base=True)).planned_requests(plan) == without_base + 3 * 10


def test_eta_is_the_pace_so_far_or_the_quota_if_slower():
    paced = applier(Weighted(keeps_base=False))
    paced._started = time.monotonic() - 10.0  # 10 s for the first 2 of 6 requests
    assert paced._eta(0, 6) is None
    eta = paced._eta(2, 6)
    assert eta is not None and 19.9 < eta < 21.0
    assert paced._eta(1, 6) is not None
    slow = Quota(limit=10, window=60.0, remaining=0, next_slot_in=50.0)
    quota_bound = applier(Weighted(keeps_base=False, quota=slow))
    quota_bound._started = time.monotonic() - 10.0
    assert quota_bound._eta(2, 6) == 60.0  # 4 more need the next window (pace says 20 s)


def test_a_small_first_sync_creates_in_file_order_so_numbers_follow_the_spec(tmp_path):
    from tests.core.test_engine import Harness

    h = Harness(tmp_path)
    h.run()
    creates = [w[1] for w in h.tracker.write_log if w[0] == "create"]
    assert creates == ["US-001", "US-001.1", "US-001.2", "US-002"]
    assert [h.tracker.issues[i]["title"].split(":")[0] for i in sorted(h.tracker.issues, key=int)] == creates


def test_progress_reports_every_request_until_done_equals_total(tmp_path):
    from spectryn_core.sync import SyncRequest, run_sync
    from tests.core.test_engine import Harness

    h = Harness(tmp_path)
    calls: list[tuple] = []
    request = SyncRequest(h.spec, "memory", h.state_dir, execute=True, workers=2)
    run_sync(h.plugins, h.config(), request, progress=lambda *args: calls.append(args))
    writes = len(h.tracker.write_log)  # 4 creates, 1 comment, 1 base confirmation
    assert [c[:2] for c in calls] == [(n, writes) for n in range(1, writes + 1)]
    assert calls[-1][3] == 0.0
    assert {c[2] for c in calls} == {"US-001", "US-001.1", "US-001.2", "US-002"}


def test_extra_tags_in_tracker_bases_are_stable_across_versions():
    from spectryn_core.items import extra_tag
    from spectryn_core.model import Comment

    assert extra_tag(Extra.for_comment(Comment("hello"))) == "4d36a4"
    assert extra_tag(Extra.for_pull_request(7)) == "969b4f"


def test_a_large_first_sync_creates_level_by_level_so_subtasks_name_their_story(tmp_path):
    from tests.core.test_engine import Harness

    h = Harness(tmp_path)
    stories = ["# EPIC-001: Many\n"]
    for n in range(1, 16):  # 15 stories x 2 subtasks: 45 creates, above the one-at-a-time limit
        stories.append(f"### US-{n:03d}: Story {n}\n\n#### Subtasks\n| # | Subtask | Description | SP | Status |\n"
                       "|---|---------|-------------|----|--------|\n"
                       f"| 1 | A{n} | a | 1 | Open |\n| 2 | B{n} | b | 1 | Open |\n")
    h.spec.write_text("\n".join(stories))
    h.run()
    issues = h.tracker.by_key()
    assert len(issues) == 45
    assert [w[0] for w in h.tracker.write_log] == ["create"] * 45  # each item written once
    for n in range(1, 16):
        story_id = h.tracker.id_of(f"US-{n:03d}")
        for m in (1, 2):
            assert f"Parent: #{story_id}" in issues[f"US-{n:03d}.{m}"]["content"]
    before = h.tracker.writes
    h.run()
    assert h.tracker.writes == before
