"""End-to-end fixtures: a sandbox on 127.0.0.1 and the real CLI run as a subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spectryn_bitbucket.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sandbox-token"
#: A distinctive token (``secret_world_factory``): a leak is found by a plain text search.
SECRET_TOKEN = "spx-e2e-secret-7Qv4Lm9Tz2Kd"
#: The distinctive API token of the ``person`` account of ``secret_world_factory``.
SECRET_API_TOKEN = "spx-e2e-api-secret-3Hf8Wq1Rn6Ys"
#: Environment variables whose values are secrets (scanned for in every output and file).
SECRET_ENV = ("BITBUCKET_ACCESS_TOKEN", "BITBUCKET_API_TOKEN", "BITBUCKET_APP_PASSWORD")
#: When set, every world appends its reliability figures here (see benchmarks/reliability.py).
TALLY = os.environ.get("SPECTRYN_RELIABILITY_TALLY")
#: ``#12 US-001.2`` in an issue's content: a reference to another issue by id and key.
ISSUE_REF = re.compile(r"#(\d+)(\s+\(?)([A-Z][A-Z0-9]*-\d+(?:\.\d+)?)")
#: ``US-001.2 (#12)``: the same, as spectryn writes it in link and child lines.
KEY_REF = re.compile(r"([A-Z][A-Z0-9]*-\d+(?:\.\d+)?) \(#(\d+)\)")


@dataclass
class CliRun:
    """One finished CLI run."""

    args: list[str]
    code: int
    out: str
    err: str


class World:
    """A sandbox, a working folder with a spec, and the env the CLI runs with."""

    def __init__(self, sandbox: Sandbox, tmp: Path) -> None:
        self.sandbox = sandbox
        self.tmp = tmp
        self.state_dir = tmp / "state"
        self.log_dir = tmp / "logs"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("BITBUCKET_", "SPECTRYN_"))}
        self.env.update({
            "BITBUCKET_BASE_URL": sandbox.base_url,
            "BITBUCKET_WORKSPACE": sandbox.workspace,
            "BITBUCKET_REPO": sandbox.repo,
            "BITBUCKET_ACCESS_TOKEN": sandbox.token,
            "BITBUCKET_RATE_LIMIT": "0",
            "SPECTRYN_STATE_DIR": str(self.state_dir),
            "SPECTRYN_LOG_DIR": str(self.log_dir),
            "SPECTRYN_CONFIG_DIR": str(tmp / "userconfig"),
        })
        #: Every secret a run was given; none may appear in outputs, logs or state files.
        self.secrets: set[str] = {sandbox.token}
        #: Reliability figures of this world (runs, kills, duplicates, ...), see ``TALLY``.
        self.figures: Counter[str] = Counter()

    def _run_env(self, env: dict[str, str] | None) -> dict[str, str]:
        merged = {**self.env, **(env or {})}
        self.secrets.update(merged[name] for name in SECRET_ENV if merged.get(name))
        self.figures["runs"] += 1
        return merged

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
            cwd: Path | None = None, within: list[str] | None = None) -> CliRun:
        """Run the CLI (``within``: a command prefix, e.g. :func:`tests.support.mountns.within`)."""
        command = [*(within or []), sys.executable, "-m", "spectryn_core.cli", *args]
        done = subprocess.run(command, cwd=cwd or self.tmp, env=self._run_env(env),
                              capture_output=True, text=True, timeout=timeout)
        self.check_no_secret(done.stdout + done.stderr, "the CLI's output")
        return CliRun(list(args), done.returncode, done.stdout, done.stderr)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start the CLI in the background (to kill it, or to race another run)."""
        command = [sys.executable, "-m", "spectryn_core.cli", *args]
        return subprocess.Popen(command, cwd=self.tmp, env=self._run_env(env), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def sync_args(self, spec: Path | str = "EPIC.md", *extra: str) -> list[str]:
        """The arguments of an executing sync of ``spec``."""
        return ["--markdown", str(spec), "--tracker", "bitbucket", *extra, "--execute"]

    # --- secrets ----------------------------------------------------------------------------

    def leaks(self, text: str) -> int:
        """How many of the secrets used appear in ``text``."""
        return sum(1 for secret in self.secrets if secret and secret in text)

    def check_no_secret(self, text: str, where: str) -> None:
        """Count and fail on a secret found in ``text`` (the message does not repeat it)."""
        found = self.leaks(text)
        self.figures["secrets_found"] += found
        assert found == 0, f"{found} secret(s) found in {where}"

    def scan_files(self) -> None:
        """Scan the run logs and the state files (SQLite, WAL, lock) for the secrets."""
        for folder in (self.log_dir, self.state_dir):
            if not folder.is_dir():
                continue
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    self.figures["files_scanned"] += 1
                    text = path.read_bytes().decode("utf-8", errors="replace")
                    self.check_no_secret(text, str(path.relative_to(self.tmp)))

    # --- what the sandbox holds ---------------------------------------------------------------

    def key_counts(self) -> Counter[str]:
        """How many issues carry each key (a duplicate shows as a count above 1)."""
        return Counter(issue["title"].split(":", 1)[0] for issue in self.issues())

    def duplicates(self) -> dict[str, int]:
        """Keys carried by more than one issue; also counted in ``figures["duplicates"]``."""
        found = {key: n for key, n in self.key_counts().items() if n > 1}
        self.figures["duplicates"] += sum(n - 1 for n in found.values())
        return found

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every issue's synced fields by key, comparable across sandboxes: references to other
        issues (``#12 US-001.2``) lose their number (after checking it is that key's issue), the
        merge-base line is left out of the content (its digests cover those numbers) and only
        its presence is kept, and the issue's comments, attachment names and pull-request links
        are included."""
        from spectryn_bitbucket.render import split_base

        store = self.sandbox.store
        records = store.issues()
        key_of = {int(r["id"]): r["title"].split(":", 1)[0] for r in records}
        linked: dict[int, list[str]] = {}
        for pr in store.pull_requests():
            for comment in store.pr_comments(int(pr["id"])):
                match = re.search(r"#(\d+) \(", comment.get("raw") or "")
                if match:
                    linked.setdefault(int(match.group(1)), []).append(str(pr["id"]))

        def strip_ids(text: str) -> str:
            def one(match: re.Match[str]) -> str:
                number, gap, key = int(match.group(1)), match.group(2), match.group(3)
                assert key_of.get(number) == key, f"#{number} is not {key}'s issue"
                return f"#{gap}{key}"

            def after(match: re.Match[str]) -> str:
                key, number = match.group(1), int(match.group(2))
                assert key_of.get(number) == key, f"#{number} is not {key}'s issue"
                return f"{key} (#)"
            return KEY_REF.sub(after, ISSUE_REF.sub(one, text))

        result: dict[str, dict[str, Any]] = {}
        for record in records:
            number = int(record["id"])
            key = key_of[number]
            content, base = split_base(record.get("content_raw") or "")
            result[key] = {
                "title": record["title"],
                "content": strip_ids(content),
                "has_base": base is not None,
                **{name: record.get(name) for name in
                   ("state", "kind", "priority", "milestone", "component", "version")},
                "comments": sorted(c.get("raw") or "" for c in store.comments(number)),
                "attachments": sorted(a.get("name") or "" for a in store.attachments(number)),
                "pull_requests": sorted(linked.get(number, [])),
            }
        return result

    def edit_in_bitbucket(self, key: str, body: dict[str, Any], account: str = "person") -> int:
        """What a person does in Bitbucket: PUT ``body`` to the issue carrying ``key`` through the
        sandbox's API (not its store), as the sandbox account ``account`` (default: the workspace
        member with an API token). Returns the issue's id."""
        import requests

        issue = next(i for i in self.issues() if i["title"].startswith(f"{key}:"))
        url = f"{self.sandbox.base_url}/repositories/{self.sandbox.workspace}/{self.sandbox.repo}/issues/{issue['id']}"
        answer = requests.put(url, json=body, timeout=10, headers=self.sandbox.account(account).headers)
        assert answer.status_code == 200, answer.text
        return int(issue["id"])

    def calm(self) -> None:
        """Switch every fault off (before checking what the sandbox holds, or a clean re-run)."""
        self.sandbox.set_faults(fail_rate=0.0, drop_rate=0.0, ambiguous_rate=0.0, latency_ms=0,
                                rate_limit=None)

    def faults_injected(self) -> int:
        """Faults the sandbox has injected so far."""
        return sum(int(n) for n in self.sandbox.stats()["faults"].values())

    def sync(self, spec: Path | str = "EPIC.md", *extra: str, execute: bool = True,
             env: dict[str, str] | None = None) -> CliRun:
        args = ["--markdown", str(spec), "--tracker", "bitbucket", *extra]
        if execute:
            args.append("--execute")
        return self.cli(*args, env=env)

    def issues(self) -> list[dict[str, Any]]:  # noqa: D102 - every issue, Cloud's shape
        import requests

        found = requests.get(f"{self.sandbox.url}/_sandbox/issues", timeout=10).json()
        return found.get("values", found) if isinstance(found, dict) else found

    def by_key(self) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = {}
        for issue in self.issues():
            key = issue["title"].split(":", 1)[0]
            assert key not in result, f"duplicate issue for {key}"
            result[key] = issue
        return result

    def writes(self) -> int:
        return int(self.sandbox.stats()["writes"])

    def reads(self) -> int:
        return int(self.sandbox.stats()["reads"])


def copy_example(tmp: Path) -> Path:
    """examples/EPIC.md and its attachment, copied so tests can edit them."""
    (tmp / "attachments").mkdir(parents=True, exist_ok=True)
    (tmp / "attachments" / "mockup.png").write_bytes(
        (ROOT / "examples/attachments/mockup.png").read_bytes())
    spec = tmp / "EPIC.md"
    spec.write_text((ROOT / "examples/EPIC.md").read_text())
    return spec


def write_epic(path: Path, stories: int, subtasks: int, *, seed: int = 0,
               comments_every: int = 7) -> Path:
    """A generated spec: one epic with ``stories`` stories of ``subtasks`` subtasks each, varied
    statuses, priorities, components and points, and a comment on every ``comments_every``-th
    story (so duplicates of comments would show)."""
    statuses = ["📋 To Do", "🔄 In Progress", "✅ Done", "📋 Planned"]
    priorities = ["🔴 Critical", "🟠 High", "🟡 Medium", "🟢 Low"]
    components = ["Frontend", "Backend"]
    lines = ["# 🚀 EPIC-900: Generated reliability epic", "",
             "| Field | Value |", "|-------|-------|", "| **Milestone** | Q1 2024 |",
             "| **Status** | 🔄 In Progress |", "", "An epic generated for the reliability suite.",
             "", "## User Stories", ""]
    for n in range(1, stories + 1):
        pick = n + seed
        lines += [f"### 🔧 US-{n:03d}: Story number {n}", "",
                  "| Field | Value |", "|-------|-------|",
                  f"| **Story Points** | {pick % 8 + 1} |",
                  f"| **Priority** | {priorities[pick % 4]} |",
                  f"| **Status** | {statuses[pick % 4]} |",
                  f"| **Component** | {components[pick % 2]} |", "",
                  "#### Description", "**As a** user", f"**I want** feature {n}",
                  f"**So that** reliability case {n} is covered", "",
                  "#### Acceptance Criteria", f"- [ ] Case {n} works", f"- [x] Case {n} is tested", ""]
        if subtasks:
            lines += ["#### Subtasks", "| # | Subtask | Description | SP | Status |",
                      "|---|---------|-------------|----|--------|"]
            for m in range(1, subtasks + 1):
                lines.append(f"| {m} | Part {m} of {n} | Step {m} of story {n} | {m % 3 + 1} | "
                             f"{statuses[(pick + m) % 4]} |")
            lines.append("")
        if comments_every and n % comments_every == 0:
            lines += ["#### Comments", f"> **@alice** (2024-01-{n % 28 + 1:02d}):",
                      f"> Comment on story {n}.", ""]
        lines += ["---", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def expected_keys(stories: int, subtasks: int) -> set[str]:
    """The issue keys a spec from :func:`write_epic` syncs to (epics are milestones by default)."""
    keys = {f"US-{n:03d}" for n in range(1, stories + 1)}
    keys |= {f"US-{n:03d}.{m}" for n in range(1, stories + 1) for m in range(1, subtasks + 1)}
    return keys


@pytest.fixture
def epic_writer() -> Callable[..., Path]:
    """:func:`write_epic`, for test modules (they do not import the conftest)."""
    return write_epic


@pytest.fixture
def keys_of() -> Callable[[int, int], set[str]]:
    """:func:`expected_keys`, for test modules."""
    return expected_keys


def _tally(world: World, nodeid: str) -> None:
    if not TALLY:
        return
    figures = dict(world.figures)
    figures["faults_injected"] = world.faults_injected()
    with open(TALLY, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"test": nodeid, **figures}) + "\n")


