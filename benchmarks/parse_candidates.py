"""The parsers considered for the markdown reader (issue 15), measured on the same generated file.

Run from the repository root with a Python that has whichever candidates you want measured
(the ones not installed are listed as skipped)::

    python -m venv /tmp/cand && /tmp/cand/bin/pip install -e '.[markdown]' pyromark markdown-it-pyrs cmarkgfm mistune
    PYTHONPATH=. /tmp/cand/bin/python benchmarks/parse_candidates.py [STORIES]   # default 10000

Prints a markdown table: seconds (best of 3, the file already in memory), peak traced memory, per
story, whether block positions (lines) come out, and whether a ``### US-999`` inside a code fence
stays text. The peer (``spectryn`` 1.0.0) is measured in its own venv if ``benchmarks/run.py`` has
made it (``benchmarks/work/peer-venv``).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import generate_spec  # noqa: E402

FENCED = "### US-1: real\n\n```\n### US-999: fenced\n```\n"
PEER = Path(__file__).resolve().parent / "work" / "peer-venv" / "bin" / "python"


def measure(parse: Callable[[str], Any], text: str, reps: int = 2) -> tuple[float, float]:
    """Best wall time of ``parse(text)`` and its peak traced memory (MiB)."""
    best = float("inf")
    for _ in range(reps):
        gc.collect()
        start = time.perf_counter()
        parse(text)
        best = min(best, time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    parse(text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20


def candidates() -> list[tuple[str, Callable[[str], Any] | None, str, Callable[[str], int] | None]]:
    """(name, parse, positions, headings-of-level-3-in-FENCED); parse None when not installed."""
    found: list[tuple[str, Callable[[str], Any] | None, str, Callable[[str], int] | None]] = []
    from spectryn_markdown.fastpath import scan_text
    from spectryn_markdown.parser import parse_text
    from spectryn_markdown.scanner import scan

    path = Path("/nonexistent/EPIC.md")
    found.append(("spectryn reader (scan_text + builder), parse_text", lambda t: parse_text(t, path), "lines",
                  lambda t: len(parse_text(t, path).stories())))
    found.append(("spectryn scan_text (regex fast path + scanner), blocks kept", lambda t: list(scan_text(t)), "lines",
                  lambda t: sum(b.kind == "heading" and b.level == 3 for b in scan_text(t))))
    found.append(("spectryn line scanner alone (markdown-it's rules), blocks kept", lambda t: list(scan(t.split("\n"))),
                  "lines", lambda t: sum(b.kind == "heading" and b.level == 3 for b in scan(t.split("\n")))))
    try:
        from tests.support.legacy_reader.parser import parse_text as legacy
        found.append(("previous reader (markdown-it-py block tree)", lambda t: legacy(t, path), "lines",
                      lambda t: len(legacy(t, path).stories())))
    except ImportError:
        found.append(("previous reader (markdown-it-py block tree)", None, "lines", None))
    try:
        from markdown_it import MarkdownIt
        md = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
        found.append(("markdown-it-py block tokens only", md.parse, "lines",
                      lambda t: sum(tok.type == "heading_open" and tok.tag == "h3" for tok in md.parse(t))))
    except ImportError:
        found.append(("markdown-it-py block tokens only", None, "lines", None))
    try:
        from markdown_it_pyrs import MarkdownIt as RustIt
        rs = RustIt("commonmark").enable("table")

        def rs_headings(t: str) -> int:
            return sum(node.name == "heading" for node in rs.tree(t).walk())
        found.append(("markdown-it-pyrs tree", rs.tree, "byte offsets (srcmap)", rs_headings))
    except ImportError:
        found.append(("markdown-it-pyrs tree", None, "byte offsets", None))
    try:
        import pyromark

        def top_level(t: str) -> int:
            """Stream the events, keeping the depth, and count the top-level blocks with their ranges."""
            depth = 0
            blocks = 0
            for event, _span in pyromark.events_with_range(t, options=pyromark.Options.ENABLE_TABLES):
                if "Start" in event:
                    blocks += depth == 0
                    depth += 1
                elif "End" in event:
                    depth -= 1
            return blocks

        def fenced(t: str) -> int:
            return sum("Start" in e and isinstance(e["Start"], dict) and "Heading" in e["Start"]
                       for e, _ in pyromark.events_with_range(t))
        found.append(("pyromark events with ranges, streamed (pulldown-cmark)", top_level, "byte ranges", fenced))
        found.append(("pyromark to HTML", pyromark.html, "none", lambda t: pyromark.html(t).count("<h3")))
    except ImportError:
        found.append(("pyromark (pulldown-cmark)", None, "byte ranges", None))
    try:
        import cmarkgfm
        found.append(("cmarkgfm to HTML (cmark-gfm)", cmarkgfm.github_flavored_markdown_to_html, "none",
                      lambda t: cmarkgfm.github_flavored_markdown_to_html(t).count("<h3")))
    except ImportError:
        found.append(("cmarkgfm to HTML (cmark-gfm)", None, "none", None))
    try:
        import mistune
        ast = mistune.create_markdown(renderer=None, plugins=["table"])
        found.append(("mistune 3 AST + table", ast, "none",
                      lambda t: sum(node.get("type") == "heading" for node in ast(t))))
    except ImportError:
        found.append(("mistune 3 AST + table", None, "none", None))
    return found


def peer_row(text: str) -> list[str] | None:
    if not PEER.exists():
        return None
    script = (
        "import gc, json, sys, time, tracemalloc\n"
        "from spectryn.adapters.parsers.markdown import MarkdownParser\n"
        "text = open(sys.argv[1], encoding='utf-8').read()\n"
        "best = float('inf')\n"
        "for _ in range(3):\n"
        "    gc.collect(); s = time.perf_counter(); MarkdownParser().parse_stories(text)\n"
        "    best = min(best, time.perf_counter() - s)\n"
        "tracemalloc.start(); MarkdownParser().parse_stories(text); peak = tracemalloc.get_traced_memory()[1]\n"
        "fenced = len(MarkdownParser().parse_stories(sys.argv[2]))\n"
        "print(json.dumps([best, peak / 2**20, fenced]))\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "EPIC.md"
        spec.write_text(text, encoding="utf-8")
        # outside the checkout, without PYTHONPATH: this repository's own `spectryn` package must not
        # shadow the peer's
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
        done = subprocess.run([str(PEER), "-c", script, str(spec), FENCED], capture_output=True, text=True,
                              cwd=folder, env=env)
    if done.returncode != 0:
        return None
    seconds, mib, fenced = json.loads(done.stdout)
    return [f"{seconds:.2f}", f"{mib:.0f}", "none", "no" if fenced != 1 else "yes"]


def main(argv: list[str]) -> None:
    stories = int(argv[0]) if argv else 10_000
    text = generate_spec(stories)
    print(f"{stories} stories x 3 subtasks, {text.count(chr(10))} lines, {len(text.encode()) / 2**20:.1f} MB; "
          f"Python {sys.version.split()[0]}\n")
    print("| approach | s | peak traced MiB | KiB/story | positions | fenced `### US-999` stays text |")
    print("|---|---|---|---|---|---|")
    for name, parse, positions, fenced in candidates():
        if parse is None:
            print(f"| {name} | not installed | | | {positions} | |")
            continue
        seconds, mib = measure(parse, text)
        ok = "yes" if fenced is not None and fenced(FENCED) == 1 else "no"
        print(f"| {name} | {seconds:.2f} | {mib:.0f} | {mib * 1024 / stories:.1f} | {positions} | {ok} |", flush=True)
    row = peer_row(text)
    if row is not None:
        seconds, mib, positions, ok = row
        print(f"| peer `MarkdownParser.parse_stories` (regular expressions) | {seconds} | {mib} | "
              f"{float(mib) * 1024 / stories:.1f} | {positions} | {ok} |")


if __name__ == "__main__":
    main(sys.argv[1:])
