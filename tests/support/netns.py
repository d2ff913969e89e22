"""CLI runs against "another host", with no traffic leaving the machine.

:func:`run` starts this module under ``unshare -n``: a private network namespace whose loopback also
carries 10.99.0.1, an address that is not loopback (so spectryn treats it as a remote host). Inside,
a sandbox listens on 127.0.0.1 and a :class:`tests.support.front.Front` on 10.99.0.1 forwards to it
and records every request - over TLS with a test CA from trustme (``{ca}``), or plain http.

A scenario is JSON: ``cwd`` (a folder of the test, shared with the namespace), ``token`` (the only
one the sandbox accepts), ``tls`` (default true), ``files`` ({name: text} written into ``cwd``),
``symlinks`` ({name: target} made in ``cwd``), ``submodules`` ({path: {name: text}}: a repository of
those files added as a submodule at ``path``), ``git_add`` (names committed to a git repository
made in ``cwd``) and ``runs`` ([{args, env}], each with its own ``files``, ``symlinks``,
``submodules`` and ``git_add`` too, made before it runs). In file
texts and env values ``{front}`` is the front's API root and ``{ca}`` the CA bundle's path. The
answer is one JSON object per run: exit code, stdout, stderr, the requests the front saw (method,
path, whether credentials came along) and the sandbox's write count.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REMOTE = "10.99.0.1"
ROOT = Path(__file__).resolve().parents[2]


def available() -> bool:
    """Whether this machine lets the tests make a network namespace (``unshare -n``, ``ip``)."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    done = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"],
                          capture_output=True, check=False)
    return done.returncode == 0


def run(scenario: dict[str, Any], timeout: float = 600) -> list[dict[str, Any]]:
    """Run ``scenario`` in a fresh network namespace; one result per run."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run(["unshare", "-n", sys.executable, "-m", "tests.support.netns"],
                          input=json.dumps(scenario), capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def _main() -> None:
    import trustme

    from spectryn_bitbucket.sandbox import Sandbox
    from tests.support.front import Front

    scenario = json.load(sys.stdin)
    for command in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", f"{REMOTE}/32", "dev", "lo"]):
        subprocess.run(command, check=True)
    cwd = Path(scenario["cwd"])
    work = Path(tempfile.mkdtemp(prefix="netns-"))
    ca = trustme.CA()
    ca_file = work / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    tls = None
    if scenario.get("tls", True):
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(REMOTE).configure_cert(tls)
    sandbox = Sandbox(data=work / "sandbox.json", token=scenario["token"],
                      milestones=["Q1 2024"], components=["Frontend", "Backend"],
                      versions=["1.0", "1.1"], pull_requests=range(1, 21)).start()
    front = Front(upstream=sandbox.url, host=REMOTE, tls=tls).start()
    try:
        def fill(text: str) -> str:
            return text.replace("{front}", front.base_url).replace("{ca}", str(ca_file))

        git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always"]

        def run_git(*args: str) -> None:  # stdout is the answer: git's chatter goes to stderr
            subprocess.run([*git, *args], check=True, stdout=sys.stderr)

        def commit(folder: Path, names: list[str]) -> None:
            if not (folder / ".git").exists():
                run_git("-C", str(folder), "init", "-q")
            run_git("-C", str(folder), "add", "-f", *names)
            run_git("-C", str(folder), "commit", "-qm", "files")

        def prepare(part: dict[str, Any]) -> None:
            for name, text in part.get("files", {}).items():
                (cwd / name).parent.mkdir(parents=True, exist_ok=True)
                (cwd / name).write_text(fill(text), encoding="utf-8")
            for name, target in part.get("symlinks", {}).items():
                (cwd / name).parent.mkdir(parents=True, exist_ok=True)
                (cwd / name).symlink_to(target)
            for where, files in part.get("submodules", {}).items():
                origin = work / "origins" / where.replace("/", "-")
                origin.mkdir(parents=True)
                for name, text in files.items():
                    (origin / name).write_text(fill(text), encoding="utf-8")
                commit(origin, list(files))
                if not (cwd / ".git").exists():
                    run_git("-C", str(cwd), "init", "-q")
                run_git("-C", str(cwd), "submodule", "add", "-q", str(origin), where)
            if part.get("git_add") or part.get("submodules"):
                commit(cwd, part.get("git_add") or [".gitmodules"])

        prepare(scenario)
        results = []
        for step in scenario["runs"]:
            prepare(step)
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("BITBUCKET_", "SPECTRYN_"))}
            env.update({"SPECTRYN_STATE_DIR": str(work / "state"),
                        "SPECTRYN_LOG_DIR": str(work / "logs"),
                        "SPECTRYN_CONFIG_DIR": str(work / "userconfig"),
                        "BITBUCKET_WORKSPACE": "sandbox", "BITBUCKET_REPO": "demo",
                        "BITBUCKET_RATE_LIMIT": "0"})
            env.update({k: fill(v) for k, v in step.get("env", {}).items()})
            done = subprocess.run([sys.executable, "-m", "spectryn_core.cli", *step["args"]],
                                  cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                                  check=False)
            results.append({
                "code": done.returncode, "out": done.stdout, "err": done.stderr,
                "front": front.base_url,
                "seen": [[s.method, s.path, s.authorization] for s in front.seen],
                "writes": int(sandbox.stats()["writes"]),
            })
            front.seen.clear()
        print(json.dumps(results))
    finally:
        front.stop()
        sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    _main()
