"""Top-level blocks of a whole document: the common shapes by one regular expression, the rest by the scanner.

A spec is mostly ATX headings, pipe tables, one-line list items, short paragraphs, quoted comments
and rules, each starting at column 0. For those shapes CommonMark's block rules leave nothing to
decide line by line, so :data:`_BLOCK` matches a whole block in one call (the regex engine walks
the characters in C). Each alternative accepts only text where the answer is certain: every line
of it starts with a character that cannot open or interrupt another block, and the block is
followed by what certainly ends it (a blank line, an ATX heading, the end). Anything else -
indentation, fences, HTML, setext headings, lazy lines, loose lists, a line that might be a table's
delimiter row - goes to :class:`~spectryn_markdown.scanner._Scanner` (markdown-it-py's rules, line
by line) for a window of lines, and the fast path resumes after the blocks the scanner finished.

Both paths give the same :class:`~spectryn_markdown.scanner.Block` objects, with ``pos``/``stop``
(the text offsets of lines ``start`` and ``end``) so a reader can slice a block's source out of the
text. ``tests/markdown/test_md_scanner.py`` checks the result against markdown-it-py's own tokens.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from itertools import accumulate

from spectryn_markdown.scanner import (
    TRIM_CHARS,
    Block,
    Item,
    _Scanner,
    body_row,
    delimiter_aligns,
    row_cells,
)
from spectryn_markdown.tables import cell_count

# A line's first character when that line, at column 0, can only be paragraph text: not a space
# (indentation), not a character that can open a heading, quote, fence, HTML block, list, rule,
# setext underline or table delimiter row - unless what follows rules that out (``**bold**`` is no
# list item, ``2024-01-15`` no ordered marker, `` `code` `` no fence).
_PLAIN = r"""(?:
      [^\x20\t\n\#>`~<|\[\-:=*+_0-9]
    | `(?!``) | ~(?!~~)
    | \*(?![\x20\t\n]|\Z)(?![*\x20\t]*(?:\n|\Z))
    | \+(?![\x20\t\n]|\Z)
    | _(?![_\x20\t]*(?:\n|\Z))
    | [0-9](?![0-9]{0,8}[.)](?:[\x20\t\n]|\Z))
)"""
# The first line of a paragraph may also start with "[" when it cannot be a link reference
# definition (the label closes on the line and no ":" follows); later lines may start with "[".
_FIRST = rf"(?:{_PLAIN}|\[(?=[^\]\[\\\n]*\](?!:)))"
_NEXT = rf"(?:{_PLAIN}|\[)"
_LINE_END = r"(?:\n|\Z)"
_ATX = r"\#{1,6}(?:[\x20\t\n]|\Z)"
# What certainly ends a paragraph, a quote or a table at the top level: the end, a blank line, an ATX heading.
_ENDS = rf"(?=\Z|[\x20\t]*{_LINE_END}|{_ATX})"
# A line that might be a table's delimiter row (any line of only | : - spaces and tabs): the line above it
# might be a table's header, which only the scanner decides.
_NO_DELIMITER_NEXT = r"(?![\x20\t]*[|:\-][|:\-\x20\t]*(?:\n|\Z))"



def _items(marker: str) -> str:
    """One-line list items, each starting with ``marker`` (a list's items share their marker: no backreference,
    which CPython 3.11 cannot have under a possessive repetition, gh-101955)."""
    return rf"{marker}\x20{_FIRST}[^\n]*{_LINE_END}(?:{marker}\x20{_FIRST}[^\n]*{_LINE_END})*"


_BULLET_ITEMS = "|".join(_items(marker) for marker in (r"-", r"\*", r"\+"))
_ORDERED_ITEMS = "|".join(_items(marker) for marker in (r"[0-9]{1,9}\.", r"[0-9]{1,9}\)"))


#: A heading line of any level the fast path takes (``{levels}``: a quantifier such as ``{1,6}``).
HEADING_LINE = r"\#{levels}(?:[\x20\t][^\n]*)?" + _LINE_END + _NO_DELIMITER_NEXT
#: The block alternatives of :data:`_BLOCK` after its blank lines, headings of ``{levels}`` (see ``HEADING_LINE``).
BLOCK_ALTERNATIVES = rf"""
    (?P<heading>{HEADING_LINE})
  | (?P<hr>(?:(?:\*[\x20\t]*){{3,}}|(?:-[\x20\t]*){{3,}}|(?:_[\x20\t]*){{3,}}){_LINE_END}){_NO_DELIMITER_NEXT}
  | (?P<table>\|[^\n]*\n[|:\-][|:\-\x20\t]*{_LINE_END}(?:\|[^\n]*{_LINE_END})*){_ENDS}
  | (?P<paragraph>{_FIRST}[^\n]*{_LINE_END}(?:{_NEXT}[^\n]*{_LINE_END})*){_ENDS}
  | (?P<quote>>\x20{_FIRST}[^\n]*{_LINE_END}(?:>\x20{_NEXT}[^\n]*{_LINE_END})*){_ENDS}
  | (?P<bullet_list>{_BULLET_ITEMS})
        (?=\Z|{_ATX}|(?:[\x20\t]*\n)+(?:[\x20\t]*\Z|[^\x20\t\n*+\-0-9]))
  | (?P<ordered_list>{_ORDERED_ITEMS})
        (?=\Z|{_ATX}|(?:[\x20\t]*\n)+(?:[\x20\t]*\Z|[^\x20\t\n*+\-0-9]))
"""
_BLOCK = re.compile(r"(?:[\x20\t]*\n)*+(?:"  # blank lines before the block, taken for good
                    + BLOCK_ALTERNATIVES.replace("{levels}", "{1,6}") + ")", re.VERBOSE)
_BLANKS = re.compile(r"(?:[\x20\t]*\n)+")
_SPACES_TO_END = re.compile(r"[\x20\t]*\Z")
_ORDERED_MARKER = re.compile(r"[0-9]+[.)]\x20")
_FIRST_WINDOW = 32  # lines handed to the scanner at first; four times more each time that is too few


def _trim(text: str) -> str:
    return text.strip(TRIM_CHARS)


def scan_text(text: str) -> Generator[Block, tuple[int, int] | None, None]:
    """The top-level blocks of ``text`` (``\\n`` line ends, no NUL characters), one at a time.

    ``send((pos, line))`` instead of ``next()`` skips to offset ``pos``, the start of 0-based line ``line``,
    and gives the first block from there: a reader that has read a stretch of the text itself (a story,
    :mod:`spectryn_markdown.storypath`) resumes after it. ``pos`` must be where a block of this scan may
    start (the end of the blocks read, blank lines after them included or not)."""
    size = len(text)
    last_newline = text.rfind("\n")
    spaces_last = _SPACES_TO_END.match(text, last_newline + 1) is not None  # markdown-it drops that line
    line_max = text.count("\n") + (0 if spaces_last else 1)
    tail = last_newline + 1 if spaces_last else size  # where line ``line_max`` starts
    match_block = _BLOCK.match
    skip_blanks = _BLANKS.match
    count = text.count
    pos = 0
    line = 0
    while True:
        found = match_block(text, pos)
        if found is None:
            blanks = skip_blanks(text, pos)
            if blanks is not None:
                stop = blanks.end()
                line += count("\n", pos, stop)
                pos = stop
            if line >= line_max:
                return
            blocks, pos, line = _scan_window(text, pos, line, line_max)
            jump = yield from _each(blocks)
            if jump is not None:
                pos, line = jump
            continue
        kind = found.lastgroup or ""  # the outer group closes last: "bullet_list", not its "bullet"
        start = found.start(kind)
        if start != pos:  # after blank lines
            line += count("\n", pos, start)
            pos = start
        stop = found.end()
        if kind == "heading":  # one line
            end = line + 1
            block = Block(kind, line, end, pos, stop)
            chunk = text[pos:stop]
            rest = chunk.lstrip("#")
            block.level = len(chunk) - len(rest)
            rest = rest.rstrip(" \t\n")
            block.content = rest.strip(TRIM_CHARS) if rest[-1:] != "#" else closed_heading(rest)
            jump = yield block
            pos, line = (stop, end) if jump is None else jump
            continue
        # lines of the block: its "\n"s, and the last line if the text ends without one
        end = line + count("\n", pos, stop) + (stop == size and text[stop - 1:stop] != "\n")
        if kind == "paragraph":
            block = Block(kind, line, end, pos, stop)
            block.content = text[pos:stop].strip(TRIM_CHARS)
        elif kind == "table":
            table = _table(text[pos:stop].split("\n"), line)
            if table is None:  # not a table after all (column counts differ): the scanner decides
                blocks, pos, line = _scan_window(text, pos, line, line_max)
                jump = yield from _each(blocks)
                if jump is not None:
                    pos, line = jump
                continue
            block = table
            block.pos = pos
            block.stop = stop
        elif kind == "quote":
            block = Block("blockquote", line, end, pos, stop)
            # every line starts with "> " (the pattern says so): the text inside is the rest of each line
            block.nested = [(text[pos + 2:stop].replace("\n> ", "\n").strip(TRIM_CHARS), line)]
        elif kind == "hr":
            block = Block(kind, line, end, pos, stop)
        else:
            lines = text[pos:stop].split("\n")
            if lines[-1] == "":
                lines.pop()
            blanks = skip_blanks(text, stop)
            if blanks is not None:  # a list ends at the next line with text (markdown-it's map)
                end = min(end + count("\n", stop, blanks.end()), line_max)
                stop = blanks.end() if end < line_max else tail
            block = _list(kind, lines, line, end, pos, stop)
        jump = yield block
        pos, line = (stop, end) if jump is None else jump


def _each(blocks: list[Block]) -> Generator[Block, tuple[int, int] | None, tuple[int, int] | None]:
    """Yield ``blocks`` until one is answered by a jump (``send``); return that jump, or None."""
    for block in blocks:
        jump = yield block
        if jump is not None:
            return jump
    return None


def closed_heading(rest: str) -> str:
    """A heading's text after its ``#`` marks, without a closing sequence of ``#`` (markdown-it's heading rule)."""
    closing = rest.rstrip("#")
    if not closing or closing[-1] in " \t":
        rest = closing
    return rest.strip(TRIM_CHARS)


#: Header and delimiter rows already read (a spec repeats the same few on every story): the header's
#: trimmed cells and whether it counts no more cells as written than GFM reads (then only the rows
#: ``uneven`` lists can be short: :func:`~spectryn_markdown.tables.short_rows`), the delimiter row's column count. Cleared when large (a file of many shapes).
_HEADERS: dict[str, tuple[list[str], bool]] = {}
_DELIMITERS: dict[str, int] = {}


def header_cells(header: str) -> tuple[list[str], bool]:
    """A header row's trimmed cells and whether it counts no more cells as written than GFM reads (kept)."""
    known = _HEADERS.get(header)
    if known is None:
        if len(_HEADERS) > 512:
            _HEADERS.clear()
        cells = [cell.strip(TRIM_CHARS) for cell in row_cells(_trim(header))]
        known = _HEADERS[header] = (cells, cell_count(header) <= len(cells))
    return known


def delimiter_width(line: str) -> int:
    """The columns a delimiter row declares, 0 if it is none (:func:`~spectryn_markdown.scanner.delimiter_aligns`, kept)."""
    aligns = _DELIMITERS.get(line)
    if aligns is None:
        if len(_DELIMITERS) > 512:
            _DELIMITERS.clear()
        aligns = _DELIMITERS[line] = delimiter_aligns(line)
    return aligns


def _table(lines: list[str], start: int) -> Block | None:
    """The table of ``lines`` (header, delimiter row, body rows, maybe an empty rest), as the scanner's
    table rule reads it."""
    if lines[-1] == "":
        lines.pop()
    head, even_header = _HEADERS.get(lines[0]) or header_cells(lines[0])
    width = len(head)
    aligns = _DELIMITERS.get(lines[1])
    if aligns is None:
        aligns = delimiter_width(lines[1])
    if width == 0 or width != aligns:
        return None
    rows = [(start, head[:])]
    uneven: list[int] = []
    autocompleted = 0
    line = start + 2
    for text in lines[2:]:
        body = text.strip(TRIM_CHARS)
        cells = body.split("|")
        # the common row: "| a | b |" with the header's width, no escaped pipe, no odd spaces at its ends
        if len(cells) == width + 2 and not cells[0] and not cells[-1] and "\\" not in body and body.strip() == body:
            del cells[0]
            cells.pop()
            rows.append((line, [cell.strip(TRIM_CHARS) for cell in cells]))
        else:
            autocompleted = body_row(body, line, width, rows, uneven, autocompleted)
            if autocompleted > 0x10000:  # markdown-it's cap on made-up cells: where it ends the table, the scanner decides
                return None
        line += 1
    block = Block("table", start, line)
    block.rows = rows
    block.uneven = uneven
    block.even_header = even_header
    return block


def _list(kind: str, lines: list[str], start: int, end: int, pos: int, stop: int) -> Block:
    block = Block(kind, start, end, pos, stop)
    items = block.items = []
    line = start
    for text in lines:
        offset = 2 if kind == "bullet_list" else _ORDERED_MARKER.match(text).end()  # type: ignore[union-attr]
        items.append(Item(line, line + 1, [(text[offset:].strip(TRIM_CHARS), line)]))
        line += 1
    items[-1].end = end
    return block


def _scan_window(text: str, pos: int, line: int, line_max: int) -> tuple[list[Block], int, int]:
    """Blocks from ``pos`` (line ``line``) by the scanner, and the offset and line where it stopped.

    A top-level block never depends on what came before it, so the scanner can start at ``pos``,
    over a window of lines. A block rule reads at most the line after the next line with text past
    what it took (a link reference definition may read further, and the scanner notes how far), so
    a step is kept when that line is well inside the window (or the window reaches the end of the
    text); when not even the first step is, the window grows.
    """
    window = _FIRST_WINDOW
    size = len(text)
    while True:
        stop = pos
        for _ in range(window):
            stop = text.find("\n", stop) + 1
            if stop == 0:
                stop = size
                break
        at_end = _SPACES_TO_END.match(text, stop) is not None
        lines = text[pos:stop].split("\n")
        if not at_end:
            lines.pop()  # the empty rest after the window's last "\n"
        starts = list(accumulate((len(text) + 1 for text in lines), initial=pos))
        real = len(lines)
        scanner = _Scanner(lines)
        kept: list[Block] = []
        resume = 0
        for after, blocks in scanner.steps():
            following = scanner.skip_empty(after) if after < scanner.line_max else after
            # a link reference definition may read a title far ahead and then end before it
            following = max(following, scanner.furthest)
            if not at_end and following + 3 >= real:
                break
            for block in blocks:
                block.pos = starts[block.start]
                block.stop = min(starts[block.end], size)
                _shift(block, line)
                kept.append(block)
            resume = after
        if resume:
            return kept, min(starts[resume], size), line + resume
        if at_end:  # only blank lines were left
            return kept, size, line_max
        window *= 4


def _shift(block: Block, lines: int) -> None:
    """Move a block found in a window starting at line ``lines`` to its place in the document."""
    block.start += lines
    block.end += lines
    for item in block.items:
        item.start += lines
        item.end += lines
        item.inlines[:] = [(content, line + lines) for content, line in item.inlines]
    if block.nested:
        block.nested[:] = [(content, line + lines) for content, line in block.nested]
    if block.rows:
        block.rows[:] = [(line + lines, cells) for line, cells in block.rows]
    if block.uneven:
        block.uneven[:] = [line + lines for line in block.uneven]
