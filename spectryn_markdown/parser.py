"""Read a markdown spec (see the project's markdown-format.md) into :class:`~spectryn_core.model.Spec`.

Structure comes only from top-level blocks (:mod:`spectryn_markdown.fastpath` and
:mod:`spectryn_markdown.scanner`: CommonMark's block rules as markdown-it-py applies them), so
headings inside code fences, HTML blocks, lists or quotes are text, never stories. Inline markup is parsed only for the slices a field reads
(:mod:`spectryn_markdown.inline`).

Which heading is what:

* An H1 starts an epic (``# EPIC-001: Title`` or just ``# Title``). An H2 or H3 whose key prefix is
  ``EPIC`` (``### 🚀 EPIC-001: ...``, as in the Bitbucket guide) starts an epic too. Stories written
  before any epic heading belong to one unnamed epic (key None, title "").
* An H2 whose words contain "stories" (``## User Stories``) opens the stories area of the epic; any
  other H2 ends it, and its content joins the epic's description ("Overview"/"Summary"/"Description"
  headings themselves are dropped, other headings are kept).
* An H3 ``PREFIX-NUMBER: Title`` (uppercase prefix, leading emoji ignored) is a story.
* An H3 without such a key is *a story written without a key* (an error, and its content is
  skipped) when it sits in the stories area or is directly followed by a metadata table naming a
  story field (points, priority, status). Otherwise it is part of the epic's description.
* Inside a story, H4 headings open sections (Description, Acceptance Criteria, Technical Notes,
  Subtasks, Comments, Attachments, Links/Dependencies, Related Commits); any other H4 section is
  appended to the description under its own ``####`` heading. Deeper headings are section content.

A file with no stories at all gets the error "no stories found" (syncing it would do nothing, which is
almost always a mistake such as H2 story headings). Problems never raise: each one becomes a
:class:`~spectryn_core.model.SpecProblem` and parsing goes on, so the user sees all of them at once.
"""

from __future__ import annotations

import gc
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from spectryn_core.model import (
    Comment,
    Commit,
    Criterion,
    Epic,
    Link,
    PullRequestRef,
    Section,
    Spec,
    SpecProblem,
    Story,
    Subtask,
)
from spectryn_core.spec_files import UnreadableSpec, read_spec
from spectryn_markdown.attachments import AttachmentChecker, AttachmentRules
from spectryn_markdown.entries import (
    FIELD_OR_ROW,
    INLINE_FIELD,
    KEY_LINE,
    PIPE_ROW,
    PR_HINT,
    code_free,
    comment_of,
    commit_line,
    commit_rows,
    criterion_of,
    join_chunks,
    link_targets,
    links_default,
    list_subtask,
    paragraph_criteria,
    parse_link,
    pull_requests_in,
)
from spectryn_markdown.fastpath import scan_text
from spectryn_markdown.inline import inline_text, links
from spectryn_markdown.normalise import (
    normalise_heading,
    normalise_link_type,
    normalise_priority,
    normalise_status,
    parse_points,
    strip_decoration,
)
from spectryn_markdown.scanner import Block, Item, row_cells
from spectryn_markdown.storypath import read_story
from spectryn_markdown.tables import (
    FIELD_NAMES,
    KEY_VALUE_HEADERS,
    LINK_COLUMNS,
    SUBTASK_COLUMNS,
    Cell,
    Table,
    cell_number,
    column_map,
    field_meaning,
    is_field_value,
    read_metadata,
    read_table,
    short_rows,
)

_LOWER_KEY = re.compile(r"^\[?([A-Za-z][A-Za-z0-9_]*-\d+)\]?(?:\s*[:\-–—|]\s*|\s+|$)")
_LIST_OR_TABLE = ("table", "bullet_list", "ordered_list")
_CRITERIA_BLOCKS = ("bullet_list", "ordered_list", "paragraph")  # what read_criteria reads
#: A story key as the older tool accepted it: ``US_002``, ``US 003``, ``us-002``, ``PROJ/123`` (read as
#: ``US-002`` ...). A space only after an uppercase prefix, so "Story 3: ..." stays a title.
_LOOSE_KEY = re.compile(r"^\[?(?P<prefix>[A-Za-z][A-Za-z0-9_]*?)(?P<sep>[-_/]|(?<=[A-Z]) )(?P<number>\d+)\]?"
                        r"(?:\s*[:\-–—|]\s*|\s+|$)(?P<rest>.*)$")
#: Under Links / Dependencies: "no links".
_NO_LINKS = frozenset({"none", "n/a", "na", "-", "–", "—", "nothing", "no links", "no dependencies", "tbd"})
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # a web address, not a file
_DESCRIPTION_HEADINGS = {"overview", "summary", "description", "epic description"}

