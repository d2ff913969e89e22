"""Smoke test of the side-by-side benchmark: our side only, an epic of 5 stories x 3 subtasks.

It runs the same code as ``benchmarks/run.py`` (real CLI subprocesses against a fresh sandbox) and
checks the request-count targets, which are counts, not timings.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def test_sync_epic_keeps_every_story_and_drops_comments(bench) -> None:
    text = bench.sync_epic(5)
    assert sum(line.startswith("### ") for line in text.splitlines()) == 5
    assert "#### Comments" not in text and "PR #" not in text
    changed = bench.edited(text)
    assert "Renamed story number 1" in changed and "API endpoint, paginated" in changed
    assert changed.count("\n") == text.count("\n")


def test_duplicates_counts_extra_issues_per_key(bench) -> None:
    issues = [{"title": "US-1: a"}, {"title": "US-1: a (again)"}, {"title": "US-1.2: b"},
              {"title": "no key"}, {"title": "US-1: third"}]
    assert bench.duplicates(issues) == 2


def test_our_side_meets_the_request_targets_at_size_5(bench) -> None:
    results: dict = {}
    bench.scenario("ours", 5, 0, results, None)
    assert list(results) == list(bench.STEPS)
    dry, first, noop, edit = (results[name] for name in bench.STEPS)
    assert dry.writes == 0 and dry.created == 0
    assert first.creates == 20 and first.created == 20 and first.updates <= 5
    assert noop.writes == 0 and noop.reads <= bench.read_budget(5)
    assert 1 <= edit.writes <= 2
    assert all(step.duplicates == 0 and not step.error for step in results.values())
    # the no-op and edit targets of issue 12 hold now; the first sync's "items + 3 requests" waits
    # for the content design without forward references (the fix-up PUTs), reported in RESULTS.md
    assert all(bench.step_target(5, name, step) in ("met", "-") for name, step in results.items()
               if name != "first --execute")
    assert first.requests_total <= 20 + 5 + 3 and first.quota_minutes == pytest.approx(first.requests_total * 0.06)


def test_quota_run_of_our_side_under_a_rolling_limit(bench) -> None:
    """The quota scenario: a sandbox enforcing 1000 requests per (scaled) hour; ours paces itself."""
    results: dict = {}
    bench.quota_scenario("ours (paced)", "ours", False, 5, 100.0, results, None)
    assert list(results) == list(bench.STEPS[1:])
    assert all(not step.error and step.limited == 0 and step.duplicates == 0 for step in results.values())
    assert results[bench.STEPS[1]].created == 20
