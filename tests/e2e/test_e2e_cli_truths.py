"""What a run says is what it did or would do (issue 30), tried as a new user would against the
sandbox: a dry run's totals say "would", one file is "1 spec file", a plan that keeps tracker edits
never says the tracker matches the spec, a kept state is shown in the spec's own words, and
progress counts the writes the sandbox received and ends once."""

from __future__ import annotations

import shutil
from typing import Any


def test_a_dry_run_over_a_folder_says_what_would_happen(world: Any) -> None:
    specs = world.tmp / "docs" / "specs"
    specs.mkdir(parents=True)
    shutil.move(str(world.tmp / "EPIC.md"), specs / "EPIC.md")
    shutil.move(str(world.tmp / "attachments"), specs / "attachments")
    plan = world.cli("--markdown", "docs/specs", "--tracker", "bitbucket")
    assert plan.code == 0, plan.err
    total = plan.out.strip().splitlines()[-1]
    assert total.startswith("Dry run over 1 spec file: would create 18, would update 0,"), total
    assert "created" not in total and "errors" not in total
    done = world.cli("--markdown", "docs/specs", "--tracker", "bitbucket", "--execute")
    assert done.code == 0, done.err
    assert done.out.strip().splitlines()[-1].startswith("Done over 1 spec file: 18 created, 0 updated")


def test_kept_tracker_edits_are_never_called_a_match_and_use_the_specs_words(world: Any) -> None:
    assert world.sync().code == 0
    world.edit_in_bitbucket("US-002", {"state": "resolved"})  # the spec says "📋 Planned"
    world.edit_in_bitbucket("US-005", {"priority": "trivial"})  # the spec says "🟠 High"
    plan = world.sync(execute=False)
    assert plan.code == 0, plan.err
    lines = [line.strip() for line in plan.out.splitlines()]
    assert 'state: kept "resolved" (the spec still says "📋 Planned")' in lines, plan.out
    assert 'priority: kept "trivial" (the spec still says "🟠 High")' in lines, plan.out
    assert "matches" not in plan.out, plan.out
    assert ("Dry run: nothing to send, but 2 item(s) with kept tracker edits (listed above) differ "
            "from the spec.") in lines, plan.out
    assert any(line.startswith("`spectryn pull --markdown EPIC.md` brings") for line in lines), plan.out


def test_progress_counts_the_writes_sent_and_ends_once(world: Any) -> None:
    run = world.sync()
    assert run.code == 0, run.err
    lines = [line for line in run.err.splitlines() if line.startswith("progress: ")]
    assert lines, run.err
    finals = [line for line in lines if line.split()[1].split("/")[0] == line.split()[1].split("/")[1]]
    assert len(finals) == 1 and finals[0] == lines[-1], lines
    done, total = lines[-1].split()[1].split("/")
    # the example's PR links read each pull request first: reads are not writes
    assert int(done) == int(total) == world.writes(), (lines, world.writes())
    assert lines[-1].split()[2] == "writes"
