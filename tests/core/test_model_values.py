"""The model's small per-story classes are values: equal and hashable by their fields, never assigned to.

They are ``slots=True, unsafe_hash=True`` dataclasses rather than ``frozen`` ones (a frozen dataclass
pays an ``object.__setattr__`` per field to build, and the reader builds a dozen per story), so
nothing stops an assignment at run time: this test guards them while a whole sync runs instead.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from spectryn_core import model
from spectryn_core.config import load_config
from spectryn_core.plugins import load_plugins
from spectryn_core.sync import SyncRequest, run_sync
from tests.support.memtracker import MemoryTracker

VALUES = (model.Criterion, model.Comment, model.Attachment, model.Link, model.PullRequestRef,
          model.Commit, model.Section, model.SpecProblem)

SPEC = """\
# EPIC-001: Checkout

### US-001: Pay by card

| Field | Value |
|-------|-------|
| **Story Points** | 3 |
| **Priority** | High |
| **Status** | In Progress |

#### Description
**As a** shopper **I want** to pay by card **So that** I can finish my order. See PR #12.

#### Acceptance Criteria
- [x] Visa
- [ ] Payment method
  - [x] PayPal

#### Subtasks
| # | Subtask | Description | SP | Status |
|---|---------|-------------|----|--------|
| 1 | Card form | The form | 1 | Done |
| 2 | Card API | The call | 2 | Open |

#### Links
- blocks: US-002

#### Commits
| Commit | Message |
|--------|---------|
| abc1234 | Card form |

#### Comments
> **@alice** (2025-01-15):
> Card brands: Visa and Mastercard first.

#### Rollout
Behind a flag.

### US-002: Pay by invoice

| Field | Value |
|-------|-------|
| **Priority** | Low |
| **Status** | Open |

#### Description
**As a** company **I want** invoices **So that** accounting is happy
"""


def _refuse_reassignment(self: Any, name: str, value: Any) -> None:
    try:
        getattr(self, name)
    except AttributeError:  # the first assignment, made by __init__
        object.__setattr__(self, name, value)
        return
    raise AssertionError(f"{type(self).__name__}.{name} assigned after it was built")


def _refuse_deletion(self: Any, name: str) -> None:
    raise AssertionError(f"{type(self).__name__}.{name} deleted")


@pytest.fixture
def guarded(monkeypatch: pytest.MonkeyPatch) -> None:
    for cls in VALUES:
        monkeypatch.setattr(cls, "__setattr__", _refuse_reassignment)
        monkeypatch.setattr(cls, "__delattr__", _refuse_deletion)


def test_the_guard_catches_an_assignment(guarded: None) -> None:
    link = model.Link("blocks", "US-002")
    with pytest.raises(AssertionError, match="Link.target assigned"):
        link.target = "US-003"


def test_reading_and_syncing_a_spec_never_assigns_to_a_value(guarded: None, tmp_path: Path) -> None:
    spec_path = tmp_path / "EPIC.md"
    spec_path.write_text(SPEC)
    tracker = MemoryTracker("memory")
    plugins = load_plugins()
    plugins.pm.register(tracker, name="memory")
    config = load_config([], cli={}, cwd=tmp_path, env={}, user_config_dir=tmp_path / "u", tracker="memory")

    def sync() -> Any:
        return run_sync(plugins, config, SyncRequest(spec_path, "memory", tmp_path / "state", execute=True))

    first = sync()
    assert tracker.issues and first.error is None
    spec_path.write_text(SPEC.replace("Card brands", "Card brands, again").replace("- [ ] Payment", "- [x] Payment"))
    sync()
    spec = plugins.pm.hook.parse_spec(path=spec_path, config=config)
    story = spec.stories()[0]
    assert story.acceptance_criteria[1].done and story.acceptance_criteria[1].children[0].text == "PayPal"
    assert {section.kind for section in story.sections} >= {"description", "criteria", "links", "commits", "other"}
    assert story.links == [model.Link("blocks", "US-002")] and story.pull_requests[0].number == 12
    bad = tmp_path / "BAD.md"
    bad.write_text(SPEC.replace("| **Priority** | Low |", "| **Priority** | Urgentish |"))
    assert plugins.pm.hook.parse_spec(path=bad, config=config).errors  # a SpecProblem, built under the guard


@pytest.mark.parametrize("cls", VALUES)
def test_values_are_equal_and_hash_by_their_fields(cls: type) -> None:
    values = {field.name: f"v-{field.name}" for field in dataclasses.fields(cls)}
    one, two = cls(**values), cls(**values)
    assert one == two and hash(one) == hash(two) and len({one, two}) == 1
    changed = cls(**{**values, dataclasses.fields(cls)[0].name: "other"})
    assert changed != one


@pytest.mark.parametrize("cls", [*VALUES, model.Subtask, model.Story, model.Epic, model.Spec])
def test_model_classes_take_only_their_declared_fields(cls: type) -> None:
    first = dataclasses.fields(cls)[0].name
    instance = cls(**{field.name: "x" for field in dataclasses.fields(cls)
                      if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING})
    assert getattr(instance, first) == "x"
    with pytest.raises(AttributeError):
        instance.not_a_field = 1
