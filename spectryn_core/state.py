"""The sync state: a local cache of what was last sent to, and seen in, the tracker - and the run lock.

One SQLite file per (tracker, target, spec file) in the platformdirs state folder. Every write to
the tracker is committed here right after it succeeds, so a run killed at any moment (Ctrl-C,
``kill -9``, network loss) resumes without sending anything twice. SQLite gives the atomicity; WAL
with ``synchronous=NORMAL`` survives a killed process (not a power cut, which only costs a
re-discovery: identity never depends on this file, items are found again by key, and a tracker
that keeps the merge base in its items - Bitbucket does - gives the base back too).

Only digests of field values are stored - never secrets - plus issue ids and URLs, the
identifiers of the accounts the sync was seen writing as, and the spec's text of each item's
multi-line fields as last agreed (the issue text rendered from the spec, which the repository
holds anyway; plain text, so a scan of the file sees what it holds; one copy per text): the
base of a three-way merge (see basetext.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from spectryn_core.errors import TrackerError
from spectryn_core.items import Account, value_digest

with warnings.catch_warnings():  # where only a lock file's existence can lock, say nothing
    warnings.simplefilter("ignore")
    import filelock

SCHEMA_VERSION = 2
#: Prefix of an extra's digest while it is being sent (see ``apply``).
PENDING = "pending:"


@dataclass
class ItemState:
    """What the last sync knew of one item: its tracker id, per field the digest of the value it
    sent and the digest of the value the tracker answered with, and the generation of the merge
    base that write gave the item (0: recorded by a version before generations)."""

    key: str
    remote_id: str
    url: str = ""
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)
    generation: int = 0


def _slug(text: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)[:60]
    return f"{safe}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


def state_file(state_dir: Path, tracker: str, target: str, spec_path: Path) -> Path:
    """Where the state of syncing ``spec_path`` to ``target`` lives."""
    spec_id = _slug(str(spec_path.resolve()))
    return state_dir / tracker / _slug(target) / f"{spec_id}.sqlite"


class SyncState:
    """The state store of one (tracker, target, spec file). Use from one thread only."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        """Open the state at ``path``. ``readonly`` (a dry-run): never create, change or move
        the file; a missing or unreadable one reads as empty."""
        self.path = path
        self.warnings: list[str] = []
        if readonly:
            self._db = self._open_readonly(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = self._open(path)
        except sqlite3.DatabaseError as error:
            aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
            for suffix in ("", "-wal", "-shm"):
                src = Path(f"{path}{suffix}")
                if src.exists():
                    os.replace(src, Path(f"{aside}{suffix}"))
            self.warnings.append(
                f"the sync state {path} was unreadable ({error}); moved it to {aside.name} and "
                "re-discovering items by key (nothing will be duplicated)"
            )
            self._db = self._open(path)

    def _open_readonly(self, path: Path) -> sqlite3.Connection:
        if path.exists() and path.stat().st_size:
            try:
                db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                db.execute("SELECT count(*) FROM items").fetchone()
                db.execute("SELECT count(*) FROM extras").fetchone()
                return db
            except sqlite3.DatabaseError as error:
                self.warnings.append(
                    f"the sync state {path} is unreadable ({error}); planning as if it were "
                    "absent (--execute moves it aside and re-discovers items by key)"
                )
        return self._open(Path(":memory:"))

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, remote_id TEXT NOT NULL,"
                " url TEXT NOT NULL DEFAULT '', fields TEXT NOT NULL DEFAULT '{}')"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS extras (key TEXT NOT NULL, ident TEXT NOT NULL,"
                " digest TEXT NOT NULL, PRIMARY KEY (key, ident))"
            )
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS accounts (id TEXT PRIMARY KEY, name TEXT NOT NULL"
                " DEFAULT '', aliases TEXT NOT NULL DEFAULT '')"
            )
            db.execute("CREATE TABLE IF NOT EXISTS texts (digest TEXT PRIMARY KEY, text TEXT NOT NULL)")
            columns = {row[1] for row in db.execute("PRAGMA table_info(items)")}
            if "generation" not in columns:  # a state file of schema 1
                db.execute("ALTER TABLE items ADD COLUMN generation INTEGER NOT NULL DEFAULT 0")
                db.execute("UPDATE meta SET value = ? WHERE name = 'schema'", (str(SCHEMA_VERSION),))
            db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
            db.execute("SELECT count(*) FROM items").fetchone()
        except sqlite3.DatabaseError:
            db.close()
            raise
        if os.name == "posix" and str(path) != ":memory:":
            os.chmod(path, 0o600)
        return db

    def close(self) -> None:
        self._db.close()

    # --- items ------------------------------------------------------------------------------

    def items(self) -> dict[str, ItemState]:
        """Every item this spec has synced, by key."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
        generation = "generation" if "generation" in columns else "0"  # a read-only schema 1 file
        rows = self._db.execute(
            f"SELECT key, remote_id, url, fields, {generation} FROM items"  # noqa: S608 - a column name
        ).fetchall()
        return {
            key: ItemState(key, rid, url, {f: tuple(v) for f, v in json.loads(fields).items()},
                           int(gen or 0))
            for key, rid, url, fields, gen in rows
        }

    def record_item(
        self, key: str, remote_id: str, url: str, fields: dict[str, tuple[str, str]],
        generation: int | None = None,
    ) -> None:
        """Merge ``fields`` (name -> (sent digest, seen digest)) into the item's state and, when
        given, set the generation of the base the item now carries; commit. A new issue id for
        the key starts the fields afresh (they described the old issue)."""
        row = self._db.execute("SELECT fields, remote_id, generation FROM items WHERE key = ?",
                               (key,)).fetchone()
        same = row is not None and row[1] == remote_id
        merged = json.loads(row[0]) if same else {}
        merged.update({name: list(pair) for name, pair in fields.items()})
        if generation is None:
            generation = int(row[2] or 0) if same else 0
        self._db.execute(
            "INSERT INTO items (key, remote_id, url, fields, generation) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET remote_id = excluded.remote_id,"
            " url = excluded.url, fields = excluded.fields, generation = excluded.generation",
            (key, remote_id, url, json.dumps(merged, sort_keys=True), generation),
        )

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self) -> list[Account]:
        """The accounts syncs of this spec were seen writing as (learned from creates)."""
        try:
            rows = self._db.execute("SELECT id, name, aliases FROM accounts ORDER BY id").fetchall()
        except sqlite3.OperationalError:  # a schema 1 file opened read-only (a dry-run)
            return []
        return [Account(rid, name, tuple(a for a in aliases.split("\n") if a))
                for rid, name, aliases in rows]

    def record_account(self, account: Account) -> None:
        """Remember that a sync of this spec writes as ``account`` (an identifier, no secret)."""
        self._db.execute(
            "INSERT INTO accounts (id, name, aliases) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE"
            " SET name = excluded.name, aliases = excluded.aliases",
            (account.id, account.name, "\n".join(account.aliases)),
        )

    # --- texts ------------------------------------------------------------------------------

    def text(self, digest: str) -> str | None:
        """The text whose :func:`~spectryn_core.items.value_digest` starts with ``digest`` (at
        least 8 hex digits), if this state kept it."""
        if len(digest) < 8 or not all(ch in "0123456789abcdef" for ch in digest):
            return None
        try:
            rows = self._db.execute("SELECT digest, text FROM texts WHERE digest >= ? AND digest < ?",
                                    (digest, digest + "g")).fetchall()
        except sqlite3.OperationalError:  # a file of an earlier version opened read-only
            return None
        for _, blob in rows:
            text = str(blob)
            if value_digest(text).startswith(digest):
                return text
        return None

    def record_text(self, text: str) -> None:
        """Keep ``text`` (a field's value as the spec rendered it when both sides agreed)."""
        self._db.execute("INSERT OR IGNORE INTO texts (digest, text) VALUES (?, ?)",
                         (value_digest(text), text))

    def prune_texts(self) -> None:
        """Forget the texts no item's state refers to any more."""
        wanted: set[str] = set()
        for (fields,) in self._db.execute("SELECT fields FROM items"):
            wanted.update(pair[0] for pair in json.loads(fields).values())
        stale = [d for (d,) in self._db.execute("SELECT digest FROM texts") if d not in wanted]
        self._db.executemany("DELETE FROM texts WHERE digest = ?", [(d,) for d in stale])

    # --- extras -----------------------------------------------------------------------------

    def extras(self) -> dict[str, dict[str, str]]:
        """Item key -> {extra ident -> digest sent}."""
        found: dict[str, dict[str, str]] = {}
        for key, ident, digest in self._db.execute("SELECT key, ident, digest FROM extras"):
            found.setdefault(key, {})[ident] = digest
        return found

    def forget_extras(self, key: str) -> None:
        """Forget what was sent to the item ``key`` (it is a new issue now)."""
        self._db.execute("DELETE FROM extras WHERE key = ?", (key,))

    def record_extra(self, key: str, ident: str, digest: str) -> None:
        self._db.execute(
            "INSERT INTO extras (key, ident, digest) VALUES (?, ?, ?)"
            " ON CONFLICT(key, ident) DO UPDATE SET digest = excluded.digest",
            (key, ident, digest),
        )


