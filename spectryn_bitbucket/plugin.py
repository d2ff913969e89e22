"""The Bitbucket tracker plugin's hook implementations (thin: the work is in the other modules)."""

from __future__ import annotations

import argparse
from typing import Any

from spectryn_bitbucket import config as bb_config
from spectryn_bitbucket import tracker
from spectryn_core import hookimpl
from spectryn_core.items import Connection, Item, RemoteItem, Rendered
from spectryn_core.model import Attachment, Comment

NAME = "bitbucket"


def _ours(connection: Connection) -> bool:
    return isinstance(connection, tracker.BitbucketConnection)


@hookimpl
def config_sections() -> list[Any]:
    """The ``bitbucket`` section."""
    return [bb_config.config_section()]


@hookimpl
def add_options(parser: argparse.ArgumentParser) -> None:
    """The ``--bitbucket-*`` flags."""
    bb_config.add_options(parser)


@hookimpl
def add_commands(subparsers: Any) -> None:
    """``spectryn bitbucket repos`` and ``spectryn bitbucket sandbox``."""
    from spectryn_bitbucket.commands import add_commands as add

    add(subparsers)


@hookimpl
def tracker_name() -> str:
    """This plugin is the ``bitbucket`` tracker."""
    return NAME


@hookimpl
def open_tracker(config: Any) -> Connection:
    """Check the config and return a connection; sends nothing."""
    return tracker.BitbucketConnection(bb_config.settings_from_config(config))


@hookimpl
def check_tracker(connection: Connection) -> list[str] | None:
    """``spectryn check --tracker bitbucket``."""
    return tracker.check_tracker(connection) if _ours(connection) else None  # type: ignore[arg-type]


@hookimpl
def read_items(connection: Connection, items: list[Item]) -> list[RemoteItem] | None:
    """The repository's issues for this spec."""
    return tracker.read_items(connection, items) if _ours(connection) else None  # type: ignore[arg-type]


@hookimpl
def render_item(connection: Connection, item: Item, refs: dict[str, RemoteItem]) -> Rendered | None:
    """The issue fields ``item`` should have."""
    return tracker.render_item(connection, item, refs) if _ours(connection) else None  # type: ignore[arg-type]


@hookimpl
def create_item(connection: Connection, item: Item, fields: dict[str, Any]) -> RemoteItem | None:
    """Create the issue (never twice)."""
    return tracker.create_item(connection, item, fields) if _ours(connection) else None  # type: ignore[arg-type]


@hookimpl
def update_item(
    connection: Connection, item: Item, remote: RemoteItem, changes: dict[str, Any]
) -> RemoteItem | None:
    """Send only the changed fields."""
    if not _ours(connection):
        return None
    return tracker.update_item(connection, item, remote, changes)  # type: ignore[arg-type]


@hookimpl
def read_extras(connection: Connection, item: Item, remote: RemoteItem) -> set[str] | None:
    """Comments, attachments and PR links the issue already has."""
    return tracker.read_extras(connection, item, remote) if _ours(connection) else None  # type: ignore[arg-type]


@hookimpl
def add_comment(connection: Connection, item: Item, remote: RemoteItem, comment: Comment) -> bool | None:
    """Add a spec comment once."""
    return tracker.add_comment(connection, item, remote, comment) if _ours(connection) else None  # type: ignore[arg-type]


@hookimpl
def upload_attachment(
    connection: Connection, item: Item, remote: RemoteItem, attachment: Attachment
) -> bool | None:
    """Upload (or replace) an attachment."""
    if not _ours(connection):
        return None
    return tracker.upload_attachment(connection, item, remote, attachment)  # type: ignore[arg-type]


@hookimpl
def link_pull_request(connection: Connection, item: Item, remote: RemoteItem, number: int) -> bool | None:
    """Check a PR exists and comment on it once."""
    if not _ours(connection):
        return None
    return tracker.link_pull_request(connection, item, remote, number)  # type: ignore[arg-type]
