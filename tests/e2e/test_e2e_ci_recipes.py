"""The README's Bitbucket Pipelines recipe, its commands run as Pipelines would run them (its
variables, a secured token only in the deployment step) against the sandbox; and the pre-commit
hook definition, its entry run the way pre-commit runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


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
        "CI": "true",
        "BITBUCKET_WORKSPACE": world.sandbox.workspace,    # set by Pipelines
        "BITBUCKET_REPO_SLUG": world.sandbox.repo,         # set by Pipelines
        "BITBUCKET_BASE_URL": world.sandbox.base_url,      # the test's only addition: the sandbox
        "BITBUCKET_RATE_LIMIT": "0",
        **secured,
    })
    world.secrets.update(secured.values())
    done = subprocess.run(["bash", "-e", "-c", "\n".join(script)], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=300)
    world.check_no_secret(done.stdout + done.stderr, "the pipeline's output")
    return done


def test_pipelines_recipe_validates_pull_requests_and_syncs_main(world: Any) -> None:
    recipe = steps(pipelines_recipe())
    assert recipe["main"]["deployment"] == "production"
    checkout = world.tmp / "checkout"
    (checkout / "docs").mkdir(parents=True)
    shutil.copy(world.tmp / "EPIC.md", checkout / "docs" / "EPIC.md")
    shutil.copytree(world.tmp / "attachments", checkout / "docs" / "attachments")

    pr = run_step(world, recipe["pull-requests"], checkout, secured={})
    assert pr.returncode == 0, pr.stderr
    assert "OK" in pr.stdout and world.writes() == 0  # a pull request sends nothing

    token = {"BITBUCKET_ACCESS_TOKEN": world.sandbox.token}  # the secured deployment variable
    main = run_step(world, recipe["main"], checkout, secured=token)
    assert main.returncode == 0, main.stderr
    assert "Done:" in main.stdout and len(world.by_key()) == 18
    writes = world.writes()
    again = run_step(world, recipe["main"], checkout, secured=token)
    assert again.returncode == 0 and world.writes() == writes  # a re-run on main sends nothing

    spec = checkout / "docs" / "EPIC.md"
    spec.write_text(spec.read_text().replace("| **Story Points** | 5 |", "| **Story Points** | five |", 1))
    broken = run_step(world, recipe["pull-requests"], checkout, secured={})
    assert broken.returncode == 2 and "docs/EPIC.md:" in broken.stderr


def test_main_step_without_the_secured_variable_fails_clearly(world: Any) -> None:
    checkout = world.tmp / "checkout"
    (checkout / "docs").mkdir(parents=True)
    shutil.copy(world.tmp / "EPIC.md", checkout / "docs" / "EPIC.md")
    shutil.copytree(world.tmp / "attachments", checkout / "docs" / "attachments")
    main = run_step(world, steps(pipelines_recipe())["main"], checkout, secured={})
    assert main.returncode == 2 and "BITBUCKET_ACCESS_TOKEN" in main.stderr
    assert world.writes() == 0


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
