"""A team mapper plugin (for mapper-selection tests)."""

from spectryn_core import hookimpl


@hookimpl
def map_status(status, tracker, config):
    return {"in progress": "on hold"}.get(status)


@hookimpl
def map_priority(priority, tracker, config):
    return {"high": "blocker"}.get(priority)
