"""spectryn core: hook specs, plugin manager, domain model, config, sync engine and CLI.

Plugins import what they need from here::

    from spectryn_core import hookimpl, Item, RemoteItem, Rendered, Connection
"""

from typing import TYPE_CHECKING, Any

from spectryn_core._version import __version__

if TYPE_CHECKING:
    import pluggy

    from spectryn_core.config import Config, ConfigSection
    from spectryn_core.errors import (
        AuthError,
        ConfigError,
        ItemError,
        OwnershipError,
        SpecError,
        SpectrynError,
        TargetError,
        TrackerError,
        UnreachableError,
        UsageError,
    )
    from spectryn_core.items import (
        Account,
        Connection,
        Extra,
        Item,
        Provenance,
        Quota,
        RemoteItem,
        Rendered,
    )
    from spectryn_core.model import (
        PRIORITIES,
        STATUSES,
        Attachment,
        Comment,
        Commit,
        Criterion,
        Epic,
        Link,
        PullRequestRef,
        Section,
        Spec,
        SpecProblem,
        Story,
        Subtask,
    )

    hookimpl: pluggy.HookimplMarker
    """Decorator marking a plugin's hook implementations: ``@hookimpl def parse_spec(path, config)``."""

#: Where each public name lives; it is imported on first use (``import spectryn_core`` alone,
#: which every command pays for, imports none of them).
_HOMES = {
    **dict.fromkeys(("AuthError", "ConfigError", "ItemError", "OwnershipError", "SpecError",
                     "SpectrynError", "TargetError", "TrackerError", "UnreachableError",
                     "UsageError"),
                    "spectryn_core.errors"),
    **dict.fromkeys(("Account", "Connection", "Extra", "Item", "Provenance", "Quota", "RemoteItem",
                     "Rendered"),
                    "spectryn_core.items"),
    **dict.fromkeys(("PRIORITIES", "STATUSES", "Attachment", "Comment", "Commit", "Criterion",
                     "Epic", "Link", "PullRequestRef", "Section", "Spec", "SpecProblem", "Story", "Subtask"),
                    "spectryn_core.model"),
    **dict.fromkeys(("Config", "ConfigSection"), "spectryn_core.config"),
}


def __getattr__(name: str) -> Any:
    """The public names on first use: the model's dataclasses, the config module (marshmallow,
    PyYAML) and ``hookimpl`` (pluggy) cost start-up time that ``spectryn --version`` and most
    commands do not need."""
    if name == "hookimpl":
        import pluggy

        marker = pluggy.HookimplMarker("spectryn")
        globals()["hookimpl"] = marker
        return marker
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'spectryn_core' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names too, before their first use (for ``dir()`` and completion)."""
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "PRIORITIES",
    "STATUSES",
    "Account",
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
    "OwnershipError",
    "Provenance",
    "PullRequestRef",
    "Quota",
    "RemoteItem",
    "Rendered",
    "Section",
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
