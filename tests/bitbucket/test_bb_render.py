"""Rendering: deterministic, round-trips through what Bitbucket returns, warns about missing names."""

from __future__ import annotations

import pytest
from bb_helpers import issue_json, items_of, sample_spec

from spectryn_bitbucket.render import (
    RenderContext,
    issue_body,
    parse_title,
    remote_fields,
    render,
    render_comment,
)
from spectryn_core.items import RemoteItem
from spectryn_core.model import Comment


def ctx(**kw) -> RenderContext:
    base = dict(full_name="acme/backend-api", milestones={"Q1 2024"}, components={"Frontend"},
                milestones_complete=True, components_complete=True, versions_complete=True)
    base.update(kw)
    return RenderContext(**base)


def by_key(items):
    return {i.key: i for i in items}


def test_parse_title() -> None:
    assert parse_title("US-001: Login") == ("US-001", "Login")
    assert parse_title("US-001.2: Form") == ("US-001.2", "Form")
    assert parse_title("PROJ2-789:Thing") == ("PROJ2-789", "Thing")
    assert parse_title("Login without key") is None
    assert parse_title("us-001: lower case") is None


def test_story_content_has_every_part_and_refs() -> None:
    items = by_key(items_of(sample_spec()))
    refs = {"US-001.1": RemoteItem("US-001.1", "13")}
    fields = render(items["US-001"], refs, ctx()).fields
    content = fields["content"]
    assert fields["title"] == "US-001: Login Feature"
    assert "## Acceptance Criteria\n\n- \u2610 User can enter email\n- \u2611 Session expires" in content
    assert "[ ]" not in content and "[x]" not in content  # Bitbucket shows task-list brackets literally
    assert "## Technical Notes\n\nUse JWT." in content
    assert "**Story Points:** 5" in content
    # subtasks by key even when their ids are known: the story never waits for its children
    assert "- US-001.1: Login form\n- US-001.2: Validation" in content
    assert "- pull request #456" in content
    assert content.endswith("Labels: story, frontend")
    assert fields["milestone"] == "Q1 2024" and fields["component"] == "Frontend"
    assert fields["state"] == "open" and fields["priority"] == "major" and fields["kind"] == "enhancement"


def test_subtask_names_its_parent_and_inherits_the_milestone() -> None:
    items = by_key(items_of(sample_spec()))
    fields = render(items["US-001.1"], {"US-001": RemoteItem("US-001", "12")}, ctx()).fields
    assert "Parent: #12 US-001" in fields["content"]
    assert fields["content"].endswith("Labels: subtask")
    assert fields["kind"] == "task" and fields["milestone"] == "Q1 2024"
    assert "state" not in fields  # the spec says nothing: a state set in Bitbucket is kept


def test_render_is_deterministic() -> None:
    spec = sample_spec()
    first = [render(i, {}, ctx()) for i in items_of(spec)]
    second = [render(i, {}, ctx()) for i in items_of(spec)]
    assert first == second


def test_round_trip_compares_equal() -> None:
    refs = {"US-001": RemoteItem("US-001", "12"), "US-001.1": RemoteItem("US-001.1", "13")}
    for item in items_of(sample_spec()):
        rendered = render(item, refs, ctx())
        if rendered.skip:
            continue
        body = issue_body(rendered.fields)
        # What Bitbucket returns: the body's values plus its own, content with CRLF and a trailing newline.
        returned = issue_json(42, {**rendered.fields, "content": body["content"]["raw"].replace("\n", "\r\n") + "\n"})
        back = remote_fields(returned)
        assert {k: back[k] for k in rendered.fields} == rendered.fields, item.key


def test_epic_is_skipped_in_milestone_mode_and_an_issue_in_issue_mode() -> None:
    items = by_key(items_of(sample_spec()))
    assert render(items["EPIC-001"], {}, ctx()).skip
    fields = render(items["EPIC-001"], {"US-001": RemoteItem("US-001", "12")}, ctx(epic_mode="issue")).fields
    assert fields["title"] == "EPIC-001: User Authentication"
    assert "- US-001: Login Feature\n- US-002: Logout" in fields["content"]
    assert fields["content"].endswith("Labels: epic")
    story = render(items["US-002"], {"EPIC-001": RemoteItem("EPIC-001", "5")}, ctx(epic_mode="issue")).fields
    assert "Epic: #5 EPIC-001" in story["content"]


def test_missing_milestone_and_component_warn_with_the_fix() -> None:
    items = by_key(items_of(sample_spec(milestone="Q2 2024")))
    rendered = render(items["US-001"], {}, ctx(components=set()))
    assert "milestone" not in rendered.fields and "component" not in rendered.fields  # kept, not cleared
    text = "\n".join(rendered.warnings)
    assert ("milestone 'Q2 2024' does not exist in acme/backend-api; create it in Repository settings "
            "-> Issue tracker -> Milestones, then sync again") in text
    assert "component 'Frontend' does not exist" in text and "-> Components" in text


