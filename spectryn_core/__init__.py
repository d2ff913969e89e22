"""spectryn core: hook specs, plugin manager, domain model, config, sync engine and CLI.

Plugins import what they need from here::

    from spectryn_core import hookimpl, Item, RemoteItem, Rendered, Connection
"""

from importlib.metadata import PackageNotFoundError, version

import pluggy

from spectryn_core.config import Config, ConfigSection
from spectryn_core.errors import (
    AuthError,
    ConfigError,
    ItemError,
    SpecError,
    SpectrynError,
    TargetError,
    TrackerError,
    UnreachableError,
    UsageError,
)
from spectryn_core.items import Connection, Extra, Item, Quota, RemoteItem, Rendered
from spectryn_core.model import (
    PRIORITIES,
    STATUSES,
    Attachment,
    Comment,
    Commit,
    Criterion,
    Epic,
    Link,
    Spec,
    SpecProblem,
    Story,
    Subtask,
)

hookimpl = pluggy.HookimplMarker("spectryn")
"""Decorator marking a plugin's hook implementations: ``@hookimpl def parse_spec(path, config)``."""

try:
    __version__ = version("spectryn")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "PRIORITIES",
    "STATUSES",
    "Attachment",
    "AuthError",
    "Comment",
    "Commit",
    "Config",
    "ConfigError",
    "ConfigSection",
    "Connection",
    "Criterion",
    "Epic",
    "Extra",
    "Item",
    "ItemError",
    "Link",
    "Quota",
    "RemoteItem",
    "Rendered",
    "Spec",
    "SpecError",
    "SpecProblem",
    "SpectrynError",
    "Story",
    "Subtask",
    "TargetError",
    "TrackerError",
    "UnreachableError",
    "UsageError",
    "hookimpl",
    "__version__",
]
