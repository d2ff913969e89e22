"""Secrets: whatever way a token is given (environment, config file, flag; Bearer or Basic),
it never appears on stdout, stderr, in the run logs or in the state files - even in verbose runs
and failed runs. (Every ``World.cli`` run checks its output; the world checks its logs and state
files when the test ends; these tests add the ways of passing a token and check explicitly.)
TLS verification is on by default.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.config import config_section, settings_from_section
from spectryn_core.config import load_config
from tests.support.local_server import serving

WRONG = "spx-wrong-secret-Pz8Rk2Wq4Ym"


def scanned(world: Any, run: Any) -> None:
    """Explicit check of one run and of every file written so far."""
    assert world.leaks(run.out + run.err) == 0
    world.scan_files()
    assert list(world.log_dir.rglob("*.log")), "no run log was written"


def test_bearer_token_from_environment_verbose(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    run = world.sync("EPIC.md", "--verbose")
    assert run.code == 0, run.err
    assert "run log:" in run.err
    scanned(world, run)
    assert list(world.state_dir.rglob("*.sqlite")), "no state file was written"


def test_api_token_basic_auth_verbose(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    run = world.sync("EPIC.md", "--verbose", env=world.sandbox.account("person").env)
    assert run.code == 0, run.err
    scanned(world, run)


def test_token_in_config_file_and_flag(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    config = world.tmp / ".spectryn.yaml"
    config.write_text(f"bitbucket:\n  access_token: {world.sandbox.token}\n")
    config.chmod(0o600)
    run = world.sync("EPIC.md", "--verbose", env={"BITBUCKET_ACCESS_TOKEN": ""})
    assert run.code == 0, run.err
    scanned(world, run)
    flag = world.sync("EPIC.md", "--verbose", "--bitbucket-access-token", world.sandbox.token,
                      env={"BITBUCKET_ACCESS_TOKEN": ""})
    assert flag.code == 0, flag.err
    scanned(world, flag)


def test_world_readable_config_warns_without_the_secret(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    config = world.tmp / ".spectryn.yaml"
    config.write_text(f"bitbucket:\n  access_token: {world.sandbox.token}\n")
    config.chmod(0o644)
    run = world.sync("EPIC.md", execute=False, env={"BITBUCKET_ACCESS_TOKEN": ""})
    assert run.code == 0, run.err
    assert "chmod 600" in run.err
    scanned(world, run)


@pytest.mark.parametrize("verbose", [False, True])
def test_refused_token_is_not_echoed(secret_world_factory: Any, verbose: bool) -> None:
    world = secret_world_factory()
    extra = ["--verbose"] if verbose else []
    run = world.sync("EPIC.md", *extra, env={"BITBUCKET_ACCESS_TOKEN": WRONG})
    assert run.code == 4 and "Authentication failed" in run.err
    assert WRONG in world.secrets
    scanned(world, run)


def test_faulty_verbose_run_logs_no_secret(secret_world_factory: Any) -> None:
    """Retries, 5xx bodies and dropped connections are logged in detail: still no token."""
    world = secret_world_factory(fail_rate=0.2, drop_rate=0.05, ambiguous_rate=0.2, seed=9)
    for _ in range(4):
        run = world.sync("EPIC.md", "--verbose")
        scanned(world, run)
        if run.code == 0:
            break
    assert run.code == 0, run.err


def test_tls_verification_is_on_by_default(tmp_path: Any) -> None:
    config = load_config([config_section()], env={"BITBUCKET_ACCESS_TOKEN": "x",
                                                  "BITBUCKET_WORKSPACE": "w",
                                                  "BITBUCKET_REPO": "r"},
                         cwd=tmp_path, user_config_dir=tmp_path)
    settings = settings_from_section(config.section("bitbucket"))
    assert settings.verify is True
    client = BitbucketClient(settings)
    try:
        assert client.session.verify is True
        assert settings.base_url.startswith("https://")
    finally:
        client.close()


# --- secrets in error paths (issue 26) ----------------------------------------------------------


def test_a_token_read_from_a_crlf_file_works_and_is_never_shown(secret_world_factory: Any) -> None:
    """``BITBUCKET_ACCESS_TOKEN=$(cat token.txt)`` of a file saved with CRLF keeps the CR."""
    world = secret_world_factory()
    run = world.sync("EPIC.md", "--verbose", env={"BITBUCKET_ACCESS_TOKEN": world.sandbox.token + "\r"})
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    assert ("environment BITBUCKET_ACCESS_TOKEN: bitbucket.access_token had a carriage return (CR) "
            "around it; removed") in run.err
    scanned(world, run)


class Echo(BaseHTTPRequestHandler):
    """A server that echoes the credentials it was sent in its error bodies: JSON (400) or text (500)."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        sent = self.headers.get("Authorization", "")
        if self.path.startswith("/json"):
            status, kind = 400, "application/json"
            body = json.dumps({"type": "error", "error": {
                "message": f"bad credentials: {sent}", "detail": f"token={sent.split(' ', 1)[-1]}"}})
        else:
            status, kind, body = 500, "text/plain", f"upstream refused {sent}\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


@pytest.fixture
def echo_server() -> Iterator[ThreadingHTTPServer]:
    with serving(Echo) as server:
        yield server


@pytest.mark.parametrize("body", ["json", "text"])
@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_a_server_that_echoes_the_credentials_never_gets_them_printed(
        secret_world_factory: Any, echo_server: ThreadingHTTPServer, body: str, auth: str) -> None:
    world = secret_world_factory()
    (world.tmp / ".spectryn.yaml").write_text("bitbucket:\n  retries: 0\n")
    env = {"BITBUCKET_BASE_URL": f"http://127.0.0.1:{echo_server.server_address[1]}/{body}/2.0"}
    if auth == "basic":
        env.update({"BITBUCKET_ACCESS_TOKEN": "", "BITBUCKET_EMAIL": "dev@example.com",
                    "BITBUCKET_API_TOKEN": world.sandbox.token})
        # what the Authorization header carries, and so what the server echoes
        world.secrets.add(base64.b64encode(f"dev@example.com:{world.sandbox.token}".encode()).decode())
    for command in (["check", "--tracker", "bitbucket", "--verbose"],
                    ["--markdown", "EPIC.md", "--tracker", "bitbucket", "--verbose"],
                    ["check", "--tracker", "bitbucket", "--output", "json"]):
        run = world.cli(*command, env=env)  # fails on any secret in stdout or stderr
        assert run.code in (1, 5), run.err  # 400: the item error; 500: unavailable
        assert "Traceback" not in run.err
        if body == "json":
            assert "bad credentials: " + ("Bearer" if auth == "bearer" else "Basic") + " ********" \
                in run.err + run.out
    scanned(world, run)


def test_check_never_prints_the_user_information_of_a_base_url(secret_world_factory: Any) -> None:
    world = secret_world_factory()
    userinfo = "someone:pw-in-the-url-Kd93Lq"
    world.secrets.add("pw-in-the-url-Kd93Lq")
    base_url = world.sandbox.base_url.replace("http://", f"http://{userinfo}@")
    for output in ("text", "json"):
        run = world.cli("check", "--tracker", "bitbucket", "--output", output,
                        env={"BITBUCKET_BASE_URL": base_url})
        assert run.code == 0, run.err
        assert userinfo not in run.out + run.err
        assert "bitbucket.base_url = http://********@127.0.0.1" in run.out
    scanned(world, run)