def test_unknown_names_are_not_reported_before_the_list_is_read() -> None:
    items = by_key(items_of(sample_spec(milestone="Q2 2024")))
    rendered = render(items["US-002"], {}, ctx(milestones=set(), milestones_complete=False))
    assert rendered.fields["milestone"] == "Q2 2024" and not rendered.warnings


def test_issue_body_shapes() -> None:
    body = issue_body({"title": "T", "content": "C", "milestone": "M", "component": None})
    assert body == {"title": "T", "content": {"raw": "C", "markup": "markdown"},
                    "milestone": {"name": "M"}, "component": None}


def test_comment_rendering() -> None:
    assert render_comment(Comment("Looks good\n", "alice", "2025-01-15")) == "**@alice** (2025-01-15):\n\nLooks good"
    assert render_comment(Comment("Plain")) == "Plain"


@pytest.mark.parametrize("key", ["US-001", "MY_PROJ-7", "A1-2", "X_Y_Z-10"])
def test_every_key_the_parser_accepts_is_found_again_in_a_rendered_title(tmp_path, key):
    """The parser and the tracker share one key pattern, or a sync duplicates the issue."""
    from spectryn_bitbucket.render import parse_title
    from spectryn_markdown.parser import parse_text

    spec = parse_text(f"### {key}: Login\n\n#### Subtasks\n| # | Subtask |\n|---|---|\n| 1 | Form |\n",
                      tmp_path / "s.md")
    assert spec.errors == [] and spec.stories()[0].key == key
    story = spec.stories()[0]
    assert parse_title(f"{story.key}: {story.title}") == (key, "Login")
    assert parse_title(f"{story.subtasks[0].key}: Form") == (f"{key}.1", "Form")


#: US-001 of sample_spec() as spectryn 0.1.0 wrote it: description, criteria, notes, points,
#: subtasks, pull requests, labels (and before that with task-list brackets).
OLD_US1 = ("**As a** user\n**I want** to log in\n\n## Acceptance Criteria\n\n- \u2610 User can enter email\n"
           "- \u2611 Session expires\n\n## Technical Notes\n\nUse JWT.\n\n**Story Points:** 5\n\n## Subtasks\n\n"
           "- US-001.1: Login form\n- US-001.2: Validation\n\n## Pull Requests\n\n- pull request #456\n\n"
           "Labels: story, frontend")


@pytest.mark.parametrize("old", [OLD_US1, OLD_US1.replace("- \u2610 ", "- [ ] ").replace("- \u2611 ", "- [x] ")],
                         ids=["ballot boxes", "task list"])
def test_issues_in_an_earlier_layout_are_kept_not_rewritten(old: str) -> None:
    from spectryn_core.items import base_digest

    items = by_key(items_of(sample_spec()))
    new = render(items["US-001"], {}, ctx()).fields["content"]
    assert new != old
    held = {"US-001": RemoteItem("US-001", "12", fields={"content": old})}
    assert render(items["US-001"], held, ctx()).fields["content"] == old  # nothing to send
    # edited in Bitbucket since: the base still says the spec agreed with the old layout, so the
    # spec is unchanged (the person's edit is kept, no conflict)
    edited = {"US-001": RemoteItem("US-001", "12", fields={"content": old + "\nedited"},
                                   base={"content": base_digest(old)})}
    assert render(items["US-001"], edited, ctx()).fields["content"] == old
    # edited with no such base: the current layout (a real change is written in it)
    edited = {"US-001": RemoteItem("US-001", "12", fields={"content": old + "\nedited in Bitbucket"})}
    assert render(items["US-001"], edited, ctx()).fields["content"] == new
    same = {"US-001": RemoteItem("US-001", "12", fields={"content": new})}
    assert render(items["US-001"], same, ctx()).fields["content"] == new
    # the spec changed: the current layout, whatever the issue holds
    spec = sample_spec()
    spec.epics[0].stories[0].technical_notes = "Use sessions."
    changed = by_key(items_of(spec))["US-001"]
    assert render(changed, held, ctx()).fields["content"] == render(changed, {}, ctx()).fields["content"]


def test_base_line_round_trips_and_is_left_out_of_the_content() -> None:
    from spectryn_bitbucket.render import split_base, with_base

    base = {"title": "1a2b3c4d", "content": "0f0f0f0f", "extras": "abc123.def456"}
    raw = with_base("Some text\n\nLabels: story", base)
    assert raw.endswith("\n\n[//]: # (spectryn:1 t=1a2b3c4d c=0f0f0f0f x=abc123.def456)")
    back = remote_fields(issue_json(7, {"title": "US-1: T", "content": raw.replace("\n", "\r\n")}))
    assert back["content"] == "Some text\n\nLabels: story"
    assert split_base(raw) == ("Some text\n\nLabels: story", base)
    assert split_base("Some text") == ("Some text", None)
    # a damaged line is no base (and still not shown as content)
    assert split_base("Some text\n\n[//]: # (spectryn:1 t=XYZ!)") == ("Some text", None)


