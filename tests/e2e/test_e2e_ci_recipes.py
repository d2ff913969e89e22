"""The README's Bitbucket Pipelines recipe, its commands run as Pipelines would run them (its
variables and auth proxy, a read-only token for the review, a secured token only in the
deployment step) against the sandbox; and the pre-commit
hook definition, its entry run the way pre-commit runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from spectryn_bitbucket.sandbox.accounts import access_token

ROOT = Path(__file__).resolve().parents[2]
COMMIT = "9b2e4c1d0a3f5e6b7c8d9e0f1a2b3c4d5e6f7a8b"
READER = "spx-recipe-reader-4Kd1"


def pipelines_recipe() -> dict[str, Any]:
    text = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```yaml\n(# bitbucket-pipelines\.yml\n.*?)```", text, re.S)
    return yaml.safe_load(block)


def steps(recipe: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The steps by where they run: ``pull-requests`` and ``main``."""
    pipelines = recipe["pipelines"]
    (pr_step,) = pipelines["pull-requests"]["**"]
    (main_step,) = pipelines["branches"]["main"]
    return {"pull-requests": pr_step["step"], "main": main_step["step"]}


def run_step(world: Any, step: dict[str, Any], checkout: Path, secured: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The step's script, line by line as Pipelines runs it (stop at the first failure), with the
    variables Pipelines sets; the install line is checked, not run (spectryn is installed)."""
    script = [line for line in step["script"] if not line.startswith("pip install")]
    assert all("${SPECTRYN_SOURCE}" in line for line in step["script"] if line.startswith("pip install"))
    env = {k: v for k, v in world.env.items() if not k.startswith("BITBUCKET_")}
    env.update({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        # set by Pipelines for a step
        "CI": "true",
        "BITBUCKET_BUILD_NUMBER": "12",
        "BITBUCKET_PIPELINE_UUID": "{6c1f0000-0000-4000-8000-000000000012}",
        "BITBUCKET_STEP_UUID": "{6c1f0000-0000-4000-8000-000000000013}",
        "BITBUCKET_COMMIT": COMMIT,
        "BITBUCKET_CLONE_DIR": str(checkout),
        "BITBUCKET_WORKSPACE": world.sandbox.workspace,
        "BITBUCKET_REPO_SLUG": world.sandbox.repo,
        # the test's additions: the sandbox, and its stand-in for the Pipelines auth proxy
        "BITBUCKET_BASE_URL": world.sandbox.base_url,
        "BITBUCKET_PIPELINES_PROXY": world.sandbox.proxy_address,
        "BITBUCKET_RATE_LIMIT": "0",
        **secured,
    })
    world.secrets.update(secured.values())
    done = subprocess.run(["bash", "-e", "-c", "\n".join(script)], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=300)
    world.check_no_secret(done.stdout + done.stderr, "the pipeline's output")
    return done


def test_the_sync_step_queues_by_a_concurrency_group_not_by_its_deployment() -> None:
    """A deployment environment alone pauses a second run until someone resumes it; the step's
    concurrency group is what queues runs one after the other by themselves (Atlassian, 2025)."""
    main = steps(pipelines_recipe())["main"]
    assert main["deployment"] == "production"  # the secured token lives there
    assert main["concurrency-group"] == "spectryn-sync"
    text = (ROOT / "README.md").read_text()
    assert "runs the steps of one deployment environment one at a time" not in text
    assert "Bitbucket *pauses* the second run's deployment step" in text


@pytest.fixture
def pipelines(world_factory: Any) -> Any:
    """A sandbox with the Pipelines proxy and a read-only token (the secured repository variable)."""
    reader = access_token("reader", READER, scopes=("issue", "repository", "pullrequest"))
    return world_factory(pipelines_proxy=0, accounts=[reader])


def test_pipelines_recipe_reviews_pull_requests_and_syncs_main(pipelines: Any) -> None:
    world = pipelines
    recipe = steps(pipelines_recipe())
    assert recipe["main"]["deployment"] == "production"
    checkout = world.tmp / "checkout"
    (checkout / "docs").mkdir(parents=True)
    shutil.copy(world.tmp / "EPIC.md", checkout / "docs" / "EPIC.md")
    shutil.copytree(world.tmp / "attachments", checkout / "docs" / "attachments")

    read = {"SPECTRYN_READ_TOKEN": READER}  # the secured repository variable
    pr = run_step(world, recipe["pull-requests"], checkout, secured=read)
    assert pr.returncode == 0, pr.stderr
    assert ": PASSED" in pr.stdout and "would create 18" in pr.stdout, pr.stdout
    assert world.by_key() == {}  # a pull request writes no issue: only its report
    assert world.sandbox.proxy_stats()["requests"] == 3
    assert world.sandbox.proxy_stats()["credentials_seen"] == 0

    token = {"BITBUCKET_ACCESS_TOKEN": world.sandbox.token}  # the secured deployment variable
    main = run_step(world, recipe["main"], checkout, secured=token)
    assert main.returncode == 0, main.stderr
    assert "Done:" in main.stdout and len(world.by_key()) == 18
    writes = world.writes()
    again = run_step(world, recipe["main"], checkout, secured=token)
    assert again.returncode == 0 and world.writes() == writes  # a re-run on main sends nothing

    spec = checkout / "docs" / "EPIC.md"
    spec.write_text(spec.read_text().replace("| **Story Points** | 5 |", "| **Story Points** | five |", 1))
    broken = run_step(world, recipe["pull-requests"], checkout, secured=read)
    assert broken.returncode == 2 and "docs/EPIC.md:" in broken.stdout, broken.stdout
    assert ": FAILED" in broken.stdout and "error: 1 problem(s) in the spec" in broken.stderr
    spec.write_text(spec.read_text().replace("| **Story Points** | five |", "| **Story Points** | 5 |", 1))
    fork = run_step(world, recipe["pull-requests"], checkout, secured={})  # no secured variables
    assert fork.returncode == 0 and "validation only: the tracker was not read" in fork.stdout


def test_main_step_without_the_secured_variable_fails_clearly(pipelines: Any) -> None:
    world = pipelines

    checkout = world.tmp / "checkout"
    (checkout / "docs").mkdir(parents=True)
    shutil.copy(world.tmp / "EPIC.md", checkout / "docs" / "EPIC.md")
    shutil.copytree(world.tmp / "attachments", checkout / "docs" / "attachments")
    main = run_step(world, steps(pipelines_recipe())["main"], checkout, secured={})
    assert main.returncode == 2 and "BITBUCKET_ACCESS_TOKEN" in main.stderr
    assert world.writes() == 0


def _git_hook() -> str:
    """The README's ``.git/hooks/pre-commit`` for users without the pre-commit framework."""
    text = (ROOT / "README.md").read_text()
    (block,) = re.findall(r"```sh\n(#!/bin/sh\n.*?)```", text, re.S)
    return block


def _spec_repository(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    (repo / "docs" / "specs").mkdir(parents=True)
    shutil.copytree(ROOT / "examples/attachments", repo / "docs" / "specs" / "attachments")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env, timeout=60)
    return repo, env


def test_the_readme_git_hook_checks_only_staged_specs_and_passes_when_there_are_none(
        tmp_path: Path) -> None:
    repo, env = _spec_repository(tmp_path)
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(_git_hook())
    hook.chmod(0o755)

    def commit_check(*staged: str) -> subprocess.CompletedProcess[str]:
        subprocess.run(["git", "reset", "-q"], cwd=repo, env=env, timeout=60)
        if staged:
            subprocess.run(["git", "add", *staged], cwd=repo, check=True, env=env, timeout=60)
        return subprocess.run([str(hook)], cwd=repo, env=env, capture_output=True, text=True,
                              timeout=120)

    (repo / "app.py").write_text("print('no markdown here')\n")
    nothing = commit_check("app.py")  # the old one-liner: "the following arguments are required"
    assert nothing.returncode == 0, nothing.stderr
    (repo / "README.md").write_text("# The project\n\nNo stories here.\n")
    (repo / "docs" / "specs" / "README.md").write_text("# Specs\n\nOne file per epic.\n")
    readme = commit_check("README.md", "docs/specs/README.md")  # the old one: "no stories found"
    assert readme.returncode == 0, readme.stderr
    assert "README.md: skipped (no stories in it)" in readme.stdout
    good = repo / "docs" / "specs" / "EPIC.md"
    good.write_text((ROOT / "examples/EPIC.md").read_text())
    ok = commit_check("README.md", "docs/specs/EPIC.md", "docs/specs/attachments")
    assert ok.returncode == 0 and "docs/specs/EPIC.md: OK" in ok.stdout, ok.stderr
    (repo / "docs" / "specs" / "bad name.md").write_text(
        "### US-900: no table\n\n| **Story Points** | many |\n")
    bad = commit_check("docs/specs/bad name.md", "docs/specs/EPIC.md")  # a space in the name too
    # xargs turns validate's 2 into its own 123: any non-zero status stops the commit
    assert bad.returncode != 0 and "docs/specs/bad name.md:3:" in bad.stderr, bad.stderr
    subprocess.run(["git", "reset", "-q"], cwd=repo, env=env, timeout=60)
    subprocess.run(["git", "add", "docs/specs/EPIC.md"], cwd=repo, check=True, env=env, timeout=60)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q",
                    "--no-verify", "-m", "specs"], cwd=repo, check=True, env=env, timeout=60)
    good.unlink()  # deleted in the work tree and staged as deleted: nothing left to check
    subprocess.run(["git", "add", "-A", "docs/specs/EPIC.md"], cwd=repo, check=True, env=env, timeout=60)
    gone = subprocess.run([str(hook)], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert gone.returncode == 0, gone.stderr


def test_pre_commit_hook_runs_its_entry_on_the_files_it_matches(tmp_path: Path) -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "spectryn-validate" and hook["language"] == "python"
    files = re.compile(hook["files"])
    assert files.search("EPIC.md") and files.search("docs/EPIC-002.md")
    assert not files.search("README.md") and not files.search("docs/EPIC.md/notes.txt")
    good = tmp_path / "EPIC.md"
    good.write_text((ROOT / "examples/EPIC.md").read_text())
    shutil.copytree(ROOT / "examples/attachments", tmp_path / "attachments")
    bad = tmp_path / "EPIC-2.md"
    bad.write_text("### US-001: no epic and no table\n\n| **Story Points** | x |\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    entry = hook["entry"].split()

    ok = subprocess.run([*entry, "EPIC.md"], cwd=tmp_path, env=env, capture_output=True, text=True,
                        timeout=60)
    assert ok.returncode == 0, ok.stderr
    both = subprocess.run([*entry, "EPIC.md", "EPIC-2.md"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert both.returncode == 2 and "EPIC-2.md:" in both.stderr, both.stderr
    # with `files: ^docs/specs/` as the README suggests, a README there is passed too: skipped
    (tmp_path / "README.md").write_text("# Specs\n\nNothing to sync here.\n")
    readme = subprocess.run([*entry, "README.md", "EPIC.md"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert readme.returncode == 0 and "README.md: skipped (no stories in it)" in readme.stdout, \
        readme.stderr
