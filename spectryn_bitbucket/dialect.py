"""Markdown as the spec writes it (CommonMark) -> markdown as Bitbucket renders it (Python-Markdown).

Bitbucket Cloud renders issue text with Python-Markdown (raw HTML escaped), which differs from
CommonMark where specs are concerned (``../shared/bitbucket-api.md``, "Rendering and hidden
lines"):

- a nested list needs four spaces per level: two (what editors write, CommonMark accepts) renders
  one flat list;
- a list, quote or table must follow a blank line: directly under a paragraph line it is part of
  the paragraph;
- there are no task lists: ``- [ ]`` shows its brackets (BCLOUD-8586), so a task item becomes a
  ballot box, ``☐`` open or ``☑`` done - the marks the acceptance criteria use;
- an ordered list is ``1.``, never ``1)``.

:func:`to_bitbucket` re-writes only what differs: top-level blocks are kept line for line as
written and separated by a blank line; lists are written again, four spaces per level, with each
leaf block of an item (paragraph lines, a code fence, a table) as written. The block structure
comes from markdown-it-py (CommonMark's rules, as the spec reader applies them), imported on
first use.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

#: How criteria and task items show in Bitbucket: a ballot box, empty or checked.
BOX = {False: "\u2610", True: "\u2611"}  # ☐ ☑
INDENT = "    "  # one nesting level in Python-Markdown
_TASK = re.compile(r"^\[([ xX])\](?=\s|$)\s*")
_MARKER = re.compile(r"^(\s*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$)")
#: Text that needs no re-writing: no line starts a list, quote, table or other block that a
#: paragraph line above it would swallow in Python-Markdown.
_SIMPLE = re.compile(r"^\s*(?:[-*+>|]|\d{1,9}[.)]|#|```|~~~|<)", re.M)


@cache
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def task_mark(text: str) -> str:
    """``[ ] x`` -> ``☐ x``, ``[x] x`` -> ``☑ x``; other text unchanged."""
    match = _TASK.match(text)
    if match is None:
        return text
    rest = text[match.end():]
    return f"{BOX[match.group(1) != ' ']} {rest}" if rest else BOX[match.group(1) != " "]


def to_bitbucket(text: str) -> str:
    """``text`` (CommonMark, as written in the spec) written so that Python-Markdown shows the same
    structure. Text without lists, quotes, tables or headings is returned as it is."""
    text = text.strip("\n")
    if not text or _SIMPLE.search(text) is None:
        return text
    lines = text.split("\n")
    tokens = _parser().parse(text)
    blocks: list[str] = []
    covered = 0  # lines before this one belong to blocks already written
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.level != 0 or token.map is None or token.nesting == -1:
            index += 1
            continue
        start, end = token.map
        _keep_unparsed(lines, covered, start, blocks)  # e.g. link reference definitions
        if token.type in ("bullet_list_open", "ordered_list_open"):
            written, index = _list(tokens, index, lines, 0)
            blocks.append("\n".join(written))
        else:
            blocks.append("\n".join(lines[start:end]).rstrip())
            index = _skip(tokens, index)
        covered = max(covered, end)
    _keep_unparsed(lines, covered, len(lines), blocks)
    return "\n\n".join(block for block in blocks if block.strip())


def _keep_unparsed(lines: list[str], start: int, end: int, blocks: list[str]) -> None:
    """Lines no block token covers (link reference definitions), kept as written."""
    kept = [line for line in lines[start:end] if line.strip()]
    if kept:
        blocks.append("\n".join(kept))


def _skip(tokens: list[Any], index: int) -> int:
    """The index after the block that opens at ``index`` (its closing token, or itself)."""
    token = tokens[index]
    if token.nesting != 1:
        return index + 1
    depth = 0
    while index < len(tokens):
        depth += tokens[index].nesting
        index += 1
        if depth == 0:
            return index
    return index


def _list(tokens: list[Any], index: int, lines: list[str], depth: int) -> tuple[list[str], int]:
    """Write the list opening at ``index`` at nesting ``depth``; return its lines and the index
    after it."""
    opener = tokens[index]
    ordered = opener.type == "ordered_list_open"
    number = int(opener.attrGet("start") or 1) if ordered else 0
    pad = INDENT * depth
    close = opener.type.replace("_open", "_close")
    loose = False
    items: list[list[str]] = []
    index += 1
    while tokens[index].type != close:
        item = tokens[index]  # list_item_open
        column = _content_column(lines, item.map[0] if item.map else 0)
        marker = f"{number}." if ordered else (item.markup or "-")
        number += 1
        body: list[str] = []
        first = True
        index += 1
        while tokens[index].type != "list_item_close":
            token = tokens[index]
            if token.type in ("bullet_list_open", "ordered_list_open"):
                nested, index = _list(tokens, index, lines, depth + 1)
                body.extend(nested)
                first = False
                continue
            if token.type == "paragraph_open":
                loose = loose or not token.hidden
                inline = tokens[index + 1]
                para = inline.content.split("\n")
                if first:
                    para[0] = task_mark(para[0])
                    body.append(f"{pad}{marker} {para[0]}".rstrip())
                    body.extend(f"{pad}{INDENT}{line}" for line in para[1:])
                else:
                    body.append("")
                    body.extend(f"{pad}{INDENT}{line}" for line in para)
                first = False
                index = _skip(tokens, index)
                continue
            # any other block in an item (code, quote, table, heading): its lines as written,
            # moved from the item's column to this depth's
            start, end = token.map or (0, 0)
            if first:
                body.append(f"{pad}{marker}")
                first = False
            body.append("")
            body.extend(f"{pad}{INDENT}{_dedent(line, column)}".rstrip() for line in lines[start:end])
            index = _skip(tokens, index)
        if first:  # an empty item
            body.append(f"{pad}{marker}")
        items.append(body)
        index += 1  # past list_item_close
    written: list[str] = []
    for number_, body in enumerate(items):
        if loose and number_:
            written.append("")
        written.extend(body)
    return written, index + 1


def _content_column(lines: list[str], line: int) -> int:
    """The column where a list item's content starts (after its marker and spaces)."""
    match = _MARKER.match(lines[line]) if line < len(lines) else None
    if match is None:
        return 0
    width = len(match.group(0).expandtabs(4))
    marker_end = len(match.group(0).rstrip(" \t").expandtabs(4))
    return marker_end + 1 if width - marker_end > 4 or width == marker_end else width


def _dedent(line: str, column: int) -> str:
    """``line`` without up to ``column`` leading spaces."""
    expanded = line.expandtabs(4)
    strip = min(column, len(expanded) - len(expanded.lstrip(" ")))
    return expanded[strip:]
