"""Where the reader's time goes: calls per story (ours and the peer's, counted alike) and the top functions.

Run ``python benchmarks/parse_profile.py [STORIES]`` (default 1000) from the repository root. Each
parser runs once unprofiled (caches warm, as in a long file) and once under cProfile on the same
generated spec (``bench_parse.generate_spec``). "Python calls" counts calls of functions written in
Python (``def``, lambdas, comprehensions); "all calls" adds the builtins and C methods cProfile sees.
The peer (``benchmarks/work/peer-venv``, made by ``run.py``) is profiled in its own venv. Counts do
not depend on the machine's load; the seconds cProfile prints do (and profiling inflates them).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import PEER, generate_spec  # noqa: E402

PROFILE = """
import cProfile, pstats, sys
from pathlib import Path
name, stories, top = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if sys.argv[4] == "ours":
    from spectryn_markdown.plugin import parse_spec
    def run():
        parse_spec(path=Path(name), config=None)
else:
    from spectryn.adapters.parsers.markdown import MarkdownParser
    def run():
        MarkdownParser().parse_stories(name)
run()
profile = cProfile.Profile()
profile.enable()
run()
profile.disable()
rows = [(calls / stories, own, f"{where.rsplit('/', 1)[-1]}:{line} {function}")
        for (where, line, function), (_, calls, own, _, _) in pstats.Stats(profile).stats.items()]
python = sum(per for per, _, name in rows if not name.startswith("~"))
print(f"Python calls per story {python:.0f}; all calls {sum(per for per, _, _ in rows):.0f}")
total = sum(own for _, own, _ in rows)
for per, own, name in sorted(rows, key=lambda row: -row[1])[:top]:
    print(f"  {own / total:6.1%} own time  {per:7.1f} calls/story  {name}")
"""


def main(argv: list[str]) -> int:
    stories = int(argv[0]) if argv else 1000
    top = int(argv[1]) if len(argv) > 1 else 15
    peer_env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    with tempfile.TemporaryDirectory(prefix="parse-profile-") as folder:
        path = Path(folder) / "EPIC.md"
        path.write_text(generate_spec(stories), encoding="utf-8")
        runs = [("ours (parse_spec)", sys.executable, dict(os.environ), "ours")]
        if PEER.exists():
            runs.append(("peer (MarkdownParser.parse_stories)", str(PEER), peer_env, "peer"))
        for name, python, env, which in runs:
            done = subprocess.run([python, "-c", PROFILE, str(path), str(stories), str(top), which],
                                  capture_output=True, text=True, env=env, cwd=folder, check=True)
            print(f"{name}, {stories} stories x 3 subtasks: {done.stdout}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