SECTION_NAMES: dict[str, str] = {
    "description": "description", "user story": "description", "story": "description",
    "acceptance criteria": "criteria", "acceptance criterion": "criteria", "ac": "criteria",
    "criteria": "criteria", "definition of done": "criteria",
    "technical notes": "notes", "tech notes": "notes", "technical details": "notes",
    "implementation notes": "notes", "technical": "notes",
    "subtasks": "subtasks", "sub tasks": "subtasks", "tasks": "subtasks", "requirements": "subtasks",
    "comments": "comments", "discussion": "comments",
    "attachments": "attachments", "files": "attachments",
    "links": "links", "dependencies": "links", "related issues": "links", "related": "links",
    "issue links": "links",
    "related commits": "commits", "commits": "commits",
}


@dataclass
class _Section:
    name: str | None  # None: blocks between the story heading and its first H4
    heading: Block | None
    blocks: list[Block] = field(default_factory=list)


@dataclass
class _StoryDraft:
    heading: Block
    key: str | None
    title: str
    sections: list[_Section] = field(default_factory=list)
    #: an H3 without a key that is a story only if story sections or metadata follow
    tentative: bool = False
    #: its blocks in which a pull request may be mentioned (see PR_HINT)
    mentioned: list[Block] = field(default_factory=list)


@dataclass
class _EpicDraft:
    epic: Epic
    blocks: list[Block] = field(default_factory=list)




@lru_cache(maxsize=1024)
def _number_and_points(number: str, points: str) -> tuple[str, int | None, float | None, str | None]:
    """A subtask row's number and points cells (as written; "" where the table has no such column), read
    (kept per run: a spec repeats them): the number as plain text, its whole number (None if it is not
    one), and ``parse_points``' answer."""
    written = inline_text(number).strip()
    parsed = (int(written) if written.isdecimal() else cell_number(written)) if written else None
    return (written, parsed, *parse_points(inline_text(points)))


