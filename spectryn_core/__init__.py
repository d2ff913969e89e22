"""spectryn core: hook specs, plugin manager, domain model, config, sync engine and CLI.

Plugins import what they need from here::

    from spectryn_core import hookimpl, Item, RemoteItem, Rendered, Connection
"""

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    import pluggy

    from spectryn_core.config import Config, ConfigSection

    __version__: str
    hookimpl: pluggy.HookimplMarker
    """Decorator marking a plugin's hook implementations: ``@hookimpl def parse_spec(path, config)``."""


def __getattr__(name: str) -> Any:
    """``Config``, ``ConfigSection`` and ``__version__`` on first use: the config module brings
    marshmallow and PyYAML, and the version a metadata lookup, which most commands never need;
    ``hookimpl`` (the decorator marking a plugin's hook implementations) brings pluggy."""
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("spectryn")
        globals()["hookimpl"] = marker
        return marker
    if name in ("Config", "ConfigSection"):
        from spectryn_core import config

        return getattr(config, name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("spectryn")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
            found = "0.0.0"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'spectryn_core' has no attribute {name!r}")

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
