"""The ``acme`` mapper: how the ACME team names states and priorities in its trackers.

Choose it in ``.spectryn.yaml`` with ``sync: {mapper: acme}``. A value this mapper does not know
falls through to spectryn's built-in ``default`` mapper; ``status_mapping`` / ``priority_mapping``
in the config still win over both.
"""

from __future__ import annotations

from spectryn_core import hookimpl

ACME_STATUS = {
    "open": "new",
    "in progress": "open",
    "in review": "open",
    "blocked": "on hold",
    "done": "closed",
}
ACME_PRIORITY = {
    "low": "trivial",
    "medium": "minor",
    "high": "blocker",
    "critical": "blocker",
}


@hookimpl
def map_status(status: str, tracker: str) -> str | None:
    """ACME's state for a spec status; None leaves it to the default mapper."""
    return ACME_STATUS.get(status)


@hookimpl
def map_priority(priority: str, tracker: str) -> str | None:
    """ACME's priority for a spec priority."""
    return ACME_PRIORITY.get(priority)
