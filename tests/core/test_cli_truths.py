"""Messages that read true (issue 30), tried as a new user would: ``validate`` neither claims it
sent nothing nor suggests the ``--markdown`` it refuses; ``spectryn docs/specs`` points at
``--markdown``; ``init`` without a secret fails in the ``error:`` / ``hint:`` form and names the
email with the API token; completion offers tracker names and commands."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from spectryn_core.cli import main
from tests.core.test_cli_setup import BASH_COMPLETE, _script, spectryn
from tests.core.test_engine import SPEC


def test_validate_of_a_bad_spec_does_not_talk_about_sending(cwd: Path, capsys) -> None:
    (cwd / "EPIC.md").write_text(SPEC.replace("| **Story Points** | 3 |", "| **Story Points** | lots |"))
    assert main(["validate", "EPIC.md"]) == 2
    err = capsys.readouterr().err
    assert "EPIC.md:" in err and "story points" in err
    assert "sent" not in err, err
    assert err.strip().splitlines()[-2:] == [
        "error: 1 problem(s) in the spec", "  hint: fix each problem at the file and line named"], err
    assert main(["validate", "EPIC.md", "--output", "json"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["message"] == "1 problem(s) in the spec" and "sent" not in json.dumps(error)
    # a sync of the same file does say so: nothing went to the tracker
    assert main(["--markdown", "EPIC.md", "--tracker", "memory"]) == 2
    assert "nothing was sent" in capsys.readouterr().err


def test_validate_of_a_missing_file_hints_at_validate_not_markdown(cwd: Path, capsys) -> None:
    assert main(["validate", "docs/EPIC.md"]) == 2
    err = capsys.readouterr().err
    assert "docs/EPIC.md: no such file or folder" in err
    assert "--markdown" not in err and "spectryn validate EPIC.md" in err, err


def test_a_spec_path_given_as_a_command_points_at_markdown(cwd: Path, capsys) -> None:
    (cwd / "docs" / "specs").mkdir(parents=True)
    assert main(["docs/specs"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'docs/specs'" in err
    assert "spectryn --markdown docs/specs --tracker NAME" in err, err
    assert main(["EPIC.md"]) == 2
    assert "spectryn --markdown EPIC.md --tracker NAME" in capsys.readouterr().err
    assert main(["chek"]) == 2  # a plain typo still gets its suggestion, not the spec hint
    err = capsys.readouterr().err
    assert "did you mean 'check'?" in err and "--markdown" not in err


def test_init_without_a_secret_ends_in_error_and_hint(tmp_path: Path) -> None:
    run = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--workspace", "acme", "--repo", "api")
    assert run.returncode == 2
    assert run.stdout.startswith("wrote .spectryn.yaml (tracker bitbucket)")
    lines = run.stderr.strip().splitlines()
    assert lines[0].startswith("error: no Bitbucket credentials"), run.stderr
    assert lines[1].startswith("  hint: "), run.stderr
    assert "connection test failed" not in run.stderr + run.stdout
    hint = lines[1]
    assert "BITBUCKET_EMAIL and BITBUCKET_API_TOKEN, or BITBUCKET_ACCESS_TOKEN" in hint, hint
    assert "the secret is not in .spectryn.yaml" in hint and "spectryn check" in hint
    as_json = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--workspace", "acme", "--repo",
                       "api", "--file", "other.yaml", "--output", "json")
    answer = json.loads(as_json.stdout)
    assert as_json.returncode == 2 and answer["error"]["kind"] == "config"
    assert answer["secret_env"] == ["BITBUCKET_EMAIL and BITBUCKET_API_TOKEN", "BITBUCKET_ACCESS_TOKEN"]


def test_init_with_the_email_names_only_the_token(tmp_path: Path) -> None:
    run = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--workspace", "acme", "--repo", "api",
                   "--email", "me@example.com", "--output", "json")
    assert json.loads(run.stdout)["secret_env"] == ["BITBUCKET_API_TOKEN", "BITBUCKET_ACCESS_TOKEN"]


def test_init_template_names_the_server_rest_1_0_path(tmp_path: Path) -> None:
    run = spectryn(tmp_path, "init", "--tracker", "bitbucket", "--workspace", "acme", "--repo", "api",
                   "--no-check")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / ".spectryn.yaml").read_text()
    assert "https://HOST/rest/api/1.0" in text and "rest/api/2.0" not in text
    assert yaml.safe_load(text)["bitbucket"] == {"workspace": "acme", "repo": "api"}


def test_bash_completion_offers_trackers_and_the_commands_help_knows(tmp_path: Path) -> None:
    script = _script(tmp_path, "bash")
    asks = ("comp spectryn --tracker ''\ncomp spectryn check --tracker ''\n"
            "comp spectryn init --tracker ''\ncomp spectryn help ''\n")
    program = BASH_COMPLETE.format(script=script).split("comp spectryn")[0] + asks
    done = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
    lines = done.stdout.splitlines()
    assert lines[:3] == ["bitbucket"] * 3, (lines, done.stderr)
    commands = lines[3].split()
    assert {"sync", "validate", "check", "init", "pull", "bitbucket", "completion"} <= set(commands), lines


def test_validate_only_specs_skips_files_without_stories_and_passes_on_none(cwd: Path, capsys) -> None:
    assert main(["validate"]) == 2  # without --only-specs a file is still required
    assert "the following arguments are required: FILE" in capsys.readouterr().err
    assert main(["validate", "--only-specs"]) == 0
    assert capsys.readouterr().out.strip() == "no spec files to check"
    (cwd / "README.md").write_text("# Project\n\nNo stories.\n")
    assert main(["validate", "README.md"]) == 2  # named on its own, a file must have stories
    capsys.readouterr()
    assert main(["validate", "--only-specs", "README.md", "EPIC.md"]) == 0
    out = capsys.readouterr().out
    assert "EPIC.md: OK" in out and "note: README.md: skipped (no stories in it)" in out
