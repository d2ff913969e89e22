"""The three-way field comparison and per-item planning."""

from __future__ import annotations

from pathlib import Path

from spectryn_core.items import Extra, Item, RemoteItem, Rendered, value_digest
from spectryn_core.model import Comment, Spec, Story
from spectryn_core.plan import diff_fields, plan_item
from spectryn_core.state import ItemState


def state(**fields: tuple[str, str]) -> ItemState:
    return ItemState("US-1", "1", fields={k: (value_digest(s), value_digest(r))
                                          for k, (s, r) in fields.items()})


def test_no_base_at_all_means_a_conflict_never_an_overwrite():
    assert diff_fields({"title": "a"}, {"title": "b"}, None) == ([], ["title"], [])


def test_a_field_missing_from_an_existing_base_is_sent():
    # the spec started naming the field (a priority added, a milestone that now exists)
    assert diff_fields({"p": "high"}, {"p": "low"}, None, {"t": "00000000"}) == (["p"], [], [])


def test_tracker_carried_base_decides_without_state():
    base = {"t": value_digest("old")[:8]}
    assert diff_fields({"t": "new"}, {"t": "old"}, None, base) == (["t"], [], [])
    assert diff_fields({"t": "old"}, {"t": "edited"}, None, base) == ([], [], ["t"])
    assert diff_fields({"t": "new"}, {"t": "edited"}, None, base) == ([], ["t"], [])


def test_tracker_base_wins_over_an_older_state():
    # another runner synced "mid" since this machine's state recorded "old"
    base = {"t": value_digest("mid")[:8]}
    assert diff_fields({"t": "mid"}, {"t": "edited"}, state(t=("old", "old")), base) == ([], [], ["t"])


def test_equal_values_need_nothing_whatever_the_state():
    assert diff_fields({"title": "a"}, {"title": "a"}, state(title=("x", "y"))) == ([], [], [])


def test_changed_in_file_only_is_an_update():
    assert diff_fields({"t": "new"}, {"t": "old"}, state(t=("old", "old"))) == (["t"], [], [])


def test_changed_in_both_is_a_conflict():
    assert diff_fields({"t": "file"}, {"t": "tracker"}, state(t=("old", "old"))) == ([], ["t"], [])


def test_changed_in_tracker_only_is_kept():
    assert diff_fields({"t": "old"}, {"t": "tracker"}, state(t=("old", "old"))) == ([], [], ["t"])


def test_tracker_normalisation_is_not_a_change():
    # we sent "a " and the tracker stored "a": nothing to do as long as neither side moves
    assert diff_fields({"t": "a "}, {"t": "a"}, state(t=("a ", "a"))) == ([], [], [])


def _item(**story_fields) -> Item:
    story = Story("US-1", "Title", **story_fields)
    return Item("story", "US-1", "Title", story, Spec(Path("x.md")))


def test_plan_item_create_update_unchanged_and_extras():
    item = _item(comments=[Comment("hello", "alice", "2025-01-01")])
    rendered = Rendered({"title": "US-1: Title"}, warnings=["w"])
    created = plan_item(item, rendered, None, None, {})
    assert created.action == "create" and created.fields == ["title"] and len(created.extras) == 1
    assert created.warnings == ["w"]
    remote = RemoteItem("US-1", "7", fields={"title": "US-1: Title"})
    extra = Extra.for_comment(item.source.comments[0])
    same = plan_item(item, rendered, remote, None, {extra.ident: extra.digest})
    assert same.action == "unchanged" and same.extras == []
    pending = plan_item(item, rendered, remote, None, {})
    assert pending.action == "update" and pending.describe_fields() == ["comment"]


def test_plan_item_conflict_holds_back_extras_unless_forced():
    item = _item(comments=[Comment("hello")])
    rendered = Rendered({"title": "US-1: File"})
    remote = RemoteItem("US-1", "7", fields={"title": "US-1: Tracker"})
    st = ItemState("US-1", "7", fields={"title": (value_digest("US-1: Old"), value_digest("US-1: Old"))})
    conflict = plan_item(item, rendered, remote, st, {})
    assert conflict.action == "conflict" and conflict.extras == []
    forced = plan_item(item, rendered, remote, st, {}, force=True)
    assert forced.action == "update" and forced.fields == ["title"]


def test_a_field_without_a_base_does_not_stop_the_fields_after_it():
    update, conflict, kept = diff_fields({"a": "new", "b": "new", "c": "same"},
                                         {"a": "old", "b": "old", "c": "same"},
                                         state(b=("old", "old")))
    assert (update, conflict, kept) == (["a", "b"], [], [])


def test_state_newer_than_the_tracker_base_wins_when_the_tracker_holds_what_it_saw():
    # spectryn pull brought the tracker's "resolved" into the spec and recorded it in the state;
    # the base still says "open": a later spec edit back to "open" is an update
    base = {"s": value_digest("open")[:8]}
    pulled = state(s=("resolved", "resolved"))
    assert diff_fields({"s": "open"}, {"s": "resolved"}, pulled, base) == (["s"], [], [])
    assert diff_fields({"s": "resolved"}, {"s": "resolved"}, pulled, base) == ([], [], [])
