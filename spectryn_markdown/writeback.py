"""Minimal edits of a markdown spec: issue links written back, tracker values pulled in.

Each edit changes the bytes of one table cell or heading title, or adds one table row or column;
every other byte (line endings, emoji, spacing, alignment of other rows) stays as written, so a
``git diff`` of the file shows exactly what changed. Where things are comes from the parser (the
heading line of each story, the row line of each subtask); tables are then read line by line.

The issue link (``--write-back``):

* a story (or an epic kept as an issue) gets a row ``| **Issue** | [#12](https://...) |`` at the
  end of its metadata table, written in the style of the row above it; a story without a table
  gets a small ``| Field | Value |`` table under its heading; a horizontal metadata table gets an
  ``Issue`` column;
* a subtask table gets an ``Issue`` column (a header cell, a ``---`` cell, a cell per row);
  subtasks written as a list item get no link (noted);
* an existing ``Issue`` cell is replaced only when the link differs, so a second run changes
  nothing. The parser reads these cells and ignores them: they are not sent anywhere.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from spectryn_core.model import KEY_PATTERN, Epic, Spec, Story, Subtask
from spectryn_core.spec_edits import EditedSpec, SpecEdit
from spectryn_markdown.normalise import normalise_heading, strip_decoration
from spectryn_markdown.tables import FIELD_NAMES, SUBTASK_COLUMNS
from spectryn_markdown.textedits import TEXT_FIELDS, apply_text_edit, sections

_EOL = re.compile(r"\r\n|\n|\r")
_PIPE = re.compile(r"(?<!\\)\|")
_DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")
_HEADING = re.compile(r"^ {0,3}#{1,6}(?:\s|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_KEY_VALUE_HEADERS = {"field", "property", "attribute", "key", "name", "metadata"}
#: Spec words -> the emoji the example specs put before them (used when the cell had one).
STATUS_EMOJI = {"open": "📋", "in progress": "🔄", "in review": "👀", "done": "✅", "closed": "✖️",
                "blocked": "⏸️"}
PRIORITY_EMOJI = {"low": "🟢", "medium": "🟡", "high": "🟠", "critical": "🔴"}
ISSUE_FIELD = "issue"


# --- lines --------------------------------------------------------------------------------


class Lines:
    """The file as lines with their own line endings; edits replace a line's text or add lines
    after a line, so line numbers from the parser stay valid until :meth:`text`."""

    def __init__(self, text: str) -> None:
        self.bodies: list[str] = []
        self.endings: list[str] = []
        position = 0
        for match in _EOL.finditer(text):
            self.bodies.append(text[position:match.start()])
            self.endings.append(match.group())
            position = match.end()
        self.bodies.append(text[position:])
        self.endings.append("")
        if self.bodies[-1] == "" and len(self.bodies) > 1:  # text ended with a line ending
            self.bodies.pop()
            self.endings.pop()
        common = Counter(e for e in self.endings if e).most_common(1)
        self.newline = common[0][0] if common else "\n"
        self.added: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self.bodies)

    def __getitem__(self, index: int) -> str:
        return self.bodies[index] if 0 <= index < len(self.bodies) else ""

    def set(self, index: int, body: str) -> None:
        self.bodies[index] = body

    def add_after(self, index: int, bodies: list[str]) -> None:
        self.added.setdefault(index, []).extend(bodies)

    def text(self) -> str:
        out: list[str] = []
        for index, body in enumerate(self.bodies):
            ending = self.endings[index]
            extra = self.added.get(index, [])
            joint = ending or self.newline  # added lines use the line endings around them
            out.append(body + (joint if extra else ending))
            for position, line in enumerate(extra):
                out.append(line + (ending if position == len(extra) - 1 else joint))
        return "".join(out)


# --- tables -------------------------------------------------------------------------------


def cell_spans(body: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each cell of a table row, between its pipes (padding included)."""
    pipes = [m.start() for m in _PIPE.finditer(body)]
    if not pipes:
        return [(0, len(body))]
    indent = len(body) - len(body.lstrip())
    leading = body[:pipes[0]].strip() == ""
    trailing = body[pipes[-1] + 1:].strip() == ""
    bounds = ([] if leading else [indent - 1]) + pipes
    if not trailing:
        bounds.append(len(body.rstrip()))
    return [(bounds[i] + 1, bounds[i + 1]) for i in range(len(bounds) - 1)]


