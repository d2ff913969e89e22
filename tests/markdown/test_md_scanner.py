"""The block scanner finds the same top-level blocks as markdown-it-py's full parse.

markdown-it-py (the ``commonmark`` preset with GFM tables, the parser the reader used before the
scanner) is the reference: same kinds, same line ranges, same heading/paragraph text, same table
cells, same list items with the inline texts inside them, same inline texts inside quotes.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from spectryn_markdown.fastpath import scan_text
from spectryn_markdown.scanner import scan

_MD = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "tests" / "data" / "specs").glob("*.md")) + sorted(
    (ROOT / "tests" / "data" / "bad").glob("*.md")) + [ROOT / "examples" / "EPIC.md"]

# Line pieces that exercise every block rule and the ways they interrupt and nest.
PIECES = [
    "# ", "## ", "### ", "#### ", "####### ", "#", "US-1: ", "| ", " |", "|", "|---|---|", "|---|", ":--", "--:",
    ":-:", "| a | b |", "---", "- - -", "***", "___", "===", "=", "-", "- [ ] ", "- [x] ", "- ", "* ", "+ ",
    "1. ", "2) ", "10. ", "> ", ">", "**@a** (d):", "```", "~~~", "````", "```js", "``` a`b", "<div>", "</div>",
    "<!-- ", " -->", "<script>", "</script>", "<?", "?>", "<!X", "<![CDATA[", "]]>", "<a href='x'>", "<span>",
    "\\|", "\\", "`", "[x](./a.png)", "[a]: /url", "[a]:", " 'title'", '"t"', "[b]", "PR #1", "🔄 ", "Status",
    " ", "  ", "   ", "    ", "     ", "\t", " \t", "a", "text", "b c", "\x00",
]
LINE = st.lists(st.one_of(st.sampled_from(PIECES), st.sampled_from(list("abc -|>#`*"))), max_size=7).map("".join)
DOCUMENT = st.tuples(st.lists(LINE, min_size=1, max_size=40), st.sampled_from(["", "\n", "\n\n", " "])).map(
    lambda parts: "\n".join(parts[0]) + parts[1])


def reference(text: str) -> list[list]:
    """Top-level blocks from markdown-it-py's tokens, in the shape :func:`scanned` gives."""
    tokens = _MD.parse(text)
    found: list[list] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        end = index
        if token.nesting == 1:
            depth = 0
            while end < len(tokens):
                depth += tokens[end].nesting
                if depth == 0:
                    break
                end += 1
        group = tokens[index:end + 1]
        kind = token.type.removesuffix("_open")
        start, stop = token.map or (0, 0)
        entry: list = [kind, start, stop]
        if kind == "heading":
            entry += [group[1].content, int(token.tag[1])]
        elif kind == "paragraph":
            entry.append(group[1].content)
        elif kind == "table":
            rows: list = []
            for inner in group:
                if inner.type == "tr_open":
                    rows.append((inner.map[0], []))
                elif inner.type == "inline":
                    rows[-1][1].append(inner.content)
            entry.append(rows)
        elif kind in ("bullet_list", "ordered_list"):
            items: list = []
            for inner in group:
                if inner.type == "list_item_open" and inner.level == 1:
                    items.append((inner.map[0], inner.map[1], []))
                elif inner.type == "inline":
                    items[-1][2].append((inner.content, inner.map[0]))
            entry.append(items)
        elif kind == "blockquote":
            entry.append([(inner.content, inner.map[0]) for inner in group if inner.type == "inline"])
        found.append(entry)
        index = end + 1
    return found


def scanned(text: str, exact: bool = False) -> list[list]:
    """What :func:`scan_text` (the fast path and the scanner) finds, or with ``exact`` the scanner alone."""
    text = text.replace("\x00", "\ufffd")
    found: list[list] = []
    for block in (scan(text.split("\n")) if exact else scan_text(text)):
        entry: list = [block.kind, block.start, block.end]
        if block.kind == "heading":
            entry += [block.content, block.level]
        elif block.kind == "paragraph":
            entry.append(block.content)
        elif block.kind == "table":
            entry.append([(line, list(cells)) for line, cells in block.rows])
        elif block.kind in ("bullet_list", "ordered_list"):
            entry.append([(item.start, item.end, list(item.inlines)) for item in block.items])
        elif block.kind == "blockquote":
            entry.append(list(block.nested))
        found.append(entry)
    return found


def test_spec_files_scan_like_markdown_it() -> None:
    for path in FILES:
        text = path.read_bytes().decode("utf-8-sig", "replace").replace("\r\n", "\n").replace("\r", "\n")
        assert scanned(text) == reference(text), path.name
        assert scanned(text, exact=True) == reference(text), path.name


@settings(max_examples=1500, deadline=None)
@given(DOCUMENT)
def test_awkward_documents_scan_like_markdown_it(text: str) -> None:
    expected = reference(text)
    assert scanned(text) == expected
    assert scanned(text, exact=True) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_scans_like_markdown_it(text: str) -> None:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    assert scanned(text) == reference(text)


def test_deep_nesting_stops_where_markdown_it_stops() -> None:
    for text in ("> " * 25 + "deep\n", "- " * 25 + "deep\n", "> - " * 12 + "x\n\nafter\n"):
        assert scanned(text) == reference(text)