class _Reader:
    """One parse run: the file's text, the problems found and the spec being built."""

    def __init__(self, text: str, path: Path, statuses: Iterable[str], priorities: Iterable[str],
                 attachments: AttachmentRules | None = None):
        self.path = path
        self.attachments = AttachmentChecker(path, attachments or AttachmentRules.for_spec(path))
        # the scanner reads NUL characters as U+FFFD (as markdown-it does); descriptions keep the file as written
        self.blocks = scan_text(text.replace("\x00", "\ufffd") if "\x00" in text else text)
        # stories read whole from the text (storypath) must see what the scan sees
        self.whole_stories = "\x00" not in text
        self.text = text
        self.statuses = tuple(statuses)
        self.priorities = tuple(priorities)
        self.spec = Spec(path=path)
        self.keys: dict[str, int] = {}
        self.mentions = [found.start() for found in PR_HINT.finditer(text)]
        # what each status / priority as written means (a spec repeats a few on every story)
        self.section_names: dict[str, str] = {}  # H4 heading as written -> section name
        self.story_headings: dict[str, tuple[str, str, str] | tuple[()]] = {}  # storypath._heading's, per line
        self.statuses_read: dict[str, tuple[str | None, str | None]] = {}
        self.priorities_read: dict[str, tuple[str | None, str | None]] = {}

    # --- the file's text -------------------------------------------------------------------

    def source(self, block: Block) -> str:
        """The block as written, without trailing blank lines."""
        return self.text[block.pos:block.stop].rstrip()

    def lines_of(self, block: Block) -> list[str]:
        """The block's lines as written."""
        text = self.text[block.pos:block.stop]
        return text[:-1].split("\n") if text.endswith("\n") else text.split("\n")

    def resume(self, at: tuple[int, int]) -> Block | None:
        """The first block from offset and 0-based line ``at`` (where a story read whole ended), or None."""
        if at[0] >= len(self.text):
            return None
        try:
            return self.blocks.send(at)
        except StopIteration:
            return None

    # --- problems -------------------------------------------------------------------------

    def problem(self, line: int, message: str) -> None:
        self.spec.errors.append(SpecProblem(str(self.path), line, message))

    def warn(self, line: int, message: str) -> None:
        self.spec.warnings.append(SpecProblem(str(self.path), line, message))

    # --- document walk --------------------------------------------------------------------

    def read(self) -> Spec:
        short: list[SpecProblem] = []  # reported before the other problems
        blocks = self.blocks
        epic: _EpicDraft | None = None
        story: _StoryDraft | None = None
        in_stories_area = False
        mentions = self.mentions
        count = len(mentions)
        index = 0  # of the first mention not before the blocks still to come
        mention = mentions[0] if mentions else len(self.text)
        pending: Block | None = None  # read already: the block after a heading without a key
        while True:
            if pending is None:
                block = next(blocks, None)
                if block is None:
                    break
            else:
                block, pending = pending, None
            mentioned = False
            if mention < block.stop:
                index = bisect_left(mentions, block.pos, index)
                mentioned = index < count and mentions[index] < block.stop
                index = bisect_left(mentions, block.stop, index)
                mention = mentions[index] if index < count else len(self.text)
            kind = block.kind
            if kind == "table":
                if block.uneven or not block.even_header:  # else no row can be short (the usual table)
                    for line, cells, expected in short_rows(block, self.text):
                        short.append(SpecProblem(str(self.path), line, f"table row has {cells} cells but its "
                                                 f"header has {expected}; is a cell missing or the file cut short?"))
            elif kind == "heading" and block.level == 4 and story is not None:
                # a story's section; the same few are written in every story
                name = self.section_names.get(block.content) or self.section_name(block.content)
                story.sections.append(_Section(name, block))
                if mentioned:
                    story.mentioned.append(block)
                continue
            if kind == "heading" and block.level < 4:
                text = strip_decoration(inline_text(block.content))
                key, title = _split_key(text)
                level = block.level
                if level == 1 or (level <= 3 and key is not None and key.startswith("EPIC-")):
                    self.finish_story(story, epic)
                    story = None
                    self.finish_epic(epic)
                    epic = _EpicDraft(Epic(title=title if key else text, key=key, line=block.line))
                    self.claim_key(key, block.line)
                    in_stories_area = False
                    continue
                if level == 2:
                    self.finish_story(story, epic)
                    story = None
                    in_stories_area = "stories" in normalise_heading(text).split() or (
                        normalise_heading(text) == "stories"
                    )
                    epic = epic or _EpicDraft(Epic(title=""))
                    if not in_stories_area:
                        epic.blocks.append(block)
                    continue
                if level == 3:
                    if key is not None:
                        self.finish_story(story, epic)
                        story = None
                        epic = epic or _EpicDraft(Epic(title=""))
                        if not title:
                            self.problem(block.line, f'story {key} has no title; write "### {key}: Title"')
                        if self.whole_stories:  # the common shape in a few regex calls, else block by block
                            resume = read_story(self, block, key, title, epic)
                            if resume is not None:
                                pending = self.resume(resume)
                                if pending is None:
                                    break
                                continue
                        story = _StoryDraft(block, key, title)
                        story.sections.append(_Section(None, None))
                        if mentioned:
                            story.mentioned.append(block)
                        continue
                    # no key: a story (named by a loosely written key, or an error) when it is in
                    # the stories area or metadata follows; otherwise decided once its content is
                    # known (story sections make it a story, anything else is epic text)
                    self.finish_story(story, epic)
                    epic = epic or _EpicDraft(Epic(title=""))
                    story = _StoryDraft(block, None, text)
                    story.sections.append(_Section(None, None))
                    if mentioned:
                        story.mentioned.append(block)
                    pending = next(blocks, None)
                    if in_stories_area or _introduces_story(pending):
                        self.adopt(story)
                    else:
                        story.tentative = True
                    continue
            if story is not None:
                story.sections[-1].blocks.append(block)
                if mentioned:
                    story.mentioned.append(block)
            else:
                epic = epic or _EpicDraft(Epic(title=""))
                epic.blocks.append(block)
        self.finish_story(story, epic)
        self.finish_epic(epic)
        self.spec.errors[:0] = short
        if not self.spec.stories():
            self.problem(1, 'no stories found; write each story as a "### US-001: Title" heading')
        return self.spec

    def section_name(self, heading: str) -> str:
        """The section an H4 heading written ``heading`` opens (kept in ``section_names``)."""
        name = self.section_names[heading] = SECTION_NAMES.get(
            normalise_heading(strip_decoration(inline_text(heading))), "unknown")
        return name

    def adopt(self, draft: _StoryDraft) -> None:
        """Make a heading without a proper key a story: read a loosely written key, or report it."""
        match = _LOOSE_KEY.match(draft.title)
        if match and (match.group("sep") != " " or match.group("prefix").isupper()):
            written = draft.title[:match.start("rest")].strip().strip("[]:-–—| ").strip()
            key = f"{match.group('prefix').upper()}-{match.group('number')}"
            draft.key = key
            draft.title = strip_decoration(match.group("rest"))
            self.warn(draft.heading.line, f'story key "{written}" read as "{key}"; write it as "### {key}: '
                                          f'{draft.title or "Title"}"')
            if not draft.title:
                self.problem(draft.heading.line, f'story {key} has no title; write "### {key}: Title"')
            return
        self.report_missing_key(draft.heading.line, draft.title)

    def story_like(self, draft: _StoryDraft) -> bool:
        """Whether what follows a heading without a key is a story's: a known #### section or metadata."""
        for section in draft.sections:
            if section.name is not None and section.name != "unknown":
                return True
        return any(self.metadata_like(block) for block in draft.sections[0].blocks)

    def metadata_like(self, block: Block) -> bool:
        """A block that states story fields: a field/value table, ``**Priority**: High`` lines, table rows."""
        if block.kind == "table":
            table = read_table(block)
            pairs = read_metadata(table)
            return pairs is not None and is_field_value(table) and any(name in FIELD_NAMES for name, _ in pairs)
        if block.kind in ("paragraph", "bullet_list"):
            # one search of the block first: where no line could be a field line or a row, none is
            return FIELD_OR_ROW.search(self.text, block.pos, block.stop) is not None and any(
                _field_line(line) is not None or _row_field(line) is not None for line in self.lines_of(block))
        return False

    def report_missing_key(self, line: int, text: str) -> None:
        match = _LOWER_KEY.match(text)
        if match:
            self.problem(line, f'story key "{match.group(1)}" must be uppercase, e.g. "{match.group(1).upper()}"')
        else:
            shown = text or "(empty)"
            self.problem(line, f'story heading "{shown}" has no key; write it as "### US-001: {text or "Title"}"')

    def claim_key(self, key: str | None, line: int) -> bool:
        if key is None:
            return True
        first = self.keys.get(key)
        if first is not None:
            self.problem(line, f"duplicate key {key} (first used at line {first}); give each item its own key")
            return False
        self.keys[key] = line
        return True

    # --- epics ----------------------------------------------------------------------------

    def finish_epic(self, draft: _EpicDraft | None) -> None:
        if draft is None:
            return
        epic = draft.epic
        chunks: list[str] = []
        metadata_read = False
        for block in draft.blocks:
            if block.kind == "table" and not metadata_read:
                table = read_table(block)
                pairs = read_metadata(table)
                if pairs is not None and is_field_value(table):  # not an overview table with a Status column
                    metadata_read = True
                    chunks.extend(self.apply_epic_metadata(epic, pairs))
                    continue
            if block.kind == "heading" and normalise_heading(inline_text(block.content)) in _DESCRIPTION_HEADINGS:
                continue
            if block.kind == "hr":
                continue
            chunks.append(self.source(block))
        epic.description = join_chunks(chunks)
        if epic.key is None and not epic.title and not epic.stories:
            return  # text before the first epic heading, with no stories: a preamble
        self.spec.epics.append(epic)

    def apply_epic_metadata(self, epic: Epic, pairs: list) -> list[str]:
        extra: list[str] = []
        for name, cell in pairs:
            attribute = FIELD_NAMES.get(name)
            value = strip_decoration(cell.text)
            if attribute == "issue":
                continue  # written by --write-back; the tracker knows its own issue
            if attribute == "milestone":
                epic.milestone = value or None
            elif attribute == "status":
                epic.status = self.status(cell.text, cell.line)
            elif value:
                extra.append(f"**{name.title()}:** {cell.source}")
        return ["\n".join(extra)] if extra else []

    # --- stories --------------------------------------------------------------------------

    def finish_story(self, draft: _StoryDraft | None, epic: _EpicDraft | None) -> None:
        if draft is not None and draft.tentative and epic is not None:
            if not self.story_like(draft):
                epic.blocks.append(draft.heading)  # an overview heading: epic text, as written
                for section in draft.sections:
                    epic.blocks.extend(([section.heading] if section.heading else []) + section.blocks)
                return
            draft.tentative = False
            self.adopt(draft)
        if draft is None or draft.key is None or epic is None:
            return
        key_ok = self.claim_key(draft.key, draft.heading.line)
        story = Story(key=draft.key, title=draft.title, line=draft.heading.line, epic_key=epic.epic.key)
        description: list[str] = []
        unknown: list[str] = []
        for section in draft.sections:
            kept: list[str] = []  # the section's free text, kept in the section (Story.sections)
            if section.name is None or section.heading is None:
                kept = self.read_preamble(story, section.blocks)
                description.extend(kept)
            elif section.name == "description":
                kept = self.sources(section.blocks)
                description.extend(kept)
            elif section.name == "criteria":
                story.acceptance_criteria.extend(self.read_criteria(section.blocks))
                kept, _ = self.unread(section, _CRITERIA_BLOCKS)
            elif section.name == "notes":
                kept = self.sources(section.blocks)
                story.technical_notes = join_chunks([story.technical_notes, *kept])
            elif section.name == "subtasks":
                story.subtasks.extend(self.read_subtasks(story.key, section.blocks))
                kept, under_heading = self.unread(section, _LIST_OR_TABLE)
                unknown.extend(under_heading)
            elif section.name == "comments":
                story.comments.extend(self.read_comments(section.blocks))
            elif section.name == "attachments":
                kept = self.read_attachments(story, section.blocks)
                if kept:
                    unknown.append(join_chunks([self.source(section.heading), *kept]))
            elif section.name == "links":
                story.links.extend(self.read_links(section))
            elif section.name == "commits":
                story.commits.extend(self.read_commits(section.blocks))
                kept, under_heading = self.unread(section, _LIST_OR_TABLE)
                unknown.extend(under_heading)
            else:
                kept = self.sources(section.blocks)
                unknown.append(join_chunks([self.source(section.heading), *kept]))
            heading = section.heading
            story.sections.append(Section(
                "description" if section.name is None else section.name.replace("unknown", "other"),
                heading.content.strip() if heading is not None else "", join_chunks(kept) if kept else "",
                heading.line if heading is not None else story.line))
        story.description = join_chunks(description + unknown)
        story.pull_requests = self.pull_requests(draft)
        for section in draft.sections[1:]:
            if section.name in ("description", "notes", "unknown") and section.heading is not None:
                for block in section.blocks:
                    if self.metadata_like(block):
                        self.warn(block.line, f'looks like story metadata but it is under "#### '
                                              f'{inline_text(section.heading.content)}" and is kept as text; '
                                              f"put it right under the story heading to have it read")

        if key_ok:
            epic.epic.stories.append(story)

    def pull_requests(self, draft: _StoryDraft) -> list[PullRequestRef]:
        """Pull requests mentioned anywhere in the story's text: read only in the blocks where PR_HINT matched."""
        return pull_requests_in(code_free(draft.mentioned, self.source)) if draft.mentioned else []


    def unread(self, section: _Section, consumed: tuple[str, ...]) -> tuple[list[str], list[str]]:
        """The blocks a section reader did not use, as written (kept in the section), and the same under the
        section heading for the description (none if there are none)."""
        kept = [self.source(block) for block in section.blocks if block.kind not in consumed and block.kind != "hr"]
        if not kept or section.heading is None:
            return kept, []
        return kept, [join_chunks([self.source(section.heading), *kept])]

    def sources(self, blocks: list[Block]) -> list[str]:
        return [self.source(block) for block in blocks if block.kind != "hr"]

    def read_preamble(self, story: Story, blocks: list[Block]) -> list[str]:
        """The metadata table and the description written before the first H4."""
        chunks: list[str] = []
        extras: list[str] = []  # metadata rows the model has no field for, kept after the author's text
        metadata_read = False
        for block in blocks:
            if block.kind == "table":
                table = read_table(block)
                pairs = read_metadata(table)
                if pairs is not None and not metadata_read:
                    metadata_read = True
                    extras.append(self.apply_story_metadata(story, pairs))
                    continue
                if pairs is not None and is_field_value(table) and any(name in FIELD_NAMES for name, _ in pairs):
                    self.warn(block.line, "looks like story metadata but only the first metadata table of a "
                                          "story is read; merge it into the first one")
            elif block.kind in ("paragraph", "bullet_list"):
                pairs, rest = self.written_fields(block)
                if pairs:
                    extras.append(self.apply_story_metadata(story, pairs))
                    if rest:
                        chunks.append(rest)
                    continue
            if block.kind == "hr":
                continue
            chunks.append(self.source(block))
        extra = "\n".join(text for text in extras if text)
        return chunks + [extra] if extra else chunks

    def written_fields(self, block: Block) -> tuple[list[tuple[str, Cell]], str]:
        """Story fields written without a table: ``**Priority**: High`` lines (or list items), or table
        rows without their ``|---|`` line. Returns the pairs read and the block's other lines."""
        lines = self.lines_of(block)
        pairs: list[tuple[str, Cell]] = []
        if all(PIPE_ROW.match(line) or not line.strip() for line in lines):
            rows = [(block.start + offset + 1, row_cells(line.strip())) for offset, line in enumerate(lines)
                    if line.strip()]
            if rows and normalise_heading(inline_text(rows[0][1][0] if rows[0][1] else "")) in KEY_VALUE_HEADERS:
                rows = rows[1:]  # the "| Field | Value |" header row
            if rows and all(len(cells) == 2 for _, cells in rows) and any(
                    normalise_heading(inline_text(cells[0])) in FIELD_NAMES for _, cells in rows):
                for line, (name, value) in rows:
                    pairs.append((normalise_heading(inline_text(name)), Cell(inline_text(value), value.strip(), line)))
                return pairs, ""
        kept: list[str] = []
        fields = [(offset, _field_line(line)) for offset, line in enumerate(lines) if line.strip()]
        if block.kind == "bullet_list" and not all(found is not None for _, found in fields):
            return [], ""  # a list that is not all fields stays as it is
        for offset, found in fields:
            if found is None:
                kept.append(lines[offset])
                if _row_field(lines[offset]) is not None:
                    self.warn(block.start + offset + 1, "looks like story metadata but is a table row among "
                                                        "other text; give the table its own paragraph")
                continue
            name, value = found
            pairs.append((name, Cell(inline_text(value), value.strip(), block.start + offset + 1)))
        return pairs, "\n".join(kept).rstrip()

    def apply_story_metadata(self, story: Story, pairs: list) -> str:
        return self.apply_fields(story, [(field_meaning(name, cell.text, cell.source), cell.line)
                                         for name, cell in pairs])

    def apply_fields(self, story: Story, fields: list[tuple[tuple[str | None, Any], int]]) -> str:
        """Set ``story``'s metadata from ``(field_meaning(...), 1-based line)`` pairs; return the text of
        fields with no attribute (``**Name:** value`` lines), which stays in the description."""
        extra: list[str] = []
        for (attribute, payload), line in fields:
            if attribute is None:
                if payload:
                    extra.append(payload)
            elif attribute == "status":
                story.status = self.status(payload, line, story.key)
            elif attribute == "priority":
                story.priority = self.priority(payload, line, story.key)
            elif attribute == "story_points":
                points, error = payload
                if error:
                    self.problem(line, error)
                story.story_points = points
            elif attribute == "labels":
                story.labels = list(payload)
            elif attribute != "issue":  # issue: written by --write-back; the tracker knows its own issue
                setattr(story, attribute, payload)  # assignee, milestone, component, version, kind
        return "\n".join(extra)

    def status(self, raw: str, line: int, key: str = "") -> str | None:
        found = self.statuses_read.get(raw)
        if found is None:
            found = self.statuses_read[raw] = normalise_status(raw, self.statuses)
        value, error = found
        if error:
            self.problem(line, error)
        elif key and value:
            written = raw.strip()
            if written != value:  # keep the spec's own words ("📋 Planned" for open)
                self.spec.written[(key, "status")] = written
        return value

    def priority(self, raw: str, line: int, key: str = "") -> str | None:
        found = self.priorities_read.get(raw)
        if found is None:
            found = self.priorities_read[raw] = normalise_priority(raw, self.priorities)
        value, error = found
        if error:
            self.problem(line, error)
        elif key and value:
            written = raw.strip()
            if written != value:  # keep the spec's own words ("📋 Planned" for open)
                self.spec.written[(key, "priority")] = written
        return value

    # --- sections -------------------------------------------------------------------------

    def read_criteria(self, blocks: list[Block]) -> list[Criterion]:
        criteria: list[Criterion] = []
        for block in blocks:
            if block.kind in ("bullet_list", "ordered_list"):
                if any(len(item.inlines) > 1 for item in block.items):
                    # an item with more than its first line may nest criteria: read the tree
                    criteria.extend(nested_criteria(self.text[block.pos:block.stop]))
                    continue
                for item in block.items:  # each with at most one inline text
                    criterion = criterion_of(item.inlines[0][0] if item.inlines else "", ())
                    if criterion is not None:
                        criteria.append(criterion)
            elif block.kind == "paragraph":
                criteria.extend(paragraph_criteria(block.content))
        return criteria

    def read_subtasks(self, parent: str, blocks: list[Block]) -> list[Subtask]:
        subtasks: list[Subtask] = []
        for block in blocks:
            if block.kind == "table":
                subtasks.extend(self.read_subtask_table(parent, read_table(block), len(subtasks)))
            elif block.kind in ("bullet_list", "ordered_list"):
                for item in block.items:
                    text, line = _first_inline(item, block)
                    subtask = list_subtask(text, line, len(subtasks) + 1, parent)
                    if subtask is not None:
                        subtasks.append(subtask)
        return self.unique_subtasks(parent, subtasks)

    def unique_subtasks(self, parent: str, subtasks: list[Subtask]) -> list[Subtask]:
        """``subtasks`` without those whose number an earlier one has (each reported)."""
        numbers: dict[int, int] = {}
        kept: list[Subtask] = []
        for subtask in subtasks:
            first = numbers.get(subtask.number)
            if first is not None:
                self.problem(subtask.line, f"duplicate subtask number {subtask.number} in {parent} "
                                           f"(first used at line {first}); number each subtask once")
                continue
            numbers[subtask.number] = subtask.line
            kept.append(subtask)
        return kept

    def read_subtask_table(self, parent: str, table: Table, before: int) -> list[Subtask]:
        columns = column_map(table, SUBTASK_COLUMNS)
        title_index = columns.get("title")
        if title_index is None:
            shown = ", ".join(text for text in table.header_text) or "none"
            self.problem(table.line, f'subtask table has no name column (columns: {shown}); '
                                     f'add a "Subtask" or "Task" column')
            return []
        # rows are padded to the header's width, so every column index is in every row
        number_index = columns.get("number")
        points_index = columns.get("story_points")
        status_index = columns.get("status")
        priority_index = columns.get("priority")
        assignee_index = columns.get("assignee")
        description_index = columns.get("description")
        subtasks: list[Subtask] = []
        status = self.status
        for position, (row_line, row) in enumerate(table.rows, start=before + 1):
            line = row_line + 1
            title = inline_text(row[title_index])
            if not (title[:1].isalnum() and title[-1:].isalnum()):  # else nothing to strip (a name is mostly so)
                title = strip_decoration(title)
            if not title:
                if any(inline_text(raw).strip() for raw in row):
                    self.problem(line, f"subtask in {parent} has no name; fill in its name cell")
                continue
            number = position
            written, parsed, points, error = _number_and_points(
                row[number_index] if number_index is not None else "", row[points_index] if points_index is not None else "")
            if written:
                if parsed is None:
                    self.problem(line, f'subtask number "{written}" is not a whole number; write 1, 2, 3 ...')
                else:
                    number = parsed
            if error:
                self.problem(line, error)
            key = f"{parent}.{number}"
            # Subtask's fields in order (positional: keywords cost ~5k instructions a subtask, benchmarks/)
            subtasks.append(Subtask(
                number,
                title,
                row[description_index].strip() if description_index is not None else "",  # description
                points,
                status(inline_text(row[status_index]) if status_index is not None else "", line, key),
                self.priority(inline_text(row[priority_index]), line, key) if priority_index is not None else None,
                (strip_decoration(inline_text(row[assignee_index])).lstrip("@") or None  # assignee
                 if assignee_index is not None else None),
                line,
                parent,  # parent_key
            ))
        return subtasks

    def read_comments(self, blocks: list[Block]) -> list[Comment]:
        comments: list[Comment] = []
        for block in blocks:
            if block.kind == "blockquote":
                quoted = self.text[block.pos:block.stop]
                if quoted.startswith("> ") and quoted.count("\n") - quoted.endswith("\n") == quoted.count("\n> "):
                    comments.append(comment_of(quoted[2:].replace("\n> ", "\n")))  # every line starts with "> "
                else:
                    comments.append(comment_of("\n".join(_unquote(line) for line in self.lines_of(block))))
            elif block.kind in ("bullet_list", "ordered_list"):
                for item in block.items:
                    comments.append(comment_of("\n".join(content for content, _ in item.inlines)))
            elif block.kind == "paragraph":
                comments.append(comment_of(self.source(block)))
        return [comment for comment in comments if comment.body]

    def read_attachments(self, story: Story, blocks: list[Block]) -> list[str]:
        """Add the local files linked in the section; return the sources of blocks with no file link."""
        leftover: list[str] = []
        for block in blocks:
            found = False
            for content, line0 in block.inlines():
                for name, target in links(content):
                    if _SCHEME.match(target) or target.startswith("#"):
                        continue  # a web address or an anchor: not a file to upload
                    found = True
                    line = line0 + 1
                    attachment, problem = self.attachments.check(str(story.key), target, name, line)
                    if attachment is None:
                        self.problem(line, problem)
                        continue
                    story.attachments.append(attachment)
            if not found and block.kind != "hr":
                leftover.append(self.source(block))
        return leftover

    def read_links(self, section: _Section) -> list[Link]:
        assert section.heading is not None, "a named section starts at its heading"
        default = links_default(section.heading.content)
        links: list[Link] = []
        for block in section.blocks:
            if block.kind == "table":
                table = read_table(block)
                columns = column_map(table, LINK_COLUMNS)
                target_index = columns.get("target")
                type_index = columns.get("type")
                if target_index is None:
                    continue
                for _, row in table.rows:
                    kind = inline_text(row[type_index]) if type_index is not None else default
                    target = inline_text(row[target_index])
                    if target.strip().lower() in _NO_LINKS:
                        continue
                    for each in link_targets(target):
                        links.append(Link(normalise_link_type(kind) or default, each))
                continue
            items: list[tuple[str, int]] = []
            if block.kind in ("bullet_list", "ordered_list"):
                for item in block.items:
                    if item.inlines:
                        items.append(_first_inline(item, block))
            elif block.kind == "paragraph":
                items.extend((line, block.line + offset) for offset, line in enumerate(block.content.split("\n")))
            self.link_lines(items, default, links)
        return links

    def link_lines(self, items: list[tuple[str, int]], default: str, links: list[Link]) -> None:
        """Add the links written as ``(text, 1-based line)`` lines (list items, a paragraph's lines)."""
        for text, line in items:
            if text.strip().strip("*_").strip().lower() in _NO_LINKS:
                continue  # "None", "N/A", "-": no links
            link = parse_link(strip_decoration(text.replace("*", "")), default)
            if link is None:
                if text.strip():
                    self.problem(line, f'link "{text.strip()}" not understood; write it as "blocks: US-002"')
                continue
            links.extend(link)

    def read_commits(self, blocks: list[Block]) -> list[Commit]:
        commits: list[Commit] = []
        for block in blocks:
            if block.kind == "table":
                commit_rows(read_table(block), commits)
            elif block.kind in ("bullet_list", "ordered_list"):
                for item in block.items:
                    commit = commit_line(_first_inline(item, block)[0])
                    if commit is not None:
                        commits.append(commit)
        return commits


