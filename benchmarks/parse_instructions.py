"""Instructions executed per story by our reader and the peer's parser: a figure the machine's load cannot move.

Run ``python benchmarks/parse_instructions.py [STORIES]`` (default 300) from the repository root with
valgrind installed. Each parser runs under ``valgrind --tool=cachegrind --cache-sim=no`` twice - once
on a 3-story spec only, once on that and the STORIES-story spec - and the difference, divided by
STORIES, is what one story costs (start-up and imports cancel out). ``PYTHONPATH=/other/checkout``
measures that checkout's reader instead of the installed one. The peer is measured if
``benchmarks/run.py`` has made its venv (``benchmarks/work/peer-venv``). Slow (valgrind runs Python
about 30x slower), but the same on a busy machine as on an idle one, unlike seconds.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import PEER, generate_spec  # noqa: E402

OURS = """
import sys
from pathlib import Path
from spectryn_markdown.plugin import parse_spec
for name in sys.argv[1:]:
    parse_spec(path=Path(name), config=None)
"""
THEIRS = """
import sys
from spectryn.adapters.parsers.markdown import MarkdownParser
for name in sys.argv[1:]:
    MarkdownParser().parse_stories(name)
"""


def instructions(python: str, program: str, files: list[Path], env: dict[str, str]) -> int:
    """Instructions cachegrind counts for ``python -c program files...``, run in the files' folder
    (a checkout as the working directory would put its own packages first on the path)."""
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           python, "-c", program, *map(str, files)],
                          capture_output=True, text=True, env=env, cwd=files[0].parent, check=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str]) -> int:
    stories = int(argv[0]) if argv else 300
    # PYTHONPATH is passed on for ours (to measure another checkout: PYTHONPATH=/path/to/it), never to the peer
    ours_env = dict(os.environ)
    peer_env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    with tempfile.TemporaryDirectory(prefix="parse-instructions-") as folder:
        small, large = Path(folder) / "EPIC-3.md", Path(folder) / "EPIC.md"
        small.write_text(generate_spec(3), encoding="utf-8")
        large.write_text(generate_spec(stories), encoding="utf-8")
        rows = [("ours, parse_spec", sys.executable, OURS, ours_env)]
        if PEER.exists():
            rows.append(("peer, MarkdownParser.parse_stories", str(PEER), THEIRS, peer_env))
        print(f"{stories} stories x 3 subtasks; instructions per story (valgrind cachegrind)\n")
        print("| parser | k instructions per story |")
        print("|---|---|")
        for name, python, program, env in rows:
            base = instructions(python, program, [small], env)
            full = instructions(python, program, [small, large], env)
            print(f"| {name} | {(full - base) / stories / 1000:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
