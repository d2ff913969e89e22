"""What finding a merge's base text costs, per source (issue 29).

``python benchmarks/merge_sources.py [--conflicted 1,5]`` (with the project's virtualenv python).

examples/EPIC.md (5 stories with subtasks) is synced to a fresh sandbox by a runner in a git
repository (the spec committed: each base records the commit). Then, for N stories, a PM adds a
paragraph to the issue text in Bitbucket and the spec edits the same story's description; the
plan is made by:

- ``state``: the machine that synced (its state folder keeps the agreed texts);
- ``git``: a fresh runner on a full clone (the spec's history has the commit);
- ``change records``: a fresh runner on a shallow clone (``--depth 1``: the commit is missing,
  as on Bitbucket Pipelines 50 commits later) - the issue's change records are read;

and by a fresh runner with nothing to merge (the same epic, no edits), for the plain cost. Reads
are the sandbox's counters; "writes" is what ``--execute`` then sends. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from spectryn_bitbucket.sandbox import Sandbox  # noqa: E402

PM_NOTE = "PM note: please also support Apple Pay"


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), "-c", "user.name=bench", "-c", "user.email=bench@example.com",
                           *args], capture_output=True, text=True, check=True)
    return done.stdout.strip()


class Checkout:
    """A folder with the spec (a git clone or the original repository) and its own state."""

    def __init__(self, sandbox: Sandbox, folder: Path, state: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("BITBUCKET_", "SPECTRYN_"))}
        self.env.update({
            "BITBUCKET_BASE_URL": sandbox.base_url, "BITBUCKET_WORKSPACE": sandbox.workspace,
            "BITBUCKET_REPO": sandbox.repo, "BITBUCKET_ACCESS_TOKEN": sandbox.token,
            "BITBUCKET_RATE_LIMIT": "0", "SPECTRYN_STATE_DIR": str(state),
            "SPECTRYN_LOG_DIR": str(state.parent / f"{state.name}-logs"),
            "SPECTRYN_CONFIG_DIR": str(state.parent / f"{state.name}-config"),
        })

    def sync(self, *extra: str) -> str:
        done = subprocess.run([sys.executable, "-m", "spectryn_core.cli", "--markdown", "EPIC.md", "--tracker",
                               "bitbucket", *extra], cwd=self.folder, env=self.env, capture_output=True,
                              text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"sync failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout


def counted(sandbox: Sandbox, run: Any) -> tuple[int, int, str]:
    before = sandbox.stats()
    out = run()
    after = sandbox.stats()
    return int(after["reads"]) - int(before["reads"]), int(after["writes"]) - int(before["writes"]), out


def scenario(conflicted: int, work: Path) -> list[tuple[str, int, int, int, str]]:
    """(source, conflicted, reads of the plan, reads of a plan with nothing to merge, writes)."""
    repo = work / "repo"
    repo.mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "EPIC.md", repo / "EPIC.md")
    shutil.copytree(ROOT / "examples" / "attachments", repo / "attachments")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "spec")
    sandbox = Sandbox(data=work / "sandbox.json", milestones=["Q1 2024"], components=["Frontend", "Backend"],
                      versions=["1.0", "1.1"], pull_requests=range(1, 21), members=["alice", "bob"]).start()
    rows: list[tuple[str, int, int, int, str]] = []
    try:
        laptop = Checkout(sandbox, repo, work / "state-laptop")
        laptop.sync("--execute")
        plain, _, _ = counted(sandbox, lambda: Checkout(sandbox, repo, work / "state-plain").sync())
        spec = (repo / "EPIC.md").read_text()
        keys = [f"US-00{n}" for n in range(1, conflicted + 1)]
        for key in keys:
            issue = next(i for i in sandbox.store.issues() if i["title"].startswith(f"{key}:"))
            raw = issue["content_raw"]
            head, _, tail = raw.partition("\n\nLabels: ")
            _put(sandbox, issue["id"], f"{head}\n\n{PM_NOTE}\n\nLabels: {tail}")
        spec = spec.replace("**I want** ", "**I want** (edited) ", conflicted)
        (repo / "EPIC.md").write_text(spec)
        git(repo, "commit", "-q", "-am", "edit")
        full = work / "full"
        subprocess.run(["git", "clone", "-q", f"file://{repo}", str(full)], check=True)
        shallow = work / "shallow"
        subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(shallow)], check=True)
        for clone in (full, shallow):
            shutil.copytree(ROOT / "examples" / "attachments", clone / "attachments", dirs_exist_ok=True)
        runs = [("state", laptop), ("git", Checkout(sandbox, full, work / "state-full")),
                ("change records", Checkout(sandbox, shallow, work / "state-shallow"))]
        for name, checkout in runs:
            reads, _, out = counted(sandbox, checkout.sync)
            merged = out.count("(merged)")
            rows.append((name, conflicted, reads, plain, f"{merged} merged"))
        _, writes, _ = counted(sandbox, lambda: runs[2][1].sync("--execute"))
        _, again, _ = counted(sandbox, lambda: Checkout(sandbox, shallow, work / "state-after").sync("--execute"))
        rows.append(("(execute, then a no-op on a fresh runner)", conflicted, writes, again, "writes"))
    finally:
        sandbox.stop()
    return rows


def _put(sandbox: Sandbox, number: Any, raw: str) -> None:
    import requests

    url = f"{sandbox.base_url}/repositories/{sandbox.workspace}/{sandbox.repo}/issues/{number}"
    answer = requests.put(url, json={"content": {"raw": raw}}, headers=sandbox.account("person").headers, timeout=10)
    answer.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conflicted", default="1,5", help="stories in conflict per scenario (max 5)")
    args = parser.parse_args()
    print("| source | conflicted items | reads of the plan | reads with nothing to merge | extra reads per item | outcome |")
    print("|---|---|---|---|---|---|")
    for size in (int(n) for n in args.conflicted.split(",")):
        with tempfile.TemporaryDirectory(prefix="spectryn-merge-bench-") as folder:
            for name, count, reads, plain, outcome in scenario(size, Path(folder)):
                if name.startswith("("):
                    print(f"| {name} | {count} | {reads} writes | {plain} writes | | |")
                    continue
                print(f"| {name} | {count} | {reads} | {plain} | {(reads - plain) / count:.1f} | {outcome} |")


if __name__ == "__main__":
    main()
