"""A whole story of the common shape read in a few regular-expression calls; any other is the block walk's.

Most stories in a spec are written alike (markdown-format.md): a ``### KEY: Title`` heading, a
metadata table, ``####`` sections of paragraphs, one-line list items, pipe tables and quoted
comments, every block at column 0 and blank lines between them. The reader's block walk spends most
of such a story's time in Python bytecode per block (a ``Block`` each, the walk, the section
readers' loops). Here, from the line after the story heading:

1. :data:`_SPAN` matches every block up to the next heading of level 1-3 (or the end) in one call,
   with the fast path's own alternatives (:data:`~spectryn_markdown.fastpath.BLOCK_ALTERNATIVES`,
   headings of level 4-6 only), each of which accepts only text whose block structure is certain.
   Where none matches, the span cannot reach the next story heading and the story is the walk's.
2. In such a span every block starts at column 0 and is one run of lines that are not blank, a
   heading being one line of its own: :data:`_PIECE` finds them all in one ``finditer``, and a
   block's kind is read from its first characters.
3. :func:`layout` sorts them into sections and splits each table's rows at their pipes, without
   touching the reader's results. It returns None wherever it is not certain to read as the walk
   does: a heading of level 5 or 6, a thematic break among other lines, a table whose rows are not
   all plain (an escaped pipe, spaces around the row, a short or long row), a table or a field line
   where the walk would read metadata or warn, an Attachments section (its files are checked).
4. :func:`read_story` builds the Story with the reader's own section helpers (``entries``), as
   ``_Reader.finish_story`` does, and tells the walk where to resume.

``tests/markdown/test_md_storypath.py`` checks that the Spec (errors, warnings and ``Spec.written``
included) is the block walk's alone, on common-shape documents bent at every edge of these rules, the
differential test's specs and mutated spec files; the walk is checked against markdown-it-py
(test_md_scanner, test_md_fastpath). Figures: benchmarks/RESULTS.md (issue 31, round two).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import repeat
from typing import TYPE_CHECKING

from spectryn_core.model import Section, Story, Subtask
from spectryn_markdown.entries import (
    comment_of,
    commit_line,
    commit_rows,
    criterion_of,
    join_chunks,
    links_default,
    list_subtask,
    may_hold_fields,
    paragraph_criteria,
    pull_requests_in,
)
from spectryn_markdown.fastpath import BLOCK_ALTERNATIVES, HEADING_LINE, closed_heading, delimiter_width, header_cells
from spectryn_markdown.inline import inline_text
from spectryn_markdown.scanner import TRIM_CHARS, Block
from spectryn_markdown.tables import KEY_VALUE_HEADERS, Table, read_metadata, row_meaning, table_of

if TYPE_CHECKING:
    from spectryn_markdown.parser import _EpicDraft, _Reader

#: From the line after a story heading: every block up to the next heading of level 1-3 (or the end) is one
#: the fast path certainly reads (headings of level 4-6 among them); blank lines after them taken too.
#: (No capturing group: CPython 3.11 fails on one under a possessive repetition, gh-101955.)
_SPAN = re.compile(
    r"(?:(?:[\x20\t]*\n)*+(?:" + re.sub(r"\(\?P<\w+>", "(?:", BLOCK_ALTERNATIVES.replace("{levels}", "{4,6}"))
    + r"))*+(?:[\x20\t]*\n)*+(?=[\x20\t]*\Z|" + HEADING_LINE.replace("{levels}", "{1,3}") + ")", re.VERBOSE)
#: In such a span: a heading line, or a block (a run of lines that start with neither a space, a tab nor "#").
_PIECE = re.compile(r"\#[^\n]*|[^\x20\t\n\#][^\n]*(?:\n[^\x20\t\n\#][^\n]*)*")
_RULE = re.compile(r"(?:(?:\*[\x20\t]*){3,}|(?:-[\x20\t]*){3,}|(?:_[\x20\t]*){3,})(?:\n|\Z)")
_ORDERED = re.compile(r"[0-9]{1,9}[.)]\x20")
_strip = str.strip
_TRIMS = repeat(TRIM_CHARS)
_UNSURE = ("table", "paragraph", "bullet")  # kinds the walk may read as metadata where a section's text is


def _table(piece: str, line: int) -> Table | None:
    """The table written as ``piece`` (starting at 0-based ``line``) when every body row is plain - ``|``
    at both ends, no escaped pipe, as many cells as its header (so the walk would note no short row) -
    else None. A plain row's cells are its text between pipes, trimmed as the fast path trims them."""
    second = piece.find("\n", piece.find("\n") + 1)
    top = piece[:second] if second > 0 else piece
    head = _HEADS.get(top)
    if head is None:
        head = _head(top)
    if not head:
        return None
    if second < 0:
        return table_of(head, [], line + 1)
    width = len(head)
    body = piece[second + 1:]
    if "\\" in body:
        return None
    found: list[tuple[int, list[str]]] = []
    row_line = line + 2
    for row in body.split("\n"):
        cells = row[1:-1].split("|")
        if len(cells) != width or len(row) < 2 or row[0] != "|" or row[-1] != "|":
            return None
        found.append((row_line, [*map(_strip, cells, _TRIMS)]))  # each cell.strip(TRIM_CHARS), without a frame
        row_line += 1
    return table_of(head, found, line + 1)


