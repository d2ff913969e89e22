"""Memory and time of the two inputs issue 10 found unbounded, printed as a table.

- a dry-run whose story attaches a large (sparse) file: the digest is streamed, so the CLI's peak
  memory should not grow with the file;
- a "billion laughs" config (nested YAML anchors under a secret key): refused unexpanded.

Usage: ``.venv/bin/python benchmarks/security.py [--sizes-mib 64,1024] [--levels 9,12]``
Each row is one real CLI run (a subprocess, against a sandbox on 127.0.0.1 for the dry-runs),
measuring its own peak memory (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from spectryn_bitbucket.sandbox import Sandbox

SPEC = "# EPIC-1: Epic\n\n### US-001: Story\n\n#### Attachments\n- [big.bin](big.bin)\n"


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, float, float]:
    """Exit code, seconds and peak memory (MiB) of one CLI run."""
    command = [sys.executable, "-c",
               "import resource, sys; from spectryn_core.cli import main; code = main(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
               "sys.exit(code)", *args]
    started = time.monotonic()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return done.returncode, seconds, peak_kib / 1024


def laughs(levels: int) -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels + 1)]
    return "\n".join(lines) + f"\nbitbucket:\n  app_password: *l{levels}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mib", default="64,1024")
    parser.add_argument("--levels", default="9,12")
    options = parser.parse_args()
    rows: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory() as folder, Sandbox() as sandbox:
        work = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BITBUCKET_", "SPECTRYN_"))}
        env.update({"BITBUCKET_BASE_URL": sandbox.base_url, "BITBUCKET_WORKSPACE": "sandbox",
                    "BITBUCKET_REPO": "demo", "BITBUCKET_ACCESS_TOKEN": sandbox.token,
                    "SPECTRYN_ATTACHMENTS_MAX_SIZE": str(2**40),
                    "SPECTRYN_STATE_DIR": str(work / "state"), "SPECTRYN_LOG_DIR": str(work / "log"),
                    "SPECTRYN_CONFIG_DIR": str(work / "user")})
        (work / "EPIC.md").write_text(SPEC)
        for mib in (int(n) for n in options.sizes_mib.split(",")):
            with open(work / "big.bin", "wb") as handle:
                handle.truncate(mib * 2**20)
            code, seconds, peak = run_cli(["--markdown", "EPIC.md", "--tracker", "bitbucket"],
                                          work, env)
            rows.append((f"dry-run, {mib} MiB attachment", code, seconds, peak))
        (work / "big.bin").unlink()
        for levels in (int(n) for n in options.levels.split(",")):
            (work / ".spectryn.yaml").write_text(laughs(levels))
            code, seconds, peak = run_cli(["validate", "EPIC.md"], work, env)
            rows.append((f"config with 9^{levels} laughs under a secret", code, seconds, peak))
    print(f"| {'case':<42} | exit | seconds | peak MiB |")
    print(f"|{'-' * 44}|------|---------|----------|")
    for case, code, seconds, peak in rows:
        print(f"| {case:<42} | {code:>4} | {seconds:>7.1f} | {peak:>8.0f} |")


if __name__ == "__main__":
    main()
