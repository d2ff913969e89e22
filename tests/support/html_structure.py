"""What a person sees in rendered HTML, as comparable values: blocks, lists nested with their items'
own text, task marks read as ballot boxes, whitespace collapsed.

Used to compare an issue's ``content.html`` (Python-Markdown, as Bitbucket renders it) with the
spec's own text rendered by CommonMark (markdown-it-py).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

_TASK = re.compile(r"^\[([ xX])\]\s+")
LISTS = ("ul", "ol")


def _text(element: ET.Element, skip_lists: bool = False) -> str:
    parts = [element.text or ""]
    for child in element:
        if not (skip_lists and child.tag in LISTS):
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _boxes(text: str) -> str:
    """``[ ] x`` -> ``☐ x`` and ``[x] x`` -> ``☑ x``: a task item as Bitbucket must show it."""
    match = _TASK.match(text)
    if match is None:
        return text
    return ("\u2610 " if match.group(1) == " " else "\u2611 ") + text[match.end():]


def _block(element: ET.Element) -> Any:
    if element.tag in LISTS:
        items = []
        for item in element:
            nested = [_block(child) for child in item if child.tag in LISTS]
            items.append((_boxes(_text(item, skip_lists=True)), nested))
        return (element.tag, items)
    if element.tag == "table":
        return ("table", [[_text(cell) for cell in row] for row in element.iter("tr")])
    if element.tag == "blockquote":
        return ("blockquote", [_block(child) for child in element])
    return (element.tag, _text(element))


def blocks(html: str) -> list[Any]:
    """The top-level blocks of ``html``: ``("p", text)``, ``("h2", text)``, ``("ul", [(text,
    [nested lists])...])``, ``("table", rows)``, ``("pre", text)``, ``("blockquote", blocks)``."""
    root = ET.fromstring(f"<div>{html}</div>")
    return [_block(child) for child in root]


def commonmark(text: str) -> list[Any]:
    """``text`` as CommonMark (with GFM tables) renders it, in :func:`blocks` form."""
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(text)
    return blocks(html.replace("<br />", " "))
