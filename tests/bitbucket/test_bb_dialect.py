"""CommonMark as the spec writes it -> Bitbucket's Python-Markdown (issue 27), checked by rendering
both and comparing what a person sees."""

from __future__ import annotations

import pytest

from spectryn_bitbucket.dialect import to_bitbucket
from spectryn_bitbucket.render import with_base
from spectryn_bitbucket.sandbox.rendering import render_html
from tests.support.html_structure import blocks, commonmark

CASES = {
    "two-space nesting": "- a\n  - b\n    - c\n- d",
    "list under a paragraph line": "Supported:\n- cards\n- wallets",
    "task items": "- [ ] open\n- [x] done\n  - [X] nested done",
    "ordered with )": "1) one\n2) two\n   - sub",
    "loose list": "- a\n\n- b\n\n  more b",
    "code in an item": "- step\n\n  ```\n  run it\n  ```",
    "quote under a paragraph": "Said:\n> quoted",
    "table under a heading": "##### Limits\n| a | b |\n|---|---|\n| 1 | 2 |",
    "plain text": "**As a** user\n**I want** x",
}


@pytest.mark.parametrize("text", CASES.values(), ids=list(CASES))
def test_python_markdown_shows_what_commonmark_shows(text: str) -> None:
    assert blocks(render_html(to_bitbucket(text))) == commonmark(text)


def test_two_space_nesting_alone_renders_flat_in_python_markdown() -> None:
    """Why the dialect exists: the spec's text as written is one flat list on Bitbucket."""
    text = CASES["two-space nesting"]
    assert blocks(render_html(text)) != commonmark(text)


def test_text_without_blocks_is_kept_as_written() -> None:
    text = "**As a** user\n**I want** to log in  \nwith two trailing spaces"
    assert to_bitbucket(text) == text


def test_the_base_line_renders_as_nothing_in_python_markdown() -> None:
    raw = with_base("Some text\n\nLabels: story", {"title": "1a2b3c4d", "extras": "abc123"})
    assert render_html(raw) == render_html("Some text\n\nLabels: story")
    assert "spectryn" not in render_html(raw)


def test_html_is_escaped_as_bitbucket_does() -> None:
    assert "&lt;details&gt;" in render_html("<details>x</details>")
    assert "<b>" not in render_html("a <b>bold</b> word")
