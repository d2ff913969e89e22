"""The fast path (:mod:`spectryn_markdown.fastpath`) finds what markdown-it-py finds, and carries the common case.

``scan_text`` matches common block shapes with one regular expression (``_BLOCK``) and hands the
rest to the exact scanner in windows of lines. The generator here builds spec-like documents from
those shapes and puts, right after them, the lines at the edges of each alternative and its
lookaheads (setext underlines, lazy lines, loose lists, other markers, delimiter-like lines, fences,
HTML, indentation, trailing spaces, a last line without newline). Every result is compared with
markdown-it-py (``reference`` from ``test_md_scanner``) and every block's ``pos``/``stop`` with the
offsets of its lines. Other tests count the scanner's calls and the lines it was handed, so that
disabling the fast path, or a window that rescans the document, fails a test (counts, not times).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_parse import generate_spec
from spectryn_markdown import fastpath
from spectryn_markdown.fastpath import scan_text
from spectryn_markdown.scanner import Block, scan
from tests.markdown.test_md_scanner import DOCUMENT, reference, scanned

ROOT = Path(__file__).resolve().parents[2]
EPIC = ROOT / "examples" / "EPIC.md"
#: What examples/EPIC.md needs from the scanner today (measured: one window of 32 lines, for a list followed by a
#: blank line and ``---``): a regression guard, lower it when it drops.
EPIC_WINDOW_CALLS = 1
EPIC_SCANNER_LINES = 32
WINDOWS = [1, 2, 3, 32]  # 32 is fastpath's own first window; 1-3 put window edges everywhere

# --- the generator ------------------------------------------------------------------------------

# Inline text of a line (never its first character: that is chosen below).
WORD = st.sampled_from([
    "a", "text", " b c", " **bold**", " `code`", " x | y", " \\|", " [x](./a.png)", " PR #1", " 🔄 Done",
    " 2024-01-15", "  ", "\t", " é", "\u00a0", " #", " *", " -", " _", " >", " <b>", " [a]", ":", " ```",
    "\x0c", "\x1c", "\x85", "\u2028", "\ufeff", "\u3000",
])
REST = st.lists(WORD, max_size=3).map("".join)
# First characters that leave a line paragraph text, and some right at the edge of that.
START = st.sampled_from([
    "a", "Status", "*a*", "**b** x", "+a", "_a_", "__b__", "2024-01-15", "1234567890. x", "12a", "1.5", "3)x",
    "`x`", "``x``", "~x", "~~x~~", "[a] b", "[a](/u)", "[a][b]", "[ ] x", "[x]", "\\# x", "é", "\u00a0x", "!x",
    "&amp;", "a:b", "**@alice** (2024-01-15):", "🔄 x", "\\", "\\|", "\x0cx", "\x1c", "\ufeffa", "\u2028",
])
PLAIN = st.tuples(START, REST).map("".join)

# Lines to put right after a shape (or anywhere): each can open, continue, interrupt or underline.
EDGES = [
    "===", "=", "---", "-", "--", "- ", "- x", "-  x", "-\tx", "* x", "+ x", "*", "+", "_", "**", "__", "_ _ _",
    "* * *", " ***", "1. x", "1.", "1) x", "2. x", "2) x", "10. x", "0. x", "1234567890. x",
    "#", "# x", "#5", "####### x", "#\tx", " # x", "```", "```js", "``` a`b", "~~~", "````", "``x``",
    "<div>", "</div>", "<pre>", "</pre>", "<!-- x -->", "<!--", "-->", "<a href='x'>", "<span>", "<x", "<?", "<![CDATA[",
    "[a]: /url", "[a]: /url 'title'", "[a]:", "[b]: <>", "[ ] x", "[x] y", "[a]", " 'title'", '"t"',
    "lazy", " lazy", "  indented", "   three", "    code", "\tcode", "     deep", "  - nested", "   1. nested",
    "> x", ">", ">x", "> > x", ">  x", "> - x", "> # x", "> ===", "> |-|-|",
    "|---|---|", "|---|", "| --- |", ":--", "--:", ":-:", "-|-", "|-", "| a | b |", "| a |", "| a |\x1c", "\x85| a |", "a | b", "|", "||",
    " ", "   ", "\t", "\x00", "\x00a", "a\x00",
]
EDGE = st.sampled_from(EDGES)


def _line(shape: str) -> st.SearchStrategy[str]:
    return st.builds(lambda text: shape + text, PLAIN)


def _odd(draw: st.DrawFn) -> bool:
    """Whether to bend this part of a shape (one time in five: most shapes stay fast-path shapes)."""
    return draw(st.integers(0, 4)) == 0


HEADING = st.builds(lambda hashes, space, text, closing: "#" * hashes + space + text + closing,
                    st.sampled_from([1, 2, 3, 4, 5, 6, 7]), st.sampled_from([" "] * 6 + ["\t", "  ", ""]),
                    st.one_of(PLAIN, st.just("")), st.sampled_from(["", "", "", " #", " ##", "#", "  ", " # x"]))
RULE = st.sampled_from(["***", "---", "___", "* * *", "- - -", "_ _ _", "****", "--- ", "*\t*\t*", "-- -", "***a",
                        "**", "--", "__ _", "* * * x"])
PARAGRAPH = st.lists(PLAIN, min_size=1, max_size=3).map("\n".join)
QUOTE = st.lists(st.one_of(*[_line("> ")] * 6, st.sampled_from([">", ">  x", "> > x", "> - x", "> 1. x", "> ==="])),
                 min_size=1, max_size=3).map("\n".join)
ODD_ITEM = st.sampled_from(["[x]: /url", "[ ]", "[x]", "***", "- x", "1. x", "# x", "> x", "```", "", " x", "\tx"])
ITEM = st.one_of(PLAIN, st.sampled_from(["[ ] to do", "[x] done", "[X] done", "[ ] `code`", "relates to: US-2"]))


@st.composite
def bullet_list(draw: st.DrawFn) -> str:
    marker = draw(st.sampled_from("-*+"))
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        mark = draw(st.sampled_from(["-", "*", "+", marker + " ", " " + marker])) if _odd(draw) else marker
        item = draw(ODD_ITEM) if _odd(draw) else draw(ITEM)
        lines.append(f"{mark} {item}")
    return "\n".join(lines)


@st.composite
def ordered_list(draw: st.DrawFn) -> str:
    delimiter = draw(st.sampled_from(".)"))
    first = draw(st.sampled_from([1, 1, 1, 2, 0, 10, 123456789, 1234567890]))
    lines = []
    for index in range(draw(st.integers(1, 3))):
        mark = draw(st.sampled_from(".)")) if _odd(draw) else delimiter
        number = draw(st.integers(0, 12)) if _odd(draw) else first + index
        item = draw(ODD_ITEM) if _odd(draw) else draw(ITEM)
        lines.append(f"{number}{mark} {item}")
    return "\n".join(lines)


CELL = st.sampled_from([" a ", "b", " **x** ", "", " ", " a \\| b ", "`c|d`", " 1 ", "\u00a0", " ✅ Done "])


@st.composite
def table(draw: st.DrawFn) -> str:
    """A pipe table; now and then with a header that is not at column 0, a delimiter row of another width or
    another shape, body rows shorter or longer than the header or not starting with ``|``."""
    width = draw(st.integers(1, 3))
    lead, tail = draw(st.sampled_from([("|", "|"), ("|", ""), ("", "|"), ("", "")])) if _odd(draw) else ("|", "|")
    header = lead + "|".join(draw(CELL) for _ in range(width)) + tail
    if _odd(draw) and _odd(draw):
        header = draw(st.sampled_from(["#", "> ", "- ", " ", "    "])) + header
    columns = width + (draw(st.sampled_from([-1, 1])) if _odd(draw) else 0)
    good = ["---", ":--", "--:", ":-:", "-", " --- "]
    aligns = [draw(st.sampled_from(good + ["", "- -", "-:-"] if _odd(draw) else good)) for _ in range(max(columns, 0))]
    first, last = draw(st.sampled_from([("", ""), ("|", ""), (" |", "| "), ("  ", ""), (":", "")])) if _odd(draw) \
        else ("|", "|")
    lines = [header, first + "|".join(aligns) + last]
    for _ in range(draw(st.integers(0, 3))):
        cells = [draw(CELL) for _ in range(width + (draw(st.sampled_from([-1, 1, 2])) if _odd(draw) else 0))]
        start = draw(st.sampled_from(["", " |", "\\|", "||"])) if _odd(draw) else "|"
        lines.append(start + "|".join(cells) + draw(st.sampled_from(["|", "|", "", " ", "|  ", "|\x1c", "\x85|"])))
    return "\n".join(lines)


SHAPE = st.one_of(HEADING, RULE, table(), PARAGRAPH, QUOTE, bullet_list(), ordered_list())
GAP = st.sampled_from(["\n", "\n\n", "\n\n", "\n \n", "\n\t\n", "\n\n\n"])
END = st.sampled_from(["", "\n", "\n", "\n\n", "\n  ", "  ", "\n\t", "\n\n  ", "\n \n\t"])
MUTATIONS = [
    lambda line: line + "  ", lambda line: line + "\t", lambda line: " " + line, lambda line: "   " + line,
    lambda line: "    " + line, lambda line: "\t" + line, lambda line: "", lambda line: "\x00" + line,
    lambda line: line + "\\",
]


@st.composite
def spec_like(draw: st.DrawFn) -> str:
    """A document of fast-path shapes, each often followed at once by an edge line, then mutated a little."""
    text = ""
    for index in range(draw(st.integers(1, 10))):
        unit = draw(SHAPE)
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            unit += "\n" + draw(st.one_of(EDGE, EDGE, SHAPE))
        text += (draw(GAP) if index else "") + unit
    lines = text.split("\n")
    for _ in range(draw(st.sampled_from([0, 0, 0, 0, 1, 2]))):
        at = draw(st.integers(0, len(lines) - 1))
        lines[at] = draw(st.sampled_from(MUTATIONS))(lines[at])
    return "\n".join(lines) + draw(END)


# --- what is compared ---------------------------------------------------------------------------

def offsets_hold(text: str) -> None:
    """Each block's ``text[pos:stop]`` is exactly its lines ``[start, end)``, newlines included."""
    text = text.replace("\x00", "\ufffd")
    starts = [0] + [found.end() for found in re.finditer("\n", text)]
    for block in scan_text(text):
        begin = starts[block.start]
        end = starts[block.end] if block.end < len(starts) else len(text)
        assert (block.pos, block.stop) == (begin, end), (block, text[block.pos:block.stop], text[begin:end])


