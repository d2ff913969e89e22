"""Persistence across restarts, the command line, and the pytest fixtures."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests

from spectryn_bitbucket.sandbox import Sandbox, main
from spectryn_bitbucket.sandbox.server import add_sandbox_arguments


def test_data_survives_restart(tmp_path):
    data = tmp_path / "sb.json"
    with Sandbox(data=data, milestones=["v1"]) as sb:
        h = {"Authorization": f"Bearer {sb.token}"}
        url = f"{sb.base_url}/repositories/sandbox/demo/issues"
        requests.post(url, json={"title": "US-001: A", "milestone": {"name": "v1"}}, headers=h)
        requests.post(url, json={"title": "US-002: B"}, headers=h)
        requests.post(f"{url}/1/comments", json={"content": {"raw": "hi"}}, headers=h)
        requests.post(f"{url}/1/attachments", files={"files": ("a.bin", b"\x00\x01bytes")}, headers=h)
        requests.post(f"{sb.url}/_sandbox/components", json={"name": "api"})
    assert json.loads(data.read_text())["next_issue_id"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["sb.json"]  # no temporary file left behind

    with Sandbox(data=data, milestones=["v1", "v2"]) as sb:
        h = {"Authorization": f"Bearer {sb.token}"}
        url = f"{sb.base_url}/repositories/sandbox/demo/issues"
        issues = requests.get(url, headers=h).json()["values"]
        assert [(i["id"], i["title"]) for i in issues] == [(1, "US-001: A"), (2, "US-002: B")]
        assert issues[0]["milestone"]["name"] == "v1"
        assert requests.get(f"{url}/1/comments", headers=h).json()["values"][0]["content"]["raw"] == "hi"
        assert requests.get(f"{url}/1/attachments/a.bin", headers=h).content == b"\x00\x01bytes"
        names = [m["name"] for m in requests.get(f"{sb.base_url}/repositories/sandbox/demo/milestones", headers=h).json()["values"]]
        assert names == ["v1", "v2"]
        assert requests.post(url, json={"title": "C", "component": {"name": "api"}}, headers=h).json()["id"] == 3


def test_saved_while_running_without_stopping(tmp_path):
    data = tmp_path / "sb.json"
    with Sandbox(data=data) as sb:
        requests.post(f"{sb.base_url}/repositories/sandbox/demo/issues", json={"title": "X"},
                      headers={"Authorization": f"Bearer {sb.token}"})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (data.exists() and '"X"' in data.read_text()):
            time.sleep(0.05)
        assert '"X"' in data.read_text()


def test_corrupt_data_file_is_a_clear_error(tmp_path):
    data = tmp_path / "sb.json"
    data.write_text("{truncated")
    with pytest.raises(ValueError, match="not a sandbox data file"):
        Sandbox(data=data)
    assert main(["--data", str(data)]) == 2


def test_arguments_parse():
    import argparse
    args = add_sandbox_arguments(argparse.ArgumentParser()).parse_args(
        ["--milestones", "Q1 2024, Q2", "--pull-requests", "1-3,42", "--no-retry-after", "--no-issues",
         "--server-mode", "--rate-limit", "5", "--fail-rate", "0.1"])
    assert args.milestones == ["Q1 2024", "Q2"] and args.pull_requests == [1, 2, 3, 42]
    assert (args.retry_after, args.has_issues, args.server_mode, args.rate_limit, args.fail_rate) == (False, False, True, 5, 0.1)
    with pytest.raises(SystemExit):
        add_sandbox_arguments(argparse.ArgumentParser()).parse_args(["--fail-rate", "3"])


def test_command_line_serves_prints_env_and_saves_on_sigterm(tmp_path):
    data = tmp_path / "cli.json"
    proc = subprocess.Popen([sys.executable, "-m", "spectryn_bitbucket.sandbox", "--data", str(data),
                             "--milestones", "v1", "--token", "t0k"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        base = re.search(r"listening on (\S+)", first).group(1)
        assert "workspace sandbox" in first and "repo demo" in first
        assert f"BITBUCKET_BASE_URL={base}" in second and "BITBUCKET_ACCESS_TOKEN=t0k" in second
        created = requests.post(f"{base}/repositories/sandbox/demo/issues", json={"title": "CLI"},
                                headers={"Authorization": "Bearer t0k"})
        assert created.status_code == 201
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "sandbox stopped" in out and err == ""
    assert json.loads(data.read_text())["issues"]["1"]["title"] == "CLI"


def test_fixture_gives_a_running_sandbox_with_temp_data(bitbucket_sandbox):
    assert bitbucket_sandbox.data is not None and bitbucket_sandbox.data.parent.exists()
    response = requests.get(f"{bitbucket_sandbox.base_url}/repositories/sandbox/demo",
                            headers={"Authorization": f"Bearer {bitbucket_sandbox.token}"})
    assert response.status_code == 200


def test_factory_passes_options(bitbucket_sandbox_factory):
    sb = bitbucket_sandbox_factory(workspace="acme", repo="web", milestones=["Q1"])
    response = requests.get(f"{sb.base_url}/repositories/acme/web/milestones",
                            headers={"Authorization": f"Bearer {sb.token}"})
    assert [m["name"] for m in response.json()["values"]] == ["Q1"]


def test_pytest_plugin_imports_nothing_heavy():
    code = ("import sys, spectryn_bitbucket.pytest_plugin; "
            "print([m for m in sys.modules if m.startswith('spectryn_bitbucket.sandbox') or m == 'requests'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert result.stdout.strip() == "[]"
