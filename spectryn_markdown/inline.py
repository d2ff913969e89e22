"""Inline markup (emphasis, links, code spans) of the small slices of text the reader reads.

Block structure comes from :mod:`spectryn_markdown.scanner`; a heading's text, a table cell or a
list item is handed here as the string markdown-it would give its inline parser, and parsed by
markdown-it-py only when it contains a character that can start markup. Results are cached:
a spec repeats the same cells (``**Priority**``, ``✅ Done``) on every story.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it.token import Token

#: A character that can start inline markup; text without any of them is plain text as written.
_MARKUP = re.compile(r"[\\`*_\[\]!<&\n]")
#: A whole slice that is one code span: `` `a1b2c3d` `` (CommonMark strips one space each side).
_CODE_ONLY = re.compile(r"`([^`\n]+)`")
#: A whole slice that is plain text in strong emphasis: ``**Story Points**`` (no markup inside, no
#: space just inside the delimiters, so CommonMark reads it as <strong>text</strong>).
_STRONG_ONLY = re.compile(r"\*\*(?!\s)([^\\`*_\[\]!<&\n]+)(?<!\s)\*\*")


@lru_cache(maxsize=1)
def _parser() -> Any:
    """markdown-it-py, imported and set up on first use (most cells are plain text; start-up time)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


def children(content: str) -> list[Token]:
    """The inline tokens of ``content`` (text, emphasis, links, code spans)."""
    if not _MARKUP.search(content):
        from markdown_it.token import Token

        return [Token("text", "", 0, content=content)]
    parsed = _parser().parseInline(content)
    return (parsed[0].children or []) if parsed else []


def _plain(tokens: list[Token]) -> str:
    parts: list[str] = []
    for child in tokens:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(_plain(child.children or []).strip())
    return "".join(parts)


def _parsed_text(content: str) -> str:
    return _plain(children(content)).strip()


@lru_cache(maxsize=8192)
def inline_text(content: str) -> str:
    """Plain text of an inline slice: emphasis and links unwrapped, code spans kept as their text."""
    if not _MARKUP.search(content):
        return content.strip()
    strong = _STRONG_ONLY.fullmatch(content)
    if strong:
        return strong.group(1).strip()
    code = _CODE_ONLY.fullmatch(content)
    if code:
        inner = code.group(1)
        if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
            inner = inner[1:-1]
        return inner.strip()
    return _parsed_text(content)


def links(content: str) -> list[tuple[str, str]]:
    """``(text, target)`` of every link and image in an inline slice."""
    if "[" not in content and "<" not in content:
        return []
    found: list[tuple[str, str]] = []
    tokens = children(content)
    for index, child in enumerate(tokens):
        if child.type == "link_open":
            text: list[str] = []
            for inner in tokens[index + 1:]:
                if inner.type == "link_close":
                    break
                if inner.type in ("text", "code_inline"):
                    text.append(inner.content)
            found.append(("".join(text).strip(), str(child.attrGet("href") or "")))
        elif child.type == "image":
            found.append((_plain(child.children or []).strip(), str(child.attrGet("src") or "")))
    return found


def source_of(lines: list[str], start: int, end: int) -> str:
    """Lines ``[start, end)`` as the author wrote them, without trailing blank lines."""
    return "\n".join(lines[start:end]).rstrip()