def test_old_child_lists_with_ids_read_as_the_current_form() -> None:
    old = ("Intro\n- #3 US-009.1: not a list of ours\n\n## Subtasks\n\n- #13 US-001.1: Login form\n"
           "- #14 US-001.2: Validation\n\nLabels: story")
    back = remote_fields(issue_json(7, {"title": "US-001: T", "content": old}))["content"]
    assert "- US-001.1: Login form\n- US-001.2: Validation" in back
    assert "- #3 US-009.1: not a list of ours" in back  # outside the child list: as written


# --- provenance in the base line (issue 25) ---------------------------------------------------


def test_provenance_comes_first_in_the_base_line_and_reads_back_typed() -> None:
    from spectryn_bitbucket.render import base_line, read_base, spec_marker
    from spectryn_core.items import Provenance

    record = {"spec": "docs/specs/check out (v2).md", "key": "US-001.2", "generation": "3",
              "title": "1a2b3c4d", "extras": "abc123"}
    line = base_line(record)
    assert line == ("[//]: # (spectryn:1 f=docs/specs/check%20out%20%28v2%29.md n=US-001.2 g=3 "
                    "t=1a2b3c4d x=abc123)")
    found = read_base(f"Text\n\n{line}")
    assert found.provenance == Provenance("docs/specs/check out (v2).md", "US-001.2", 3)
    assert found.base == {"title": "1a2b3c4d", "extras": "abc123"} and found.content == "Text"
    assert line.startswith("[//]: # (" + spec_marker("docs/specs/check out (v2).md"))


def test_names_a_reader_does_not_know_are_ignored_but_a_bad_known_value_is_no_base() -> None:
    from spectryn_bitbucket.render import read_base

    later = read_base("T\n\n[//]: # (spectryn:1 f=a.md n=US-1 g=2 r=0123abcd t=1a2b3c4d)")
    assert later.base == {"title": "1a2b3c4d"} and later.provenance is not None
    for bad in ("g=two", "n=us-1", "f=a b", "t=XYZ"):
        found = read_base(f"T\n\n[//]: # (spectryn:1 f=a.md n=US-1 {bad})")
        assert found.base is None and found.provenance is None and found.content == "T", bad


def test_an_old_base_line_has_no_provenance_and_an_empty_one_is_no_mark() -> None:
    from spectryn_bitbucket.render import read_base

    old = read_base("T\n\n[//]: # (spectryn:1 t=1a2b3c4d c=0f0f0f0f)")
    assert old.provenance is None and old.base == {"title": "1a2b3c4d", "content": "0f0f0f0f"}
    empty = read_base("T\n\n[//]: # (spectryn:1)")
    assert empty.base == {} and empty.provenance is None


def test_only_the_last_base_line_outside_code_fences_is_the_base() -> None:
    from spectryn_bitbucket.render import read_base

    raw = ("How the sync marks issues:\n\n```\n[//]: # (spectryn:1 f=x.md n=US-9 g=9 t=99999999)\n"
           "```\n\n~~~~ md\n[//]: # (spectryn:1 t=88888888)\n~~~\nstill code\n~~~~\n\n"
           "[//]: # (spectryn:1 f=a.md n=US-1 g=1 t=11111111)\n\nA person wrote after it.\n\n"
           "[//]: # (spectryn:1 f=a.md n=US-1 g=2 t=22222222)\n")
    found = read_base(raw)
    assert found.base == {"title": "22222222"} and found.provenance is not None
    assert found.provenance.generation == 2
    # the lines in code blocks, and the earlier base line, are the person's text
    assert "[//]: # (spectryn:1 f=x.md n=US-9 g=9 t=99999999)" in found.content
    assert "[//]: # (spectryn:1 t=88888888)" in found.content
    assert "[//]: # (spectryn:1 f=a.md n=US-1 g=1 t=11111111)" in found.content
    assert found.content.endswith("A person wrote after it.")
    inside = read_base("```\n[//]: # (spectryn:1 f=a.md n=US-1 g=1 t=11111111)\n```")
    assert inside.base is None and inside.provenance is None