#: A table's header and delimiter rows as written -> the header's trimmed cells, or () where
#: :func:`_table` reads no table (kept per run: a spec repeats the same few tables on every story).
_HEADS: dict[str, tuple[str, ...]] = {}


def _head(top: str) -> tuple[str, ...]:
    """The header cells of a table whose first two lines are ``top``, () unless the delimiter row declares
    as many columns as the header has (and the header counts no more cells as written than GFM reads)."""
    first = top.find("\n")
    head, even = header_cells(top[:first])
    found = tuple(head) if even and head and len(head) == delimiter_width(top[first + 1:]) else ()
    if len(_HEADS) > 512:
        _HEADS.clear()
    _HEADS[top] = found
    return found


#: A section as :func:`layout` gives it: its name (None before the first H4), the H4 heading's text and
#: 1-based line and its line as written, and its blocks ``(kind, text as written, 0-based line, Table | None)``.
Part = tuple[str | None, str, int, str, list[tuple[str, str, int, Table | None]]]


def layout(reader: _Reader, start: int, end: int, line: int,
           mentioned: list[tuple[str, int]]) -> tuple[list[Part], int] | None:
    """The sections of the story text ``reader.text[start:end]`` (a span :data:`_SPAN` matched, from 0-based
    ``line``) and the 0-based line at ``end``, or None where they might not read as the walk reads them.
    Blocks holding a possible pull-request mention (``reader.mentions``) are added to ``mentioned`` (as
    written, with their 1-based line)."""
    text = reader.text
    headings = reader.story_headings
    chunks: list[tuple[str, str, int, Table | None]] = []
    parts: list[Part] = [(None, "", 0, "", chunks)]
    name: str | None = None
    tables = 0
    count = text.count
    last = start
    mentions = reader.mentions
    index = bisect_left(mentions, start)
    mention = mentions[index] if index < len(mentions) else end  # the next one; the span's end when none
    for found in _PIECE.finditer(text, start, end):
        pos = found.start()
        piece = found.group()
        line += count("\n", last, pos)
        last = pos
        if mention < pos + len(piece):  # this block holds the next mention (blank lines hold none)
            mentioned.append((piece.rstrip(), line + 1))
            index = bisect_left(mentions, pos + len(piece), index)
            mention = mentions[index] if index < len(mentions) else end
        first = piece[0]
        if first == "#":
            known = headings.get(piece)
            if known is None:
                known = headings[piece] = _heading(reader, piece)
            if not known:
                return None
            name, title, source = known
            chunks = []
            parts.append((name, title, line + 1, source, chunks))
            continue
        table = None
        if first == "|":
            kind = "table"
            table = _table(piece, line)
            if table is None:
                return None
            if name is None:
                tables += 1
                if tables > 1:
                    return None  # a second table before the first H4: the walk may warn
            elif name == "links":
                return None
        elif first == ">":
            kind = "quote"
        elif first in "-*_" and piece.lstrip(first + " \t")[:1] in ("\n", "") and _RULE.match(piece):
            if "\n" in piece:
                return None  # a rule and a block right under it: two blocks, left to the walk
            continue  # a thematic break: no reader reads it
        elif (first in "-*+" and piece[1:2] == " ") or (first in "0123456789" and _ORDERED.match(piece)):
            kind = "bullet" if first in "-*+" else "ordered"
        else:
            kind = "paragraph"
        if kind in _UNSURE and name in (None, "description", "notes", "unknown") and (
                kind == "table" and name is not None or kind != "table" and may_hold_fields(piece)):
            return None  # metadata, or text the walk warns about
        chunks.append((kind, piece, line, table))
    return parts, line + count("\n", last, end)