class RunLock:
    """An exclusive lock per (tracker, target): two runs cannot write to one target at once.

    The second run refuses at once with a message naming the holder's pid, instead of
    interleaving writes. It is a :mod:`filelock` lock (``flock`` on POSIX, ``msvcrt`` on Windows:
    released by the OS if the holder dies, ``kill -9`` included; a lock file's existence where
    neither is available). The holder's pid is kept beside it in ``<lock>.pid``.
    """

    def __init__(self, state_dir: Path, tracker: str, target: str) -> None:
        self.path = state_dir / tracker / f"{_slug(target)}.lock"
        self.pid_path = self.path.with_name(self.path.name + ".pid")
        self.target = target
        self._lock: filelock.BaseFileLock | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(self.path), timeout=0, mode=0o600)
        try:
            lock.acquire()
        except filelock.Timeout:
            holder = self._holder()
            raise TrackerError(
                f"another spectryn run (pid {holder}) is syncing {self.target}",
                "wait for it to finish and run again; runs on one target never interleave",
            ) from None
        self.pid_path.write_text(str(os.getpid()), encoding="utf-8")
        self._lock = lock
        return self

    def _holder(self) -> str:
        try:
            return self.pid_path.read_text(encoding="utf-8").strip() or "unknown"
        except OSError:
            return "unknown"

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            self.pid_path.unlink(missing_ok=True)
            self._lock.release()
            self._lock = None
