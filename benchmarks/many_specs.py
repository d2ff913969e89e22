"""Many specs in one run vs a shell loop of one run per file: requests and wall time.

For each number of spec files (each 5 stories x 2 subtasks, distinct keys), on a fresh sandbox:
one ``spectryn --markdown specs --execute`` (first sync), then a no-op over the folder; and, on
another fresh sandbox, the same with one process per file (what CI had to do before). Prints a
markdown table; run from the repository root:

    .venv/bin/python benchmarks/many_specs.py [--files 1,5,20]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import write_epic  # noqa: E402 - the e2e suite's spec generator

from spectryn_bitbucket.sandbox import Sandbox  # noqa: E402


def make_specs(folder: Path, files: int) -> list[Path]:
    paths = []
    for number in range(files):
        path = folder / f"spec{number:02d}.md"
        write_epic(path, 5, 2)
        prefix = "".join(chr(ord("A") + int(d)) for d in f"{number:02d}")
        path.write_text(path.read_text().replace("US-0", f"S{prefix}-0").replace("EPIC-900", f"EPIC-{900 + number}"))
        paths.append(path)
    return paths


def cli(args: list[str], env: dict[str, str], cwd: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "spectryn_core.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"spectryn {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def measure(files: int, one_run: bool) -> tuple[int, int, int, float]:
    """(first-sync reads, first-sync writes, no-op reads, no-op seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        paths = make_specs(home, files)
        with Sandbox(milestones=["Q1 2024"], components=["Frontend", "Backend"]) as sandbox:
            env = {**{k: v for k, v in os.environ.items() if not k.startswith(("BITBUCKET_", "SPECTRYN_"))},
                   "BITBUCKET_BASE_URL": sandbox.base_url, "BITBUCKET_WORKSPACE": sandbox.workspace,
                   "BITBUCKET_REPO": sandbox.repo, "BITBUCKET_ACCESS_TOKEN": sandbox.token,
                   "BITBUCKET_RATE_LIMIT": "0", "SPECTRYN_STATE_DIR": str(home / "state"),
                   "SPECTRYN_LOG_DIR": str(home / "logs"), "SPECTRYN_CONFIG_DIR": str(home / "cfg")}
            runs = [[str(home)]] if one_run else [[str(p)] for p in paths]

            def all_runs(execute: bool) -> None:
                for specs in runs:
                    cli(["--markdown", *specs, "--tracker", "bitbucket", *(["--execute"] if execute else [])],
                        env, home)

            before = sandbox.stats()
            all_runs(True)
            first = sandbox.stats()
            started = time.monotonic()
            all_runs(False)
            seconds = time.monotonic() - started
            noop = sandbox.stats()
            return (first["reads"] - before["reads"], first["writes"] - before["writes"],
                    noop["reads"] - first["reads"], seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", default="1,5,20", help="numbers of spec files, comma-separated")
    args = parser.parse_args(argv)
    print("| spec files | items | how | first sync reads | first sync writes | no-op reads | no-op wall (s) |")
    print("|---|---|---|---|---|---|---|")
    for files in (int(n) for n in args.files.split(",")):
        for one_run, how in ((True, "one run over the folder"), (False, "one run per file")):
            reads, writes, noop_reads, seconds = measure(files, one_run)
            print(f"| {files} | {files * 15} | {how} | {reads} | {writes} | {noop_reads} | {seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
