"""Mutation scores of the sync engine, per module, from the last ``mutmut run`` (README, Development).

Reads ``mutants/spectryn_core/*.py.meta`` (written by mutmut 3) and
``benchmarks/mutation_equivalent.txt`` (surviving mutants judged equivalent: ``name  # why``), and
prints one table row per module: mutants, checked (a run may be given a sample of mutant names),
killed, survived, no tests, equivalent, and the score: killed / (checked - equivalent).
``--survivors`` lists the survivors not judged equivalent.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("plan", "apply", "sync", "desired", "state", "items")
KILLED = {1, 3, 36, 37, -24, 24, 152, 255}  # failed tests, pytest error, timeout, type check
NO_TESTS = {5, 33}


def equivalents(path: Path) -> dict[str, str]:
    """Mutant name -> why it is equivalent (the file's ``name  # why`` lines)."""
    found: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            name, _, why = line.partition("#")
            if name.strip():
                found[name.strip()] = why.strip()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true", help="list the non-equivalent survivors")
    parser.add_argument("--root", type=Path, default=ROOT, help="the folder mutmut ran in")
    args = parser.parse_args()
    equivalent = equivalents(ROOT / "benchmarks" / "mutation_equivalent.txt")
    print("| module | mutants | checked | killed | survived | no tests | equivalent | score |")
    print("|---|---|---|---|---|---|---|---|")
    survivors: list[str] = []
    for module in MODULES:
        meta = args.root / "mutants" / "spectryn_core" / f"{module}.py.meta"
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        tally: Counter[str] = Counter()
        for name, code in codes.items():
            if code in KILLED:
                tally["killed"] += 1
            elif code in NO_TESTS and name not in equivalent:
                tally["no tests"] += 1
                survivors.append(f"{name}  (no tests)")
            elif code is None:
                tally["not checked"] += 1
            elif name in equivalent:  # a survivor judged equivalent (a killed one is counted killed)
                tally["equivalent"] += 1
            else:
                tally["survived"] += 1
                survivors.append(name)
        checked = len(codes) - tally["not checked"]
        counted = checked - tally["equivalent"]
        score = f"{100 * tally['killed'] / counted:.1f}%" if counted else "-"
        print(f"| {module} | {len(codes)} | {checked} | {tally['killed']} | {tally['survived']} | "
              f"{tally['no tests']} | {tally['equivalent']} | {score} |")
    if args.survivors:
        print()
        print("\n".join(survivors))


if __name__ == "__main__":
    main()
