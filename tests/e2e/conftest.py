"""End-to-end fixtures: a sandbox on 127.0.0.1 and the real CLI run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from spectryn_bitbucket.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "sandbox-token"


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
            "BITBUCKET_ACCESS_TOKEN": TOKEN,
            "BITBUCKET_RATE_LIMIT": "0",
            "SPECTRYN_STATE_DIR": str(self.state_dir),
            "SPECTRYN_LOG_DIR": str(self.log_dir),
            "SPECTRYN_CONFIG_DIR": str(tmp / "userconfig"),
        })

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliRun:
        command = [sys.executable, "-m", "spectryn_core.cli", *args]
        done = subprocess.run(command, cwd=self.tmp, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)
        return CliRun(list(args), done.returncode, done.stdout, done.stderr)

    def sync(self, spec: Path | str = "EPIC.md", *extra: str, execute: bool = True,
             env: dict[str, str] | None = None) -> CliRun:
        args = ["--markdown", str(spec), "--tracker", "bitbucket", *extra]
        if execute:
            args.append("--execute")
        return self.cli(*args, env=env)

    def issues(self) -> list[dict[str, Any]]:
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


@pytest.fixture
def world_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[Sandbox] = []

    def make(**options: Any) -> World:
        options.setdefault("milestones", ["Q1 2024"])
        options.setdefault("components", ["Frontend", "Backend"])
        options.setdefault("versions", ["1.0", "1.1"])
        options.setdefault("pull_requests", range(1, 21))
        sandbox = Sandbox(data=tmp_path / "sandbox.json", **options).start()
        started.append(sandbox)
        world = World(sandbox, tmp_path)
        copy_example(tmp_path)
        return world

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def world(world_factory: Any) -> World:
    return world_factory()
