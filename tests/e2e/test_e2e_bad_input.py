"""The bad-input corpus (``tests/data/bad/cases.yaml``): broken specs, broken configs and remote
refusals. Each ends with its exit code (2: nothing could be sent; 1: the tracker refused), a
message naming the file / line / key or the remote problem, no traceback, and zero writes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.local_server import serving

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
CASES = yaml.safe_load((BAD / "cases.yaml").read_text(encoding="utf-8"))


class Forbidden(BaseHTTPRequestHandler):
    """Bitbucket's 403 for every request (the sandbox has no switch for it); counts writes."""

    writes = 0

    def _answer(self) -> None:
        if self.command not in ("GET", "HEAD"):
            type(self).writes += 1
        body = json.dumps({"type": "error", "error": {
            "message": "Your credentials lack one or more required privilege scopes.",
            "detail": {"required": ["issue:write"], "granted": ["repository"]}}}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def forbidden_server() -> Iterator[ThreadingHTTPServer]:
    Forbidden.writes = 0
    with serving(Forbidden) as server:
        yield server


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 30
    assert len({case["id"] for case in CASES}) == len(CASES)


def _param(case: dict[str, Any]) -> Any:
    marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
    return pytest.param(case, id=case["id"], marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_bad_input(case: dict[str, Any], secret_world_factory: Any,
                   forbidden_server: ThreadingHTTPServer) -> None:
    world = secret_world_factory(**case.get("sandbox", {}))
    spec = "EPIC.md"
    if case.get("spec"):
        spec = case["spec"]
        if (BAD / spec).is_file():
            shutil.copyfile(BAD / spec, world.tmp / spec)
    for name, target in case.get("symlinks", {}).items():
        (world.tmp / name).symlink_to(target.format(bad=BAD))
    for name, size in case.get("files", {}).items():
        with open(world.tmp / name, "wb") as handle:
            handle.truncate(size)
    for name in case.get("fifos", []):
        os.mkfifo(world.tmp / name)
    args = ["--markdown", spec, "--tracker", "bitbucket", "--execute", *case.get("args", [])]
    if "--tracker" in case.get("args", []):
        args = ["--markdown", spec, "--execute", *case["args"]]
    if case.get("config"):
        name = case["config"]
        if case.get("config_flag"):
            if (BAD / name).is_file():
                shutil.copyfile(BAD / name, world.tmp / name)
            args += ["--config", name]
        else:
            shutil.copyfile(BAD / name, world.tmp / (".spectryn" + Path(name).suffix))
    env = {k: str(v).format(closed_port=closed_port()) for k, v in case.get("env", {}).items()}
    if case.get("forbidden"):
        env["BITBUCKET_BASE_URL"] = f"http://127.0.0.1:{forbidden_server.server_address[1]}/2.0"

    run = world.cli(*args, env=env, timeout=60)

    assert "Traceback" not in run.err, run.err
    assert run.code == case["exit"], f"exit {run.code}\n{run.out}\n{run.err}"
    for expected in case["expect"]:
        assert expected in run.err, f"{expected!r} not in:\n{run.err}"
    writes = world.writes() + Forbidden.writes
    world.figures["bad_input_writes"] += writes
    assert writes == 0