def cell_texts(body: str) -> list[str]:
    return [body[start:end].strip() for start, end in cell_spans(body)]


def replace_cell(body: str, index: int, content: str) -> str:
    """``body`` with the content of cell ``index`` replaced, its padding kept."""
    start, end = cell_spans(body)[index]
    segment = body[start:end]
    if not segment.strip():
        return body[:start] + f" {content} " + body[end:]
    left = start + len(segment) - len(segment.lstrip())
    right = end - (len(segment) - len(segment.rstrip()))
    return body[:left] + content + body[right:]


def append_cell(body: str, content: str) -> str:
    """``body`` with one more cell at the end, padded like the row's other cells."""
    pad = " " if re.search(r"\| | \|", body) else ""
    return append_segment(body, f"{pad}{content}{pad}" if content else pad)


def append_segment(body: str, segment: str) -> str:
    """``body`` with ``segment`` (a cell's raw text) as its last cell; a row written without
    a closing pipe gets one, which reads the same."""
    stripped = body.rstrip()
    tail = body[len(stripped):]
    if stripped.endswith("|") and not stripped.endswith("\\|"):
        return f"{stripped}{segment}|{tail}"
    return f"{stripped} |{segment}|{tail}"


def is_delimiter(body: str) -> bool:
    if "-" not in body:
        return False
    cells = cell_texts(body)
    return bool(cells) and all(_DELIMITER_CELL.match(cell or "") for cell in cells)


@dataclass
class TableAt:
    """A table's lines: ``header`` and ``delimiter`` indexes and its body row indexes."""

    header: int
    delimiter: int
    rows: list[int] = field(default_factory=list)

    def last(self) -> int:
        return self.rows[-1] if self.rows else self.delimiter


def table_starting(lines: Lines, index: int) -> TableAt | None:
    """The table whose header is line ``index``, or None."""
    head = lines[index]
    if "|" not in head or index + 1 >= len(lines) or not is_delimiter(lines[index + 1]):
        return None
    if len(cell_spans(head)) != len(cell_spans(lines[index + 1])):
        return None
    table = TableAt(index, index + 1)
    row = index + 2
    while row < len(lines) and lines[row].strip() and "|" in lines[row] and not _HEADING.match(lines[row]):
        table.rows.append(row)
        row += 1
    return table


def table_around(lines: Lines, row: int) -> TableAt | None:
    """The table that body row ``row`` belongs to, or None when the line is not a table row."""
    if "|" not in lines[row]:
        return None
    index = row
    while index > 0 and lines[index].strip() and "|" in lines[index]:
        if is_delimiter(lines[index]):
            table = table_starting(lines, index - 1)
            return table if table is not None and row in table.rows else None
        index -= 1
    return None


def metadata_table(lines: Lines, heading: int) -> tuple[TableAt, str] | None:
    """The metadata table under the heading at line ``heading`` and its shape (``vertical``,
    ``headerless`` or ``horizontal``): the first table before the next heading that is one."""
    fence: str | None = None
    index = heading + 1
    while index < len(lines):
        body = lines[index]
        marker = _FENCE.match(body)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
        elif marker:
            fence = marker.group(1)
        elif _HEADING.match(body):
            return None
        else:
            table = table_starting(lines, index)
            if table is not None:
                shape = _metadata_shape([normalise_heading(c) for c in cell_texts(body)])
                if shape:
                    return table, shape
                index = table.last()
        index += 1
    return None


def _metadata_shape(headers: list[str]) -> str | None:
    if len(headers) == 2 and headers[0] in _KEY_VALUE_HEADERS:
        return "vertical"
    if len(headers) == 2 and headers[0] in FIELD_NAMES and headers[1] not in FIELD_NAMES:
        return "headerless"
    if any(name in FIELD_NAMES or name == ISSUE_FIELD for name in headers):
        return "horizontal"
    return None


