"""Credentials go only to a host the repository cannot choose (issue 20), end to end.

"Another host" is 10.99.0.1 in a private network namespace (tests/support/netns.py): a TLS front
with a test CA there forwards to a sandbox, and records every request that reaches it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import certifi
import pytest

from tests.support import netns

pytestmark = pytest.mark.skipif(not netns.available(), reason="needs unshare -n and ip")

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "spx-host-binding-Zq81Lm3Vd"
DRY_RUN = ["--markdown", "EPIC.md", "--tracker", "bitbucket"]
CHECK = ["check", "--tracker", "bitbucket"]
#: Credentials and the CA in the environment (trusted); where they go is what each test varies.
TRUSTED = {"BITBUCKET_ACCESS_TOKEN": TOKEN, "BITBUCKET_CA_BUNDLE": "{ca}"}


def scenario(tmp_path: Path, runs: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
    (tmp_path / "attachments").mkdir(exist_ok=True)
    shutil.copyfile(ROOT / "examples/attachments/mockup.png", tmp_path / "attachments/mockup.png")
    shutil.copyfile(ROOT / "examples/EPIC.md", tmp_path / "EPIC.md")
    results = netns.run({"cwd": str(tmp_path), "token": TOKEN, "runs": runs, **options})
    for result in results:
        assert TOKEN not in result["out"] + result["err"]
        assert "Traceback" not in result["err"], result["err"]
    return results


def test_a_repository_base_url_gets_no_credentials_unless_the_user_names_that_host(
        tmp_path: Path) -> None:
    refused, check_refused, named, check = scenario(
        tmp_path,
        files={".spectryn.yaml": "bitbucket:\n  base_url: {front}\n"},
        git_add=[".spectryn.yaml", "EPIC.md"],
        runs=[{"args": DRY_RUN, "env": TRUSTED},
              {"args": CHECK, "env": TRUSTED},
              {"args": DRY_RUN, "env": {**TRUSTED, "BITBUCKET_BASE_URL": "{front}"}},
              {"args": CHECK, "env": {**TRUSTED, "BITBUCKET_BASE_URL": "{front}"}}])

    for run in (refused, check_refused):
        assert run["code"] == 2, run["err"]
        assert run["seen"] == []  # refused before any request: not even a TLS handshake
        assert f"{tmp_path / '.spectryn.yaml'}:2: bitbucket.base_url names 10.99.0.1" in run["err"]
        assert "your credentials (environment BITBUCKET_ACCESS_TOKEN)" in run["err"]
        assert f"set BITBUCKET_BASE_URL={refused['front']} where the secret is set" in run["err"]
    assert named["code"] == 0, named["err"]
    assert named["seen"] and all(auth for _, _, auth in named["seen"])
    assert named["writes"] == 0  # a dry-run
    assert check["code"] == 0, check["err"]
    assert f"bitbucket.base_url = {check['front']} (from environment BITBUCKET_BASE_URL)" \
        in check["out"]
    assert "bitbucket.access_token (from environment BITBUCKET_ACCESS_TOKEN)" in check["out"]
    assert "bitbucket.ca_bundle = " in check["out"]
    assert "(from environment BITBUCKET_CA_BUNDLE)" in check["out"]
    assert "bitbucket.ssl_verify = True (from default)" in check["out"]


def test_credentials_written_with_the_base_url_go_to_it_with_a_warning(tmp_path: Path) -> None:
    [run, check] = scenario(
        tmp_path,
        files={".spectryn.yaml": f"bitbucket:\n  base_url: {{front}}\n  access_token: {TOKEN}\n"},
        git_add=[".spectryn.yaml"],
        runs=[{"args": [*DRY_RUN, "--execute"], "env": {"BITBUCKET_CA_BUNDLE": "{ca}"}},
              {"args": CHECK, "env": {"BITBUCKET_CA_BUNDLE": "{ca}"}}])

    assert run["code"] == 0, run["err"]
    assert run["writes"] > 0
    warning = (f"{tmp_path / '.spectryn.yaml'} travels with the repository and holds a secret "
               "(bitbucket.access_token)")
    assert run["err"].count(warning) == 1
    assert f"bitbucket.access_token (from repository file {tmp_path / '.spectryn.yaml'}:3)" \
        in check["out"]


def test_transport_weakening_from_the_repository_is_ignored_and_trusted_settings_win(
        tmp_path: Path) -> None:
    """ssl_verify/ca_bundle from a repository file are ignored (so TLS to the test CA fails);
    BITBUCKET_SSL_VERIFY=false and BITBUCKET_CA_BUNDLE win over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE."""
    env = {"BITBUCKET_ACCESS_TOKEN": TOKEN, "BITBUCKET_BASE_URL": "{front}",
           "REQUESTS_CA_BUNDLE": certifi.where(), "CURL_CA_BUNDLE": certifi.where()}
    ignored, verify_off, own_ca = scenario(
        tmp_path,
        files={".spectryn.yaml": "bitbucket:\n  ssl_verify: false\n  ca_bundle: {ca}\n"},
        git_add=[".spectryn.yaml"],
        runs=[{"args": DRY_RUN, "env": env},
              {"args": DRY_RUN, "env": {**env, "BITBUCKET_SSL_VERIFY": "false"}},
              {"args": DRY_RUN, "env": {**env, "BITBUCKET_CA_BUNDLE": "{ca}"}}])

    config = tmp_path / ".spectryn.yaml"
    assert ignored["code"] == 5  # unreachable: the TLS handshake failed
    assert f"{config}:2: bitbucket.ssl_verify is ignored: a file in the repository" in ignored["err"]
    assert f"{config}:3: bitbucket.ca_bundle is ignored" in ignored["err"]
    assert "Cannot reach 10.99.0.1" in ignored["err"] and "CERTIFICATE_VERIFY_FAILED" in ignored["err"]
    assert ignored["seen"] == []
    assert verify_off["code"] == 0, verify_off["err"]
    assert "TLS certificate verification is off" in verify_off["err"]
    assert own_ca["code"] == 0, own_ca["err"]
    assert own_ca["seen"]


def test_dotenv_untracked_supplies_credentials_tracked_cannot_move_them(tmp_path: Path) -> None:
    own_env = (f"BITBUCKET_ACCESS_TOKEN={TOKEN}\nBITBUCKET_BASE_URL={{front}}\n"
               "BITBUCKET_CA_BUNDLE={ca}\n")
    untracked, tracked, tracked_secret = scenario(
        tmp_path,
        files={".gitignore": ".env\n"},
        git_add=[".gitignore", "EPIC.md"],
        runs=[{"args": DRY_RUN, "env": {}, "files": {".env": own_env}},
              {"args": DRY_RUN, "env": TRUSTED,
               "files": {".env": "# the project's settings\nBITBUCKET_BASE_URL={front}\n"},
               "git_add": [".env"]},
              {"args": DRY_RUN, "env": {"BITBUCKET_BASE_URL": "{front}", "BITBUCKET_CA_BUNDLE": "{ca}"},
               "files": {".env": f"BITBUCKET_ACCESS_TOKEN={TOKEN}\n"}, "git_add": [".env"]}])

    assert untracked["code"] == 0, untracked["err"]
    assert untracked["seen"] and "travels with the repository" not in untracked["err"]
    assert "chmod 600" in untracked["err"]  # a secret file others can read: the usual warning
    assert tracked["code"] == 2
    assert f"{tmp_path / '.env'}:2: bitbucket.base_url names 10.99.0.1" in tracked["err"]
    assert tracked["seen"] == []
    assert tracked_secret["code"] == 0, tracked_secret["err"]
    assert (f"{tmp_path / '.env'} travels with the repository and holds a secret "
            "(bitbucket.access_token)") in tracked_secret["err"]


def test_plain_http_to_another_host_only_when_the_user_allows_it(tmp_path: Path) -> None:
    env = {"BITBUCKET_ACCESS_TOKEN": TOKEN, "BITBUCKET_BASE_URL": "{front}"}
    refused, from_repo, allowed = scenario(
        tmp_path, tls=False,
        runs=[{"args": DRY_RUN, "env": env},
              {"args": DRY_RUN, "env": env,
               "files": {".spectryn.yaml": "bitbucket:\n  allow_insecure_http: true\n"},
               "git_add": [".spectryn.yaml"]},
              {"args": DRY_RUN, "env": {**env, "BITBUCKET_ALLOW_INSECURE_HTTP": "true"}}])

    for run in (refused, from_repo):
        assert run["code"] == 2 and run["seen"] == []
        assert "environment BITBUCKET_BASE_URL: bitbucket.base_url http://10.99.0.1" in run["err"]
        assert "is plain http to 10.99.0.1" in run["err"]
    assert "bitbucket.allow_insecure_http is ignored" in from_repo["err"]
    assert allowed["code"] == 0, allowed["err"]
    assert "credentials are sent unencrypted to 10.99.0.1" in allowed["err"]


#: A config file naming the front as the API (issue 26: reached through links and submodules).
MOVED = "bitbucket:\n  base_url: {front}\n"


@pytest.mark.parametrize("case", [
    {"symlinks": {".spectryn.yaml": "sub/module/x.yaml"}, "git_add": [".spectryn.yaml"],
     "submodules": {"sub/module": {"x.yaml": MOVED}}, "named": ".spectryn.yaml:2"},
    {"symlinks": {".spectryn.yaml": "../{outside}"}, "git_add": [".spectryn.yaml"],
     "files": {"../{outside}": MOVED}, "named": ".spectryn.yaml:2"},
    {"symlinks": {".env": "sub/module/.env"}, "git_add": [".env"],
     "submodules": {"sub/module": {".env": "BITBUCKET_BASE_URL={front}\n"}},
     "named": ".env:1"},
    {"args": ["--config", "sub/module/x.yaml"], "submodules": {"sub/module": {"x.yaml": MOVED}},
     "named": "sub/module/x.yaml:2"},
], ids=["symlink-into-a-submodule", "symlink-outside", "symlinked-dotenv", "config-flag-into-a-submodule"])
def test_no_link_or_submodule_lets_a_repository_file_move_the_credentials(
        tmp_path: Path, case: dict[str, Any]) -> None:
    outside = f"{tmp_path.name}-outside.yaml"  # beside the work tree, in no repository
    fill = {k: {n.replace("{outside}", outside): t.replace("{outside}", outside) for n, t in v.items()}
            for k, v in case.items() if k in ("symlinks", "files")}
    [refused, check_refused] = scenario(
        tmp_path,
        **{k: v for k, v in case.items() if k in ("git_add", "submodules")}, **fill,
        runs=[{"args": [*DRY_RUN, *case.get("args", [])], "env": TRUSTED},
              {"args": [*CHECK, *case.get("args", [])], "env": TRUSTED}])

    for run in (refused, check_refused):
        assert run["code"] == 2, run["err"]
        assert run["seen"] == []  # refused before any request: not even a TLS handshake
        assert "bitbucket.base_url names 10.99.0.1, and only this file of the repository does" \
            in run["err"]
        assert f"{tmp_path / case['named']}: bitbucket.base_url" in run["err"]  # the path as named
        assert "your credentials (environment BITBUCKET_ACCESS_TOKEN)" in run["err"]
