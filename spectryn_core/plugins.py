"""Finding and loading plugins, and choosing which of them act in a run.

Plugins come only from the ``spectryn`` entry-point group (the built-in default mapper is
registered the same way a third party's would be, by module). A plugin that fails to import is
reported with the ``pip install`` that fixes it instead of crashing the CLI.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import Distribution, EntryPoint, entry_points
from types import ModuleType
from typing import Any

import pluggy

from spectryn_core import hookspecs
from spectryn_core.errors import UsageError

GROUP = "spectryn"
#: Plugins that are part of the core and always registered (unless disabled).
BUILTIN_PLUGINS: dict[str, str] = {"default": "spectryn_core.mappers"}
#: Hooks through which a tracker plugin acts; only the chosen tracker takes part in them.
TRACKER_HOOKS = (
    "open_tracker",
    "check_tracker",
    "read_items",
    "render_item",
    "create_item",
    "update_item",
    "resolve_duplicate",
    "read_touches",
    "read_base_text",
    "pull_text",
    "read_extras",
    "add_comment",
    "edit_comment",
    "upload_attachment",
    "link_pull_request",
    "publish_review",
)
MAPPER_HOOKS = ("map_status", "map_priority")


@dataclass
class PluginInfo:
    """One plugin as ``spectryn plugins`` shows it."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""
    hooks: list[str] = field(default_factory=list)
    error: str = ""
    hint: str = ""

    @property
    def loaded(self) -> bool:
        return not self.error


class Plugins:
    """The plugin manager of one run: loaded plugins, failures, and per-role hook callers."""

    def __init__(self, pm: pluggy.PluginManager, infos: list[PluginInfo]) -> None:
        self.pm = pm
        self.infos = infos

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def call_each(self, hook_name: str, **kwargs: Any) -> list[tuple[object, Any]]:
        """Call a start-up hook on each plugin separately; a plugin that raises is marked broken
        and unregistered, so one bad plugin cannot take the CLI down."""
        results: list[tuple[object, Any]] = []
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            try:
                results.append((impl.plugin, impl.function(**{a: kwargs[a] for a in impl.argnames})))
            except Exception as error:
                self._broken(impl.plugin_name, f"{hook_name} failed: {_describe_error(error)}")
        return results

    def disable(self, names: Iterable[str]) -> None:
        """Unregister the plugins named in config's ``plugins.disable``."""
        for name in names:
            plugin = self.pm.get_plugin(name)
            if plugin is not None:
                self.pm.unregister(name=name)
            for info in self.infos:
                if info.name == name and not info.error:
                    info.error = "disabled by config (plugins.disable)"
                    info.hint = f"remove '{name}' from plugins.disable to use it"

    def _broken(self, name: str, error: str) -> None:
        for info in self.infos:
            if info.name == name and not info.error:
                info.error = error
                info.hint = "report it to the plugin's authors, or disable it (plugins.disable)"
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)

    def tracker_plugins(self) -> dict[str, object]:
        """Tracker name -> the plugin object implementing it."""
        found: dict[str, object] = {}
        for plugin, name in self.call_each("tracker_name"):
            if name:
                found.setdefault(name, plugin)
        return found

    def tracker_names(self) -> list[str]:
        return sorted(self.tracker_plugins())

    def tracker_hooks(self, tracker: str) -> TrackerHooks:
        """Hook callers in which only the plugin of ``tracker`` takes part."""
        trackers = self.tracker_plugins()
        if tracker not in trackers:
            known = ", ".join(sorted(trackers)) or "none installed"
            hint = self._missing_hint(tracker)
            raise UsageError(f"unknown tracker '{tracker}' (available: {known})", hint)
        others = [p for name, p in trackers.items() if name != tracker]
        return TrackerHooks(
            {name: self.pm.subset_hook_caller(name, others) for name in TRACKER_HOOKS}
        )

    def mapper_hooks(self, mapper: str) -> Any:
        """Hook callers for the mapper hooks where only ``mapper`` and the default mapper act.

        The default mapper is ``trylast``, so the named one answers first and the default fills in
        for values the named one does not know.
        """
        names = {info.name for info in self.infos if info.loaded}
        if mapper not in names:
            raise UsageError(
                f"unknown mapper plugin '{mapper}' (sync.mapper)",
                "install it (pip install ...) or run `spectryn plugins` to see what is installed",
            )
        keep = {mapper, "default"}
        others = [
            self.pm.get_plugin(info.name)
            for info in self.infos
            if info.loaded and info.name not in keep and self.pm.get_plugin(info.name) is not None
        ]
        return TrackerHooks({name: self.pm.subset_hook_caller(name, others) for name in MAPPER_HOOKS})

    def _missing_hint(self, tracker: str) -> str:
        for info in self.infos:
            if info.name == tracker and info.error:
                return info.hint
        return "run `spectryn plugins` to see which plugins are installed"


