"""Try spectryn against the local Bitbucket sandbox: the README's first command runs this.

Starts the sandbox on 127.0.0.1 (with the milestone, components, versions and pull requests that
examples/EPIC.md names), then runs the real CLI three times - a dry-run, ``--execute``, and a re-run
that sends nothing - and lists the issues the sandbox now holds. State and logs go to a temporary
folder, so running it again starts fresh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from spectryn_bitbucket.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
SPEC = HERE / "EPIC.md"


def spectryn(*args: str, env: dict[str, str]) -> int:
    command = [sys.executable, "-m", "spectryn_core.cli", *args]
    print(f"\n$ spectryn {' '.join(args)}", flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="spectryn-demo-") as tmp, Sandbox(
        milestones=["Q1 2024"],
        components=["Frontend", "Backend"],
        versions=["1.0", "1.1"],
        pull_requests=range(1, 21),
        members=["alice", "bob", "carol"],
        # a workspace access token may list the members (a repository token may not), so the
        # spec's @alice is assigned; see README "Assignees"
        token_level="workspace",
    ) as sandbox:
        env = dict(os.environ)
        env.update({
            "BITBUCKET_BASE_URL": sandbox.base_url,
            "BITBUCKET_WORKSPACE": "sandbox",
            "BITBUCKET_REPO": "demo",
            "BITBUCKET_ACCESS_TOKEN": "sandbox-token",
            "SPECTRYN_STATE_DIR": str(Path(tmp) / "state"),
            "SPECTRYN_LOG_DIR": str(Path(tmp) / "logs"),
        })
        print(f"Bitbucket sandbox on {sandbox.base_url} (workspace sandbox, repo demo)")
        spectryn("--markdown", str(SPEC), "--tracker", "bitbucket", env=env)
        status = spectryn("--markdown", str(SPEC), "--tracker", "bitbucket", "--execute", env=env)
        stats = sandbox.stats()
        print(f"(sandbox: {stats['reads']} reads, {stats['writes']} writes so far)")
        spectryn("--markdown", str(SPEC), "--tracker", "bitbucket", "--execute", env=env)
        after = sandbox.stats()
        print(f"(re-run: {after['reads'] - stats['reads']} reads, "
              f"{after['writes'] - stats['writes']} writes)")
        print("\nIssues in sandbox/demo:")
        with urllib.request.urlopen(f"{sandbox.url}/_sandbox/issues") as response:
            issues = json.load(response)
        issues = issues.get("values", issues) if isinstance(issues, dict) else issues
        for issue in sorted(issues, key=lambda i: i["id"]):
            milestone = (issue.get("milestone") or {}).get("name") or "-"
            print(f"  #{issue['id']:<3} {issue['title']:<45} {issue['state']:<9} "
                  f"{issue['priority']:<9} {milestone}")
        return status


if __name__ == "__main__":
    sys.exit(main())
