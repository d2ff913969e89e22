"""``spectryn review`` with a tracker plugin that cannot publish (the in-memory one): the review
is computed read-only and printed, and says it was not published; findings carry their lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spectryn_core.cli import main
from spectryn_core.review import Finding, Review


@pytest.fixture
def fresh(cwd: Path) -> Path:
    """``cwd`` (the spec in a temporary folder, the in-memory tracker) with no issues yet."""
    from tests.support import mem_plugin

    mem_plugin.TRACKER.issues.clear()
    mem_plugin.TRACKER.writes = 0
    return cwd


def test_review_plans_read_only_and_says_it_cannot_publish(fresh: Path, capsys) -> None:
    from tests.support import mem_plugin

    assert main(["review", "--markdown", "EPIC.md", "--tracker", "memory"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Review of EPIC.md -> memory") and ": PASSED" in out.splitlines()[0]
    assert "EPIC.md:3: merging creates US-001 (story): Pay by card" in out
    assert "not published: the 'memory' plugin cannot publish reviews" in out
    assert mem_plugin.TRACKER.writes == 0
    assert main(["review", "--markdown", "EPIC.md", "--tracker", "memory", "--output", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["counts"]["creates"] == 4 and answer["error"] is None
    assert answer["plan"] == {"computed": True, "note": ""}


def test_a_review_fails_on_errors_conflicts_and_clashes_only() -> None:
    def review(*kinds: str) -> Review:
        return Review("t", "x", ["a.md"], [Finding(k, "a.md", 1, k) for k in kinds])

    assert review("create", "update", "warning", "orphan").result == "PASSED"
    for failing in ("error", "conflict", "clash"):
        assert review("create", failing).result == "FAILED"
    assert review("clash", "create").counts["clashes"] == 1


def test_ownership_clashes_are_findings_of_their_own_and_fail_the_review(
        fresh: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key whose issue another spec file made stops the plan (issue 25's OwnershipError, a
    SpecError of kind ``ownership``): the review lists it as a clash at its line, FAILED, exit 2."""
    from spectryn_core import multi
    from spectryn_core.errors import SpecError
    from spectryn_core.model import SpecProblem

    class Clash(SpecError):
        kind = "ownership"

    problem = SpecProblem("EPIC.md", 3, "US-001 is issue #4, made from docs/other.md, which also "
                                        "defines US-001")

    def clashing(*_args: object, **_kwargs: object) -> None:
        raise Clash([problem])

    monkeypatch.setattr(multi, "run_many", clashing)
    assert main(["review", "--markdown", "EPIC.md", "--tracker", "memory", "--output", "json"]) == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer["result"] == "FAILED" and answer["counts"]["clashes"] == 1
    assert answer["counts"]["errors"] == 0 and answer["error"]["kind"] == "ownership"
    assert answer["findings"][0] == {"kind": "clash", "path": "EPIC.md", "line": 3,
                                     "summary": problem.message, "details": "", "key": ""}
    assert answer["plan"] == {"computed": False, "note": "1 key(s) belong to another spec file"}
