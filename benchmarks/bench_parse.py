"""Benchmark: parse generated markdown specs (3 subtasks per story) through the ``parse_spec`` hook.

Run ``python benchmarks/bench_parse.py [SIZE ...]`` (default 100 1000 10000 100000); it prints
seconds (best of 3, the file read included), stories/second and peak traced memory per story for each
size, so linear growth is visible. ``python benchmarks/bench_parse.py --peer [SIZE ...]`` compares
with the peer's parser on the same file (CPU and wall). ``parse_benchmark(sizes)`` returns the rows
for ``run.py``.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from spectryn_markdown.plugin import parse_spec

STATUSES = ("✅ Done", "🔄 In Progress", "📋 To Do", "⏸️ Blocked")
PRIORITIES = ("🔴 Critical", "🟠 High", "🟡 Medium", "🟢 Low")


def story_markdown(number: int) -> str:
    """One realistic story: metadata, description, criteria, 3 subtasks, a comment, links, a commit."""
    key = f"US-{number:05d}"
    status = STATUSES[number % len(STATUSES)]
    return f"""### 🔧 {key}: Generated story number {number}

| Field | Value |
|-------|-------|
| **Story Points** | {number % 13 + 1} |
| **Priority** | {PRIORITIES[number % len(PRIORITIES)]} |
| **Status** | {status} |
| **Component** | Component {number % 7} |
| **Labels** | generated, bench |

#### Description
**As a** user of feature {number}
**I want** the thing to work
**So that** I can get my job done

Details for story {number}, see PR #{number}.

#### Acceptance Criteria
- [x] The first condition holds
- [ ] The second condition holds for `input {number}`
- [ ] Errors are shown to the user

#### Subtasks
| # | Subtask | Description | SP | Status |
|---|---------|-------------|----|--------|
| 1 | Backend for {number} | API endpoint | 2 | {status} |
| 2 | Frontend for {number} | React component | 3 | 📋 To Do |
| 3 | Tests for {number} | Unit and e2e | 1 | 📋 To Do |

#### Comments
> **@alice** (2024-01-15):
> Looks good to me, story {number}.

#### Links
- relates to: US-{(number + 1):05d}

#### Related Commits
| Commit | Message |
|--------|---------|
| `{number:07x}` | feat: story {number} |

---
"""


def generate_spec(stories: int) -> str:
    """A deterministic spec with one epic and ``stories`` stories."""
    head = "# 🚀 EPIC-001: Benchmark Epic\n\n| Field | Value |\n|---|---|\n| Milestone | Q1 |\n\n## User Stories\n\n"
    return head + "\n".join(story_markdown(number) for number in range(1, stories + 1))


def parse_benchmark(sizes: list[int], reps: int = 3) -> list[dict]:
    """Parse a generated spec of each size; rows of stories, lines, seconds, stories/s, peak MiB."""
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as folder:
        for size in sizes:
            text = generate_spec(size)
            path = Path(folder) / f"EPIC-{size}.md"
            path.write_text(text, encoding="utf-8")
            del text
            best = float("inf")
            for _ in range(reps if size <= 10_000 else 1):
                gc.collect()
                start = time.perf_counter()
                spec = parse_spec(path=path, config=None)
                best = min(best, time.perf_counter() - start)
                assert spec is not None and len(spec.stories()) == size and not spec.errors, spec and spec.errors[:3]
                del spec
            gc.collect()
            tracemalloc.start()
            parse_spec(path=path, config=None)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rows.append({
                "stories": size,
                "lines": path.read_text(encoding="utf-8").count("\n"),
                "seconds": best,
                "stories_per_second": size / best,
                "peak_mib": peak / 2**20,
            })
    return rows


PEER = Path(__file__).resolve().parent / "work" / "peer-venv" / "bin" / "python"
_PEER_PARSE = """
import sys, time, gc
from spectryn.adapters.parsers.markdown import MarkdownParser
gc.collect(); cpu = time.process_time(); wall = time.perf_counter()
MarkdownParser().parse_stories(sys.argv[1])
print(time.process_time() - cpu, time.perf_counter() - wall)
"""


def paired(sizes: list[int], reps: int = 3) -> None:
    """Ours through ``parse_spec`` and the peer's parser (its venv, made by run.py) on the same file,
    alternating; the best CPU and wall seconds of each (CPU is the steadier on a busy machine)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}  # our `spectryn` must not shadow the peer's
    print("| stories | ours CPU s | peer CPU s | peer / ours (CPU) | ours wall s | peer wall s | ours CPU us/story |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-parse-") as folder:
            path = Path(folder) / "EPIC.md"
            path.write_text(generate_spec(size), encoding="utf-8")
            ours: list[tuple[float, float]] = []
            theirs: list[tuple[float, float]] = []
            for _ in range(reps):
                gc.collect()
                cpu, wall = time.process_time(), time.perf_counter()
                spec = parse_spec(path=path, config=None)
                ours.append((time.process_time() - cpu, time.perf_counter() - wall))
                assert spec is not None and len(spec.stories()) == size
                del spec
                done = subprocess.run([str(PEER), "-c", _PEER_PARSE, str(path)], capture_output=True, text=True,
                                      cwd=folder, env=env, check=True)
                peer_cpu, peer_wall = (float(value) for value in done.stdout.split())
                theirs.append((peer_cpu, peer_wall))
        our_cpu, our_wall = min(cpu for cpu, _ in ours), min(wall for _, wall in ours)
        peer_cpu, peer_wall = min(cpu for cpu, _ in theirs), min(wall for _, wall in theirs)
        print(f"| {size:,} | {our_cpu:.2f} | {peer_cpu:.2f} | {peer_cpu / our_cpu:.2f}x | {our_wall:.2f} | "
              f"{peer_wall:.2f} | {our_cpu / size * 1e6:.0f} |", flush=True)


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table (sizes from the command line, default 100 1000 10000 100000);
    with ``--peer`` first, the paired comparison with the peer instead."""
    args = list(argv if argv is not None else sys.argv[1:])
    if args[:1] == ["--peer"]:
        paired([int(arg) for arg in args[1:]] or [100, 1000, 10_000])
        return
    sizes = [int(arg) for arg in args] or [100, 1000, 10_000, 100_000]
    print(f"{'stories':>8} {'lines':>9} {'seconds':>8} {'stories/s':>10} {'us/story':>9} {'peak MiB':>9} {'KiB/story':>10}")
    for row in parse_benchmark(sizes):
        print(f"{row['stories']:>8} {row['lines']:>9} {row['seconds']:>8.3f} {row['stories_per_second']:>10.0f} "
              f"{row['seconds'] / row['stories'] * 1e6:>9.1f} {row['peak_mib']:>9.1f} "
              f"{row['peak_mib'] * 1024 / row['stories']:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
