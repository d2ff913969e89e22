"""Secrets: whatever way a token is given (environment, config file, flag; Bearer or Basic),
it never appears on stdout, stderr, in the run logs or in the state files - even in verbose runs
and failed runs. (Every ``World.cli`` run checks its output; the world checks its logs and state
files when the test ends; these tests add the ways of passing a token and check explicitly.)
TLS verification is on by default.
"""

from __future__ import annotations

from typing import Any

import pytest

from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.config import config_section, settings_from_section
from spectryn_core.config import load_config

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
