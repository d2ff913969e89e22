"""Reliability figures: run the e2e reliability suite, long (soak) variants included, and print
one table of what it injected and what it found.

    python benchmarks/reliability.py            # everything, soak variants too (~5-10 min)
    python benchmarks/reliability.py --quick    # the CI-sized variants only

The figures come from the tests themselves: each sandbox "world" appends its counts (CLI runs,
kills, faults injected by the sandbox, duplicates, lost updates, writes after bad input, secrets
found in outputs / logs / state files) to a tally file named by ``SPECTRYN_RELIABILITY_TALLY``
(see ``tests/e2e/conftest.py``). The suite asserts every "found" figure is zero; this script
sums them, so the README shows what was actually exercised.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = [f"tests/e2e/test_e2e_{name}.py" for name in
         ("faults", "crash", "bad_input", "secrets", "conflicts")]
ROWS = [
    ("faults_injected", "faults injected (5xx, dropped, ambiguous POST, 429)"),
    ("runs", "CLI runs"),
    ("kills", "kill -9 of a running sync"),
    ("files_scanned", "log and state files scanned"),
    ("duplicates", "duplicate issues found"),
    ("lost_updates", "lost updates (fields, comments, issues)"),
    ("bad_input_writes", "writes after bad input"),
    ("secrets_found", "secrets found"),
]


def run_suite(quick: bool, workers: int) -> tuple[Counter[str], int, str]:
    """Run the suite with a tally file; returns the summed figures, pytest's exit code, its tail."""
    with tempfile.TemporaryDirectory() as folder:
        tally = Path(folder) / "tally.jsonl"
        marker = "not soak" if quick else "soak or not soak"
        command = [sys.executable, "-m", "pytest", *SUITE, "-q", "-p", "no:cacheprovider",
                   "-m", marker, "-n", str(workers)]
        env = {**os.environ, "SPECTRYN_RELIABILITY_TALLY": str(tally)}
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        totals: Counter[str] = Counter()
        worlds = 0
        if tally.exists():
            for line in tally.read_text().splitlines():
                record = json.loads(line)
                worlds += 1
                for key, value in record.items():
                    if isinstance(value, int):
                        totals[key] += value
        totals["worlds"] = worlds
        tail = "\n".join(done.stdout.strip().splitlines()[-3:])
        return totals, done.returncode, tail


def main(argv: list[str] | None = None) -> int:
    """Run and print the table; exit 1 if the suite failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized variants only (no soak)")
    parser.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers")
    args = parser.parse_args(argv)
    started = time.monotonic()
    totals, code, tail = run_suite(args.quick, args.workers)
    elapsed = time.monotonic() - started
    print(f"| {'figure':<52} | {'count':>7} |")
    print(f"|{'-' * 54}|{'-' * 9}|")
    for key, label in ROWS:
        print(f"| {label:<52} | {totals.get(key, 0):>7} |")
    variant = "CI variants" if args.quick else "CI + soak variants"
    print(f"\n{variant}; {totals['worlds']} sandboxes; {elapsed:.0f}s; pytest: {tail.splitlines()[-1] if tail else '?'}")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
