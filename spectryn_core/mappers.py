"""The built-in ``default`` mapper plugin: the seed guide's status and priority tables.

It is registered like any other plugin and runs ``trylast``, so a mapper plugin named in config
(``sync.mapper: acme``) answers first and this one fills in what that one does not know.
``status_mapping`` / ``priority_mapping`` in config win over every mapper (see
:func:`resolve_status`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import pluggy

if TYPE_CHECKING:
    from spectryn_core.config import Config

hookimpl = pluggy.HookimplMarker("spectryn")

#: Spec status -> tracker state (Bitbucket's vocabulary, which the seed documents).
DEFAULT_STATUS: dict[str, str] = {
    "open": "open",
    "in progress": "open",
    "in review": "open",
    "done": "resolved",
    "closed": "closed",
    "blocked": "on hold",
}
#: Spec priority -> tracker priority.
DEFAULT_PRIORITY: dict[str, str] = {
    "low": "minor",
    "medium": "major",
    "high": "critical",
    "critical": "blocker",
}


@hookimpl(trylast=True)
def map_status(status: str) -> str | None:
    return DEFAULT_STATUS.get(status)


@hookimpl(trylast=True)
def map_priority(priority: str) -> str | None:
    return DEFAULT_PRIORITY.get(priority)


def resolve(
    hooks: Any, kind: Literal["status", "priority"], value: str | None, tracker: str, config: Config
) -> str | None:
    """The tracker's word for a spec ``status`` or ``priority`` (``kind``): config's
    ``<kind>_mapping`` first, then the mapper hooks (the named mapper, then ``default``)."""
    if value is None:
        return None
    configured = config.mapping(kind).get(value)
    if configured is not None:
        return configured
    hook = hooks.map_status if kind == "status" else hooks.map_priority
    answer: str | None = hook(**{kind: value, "tracker": tracker, "config": config})
    return answer


def resolve_status(hooks: Any, status: str | None, tracker: str, config: Config) -> str | None:
    """The tracker state for a spec status."""
    return resolve(hooks, "status", status, tracker, config)


def resolve_priority(hooks: Any, priority: str | None, tracker: str, config: Config) -> str | None:
    """The tracker priority for a spec priority."""
    return resolve(hooks, "priority", priority, tracker, config)
