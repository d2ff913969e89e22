"""Requests of a run after a spec comment is edited or removed, and of the runs after a missing pull
request (issue 27, step 6 and the missing-PR recheck).

``python benchmarks/comment_edits.py [--before PYTHON]`` (with the project's virtualenv python).
``--before``: the python of another version (e.g. a script running the previous commit's checkout)
for a "before" row of each scenario.

Each scenario syncs examples/EPIC.md (``--execute``, PRs 1-4 exist: US-001's ``PR #12`` does not),
changes one thing, then counts the requests of the next run from the sandbox's counters: on a
fresh runner (a new folder, empty state - CI) and on the machine that made the first sync (state
kept). The last column is US-001's comments in Bitbucket after that run (2 in the spec: a third
is a duplicate). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ci_runs import ROOT, Runner, counted  # noqa: E402

from spectryn_bitbucket.sandbox import Sandbox  # noqa: E402

ALICE = "> The design review is done; the mockup below is final."


def edit_comment(text: str) -> str:
    return text.replace(ALICE, ALICE[:-1] + " (v2).", 1)


def remove_comment(text: str) -> str:
    return text.replace("> **@alice** (2024-01-15):\n" + ALICE + "\n\n", "", 1)


def unchanged(text: str) -> str:
    return text


SCENARIOS: list[tuple[str, Callable[[str], str], bool]] = [
    ("a spec comment edited", edit_comment, False),
    ("a spec comment removed", remove_comment, False),
    ("nothing changed; PR #12 missing", unchanged, False),
    ("PR #12 created since; a title edit", lambda t: t.replace("US-001: Login Feature",
                                                               "US-001: Sign-in Feature", 1), True),
]


def comments(sandbox: Sandbox) -> int:
    issue = next(i for i in sandbox.store.issues() if i["title"].startswith("US-001:"))
    return len(sandbox.store.comments(int(issue["id"])))


def row(python: str, label: str, change: Callable[[str], str], create_pr: bool, fresh: bool) -> str:
    text = (ROOT / "examples" / "EPIC.md").read_text()
    with tempfile.TemporaryDirectory() as tmp, Sandbox(pull_requests=range(1, 5)) as sandbox:
        first = Runner(sandbox, Path(tmp) / "first", text, python, check=False)
        first.sync()
        if create_pr:
            sandbox.store.seed(pull_requests=[12])
        runner = Runner(sandbox, Path(tmp) / "fresh", text, python, check=False) if fresh else first
        spec = runner.home / "EPIC.md"
        spec.write_text(change(spec.read_text()))
        cost = counted(sandbox, runner.sync)
        linked = any("US-001" in (c.get("raw") or "") for c in sandbox.store.pr_comments(12)) if create_pr else None
        tail = f" {'linked' if linked else 'not linked'}" if create_pr else ""
        return f"| {label} | {'fresh runner' if fresh else 'state kept'} | {cost} | {comments(sandbox)}{tail} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", metavar="PYTHON", default="",
                        help="python of another version, for a 'before' row of each scenario")
    args = parser.parse_args(argv)
    versions = ([("before", args.before)] if args.before else []) + [("after", sys.executable)]
    print("| change, then the next run | version | runner | requests | US-001 comments after (PR #12) |")
    print("|---|---|---|---|---|")
    for label, change, create_pr in SCENARIOS:
        for version, python in versions:
            for fresh in (True, False):
                line = row(python, label, change, create_pr, fresh)
                print(line.replace(f"| {label} |", f"| {label} | {version} |", 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
