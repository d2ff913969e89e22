"""The three-way field comparison and per-item planning."""

from __future__ import annotations

from pathlib import Path

from spectryn_core.items import Item, Provenance, RemoteItem, Rendered, value_digest
from spectryn_core.model import Comment, Spec, Story
from spectryn_core.plan import plan_item
from spectryn_core.provenance import ItemBase, diff_fields, item_base
from spectryn_core.state import ItemState


def state(generation: int = 0, **fields: tuple[str, str]) -> ItemState:
    return ItemState("US-1", "1", fields={k: (value_digest(s), value_digest(r))
                                          for k, (s, r) in fields.items()}, generation=generation)


def on_state(**fields: tuple[str, str]) -> ItemBase:
    """A merge base that is only the state's record (a tracker that carries none)."""
    return ItemBase(None, state(**fields))


def carried(base: dict[str, str], generation: int = 1) -> RemoteItem:
    return RemoteItem("US-1", "1", base=base, provenance=Provenance("x.md", "US-1", generation))


def test_no_base_at_all_means_a_conflict_never_an_overwrite():
    assert diff_fields({"title": "a"}, {"title": "b"}, ItemBase()) == ([], ["title"], [])


def test_no_base_for_a_field_the_tracker_holds_a_value_of_is_a_conflict():
    # a base line without the field: a person's value there is never overwritten
    base = ItemBase({"t": "00000000"})
    assert diff_fields({"p": "high"}, {"p": "low"}, base) == ([], ["p"], [])


def test_no_base_for_a_field_the_tracker_holds_nothing_in_is_sent():
    # the spec started naming it (a milestone that now exists): nothing to overwrite
    base = ItemBase({"t": "00000000"})
    assert diff_fields({"m": "Q1"}, {"m": None}, base) == (["m"], [], [])
    assert diff_fields({"c": "text"}, {"c": ""}, ItemBase()) == (["c"], [], [])


def test_tracker_carried_base_decides_without_state():
    base = ItemBase({"t": value_digest("old")[:8]})
    assert diff_fields({"t": "new"}, {"t": "old"}, base) == (["t"], [], [])
    assert diff_fields({"t": "old"}, {"t": "edited"}, base) == ([], [], ["t"])
    assert diff_fields({"t": "new"}, {"t": "edited"}, base) == ([], ["t"], [])


def test_a_newer_base_in_the_item_outvotes_an_older_state():
    # CI (no state) sent "mid" at generation 3 since this machine's state recorded "old" at 2;
    # a person then edited the item: kept, not overwritten with the state's idea of the base
    remote = carried({"t": value_digest("mid")[:8]}, generation=3)
    base = item_base(remote, state(2, t=("old", "edited")))
    assert base.state is None and base.generation == 3
    assert diff_fields({"t": "mid"}, {"t": "edited"}, base) == ([], [], ["t"])


def test_the_issue_from_the_report_a_stale_laptop_never_reverts_a_pm_edit():
    # CI set priority blocker (generation 2); the PM set it back to critical; the laptop's
    # state last saw critical (generation 1): the PM's edit is kept
    remote = carried({"p": value_digest("blocker")[:8]}, generation=2)
    laptop = state(1, p=("critical", "critical"))
    assert diff_fields({"p": "blocker"}, {"p": "critical"}, item_base(remote, laptop)) == ([], [], ["p"])


def test_a_state_as_new_as_the_base_adds_what_the_tracker_answered():
    remote = carried({"t": value_digest("a ")[:8]}, generation=4)
    base = item_base(remote, state(4, t=("a ", "a")))
    assert base.state is not None
    assert diff_fields({"t": "a "}, {"t": "a"}, base) == ([], [], [])


def test_a_state_of_another_issue_is_no_base_for_this_one():
    remote = RemoteItem("US-1", "2", base={"t": value_digest("x")[:8]})
    assert item_base(remote, state(9, t=("y", "y"))).state is None


def test_equal_values_need_nothing_whatever_the_state():
    assert diff_fields({"title": "a"}, {"title": "a"}, on_state(title=("x", "y"))) == ([], [], [])