def fields(block: Block) -> tuple:
    return (block.kind, block.start, block.end, block.level, block.content, block.rows, block.uneven, block.nested,
            [(item.start, item.end, item.inlines) for item in block.items])


def like_markdown_it(text: str) -> None:
    """scan_text gives markdown-it-py's blocks, the exact scanner's (``uneven`` too, which markdown-it has not)
    and each block's offsets."""
    assert scanned(text) == reference(text)
    offsets_hold(text)
    text = text.replace("\x00", "\ufffd")
    assert [fields(block) for block in scan_text(text)] == [fields(block) for block in scan(text.split("\n"))]


@contextmanager
def first_window(lines: int) -> Iterator[None]:
    saved = fastpath._FIRST_WINDOW
    fastpath._FIRST_WINDOW = lines
    try:
        yield
    finally:
        fastpath._FIRST_WINDOW = saved


class Counter:
    """Counts ``_scan_window`` calls and the lines handed to the scanner (window growth included)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        self.lines = 0
        scan_window, scanner = fastpath._scan_window, fastpath._Scanner

        def counted_window(*args: object) -> object:
            self.calls += 1
            return scan_window(*args)  # type: ignore[arg-type]

        def counted_scanner(lines: list[str]) -> object:
            self.lines += len(lines)
            return scanner(lines)

        monkeypatch.setattr(fastpath, "_scan_window", counted_window)
        monkeypatch.setattr(fastpath, "_Scanner", counted_scanner)

    def run(self, text: str) -> list:
        self.calls = self.lines = 0
        return list(scan_text(text))


# --- 1. spec-like documents ---------------------------------------------------------------------

@settings(max_examples=1200, deadline=None)
@given(spec_like())
def test_spec_like_documents_scan_like_markdown_it(text: str) -> None:
    like_markdown_it(text)


@settings(max_examples=600, deadline=None)
@given(spec_like(), st.sampled_from(WINDOWS[:3]))
def test_spec_like_documents_with_small_windows(text: str, lines: int) -> None:
    with first_window(lines):
        like_markdown_it(text)


# Each alternative's lookaheads, exhaustively: every edge line right after (and after a blank line past) one
# instance of every shape, plus delimiter rows as wide as any line above could be as a table's header.
SHAPES = [
    "# h", "## a | b", "###### six ##", "#", "***", "- - -", "___", "| a | b |\n|---|---|\n| 1 | 2 |",
    "| a |\n|:-:|", "para", "text **b**\na | b", "[a] b", "> quote", "> more\n> a | b", "- a",
    "* [x] done\n* [ ] to do", "+ x | y", "1. one\n2. two", "3) x | y",
]
DELIMITERS = [row for width in (1, 2, 3) for row in (
    "|" + "|".join(["---"] * width) + "|", "|".join([":-"] * width), "|".join(["-:"] * width) + "|",
    "  |" + "|".join(["--"] * width), "--" + "|--" * (width - 1), "> |" + "|".join([":-:"] * width),
    "> " + "|".join(["-"] * width))]


@pytest.mark.parametrize("shape", SHAPES)
def test_every_edge_after_every_shape(shape: str) -> None:
    for edge in EDGES + DELIMITERS:
        for text in (f"{shape}\n{edge}", f"{shape}\n{edge}\n\npara\n", f"{shape}\n\n{edge}",
                     f"{shape}\n{edge}\n{shape}\n"):
            like_markdown_it(text)


def test_every_pair_of_edge_lines() -> None:
    """Two edge lines in a row, at the start (the fast path tries the first) and after a paragraph."""
    for first in EDGES:
        for second in EDGES:
            like_markdown_it(f"{first}\n{second}\n\n- x\n")
            like_markdown_it(f"para\n{first}\n{second}")


@settings(max_examples=1000, deadline=None)
@given(DOCUMENT, st.sampled_from(WINDOWS[:3]))
def test_awkward_documents_with_small_windows(text: str, lines: int) -> None:
    """test_md_scanner's awkward documents (every block rule, nested), with window edges everywhere."""
    with first_window(lines):
        like_markdown_it(text)