# --- helpers ---------------------------------------------------------------------------------


def _split_key(text: str) -> tuple[str | None, str]:
    match = KEY_LINE.match(text)
    if not match:
        return None, text
    return match.group(1), strip_decoration(match.group(2))


def _introduces_story(block: Block | None) -> bool:
    if block is None or block.kind != "table":
        return False
    table = read_table(block)
    pairs = read_metadata(table)
    return pairs is not None and is_field_value(table) and any(
        FIELD_NAMES.get(name) in ("story_points", "priority", "status") for name, _ in pairs)


def _field_line(line: str) -> tuple[str, str] | None:
    """``(field name, value)`` of a ``**Priority**: High`` line naming a known field, else None."""
    if "**" not in line and "__" not in line:
        return None
    match = INLINE_FIELD.match(line)
    if match is None:
        return None
    name = normalise_heading(match.group("name"))
    return (name, match.group("value")) if name in FIELD_NAMES else None


def _row_field(line: str) -> str | None:
    """The field a ``| **Priority** | High |`` row names, if it is a known one."""
    if not PIPE_ROW.match(line):
        return None
    cells = row_cells(line.strip())
    name = normalise_heading(inline_text(cells[0])) if cells else ""
    return name if name in FIELD_NAMES else None


def _first_inline(item: Item, block: Block) -> tuple[str, int]:
    """Plain text and 1-based line of a list item's first inline text (its title line)."""
    if not item.inlines:
        return "", block.line
    content, line = item.inlines[0]
    return inline_text(content), line + 1


