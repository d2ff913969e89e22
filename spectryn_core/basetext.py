"""Where the base text of a three-way merge comes from, without relying on a local state.

An item carries only digests of what both sides last agreed on (:mod:`spectryn_core.provenance`).
To merge a text changed on both sides, the plan needs the agreed text itself: the spec's
rendering of the field when they agreed. It is looked for only for items whose text is in
conflict (or whose spec text changed while the tracker holds a merged text) - a run with nothing
to merge asks nothing - in three places, cheapest first:

1. ``state``: the local state keeps the spec's text of each multi-line field at every
   agreement (0 requests; a laptop, or a CI cache of the state folder);
2. ``git``: the base records the commit the spec was read at (when the file was committed as
   read); the spec at that commit is parsed and the item rendered again (0 requests; a shallow
   clone may lack the commit - Bitbucket Pipelines clones 50 commits deep unless the step says
   ``clone: depth: full`` - and then this source has nothing);
3. ``tracker``: the tracker plugin's :func:`~spectryn_core.hookspecs.read_base_text` (Bitbucket:
   the issue's change records - one request for most issues - keeping only a record the sync's
   own account wrote).

Whatever a source answers must have the digest the base records, or it is not the base text (a
base line is text anyone who can edit the issue can change; the digest check makes a wrong
commit, a stale cache or a forged record find nothing, never a wrong merge). When no source has
it, the field stays a conflict, as before merges.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from spectryn_core.items import Account, Connection, Item, RemoteItem, value_digest
from spectryn_core.provenance import COMMIT, base_of, record_of

log = logging.getLogger("spectryn.basetext")

Source = Literal["state", "git", "tracker"]
SOURCES: tuple[Source, ...] = ("state", "git", "tracker")
#: ``render_at(commit, origin, item)``: the item's rendered fields as the spec file ``origin``
#: was at ``commit`` (None when the clone does not hold it, or the item was not in it).
RenderAt = Callable[[str, str, Item], "dict[str, Any] | None"]


@dataclass
class Tally:
    """What one source did in a run: base texts asked for, found, and requests sent."""

    asked: int = 0
    found: int = 0
    requests: int = 0


@dataclass
class BaseTexts:
    """The base-text sources of one run (any may be absent), and what each one cost."""

    state: Any = None
    render_at: RenderAt | None = None
    hooks: Any = None
    connection: Connection | None = None
    accounts: list[Account] = field(default_factory=list)
    tally: dict[str, Tally] = field(default_factory=lambda: {s: Tally() for s in SOURCES})

    def find(self, item: Item, remote: RemoteItem, name: str, digest: str) -> tuple[str, Source] | None:
        """The text of field ``name`` whose digest is ``digest`` (the spec's side of the base),
        and where it was found; None when no source has it."""
        for source in SOURCES:
            text = self._ask(source, item, remote, name, digest)
            if text is not None:
                return text, source
        return None

    def _ask(self, source: Source, item: Item, remote: RemoteItem, name: str, digest: str) -> str | None:
        tally = self.tally[source]
        text: Any = None
        if source == "state":
            if self.state is None:
                return None
            tally.asked += 1
            text = self.state.text(digest)
        elif source == "git":
            commit = (base_of(remote) or {}).get(COMMIT)
            if self.render_at is None or not commit:
                return None
            tally.asked += 1
            record = record_of(remote)
            fields = self.render_at(commit, record.spec if record is not None else item.origin, item)
            text = fields.get(name) if fields is not None else None
        else:
            if self.hooks is None or self.connection is None or not self.hooks.read_base_text.get_hookimpls():
                return None
            tally.asked += 1
            before = sum(self.connection.request_count().values())
            accounts = list(self.accounts)
            if remote.reporter is not None:  # an item of ours was made by the sync's account
                accounts.append(remote.reporter)
            text = self.hooks.read_base_text(connection=self.connection, item=item, remote=remote,
                                             name=name, digest=digest, accounts=accounts)
            tally.requests += sum(self.connection.request_count().values()) - before
        if not isinstance(text, str) or value_digest(text)[: len(digest)] != digest:
            if text is not None:
                log.info("%s: a base text of %s from %s does not have the base's digest", item.key,
                         name, source)
            return None
        tally.found += 1
        log.info("%s: base text of %s from %s", item.key, name, source)
        return text
