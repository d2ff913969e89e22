"""Split markdown-it's token stream into top-level blocks with their source lines.

Only blocks at nesting level 0 shape a spec (headings, tables, lists, quotes, paragraphs); a
heading inside a blockquote, list or code fence is content of that block, never structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

# Block structure comes from one parse of the whole file; inline markup (emphasis, links, code
# spans) is parsed only for the inline tokens the reader asks about, and not kept: that halves
# the parse time and keeps memory to the block tokens (see ``children``).
_MD = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
_INLINE = MarkdownIt("commonmark")
#: A character that can start inline markup; text without any of them is plain text as written.
_MARKUP = re.compile(r"[\\`*_\[\]!<&\n]")


@dataclass
class Block:
    """One top-level block: its kind (``heading``, ``table``, ``bullet_list``, ``paragraph``,
    ``blockquote``, ``fence`` ...), 0-based line range ``[start, end)`` and its tokens."""

    kind: str
    start: int
    end: int
    tokens: list[Token] = field(default_factory=list)
    level: int = 0

    @property
    def line(self) -> int:
        """The 1-based line where the block starts."""
        return self.start + 1

    def inline(self) -> Token | None:
        """The first inline token of the block (a heading's or paragraph's text)."""
        for token in self.tokens:
            if token.type == "inline":
                return token
        return None


def children(token: Token) -> list[Token]:
    """The inline tokens of ``token`` (text, emphasis, links, code spans), parsed on demand."""
    if token.children:  # already parsed (an image's alt text, or a token from parseInline)
        return token.children
    if not _MARKUP.search(token.content):
        return [Token("text", "", 0, content=token.content)]
    parsed = _INLINE.parseInline(token.content)
    return (parsed[0].children or []) if parsed else []


def inline_text(token: Token | None) -> str:
    """Plain text of an inline token: emphasis and links unwrapped, code spans kept as their text."""
    if token is None:
        return ""
    parts: list[str] = []
    for child in children(token):
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(inline_text(child))
    return "".join(parts).strip()


def split_blocks(text: str) -> list[Block]:
    """Parse ``text`` (newlines already normalised to ``\\n``) into its top-level blocks."""
    tokens = _MD.parse(text)
    blocks: list[Block] = []
    index = 0
    count = len(tokens)
    while index < count:
        token = tokens[index]
        end = index
        if token.nesting == 1:
            depth = 0
            while end < count:
                depth += tokens[end].nesting
                if depth == 0:
                    break
                end += 1
        group = tokens[index : end + 1]
        start, stop = token.map if token.map else (0, 0)
        kind = token.type[: -len("_open")] if token.type.endswith("_open") else token.type
        level = int(token.tag[1]) if kind == "heading" else 0
        blocks.append(Block(kind, start, stop, group, level))
        index = end + 1
    return blocks


def source_of(lines: list[str], block: Block) -> str:
    """The block's markdown source as the author wrote it, without trailing blank lines."""
    return "\n".join(lines[block.start : block.end]).rstrip()