@pytest.fixture
def world_factory(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Makes worlds: a sandbox (options as :class:`Sandbox`) and a folder with the example spec.

    When the test ends, the logs and state files are scanned for the secrets the runs used."""
    started: list[World] = []

    def make(folder: str | None = None, **options: Any) -> World:
        """``folder``: a sub-folder of tmp_path for a second, independent world."""
        home = tmp_path / folder if folder else tmp_path
        home.mkdir(parents=True, exist_ok=True)
        options.setdefault("milestones", ["Q1 2024"])
        options.setdefault("components", ["Frontend", "Backend"])
        options.setdefault("versions", ["1.0", "1.1"])
        options.setdefault("pull_requests", range(1, 21))
        options.setdefault("members", ["alice", "bob", "carol"])
        sandbox = Sandbox(data=home / "sandbox.json", **options).start()
        world = World(sandbox, home)
        started.append(world)
        copy_example(home)
        return world

    yield make
    for world in started:
        world.sandbox.stop()
    for world in started:
        world.scan_files()
        _tally(world, request.node.nodeid)


@pytest.fixture
def world(world_factory: Any) -> World:
    return world_factory()


@pytest.fixture
def secret_world_factory(world_factory: Any) -> Callable[..., World]:
    """``world_factory`` whose sandbox's access token is the distinctive :data:`SECRET_TOKEN`
    (and the person's API token :data:`SECRET_API_TOKEN`)."""

    def make(**options: Any) -> World:
        options.setdefault("token", SECRET_TOKEN)
        options.setdefault("person", ("dev@example.com", SECRET_API_TOKEN))
        return world_factory(**options)

    return make
