"""The pull's decisions: which tracker values come back, in which spec words."""

from __future__ import annotations

from pathlib import Path

from spectryn_core.config import core_sections, load_config
from spectryn_core.items import Item, RemoteItem, value_digest
from spectryn_core.model import Spec, Story
from spectryn_core.plugins import load_plugins
from spectryn_core.pull import PullConflict, _compare, inverse
from spectryn_core.state import ItemState


def config(tmp_path: Path, **cli: object):
    return load_config(core_sections(), cli=cli, cwd=tmp_path, env={}, user_config_dir=tmp_path)


def test_inverse_of_the_default_and_a_configured_mapping(tmp_path: Path) -> None:
    mappers = load_plugins().mapper_hooks("default")
    plain = config(tmp_path)
    assert inverse(mappers, "status", "resolved", "bitbucket", plain) == "done"
    assert inverse(mappers, "status", "on hold", "bitbucket", plain) == "blocked"
    assert inverse(mappers, "status", "open", "bitbucket", plain) == "open"
    # the spec's own word is kept when it already maps to the tracker's value
    assert inverse(mappers, "status", "open", "bitbucket", plain, current="in progress") == "in progress"
    assert inverse(mappers, "status", "wontfix", "bitbucket", plain) is None
    assert inverse(mappers, "priority", "blocker", "bitbucket", plain) == "critical"
    custom = config(tmp_path, **{"sync.status_mapping": {"shipped": "closed", "done": "resolved"}})
    assert inverse(mappers, "status", "closed", "bitbucket", custom) == "closed"
    assert inverse(mappers, "status", "resolved", "bitbucket", custom) == "done"


def _item() -> Item:
    story = Story("US-001", "Login")
    return Item("story", "US-001", "Login", story, Spec(Path("EPIC.md")))


def test_only_a_tracker_side_change_is_pulled() -> None:
    d = lambda v: value_digest(v)  # noqa: E731
    remote = RemoteItem("US-001", "1", fields={"state": "resolved"})
    synced = ItemState("US-001", "1", fields={"state": (d("open"), d("open"))})
    assert _compare(_item(), "state", "open", remote, synced) == "resolved"
    assert _compare(_item(), "state", "resolved", remote, synced) is None  # already equal
    spec_moved = ItemState("US-001", "1", fields={"state": (d("on hold"), d("resolved"))})
    assert _compare(_item(), "state", "open", remote, spec_moved) is None  # the sync sends it
    both = ItemState("US-001", "1", fields={"state": (d("on hold"), d("on hold"))})
    conflict = _compare(_item(), "state", "open", remote, both)
    assert isinstance(conflict, PullConflict) and conflict.field == "status"
    assert isinstance(_compare(_item(), "state", "open", remote, None), PullConflict)
