"""Reading GFM tables: story/epic metadata, subtasks and related commits.

Columns are matched by their header names (case, bold and emoji ignored), never by position, so
``# | Subtask | Description | SP | Status`` and ``Task | Description | Points`` both work.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from spectryn_markdown.inline import inline_text
from spectryn_markdown.normalise import normalise_heading, parse_points, strip_decoration
from spectryn_markdown.scanner import Block


@dataclass
class Cell:
    """One table cell (or a written field's value): plain ``text``, markdown ``source`` and 1-based ``line``."""

    text: str
    source: str
    line: int


class _Shape:
    """What a header row says, worked out once for every table that has it (a spec repeats the same
    few headers on every story): the names normalised and as plain text, and column maps asked for."""

    __slots__ = ("headers", "header_text", "maps")

    def __init__(self, head: tuple[str, ...]) -> None:
        self.header_text = [inline_text(cell) for cell in head]
        self.headers = [normalise_heading(text) for text in self.header_text]
        self.maps: dict[int, dict[str, int]] = {}


_SHAPES: dict[tuple[str, ...], _Shape] = {}


class Table:
    """A table block read for its meaning: normalised header names, their plain text, and the body rows
    as the scanner gives them (``(0-based line, cells)``, each cell trimmed markdown, the row padded
    to the header's width). A cell's plain text is :func:`~spectryn_markdown.inline.inline_text` of it,
    its source ``cell.strip()``: worked out only for the cells a reader uses."""

    __slots__ = ("shape", "headers", "header_text", "rows", "line")

    def __init__(self, shape: _Shape, rows: Sequence[tuple[int, Sequence[str]]], line: int) -> None:
        self.shape = shape
        self.headers = shape.headers
        self.header_text = shape.header_text
        self.rows = rows
        self.line = line


def read_table(block: Block) -> Table:
    """The header names and body rows of a ``table`` block."""
    rows = block.rows
    return table_of(tuple(rows[0][1]), rows[1:], block.start + 1)


def table_of(head: tuple[str, ...], rows: Sequence[tuple[int, Sequence[str]]], line: int) -> Table:
    """The table whose header row has the trimmed cells ``head``, its body ``rows`` and 1-based ``line``."""
    shape = _SHAPES.get(head)
    if shape is None:
        if len(_SHAPES) > 512:
            _SHAPES.clear()
        shape = _SHAPES[head] = _Shape(head)
    return Table(shape, rows, line)


def cell(cells: Sequence[str], index: int, line: int) -> Cell:
    """Cell ``index`` of a body row read at 0-based ``line``."""
    raw = cells[index]
    return Cell(inline_text(raw), raw.strip(), line + 1)


#: Field names of the metadata table (normalised) -> model attribute.
FIELD_NAMES: dict[str, str] = {
    "story points": "story_points", "story point": "story_points", "points": "story_points",
    "sp": "story_points", "estimate": "story_points", "effort": "story_points",
    "priority": "priority",
    "status": "status", "state": "status",
    "milestone": "milestone", "release": "milestone", "target release": "milestone",
    "component": "component", "components": "component",
    "version": "version", "fix version": "version", "target version": "version",
    "assignee": "assignee", "owner": "assignee", "assigned to": "assignee",
    "labels": "labels", "label": "labels", "tags": "labels",
    "kind": "kind", "type": "kind", "issue type": "kind",
    "issue": "issue",  # the tracker issue link --write-back adds; read and ignored (never sent)
}

KEY_VALUE_HEADERS = {"field", "property", "attribute", "key", "name", "metadata"}


def read_metadata(table: Table) -> list[tuple[str, Cell]] | None:
    """``(normalised field name, value cell)`` pairs of a metadata table, or None if it is not one.

    Two shapes: vertical (``| Field | Value |`` then one row per field) and horizontal (known
    field names as headers, values in the first body row).
    """
    headers = table.headers
    if len(headers) == 2 and headers[0] in KEY_VALUE_HEADERS:
        return [(normalise_heading(inline_text(cells[0])), cell(cells, 1, line)) for line, cells in table.rows]
    if len(headers) == 2 and headers[0] in FIELD_NAMES and headers[1] not in FIELD_NAMES:
        # a vertical table written without a header row of its own: the first field is the header
        first = Cell(table.header_text[1], table.header_text[1], table.line)
        pairs = [(headers[0], first)]
        return pairs + [(normalise_heading(inline_text(cells[0])), cell(cells, 1, line)) for line, cells in table.rows]
    known = [name for name in headers if name in FIELD_NAMES]
    if known and table.rows:
        line, cells = table.rows[0]
        return [(name, cell(cells, index, line)) for index, name in enumerate(headers)]
    return None


_LABEL_SEPARATOR = re.compile(r"[,;]")


@lru_cache(maxsize=4096)
def field_meaning(name: str, text: str, source: str) -> tuple[str | None, Any]:
    """What a metadata field (normalised ``name``, its value as plain ``text`` and as markdown ``source``)
    sets, the same for every story that writes it (kept per run): ``(attribute, payload)`` for
    :meth:`spectryn_markdown.parser._Reader.apply_fields` - status/priority their text (read per story: problems and
    ``Spec.written`` name the story), story points ``parse_points``' answer, labels a tuple, other
    attributes their value; ``(None, line or "")`` for a field with no attribute."""
    attribute = FIELD_NAMES.get(name)
    if attribute in ("status", "priority", "issue"):
        return attribute, text
    if attribute == "story_points":
        return attribute, parse_points(text)
    if attribute == "labels":
        return attribute, tuple(label for label in (strip_decoration(part) for part in _LABEL_SEPARATOR.split(text))
                                if label)
    value = strip_decoration(text)
    if attribute == "assignee":
        return attribute, value.lstrip("@") or None
    if attribute is not None:  # milestone, component, version, kind
        return attribute, value or None
    return None, f"**{name.title()}:** {source}" if value else ""


@lru_cache(maxsize=4096)
def row_meaning(name: str, value: str) -> tuple[str | None, Any]:
    """:func:`field_meaning` of a ``| Field | Value |`` table's row, its two cells as written (trimmed)."""
    return field_meaning(normalise_heading(inline_text(name)), inline_text(value), value.strip())


def is_field_value(table: Table) -> bool:
    """Whether ``table`` has the shape of metadata by itself: field/value rows, or one row under
    headers that are all field names. An overview table (``| Milestone | Date | Status |`` with a
    row per milestone) is not, even with a field name among its columns."""
    if len(table.headers) == 2 and (table.headers[0] in KEY_VALUE_HEADERS or (
            table.headers[0] in FIELD_NAMES and table.headers[1] not in FIELD_NAMES)):
        return True
    return len(table.rows) == 1 and all(name in FIELD_NAMES for name in table.headers)


SUBTASK_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("#", "no", "nr", "number", "num", "id"),
    "title": ("subtask", "sub task", "task", "name", "title", "requirement", "summary", "item"),
    "description": ("description", "details", "desc", "notes"),
    "story_points": ("sp", "points", "story points", "estimate", "pts", "effort"),
    "status": ("status", "state"),
    "priority": ("priority",),
    "assignee": ("assignee", "owner", "assigned to"),
}


