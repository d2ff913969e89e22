"""The real CLI against the sandbox: exit codes CI can act on, JSON on every command, config found
from a sub-folder, Bitbucket Pipelines' variables, retry progress."""

from __future__ import annotations

import json
import socket
import subprocess
from typing import Any


def _json(run: Any) -> dict[str, Any]:
    assert run.out.strip(), run.err
    return json.loads(run.out)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_token_exits_4_with_an_auth_error(world: Any) -> None:
    run = world.sync("EPIC.md", "--output", "json", env={"BITBUCKET_ACCESS_TOKEN": "wrong-token-1"})
    assert run.code == 4, run.err
    error = _json(run)["error"]
    assert error["kind"] == "auth" and error["message"] == "Authentication failed"
    assert "BITBUCKET_ACCESS_TOKEN" in error["hint"]
    assert world.writes() == 0


def test_missing_credentials_exit_2_and_name_the_variables(world: Any) -> None:
    run = world.cli("check", "--tracker", "bitbucket", "--output", "json",
                    env={"BITBUCKET_ACCESS_TOKEN": ""})
    assert run.code == 2
    error = _json(run)["error"]
    assert error["kind"] == "config" and "BITBUCKET_API_TOKEN" in error["message"]


def test_unknown_repository_exits_2_with_a_target_error(world: Any) -> None:
    run = world.sync("EPIC.md", "--output", "json", execute=False, env={"BITBUCKET_REPO": "nope"})
    assert run.code == 2, run.err
    error = _json(run)["error"]
    assert error["kind"] == "target" and "nope" in error["message"]


def test_unreachable_tracker_exits_5_and_says_it_is_retrying(world: Any) -> None:
    (world.tmp / ".spectryn.yaml").write_text("bitbucket:\n  retries: 2\n")
    url = f"http://127.0.0.1:{_closed_port()}/2.0"
    run = world.cli("check", "--tracker", "bitbucket", "--output", "json",
                    env={"BITBUCKET_BASE_URL": url})
    assert run.code == 5, run.err
    assert _json(run)["error"]["kind"] == "unreachable"
    assert "retrying 127.0.0.1 in 0 s (1/2): connection refused" in run.err
    assert "retrying 127.0.0.1 in 1 s (2/2): connection refused" in run.err
    assert "Traceback" not in run.err


def test_check_and_repos_and_plugins_answer_in_json(world: Any) -> None:
    check = world.cli("check", "--tracker", "bitbucket", "--output", "json")
    assert check.code == 0, check.err
    found = _json(check)
    assert found["connection"] == "ok" and found["target"].endswith("sandbox/demo")
    assert any("milestones: Q1 2024" in line for line in found["details"])
    repos = world.cli("bitbucket", "repos", "--output", "json")
    assert repos.code == 0, repos.err
    assert _json(repos) == {"workspace": "sandbox", "repositories": [
        {"slug": "demo", "name": "demo", "issue_tracker": "on"}]}
    plugins = world.cli("plugins", "--output", "json")
    assert {"markdown", "bitbucket"} <= {row["name"] for row in _json(plugins)["plugins"]}


def test_config_is_found_from_a_sub_folder_and_spec_paths_stay_relative(world: Any) -> None:
    """Run from docs/ inside a git repository: the .spectryn.yaml at its root is used, and the
    spec's attachment (attachments/mockup.png beside EPIC.md) is found relative to the spec."""
    subprocess.run(["git", "init", "-q", str(world.tmp)], check=True)
    (world.tmp / ".spectryn.yaml").write_text(
        f"sync:\n  tracker: bitbucket\nbitbucket:\n  workspace: {world.sandbox.workspace}\n"
        f"  repo: {world.sandbox.repo}\n")
    docs = world.tmp / "docs"
    docs.mkdir()
    env = {"BITBUCKET_WORKSPACE": "", "BITBUCKET_REPO": ""}
    run = world.cli("--markdown", "../EPIC.md", "--execute", "--output", "json", env=env, cwd=docs)
    assert run.code == 0, run.err
    result = _json(run)
    assert result["target"].endswith("sandbox/demo") and result["counts"]["created"] > 0
    assert "mockup.png" in json.dumps(world.snapshot())


def test_bitbucket_pipelines_variables_name_the_repository(world: Any) -> None:
    """Pipelines sets BITBUCKET_WORKSPACE and BITBUCKET_REPO_SLUG; BITBUCKET_REPO wins if set."""
    env = {"BITBUCKET_REPO": "", "BITBUCKET_REPO_SLUG": world.sandbox.repo}
    run = world.cli("check", "--tracker", "bitbucket", env=env)
    assert run.code == 0, run.err
    assert f"{world.sandbox.workspace}/{world.sandbox.repo}" in run.out
    both = world.cli("check", "--tracker", "bitbucket", "--output", "json",
                     env={"BITBUCKET_REPO_SLUG": "other"})
    assert both.code == 0 and _json(both)["target"].endswith("/demo")


def test_init_then_the_connection_test_passes_and_a_sync_runs(world: Any) -> None:
    env = {"BITBUCKET_WORKSPACE": "", "BITBUCKET_REPO": "", "BITBUCKET_BASE_URL": ""}
    init = world.cli("init", "--tracker", "bitbucket", "--workspace", world.sandbox.workspace,
                     "--repo", world.sandbox.repo, "--base-url", world.sandbox.base_url,
                     "--output", "json", env=env)
    assert init.code == 0, init.err
    answer = _json(init)
    assert answer["connection"] == "ok" and answer["target"].endswith("sandbox/demo")
    assert world.sandbox.token not in (world.tmp / ".spectryn.yaml").read_text()
    sync = world.cli("--markdown", "EPIC.md", "--execute", env=env)  # the tracker comes from the file
    assert sync.code == 0, sync.err


def test_init_without_the_secret_says_which_variable_to_set(world: Any) -> None:
    env = {"BITBUCKET_ACCESS_TOKEN": "", "BITBUCKET_BASE_URL": ""}
    init = world.cli("init", "--tracker", "bitbucket", "--workspace", "w", "--repo", "r", env=env)
    assert init.code == 2  # written, but the connection test could not run
    assert (world.tmp / ".spectryn.yaml").is_file()
    assert ("set BITBUCKET_EMAIL and BITBUCKET_API_TOKEN, or BITBUCKET_ACCESS_TOKEN in the "
            "environment") in init.err
    assert init.err.startswith("error: no Bitbucket credentials"), init.err
