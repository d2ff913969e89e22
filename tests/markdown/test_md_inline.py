"""The inline shortcuts give exactly what markdown-it-py's inline parser gives, and the scanner trims
with markdown-it-py's whitespace set."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.common.utils import MD_TRIM_CHARS

from spectryn_markdown.inline import inline_text
from spectryn_markdown.scanner import TRIM_CHARS

_MD = MarkdownIt("commonmark")
PIECES = st.sampled_from(["*", "**", "_", "`", " ", "\u00a0", "\u3000", "a", "Story Points", "(x)", "!", "\\",
                          "[", "]", "<", "&amp;", "🔄", ":", "\n", "-", "~"])


def reference(content: str) -> str:
    """Plain text the way the reader always read it: markdown-it-py's inline tokens, joined."""
    parsed = _MD.parseInline(content)
    parts: list[str] = []

    def walk(tokens: list) -> None:
        for token in tokens:
            if token.type in ("text", "code_inline"):
                parts.append(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                parts.append(" ")
            elif token.type == "image":
                inner: list[str] = []
                parts.append("")
                walk_into(token.children or [], inner)
                parts[-1] = "".join(inner).strip()

    def walk_into(tokens: list, out: list[str]) -> None:
        for token in tokens:
            if token.type in ("text", "code_inline"):
                out.append(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                out.append(" ")

    walk(parsed[0].children or [] if parsed else [])
    return "".join(parts).strip()


@settings(max_examples=800, deadline=None)
@given(st.lists(PIECES, max_size=8).map("".join))
def test_inline_text_matches_markdown_it(content: str) -> None:
    for wrapped in (content, f"**{content}**", f"`{content}`"):
        assert inline_text(wrapped) == reference(wrapped), repr(wrapped)


def test_trim_set_is_markdown_its() -> None:
    assert TRIM_CHARS == MD_TRIM_CHARS