# --- 2. the fast path carries the common case ---------------------------------------------------

ALTERNATIVES = {
    "heading": "# 🚀 EPIC-001: Title\n## Sub ##\n###### six\n#\n",
    "hr": "***\n\n- - -\n\n___\n\n* * *\n",
    "table": "| Field | Value |\n|---|:-:|\n| **Status** | ✅ Done |\n| short |\n| a \\| b | c | extra |\n",
    "paragraph": "**As a** user\n*I want* `x`\n[a] b and [c](./d)\n2024-01-15 was +1 _x_\n",
    "blockquote": "> **@alice** (2024-01-15):\n> Looks good\n",
    "bullet_list": "- [x] done\n- [ ] to do\n- relates to: US-00002\n\n# next\n",
    "ordered_list": "1. one\n2. two\n10. ten\n\nafter\n",
}


@pytest.mark.parametrize("kind", sorted(ALTERNATIVES))
def test_each_alternative_matches_without_the_scanner(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(monkeypatch)
    text = ALTERNATIVES[kind]
    blocks = counter.run(text)
    assert counter.calls == 0, kind
    assert kind in {block.kind for block in blocks}
    like_markdown_it(text)


def test_the_counter_sees_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(monkeypatch)
    counter.run("Title\n=====\n\npara\n")  # a setext heading is the scanner's
    assert counter.calls == 1
    assert 4 <= counter.lines <= 5  # its four lines (and the empty rest after the last "\n")


def test_generated_spec_never_needs_the_scanner(monkeypatch: pytest.MonkeyPatch) -> None:
    text = generate_spec(200)
    counter = Counter(monkeypatch)
    blocks = counter.run(text)
    assert counter.calls == 0
    assert len(blocks) > 200 * 10


def test_example_epic_needs_the_scanner_at_most_as_today(monkeypatch: pytest.MonkeyPatch) -> None:
    text = EPIC.read_text(encoding="utf-8")
    counter = Counter(monkeypatch)
    counter.run(text)
    assert counter.calls <= EPIC_WINDOW_CALLS
    assert counter.lines <= EPIC_SCANNER_LINES


def test_the_fast_path_resumes_after_a_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Title\n=====\n\n" + generate_spec(50)  # a setext heading first, then only fast shapes
    counter = Counter(monkeypatch)
    counter.run(text)
    assert counter.calls == 1
    assert counter.lines <= fastpath._FIRST_WINDOW + 1


@pytest.mark.parametrize("text", ["- a\n\n  ", "- a\n\n\t", "1. a\n\n \n  ", "- a\n\n \n\t"])
def test_list_stop_leaves_out_a_last_line_of_spaces(text: str) -> None:
    """Found by these tests (fixed in debfad6): a list then blank lines then a last line of only spaces."""
    like_markdown_it(text)


# --- 3. decisions that depend on lines far ahead, across window edges ---------------------------

FAR = {
    "code, 100 blank lines, more code": "    code\n" + "\n" * 100 + "    more code\npara\n",
    "code to the end after blanks": "para\n\n    code\n" + "\n" * 70 + "    last",
    "``` never closed": "intro\n\n```\n" + "### US-9: not a story\n" * 150,
    "~~~ never closed, blank lines": "~~~~\n" + "x\n\n" * 80 + "~~~\n",
    "fence closed after 200 lines": "```js\n" + "- x\n" * 200 + "```\n# after\n",
    "list item after 100 blank lines": "- a\n" + "\n" * 100 + "  continued\n- b\n\nend\n",
    "ordered item after blank lines": "1. a\n" + "\n" * 60 + "   still a\n2. b\n" + "\n" * 60 + "c\n",
    "empty item then blanks": "-\n" + "\n" * 50 + "  x\n",
    "<pre> over 200 lines": "<pre>\n" + "a\n\n" * 100 + "</pre>\npara\n",
    "<script> never closed": "<script>\n" + "# x\n\n" * 80,
    "<!-- over 100 lines": "<!--\n" + "- x\n\n" * 50 + "-->\n- y\n",
    "<? and <![CDATA[ far": "<?php\n" + "\n" * 70 + "?>\n<![CDATA[\n" + "\n" * 70 + "]]>\n",
    "<div> then blank": "<div>\n" + "x\n" * 100 + "\n# h\n",
    "200-line paragraph then ===": "line\n" * 200 + "===\n",
    "200-line paragraph then a table": "line\n" * 200 + "a | b\n|---|---|\n| 1 | 2 |\n",
    "table of 200 rows then a lazy row": "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 200 + "lazy | row\n\nend\n",
    "quote with 200 lazy lines": "> a\n" + "lazy\n" * 200 + "\n# h\n",
    "list of 200 items then a lazy line": "- a\n" * 200 + "lazy\n",
    "200 quote lines": "> q\n" * 200 + ">\n> - x\n",
    "nested list continued far": "- a\n  - b\n" + "\n" * 80 + "    deep\n- c\n",
    "reference title on the same line over 40 lines": "[a]: /url 'title\n" + "x\n" * 40 + "y'\n\npara\n",
    "reference label over 40 lines": "[a\n" + "b\n" * 40 + "]: /url\n\npara\n",
    # found by these tests (fixed in 7ffd674): the window kept a definition's step after cutting its title
    "reference title on the next line over 40 lines": "[a]: /url\n'title\n" + "x\n" * 40 + "y'\n\npara\n",
    "reference in a list item, lazy title": "- [a]: /u\n'title\n" + "x\n" * 40 + "y'\n\npara\n",
    "reference title on the third line": "[a]:\n/url\n'title\n" + "x\n" * 40 + "y'\n",
    "reference title never closed": "[a]: /url\n'title\n" + "x\n" * 40 + "\npara\n",
    "reference title closed, then junk": "[a]: /url\n'title\n" + "x\n" * 40 + "y' junk\n\npara\n",
    "definitions in a row, one looking far": "[a]: /a\n[b]: /b\n[c]: /c\n'" + "t\n" * 40 + "'\n[d]: /d\n\n# h\n",
    "a reference after a fallback": "Title\n===\n[a]: /url\n(title\n" + "x\n" * 40 + "y)\n\n- z\n",
}


@pytest.mark.parametrize("lines", WINDOWS)
@pytest.mark.parametrize("name", sorted(FAR))
def test_far_ahead_decisions_across_windows(name: str, lines: int) -> None:
    with first_window(lines):
        like_markdown_it(FAR[name])
        # and with a fast-path block before it, so the scanner starts mid-text
        like_markdown_it("# h\n\n| a |\n|---|\n\n" + FAR[name])


# --- 4. linear, counted: the lines handed to the scanner grow with the document ------------------

PATHOLOGICAL = {
    "setext after each paragraph": "para {n}\nTitle\n===\n\n",
    "list then --- (examples/EPIC.md's fallback)": "- depends on: US-{n}\n\n---\n\n",
    "fence longer than the first window": "```\n" + "x\n" * 40 + "```\n\n",
    "code with blank lines": "    code {n}\n" + "\n" * 40 + "    more\n\npara\n\n",
    "reference definitions": "[a{n}]: /url\n\n",
    "HTML between fast blocks": "# h {n}\n\n<div>\nx\n</div>\n\n",
    "one-line fallbacks": "#5 {n}\n\n",
    "a long list broken by a lazy line": "- item {n}\n" * 20 + "lazy\n\n# h\n\n",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_scanner_work_is_linear(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = Counter(monkeypatch)
    handed = []
    for stories in (50, 500):
        text = "".join(PATHOLOGICAL[name].format(n=n) for n in range(stories))
        counter.run(text)
        handed.append(counter.lines)
        assert counter.lines <= 40 * text.count("\n") + 40, (stories, counter.lines)
    assert 8 * handed[0] <= handed[1] <= 12 * handed[0], handed


@pytest.mark.parametrize("rows, cells", [(700, 1), (700, 100), (655, 1), (3, 1)])
def test_markdown_its_cap_on_made_up_cells(rows: int, cells: int) -> None:
    """markdown-it stops a table before the body row that makes its made-up cells pass 0x10000."""
    text = "|" + "a|" * 100 + "\n" + "|---" * 100 + "|\n" + ("|" + "x|" * cells + "\n") * rows + "\nafter\n"
    like_markdown_it(text)
