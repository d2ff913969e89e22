"""The Bitbucket tracker plugin's hook implementations (thin: the work is in the other modules).

The core calls these hooks only when the user chose ``--tracker bitbucket``. The HTTP modules
(requests) are imported on first use, so ``spectryn plugins`` and ``--help`` stay fast; this
module still refuses to load when the ``[bitbucket]`` extra is missing, so the plugin listing says
which ``pip install`` fixes it.
"""

from __future__ import annotations

import argparse
import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Any

from spectryn_bitbucket import config as bb_config
from spectryn_core import hookimpl

if TYPE_CHECKING:  # annotations only: listing plugins need not build the model's classes
    from spectryn_core.items import Account, Connection, Item, RemoteItem, Rendered
    from spectryn_core.model import Attachment, Comment
    from spectryn_core.review import Published, Review
    from spectryn_core.spec_edits import SpecEdit

NAME = "bitbucket"

for _dependency in ("requests", "requests_toolbelt"):
    if importlib.util.find_spec(_dependency) is None:
        raise ModuleNotFoundError(f"No module named '{_dependency}'", name=_dependency)


def _tracker() -> ModuleType:
    from spectryn_bitbucket import tracker

    return tracker


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
def init_fields() -> list[Any]:
    """What ``spectryn init --tracker bitbucket`` asks for."""
    return bb_config.init_fields()


@hookimpl
def tracker_name() -> str:
    """This plugin is the ``bitbucket`` tracker."""
    return NAME


@hookimpl
def open_tracker(config: Any) -> Connection:
    """Check the config and return a connection; sends nothing."""
    return _tracker().BitbucketConnection(bb_config.settings_from_config(config))


@hookimpl
def check_tracker(connection: Connection) -> list[str] | None:
    """``spectryn check --tracker bitbucket``."""
    return _tracker().check_tracker(connection)


@hookimpl
def read_items(connection: Connection, items: list[Item], gone: list[str],
               known: dict[str, str]) -> list[RemoteItem] | None:
    """The repository's issues for this spec (and those of removed stories, to report them)."""
    return _tracker().read_items(connection, items, gone, known)

@hookimpl
def render_item(connection: Connection, item: Item, refs: dict[str, RemoteItem]) -> Rendered | None:
    """The issue fields ``item`` should have."""
    return _tracker().render_item(connection, item, refs)


@hookimpl
def create_item(
    connection: Connection, item: Item, fields: dict[str, Any], base: dict[str, str]
) -> RemoteItem | None:
    """Create the issue (never twice), carrying its merge base."""
    return _tracker().create_item(connection, item, fields, base)


@hookimpl
def update_item(
    connection: Connection, item: Item, remote: RemoteItem, changes: dict[str, Any],
    base: dict[str, str],
) -> RemoteItem | None:
    """Send only the changed fields, and the new merge base."""
    return _tracker().update_item(connection, item, remote, changes, base)


@hookimpl
def resolve_duplicate(
    connection: Connection, item: Item, duplicate: RemoteItem, kept: RemoteItem
) -> bool | None:
    """Mark an untouched twin a duplicate of the kept issue, with a comment naming it."""
    return _tracker().resolve_duplicate(connection, item, duplicate, kept)


@hookimpl
def read_touches(connection: Connection, item: Item, remote: RemoteItem,
                 accounts: list[Account]) -> list[str] | None:
    """Comments and changes on a twin that the sync did not make (two reads)."""
    return _tracker().read_touches(connection, item, remote, accounts)


@hookimpl
def read_base_text(connection: Connection, item: Item, remote: RemoteItem, name: str, digest: str,
                   accounts: list[Account]) -> str | None:
    """The issue's content as the sync last wrote it with that digest (its change records)."""
    return _tracker().read_base_text(connection, item, remote, name, digest, accounts)


@hookimpl
def pull_text(connection: Connection, item: Item, refs: dict[str, RemoteItem],
              text: str) -> tuple[list[SpecEdit], list[str]] | None:
    """The issue's text edited in Bitbucket, mapped back to the story's sections."""
    return _tracker().pull_text(connection, item, refs, text)


@hookimpl
def read_extras(connection: Connection, item: Item, remote: RemoteItem) -> set[str] | None:
    """Comments, attachments and PR links the issue already has."""
    return _tracker().read_extras(connection, item, remote)


@hookimpl
def add_comment(connection: Connection, item: Item, remote: RemoteItem, comment: Comment) -> bool | None:
    """Add a spec comment once."""
    return _tracker().add_comment(connection, item, remote, comment)


@hookimpl
def edit_comment(connection: Connection, item: Item, remote: RemoteItem, comment: Comment, previous: str,
                 accounts: list[Account], earlier: list[str]) -> bool | None:
    """PUT an edited spec comment over the comment the sync posted for it."""
    return _tracker().edit_comment(connection, item, remote, comment, previous, accounts, earlier)


@hookimpl
def upload_attachment(
    connection: Connection, item: Item, remote: RemoteItem, attachment: Attachment
) -> bool | None:
    """Upload (or replace) an attachment."""
    return _tracker().upload_attachment(connection, item, remote, attachment)


@hookimpl
def link_pull_request(connection: Connection, item: Item, remote: RemoteItem, number: int) -> bool | None:
    """Check a PR exists and comment on it once."""
    return _tracker().link_pull_request(connection, item, remote, number)


@hookimpl
def publish_review(config: Any, review: Review) -> Published | None:
    """One Code Insights report on the commit (through the Pipelines auth proxy inside Pipelines)."""
    from spectryn_bitbucket import insights

    return insights.publish(config, review)
