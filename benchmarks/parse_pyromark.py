"""pyromark (pulldown-cmark, compiled, wheels for every platform) as the reader's block finder, beside ours.

Run in a throwaway venv that has pyromark and this project (pyromark is not a dependency)::

    python -m venv /tmp/cand && /tmp/cand/bin/pip install -e '.[markdown]' pyromark
    /tmp/cand/bin/python benchmarks/parse_pyromark.py [STORIES ...]   # default 2000 10000

For the generated spec (``bench_parse.generate_spec``) it prints CPU microseconds per story, best of 3,
the file already in memory, garbage collection off, of:

* ``scan_text``: our pure-Python block finder (the regular-expression fast path and the line scanner),
  every block with what the builder reads (kind, lines, heading text, table cells, list items, quote text);
* pyromark: its event stream with byte ranges, read into the same information - top-level blocks
  with their line range, a heading's text, each table row's cells (the cell as written), each list
  item's first line; the byte offsets turned into lines by counting the UTF-8 text's line ends forward (in C);
* pyromark's event stream alone, nothing kept (the floor of any reader built on it);
* our whole reader (``parse_text``: blocks and the Spec), for scale.

It also checks that pyromark's blocks have the kinds and first lines ``scan_text`` finds (they must,
for it to be a drop-in block finder).
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import generate_spec  # noqa: E402

KINDS = {"Heading": "heading", "Paragraph": "paragraph", "Table": "table", "List": "list", "BlockQuote": "blockquote",
         "CodeBlock": "code", "HtmlBlock": "html_block"}


def pyromark_blocks(text: str) -> list[tuple[Any, ...]]:
    """Top-level blocks as ``(kind, first line, last line, payload)`` from pyromark's events."""
    import pyromark

    data = text.encode()
    counted = [0, 0]  # a byte offset and the line it is on, counted forward in C as the blocks come

    def line_of(offset: int) -> int:
        counted[1] += data.count(b"\n", counted[0], offset)
        counted[0] = offset
        return counted[1]

    blocks: list[tuple[Any, ...]] = []
    depth = 0
    kind = ""
    start = 0
    payload: list[Any] = []
    row: list[str] = []
    for event, span in pyromark.events_with_range(text, options=pyromark.Options.ENABLE_TABLES):
        if isinstance(event, dict) and "Start" in event:
            tag = event["Start"]
            name = tag if isinstance(tag, str) else next(iter(tag))
            if depth == 0:
                kind = KINDS.get(name, name)
                start = span["start"]
                payload = []
            elif name == "TableCell":
                row.append(data[span["start"]:span["end"]].decode().strip())
            elif name == "Item" and depth == 1:
                payload.append(data[span["start"]:span["end"]].decode().partition("\n")[0])
            depth += 1
        elif event == "Rule" and depth == 0:
            blocks.append(("hr", line_of(span["start"]), line_of(span["end"] - 1), []))
        elif isinstance(event, dict) and "End" in event:
            depth -= 1
            tag = event["End"]
            name = tag if isinstance(tag, str) else next(iter(tag))
            if name in ("TableHead", "TableRow"):
                payload.append(row)
                row = []
            if depth == 0:
                if kind == "heading":
                    payload = [data[start:span["end"]].decode().strip().lstrip("#").strip()]
                blocks.append((kind, line_of(start), line_of(span["end"] - 1), payload))
    return blocks


def pyromark_stream(text: str) -> None:
    import pyromark

    for _ in pyromark.events_with_range(text, options=pyromark.Options.ENABLE_TABLES):
        pass


def ours_blocks(text: str) -> list[tuple[str, int]]:
    from spectryn_markdown.fastpath import scan_text

    return [(block.kind, block.start) for block in scan_text(text)]


def cpu(run: Callable[[str], Any], text: str) -> float:
    best = float("inf")
    for _ in range(3):
        gc.collect()
        gc.disable()
        start = time.process_time()
        run(text)
        best = min(best, time.process_time() - start)
        gc.enable()
    return best


def main(argv: list[str]) -> None:
    from spectryn_markdown.parser import parse_text

    path = Path("/nonexistent/EPIC.md")
    print("| stories | scan_text (ours, pure Python) | pyromark, same blocks | pyromark events alone | "
          "our whole reader (parse_text) |")
    print("|---|---|---|---|---|")
    for stories in [int(arg) for arg in argv] or [2000, 10_000]:
        text = generate_spec(stories)
        found = [(kind if kind != "list" else "bullet_list", line) for kind, line, _, _ in pyromark_blocks(text)]
        ours = [(kind, line) for kind, line in ours_blocks(text)]
        assert found == ours, "pyromark's blocks differ from scan_text's"
        rows = [cpu(ours_blocks, text), cpu(pyromark_blocks, text), cpu(pyromark_stream, text),
                cpu(lambda t: parse_text(t, path), text)]
        print(f"| {stories:,} | " + " | ".join(f"{seconds / stories * 1e6:.0f} us/story" for seconds in rows) + " |",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
