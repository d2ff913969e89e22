"""What ``spectryn review`` costs in requests, in a pull-request pipeline simulated on loopback.

For each size (stories x 2 subtasks; ``example`` is examples/EPIC.md), on a fresh sandbox with the
Pipelines proxy stand-in: the spec is synced on "main" first (except the capped case, which
reviews a first sync of more than 1000 issues), then the "pull request" retitles a story and adds
one, and ``spectryn review`` runs with Pipelines' variables and a read-only token. Counted on the
sandbox: the reads made with the token, the report requests through the proxy (no credential),
the writes to issues (must be 0), the annotations on the report, and wall time. Run from the
repository root:

    .venv/bin/python benchmarks/review_cost.py [--sizes example,100,400]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from conftest import write_epic  # noqa: E402 - the e2e suite's spec generator

from spectryn_bitbucket.sandbox import Sandbox  # noqa: E402
from spectryn_bitbucket.sandbox.accounts import access_token  # noqa: E402

COMMIT = "4f6c0a2b9d1e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
READER = "bench-review-reader"


def spectryn(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spectryn_core.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True)


def measure(size: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        spec = home / "EPIC.md"
        if size == "example":
            shutil.copy(ROOT / "examples/EPIC.md", spec)
            shutil.copytree(ROOT / "examples/attachments", home / "attachments")
        else:
            write_epic(spec, int(size), 2, comments_every=0)
        capped = size != "example" and int(size) * 3 > 1000
        reader = access_token("reader", READER, scopes=("issue", "repository", "pullrequest"))
        with Sandbox(milestones=["Q1 2024"], components=["Frontend", "Backend"], versions=["1.0", "1.1"],
                     pull_requests=range(1, 21), pipelines_proxy=0, accounts=[reader]) as sandbox:
            base = {**{k: v for k, v in os.environ.items() if not k.startswith(("BITBUCKET_", "SPECTRYN_"))},
                    "BITBUCKET_BASE_URL": sandbox.base_url, "BITBUCKET_WORKSPACE": sandbox.workspace,
                    "BITBUCKET_RATE_LIMIT": "0", "SPECTRYN_STATE_DIR": str(home / "state"),
                    "SPECTRYN_LOG_DIR": str(home / "logs"), "SPECTRYN_CONFIG_DIR": str(home / "cfg")}
            if not capped:
                main = {**base, "BITBUCKET_REPO": sandbox.repo, "BITBUCKET_ACCESS_TOKEN": sandbox.token}
                done = spectryn(["--markdown", "EPIC.md", "--tracker", "bitbucket", "--execute"], main, home)
                if done.returncode != 0:
                    raise SystemExit(done.stderr)
                text = spec.read_text()
                spec.write_text(text.replace(": Logout", ": Sign out").replace(": Story number 1\n",
                                                                               ": Story one\n")
                                + "\n### US-999: Added in the pull request\n")
            pipeline = {**base, "CI": "true", "BITBUCKET_BUILD_NUMBER": "1",
                        "BITBUCKET_PIPELINE_UUID": "{p}", "BITBUCKET_STEP_UUID": "{s}",
                        "BITBUCKET_COMMIT": COMMIT, "BITBUCKET_REPO_SLUG": sandbox.repo,
                        "BITBUCKET_PIPELINES_PROXY": sandbox.proxy_address,
                        "BITBUCKET_ACCESS_TOKEN": READER}
            sandbox.reset_stats()
            started = time.monotonic()
            run = spectryn(["review", "--markdown", "EPIC.md", "--tracker", "bitbucket", "--output",
                            "json"], pipeline, home)
            seconds = time.monotonic() - started
            if run.returncode != 0:
                raise SystemExit(run.stdout + run.stderr)
            stats = sandbox.stats()["requests"]
            reads = sum(n for route, n in stats.items() if route.startswith("GET") and "/reports" not in route)
            issue_writes = sum(n for route, n in stats.items()
                               if not route.startswith("GET") and "/reports" not in route)
            import json

            published = json.loads(run.stdout)["published"]
            return {"size": size, "issues": len(sandbox.store.issues()), "reads": reads,
                    "report": sandbox.proxy_stats()["requests"], "issue_writes": issue_writes,
                    "annotated": published["annotated"], "left_out": published["left_out"],
                    "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="example,100,400",
                        help="comma-separated: 'example' or a number of stories (x 2 subtasks)")
    args = parser.parse_args(argv)
    print("| spec | issues on main | reads (read token) | report requests (proxy) | writes to issues "
          "| annotations | left out | wall (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        row = measure(size.strip())
        label = "examples/EPIC.md" if row["size"] == "example" else f"{row['size']} x 2"
        print(f"| {label} | {row['issues']} | {row['reads']} | {row['report']} | {row['issue_writes']} "
              f"| {row['annotated']} | {row['left_out']} | {row['seconds']:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
