"""Benchmark: parse generated markdown specs (3 subtasks per story) through the ``parse_spec`` hook.

Run ``python benchmarks/bench_parse.py [SIZE ...]`` (default 100 1000 10000 100000); it prints
seconds (best of 3, the file read included), stories/second and peak traced memory per story for each
size, so linear growth is visible. ``parse_benchmark(sizes)`` returns the rows for ``run.py``.
"""

from __future__ import annotations

import gc
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


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark table (sizes from the command line, default 100 1000 10000 100000)."""
    sizes = [int(arg) for arg in (argv if argv is not None else sys.argv[1:])] or [100, 1000, 10_000, 100_000]
    print(f"{'stories':>8} {'lines':>9} {'seconds':>8} {'stories/s':>10} {'us/story':>9} {'peak MiB':>9} {'KiB/story':>10}")
    for row in parse_benchmark(sizes):
        print(f"{row['stories']:>8} {row['lines']:>9} {row['seconds']:>8.3f} {row['stories_per_second']:>10.0f} "
              f"{row['seconds'] / row['stories'] * 1e6:>9.1f} {row['peak_mib']:>9.1f} "
              f"{row['peak_mib'] * 1024 / row['stories']:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