# --- values -------------------------------------------------------------------------------


def _decorated(old: str) -> bool:
    text = old.strip().strip("*_").strip()
    return bool(text) and (unicodedata.category(text[0])[0] == "S" or text.startswith(":"))


def styled(old: str, word: str, emoji: dict[str, str], *, spec_word: str) -> str:
    """``word`` written the way ``old`` was: the same emphasis, an emoji if it had one."""
    text = word
    if _decorated(old) and spec_word in emoji:
        text = f"{emoji[spec_word]} {word}"
    stripped = old.strip()
    for mark in ("**", "__", "*", "_"):
        if len(stripped) > 2 * len(mark) and stripped.startswith(mark) and stripped.endswith(mark):
            return f"{mark}{text}{mark}"
    return text


def display_word(value: str) -> str:
    """A spec word as a person writes it in a cell (``in progress`` -> ``In Progress``)."""
    return value.title() if value == value.lower() else value


#: Characters that can start inline markup or an entity; CommonMark reads any ASCII punctuation
#: character after a backslash as itself.
_MARKUP = re.compile(r"[\\`*_\[\]<>&!~]")
#: Characters a link destination cannot hold as they are (in a table cell).
_URL_SAFE = ":/?#@!$&'*+,;=%-._~"


def escape_text(text: str, place: str) -> str:
    """``text`` written so that the reader reads it back as ``text`` in a ``heading`` or a table
    ``cell``: markup characters backslash-escaped (text without any stays as it is), ``|`` in a
    cell, a ``#`` run at the end of a heading (it would close the heading). Line breaks and control
    characters cannot be written at all: see :func:`unwritable`."""
    if _MARKUP.search(text):
        text = _MARKUP.sub(r"\\\g<0>", text)
    if place == "cell":
        return text.replace("|", "\\|")
    return re.sub(r"#+$", lambda run: "\\" + run.group(), text)


def unwritable(value: str, field: str = "title") -> str:
    """Why tracker text cannot be written into a spec as the ``field`` (a title, an assignee) so
    that it reads back unchanged ("" when it can): a line break or a control character, spaces
    around it, a symbol or emoji at either end, which the reader takes for decoration (``🔧
    Login``), or an assignee's leading ``@`` (the reader drops it)."""
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp", "Cs"):
            what = "a line break" if char in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029" else (
                "a character that is not text" if category == "Cs" else f"a control character (U+{ord(char):04X})")
            return f"it holds {what}, which a spec cannot"
    if not value.strip():
        return "it is empty"
    if value != value.strip():
        return "it has spaces around it, which a spec cannot keep"
    if strip_decoration(value) != value:
        return "it starts or ends with a symbol or emoji, which the reader takes for decoration"
    if field == "assignee" and value.startswith("@"):
        return "it starts with @, which the reader takes for the mention sign"
    return ""


def link_target(url: str) -> str:
    """``url`` as a link destination inside a table cell: spaces, parentheses, ``|``, ``<>`` and
    other characters it cannot hold as they are are percent-encoded."""
    return quote(url, safe=_URL_SAFE)


def issue_cell(edit: SpecEdit) -> str:
    value = escape_text(edit.value, "cell")
    return f"[{value}]({link_target(edit.link)})" if edit.link else value


# --- the editor ---------------------------------------------------------------------------


