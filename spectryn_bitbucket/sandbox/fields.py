"""Partial responses: Bitbucket's ``fields=`` query parameter.

``fields=values.id,values.title,next`` keeps only those dotted paths (lists are walked element by
element, ``*`` matches any key); ``-values.content`` removes a path from the full document;
``+field`` adds a field that is not in the default document (every field the sandbox has is
already there, so it changes nothing).
"""

from __future__ import annotations

from typing import Any

Tree = dict[str, "Tree"]


def _add_path(tree: Tree, path: str) -> None:
    for part in path.split("."):
        tree = tree.setdefault(part, {})


def _keep(value: Any, tree: Tree) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [_keep(item, tree) for item in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for key, item in value.items():
        subtree = tree.get(key, tree.get("*"))
        if subtree is not None:
            kept[key] = _keep(item, subtree)
    return kept


def _drop(value: Any, parts: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _drop(item, parts)
        return
    if not isinstance(value, dict):
        return
    keys = list(value) if parts[0] == "*" else [parts[0]]
    for key in keys:
        if len(parts) == 1:
            value.pop(key, None)
        elif key in value:
            _drop(value[key], parts[1:])


def trim(document: Any, spec: str | None) -> Any:
    """Apply a ``fields=`` specification to a JSON document (returns a new or the same object)."""
    if not spec:
        return document
    entries = [e.strip() for e in spec.split(",") if e.strip()]
    keep_tree: Tree = {}
    drops: list[list[str]] = []
    for entry in entries:
        if entry.startswith("-"):
            drops.append(entry[1:].split("."))
        elif entry.startswith("+"):
            continue
        else:
            _add_path(keep_tree, entry)
    result = _keep(document, keep_tree) if keep_tree else document
    for parts in drops:
        _drop(result, parts)
    return result