def _heading(reader: _Reader, piece: str) -> tuple[str, str, str] | tuple[()]:
    """An H4 line's section name, its text and the line as written; () for an H5/H6 (a block of its
    section: left to the walk) or an Attachments heading (files are checked)."""
    rest = piece.lstrip("#")
    if len(piece) - len(rest) != 4:
        return ()
    rest = rest.rstrip(" \t")
    title = rest.strip(TRIM_CHARS) if rest[-1:] != "#" else closed_heading(rest)
    name = reader.section_names.get(title) or reader.section_name(title)
    return () if name == "attachments" else (name, title, piece.rstrip())


def read_story(reader: _Reader, heading: Block, key: str, title: str, epic: _EpicDraft) -> tuple[int, int] | None:
    """Read the story under ``heading`` (``### KEY: Title``) into ``epic`` and return where the walk resumes
    (offset and 0-based line), or None - nothing read - when it is not of the common shape."""
    text = reader.text
    start = heading.stop
    span = _SPAN.match(text, start)
    if span is None:
        return None
    end = span.end()
    mentions = reader.mentions
    index = bisect_left(mentions, heading.pos)
    mentioned = [(reader.source(heading), heading.line)] if index < len(mentions) and mentions[index] < start else []
    read = layout(reader, start, end, heading.end, mentioned)
    if read is None:
        return None
    parts, end_line = read
    parent = key
    line = heading.line
    key_ok = reader.claim_key(key, line)
    story = Story(key=key, title=title, line=line, epic_key=epic.epic.key)
    description: list[str] = []
    unknown: list[str] = []
    sections = story.sections
    for name, heading_text, heading_line, heading_source, chunks in parts:
        kept: list[str] = []
        if name is None:
            kept = _preamble(reader, story, chunks)
            description.extend(kept)
        elif name == "description":
            kept = [piece.rstrip() for _, piece, _, _ in chunks]
            description.extend(kept)
        elif name == "criteria":
            criteria = story.acceptance_criteria
            for kind, piece, _, _ in chunks:
                if kind == "bullet" or kind == "ordered":
                    for item in _items(kind, piece):
                        criterion = criterion_of(item, ())
                        if criterion is not None:
                            criteria.append(criterion)
                elif kind == "paragraph":
                    criteria.extend(paragraph_criteria(piece.strip(TRIM_CHARS)))
                else:
                    kept.append(piece.rstrip())
        elif name == "notes":
            kept = [piece.rstrip() for _, piece, _, _ in chunks]
            story.technical_notes = join_chunks([story.technical_notes, *kept])
        elif name == "subtasks":
            subtasks: list[Subtask] = []
            for kind, piece, row, table in chunks:
                if table is not None:
                    subtasks.extend(reader.read_subtask_table(parent, table, len(subtasks)))
                elif kind == "bullet" or kind == "ordered":
                    for item in _items(kind, piece):
                        row += 1
                        subtask = list_subtask(inline_text(item), row, len(subtasks) + 1, parent)
                        if subtask is not None:
                            subtasks.append(subtask)
                else:
                    kept.append(piece.rstrip())
            story.subtasks.extend(reader.unique_subtasks(parent, subtasks))
            if kept:
                unknown.append(join_chunks([heading_source, *kept]))
        elif name == "comments":
            comments = story.comments
            for kind, piece, _, _ in chunks:
                if kind == "quote":
                    comment = comment_of(piece[2:].replace("\n> ", "\n"))  # every line starts with "> "
                    if comment.body:
                        comments.append(comment)
                elif kind == "bullet" or kind == "ordered":
                    comments.extend(comment for comment in map(comment_of, _items(kind, piece)) if comment.body)
                elif kind == "paragraph":
                    comment = comment_of(piece.rstrip())
                    if comment.body:
                        comments.append(comment)
        elif name == "links":
            lines: list[tuple[str, int]] = []
            for kind, piece, row, _ in chunks:
                if kind == "bullet" or kind == "ordered":
                    lines.extend((inline_text(item), row + offset)
                                 for offset, item in enumerate(_items(kind, piece), start=1))
                elif kind == "paragraph":
                    lines.extend((text, row + offset)
                                 for offset, text in enumerate(piece.strip(TRIM_CHARS).split("\n"), start=1))
            reader.link_lines(lines, links_default(heading_text), story.links)
        elif name == "commits":
            commits = story.commits
            for kind, piece, _, table in chunks:
                if table is not None:
                    commit_rows(table, commits)
                elif kind == "bullet" or kind == "ordered":
                    commits.extend(commit for commit in map(commit_line, map(inline_text, _items(kind, piece)))
                                   if commit is not None)
                else:
                    kept.append(piece.rstrip())
            if kept:
                unknown.append(join_chunks([heading_source, *kept]))
        else:
            kept = [piece.rstrip() for _, piece, _, _ in chunks]
            unknown.append(join_chunks([heading_source, *kept]))
        sections.append(Section(
            "description" if name is None else name.replace("unknown", "other"), heading_text.strip(),
            join_chunks(kept) if kept else "", heading_line or line))
    story.description = join_chunks(description + unknown)
    if mentioned:
        story.pull_requests = pull_requests_in(mentioned)
    if key_ok:
        epic.epic.stories.append(story)
    return end, end_line


def _preamble(reader: _Reader, story: Story, chunks: list[tuple[str, str, int, Table | None]]) -> list[str]:
    """What ``_Reader.read_preamble`` reads from these blocks (one table at most, no field lines)."""
    kept: list[str] = []
    extra = ""
    for _, piece, _, table in chunks:
        if table is not None:
            if len(table.headers) == 2 and table.headers[0] in KEY_VALUE_HEADERS:  # | Field | Value |
                # read_metadata's first shape, each row's meaning kept per run (rows are as wide as the header)
                extra = reader.apply_fields(story, [(row_meaning(cells[0], cells[1]), line + 1)
                                                    for line, cells in table.rows])
                continue
            pairs = read_metadata(table)
            if pairs is not None:
                extra = reader.apply_story_metadata(story, pairs)
                continue
        kept.append(piece.rstrip())
    return kept + [extra] if extra else kept


def _items(kind: str, piece: str) -> list[str]:
    """A one-line-per-item list's items as the fast path gives their inline text."""
    if kind == "bullet":
        return [line[2:].strip(TRIM_CHARS) for line in piece.split("\n")]
    return [line[_ORDERED.match(line).end():].strip(TRIM_CHARS)  # type: ignore[union-attr]
            for line in piece.split("\n")]