class Editor:
    """Applies :class:`SpecEdit` objects to one file's :class:`Lines`, using a parse of it."""

    def __init__(self, text: str, spec: Spec) -> None:
        self.lines = Lines(text)
        self.notes: list[str] = []
        self.skipped: list[SpecEdit] = []
        self.stories: dict[str, Story] = {}
        self.epics: dict[str, Epic] = {}
        self.subtasks: dict[str, Subtask] = {}
        for epic in spec.epics:
            if epic.key:
                self.epics[epic.key] = epic
            for story in epic.stories:
                self.stories[story.key] = story
                for subtask in story.subtasks:
                    self.subtasks[subtask.key] = subtask

    def apply(self, edits: list[SpecEdit]) -> EditedSpec:
        by_table: dict[int, list[tuple[SpecEdit, int]]] = {}
        for edit in edits:
            if edit.field in TEXT_FIELDS:
                story = self.stories.get(edit.key)
                why = apply_text_edit(self.lines, story, edit) if story is not None else "no such story"
                if why is not None:
                    self.note(edit, why)
                continue
            if edit.key in self.subtasks:
                subtask = self.subtasks[edit.key]
                table = table_around(self.lines, subtask.line - 1)
                if table is None:
                    self.note(edit, "its subtask is a list item, not a table row; nothing written")
                    continue
                by_table.setdefault(table.header, []).append((edit, subtask.line - 1))
            elif edit.key in self.stories or edit.key in self.epics:
                item = self.stories.get(edit.key) or self.epics[edit.key]
                if edit.field == "title":
                    self.set_heading_title(item.line - 1, edit)
                else:
                    self.set_metadata(item.line - 1, edit)
            else:
                self.note(edit, "no such story, subtask or epic in the file")
        for header, cell_edits in by_table.items():
            table = table_starting(self.lines, header)
            assert table is not None
            self.set_subtask_cells(table, cell_edits)
        return EditedSpec(self.lines.text(), self.notes, self.skipped)

    def note(self, edit: SpecEdit, why: str) -> None:
        self.notes.append(f"{edit.key}: {edit.field} not written: {why}")
        self.skipped.append(edit)

    # --- headings ----------------------------------------------------------------------------

    def set_heading_title(self, index: int, edit: SpecEdit) -> None:
        body = self.lines[index]
        match = re.search(rf"\[?{re.escape(edit.key)}\]?(?![0-9A-Za-z_.])\s*[:\-–—|]?\s*", body)
        if match is None or not re.fullmatch(KEY_PATTERN + r"(?:\.\d+)?", edit.key):
            self.note(edit, "the heading does not carry the key")
            return
        end = len(body.rstrip())
        closing = re.search(r"\s+#+\s*$", body)
        if closing:
            end = closing.start()
        value = escape_text(edit.value, "heading")
        if body[match.end():end].strip() == value:
            return
        separator = body[match.start():match.end()]
        if not re.search(r"[:\-–—|]", separator):
            separator = separator.rstrip() + ": "
        self.lines.set(index, body[:match.start()] + separator + value + body[end:])

    # --- story / epic metadata ---------------------------------------------------------------

    def set_metadata(self, heading: int, edit: SpecEdit) -> None:
        found = metadata_table(self.lines, heading)
        field_name = edit.field
        if found is None:
            if field_name == "issue":
                self.add_metadata_table(heading, edit)
            else:
                self.note(edit, "the story has no metadata table")
            return
        table, shape = found
        if shape == "horizontal":
            self.set_horizontal(table, edit)
            return
        rows = ([table.header] if shape == "headerless" else []) + table.rows
        for row in rows:
            cells = cell_texts(self.lines[row])
            if len(cells) >= 2 and _field_of(cells[0]) == field_name:
                self.set_value(row, 1, edit)
                return
        if field_name != "issue":
            self.note(edit, f"the metadata table has no {field_name.title()} row")
            return
        template = self.lines[rows[-1]] if rows else "| **Field** | Value |"
        label = cell_texts(template)[0]
        name = "Issue"
        for mark in ("**", "__"):
            if label.startswith(mark) and label.endswith(mark) and len(label) > 2 * len(mark):
                name = f"{mark}Issue{mark}"
        added = replace_cell(replace_cell(template, 1, issue_cell(edit)), 0, name)
        self.lines.add_after(rows[-1] if rows else table.delimiter, [added])

    def add_metadata_table(self, heading: int, edit: SpecEdit) -> None:
        block = ["", "| Field | Value |", "|-------|-------|", f"| **Issue** | {issue_cell(edit)} |"]
        if self.lines[heading + 1].strip():
            block.append("")
        self.lines.add_after(heading, block)

    def set_horizontal(self, table: TableAt, edit: SpecEdit) -> None:
        headers = [_field_of(cell) for cell in cell_texts(self.lines[table.header])]
        if edit.field in headers:
            column = headers.index(edit.field)
            if table.rows:
                self.set_value(table.rows[0], column, edit)
            return
        if edit.field != "issue":
            self.note(edit, f"the metadata table has no {edit.field.title()} column")
            return
        self.add_column(table, {table.rows[0]: issue_cell(edit)} if table.rows else {})

    def set_value(self, row: int, column: int, edit: SpecEdit) -> None:
        body = self.lines[row]
        old = cell_texts(body)[column]
        new = self.cell_value(old, edit)
        if new is not None and new != old:
            self.lines.set(row, replace_cell(body, column, new))

    def cell_value(self, old: str, edit: SpecEdit) -> str | None:
        """The new content of a cell that holds ``old``; None to leave it."""
        if edit.field == "issue":
            return issue_cell(edit)
        if edit.field == "status":
            word = escape_text(display_word(edit.value), "cell")
            return styled(old, word, STATUS_EMOJI, spec_word=edit.value)
        if edit.field == "priority":
            word = escape_text(display_word(edit.value), "cell")
            return styled(old, word, PRIORITY_EMOJI, spec_word=edit.value)
        if edit.field == "assignee":
            at = "@" if "@" in old or not old.strip() else ""
            name = escape_text(edit.value, "cell")
            return styled(old, f"{at}{name}" if edit.value else "", {}, spec_word="")
        lead = ""
        for char in old:  # a title's leading emoji stays
            if unicodedata.category(char)[0] not in "SZM":
                break
            lead += char
        return lead + styled(old[len(lead):], escape_text(edit.value, "cell"), {}, spec_word="")

    # --- subtask tables ----------------------------------------------------------------------

    def set_subtask_cells(self, table: TableAt, edits: list[tuple[SpecEdit, int]]) -> None:
        headers = [normalise_heading(cell) for cell in cell_texts(self.lines[table.header])]
        raw_headers = cell_texts(self.lines[table.header])
        columns: dict[str, int] = {}
        for index, (name, raw) in enumerate(zip(headers, raw_headers, strict=False)):
            candidate = "#" if raw.strip() == "#" else name
            if candidate == ISSUE_FIELD and "issue" not in columns:
                columns["issue"] = index
                continue
            for attribute, names in SUBTASK_COLUMNS.items():
                if candidate in names and attribute not in columns:
                    columns[attribute] = index
                    break
        new_column: dict[int, str] = {}
        for edit, row in edits:
            wanted = "title" if edit.field == "title" else edit.field
            if wanted in columns:
                self.set_value(row, columns[wanted], edit)
            elif edit.field == "issue":
                new_column[row] = issue_cell(edit)
            else:
                self.note(edit, f"the subtask table has no {edit.field.title()} column")
        if new_column:
            self.add_column(table, new_column)

    def add_column(self, table: TableAt, values: dict[int, str]) -> None:
        """An ``Issue`` column at the right of ``table``: header, delimiter, a cell per row."""
        lines = self.lines
        header = lines[table.header]
        lines.set(table.header, append_cell(header, "Issue"))
        delimiter = lines[table.delimiter]
        start, stop = cell_spans(delimiter)[-1]
        spaced = delimiter[start:stop].startswith(" ")
        lines.set(table.delimiter, append_segment(delimiter, " ----- " if spaced else "-------"))
        for row in table.rows:
            lines.set(row, append_cell(lines[row], values.get(row, "")))


