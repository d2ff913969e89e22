"""What a person sees in Bitbucket (issue 27): spec -> spectryn -> sandbox -> ``content.html``.

The sandbox renders issue text with Python-Markdown, HTML escaped, as Bitbucket Cloud does. For
every story of examples/EPIC.md, the format guide's reference spec and a spec of the constructs
teams write (two-space nesting, nested criteria, checklists in other sections, lists right under a
paragraph, ordered lists written ``1)``), the issue's HTML is compared with the spec's own text as
CommonMark renders it: sections in the order written under their headings, each section's blocks
(lists nested as written, task items as ballot boxes with their own state, tables, code, quotes),
the structured parts as spectryn lays them out.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from spectryn_markdown.parser import parse_file
from tests.support.html_structure import blocks, commonmark

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "examples/EPIC.md": ROOT / "examples" / "EPIC.md",
    "format reference": ROOT / "tests" / "data" / "specs" / "format_reference.md",
    "constructs": ROOT / "tests" / "data" / "render" / "constructs.md",
}
#: Sections whose content is sent apart from the issue text (comments, uploads).
APART = ("comments", "attachments")


def _section_sources(text: str, story: Any, end: int) -> list[tuple[Any, str]]:
    """Each section of ``story`` with its markdown as written (without its heading line)."""
    lines = text.split("\n")
    found = []
    sections = story.sections
    for number, section in enumerate(sections):
        first = section.line if section.title else story.line  # after the heading line
        last = sections[number + 1].line - 1 if number + 1 < len(sections) else end
        body = "\n".join(lines[first:last])
        body = re.sub(r"\n-{3,}\s*$", "", body.rstrip())  # a story separator
        found.append((section, body))
    return found


def _expected(text: str, spec: Any, story: Any, end: int) -> list[tuple[str, list[Any]]]:
    """(heading, blocks) in order, as the issue must show them ("" for the description)."""
    subtask_lines = [("ul", [(f"{sub.key}: {sub.title}", []) for sub in story.subtasks])]
    parts: list[tuple[str, list[Any]]] = [("", [])]
    shown: set[str] = set()
    for section, source in _section_sources(text, story, end):
        seen = commonmark(source)
        if section.kind == "description":
            if section.title == "":  # the metadata table is not shown as a table
                seen = [b for b in seen if b[0] != "table"]
            parts[0][1].extend(seen)
            continue
        structured: list[Any] = []
        if section.kind == "subtasks":
            structured = subtask_lines if section.kind not in shown else []
            seen = [b for b in seen if b[0] not in ("table", "ul", "ol")]
        elif section.kind == "commits":
            structured = [("ul", [(f"{c.sha}{' ' + c.message if c.message else ''}", [])
                                  for c in story.commits])] if story.commits else []
            seen = [b for b in seen if b[0] not in ("table", "ul", "ol")]
        elif section.kind == "criteria":
            # criteria are a checklist: a numbered one shows as bullets, nested lists as written
            seen = [("ul", b[1]) if b[0] == "ol" else b for b in seen]
        elif section.kind in APART:
            seen = commonmark(section.text) if section.text else []
        if section.kind in shown:
            structured = []
        shown.add(section.kind)
        if structured or seen:
            parts.append((section.title, structured + seen))
    return parts


def _shown(html: str) -> list[tuple[str, list[Any]]]:
    """The issue's HTML split at its ``h2`` headings."""
    parts: list[tuple[str, list[Any]]] = [("", [])]
    for block in blocks(html):
        if block[0] == "h2":
            parts.append((block[1], []))
        else:
            parts[-1][1].append(block)
    return parts


