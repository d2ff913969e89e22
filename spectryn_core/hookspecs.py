"""Every hook spectryn calls, in the order a sync calls them. A plugin author reads this file.

Implement a hook by decorating a function of the same name with
:data:`spectryn_core.hookimpl` in a module named by an entry point of the ``spectryn`` group.
Declare only the arguments you use; pluggy passes them by name.

Order of calls in ``spectryn --markdown EPIC.md --tracker NAME [--execute]``::

    config_sections, add_options        every plugin, at start-up
    tracker_name                        every plugin, to find the one called NAME
    parse_spec                          first parser that answers
    map_status, map_priority            per story/subtask with a status/priority
    open_tracker                        the chosen tracker only (as for every hook below)
    read_items                          once: the tracker's current items
    render_item                         per item: the fields it should have
    read_extras                         per existing item with comments/attachments/PRs that
                                        neither the state nor the item's base confirms
    read_touches                        per twin whose fields still match its base: did
                                        anyone but the sync comment on it or change it?
    read_base_text                      per text field changed on both sides whose base text
                                        neither the state nor the spec's git history has
    --- dry-run stops here and prints the plan ---
    create_item / update_item           parents before children, in parallel within a level;
                                        each item is written once, carrying its new merge base
    resolve_duplicate                   per twin left by two runs at once that nobody touched
    add_comment, upload_attachment, link_pull_request    per pending extra
    edit_comment                        per spec comment edited since it was posted (optional)
    update_item (changes={})            per item whose extras were just sent, when the tracker
                                        keeps the base in the item (Connection.keeps_base)

``spectryn pull --markdown EPIC.md --tracker NAME`` calls ``read_items``, ``render_item`` and,
per story whose text changed in the tracker alone, ``pull_text``; then ``edit_spec``.
``spectryn check --tracker NAME`` calls ``open_tracker`` then ``check_tracker``.
``spectryn review --tracker NAME`` runs the dry run above (read-only), then ``publish_review``.
``spectryn init --tracker NAME`` calls ``init_fields``, then ``open_tracker`` and ``check_tracker``.

Hooks marked *first result* stop at the first implementation returning something other than None.
Only the tracker plugin the user chose (``--tracker`` or ``sync.tracker``) takes part in the tracker
hooks, and only the mapper named in config (``sync.mapper``, default ``default``) in the mapper hooks
- so two tracker plugins can be installed side by side.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from spectryn_core.config import Config, ConfigSection
    from spectryn_core.initcmd import InitField
    from spectryn_core.items import Account, Connection, Item, RemoteItem, Rendered
    from spectryn_core.model import Attachment, Comment, Spec
    from spectryn_core.review import Published, Review
    from spectryn_core.spec_edits import EditedSpec, SpecEdit

hookspec = pluggy.HookspecMarker("spectryn")


# --- start-up -------------------------------------------------------------------------------


@hookspec
def config_sections() -> list[ConfigSection]:
    """Declare the config sections this plugin reads.

    Return a list of :class:`spectryn_core.config.ConfigSection`: the section's name (the YAML/TOML
    table, e.g. ``"bitbucket"``), a marshmallow ``Schema`` class validating it, the environment
    variables that set its keys (``{"username": "BITBUCKET_USERNAME"}``) and which keys are secrets
    (never printed, logged or stored). Called for every plugin; sections are merged by name.
    """


@hookspec
def add_options(parser: argparse.ArgumentParser) -> None:
    """Add command-line flags, the way ``pytest_addoption`` does.

    ``parser`` is the argument group of the sync command. Give every flag ``dest="section.key"``
    (``parser.add_argument("--bitbucket-repo", dest="bitbucket.repo")``) and ``default=None``:
    a flag that is set overrides that config key (flags beat environment beat files). Its
    placeholder in ``--help`` is the key in capitals (``REPO``) unless you pass ``metavar``.
    """


@hookspec
def add_commands(subparsers: Any) -> None:
    """Add subcommands to ``spectryn`` (``spectryn bitbucket repos``).

    ``subparsers`` is argparse's ``_SubParsersAction``: call ``subparsers.add_parser(...)`` and
    ``set_defaults(func=run)`` where ``run(args, app) -> int`` returns the exit code. ``app`` is a
    :class:`spectryn_core.cli.App`: ``app.load_config(args, tracker=...)`` gives the merged
    :class:`~spectryn_core.config.Config`, ``app.pm`` the plugin manager.
    """


@hookspec
def init_fields() -> list[InitField] | None:
    """The values ``spectryn init`` asks for when this plugin's tracker is chosen.

    Return a list of :class:`spectryn_core.initcmd.InitField`, in the order they are asked and
    written under the tracker's section: each non-secret one becomes an ``init`` flag
    (``InitField("workspace", ...)`` is ``--workspace``); a ``secret=True`` one is never a flag
    and never written unless the user asks, and its ``env`` variable is what init tells users to
    set (with the variables of the fields named in its ``together``, e.g. an API token's email).
    Trackers only; other plugins do not implement it.
    """


@hookspec
def tracker_name() -> str | None:
    """Return the name users pass to ``--tracker`` for the tracker this plugin implements
    (``"bitbucket"``), or None if the plugin is not a tracker. Called for every plugin."""


# --- parse ----------------------------------------------------------------------------------


@hookspec(firstresult=True)
def parse_spec(path: Path, config: Config) -> Spec | None:
    """Read the spec file at ``path`` into a :class:`~spectryn_core.model.Spec`. *First result.*

    Return None if this parser does not handle the file (check the suffix), so another may. The
    core checks the paths it passes (a regular file inside the repository, at most
    ``sync.max_spec_size`` bytes); :func:`spectryn_core.spec_files.read_spec` reads one safely.
    Never raise for problems in the file: put every one in ``Spec.errors`` as a
    :class:`~spectryn_core.model.SpecProblem` with its line, so the user sees all of them at once.
    Normalise statuses and priorities to :data:`~spectryn_core.model.STATUSES` /
    :data:`~spectryn_core.model.PRIORITIES`, plus any key of the config's ``status_mapping`` /
    ``priority_mapping``; anything else is an error that lists the accepted values.
    """


@hookspec(firstresult=True)
def edit_spec(path: Path, text: str, edits: list[SpecEdit]) -> EditedSpec | None:
    """Change cells of the spec ``text`` (read from ``path``) as ``edits`` say, and return the
    whole new text in an :class:`~spectryn_core.spec_edits.EditedSpec`. *First result.*

    Called by ``--write-back`` (``field="issue"``: the item's issue link) and ``spectryn pull``
    (``title``, ``status``, ``priority``, ``assignee``: values changed in the tracker). Change
    only the bytes of the cells named - keep line endings, emoji, spacing and everything else as
    written - and make a second call with the same edits change nothing. A value is tracker text
    (anyone who can edit an issue chose it): escape it for where it goes, so that it cannot change
    the spec's structure and your ``parse_spec`` reads back exactly that value; an edit you cannot
    make (no such cell, or a value the format cannot hold, such as a line break in a title) goes
    in ``EditedSpec.notes`` (why) and ``EditedSpec.skipped`` (the edit). Return None for a file
    this parser does not read. The core writes the file (atomically); do not write it here.
    """


# --- map ------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def map_status(status: str, tracker: str, config: Config) -> str | None:
    """Translate a spec status (``"in progress"``) into the tracker's state (``"open"``).
    *First result.*

    ``tracker`` is the chosen tracker's name, so one mapper can serve several trackers. Return
    None for a status this mapper does not know; the next mapper (finally the built-in
    ``default`` one) answers. A ``status_mapping`` in config is consulted before any mapper.
    """


@hookspec(firstresult=True)
def map_priority(priority: str, tracker: str, config: Config) -> str | None:
    """Translate a spec priority (``"high"``) into the tracker's (``"critical"``). *First result.*

    Same rules as :func:`map_status`; ``priority_mapping`` in config wins over every mapper.
    """


# --- tracker --------------------------------------------------------------------------------


@hookspec(firstresult=True)
def open_tracker(config: Config) -> Connection | None:
    """Open a connection to the tracker the user chose. *First result.*

    Return a :class:`~spectryn_core.items.Connection` subclass carrying the HTTP session and
    whatever the other hooks need, with ``target`` naming the repository or project. Validate
    credentials here and raise :class:`~spectryn_core.errors.ConfigError` (exit 2) for a missing
    key. Do not make network requests yet: a dry-run of a bad file must send nothing.
    """


@hookspec(firstresult=True)
def check_tracker(connection: Connection) -> list[str] | None:
    """``spectryn check``: authenticate, check the target exists and is usable, and return
    lines describing it (milestones, components, ...). Raise
    :class:`~spectryn_core.errors.TrackerError` with a hint when something is wrong.
    *First result.*"""


@hookspec(firstresult=True)
def read_items(
    connection: Connection, items: list[Item], gone: list[str], known: dict[str, str]
) -> list[RemoteItem] | None:
    """Return the tracker's current items that belong to this spec, in as few requests as the
    API allows. *First result.*

    ``items`` are the items the spec wants; return at least every remote item whose key is one
    of theirs, every one whose key is a subtask key of one of these stories (``US-001.7``, so a
    removed subtask is reported as an orphan), every one whose provenance names the spec file
    of one of them (:attr:`Item.origin`: a removed story, or an item whose title lost its key,
    is found on a runner with no state), and any other keyed item you fetched anyway (the
    engine ignores what is not this spec's). ``gone`` lists keys an earlier sync of this spec
    created that the spec no longer has, ``known`` (optional; new with provenance) the ids the local
    state records per key: return those items too, also when a person removed the key from
    the title. Each ``RemoteItem.fields`` holds the values :func:`render_item` compares
    against.

    A tracker that keeps the merge base in its items (see ``base=`` of :func:`create_item`)
    returns it as ``RemoteItem.base``, with the base itself left out of ``fields``, and the
    provenance recorded with it as ``RemoteItem.provenance`` (or leaves its ``spec`` / ``key`` /
    ``generation`` entries in ``base``: the engine moves them). Set ``RemoteItem.reporter`` to
    the account that made the item when the tracker says: with ``sync.trusted_accounts`` set,
    only items made by those accounts are trusted. Return every item on its own, also two
    that carry one key (two runs created it at once): the engine picks the one to keep and
    marks the untouched others with :func:`resolve_duplicate`. (Putting the later ones in the
    lowest one's ``RemoteItem.twins``, as plugins written before provenance did, still works.)
    """


@hookspec(firstresult=True)
def render_item(
    connection: Connection, item: Item, refs: dict[str, RemoteItem]
) -> Rendered | None:
    """Return the fields ``item`` should have in the tracker. *First result.*

    ``refs`` maps keys to the remote items known so far (read, or created in this run), so
    content can name related items by their tracker ids (``Parent: #12``). Name only items
    created before this one - its parent story or epic (parents are written first, and the item
    is rendered again just before it is sent) - and list children by key: an id of an item that
    does not exist yet would cost a second write of this one.
    Put only the fields this tracker keeps in ``Rendered.fields``, and problems the user should
    fix (an unknown milestone) in ``Rendered.warnings``. Return ``Rendered(fields={}, skip=True)``
    for an item this tracker does not keep as an item (an epic, when epics are milestones).
    Must not make requests: a dry-run renders every item.
    """


@hookspec(firstresult=True)
def create_item(
    connection: Connection, item: Item, fields: dict[str, Any], base: dict[str, str]
) -> RemoteItem | None:
    """Create ``item`` with the rendered ``fields`` and return it as the tracker now holds it.
    *First result.*

    Creating is not idempotent: after a timeout or server error the request may have been
    applied, so look the item up by key before sending it again, and never create two. Raise
    :class:`~spectryn_core.errors.ItemError` when this item alone failed.

    ``base`` (optional: declare it only if you keep it) is the merge base to store with the
    item: short digests of the values both sides now agree on (field name -> hex text, and
    ``"extras"`` -> tags of the comments/attachments/PR links known to be sent), and the item's
    provenance: ``"spec"`` (the spec file, :attr:`Item.origin`), ``"key"`` and
    ``"generation"`` (a whole number that grows with every write). Keep all of it where the
    item's readers do not see it (Bitbucket: a line of the content that renders as nothing),
    give it back from :func:`read_items` (``RemoteItem.base`` and ``RemoteItem.provenance``),
    and set ``Connection.keeps_base = True``. Keep names you do not know as well: later versions
    add entries. Then a run with no local state (CI, a new laptop) still tells an edit made in
    the tracker from one made in the file, finds the items of a spec by their provenance, and
    never mistakes a hand-made item that carries a key for one of spectryn's. A plugin that does
    not keep it leaves the local state as the only merge base and record of what is spectryn's:
    with no state, every difference is a conflict (never a silent overwrite), and an item
    without the record is never updated unless adopted (``--adopt KEY``).

    When the tracker's answer names the account that made the item, set
    ``Connection.account`` to it the first time: the engine remembers it as the account the
    sync writes as.
    """


@hookspec(firstresult=True)
def update_item(
    connection: Connection, item: Item, remote: RemoteItem, changes: dict[str, Any],
    base: dict[str, str],
) -> RemoteItem | None:
    """Send only ``changes`` (field name -> new value) to the existing ``remote`` item and
    return it as the tracker now holds it. *First result.*

    ``base`` (optional, as in :func:`create_item`) replaces the base the item carries. When the
    base lives inside a field that ``changes`` leaves out (Bitbucket's content), write it into
    the item's current value exactly as the tracker holds it - replace the old base and nothing
    else: no byte of a person's text may change (keep what you need for that in
    ``RemoteItem.native``). ``changes`` is empty when only the base changes (the engine sends
    such an update only when ``Connection.keeps_base``).
    """


@hookspec(firstresult=True)
def resolve_duplicate(
    connection: Connection, item: Item, duplicate: RemoteItem, kept: RemoteItem
) -> bool | None:
    """Mark ``duplicate`` - a twin of ``kept`` that two runs at once created and nobody has
    touched since - as a duplicate of ``kept`` (Bitbucket: a comment naming ``#N``, then state
    ``duplicate``), changing nothing else. *First result.* Optional: without it, twins are
    reported for a person to close. Must be safe to call again after an interruption."""


@hookspec(firstresult=True)
def read_base_text(
    connection: Connection, item: Item, remote: RemoteItem, name: str, digest: str,
    accounts: list[Account],
) -> str | None:
    """The value of field ``name`` of ``remote`` that both sides last agreed on: the one whose
    :func:`~spectryn_core.items.value_digest` starts with ``digest``, from the tracker's own
    history of the item, as :func:`read_items` would give it in ``RemoteItem.fields`` (the base
    itself left out). *First result.* Optional.

    The engine asks only for a text field (the issue's content) changed in the spec and in the
    tracker since they agreed, when neither its local state nor the spec's git history has the
    text, and merges the two edits against it line by line (no answer: the field stays a
    conflict). Take it only from history the tracker keeps and no one can rewrite, written by
    one of ``accounts`` (the accounts the sync writes as, as far as the engine knows: the
    state's, ``Connection.account``, the item's maker, ``sync.trusted_accounts``) - Bitbucket:
    the newest change record by such an account whose new content has that digest. The engine
    checks the digest of what you return. Spend few requests: one per item when you can.
    """


@hookspec(firstresult=True)
def pull_text(
    connection: Connection, item: Item, refs: dict[str, RemoteItem], text: str
) -> tuple[list[SpecEdit], list[str]] | None:
    """``spectryn pull``: map the tracker's ``text`` of ``item`` (its content, as
    :func:`read_items` gives it), changed in the tracker alone since the last sync, back to the
    spec. *First result.* Optional.

    Compare it with what :func:`render_item` makes of the spec and return the
    :class:`~spectryn_core.spec_edits.SpecEdit` objects that bring each edit into the spec
    section it falls in (``paragraph``, ``criterion``, ``new_criterion``), and a note for every
    edit that does not fall inside one section or is of another kind: those are reported, never
    guessed. Return None for an item whose text you cannot map (a subtask's description).
    """


@hookspec(firstresult=True)
def read_touches(
    connection: Connection, item: Item, remote: RemoteItem, accounts: list[Account]
) -> list[str] | None:
    """What people did to ``remote`` - a twin of ``item``'s issue whose fields still match its
    merge base - that the sync did not: one short description each (``"a comment by Pat"``,
    ``"state changed by Pat"``), or ``[]`` when nothing. *First result.* Optional.

    ``accounts`` are the accounts the sync writes as (the one that made ``remote`` among them).
    A comment is the sync's only when one of them wrote it and its text is one the sync posts
    (a spec comment of ``item``); a change only when one of them made it. The engine marks a
    twin duplicate only when this returns ``[]``; without this hook, when its fields match its
    base. Called in dry-runs too (reads only), and only for twins (rare).
    """


@hookspec(firstresult=True)
def read_extras(connection: Connection, item: Item, remote: RemoteItem) -> set[str] | None:
    """Return the idents (:attr:`spectryn_core.items.Extra.ident`) of the comments, attachments
    and pull-request links of ``item`` that ``remote`` already has. *First result.*

    Called only when the sync state does not know (first run on this machine, lost state), so
    re-discovery never duplicates a comment.
    """


@hookspec(firstresult=True)
def add_comment(connection: Connection, item: Item, remote: RemoteItem, comment: Comment) -> bool | None:
    """Add ``comment`` to ``remote``. Return True once done. *First result.*"""


@hookspec(firstresult=True)
def edit_comment(
    connection: Connection, item: Item, remote: RemoteItem, comment: Comment, previous: str,
    accounts: list[Account], earlier: list[str],
) -> bool | None:
    """Replace, on ``remote``, the text of the comment that the spec comment ``comment`` was
    posted as with an earlier text, by ``comment``'s. *First result.* Optional: without it an
    edited spec comment is added as a new comment.

    The comment to edit is one that one of ``accounts`` wrote (the accounts the sync writes as,
    and the issue's reporter; never a comment someone else wrote) and whose text is the spec
    comment whose :func:`~spectryn_core.items.comment_digest` starts with ``previous``. Return
    True once edited; False when ``remote`` has no such comment (deleted since: the engine then
    adds ``comment`` with :func:`add_comment`). Never delete a comment.

    ``previous`` is ``""`` and ``earlier`` lists tags when the item's base was written by a
    version that tagged comments by a hash of their text (:func:`spectryn_core.items.extra_tag`
    of ``Extra("comment", "comment:<d>", d)``, ``d`` =
    :func:`~spectryn_core.items.legacy_comment_digest`, bound to the item's id or not): the
    comment to edit is then one of ``accounts`` with ``comment``'s author and date whose text
    has one of those tags.
    """


@hookspec(firstresult=True)
def upload_attachment(
    connection: Connection, item: Item, remote: RemoteItem, attachment: Attachment
) -> bool | None:
    """Upload (or replace, same name) ``attachment`` on ``remote``; never delete attachments.
    Return True once done. *First result.*"""


@hookspec(firstresult=True)
def link_pull_request(connection: Connection, item: Item, remote: RemoteItem, number: int) -> bool | None:
    """Cross-reference pull request ``number`` with ``remote`` (check it exists, comment on it
    once). Return True once done; False when the pull request does not exist: the engine
    records it as checked and missing (:data:`~spectryn_core.items.MISSING` in the item's base),
    sends nothing for it in later runs, and calls this again when the item is written anyway or
    the user asks (``--recheck-pull-requests``) - warn about it in :func:`render_item` (read
    the base with :func:`spectryn_core.provenance.extras_in_base`). *First result.*"""


# --- review ---------------------------------------------------------------------------------


@hookspec(firstresult=True)
def publish_review(config: Config, review: Review) -> Published | None:
    """Put ``review`` where a pull request's reviewers see it (``spectryn review``). *First
    result.* Optional: without it the review is printed only.

    ``review`` (:class:`spectryn_core.review.Review`) holds the result (``PASSED``/``FAILED``),
    counts, and one :class:`~spectryn_core.review.Finding` per spec error or warning and per item
    the merge would create, update, leave in conflict or leave orphaned, each at a
    repository-relative ``path`` and ``line``, most important first; ``review.commit`` is the
    commit asked for (None: take your CI's, e.g. Bitbucket's ``BITBUCKET_COMMIT``). Send it as one
    report, replacing the one an earlier run left (never piling up), within your tracker's limits:
    say in it what was left out. The plan may not have been computed (``plan_computed`` False,
    ``note`` says why): publish the validation anyway. You get ``config``, not a connection: the
    report may go another way than the reads (Bitbucket: through the Pipelines auth proxy, with
    no credential). Return a :class:`~spectryn_core.review.Published` (where, how, annotations
    sent and left out, requests), with only a ``note`` when there is nowhere to put it (no
    commit); raise :class:`~spectryn_core.errors.TrackerError` when sending fails.
    """
