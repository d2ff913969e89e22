"""The ``jsonfile`` tracker: spectryn's hooks implemented on a local JSON file.

Each epic, story and subtask becomes one issue whose title starts with its key
(``US-001: Login``), which is how a sync finds its issues again without local state.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

from marshmallow import Schema, fields

from spectryn_core import (
    Comment,
    ConfigError,
    Connection,
    Item,
    ItemError,
    RemoteItem,
    Rendered,
    hookimpl,
)
from spectryn_core.config import Config, ConfigSection
from spectryn_core.items import comment_digest
from spectryn_jsonfile.store import IssueFile

NAME = "jsonfile"
FIELDS = ("title", "content", "state", "priority", "kind", "parent")
TITLE_KEY = re.compile(r"^([A-Z][A-Z0-9]*-\d+(?:\.\d+)?):")


class JsonFileSchema(Schema):
    """The ``jsonfile`` section of ``.spectryn.yaml``."""

    path = fields.String(load_default="issues.json")


class JsonFileConnection(Connection):
    """One issues file; ``target`` is its absolute path (state is kept per target)."""

    tracker = NAME

    def __init__(self, path: Path) -> None:
        self.file = IssueFile(path)
        self.target = str(path)

    def request_count(self) -> dict[str, int]:
        """File reads and writes so far (one write per created or updated issue or comment)."""
        return {"read": self.file.reads, "write": self.file.writes}


def _remote(issue: dict[str, Any]) -> RemoteItem:
    match = TITLE_KEY.match(issue["title"])
    key = match.group(1) if match else ""
    return RemoteItem(key, str(issue["id"]), f"jsonfile:{issue['id']}",
                      {name: issue.get(name) for name in FIELDS})


# --- start-up ---------------------------------------------------------------------------------


@hookimpl
def config_sections() -> list[ConfigSection]:
    """The ``jsonfile`` section: ``path``, also set by SPECTRYN_JSONFILE_PATH."""
    return [ConfigSection(NAME, JsonFileSchema, env={"path": "SPECTRYN_JSONFILE_PATH"})]


@hookimpl
def add_options(parser: argparse.ArgumentParser) -> None:
    """``--jsonfile-path FILE``."""
    parser.add_argument("--jsonfile-path", dest="jsonfile.path", metavar="FILE", default=None,
                        help="the JSON file holding the issues (default issues.json)")


@hookimpl
def tracker_name() -> str:
    """This plugin is the ``jsonfile`` tracker."""
    return NAME


# --- tracker ----------------------------------------------------------------------------------


@hookimpl
def open_tracker(config: Config) -> Connection:
    """Check the configured path; reads nothing yet."""
    path = Path(config.get("jsonfile.path")).expanduser().resolve()
    if not path.parent.is_dir():
        raise ConfigError(
            f"jsonfile.path: the folder {path.parent} does not exist",
            "create it, or set another file with --jsonfile-path or SPECTRYN_JSONFILE_PATH",
        )
    return JsonFileConnection(path)


@hookimpl
def check_tracker(connection: JsonFileConnection) -> list[str]:
    """``spectryn check --tracker jsonfile``: the file is readable; how many issues it holds."""
    return [f"{len(connection.file.load())} issues in {connection.target}"]


@hookimpl
def read_items(connection: JsonFileConnection, items: list[Item]) -> list[RemoteItem]:
    """Every keyed issue of the file (one read); the engine keeps those of this spec."""
    return [_remote(issue) for issue in connection.file.load() if TITLE_KEY.match(issue["title"])]


@hookimpl
def render_item(connection: JsonFileConnection, item: Item, refs: dict[str, RemoteItem]) -> Rendered:
    """The issue fields of ``item``; a subtask or story names its parent's issue id."""
    parent = refs.get(item.parent) if item.parent else None
    return Rendered({
        "title": f"{item.key}: {item.title}",
        "content": (getattr(item.source, "description", "") or "").strip(),
        "state": item.state,
        "priority": item.priority,
        "kind": item.kind,
        "parent": parent.id if parent else None,
    })


@hookimpl
def create_item(connection: JsonFileConnection, item: Item, fields: dict[str, Any]) -> RemoteItem:
    """Add an issue - unless one with this key is already there (never create two)."""

    def add(issues: list[dict[str, Any]]) -> dict[str, Any]:
        for issue in issues:
            if issue["title"].startswith(f"{item.key}:"):
                return issue
        issue = {"id": max((i["id"] for i in issues), default=0) + 1, **fields, "comments": []}
        issues.append(issue)
        return issue

    return _remote(connection.file.change(add))


@hookimpl
def update_item(
    connection: JsonFileConnection, item: Item, remote: RemoteItem, changes: dict[str, Any]
) -> RemoteItem:
    """Change only the fields in ``changes``."""

    def update(issues: list[dict[str, Any]]) -> dict[str, Any]:
        issue = _find(issues, remote)
        issue.update(changes)
        return issue

    return _remote(connection.file.change(update))


@hookimpl
def read_extras(connection: JsonFileConnection, item: Item, remote: RemoteItem) -> set[str]:
    """The idents of the item's comments the issue already has (by the digest of their text)."""
    issue = _find(connection.file.load(), remote)
    posted = {comment_digest(Comment(**c)) for c in issue.get("comments", [])}
    return {e.ident for e in item.extras() if e.kind == "comment" and e.digest in posted}


@hookimpl
def add_comment(
    connection: JsonFileConnection, item: Item, remote: RemoteItem, comment: Comment
) -> bool:
    """Append the spec comment to the issue."""

    def add(issues: list[dict[str, Any]]) -> bool:
        entry = {"body": comment.body, "author": comment.author, "date": comment.date}
        _find(issues, remote).setdefault("comments", []).append(entry)
        return True

    return connection.file.change(add)


def _find(issues: list[dict[str, Any]], remote: RemoteItem) -> dict[str, Any]:
    for issue in issues:
        if str(issue["id"]) == remote.id:
            return issue
    raise ItemError(f"issue {remote.id} ({remote.key}) is no longer in the file",
                    "it was deleted by hand; delete the sync state to create it again")