def _field_of(label: str) -> str | None:
    name = normalise_heading(label)
    if name == ISSUE_FIELD:
        return ISSUE_FIELD
    attribute = FIELD_NAMES.get(name)
    return "status" if attribute == "status" else attribute


def edit_text(text: str, spec: Spec, edits: list[SpecEdit]) -> EditedSpec:
    """Apply ``edits`` to the spec ``text`` that parsed into ``spec``."""
    return Editor(text, spec).apply(edits)


#: Fields whose values are the tracker's free text (a title, an account's name): each is checked
#: before it is written (:func:`unwritable`) and read back after.
CHECKED_FIELDS = ("title", "assignee")


def edit_spec_text(text: str, path: Path, edits: list[SpecEdit], *,
                   statuses: list[str] | None = None, priorities: list[str] | None = None) -> EditedSpec:
    """Parse ``text`` (as read from ``path``) and apply ``edits`` to it.

    Tracker text is escaped for where it goes; a value that cannot be written so that the reader
    reads back exactly that value (a line break, a control character ...) - or whose edit would
    change the spec's structure or add a problem - is not written: it is reported in ``notes``
    and listed in ``skipped``. Proven by reading the edited text back, not by how it looks."""
    from spectryn_markdown.parser import parse_text

    def parse(source: str) -> Spec:
        return parse_text(source, path, extra_statuses=statuses or (), extra_priorities=priorities or ())

    spec = parse(text)
    refused: list[tuple[SpecEdit, str]] = [
        (edit, reason) for edit in edits if edit.field in CHECKED_FIELDS
        and (reason := unwritable(edit.value, edit.field))]
    refused += [(edit, reason) for edit in edits if edit.field in TEXT_FIELDS
                and (reason := _unwritable_text(edit.value))]
    for _attempt in range(3):
        kept = [edit for edit in edits if all(edit is not r for r, _ in refused)]
        result = edit_text(text, spec, kept)
        failing = _not_read_back(spec, parse(result.text), kept, result.skipped)
        if not failing:
            break
        refused.extend(failing)
    else:  # never seen: a safety net, not a path - write none of the tracker's text
        refused.extend((edit, "the spec did not read it back") for edit in kept
                       if edit.field in (*CHECKED_FIELDS, *TEXT_FIELDS))
        result = edit_text(text, spec, [e for e in edits if e.field not in (*CHECKED_FIELDS, *TEXT_FIELDS)])
    for edit, reason in refused:
        shown = json.dumps(edit.value, ensure_ascii=False)
        result.notes.append(f"{edit.key}: {edit.field} {shown} not written: {reason}; change it in "
                            "the tracker or write it into the spec by hand")
        result.skipped.append(edit)
    return result


