"""What the sync engine exchanges with a tracker plugin.

The engine flattens a :class:`~spectryn_core.model.Spec` into :class:`Item` objects (one per epic,
story and subtask), asks the tracker for its current :class:`RemoteItem` objects, and compares the
:class:`Rendered` fields of each item with the remote ones, field by field.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from spectryn_core.model import Attachment, Comment, Epic, Spec, Story, Subtask

ItemKind = Literal["epic", "story", "subtask"]


@dataclass
class Item:
    """One thing of the spec that becomes one tracker item.

    ``state`` and ``priority`` are already mapped to the tracker's vocabulary by the mapper
    hooks (None when the spec says nothing). ``source`` is the model object the item came from;
    a tracker renders its content from it. ``children`` are the keys of the items that name this
    one as ``parent`` (the subtasks of a story, the stories of an epic).
    """

    kind: ItemKind
    key: str
    title: str
    source: Epic | Story | Subtask
    spec: Spec
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    state: str | None = None
    priority: str | None = None
    #: The tracker's own repositories (``workspace/repo``, lowercase; see
    #: :attr:`Connection.repositories`): a pull-request URL naming another one is not linked.
    repositories: frozenset[str] = frozenset()

    def pull_requests(self) -> list[int]:
        """The numbers of the tracker's own pull requests the story mentions: ``PR #12``, and
        URLs of one of :attr:`repositories` (a URL of another repository stays a plain link)."""
        source = self.source
        if not isinstance(source, Story):
            return []
        numbers = {ref.number for ref in source.pull_requests
                   if ref.repository is None or ref.repository.lower() in self.repositories}
        return sorted(numbers)
    #: The spec file this item comes from, as its provenance records it: the path relative to
    #: the repository holding it, with ``/`` separators (``docs/specs/checkout.md``); see
    #: :func:`spectryn_core.provenance.spec_origin`. Readable on purpose: a tracker may show it.
    origin: str = ""

    def extras(self) -> list[Extra]:
        """The add-once things attached to this item: comments, attachments, pull requests."""
        source = self.source
        if not isinstance(source, Story):
            return []
        extras = [Extra.for_comment(c, position)
                  for c, position in zip(source.comments, comment_positions(source.comments), strict=True)]
        extras += [Extra.for_attachment(a) for a in source.attachments]
        extras += [Extra.for_pull_request(n) for n in self.pull_requests()]
        return extras


@dataclass(frozen=True)
class Extra:
    """Something added to a tracker item once and never removed: a comment, an attachment or a
    pull-request link.

    ``ident`` is stable within the item (``comment:@alice/2025-01-15`` or ``comment:#2`` - a
    comment's position, see :func:`comment_positions`; ``attachment:<name>``, ``pr:456``);
    ``digest`` is a content hash, and a changed digest means "send again": an attachment is
    uploaded again, a comment whose text changed is edited in place (``previous``: the digest
    it was sent with), a pull request recorded as missing (:data:`MISSING`) is checked again.
    """

    kind: Literal["comment", "attachment", "pull_request"]
    ident: str
    digest: str
    payload: Comment | Attachment | int
    #: For a comment sent before with another text: the digest (or a prefix of it) it was sent
    #: with - the engine edits that comment instead of adding one. For a pull request recorded
    #: as missing: :data:`MISSING` (checked again in this run).
    previous: str = ""
    #: How an earlier version identified this comment (``comment:<digest of its text>``), with
    #: the digest it recorded: a base or state of that version still confirms it.
    legacy: tuple[str, str] = ("", "")
    #: For a comment whose position an earlier version's base does not record (it tagged
    #: comments by a hash of their text): that base's tags no extra of the item accounts for -
    #: the comment's earlier text may be one of them (see the ``edit_comment`` hook).
    earlier: tuple[str, ...] = ()

    @classmethod
    def for_comment(cls, comment: Comment, position: str = "") -> Extra:
        """The extra of a spec comment at ``position`` (:func:`comment_positions`)."""
        old = legacy_comment_digest(comment)
        return cls("comment", f"comment:{position or old}", comment_digest(comment), comment,
                   legacy=(f"comment:{old}", old))

    @classmethod
    def for_attachment(cls, attachment: Attachment) -> Extra:
        return cls("attachment", f"attachment:{attachment.name}", file_digest(attachment.path),
                   attachment)

    @classmethod
    def for_pull_request(cls, number: int) -> Extra:
        return cls("pull_request", f"pr:{number}", str(number), number)


#: The digest a pull-request link is recorded with when the pull request did not exist when it
#: was checked: not linked, warned about, checked again when the item is written.
MISSING = "missing"


def comment_positions(comments: list[Comment]) -> list[str]:
    """Each spec comment's position key - its identity, which survives an edit of its text:
    ``@author/date`` when the spec gives both (``/2``, ``/3`` after it for a repeat), else its
    ordinal among the story's comments that do not (``#1``, ``#2``)."""
    seen: dict[str, int] = {}
    ordinal = 0
    positions: list[str] = []
    for comment in comments:
        if comment.author and comment.date:
            key = f"@{comment.author.lstrip('@')}/{comment.date}"
            seen[key] = seen.get(key, 0) + 1
            positions.append(key if seen[key] == 1 else f"{key}/{seen[key]}")
        else:
            ordinal += 1
            positions.append(f"#{ordinal}")
    return positions


def comment_text(body: str) -> str:
    """A comment body as compared: LF line ends, no trailing spaces, no blank lines at its ends
    (what a tracker keeps of it)."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def comment_digest(comment: Comment) -> str:
    """A short sha256 of a comment's author, date and body (as :func:`comment_text` compares
    it). A tracker plugin computes it again from a posted comment to find the one to edit."""
    text = f"{(comment.author or '').lstrip('@')}\n{comment.date or ''}\n{comment_text(comment.body)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def legacy_comment_digest(comment: Comment) -> str:
    """The digest versions before comment positions identified a comment by."""
    text = f"{comment.author or ''}\n{comment.date or ''}\n{comment.body}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Account:
    """A tracker account: ``id`` is its stable identifier (Bitbucket: the ``{uuid}``), ``name``
    a readable label (Bitbucket: the nickname), ``aliases`` other *stable* identifiers a config
    may name it by (Bitbucket: the Atlassian account id). A name its owner can choose or change
    (a nickname, a display name) is never an alias: anyone could pick a trusted person's."""

    id: str
    name: str = ""
    aliases: tuple[str, ...] = ()

    def matches(self, ref: str) -> bool:
        """True when ``ref`` (a config entry) names this account by a stable identifier."""
        ref = ref.strip()
        return bool(ref) and (ref == self.id or ref in self.aliases)

    def __str__(self) -> str:
        """``{uuid} ("alice")``: the identifier first; the name only as a label, quoted."""
        return f'{self.id} ("{self.name}")' if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class Provenance:
    """Where a tracker item came from, as spectryn recorded it in the item: the spec file
    (:attr:`Item.origin`), the item's key, and the generation of the merge base it carries (1
    for the base written with the item, one more with each write spectryn makes; it never
    goes down, so of two bases of one item the higher generation is the newer)."""

    spec: str
    key: str
    generation: int


