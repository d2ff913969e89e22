"""A plugin with a misspelled hook name (for plugin-manager tests)."""

from spectryn_core import hookimpl


@hookimpl
def parse_spek(path, config):  # misspelled on purpose
    return None
