"""The provenance rules (spectryn_core/provenance.py): which tracker items are a spec's, and the
merge base each one carries - unit tests of the module, without a sync around it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from spectryn_core.items import (
    Account,
    Extra,
    Item,
    Provenance,
    RemoteItem,
    base_digest,
    comment_tag,
    extra_tag,
)
from spectryn_core.model import Comment, Spec, Story, Subtask
from spectryn_core.provenance import (
    GENERATION,
    KEY,
    SPEC,
    ItemBase,
    Trust,
    extras_in_base,
    flatten,
    identify,
    item_base,
    new_base,
    normalise,
    origin_path,
    spec_origin,
    untouched,
)
from spectryn_core.state import ItemState

ORIGIN = "docs/a.md"
BOT = Account("{bot}", "ci-bot", ("557058:bot",))
EVE = Account("{eve}", "Eve")


def item(key: str, kind: str = "story", origin: str = ORIGIN, **story: object) -> Item:
    source = Subtask(int(key.rsplit(".", 1)[1]), "Sub") if kind == "subtask" else Story(key, "T", **story)
    parent = key.rsplit(".", 1)[0] if kind == "subtask" else None
    return Item(kind, key, "T", source, Spec(Path(origin)), parent=parent, origin=origin)  # type: ignore[arg-type]


def ours(number: int, key: str, spec: str = ORIGIN, generation: int = 1, *,
         reporter: Account | None = BOT, title_key: str | None = None) -> RemoteItem:
    """An issue spectryn made: provenance and a base."""
    return RemoteItem(key if title_key is None else title_key, str(number), f"u/{number}",
                      {"title": f"{key}: T"}, base={"title": base_digest(f"{key}: T")},
                      provenance=Provenance(spec, key, generation), reporter=reporter)


def by_hand(number: int, key: str, reporter: Account | None = EVE, base: dict[str, str] | None = None
            ) -> RemoteItem:
    return RemoteItem(key, str(number), f"u/{number}", {"title": f"{key}: T"}, base=base,
                      reporter=reporter)


SPEC_ITEMS = [item("US-001"), item("US-001.1", "subtask"), item("US-002")]


# --- where a spec file is ---------------------------------------------------------------------


def test_a_spec_file_is_named_by_its_path_in_its_repository(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    (repo / "docs" / "specs").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    spec = repo / "docs" / "specs" / "checkout.md"
    spec.write_text("x")
    monkeypatch.chdir(repo / "docs")
    assert spec_origin(Path("specs/checkout.md")) == "docs/specs/checkout.md"
    monkeypatch.chdir(tmp_path)
    assert spec_origin(spec) == "docs/specs/checkout.md"  # the same from anywhere
    loose = tmp_path / "loose" / "EPIC.md"
    loose.parent.mkdir()
    loose.write_text("x")
    assert spec_origin(loose) == "EPIC.md"  # outside a git work tree: the file's name


def test_a_provenance_path_never_leaves_the_repository(tmp_path: Path) -> None:
    assert origin_path(tmp_path, "docs/a.md") == (tmp_path / "docs" / "a.md").resolve()
    for bad in ("/etc/passwd.md", "../up.md", "docs/../../x.md", "notes.txt", ""):
        assert origin_path(tmp_path, bad) is None, bad
    (tmp_path / "link.md").symlink_to("/etc/hostname")
    assert origin_path(tmp_path, "link.md") is None


# --- the record --------------------------------------------------------------------------------


def test_a_record_kept_inside_the_base_dict_becomes_typed_provenance() -> None:
    remote = RemoteItem("US-1", "4", base={SPEC: "a.md", KEY: "US-1", GENERATION: "7", "title": "ab"})
    normalise(remote)
    assert remote.provenance == Provenance("a.md", "US-1", 7) and remote.base == {"title": "ab"}
    odd = normalise(RemoteItem("US-1", "4", base={SPEC: "a.md", KEY: "US-1", GENERATION: "x"}))
    assert odd.provenance == Provenance("a.md", "US-1", 0)


def test_new_base_records_provenance_and_a_generation_one_above_the_newest() -> None:
    one = item("US-001")
    rendered = {"title": "US-001: T", "state": "open"}
    created = new_base(one, rendered, None, ItemBase(), set(rendered), {})
    assert created[SPEC] == ORIGIN and created[KEY] == "US-001" and created[GENERATION] == "1"
    remote = ours(5, "US-001", generation=4)
    state = ItemState("US-001", "5", fields={}, generation=6)
    written = new_base(one, rendered, remote, item_base(remote, state), {"state"}, {})
    assert written[GENERATION] == "7"
    assert written["title"] == base_digest("US-001: T") and written["state"] == base_digest("open")


def test_extras_tags_hold_only_for_the_issue_they_were_confirmed_in() -> None:
    one = item("US-001", comments=[Comment("hello", "alice")])
    extra = one.extras()[0]
    base = new_base(one, {}, ours(5, "US-001"), ItemBase(), set(), {extra.ident: extra.digest})
    assert base["extras"] == comment_tag(extra, "5")
    confirmed = RemoteItem("US-001", "5", base=base, provenance=Provenance(ORIGIN, "US-001", 2))
    assert extras_in_base(one, confirmed) == {extra.ident: extra.digest}
    copied = RemoteItem("US-001", "9", base=base, provenance=Provenance(ORIGIN, "US-001", 2))
    assert extras_in_base(one, copied) == {}  # a base line pasted into another issue
    # an issue of an earlier version (no provenance) keeps the tags that version wrote (a
    # comment's tag then named its text's digest)
    old = Extra("comment", *extra.legacy, extra.payload)
    legacy = RemoteItem("US-001", "5", base={"extras": extra_tag(old)})
    assert extras_in_base(one, legacy) == {extra.ident: extra.digest}
    assert extras_in_base(one, RemoteItem("US-001", "5", base={"extras": extra_tag(old)},
                                          provenance=Provenance(ORIGIN, "US-001", 1))) == {}
    # ... and the bound tag of the version with provenance but no comment positions
    bound = RemoteItem("US-001", "5", base={"extras": extra_tag(old, "5")},
                       provenance=Provenance(ORIGIN, "US-001", 1))
    assert extras_in_base(one, bound) == {extra.ident: extra.digest}


def test_untouched_ignores_the_record_and_needs_a_field_digest() -> None:
    remote = ours(5, "US-001")
    assert untouched(remote)
    remote.fields["title"] = "US-001: edited"
    assert not untouched(remote)
    assert not untouched(RemoteItem("US-1", "1", base={"extras": "abc"}))


# --- who is trusted ----------------------------------------------------------------------------


def test_without_trusted_accounts_the_mark_decides() -> None:
    trust = Trust()
    assert trust.judge(ours(1, "US-001", reporter=EVE)) == (True, "")
    assert trust.judge(by_hand(2, "US-001", base={"title": "1a2b3c4d"})) == (True, "")  # earlier version
    assert trust.judge(by_hand(3, "US-001")) == (False, "it has no spectryn mark")
    assert trust.judge(by_hand(4, "US-001", base={})) == (False, "it has no spectryn mark")
    assert Trust(known={"3": "US-001"}).judge(by_hand(3, "US-001"))[0]  # the state synced it


def test_with_trusted_accounts_the_maker_decides() -> None:
    trust = Trust(trusted=["557058:bot"])
    assert trust.judge(ours(1, "US-001"))[0]
    copied, why = trust.judge(ours(2, "US-001", reporter=EVE))
    assert not copied and why == ('made by {eve} ("Eve"), an account sync.trusted_accounts does not '
                                  "list - add {eve} there if you trust that account")
    # from before marks, made by the sync's account: ours; the same by hand by anyone else: not
    assert trust.judge(by_hand(3, "US-001", reporter=BOT))[0]
    assert ", and it has no spectryn mark - add {eve}" in trust.judge(by_hand(4, "US-001"))[1]
    # the account a create of this sync answered with is trusted too
    assert Trust(trusted=["{x}"], accounts=[EVE]).judge(ours(5, "US-001", reporter=EVE))[0]
    # a tracker that names no maker: the mark decides
    assert trust.judge(ours(6, "US-001", reporter=None))[0]


def test_trusted_accounts_match_stable_identifiers_never_a_name() -> None:
    """A nickname or display name is the owner's choice (issue 25): an impostor calling itself
    "ci-bot" matches nothing; the uuid and the account id match."""
    impostor = Account("{imp}", "ci-bot")
    for ref in ("{bot}", "557058:bot", " {bot} "):
        assert Trust(trusted=[ref]).judge(ours(1, "US-001", reporter=BOT))[0], ref
        assert not Trust(trusted=[ref]).judge(ours(2, "US-001", reporter=impostor))[0], ref
    for name in ("ci-bot", "CI bot", ""):
        assert not Trust(trusted=[name]).judge(ours(3, "US-001", reporter=BOT))[0], name
    assert "{imp}" in Trust(trusted=["{bot}"]).judge(ours(4, "US-001", reporter=impostor))[1]


def test_a_plugin_that_keeps_no_base_is_identified_by_the_key_in_the_title() -> None:
    assert Trust(marks=False).judge(by_hand(3, "US-001", reporter=None))[0]


# --- which items are ours ----------------------------------------------------------------------


def test_a_hand_made_issue_with_a_lower_number_is_a_claim_never_the_issue() -> None:
    found = identify([by_hand(1, "US-001"), ours(2, "US-001"), ours(3, "US-002")], SPEC_ITEMS,
                     ORIGIN, Trust())
    assert found.issues["US-001"].id == "2" and "US-001" not in found.twins
    (claim,) = found.claims
    assert claim.key == "US-001" and claim.remote.id == "1"
    assert claim.message() == ("#1 u/1 claims US-001 but was not made by spectryn (it has no "
                               "spectryn mark); left alone - --adopt US-001 takes it over")
    assert found.held == {}


def test_a_key_only_a_claim_carries_is_held_not_created_twice() -> None:
    found = identify([by_hand(6, "US-002")], SPEC_ITEMS, ORIGIN, Trust())
    assert "US-002" not in found.issues and found.held["US-002"].remote.id == "6"


def test_adopt_takes_a_claim_over_and_is_a_no_op_for_an_issue_of_ours() -> None:
    found = identify([by_hand(6, "US-002"), ours(7, "US-001")], SPEC_ITEMS, ORIGIN,
                     Trust(adopt={"US-002", "US-001"}))
    assert found.issues["US-002"].id == "6" and found.adopted == {"US-002"} and found.held == {}
    assert found.claims == []
    assert any("--adopt US-001: #7 is already" in note for note in found.notes)


def test_twins_keep_the_issue_with_this_specs_provenance_then_the_lowest_number() -> None:
    legacy = by_hand(1, "US-001", base={"title": "1a2b3c4d"})  # an earlier version's, no provenance
    found = identify([legacy, ours(4, "US-001", generation=1), ours(3, "US-001", generation=5)],
                     SPEC_ITEMS, ORIGIN, Trust())
    assert found.issues["US-001"].id == "3"
    assert [t.id for t in found.twins["US-001"]] == ["4", "1"]


def test_a_retitled_issue_keeps_its_identity_by_provenance_or_by_the_state() -> None:
    retitled = ours(5, "US-002", title_key="")
    old = by_hand(6, "", base={"title": "1a2b3c4d"})  # an earlier version's, title without key
    found = identify([retitled, old], SPEC_ITEMS, ORIGIN, Trust(known={"6": "US-001"}))
    assert found.issues["US-002"].id == "5" and found.issues["US-001"].id == "6"


def test_a_copy_of_our_provenance_by_an_untrusted_account_is_a_claim() -> None:
    copy = ours(2, "US-002", reporter=EVE, title_key="US-002")
    found = identify([copy, ours(3, "US-002")], SPEC_ITEMS, ORIGIN, Trust(trusted=["{bot}"]))
    assert found.issues["US-002"].id == "3" and [c.remote.id for c in found.claims] == ["2"]


def test_an_issue_of_another_spec_file_that_still_defines_the_key_is_a_clash() -> None:
    theirs = ours(1, "US-001", spec="docs/b.md")
    found = identify([theirs], SPEC_ITEMS, ORIGIN, Trust(), still_defines=lambda s, k: True)
    assert "US-001" not in found.issues
    (clash,) = found.clashes
    assert (clash.key, clash.remote.id, clash.other) == ("US-001", "1", "docs/b.md")
    moved = identify([theirs], SPEC_ITEMS, ORIGIN, Trust(), still_defines=lambda s, k: False)
    assert moved.issues["US-001"].id == "1" and moved.clashes == []
    assert "docs/b.md, which no longer defines it" in moved.notes[0]
    adopted = identify([theirs], SPEC_ITEMS, ORIGIN, Trust(adopt={"US-001"}))
    assert adopted.issues["US-001"].id == "1" and adopted.clashes == []


def test_orphans_are_found_by_provenance_without_state() -> None:
    listing = [ours(1, "US-001"), ours(8, "US-009"), ours(9, "US-001.4"),
               ours(10, "US-007", spec="docs/b.md"), by_hand(11, "US-001.5"),
               by_hand(12, "US-001.6", base={"title": "1a2b3c4d"})]
    found = identify(listing, SPEC_ITEMS, ORIGIN, Trust())
    # this spec's removed story and subtask; an earlier version's subtask of a story of this
    # spec; never another file's issue, nor a hand-made one
    assert sorted(found.orphans) == ["US-001.4", "US-001.6", "US-009"]
    with_state = identify([by_hand(13, "US-020", base={"t": "x"})], SPEC_ITEMS, ORIGIN,
                          Trust(known={"13": "US-020"}))
    assert sorted(with_state.orphans) == ["US-020"]


def test_a_line_copied_from_another_issue_describes_that_issue_not_this_one() -> None:
    """A person pasted US-001's raw text (hidden line included) into US-002's issue."""
    pasted = ours(2, "US-001", title_key="US-002")
    found = identify([ours(1, "US-001"), pasted], SPEC_ITEMS, ORIGIN, Trust())
    assert found.issues["US-001"].id == "1" and "US-001" not in found.twins
    assert found.held["US-002"].remote.id == "2"
    assert found.held["US-002"].why == "its hidden spectryn line names US-001: copied from another issue"
    assert item_base(pasted, None).missing and not untouched(pasted)
    # the state knows the issue: it stays US-002's, with the state as its only base
    state = ItemState("US-002", "2", fields={"title": ("a", "a")})
    known = identify([pasted], SPEC_ITEMS, ORIGIN, Trust(known={"2": "US-002"}))
    assert known.issues["US-002"].id == "2"
    assert item_base(pasted, state).state is state and item_base(pasted, state).carried is None


def test_flatten_takes_grouped_twins_apart_once_each() -> None:
    first = ours(1, "US-001")
    first.twins = [ours(2, "US-001"), ours(1, "US-001")]
    assert [r.id for r in flatten([first])] == ["1", "2"]


# --- the merge base ---------------------------------------------------------------------------


@pytest.mark.parametrize(("state_generation", "usable"), [(0, False), (2, False), (3, True), (4, True)])
def test_the_state_counts_only_when_as_new_as_the_carried_base(state_generation, usable) -> None:
    remote = ours(5, "US-001", generation=3)
    state = ItemState("US-001", "5", fields={"title": ("a", "a")}, generation=state_generation)
    base = item_base(remote, state)
    assert (base.state is not None) == usable
    assert base.generation == max(3, state_generation if usable else 0)


def test_items_of_earlier_versions_and_earlier_states_keep_todays_rules() -> None:
    remote = RemoteItem("US-001", "5", base={"title": "1a2b3c4d"})  # no provenance: generation 0
    state = ItemState("US-001", "5", fields={"title": ("a", "a")})  # schema 1 row: generation 0
    assert item_base(remote, state).state is state
