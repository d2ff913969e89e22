"""Editing a spec file in place: issue links written back after a sync, tracker values pulled in.

The core decides *what* a spec should now say, as one :class:`SpecEdit` per cell; the parser
plugin that reads the file knows *where* that cell is and how to change it without touching any
other byte (the ``edit_spec`` hook); this module reads the file, writes the result atomically and
shows the change as a unified diff.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from spectryn_core.errors import FileWriteError, UsageError

EditField = Literal["issue", "title", "status", "priority", "assignee", "paragraph", "criterion",
                    "new_criterion"]
_BOM = "\ufeff"


@dataclass(frozen=True)
class SpecEdit:
    """Set ``field`` of the epic, story or subtask ``key`` to ``value``.

    ``value`` is in the spec's vocabulary (a status ``"done"``, a priority ``"high"``, a title, an
    assignee name without ``@``). For ``field="issue"`` it is the issue's short reference
    (``"#12"``) and ``link`` its web address: the spec then carries ``[#12](link)``.

    Text pulled from the tracker (``spectryn pull``): ``paragraph`` adds the markdown ``value``
    to the story's section whose heading is on ``line`` (the story's own line: the text under
    the story heading), after its line reading ``after`` (its heading when ``after`` is empty or
    a heading); ``criterion`` ticks (``value="done"``) or unticks (``"open"``) the acceptance
    criterion whose text is ``after``; ``new_criterion`` adds the criterion ``value``
    (``"[ ] text"`` / ``"[x] text"``) after the criterion whose text is ``after`` (first when
    empty).
    """

    key: str
    field: EditField
    value: str
    link: str = ""
    after: str = ""
    line: int = 0


@dataclass
class EditedSpec:
    """What ``edit_spec`` returns: the whole new text, notes on edits it could not make
    (``"US-003.1: a subtask written as a list item gets no issue link"``) and those edits."""

    text: str
    notes: list[str] = field(default_factory=list)
    #: The edits not made (no such cell, or a value that cannot be written faithfully).
    skipped: list[SpecEdit] = field(default_factory=list)


@dataclass
class FileEdit:
    """One spec file before and after its edits."""

    path: Path
    before: str
    after: str
    notes: list[str] = field(default_factory=list)
    written: bool = False
    #: The edits the parser plugin did not make (see :attr:`EditedSpec.skipped`).
    skipped: list[SpecEdit] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the file (empty when nothing changes)."""
        return unified_diff(self.path, self.before, self.after)


def read_text(path: Path) -> tuple[str, bool]:
    """The file's text exactly as stored (line endings kept) without a UTF-8 BOM, and whether it
    had one. Only a regular file is read (:func:`spectryn_core.spec_files.read_spec`)."""
    from spectryn_core.spec_files import UnreadableSpec, read_spec

    try:
        text = read_spec(path).decode("utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnreadableSpec as error:
        raise UsageError(f"{path}: {error}") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not valid UTF-8 at byte {error.start}; save the file as UTF-8") from None
    if text.startswith(_BOM):
        return text[1:], True
    return text, False


#: The temporary files of :func:`write_atomically`: ``.EPIC.md.spectryn-<pid>-<random>.tmp``.
_TEMP = re.compile(r"\.(?P<name>.+)\.spectryn-(?P<pid>\d+)-[a-z0-9_]+\.tmp")
#: Those of earlier versions: ``.EPIC.md.<8 random characters>.tmp`` (tempfile.mkstemp's names).
_OLD_TEMP = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")
#: A temporary file this old is left over whatever its name says (the process that made it is
#: gone, or its number was reused): writing one takes milliseconds.
STALE_AFTER = 60.0


def write_atomically(path: Path, text: str, *, bom: bool = False) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file beside it, fsync, rename), so
    a reader or a crash sees the old file or the new one, never half of it. Keeps the mode.

    A symlinked spec is written through: its target is replaced, the link stays a link. Any
    failure (a read-only folder, a full disk) removes the temporary file and raises
    :class:`~spectryn_core.errors.FileWriteError`; the file is left as it was."""
    target = Path(os.path.realpath(path))
    data = ((_BOM if bom else "") + text).encode("utf-8")
    temp = ""
    try:
        mode = target.stat().st_mode & 0o7777 if target.exists() else None
        if mode is not None:  # a read-only file is refused (a rename would replace it anyway)
            os.close(os.open(target, os.O_WRONLY))
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.spectryn-{os.getpid()}-", suffix=".tmp",
                                    dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except OSError as error:
        if temp:
            Path(temp).unlink(missing_ok=True)
        raise FileWriteError(
            f"{path}: cannot write the file ({error.strerror or error}); it was left as it was",
            "make the file and its folder writable (or free some disk space), then run again",
        ) from None
    except BaseException:
        if temp:
            Path(temp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path: Path) -> list[str]:
    """Remove the temporary files an interrupted :func:`write_atomically` of ``path`` left beside
    it (``kill -9`` between writing and renaming); returns their names. A temporary file of a
    process still running is kept unless it is older than :data:`STALE_AFTER` seconds."""
    target = Path(os.path.realpath(path))
    removed: list[str] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP.fullmatch(entry.name) or _OLD_TEMP.fullmatch(entry.name)
        if match is None or match.group("name") != target.name or not entry.is_file(follow_symlinks=False):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER
        except OSError:
            continue
        pid = int(match.group("pid")) if "pid" in match.groupdict() else None
        if not old and (pid is None or _running(pid)):
            continue
        try:
            os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def unified_diff(path: Path, before: str, after: str) -> str:
    """``diff -u`` of two versions of a spec, with ``a/``/``b/`` names like git's."""
    if before == after:
        return ""
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"a/{path}", tofile=f"b/{path}",
    )
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
                   for line in lines)


def edit_file(hook: Any, path: Path, edits: list[SpecEdit], *, write: bool) -> FileEdit:
    """Apply ``edits`` to the spec at ``path`` through the parser plugin's ``edit_spec`` hook
    (``hook`` is ``plugins.hook``); with ``write``, replace the file atomically when it changed."""
    if write:
        for name in remove_stale_temps(path):
            logging.getLogger("spectryn.spec").warning(
                "removed %s, a temporary file an interrupted run left beside %s", name, path)
    before, bom = read_text(path)
    if not edits:
        return FileEdit(path, before, before)
    result: EditedSpec | None = hook.edit_spec(path=path, text=before, edits=list(edits))
    if result is None:
        raise UsageError(f"{path}: no installed parser plugin can edit this file",
                         "write-back and pull need the markdown plugin: pip install 'spectryn[markdown]'")
    edited = FileEdit(path, before, result.text, list(result.notes), skipped=list(result.skipped))
    if write and edited.changed:
        write_atomically(path, result.text, bom=bom)
        edited.written = True
    return edited
