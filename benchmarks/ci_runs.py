"""Request counts of CI-style runs (issues 12 and 17), and what creating issues in spec order costs.

``python benchmarks/ci_runs.py [--sizes 20] [--latency-ms 0] [--order-sizes 20,200]
[--order-latencies 100,300] [--upgrade-from OLD_PYTHON]`` (with the project's virtualenv python).

``--upgrade-from`` (issue 27): examples/EPIC.md and each size synced by the previous version, then a
no-op run of each version on a fresh runner; a write in the last column is an issue rewritten by the
upgrade alone.

Part 1, per size (stories x 3 subtasks, the benchmark's epic without comments, and the same epic
with a comment on every 7th story): first ``--execute``, no-op with the state file, no-op on a
fresh runner (new folder, empty state), one title edit on a fresh runner; requests by kind from
the sandbox's counters. Part 2: wall time of the first sync with 8 parallel workers (issue numbers
interleave) and with 1 worker (issue numbers in spec order: parents before children still hold),
at each latency. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from run import sync_epic  # noqa: E402

from spectryn_bitbucket.sandbox import Sandbox  # noqa: E402
from spectryn_markdown.parser import parse_text  # noqa: E402


def with_comments(text: str) -> str:
    """The epic with a spec comment on every 7th story."""
    out: list[str] = []
    story = 0
    for line in text.splitlines():
        if line.startswith("### "):
            if story and story % 7 == 0:
                out += ["#### Comments", "> **@alice** (2024-01-02):", f"> Note on story {story}.", ""]
            story += 1
        out.append(line)
    return "\n".join(out) + "\n"


class Runner:
    """One checkout with its own empty state, log and config folders."""

    def __init__(self, sandbox: Sandbox, home: Path, spec_text: str, python: str = sys.executable,
                 check: bool = True) -> None:
        self.home = home
        self.python = python
        self.check = check  # False: a run that exits 1 (a failed write) is counted, not fatal
        home.mkdir(parents=True)
        (home / "EPIC.md").write_text(spec_text)
        if (ROOT / "examples" / "attachments").is_dir():  # examples/EPIC.md's mockup
            shutil.copytree(ROOT / "examples" / "attachments", home / "attachments")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("BITBUCKET_", "SPECTRYN_"))}
        self.env.update({
            "BITBUCKET_BASE_URL": sandbox.base_url, "BITBUCKET_WORKSPACE": sandbox.workspace,
            "BITBUCKET_REPO": sandbox.repo, "BITBUCKET_ACCESS_TOKEN": sandbox.token,
            "BITBUCKET_RATE_LIMIT": "0", "SPECTRYN_STATE_DIR": str(home / "state"),
            "SPECTRYN_LOG_DIR": str(home / "logs"), "SPECTRYN_CONFIG_DIR": str(home / "config"),
        })

    def sync(self, *extra: str) -> float:
        start = time.perf_counter()
        done = subprocess.run(
            [self.python, "-m", "spectryn_core.cli", "--markdown", "EPIC.md", "--tracker",
             "bitbucket", "--execute", *extra],
            cwd=self.home, env=self.env, capture_output=True, text=True, check=False)
        if done.returncode != 0 and (self.check or done.returncode != 1):
            raise SystemExit(f"sync failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return time.perf_counter() - start


def counted(sandbox: Sandbox, action) -> str:
    sandbox.reset_stats()
    action()
    stats = sandbox.stats()
    reads, writes = int(stats["reads"]), int(stats["writes"])
    return f"{reads + writes} ({reads} GET, {writes} write)"


def request_table(sizes: list[int], latency_ms: float) -> list[str]:
    lines = ["| epic | items | first sync | no-op, state kept | no-op, fresh runner | "
             "title edit, fresh runner |", "|---|---|---|---|---|---|"]
    for stories in sizes:
        for label, text in (("plain", sync_epic(stories)), ("comments", with_comments(sync_epic(stories)))):
            with tempfile.TemporaryDirectory() as tmp, Sandbox(latency_ms=latency_ms) as sandbox:
                first = Runner(sandbox, Path(tmp) / "first", text)
                cells = [counted(sandbox, first.sync), counted(sandbox, first.sync),
                         counted(sandbox, Runner(sandbox, Path(tmp) / "fresh", text).sync)]
                edited = Runner(sandbox, Path(tmp) / "edit", text)
                spec = edited.home / "EPIC.md"
                body = spec.read_text()
                first_title = next(line for line in body.splitlines() if line.startswith("### "))
                spec.write_text(body.replace(first_title, first_title + " (renamed)", 1))
                cells.append(counted(sandbox, edited.sync))
                items = stories * 4
                lines.append(f"| {stories} x 3 ({label}) | {items} | " + " | ".join(cells) + " |")
    return lines


def upgrade_table(old_python: str, sizes: list[int]) -> list[str]:
    """Issues synced by another version (``old_python``: a virtualenv of the previous commit),
    then a no-op run of this version on a fresh runner: how many issues it rewrites."""
    lines = ["| spec | items | first sync (old version) | no-op, fresh runner, old version | "
             "no-op, fresh runner, this version |", "|---|---|---|---|---|"]
    specs = [("examples/EPIC.md", (ROOT / "examples" / "EPIC.md").read_text())]
    specs += [(f"{n} x 3", sync_epic(n)) for n in sizes]
    for label, text in specs:
        with tempfile.TemporaryDirectory() as tmp, Sandbox(pull_requests=range(1, 21)) as sandbox:
            first = Runner(sandbox, Path(tmp) / "first", text, old_python, check=False)
            cells = [counted(sandbox, first.sync)]
            cells.append(counted(sandbox, Runner(sandbox, Path(tmp) / "old", text, old_python, check=False).sync))
            cells.append(counted(sandbox, Runner(sandbox, Path(tmp) / "new", text, check=False).sync))
            spec = parse_text(text, ROOT / "examples" / "EPIC.md")
            items = sum(1 + len(story.subtasks) for story in spec.stories())
            lines.append(f"| {label} | {items} | " + " | ".join(cells) + " |")
    return lines


def order_table(sizes: list[int], latencies: list[float]) -> list[str]:
    lines = ["| epic | latency | 8 workers (numbers interleave) | 1 worker (spec order) |",
             "|---|---|---|---|"]
    for stories in sizes:
        for latency in latencies:
            cells = []
            for workers in ("8", "1"):
                with tempfile.TemporaryDirectory() as tmp, Sandbox(latency_ms=latency) as sandbox:
                    runner = Runner(sandbox, Path(tmp) / "r", sync_epic(stories))
                    cells.append(f"{runner.sync('--workers', workers):.1f} s")
            lines.append(f"| {stories} x 3 | {latency:.0f} ms | {cells[0]} | {cells[1]} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--order-sizes", default="")
    parser.add_argument("--order-latencies", default="100,300")
    parser.add_argument("--upgrade-from", metavar="PYTHON", default="",
                        help="python of a virtualenv with the previous version: issues it synced, "
                             "then a no-op of this version (the rewrite count after an upgrade)")
    args = parser.parse_args(argv)
    if args.upgrade_from:
        print("\n".join(upgrade_table(args.upgrade_from, [int(s) for s in args.sizes.split(",") if s])))
        return 0
    print("\n".join(request_table([int(s) for s in args.sizes.split(",") if s], args.latency_ms)))
    if args.order_sizes:
        print()
        print("\n".join(order_table([int(s) for s in args.order_sizes.split(",")],
                                    [float(x) for x in args.order_latencies.split(",")])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