def test_changed_in_file_only_is_an_update():
    assert diff_fields({"t": "new"}, {"t": "old"}, on_state(t=("old", "old"))) == (["t"], [], [])


def test_changed_in_both_is_a_conflict():
    assert diff_fields({"t": "file"}, {"t": "tracker"}, on_state(t=("old", "old"))) == ([], ["t"], [])


def test_changed_in_tracker_only_is_kept():
    assert diff_fields({"t": "old"}, {"t": "tracker"}, on_state(t=("old", "old"))) == ([], [], ["t"])


def test_tracker_normalisation_is_not_a_change():
    # we sent "a " and the tracker stored "a": nothing to do as long as neither side moves
    assert diff_fields({"t": "a "}, {"t": "a"}, on_state(t=("a ", "a"))) == ([], [], [])


def _item(**story_fields) -> Item:
    story = Story("US-1", "Title", **story_fields)
    return Item("story", "US-1", "Title", story, Spec(Path("x.md")))


def test_plan_item_create_update_unchanged_and_extras():
    item = _item(comments=[Comment("hello", "alice", "2025-01-01")])
    rendered = Rendered({"title": "US-1: Title"}, warnings=["w"])
    created = plan_item(item, rendered, None, ItemBase(), {})
    assert created.action == "create" and created.fields == ["title"] and len(created.extras) == 1
    assert created.warnings == ["w"]
    remote = RemoteItem("US-1", "7", fields={"title": "US-1: Title"})
    extra = item.extras()[0]
    same = plan_item(item, rendered, remote, ItemBase(), {extra.ident: extra.digest})
    assert same.action == "unchanged" and same.extras == []
    pending = plan_item(item, rendered, remote, ItemBase(), {})
    assert pending.action == "update" and pending.describe_fields() == ["comment"]


def test_plan_item_conflict_holds_back_extras_unless_forced():
    item = _item(comments=[Comment("hello")])
    rendered = Rendered({"title": "US-1: File"})
    remote = RemoteItem("US-1", "7", fields={"title": "US-1: Tracker"})
    st = ItemState("US-1", "7", fields={"title": (value_digest("US-1: Old"), value_digest("US-1: Old"))})
    conflict = plan_item(item, rendered, remote, item_base(remote, st), {})
    assert conflict.action == "conflict" and conflict.extras == []
    forced = plan_item(item, rendered, remote, item_base(remote, st), {}, force=True)
    assert forced.action == "update" and forced.fields == ["title"]


def test_a_field_without_a_base_does_not_stop_the_fields_after_it():
    update, conflict, kept = diff_fields({"a": "new", "b": "new", "c": "same"},
                                         {"a": "old", "b": "old", "c": "same"},
                                         on_state(b=("old", "old")))
    assert (update, conflict, kept) == (["b"], ["a"], [])


def test_a_pull_recorded_at_the_items_generation_is_the_base_of_that_field():
    # spectryn pull brought the tracker's "resolved" into the spec and recorded it in the state
    # at the item's generation; the issue's base still says "open": a later spec edit back to
    # "open" is an update
    remote = carried({"s": value_digest("open")[:8]}, generation=5)
    pulled = item_base(remote, state(5, s=("resolved", "resolved")))
    assert diff_fields({"s": "open"}, {"s": "resolved"}, pulled) == (["s"], [], [])
    assert diff_fields({"s": "resolved"}, {"s": "resolved"}, pulled) == ([], [], [])


def test_a_title_that_lost_its_key_is_sent_back_whatever_the_base_says():
    item = _item()
    rendered = Rendered({"title": "US-1: Title", "content": "c"})
    remote = RemoteItem("", "7", fields={"title": "Title (US 1)", "content": "c"},
                        base={"title": value_digest("US-1: Title")[:8], "content": value_digest("c")[:8]})
    kept = plan_item(item, rendered, remote, item_base(remote, None), {})
    assert kept.action == "unchanged" and kept.kept == ["title"]
    restored = plan_item(item, rendered, remote, item_base(remote, None), {}, title_lost_key=True)
    assert restored.action == "update" and restored.fields == ["title"] and restored.kept == []