def _unquote(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(">"):
        stripped = stripped[1:]
        if stripped.startswith(" "):
            stripped = stripped[1:]
        return stripped
    return line


@cache
def _list_reader() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def nested_criteria(source: str) -> list[Criterion]:
    """The criteria of a top-level list written as ``source``, nested as the list nests them
    (CommonMark's rules, by markdown-it-py; used only for lists whose items have more than one
    line, so a flat checklist never loads it). An item's text is its own paragraphs; the items of a
    list inside it are its children."""
    tokens = _list_reader().parse(source)

    def read_list(start: int) -> tuple[list[Criterion], int]:
        found: list[Criterion] = []
        index = start + 1  # past the list's opening token
        while not tokens[index].type.endswith("_list_close"):
            index += 1  # past list_item_open
            texts: list[str] = []
            children: list[Criterion] = []
            while tokens[index].type != "list_item_close":
                token = tokens[index]
                if token.type in ("bullet_list_open", "ordered_list_open"):
                    nested, index = read_list(index)
                    children.extend(nested)
                    continue
                if token.type == "inline":
                    texts.append(token.content)
                index += 1
            index += 1  # past list_item_close
            criterion = criterion_of(" ".join(texts), tuple(children))
            if criterion is not None:
                found.append(criterion)
            else:
                found.extend(children)  # an empty item: its children stand in its place
        return found, index + 1

    criteria: list[Criterion] = []
    index = 0
    while index < len(tokens):
        if tokens[index].type in ("bullet_list_open", "ordered_list_open"):
            found, index = read_list(index)
            criteria.extend(found)
        else:
            index += 1
    return criteria


# --- public API ------------------------------------------------------------------------------


def parse_text(
    text: str,
    path: Path,
    *,
    extra_statuses: Iterable[str] = (),
    extra_priorities: Iterable[str] = (),
    attachments: AttachmentRules | None = None,
) -> Spec:
    """Parse spec ``text`` as if read from ``path`` (used for messages and attachment paths)."""
    return _parse(_newlines(text), Path(path), extra_statuses, extra_priorities, attachments)


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _parse(text: str, path: Path, statuses: Iterable[str], priorities: Iterable[str],
           attachments: AttachmentRules | None = None) -> Spec:
    # The reader makes a few dozen objects per story and none of them form reference cycles; the
    # cyclic collector rescanning all of them made large files parse in super-linear time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Reader(text, path, statuses, priorities, attachments).read()
    finally:
        if collecting:
            gc.enable()


def parse_file(
    path: Path,
    *,
    extra_statuses: Iterable[str] = (),
    extra_priorities: Iterable[str] = (),
    attachments: AttachmentRules | None = None,
    max_size: int | None = None,
) -> Spec:
    """Read and parse the spec at ``path``; unreadable or non-UTF-8 files give errors, not exceptions.

    Only a regular file is read (a FIFO or a device is an error, never waited on), of at most
    ``max_size`` bytes (None: any size)."""
    path = Path(path)
    try:
        data = read_spec(path, max_size)
    except OSError as error:
        spec = Spec(path=path)
        reason = error.strerror or str(error)
        spec.errors.append(SpecProblem(str(path), 1, f"cannot read the file: {reason}; check the path and its permissions"))
        return spec
    except UnreadableSpec as error:
        spec = Spec(path=path)
        spec.errors.append(SpecProblem(str(path), 0, str(error)))
        return spec
    problems: list[SpecProblem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        start = error.start
        line = data.count(b"\n", 0, start) + 1
        problems.append(SpecProblem(str(path), line, f"not valid UTF-8 at byte {start}; save the file as UTF-8"))
        text = data.decode("utf-8-sig", errors="replace")
    del data
    spec = _parse(_newlines(text), path, extra_statuses, extra_priorities, attachments)
    spec.errors[:0] = problems
    return spec


__all__ = ["parse_file", "parse_text"]