def column_map(table: Table, columns: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Index of each wanted column in ``table`` by header name; missing columns are left out.

    ``columns`` is one of this module's constants (the answer is kept per header row and constant)."""
    found = table.shape.maps.get(id(columns))
    if found is not None:
        return found
    found = {}
    for index, (name, text) in enumerate(zip(table.headers, table.header_text, strict=False)):
        candidate = "#" if text.strip() == "#" else name
        for attribute, names in columns.items():
            if candidate in names and attribute not in found:
                found[attribute] = index
                break
    table.shape.maps[id(columns)] = found
    return found


COMMIT_COLUMNS: dict[str, tuple[str, ...]] = {
    "sha": ("commit", "sha", "hash", "id", "commit id", "revision"),
    "message": ("message", "description", "summary", "title", "subject"),
}

LINK_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("type", "link type", "relation", "relationship", "link"),
    "target": ("target", "issue", "story", "key", "item", "to"),
}

_NUMBER = re.compile(r"(\d+)\s*$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def cell_count(line: str) -> int:
    """How many cells a GFM table row's source line has (escaped pipes do not split)."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return len(_UNESCAPED_PIPE.split(text))


_HEADER_CELLS: dict[str, int] = {}


def short_rows(block: Block, text: str) -> list[tuple[int, int, int]]:
    """``(line, cells, expected)`` of each body row with fewer cells than the header row.

    ``text`` is the file's text (the table is ``text[block.pos:block.stop]``). GFM silently
    pads a short row with empty cells; in a spec that usually means the file was cut short or a
    cell was forgotten, and syncing it would blank or shorten a field.
    """
    newline = text.find("\n", block.pos, block.stop)
    header = text[block.pos:newline if newline >= 0 else block.stop]
    expected = _HEADER_CELLS.get(header)
    if expected is None:
        if len(_HEADER_CELLS) > 512:
            _HEADER_CELLS.clear()
        expected = _HEADER_CELLS[header] = cell_count(header)
    # the scanner lists the rows that can be short; a header counted wider than GFM reads it
    # (odd spaces at its ends) needs every row checked
    wider = expected > len(block.rows[0][1])
    if not block.uneven and not wider:
        return []
    lines = text[block.pos:block.stop].split("\n")
    rows = range(block.start + 2, block.end) if wider else block.uneven
    found = []
    for number in rows:
        line = lines[number - block.start]
        if line.strip() and cell_count(line) < expected:
            found.append((number + 1, cell_count(line), expected))
    return found


def cell_number(text: str) -> int | None:
    """The trailing whole number of a ``#`` cell (``1``, ``#2``, ``ST-3``), or None."""
    match = _NUMBER.search(text.strip())
    return int(match.group(1)) if match else None
