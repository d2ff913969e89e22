"""Editing a spec file in place: issue links written back after a sync, tracker values pulled in.

The core decides *what* a spec should now say, as one :class:`SpecEdit` per cell; the parser
plugin that reads the file knows *where* that cell is and how to change it without touching any
other byte (the ``edit_spec`` hook); this module reads the file, writes the result atomically and
shows the change as a unified diff.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from spectryn_core.errors import UsageError

EditField = Literal["issue", "title", "status", "priority", "assignee"]
_BOM = "\ufeff"


@dataclass(frozen=True)
class SpecEdit:
    """Set ``field`` of the epic, story or subtask ``key`` to ``value``.

    ``value`` is in the spec's vocabulary (a status ``"done"``, a priority ``"high"``, a title, an
    assignee name without ``@``). For ``field="issue"`` it is the issue's short reference
    (``"#12"``) and ``link`` its web address: the spec then carries ``[#12](link)``.
    """

    key: str
    field: EditField
    value: str
    link: str = ""


@dataclass
class EditedSpec:
    """What ``edit_spec`` returns: the whole new text, and notes on edits it could not make
    (``"US-003.1: a subtask written as a list item gets no issue link"``)."""

    text: str
    notes: list[str] = field(default_factory=list)


@dataclass
class FileEdit:
    """One spec file before and after its edits."""

    path: Path
    before: str
    after: str
    notes: list[str] = field(default_factory=list)
    written: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        """A unified diff of the file (empty when nothing changes)."""
        return unified_diff(self.path, self.before, self.after)


def read_text(path: Path) -> tuple[str, bool]:
    """The file's text exactly as stored (line endings kept) without a UTF-8 BOM, and whether it
    had one."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise UsageError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise UsageError(f"{path}: not valid UTF-8 at byte {error.start}; save the file as UTF-8") from None
    if text.startswith(_BOM):
        return text[1:], True
    return text, False


def write_atomically(path: Path, text: str, *, bom: bool = False) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file beside it, fsync, rename), so
    a reader or a crash sees the old file or the new one, never half of it. Keeps the mode."""
    data = ((_BOM if bom else "") + text).encode("utf-8")
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
    before, bom = read_text(path)
    if not edits:
        return FileEdit(path, before, before)
    result: EditedSpec | None = hook.edit_spec(path=path, text=before, edits=list(edits))
    if result is None:
        raise UsageError(f"{path}: no installed parser plugin can edit this file",
                         "write-back and pull need the markdown plugin: pip install 'spectryn[markdown]'")
    edited = FileEdit(path, before, result.text, list(result.notes))
    if write and edited.changed:
        write_atomically(path, result.text, bom=bom)
        edited.written = True
    return edited