@dataclass
class RemoteItem:
    """A tracker item as the tracker holds it now.

    ``key`` is the spec key found in the item's title (``US-001: Login``; ``""`` when the title
    carries none), ``id`` the tracker's own identifier (an issue number), ``fields`` the
    tracker's current values of the fields that :func:`render_item` produces, with the same names
    and value types.
    """

    key: str
    id: str
    url: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    #: The merge base the item carries (field name -> :func:`base_digest` of the value last
    #: agreed, plus ``"extras"``: the :func:`extra_tag` of each confirmed extra, ``.``-joined);
    #: None when the item carries none (made by an older version, a tracker plugin that does not
    #: keep one, or the line was deleted by hand).
    base: dict[str, str] | None = None
    #: Later items that carry the same key (two runs created it at once), lowest id first. A
    #: plugin may also return every item on its own and leave grouping to the engine.
    twins: list[RemoteItem] = field(default_factory=list)
    #: What spectryn recorded in the item about where it came from; None when the item carries
    #: no provenance (made by hand, by someone else, or by a version before provenance).
    provenance: Provenance | None = None
    #: The account that made the item, when the tracker says (Bitbucket: the ``reporter``).
    reporter: Account | None = None
    #: Whatever the tracker plugin wants back with this item in ``update_item`` (Bitbucket: the
    #: issue's raw content, so re-embedding the base changes no byte of a person's text).
    #: Opaque to the engine.
    native: Any = None


@dataclass
class Rendered:
    """The tracker fields an item should have (``{"title": ..., "content": ..., "state": ...}``)
    and warnings to show in the plan (e.g. a milestone that does not exist yet). ``skip`` means
    the tracker does not keep this item at all (an epic when epics are milestones)."""

    fields: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    skip: bool = False


@dataclass(frozen=True)
class Quota:
    """A tracker's request budget as its plugin counts it (:meth:`Connection.quota`).

    ``limit`` requests per rolling ``window`` seconds (``limit`` 0: the plugin does not count);
    ``remaining`` may be sent now; ``next_slot_in`` seconds until the next one may go when none
    remain (or a pause after the server refused requests); ``waited`` seconds this run has spent
    waiting for the quota so far; ``frees_in`` seconds until each used slot frees, soonest first.
    """

    limit: int
    window: float
    remaining: int
    next_slot_in: float
    waited: float = 0.0
    frees_in: tuple[float, ...] = ()

    def seconds_until(self, requests: int) -> float:
        """How long until ``requests`` more requests can have been sent (0 if they fit now).

        Counts only the slots of the current window; a run longer than a whole window is
        estimated at ``limit`` requests per ``window``.
        """
        if requests <= 0 or self.limit <= 0:
            return self.next_slot_in if requests > 0 else 0.0
        if requests <= self.remaining:
            return self.next_slot_in if self.remaining == 0 else 0.0
        used = len(self.frees_in)
        index = requests - self.remaining - 1 + max(0, used - self.limit)
        if index < used:
            wait = self.frees_in[index]
        else:  # beyond this window: limit requests per window from then on
            rounds = (index - used) // self.limit + 1
            wait = (self.frees_in[-1] if self.frees_in else 0.0) + rounds * self.window
        return max(wait, self.next_slot_in)