def _unwritable_text(value: str) -> str:
    """Why a pulled text (a paragraph, a criterion) cannot be written ("" when it can): a control
    character, a line break other than LF (a paragraph's lines), a character that is not text."""
    for line in value.split("\n"):
        reason = unwritable(line.strip() or "x")
        if reason.startswith("it holds"):
            return reason
    return ""


def _not_read_back(before: Spec, after: Spec, edits: list[SpecEdit],
                   unmade: list[SpecEdit]) -> list[tuple[SpecEdit, str]]:
    """The checked edits whose value the edited spec does not read back exactly, with why."""
    checked = [e for e in edits if e.field in (*CHECKED_FIELDS, *TEXT_FIELDS) and all(e is not u for u in unmade)]
    if (_outline(after) != _outline(before) or len(after.errors) > len(before.errors)
            or sections(after) != sections(before)):
        return [(edit, "it would change the spec's structure") for edit in checked]
    items = _items(after)
    failing = []
    for edit in checked:
        if edit.field in TEXT_FIELDS:
            continue  # pulled text: proven by the structure alone (it is markdown, kept as written)
        read = getattr(items.get(edit.key), edit.field, None)
        if read != edit.value:
            failing.append((edit, f"the spec would read it as {json.dumps(read, ensure_ascii=False)}"))
    return failing


def _items(spec: Spec) -> dict[str, Epic | Story | Subtask]:
    found: dict[str, Epic | Story | Subtask] = {}
    for epic in spec.epics:
        if epic.key:
            found[epic.key] = epic
        for story in epic.stories:
            found[story.key] = story
            found.update((subtask.key, subtask) for subtask in story.subtasks)
    return found


def _outline(spec: Spec) -> list[str]:
    """Every epic, story and subtask key in file order: what an edit may never change."""
    return [str(key) for key in _items(spec)]
