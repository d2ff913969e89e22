"""Shared builders for the Bitbucket plugin's unit tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.config import settings_from_section
from spectryn_bitbucket.ratelimit import RollingLog
from spectryn_bitbucket.tracker import BitbucketConnection
from spectryn_core.config import Origin
from spectryn_core.items import Item
from spectryn_core.model import Criterion, Epic, PullRequestRef, Spec, Story, Subtask

API = "https://api.bitbucket.org/2.0"
REPO = f"{API}/repositories/acme/backend-api"
SECRET = "s3cr3t-t0ken-value"


def settings(**overrides: Any):
    values = {"workspace": "acme", "repo": "backend-api", "email": "me@acme.test",
              "api_token": SECRET, "retries": 2, "rate_limit": 0}
    values.update(overrides)
    return settings_from_section(values)


def client(**overrides: Any) -> BitbucketClient:
    """A client whose waits (backoff, quota) only advance a fake clock, recorded in ``slept``."""
    slept: list[float] = []
    now = [1_000_000.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    s = settings(**overrides)
    quota = RollingLog(None, s.rate_limit, s.rate_window, max_wait=s.max_wait,
                       clock=lambda: now[0], sleep=sleep)
    c = BitbucketClient(s, backoff=0, sleep=sleep, quota=quota)
    c.slept = slept  # type: ignore[attr-defined]
    return c


def connection(**overrides: Any) -> BitbucketConnection:
    c = client(**overrides)
    return BitbucketConnection(c.settings, c)


class FakeConfig:
    """The two methods of spectryn_core.config.Config the plugin uses."""

    def __init__(self, section: dict[str, Any], sync: dict[str, Any] | None = None) -> None:
        self._section = section
        self._sync = sync or {}

    def section(self, name: str) -> dict[str, Any]:
        return dict(self._section) if name == "bitbucket" else {}

    def get(self, dotted: str, default: Any = None) -> Any:
        name, _, key = dotted.partition(".")
        source = self._sync if name == "sync" else self._section
        return source.get(key, default)

    def origin(self, dotted: str) -> Origin:
        return Origin("environment", f"environment {dotted}")

    def origins(self, dotted: str) -> list[tuple[Any, Origin]]:
        return []


def sample_spec(milestone: str | None = "Q1 2024") -> Spec:
    """One epic with two stories; US-001 has two subtasks, criteria, PR, labels."""
    spec = Spec(path=Path("EPIC.md"))
    us1 = Story(
        key="US-001", title="Login Feature", description="**As a** user\n**I want** to log in",
        acceptance_criteria=[Criterion("User can enter email"), Criterion("Session expires", True)],
        technical_notes="Use JWT.", story_points=5, labels=["frontend"], pull_requests=[PullRequestRef(456)],
        subtasks=[Subtask(1, "Login form", "React component", 2, parent_key="US-001"),
                  Subtask(2, "Validation", parent_key="US-001")],
        component="Frontend", epic_key="EPIC-001",
    )
    us2 = Story(key="US-002", title="Logout", description="Log out.", epic_key="EPIC-001")
    spec.epics.append(Epic(title="User Authentication", key="EPIC-001", milestone=milestone,
                           description="Auth things.", stories=[us1, us2]))
    return spec


def items_of(spec: Spec) -> list[Item]:
    """Items the way the core builds them (epic, stories, subtasks)."""
    items: list[Item] = []
    origin = spec.path.as_posix()
    for epic in spec.epics:
        items.append(Item("epic", epic.key or "", epic.title, epic, spec,
                          children=[s.key for s in epic.stories], origin=origin))
        for story in epic.stories:
            items.append(Item("story", story.key, story.title, story, spec, parent=epic.key,
                              children=[t.key for t in story.subtasks], state="open", priority="major",
                              origin=origin))
            for sub in story.subtasks:
                items.append(Item("subtask", sub.key, sub.title, sub, spec, parent=story.key,
                                  origin=origin))
    return items


def issue_json(number: int, fields: dict[str, Any]) -> dict[str, Any]:
    """What Bitbucket returns for an issue carrying these rendered fields."""
    issue: dict[str, Any] = {
        "id": number, "title": fields.get("title", ""),
        "content": {"raw": fields.get("content", ""), "markup": "markdown"},
        "state": fields.get("state", "new"), "priority": fields.get("priority", "major"),
        "kind": fields.get("kind", "bug"),
        "links": {"html": {"href": f"https://bitbucket.org/acme/backend-api/issues/{number}"}},
    }
    for name in ("milestone", "component", "version"):
        issue[name] = {"name": fields[name]} if fields.get(name) else None
    return issue
