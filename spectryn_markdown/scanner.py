"""The top-level block structure of a markdown document, by CommonMark's block rules.

This is markdown-it-py's block tokenizer (the ``commonmark`` preset with GFM tables) redone for
what the spec reader needs: the same rules in the same order with the same container and
laziness handling, so blocks start and end on the same lines, but without building a token tree.
Only top-level blocks are kept, with the little the reader reads from them: a heading's level and
text, a paragraph's text, a table's cells, a list's items and every inline text inside a list or
quote (with its line). Inline markup is parsed later, and only for the slices a field needs
(:mod:`spectryn_markdown.inline`). :mod:`spectryn_markdown.fastpath` takes the common block shapes
by regular expression and hands the rest to this scanner.

Each rule below carries the name of the markdown-it rule it follows; line state is kept per line
(``bm`` begin offset, ``ts`` indent characters, ``sc`` indent columns, ``bs`` columns eaten by a
quote marker), as markdown-it keeps it, so container rules can narrow a line and restore it.
``tests/markdown/test_md_scanner.py`` compares the result with markdown-it-py's token stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

_MAX_NESTING = 20  # markdown-it's commonmark preset
_HEADER_CELL = re.compile(r"^:?-+:?$")
_DIGITS = frozenset("0123456789")
#: First characters with which a line can start a fence, quote, rule, list, HTML block or heading.
_INTERRUPT = frozenset("`~>*-_+<#0123456789")
_DELIMITER_START = ("|", "-", ":")
#: What markdown-it-py trims from a heading, a paragraph or a cell: JavaScript's ``trim`` set minus
#: U+FEFF (tab, line ends, space, U+00A0, U+1680, U+2000-U+200A, U+2028/9, U+202F, U+205F, U+3000).
TRIM_CHARS = "".join(chr(code) for code in sorted(
    {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000}
    | set(range(0x2000, 0x200B))))
_REF_SPACE = frozenset(" \t")  # markdown-it's isSpace

Inline = tuple[str, int]
"""An inline text as markdown-it gives it (not yet parsed for emphasis, links...) and its 0-based line."""


_NONE: list = []  # shared and never appended to


class Item:
    """One top-level list item: 0-based line range ``[start, end)`` and its inline texts in order."""

    __slots__ = ("start", "end", "inlines")

    def __init__(self, start: int, end: int, inlines: list[Inline]) -> None:
        self.start = start
        self.end = end
        self.inlines = inlines


class Block:
    """One top-level block.

    ``kind`` is markdown-it's token name without ``_open``: ``heading``, ``paragraph``, ``table``,
    ``bullet_list``, ``ordered_list``, ``blockquote``, ``fence``, ``code_block``, ``html_block`` or
    ``hr``. ``start``/``end`` is the 0-based line range ``[start, end)``. A heading has ``level``
    and ``content``; a paragraph ``content``; a table ``rows`` (``(line, cells)``, the header
    first, each row padded to the header's width); a list ``items``; a quote ``nested``, the inline
    texts inside it.
    """

    # what only some kinds have is a class default, set on the blocks that have it (fewer stores per block)
    level = 0
    content = ""
    rows: list[tuple[int, list[str]]] = _NONE
    items: list[Item] = _NONE
    nested: list[Inline] = _NONE
    uneven: list[int] = _NONE  # table rows with fewer cells than the header (or odd spaces at an end)
    #: a table whose header row has as many cells counted as written as GFM reads (set by the fast path)
    even_header = False

    def __init__(self, kind: str, start: int, end: int, pos: int = 0, stop: int = 0) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.pos = pos  # offsets in the text of lines ``start`` and ``end`` (set by scan_text)
        self.stop = stop

    @property
    def line(self) -> int:
        """The 1-based line where the block starts."""
        return self.start + 1

    def inlines(self) -> list[Inline]:
        """Every inline text of the block, in document order, with its 0-based line."""
        kind = self.kind
        if kind == "paragraph" or kind == "heading":
            return [(self.content, self.start)]
        if kind == "table":
            return [(cell, line) for line, cells in self.rows for cell in cells]
        if self.items:
            return [inline for item in self.items for inline in item.inlines]
        return self.nested

    def __repr__(self) -> str:
        return f"Block({self.kind!r}, {self.start}, {self.end})"


def _trim(text: str) -> str:
    return text.strip(TRIM_CHARS)


@cache
def _markdown_it() -> Any:
    """markdown-it-py's pieces for the rare rules (HTML blocks, link reference definitions),
    imported on first use so a spec without them never loads the library (start-up time)."""
    from types import SimpleNamespace

    from markdown_it.common.normalize_url import normalizeLink, validateLink
    from markdown_it.common.utils import normalizeReference
    from markdown_it.helpers import parseLinkDestination, parseLinkTitle
    from markdown_it.rules_block.html_block import HTML_SEQUENCES

    return SimpleNamespace(normalizeLink=normalizeLink, validateLink=validateLink,
                           normalizeReference=normalizeReference, parseLinkDestination=parseLinkDestination,
                           parseLinkTitle=parseLinkTitle, HTML_SEQUENCES=HTML_SEQUENCES)


def _escaped_split(text: str) -> list[str]:
    """A table row's cells: ``|`` splits unless escaped, and ``\\|`` becomes ``|`` (markdown-it's escapedSplit)."""
    if "\\" not in text:
        return text.split("|")
    result: list[str] = []
    current = ""
    last = 0
    escaped = False
    for pos, ch in enumerate(text):
        if ch == "|":
            if not escaped:
                result.append(current + text[last:pos])
                current = ""
                last = pos + 1
            else:
                current += text[last:pos - 1]
                last = pos
        escaped = ch == "\\"
    result.append(current + text[last:])
    return result


def row_cells(text: str) -> list[str]:
    columns = _escaped_split(text)
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    return columns


def delimiter_aligns(text: str) -> int:
    """How many columns a GFM delimiter row (``|---|:-:|``, from its first non-space character)
    declares, or 0 if ``text`` is not one (markdown-it's table rule)."""
    if len(text) < 2:
        return 0
    first, second = text[0], text[1]
    if first not in "|-:" or second not in "|-: \t" or (first == "-" and second in " \t"):
        return 0
    if text[2:].strip("|-: \t"):
        return 0
    columns = text.split("|")
    aligns = 0
    last = len(columns) - 1
    for index, column in enumerate(columns):
        cell = _trim(column)
        if not cell:
            if index == 0 or index == last:
                continue
            return 0
        if not _HEADER_CELL.search(cell):
            return 0
        aligns += 1
    return aligns


def body_row(body: str, line: int, width: int, rows: list[tuple[int, list[str]]], uneven: list[int],
             autocompleted: int) -> int:
    """Add one table body row (``body`` trimmed, not empty) padded to ``width``; note it in ``uneven``
    if it is short or has odd spaces at an end. Returns the running count of cells made up, which
    markdown-it caps (the caller stops the table before the row that passes 0x10000)."""
    columns = row_cells(body)
    autocompleted += width - len(columns)
    if autocompleted > 0x10000:
        return autocompleted
    if len(columns) != width:
        if len(columns) < width:
            uneven.append(line)
        columns = (columns + [""] * width)[:width]
    elif body.strip() != body:
        uneven.append(line)
    rows.append((line, [_trim(cell) if cell else "" for cell in columns]))
    return autocompleted


class _Scanner:
    """One document's line state and the blocks found so far (see the module docstring)."""

    def __init__(self, lines: list[str]) -> None:
        if lines and not lines[-1].strip(" \t"):
            lines.pop()  # markdown-it does not count a last line of spaces, or the empty rest after "\n"
        self.line_max = len(lines)
        lines.append("")  # markdown-it's fake last line
        self.lines = lines
        self.ts = ts = [len(line) - len(line.lstrip(" \t")) for line in lines]
        if any("\t" in line[:indent] for line, indent in zip(lines, ts, strict=True) if indent):
            self.sc = [_columns(line, indent) if indent else 0 for line, indent in zip(lines, ts, strict=True)]
        else:
            self.sc = ts.copy()
        self.bm = [0] * len(lines)
        self.bs = [0] * len(lines)
        self.blk = 0
        self.list_indent = -1
        self.parent = "root"
        self.level = 0
        self.line = 0
        self.sink: list[Inline] | None = None  # inline texts inside the current top-level container
        self.furthest = 0  # the furthest line a link reference definition looked at (it may then give it back)
        self.blocks: list[Block] = []

    # --- helpers (markdown-it's StateBlock methods) ------------------------------------------

    def is_empty(self, line: int) -> bool:
        return self.bm[line] + self.ts[line] >= len(self.lines[line])

    def skip_empty(self, line: int) -> int:
        line_max = self.line_max
        lines, bm, ts = self.lines, self.bm, self.ts
        while line < line_max and bm[line] + ts[line] >= len(lines[line]):
            line += 1
        return line

    def get_lines(self, begin: int, end: int, indent: int, keep_last_lf: bool) -> str:
        if begin >= end:
            return ""
        lines, bm, ts, bs = self.lines, self.bm, self.ts, self.bs
        if indent == 0:
            parts = [lines[line][bm[line]:] for line in range(begin, end)]
            return "\n".join(parts) + ("\n" if keep_last_lf else "")
        parts = []
        for line in range(begin, end):
            text = lines[line]
            if line + 1 < end or keep_last_lf:
                text += "\n"
            first = start = bm[line]
            last = len(text)
            line_indent = 0
            while first < last and line_indent < indent:
                ch = text[first]
                if ch == " ":
                    line_indent += 1
                elif ch == "\t":
                    line_indent += 4 - (line_indent + bs[line]) % 4
                elif first - start < ts[line]:
                    line_indent += 1
                else:
                    break
                first += 1
            if line_indent > indent:
                parts.append(" " * (line_indent - indent) + text[first:last])
            else:
                parts.append(text[first:last])
        return "".join(parts)

    # --- the block tokenizer (markdown-it's ParserBlock.tokenize) ------------------------------

    def tokenize(self, start: int, end: int) -> None:
        line = start
        sc = self.sc
        while line < end:
            self.line = line = self.skip_empty(line)
            if line >= end or sc[line] < self.blk:
                break
            if self.level >= _MAX_NESTING:
                self.line = end
                break
            self.block(line, end)
            line = self.line
            if line < end and self.is_empty(line):
                line += 1
                self.line = line

    def top_level(self) -> Iterator[Block]:
        """:meth:`tokenize` of the whole document, yielding each top-level block once it is read."""
        for _, blocks in self.steps():
            yield from blocks

    def steps(self) -> Iterator[tuple[int, list[Block]]]:
        """One step per block rule applied at the top level: the line after what the rule read, and
        the blocks it made (none for a link reference definition)."""
        line = 0
        end = self.line_max
        found = self.blocks
        while line < end:
            self.line = line = self.skip_empty(line)
            if line >= end:
                break
            self.block(line, end)
            line = self.line
            yield line, found[:]
            found.clear()

    def block(self, line: int, end: int) -> None:
        """Apply the first block rule that matches at ``line`` (markdown-it's rule order)."""
        lines, bm, ts = self.lines, self.bm, self.ts
        text = lines[line]
        pos = bm[line] + ts[line]
        ch = text[pos] if pos < len(text) else "\n"
        if line + 1 < end:  # a table needs a delimiter row next
            after = lines[line + 1]
            lead = bm[line + 1] + ts[line + 1]
            if after[lead:lead + 1] in _DELIMITER_START and self.table(line, end, False):
                return
        if self.sc[line] - self.blk >= 4:
            self.code(line, end)
            return
        if ch not in _INTERRUPT and ch != "[":
            self.paragraph(line, end)  # no other rule can match: the common case, straight away
            return
        if ch == "#":
            if not self.heading(line, False):
                self.paragraph(line, end)
            return
        if ch == "`" or ch == "~":
            if self.fence(line, end, False):
                return
        elif ch == ">":
            self.blockquote(line, end)
            return
        if ch in "*-_" and self.hr(line, False):
            return
        if (ch in "*-+" or ch in _DIGITS) and self.list(line, end, False):
            return
        if ch == "[" and self.reference(line):
            return
        if ch == "<" and self.html_block(line, end, False):
            return
        self.paragraph(line, end)

    # --- terminators: may ``line`` interrupt the block being read? ------------------------------

    def ends_paragraph(self, line: int, end: int) -> bool:
        """markdown-it's "paragraph" (and "reference") terminators: table, fence, blockquote, hr, list, html_block, heading."""
        return self.table(line, end, True) or self._interrupted(line, end, True)

    def ends_blockquote(self, line: int, end: int) -> bool:
        """markdown-it's "blockquote" terminators: fence, blockquote, hr, list, html_block, heading."""
        return self._interrupted(line, end, True)

    def ends_list(self, line: int, end: int) -> bool:
        """markdown-it's "list" terminators: fence, blockquote, hr."""
        return self._interrupted(line, end, False)

    def _interrupted(self, line: int, end: int, more: bool) -> bool:
        """Whether ``line`` starts a block that interrupts (``more``: lists, HTML and headings too)."""
        text = self.lines[line]
        pos = self.bm[line] + self.ts[line]
        ch = text[pos] if pos < len(text) else "\n"
        return ch in _INTERRUPT and self.interrupts(line, end, ch, more)

    def interrupts(self, line: int, end: int, ch: str, more: bool) -> bool:
        if ch == "`" or ch == "~":
            if self.fence(line, end, True):
                return True
        elif ch == ">" and self.sc[line] - self.blk < 4:
            return True
        if ch in "*-_" and self.hr(line, True):
            return True
        if not more:
            return False
        if (ch in "*-+" or ch in _DIGITS) and self.list(line, end, True):
            return True
        if ch == "<" and self.html_block(line, end, True):
            return True
        return ch == "#" and self.heading(line, True)

    # --- leaf blocks ---------------------------------------------------------------------------

    def code(self, start: int, end: int) -> None:
        """markdown-it's ``code``: lines indented 4+ columns (blank lines inside kept)."""
        last = line = start + 1
        sc, blk = self.sc, self.blk
        while line < end:
            if self.is_empty(line):
                line += 1
                continue
            if sc[line] - blk >= 4:
                line += 1
                last = line
                continue
            break
        self.line = last
        self.emit("code_block", start, last)

    def fence(self, start: int, end: int, silent: bool) -> bool:
        """markdown-it's ``fence``: ``` or ~~~ up to a closing run at least as long."""
        if self.sc[start] - self.blk >= 4:
            return False
        text = self.lines[start]
        pos = self.bm[start] + self.ts[start]
        maximum = len(text)
        if pos + 3 > maximum:
            return False
        marker = text[pos]
        if marker != "`" and marker != "~":
            return False
        mem = pos
        while pos < maximum and text[pos] == marker:
            pos += 1
        length = pos - mem
        if length < 3:
            return False
        if marker == "`" and "`" in text[pos:]:
            return False
        if silent:
            return True
        lines, bm, ts, sc, blk = self.lines, self.bm, self.ts, self.sc, self.blk
        closed = False
        line = start
        while True:
            line += 1
            if line >= end:
                break
            text = lines[line]
            pos = mem = bm[line] + ts[line]
            maximum = len(text)
            if pos < maximum and sc[line] < blk:
                break
            if pos >= maximum or text[pos] != marker:
                continue
            if sc[line] - blk >= 4:
                continue
            while pos < maximum and text[pos] == marker:
                pos += 1
            if pos - mem < length:
                continue
            if text[pos:].strip(" \t"):
                continue
            closed = True
            break
        self.line = line + (1 if closed else 0)
        self.emit("fence", start, self.line)
        return True

    def hr(self, line: int, silent: bool) -> bool:
        """markdown-it's ``hr``: three or more ``*``, ``-`` or ``_``, spaces allowed between."""
        if self.sc[line] - self.blk >= 4:
            return False
        text = self.lines[line]
        pos = self.bm[line] + self.ts[line]
        marker = text[pos] if pos < len(text) else "\n"
        if marker not in ("*", "-", "_"):
            return False
        rest = text[pos:]
        if rest.strip(" \t" + marker) or rest.count(marker) < 3:
            return False
        if silent:
            return True
        self.line = line + 1
        self.emit("hr", line, line + 1)
        return True

    def heading(self, line: int, silent: bool) -> bool:
        """markdown-it's ``heading``: ``#`` to ``######`` then a space or the line's end."""
        if self.sc[line] - self.blk >= 4:
            return False
        text = self.lines[line]
        pos = self.bm[line] + self.ts[line]
        maximum = len(text)
        if pos >= maximum or text[pos] != "#":
            return False
        level = 1
        pos += 1
        while pos < maximum and text[pos] == "#" and level <= 6:
            level += 1
            pos += 1
        if level > 6 or (pos < maximum and text[pos] != " " and text[pos] != "\t"):
            return False
        if silent:
            return True
        # drop trailing spaces, then a closing run of "#" preceded by a space
        maximum = pos + len(text[pos:].rstrip(" \t"))
        tmp = maximum
        while tmp > pos and text[tmp - 1] == "#":
            tmp -= 1
        if tmp > pos and text[tmp - 1] in " \t":
            maximum = tmp
        self.line = line + 1
        content = _trim(text[pos:maximum])
        if self.sink is None:
            block = self.emit("heading", line, line + 1)
            block.level = level
            block.content = content
        else:
            self.sink.append((content, line))
        return True

    def html_block(self, start: int, end: int, silent: bool) -> bool:
        """markdown-it's ``html_block``: the seven CommonMark start conditions and their ends."""
        if self.sc[start] - self.blk >= 4:
            return False
        text = self.lines[start]
        pos = self.bm[start] + self.ts[start]
        if pos >= len(text) or text[pos] != "<":
            return False
        line_text = text[pos:]
        sequence = None
        for candidate in _markdown_it().HTML_SEQUENCES:
            if candidate[0].search(line_text):
                sequence = candidate
                break
        if sequence is None:
            return False
        if silent:
            return sequence[2]
        line = start + 1
        ends_on_blank = bool(sequence[1].search(""))
        if not sequence[1].search(line_text):
            while line < end:
                if self.sc[line] < self.blk and (ends_on_blank or not self.is_empty(line)):
                    break
                line_text = self.lines[line][self.bm[line] + self.ts[line]:]
                if sequence[1].search(line_text):
                    if len(line_text) != 0:
                        line += 1
                    break
                line += 1
        self.line = line
        self.emit("html_block", start, line)
        return True

    def table(self, start: int, end: int, silent: bool) -> bool:
        """markdown-it's ``table`` (GFM): a header row, a delimiter row, body rows until a blank line."""
        if start + 2 > end:
            return False
        lines, bm, ts, sc, blk = self.lines, self.bm, self.ts, self.sc, self.blk
        nxt = start + 1
        if sc[nxt] < blk or sc[nxt] - blk >= 4:
            return False
        aligns = delimiter_aligns(lines[nxt][bm[nxt] + ts[nxt]:])
        if aligns <= 0:
            return False
        header = _trim(lines[start][bm[start] + ts[start]:])
        if "|" not in header or sc[start] - blk >= 4:
            return False
        head = row_cells(header)
        width = len(head)
        if width == 0 or width != aligns:
            return False
        if silent:
            return True
        parent = self.parent
        self.parent = "table"
        rows = [(start, [_trim(cell) for cell in head])]
        uneven: list[int] = []
        autocompleted = 0
        line = start + 2
        while line < end:
            if sc[line] < blk:
                break
            if self.ends_blockquote(line, end):
                break
            body = _trim(lines[line][bm[line] + ts[line]:])
            if not body or sc[line] - blk >= 4:
                break
            autocompleted = body_row(body, line, width, rows, uneven, autocompleted)
            if autocompleted > 0x10000:
                break
            line += 1
        self.parent = parent
        self.line = line
        if self.sink is None:
            block = self.emit("table", start, line)
            block.rows = rows
            block.uneven = uneven
        else:
            self.sink.extend((cell, row_line) for row_line, cells in rows for cell in cells)
        return True

    def reference(self, start: int) -> bool:
        """markdown-it's ``reference``: ``[label]: destination "title"`` (read, and left out)."""
        if self.sc[start] - self.blk >= 4:
            return False
        text = self.lines[start]
        pos = self.bm[start] + self.ts[start]
        if pos >= len(text) or text[pos] != "[":
            return False
        string = text[pos:] + "\n"
        next_line = start + 1

        def extend() -> bool:
            """Append the next line if it continues the definition (markdown-it's getNextLine)."""
            nonlocal string, next_line
            more = self._reference_line(next_line)
            if more is None:
                return False
            string += more
            next_line += 1
            return True

        def skip_spaces(pos: int) -> int:
            """Past spaces, tabs and line ends (taking the next line at each end)."""
            while pos < len(string):
                ch = string[pos]
                if ch == "\n":
                    extend()
                elif ch not in _REF_SPACE:
                    break
                pos += 1
            return pos

        label_end = None
        pos = 1
        while pos < len(string):
            ch = string[pos]
            if ch == "[":
                return False
            if ch == "]":
                label_end = pos
                break
            if ch == "\n":
                extend()
            elif ch == "\\":
                pos += 1
                if pos < len(string) and string[pos] == "\n":
                    extend()
            pos += 1
        if label_end is None or label_end + 1 >= len(string) or string[label_end + 1] != ":":
            return False
        pos = skip_spaces(label_end + 2)
        helpers = _markdown_it()
        destination = helpers.parseLinkDestination(string, pos, len(string))
        if not destination.ok:
            return False
        if not helpers.validateLink(helpers.normalizeLink(destination.str)):
            return False
        pos = destination_end = title_start = destination.pos
        destination_line = next_line
        pos = skip_spaces(pos)
        title = helpers.parseLinkTitle(string, pos, len(string), None)
        while title.can_continue:
            taken = len(string)
            if not extend():
                break
            pos = taken  # the title goes on where the new line starts
            title = helpers.parseLinkTitle(string, pos, len(string), title)
        maximum = len(string)
        has_title = False
        if pos < maximum and title_start != pos and title.ok:
            has_title = bool(title.str)
            pos = title.pos
        else:
            pos = destination_end
            next_line = destination_line
        while pos < maximum and string[pos] in _REF_SPACE:
            pos += 1
        if pos < maximum and string[pos] != "\n" and has_title:
            pos = destination_end
            next_line = destination_line
            while pos < maximum and string[pos] in _REF_SPACE:
                pos += 1
        if pos < maximum and string[pos] != "\n":
            return False
        if not helpers.normalizeReference(string[1:label_end]):
            return False
        self.line = next_line
        return True

    def _reference_line(self, line: int) -> str | None:
        """markdown-it's ``getNextLine`` of the reference rule: the next line if it continues the definition."""
        if line > self.furthest:
            self.furthest = line
        if line >= self.line_max or self.is_empty(line):
            return None
        if self.sc[line] - self.blk < 4 and self.sc[line] >= 0:
            parent = self.parent
            self.parent = "reference"
            stop = self.ends_paragraph(line, self.line_max)
            self.parent = parent
            if stop:
                return None
        return self.lines[line][self.bm[line] + self.ts[line]:] + "\n"

    def paragraph(self, start: int, end: int) -> None:
        """markdown-it's ``lheading`` and ``paragraph`` in one pass: lines up to a blank line or a
        block that may interrupt a paragraph, a heading if an ``===`` / ``---`` line comes first."""
        line_max = self.line_max
        lines, bm, ts, sc, blk = self.lines, self.bm, self.ts, self.sc, self.blk
        parent = self.parent
        self.parent = "paragraph"
        level = 0
        line = start + 1
        while line < line_max:
            text = lines[line]
            pos = bm[line] + ts[line]
            if pos >= len(text):
                break
            count = sc[line]
            if count - blk > 3:
                line += 1
                continue
            ch = text[pos]
            if (ch == "-" or ch == "=") and count >= blk and line < end and not text[pos:].lstrip(ch).strip(" \t"):
                level = 1 if ch == "=" else 2
                break
            if count < 0:
                line += 1
                continue
            if ch not in _INTERRUPT:
                # only the table rule can end the paragraph here, and only before a delimiter row
                after = lines[line + 1] if line + 1 < line_max else ""
                lead = bm[line + 1] + ts[line + 1] if line + 1 < line_max else 0
                if after[lead:lead + 1] in _DELIMITER_START and self.table(line, line_max, True):
                    break
                line += 1
                continue
            if self.ends_paragraph(line, line_max):
                break
            line += 1
        self.parent = parent
        if level:
            content = _trim(self.get_lines(start, line, blk, False))
            self.line = line + 1
            if self.sink is None:
                block = self.emit("heading", start, line + 1)
                block.level = level
                block.content = content
            else:
                self.sink.append((content, start))
            return
        content = _trim(self.get_lines(start, line, blk, False))
        self.line = line
        if self.sink is None:
            self.emit("paragraph", start, line).content = content
        else:
            self.sink.append((content, start))

    # --- containers ----------------------------------------------------------------------------

    def blockquote(self, start: int, end: int) -> None:
        """markdown-it's ``blockquote``: ``>`` lines, lazy paragraph lines, then their blocks inside."""
        lines, bm, ts, sc, bs = self.lines, self.bm, self.ts, self.sc, self.bs
        line_max = self.line_max
        saved: list[tuple[int, int, int, int]] = []
        line = start
        last_empty = False
        first = True
        while line < end:
            if not first:
                outdented = sc[line] < self.blk
                text = lines[line]
                pos = bm[line] + ts[line]
                if pos >= len(text):
                    break
                if text[pos] != ">" or outdented:
                    if last_empty:
                        break
                    parent = self.parent
                    self.parent = "blockquote"
                    stop = self.ends_blockquote(line, end)
                    self.parent = parent
                    if stop:
                        self.line_max = line
                        if self.blk != 0:
                            saved.append((bm[line], bs[line], ts[line], sc[line]))
                            sc[line] -= self.blk
                        break
                    saved.append((bm[line], bs[line], ts[line], sc[line]))
                    sc[line] = -1
                    line += 1
                    continue
            first = False
            text = lines[line]
            pos = bm[line] + ts[line] + 1  # after ">"
            maximum = len(text)
            initial = offset = sc[line] + 1
            after = text[pos] if pos < maximum else None
            adjust_tab = False
            space_after = False
            if after == " ":
                pos += 1
                initial += 1
                offset += 1
                space_after = True
            elif after == "\t":
                space_after = True
                if (bs[line] + offset) % 4 == 3:
                    pos += 1
                    initial += 1
                    offset += 1
                else:
                    adjust_tab = True
            saved.append((bm[line], bs[line], ts[line], sc[line]))
            bm[line] = pos
            while pos < maximum:
                ch = text[pos]
                if ch == " ":
                    offset += 1
                elif ch == "\t":
                    offset += 4 - (offset + bs[line] + (1 if adjust_tab else 0)) % 4
                else:
                    break
                pos += 1
            last_empty = pos >= maximum
            bs[line] = sc[line] + 1 + (1 if space_after else 0)
            sc[line] = offset - initial
            ts[line] = pos - bm[line]
            line += 1
        old_indent = self.blk
        self.blk = 0
        parent = self.parent
        self.parent = "blockquote"
        top = self.sink is None
        block = None
        block = self.emit("blockquote", start, 0)
        if top:
            self.sink = block.nested = []
        self.level += 1
        self.tokenize(start, line)
        self.level -= 1
        if top:
            self.sink = None
            block.end = self.line
        self.line_max = line_max
        self.parent = parent
        for index, (old_bm, old_bs, old_ts, old_sc) in enumerate(saved):
            bm[start + index] = old_bm
            bs[start + index] = old_bs
            ts[start + index] = old_ts
            sc[start + index] = old_sc
        self.blk = old_indent

    def list(self, start: int, end: int, silent: bool) -> bool:
        """markdown-it's ``list``: items of one marker type, each holding the blocks indented under it."""
        lines, bm, ts, sc, bs = self.lines, self.bm, self.ts, self.sc, self.bs
        if sc[start] - self.blk >= 4:
            return False
        if self.list_indent >= 0 and sc[start] - self.list_indent >= 4 and sc[start] < self.blk:
            return False
        terminating = silent and self.parent == "paragraph" and sc[start] >= self.blk
        after_marker = self.ordered_marker(start)
        if after_marker >= 0:
            ordered = True
            begin = bm[start] + ts[start]
            if terminating and int(lines[start][begin:after_marker - 1]) != 1:
                return False
        else:
            after_marker = self.bullet_marker(start)
            if after_marker < 0:
                return False
            ordered = False
        if terminating and not lines[start][after_marker:].strip(" \t"):
            return False
        if silent:
            return True
        marker = lines[start][after_marker - 1]
        top = self.sink is None
        block = self.emit("ordered_list" if ordered else "bullet_list", start, 0)
        block.items = []
        self.level += 1
        parent = self.parent
        self.parent = "list"
        line = start
        while line < end:
            item_start = line
            text = lines[line]
            pos = after_marker
            maximum = len(text)
            initial = offset = sc[line] + after_marker - (bm[start] + ts[start])
            while pos < maximum:
                ch = text[pos]
                if ch == "\t":
                    offset += 4 - (offset + bs[line]) % 4
                elif ch == " ":
                    offset += 1
                else:
                    break
                pos += 1
            content_start = pos
            after = 1 if content_start >= maximum else offset - initial
            if after > 4:
                after = 1
            indent = initial + after
            old_ts, old_sc = ts[start], sc[start]
            old_list_indent = self.list_indent
            self.list_indent = self.blk
            self.blk = indent
            ts[start] = content_start - bm[start]
            sc[start] = offset
            item_inlines: list[Inline] = []
            saved_sink = self.sink
            if top:
                self.sink = item_inlines
            self.level += 1
            if content_start >= maximum and self.is_empty(start + 1):
                self.line = min(self.line + 2, end)
            else:
                self.tokenize(start, end)
            self.level -= 1
            self.sink = saved_sink
            self.blk = self.list_indent
            self.list_indent = old_list_indent
            ts[start], sc[start] = old_ts, old_sc
            line = start = self.line
            if top:
                block.items.append(Item(item_start, line, item_inlines))
            if line >= end or sc[line] < self.blk or sc[line] - self.blk >= 4:
                break
            if self.ends_list(line, end):
                break
            if ordered:
                after_marker = self.ordered_marker(line)
                if after_marker < 0:
                    break
            else:
                after_marker = self.bullet_marker(line)
                if after_marker < 0:
                    break
            if marker != lines[line][after_marker - 1]:
                break
        self.level -= 1
        self.parent = parent
        self.line = line
        if top:
            block.end = line
        return True

    def bullet_marker(self, line: int) -> int:
        text = self.lines[line]
        pos = self.bm[line] + self.ts[line]
        maximum = len(text)
        if pos >= maximum or text[pos] not in "*-+":
            return -1
        pos += 1
        if pos < maximum and text[pos] != " " and text[pos] != "\t":
            return -1
        return pos

    def ordered_marker(self, line: int) -> int:
        text = self.lines[line]
        start = pos = self.bm[line] + self.ts[line]
        maximum = len(text)
        if pos + 1 >= maximum or text[pos] not in _DIGITS:
            return -1
        pos += 1
        while True:
            if pos >= maximum:
                return -1
            ch = text[pos]
            pos += 1
            if ch in _DIGITS:
                if pos - start >= 10:
                    return -1
                continue
            if ch == ")" or ch == ".":
                break
            return -1
        if pos < maximum and text[pos] != " " and text[pos] != "\t":
            return -1
        return pos

    def emit(self, kind: str, start: int, end: int) -> Block:
        """A new block; kept only at the top level (inside a container it is read through its inlines)."""
        block = Block(kind, start, end)
        if self.sink is None:
            self.blocks.append(block)
        return block


def _columns(line: str, indent: int) -> int:
    """The column after ``indent`` leading spaces and tabs (tab stops every 4 columns)."""
    column = 0
    for ch in line[:indent]:
        column += 4 - column % 4 if ch == "\t" else 1
    return column


def scan(lines: list[str]) -> Iterator[Block]:
    """The top-level blocks of a document given as its lines (split on ``\\n``, no NUL characters).

    Blocks come one at a time as the scan goes, so a reader that is done with a block lets it go
    (a large file never holds all of them). ``lines`` is used in place: a last line of only spaces
    may be removed and an empty one added (markdown-it's view of the end of a document).
    """
    return _Scanner(lines).top_level()