def _strip_footer(parts: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """Drop spectryn's own lines: the pull-request list, points, assignee, epic, labels."""
    if parts and parts[-1][0] == "Pull Requests":
        parts = parts[:-1] + [("", parts[-1][1][1:])]
    footer = re.compile(r"^(?:Story Points: |Assignee: |Epic: |Labels: |Managed in )")
    last_title, last_blocks = parts[-1]
    kept = [b for b in last_blocks if not (b[0] == "p" and footer.match(b[1]))]
    parts = parts[:-1] + ([(last_title, kept)] if kept or last_title else [])
    return [(title, found) for title, found in parts if title or found]


@pytest.mark.parametrize("name", list(SPECS))
def test_every_story_looks_in_bitbucket_as_it_does_in_the_spec(world, name: str) -> None:
    source = SPECS[name]
    target = world.tmp / "spec" / source.name
    target.parent.mkdir()
    shutil.copy(source, target)
    if (source.parent / "attachments").is_dir():
        shutil.copytree(source.parent / "attachments", target.parent / "attachments")
    run = world.sync(target)
    assert run.code in (0, 1), run.out + run.err  # 1: a referenced PR that does not exist
    text = source.read_text(encoding="utf-8-sig")
    spec = parse_file(target)
    stories = spec.stories()
    issues = world.by_key()
    for number, story in enumerate(stories):
        end = stories[number + 1].line - 1 if number + 1 < len(stories) else len(text.split("\n"))
        html = issues[story.key]["content"]["html"]
        assert "spectryn:1" not in html, "the merge-base line must render as nothing"
        shown = _strip_footer(_shown(re.sub(r" \(#\d+\)", "", html)))  # ids: tested apart
        expected = [(title, found) for title, found in _expected(text, spec, story, end) if title or found]
        assert [title for title, _ in shown] == [title for title, _ in expected], story.key
        for (title, got), (_, want) in zip(shown, expected, strict=True):
            assert got == want, f"{story.key} section {title or 'description'!r}"


def test_nested_criteria_and_checklists_show_their_own_state(world) -> None:
    target = world.tmp / "constructs.md"
    shutil.copy(SPECS["constructs"], target)
    assert world.sync(target).code == 0
    html = world.by_key()["US-010"]["content"]["html"]
    parts = dict(_shown(html)[1:])
    assert parts["Acceptance Criteria"][0] == ("ul", [
        ("\u2610 Payment method", [("ul", [
            ("\u2610 Credit card", []),
            ("\u2611 PayPal", [("ul", [("only where PayPal operates", [])])])])]),
        ("\u2611 Receipt is emailed", []),
        ("\u2610 Refunds", [("ul", [("\u2611 Full refund", [])])]),
    ])
    assert parts["Checklist"] == [("ul", [("\u2611 Design reviewed", []), (
        "\u2610 Security review", [("ul", [("\u2610 Threat model", [])])])])]
    assert "[ ]" not in html and "[x]" not in html
    assert parts["Open Questions"] == [("ol", [("Do we store cards?", []), ("Which currencies first?", [])])]


# --- where an issue is managed, keys as issue links, unmapped assignees ---------------------------

NOTE_TAIL = " - edit the spec; changes here are kept until the spec changes the same field.*"


def test_each_issue_says_where_it_is_managed_linking_the_spec_on_its_branch(world) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(world.tmp)], check=True)
    specs = world.tmp / "docs" / "specs"
    specs.mkdir(parents=True)
    (world.tmp / "EPIC.md").rename(specs / "checkout.md")
    shutil.move(str(world.tmp / "attachments"), specs / "attachments")
    run = world.sync("docs/specs/checkout.md", env={"BITBUCKET_BRANCH": "main"})
    assert run.code in (0, 1), run.out + run.err
    # the web address is bitbucket.org's for api.bitbucket.org; here the sandbox's own pages
    root = world.sandbox.base_url.rsplit("/2.0", 1)[0]
    link = f"{root}/sandbox/demo/src/main/docs/specs/checkout.md"
    for key, issue in world.by_key().items():
        raw = issue["content"]["raw"]
        lines = raw.rstrip("\n").split("\n")
        assert lines[-3] == f"*Managed in [docs/specs/checkout.md]({link}){NOTE_TAIL}", key
        assert lines[-1].startswith("[//]: # (spectryn:1")  # the base line, just below it
        assert f'<a href="{link}">docs/specs/checkout.md</a>' in issue["content"]["html"]
    # another branch, or the line switched off: nothing is rewritten for it (never compared)
    writes = world.writes()
    for env in ({"BITBUCKET_BRANCH": "feature/x"}, {"BITBUCKET_PROVENANCE_LINE": "false"}):
        again = world.sync("docs/specs/checkout.md", env=env)
        assert again.code in (0, 1), again.out + again.err
    assert world.writes() == writes


def test_the_line_can_be_left_out(world) -> None:
    run = world.sync(env={"BITBUCKET_PROVENANCE_LINE": "false"})
    assert run.code in (0, 1), run.out + run.err
    assert all("Managed in" not in issue["content"]["raw"] for issue in world.by_key().values())


def test_without_a_branch_the_spec_is_named_without_a_link(world) -> None:
    assert world.sync().code in (0, 1)
    raw = world.by_key()["US-002"]["content"]["raw"]
    assert f"*Managed in `EPIC.md`{NOTE_TAIL}" in raw


def test_keys_become_issue_links_with_no_write_of_their_own(world) -> None:
    """A link names its target as ``US-002 (#3)`` - Bitbucket links ``#3`` - once the target
    exists when the issue is written; an issue written before its target existed gets the id with
    its next write, never with a write of its own."""
    spec = world.tmp / "EPIC.md"
    text = spec.read_text()
    # no comments/attachments/PRs: nothing else writes US-001 again after its creation
    text = re.sub(r"#### Comments\n(?:>.*\n|\n)+(?=####|---)", "", text)
    text = text.replace("#### Attachments\n- [mockup.png](./attachments/mockup.png)\n\n", "")
    text = text.replace("PR #12", "the backend").replace("Merged in https://bitbucket.org/acme/webapp/pull-requests/7.", "")
    spec.write_text(text)
    assert world.sync().code == 0
    issues = world.by_key()
    items = len(issues)
    assert world.writes() == items, world.sync(execute=False).out  # one write per issue: the ids cost nothing
    us1, us2 = issues["US-001"]["content"]["raw"], issues["US-002"]["content"]["raw"]
    assert "\n- blocks: US-002\n" in us1  # US-002 did not exist when US-001 was written
    assert f"\n- depends on: US-001 (#{issues['US-001']['id']})" in us2  # it existed: linked
    assert world.sync().code == 0 and world.writes() == items  # no write to add the id later
    spec.write_text(spec.read_text().replace("I can see my dashboard", "I can see my own dashboard"))
    assert world.sync().code == 0 and world.writes() == items + 1
    us1 = world.by_key()["US-001"]["content"]["raw"]
    assert f"\n- blocks: US-002 (#{issues['US-002']['id']})\n" in us1  # came with the real change
    assert f"\n- US-001.1 (#{issues['US-001.1']['id']}): Login form" in us1


def test_an_assignee_with_no_account_is_shown_in_the_issue_and_warned(world) -> None:
    spec = world.tmp / "EPIC.md"
    spec.write_text(spec.read_text().replace("| **Assignee** | @alice |", "| **Assignee** | @dave |"))
    run = world.sync()
    assert run.code in (0, 1), run.out + run.err
    assert "assignee '@dave' maps to no Bitbucket account" in run.out + run.err
    issue = world.by_key()["US-001"]
    assert "Assignee: @dave (no Bitbucket account)" in issue["content"]["raw"]
    assert not issue.get("assignee")