class Connection:
    """Base class for what ``open_tracker`` returns: one open connection to one target.

    ``target`` names what is synced to (``"bitbucket.org/acme/backend-api"``); state files and the
    run lock are kept per (tracker, target, spec file). A tracker plugin subclasses this and keeps
    its HTTP session and caches on it; the engine passes it back to every tracker hook.
    """

    tracker: str = ""
    target: str = ""
    #: The repositories whose pull requests this connection links (``workspace/repo``,
    #: lowercase): a pull-request URL in the spec naming one of them is a pull request of its
    #: own; any other stays a plain link. Empty: only ``PR #12`` forms are its own.
    repositories: frozenset[str] = frozenset()
    #: The account this connection writes as, once the plugin knows it (Bitbucket learns it from
    #: the answer to a create, as ``/user`` refuses access tokens); None while unknown.
    account: Account | None = None
    #: True when the tracker stores the merge base in the item itself (``base=`` of
    #: ``create_item`` / ``update_item``, read back as ``RemoteItem.base``); the engine may then
    #: send an update whose only change is the base (to confirm extras sent after the last write).
    keeps_base: bool = False

    def close(self) -> None:
        """Release network resources. Called once at the end of a run."""

    def user_name(self, ref: str | None) -> str | None:
        """The name a spec uses for the tracker's user ``ref`` (an assignee), or None when
        unknown; ``spectryn pull`` writes it back. Trackers without users need not override."""
        return None

    def request_count(self) -> dict[str, int]:
        """Requests made so far, by kind (``{"read": n, "write": m}``); shown with --verbose."""
        return {}

    def quota(self) -> Quota | None:
        """The tracker's request budget now (for progress and ETA), or None when the plugin
        does not count one. Cheap: no request is sent."""
        return None

    def requests_for(self, write: str) -> int:
        """How many requests one write of this kind makes when nothing fails: ``create``,
        ``update``, ``comment``, ``attachment`` (an item's first), ``more_attachments`` (each
        further one of the same item: 0 for a tracker that uploads them together),
        ``pull_request``, ``duplicate``. The time left is estimated against the tracker's quota
        with it; the default is one each."""
        return 1

    def writes_for(self, write: str) -> int:
        """How many of :meth:`requests_for` are writes (reads such as a pull request's existence
        check left out): progress counts writes, as the tracker sees them. Default: all."""
        return self.requests_for(write)


def file_digest(path: Path) -> str:
    """A short sha256 of a regular file, read in chunks (memory stays flat for any size).

    ``"missing"`` when it cannot be opened; ``"unreadable"`` when it is not a regular file or
    yields another number of bytes than its size says (``/proc/self/environ`` says 0).
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just after.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(descriptor, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                return "unreadable"
            digest = hashlib.file_digest(handle, "sha256").hexdigest()[:16]
            if handle.tell() != info.st_size:
                return "unreadable"
    except OSError:
        return "missing"
    return digest


def value_digest(value: Any) -> str:
    """A short stable hash of a field value, as stored in the sync state."""
    return hashlib.sha256(repr(value).encode()).hexdigest()[:16]


#: Hex digits of a field digest in a tracker-carried base: 32 bits tell "this value or another"
#: (a chance collision, 1 in 4 billion per compared field, could only hide one edit).
BASE_DIGITS = 8


def base_digest(value: Any) -> str:
    """The digest of a field value as carried in a tracker item's merge base."""
    return value_digest(value)[:BASE_DIGITS]


def extra_tag(extra: Extra, item_id: str = "") -> str:
    """A short tag of one extra (its ident and digest) for the tracker-carried base.

    With ``item_id`` (the tracker item it was sent to) the tag holds only for that item: a base
    line copied into another issue confirms nothing there. Earlier versions wrote tags without
    it; they are still read in items that carry no provenance (see
    :func:`spectryn_core.provenance.extras_in_base`)."""
    bound = f"{item_id}/" if item_id else ""
    return hashlib.sha256(f"{bound}{extra.ident}={extra.digest}".encode()).hexdigest()[:6]


#: Hex digits of a comment's tag (:func:`comment_tag`): its position tag, then its digest.
COMMENT_TAG_DIGITS = 6 + BASE_DIGITS


def position_tag(ident: str, item_id: str) -> str:
    """The first part of a comment's tag: its position (ident), bound to the tracker item."""
    return hashlib.sha256(f"{item_id}/{ident}".encode()).hexdigest()[:6]


def comment_tag(extra: Extra, item_id: str, digest: str | None = None) -> str:
    """A comment's tag in the tracker-carried base: :func:`position_tag` and the first
    :data:`BASE_DIGITS` of the digest it was sent with - so a later run (on any machine) knows
    which text to look for when the spec edits it, and a position the spec no longer has is
    a comment removed from the spec."""
    return position_tag(extra.ident, item_id) + (digest or extra.digest)[:BASE_DIGITS]