class TrackerHooks:
    """Attribute access to a set of subset hook callers: ``hooks.create_item(...)``."""

    def __init__(self, callers: dict[str, Any]) -> None:
        self._callers = callers

    def __getattr__(self, name: str) -> Any:
        try:
            return self._callers[name]
        except KeyError:
            raise AttributeError(name) from None


def _enabled(name: str, disabled: Iterable[str]) -> bool:
    """``SPECTRYN_LOAD_PLUGINS=a,b`` loads only those (hermetic tests); config disables others."""
    only = os.environ.get("SPECTRYN_LOAD_PLUGINS")
    if only is not None and name not in {n.strip() for n in only.split(",") if n.strip()}:
        return name in BUILTIN_PLUGINS
    return name not in set(disabled)


def install_hint(ep: EntryPoint, error: BaseException) -> str:
    """The command that most likely fixes a plugin that failed to import."""
    dist = ep.dist
    if isinstance(error, ImportError) and dist is not None:
        extras = dist.metadata.get_all("Provides-Extra") or []
        if ep.name in extras:
            return f"pip install '{dist.metadata['Name']}[{ep.name}]'"
        missing = getattr(error, "name", None)
        if missing:
            return f"pip install {missing.split('.')[0]}"
    if dist is not None:
        return f"pip install --force-reinstall '{dist.metadata['Name']}'"
    return "reinstall the package that provides it"


def _describe_error(error: BaseException) -> str:
    if isinstance(error, ImportError) and getattr(error, "name", None):
        return f"needs the module '{error.name}', which is not installed"
    return f"{type(error).__name__}: {error}"


def _register(pm: pluggy.PluginManager, info: PluginInfo, module: ModuleType) -> None:
    pm.register(module, name=info.name)
    info.hooks = sorted(
        caller.name for caller in pm.get_hookcallers(module) or [] if not caller.name.startswith("_")
    )


def load_plugins(disabled: Iterable[str] = ()) -> Plugins:
    """Register the built-in plugins and every ``spectryn`` entry point that is not disabled.

    Never raises for a broken plugin: it is listed with its error and an install hint.
    """
    disabled = list(disabled)
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []

    for name, module_name in BUILTIN_PLUGINS.items():
        if name in disabled:
            continue
        info = PluginInfo(name, module_name, "spectryn", _own_version())
        _register(pm, info, importlib.import_module(module_name))
        infos.append(info)

    # each distribution's METADATA (it holds the whole README) parsed once, not once per field
    # and entry point: the entry points of one distribution share its object
    metadata_of: dict[int, tuple[str, str]] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if not _enabled(ep.name, disabled) or pm.get_plugin(ep.name) is not None:
            continue
        dist: Distribution | None = ep.dist
        if dist is not None and id(dist) not in metadata_of:
            metadata = dist.metadata
            metadata_of[id(dist)] = (metadata["Name"], metadata["Version"])
        name, version = metadata_of[id(dist)] if dist is not None else ("", "")
        info = PluginInfo(ep.name, ep.value, name, version)
        infos.append(info)
        try:
            module = ep.load()
            _register(pm, info, module)
        except Exception as error:  # a broken plugin must not take the CLI down
            info.error = _describe_error(error)
            info.hint = install_hint(ep, error)
    for module_name in _extra_modules():
        if module_name in disabled or pm.get_plugin(module_name) is not None:
            continue
        info = PluginInfo(module_name, module_name, "", "")
        infos.append(info)
        try:
            _register(pm, info, importlib.import_module(module_name))
        except Exception as error:
            info.error = _describe_error(error)
            info.hint = f"check that '{module_name}' (SPECTRYN_PLUGINS) can be imported"
    _reject_unknown_hooks(pm, infos)
    return Plugins(pm, infos)


def _extra_modules() -> list[str]:
    """``SPECTRYN_PLUGINS=pkg.module,...`` registers plugin modules without an entry point,
    like pytest's ``-p`` - for developing a plugin before packaging it."""
    raw = os.environ.get("SPECTRYN_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


def _reject_unknown_hooks(pm: pluggy.PluginManager, infos: list[PluginInfo]) -> None:
    """Like ``pm.check_pending()``, but a misspelled hook disables that plugin with a message
    instead of failing the whole run."""
    by_name = {info.name: info for info in infos}
    for hook_name, caller in list(vars(pm.hook).items()):
        if hook_name.startswith("_") or getattr(caller, "spec", True) is not None:
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            info = by_name.get(impl.plugin_name)
            if info is not None and not info.error:
                info.error = f"implements '{hook_name}', which is not a spectryn hook"
                info.hint = "check the spelling against spectryn_core/hookspecs.py"
                pm.unregister(name=impl.plugin_name)


def _own_version() -> str:
    from spectryn_core import __version__

    return __version__
