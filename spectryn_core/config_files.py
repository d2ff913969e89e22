"""Reading one config file, YAML or TOML, into its top-level mapping (the config module merges
and validates them). A module of its own so that PyYAML is imported only when a file is read."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from spectryn_core.errors import ConfigError


def read_file(path: Path) -> dict[str, Any]:
    """Parse a YAML or TOML file into its top-level mapping; ConfigError with file:line if bad."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", "check the file's permissions") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason})", "save the file as UTF-8") from exc
    try:
        if path.suffix == ".toml":
            return tomllib.loads(text)
        if path.suffix not in (".yaml", ".yml"):
            raise ConfigError(f"{path}: unknown config format {path.suffix!r}",
                              "use a .yaml, .yml or .toml file")
        data = _load_yaml(path, text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        where = f"{path}:{at.group(1)}" if at else str(path)
        problem = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise ConfigError(f"{where}: invalid TOML: {problem}", "fix the TOML syntax at that line") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: invalid YAML: {problem}", "fix the YAML syntax at that line") from exc
    except ValueError as exc:  # PyYAML builds dates with datetime(): 2024-13-01 fails here
        raise ConfigError(f"{path}: invalid value: {exc}", "fix or quote that value") from exc
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply", "a config file is a table of sections") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table of sections "
                          f"(such as sync: or bitbucket:), not {type(data).__name__}",
                          "start the file with a section name followed by its keys")
    return {str(name): section for name, section in data.items()}


#: How large a YAML document may grow once its aliases are expanded (scalar characters and nodes).
#: Config files are a few hundred; a "billion laughs" file is billions, and is refused unexpanded.
YAML_EXPANDED_LIMIT = 100_000


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that remembers where aliases are used (the composed graph is measured before
    anything is built from it)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_lines: list[int] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            self.alias_lines.append(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def _load_yaml(path: Path, text: str) -> Any:
    """``yaml.safe_load`` that refuses, in time and memory bounded by the file's own size, a
    document whose aliases would expand it beyond :data:`YAML_EXPANDED_LIMIT`."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if loader.alias_lines and _expanded_size(node, {}, set()) > YAML_EXPANDED_LIMIT:
            raise ConfigError(
                f"{path}:{loader.alias_lines[0]}: YAML aliases (*name) expand this file beyond "
                f"{YAML_EXPANDED_LIMIT} values; refused without expanding it",
                "write the values out instead of repeating anchors",
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _expanded_size(node: Any, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """Characters and nodes of ``node`` with every alias expanded, computed once per node."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:  # an alias inside its own anchor: endless when expanded
        return YAML_EXPANDED_LIMIT + 1
    open_nodes.add(key)
    if isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes)
                       for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, sizes, open_nodes) for item in node.value)
    else:
        size = 1 + len(str(node.value))
    open_nodes.discard(key)
    sizes[key] = min(size, YAML_EXPANDED_LIMIT + 1)
    return sizes[key]
