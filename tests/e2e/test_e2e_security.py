"""Security, end to end: what a spec, a config file or a server may make spectryn send, and where.

The bad-input corpus (tests/data/bad/cases.yaml) holds the one-run refusals (attachments outside
the repository, ...); this module holds the cases that need more than one run or a special server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

STORY = """# EPIC-7: Security

## User Stories

### US-001: Attach a file

| Field | Value |
|-------|-------|
| **Status** | 📋 To Do |

#### Attachments
{links}
"""


def attachment_names(world: Any, issue_id: int) -> list[str]:
    url = f"{world.sandbox.base_url}/repositories/sandbox/demo/issues/{issue_id}/attachments"
    values = requests.get(url, headers={"Authorization": f"Bearer {world.sandbox.token}"},
                          timeout=10).json()["values"]
    return sorted(value["name"] for value in values)


def test_attachment_elsewhere_in_the_git_work_tree_is_uploaded_with_a_safe_name(world: Any) -> None:
    (world.tmp / ".git").mkdir()
    (world.tmp / "assets").mkdir()
    (world.tmp / "assets" / "plan.txt").write_text("the plan\n")
    spec = world.tmp / "docs" / "EPIC.md"
    spec.parent.mkdir()
    spec.write_text(STORY.format(links="- [../plan\u202e.txt](../assets/plan.txt)"))

    run = world.sync("docs/EPIC.md")

    assert run.code == 0, run.err
    [issue] = world.issues()
    assert attachment_names(world, issue["id"]) == [".._plan.txt"]
    assert world.sync("docs/EPIC.md").code == 0
    assert world.writes() == 2  # the issue and its attachment, once


def test_digest_of_a_large_attachment_keeps_memory_flat(world: Any) -> None:
    size = 400 * 1024 * 1024
    with open(world.tmp / "big.bin", "wb") as handle:
        handle.truncate(size)  # sparse: no disk used, but every byte is read and hashed
    (world.tmp / "EPIC.md").write_text(STORY.format(links="- [big.bin](big.bin)"))
    measure = ("import resource, sys; from spectryn_core.cli import main; code = main(sys.argv[1:]); "
               "print('maxrss', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)")
    env = {**world.env, "SPECTRYN_ATTACHMENTS_MAX_SIZE": str(size)}
    done = subprocess.run([sys.executable, "-c", measure, "--markdown", "EPIC.md",
                           "--tracker", "bitbucket"], cwd=world.tmp, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "+ US-001" in done.stdout and "big.bin" in done.stdout
    maxrss_kib = int(done.stderr.rsplit("maxrss", 1)[1].split()[0])
    assert maxrss_kib < 200 * 1024, f"{maxrss_kib} KiB for a {size // 2**20} MiB attachment"
    assert world.writes() == 0


def test_validate_refuses_what_sync_refuses(world: Any) -> None:
    (world.tmp / "EPIC.md").write_text(STORY.format(
        links="- [a](/etc/hostname)\n- [b](..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd)"))

    run = world.cli("validate", "EPIC.md")

    assert run.code == 2
    assert "EPIC.md:12:" in run.err and "absolute path" in run.err
    assert "EPIC.md:13:" in run.err and "leaves the spec's folder" in run.err