def test_reembedding_the_base_changes_no_byte_of_a_persons_text() -> None:
    from spectryn_bitbucket.render import read_base, reembed

    person = ("A line with a hard break  \r\nnext line\r\n\r\n```\r\n"
              "[//]: # (spectryn:1 t=99999999)\r\n```\r\n\t tabbed   \r\n")
    raw = person + "\r\n[//]: # (spectryn:1 f=a.md n=US-1 g=1 t=11111111)\r\n"
    again = reembed(raw, {"spec": "a.md", "key": "US-1", "generation": "2", "title": "22222222"})
    assert again == person + "\r\n[//]: # (spectryn:1 f=a.md n=US-1 g=2 t=22222222)\r\n"
    assert read_base(again).provenance.generation == 2
    # no base line yet (an issue of an early version): the line is added after a blank line
    assert reembed("Text  ", {"key": "US-1", "spec": "a.md"}) == \
        "Text  \n\n[//]: # (spectryn:1 f=a.md n=US-1)"
    assert reembed("Text\n", {"spec": "a.md", "key": "US-1"}).startswith("Text\n\n[//]")
    assert reembed("", {"spec": "a.md", "key": "US-1"}) == "[//]: # (spectryn:1 f=a.md n=US-1)"


def test_a_paragraph_written_below_the_note_is_the_persons_and_the_note_stays_single() -> None:
    from spectryn_bitbucket.render import provenance_note, read_base, reembed

    note = provenance_note("EPIC.md", None)
    line = "[//]: # (spectryn:1 f=EPIC.md n=US-1 g=1 t=11111111)"
    below = f"Story text\n\n{note}\nPM note: Apple Pay too.\n\n{line}"
    after_base = f"Story text\n\n{note}\n\n{line}\n\nPM note: Apple Pay too."
    assert read_base(below).content == "Story text\n\nPM note: Apple Pay too."
    assert read_base(after_base).content == "Story text\n\nPM note: Apple Pay too."
    again = reembed(below, {"spec": "EPIC.md", "key": "US-1", "generation": "2"}, note)
    assert again.count(note) == 1
    assert again == (f"Story text\n\nPM note: Apple Pay too.\n\n{note}\n\n"
                     "[//]: # (spectryn:1 f=EPIC.md n=US-1 g=2)")
    # the note in its usual place: nothing but the base line changes
    usual = f"Story text\n\n{note}\n\n{line}"
    assert reembed(usual, {"spec": "EPIC.md", "key": "US-1", "generation": "1", "title": "11111111"},
                   note) == usual


def test_an_issue_object_gives_provenance_reporter_and_its_raw_content() -> None:
    from spectryn_bitbucket.render import remote_item

    raw = "Body  \n\n[//]: # (spectryn:1 f=docs/a.md n=US-002 g=4 t=1a2b3c4d)"
    issue = issue_json(9, {"title": "Logout (US 002)", "content": raw})
    issue["reporter"] = {"uuid": "{u-1}", "account_id": "557058:1", "nickname": "ci-bot",
                         "display_name": "CI bot"}
    remote = remote_item(issue)
    assert remote.key == "" and remote.provenance.key == "US-002"  # the title lost the key
    assert remote.native == raw and remote.fields["content"] == "Body"
    assert remote.reporter.id == "{u-1}" and remote.reporter.matches("{u-1}")
    assert remote.reporter.matches("557058:1") and not remote.reporter.matches("CI bot")
    # the nickname is only a label: anyone may choose it (issue 25)
    assert remote.reporter.name == "ci-bot" and not remote.reporter.matches("ci-bot")
    assert str(remote.reporter) == '{u-1} ("ci-bot")'



def test_only_content_spectryn_wrote_byte_for_byte_and_still_agreed_is_written_anew() -> None:
    """A base-only write may add issue ids to spectryn's own lines - never touch a person's text."""
    from spectryn_bitbucket.render import remote_item, spectryns_own, with_base
    from spectryn_core.items import base_digest

    text = "Intro\n\n## Subtasks\n\n- US-001.1: Form"
    base = {"spec": "a.md", "key": "US-001", "generation": "1", "content": base_digest(text)}
    ours = remote_item(issue_json(7, {"title": "US-001: T", "content": with_base(text, base, "*Managed in `a.md` - edit the spec; changes here are kept until the spec changes the same field.*")}))
    assert spectryns_own(ours)
    hard_break = remote_item(issue_json(7, {"title": "US-001: T", "content": with_base(text, base).replace("Intro", "Intro  ")}))
    assert hard_break.fields["content"] == text and not spectryns_own(hard_break)  # a person's <br>
    edited = remote_item(issue_json(7, {"title": "US-001: T", "content": with_base(text + "\n\nPM", base)}))
    assert not spectryns_own(edited)  # a kept edit: its digest is not the base's
    crlf = remote_item(issue_json(7, {"title": "US-001: T", "content": with_base(text, base).replace("\n", "\r\n")}))
    assert not spectryns_own(crlf)
