"""Writing a spec file atomically: through symlinks, and every failure an error, not a traceback,
with no temporary file left (issue 26). End to end, with a real full disk and a real read-only
folder: tests/e2e/test_e2e_spec_writes.py."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from spectryn_core.errors import FileWriteError
from spectryn_core.spec_edits import STALE_AFTER, remove_stale_temps, write_atomically


def test_a_symlinked_spec_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "specs").mkdir()
    target = tmp_path / "specs/EPIC.md"
    target.write_text("old\n")
    link = tmp_path / "EPIC.md"
    link.symlink_to("specs/EPIC.md")
    write_atomically(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == "specs/EPIC.md"
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in (tmp_path / "specs").iterdir()) == ["EPIC.md"]


class _Full:
    """A file whose writes meet a full disk."""

    def __init__(self, handle: object) -> None:
        self.handle = handle

    def __enter__(self) -> _Full:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()  # type: ignore[attr-defined]

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_a_full_disk_leaves_the_file_and_no_temporary_file(tmp_path: Path, where: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "EPIC.md"
    spec.write_text("old\n")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "write":
        real_fdopen = os.fdopen

        def fdopen(fd: int, mode: str) -> object:
            return _Full(real_fdopen(fd, mode))

        monkeypatch.setattr(os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(os, where, full)
    with pytest.raises(FileWriteError) as failed:
        write_atomically(spec, "new\n")
    assert failed.value.message == (f"{spec}: cannot write the file (No space left on device); it "
                                    "was left as it was")
    assert failed.value.exit_code == 1 and failed.value.kind == "file"
    monkeypatch.undo()
    assert spec.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["EPIC.md"]


def test_a_read_only_file_is_refused_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "EPIC.md"
    spec.write_text("old\n")
    real_open = os.open

    def refuse(path: object, flags: int, *args: object) -> int:  # root ignores chmod 444
        if Path(str(path)) == spec and flags & os.O_WRONLY:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(FileWriteError, match="Permission denied"):
        write_atomically(spec, "new\n")
    monkeypatch.undo()
    assert spec.read_text() == "old\n"


def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    spec = tmp_path / "EPIC.md"
    spec.write_text("x")
    long_ago = time.time() - STALE_AFTER - 5
    names = {
        ".EPIC.md.abcd_123.tmp": long_ago,  # an earlier version's, long ago: removed
        ".EPIC.md.abcd_124.tmp": None,  # an earlier version's, just now: kept
        f".EPIC.md.spectryn-{os.getpid()}-a1.tmp": None,  # this process's: kept
        f".EPIC.md.spectryn-{os.getpid()}-a2.tmp": long_ago,  # but not when long ago
        ".EPIC.md.spectryn-999999999-a3.tmp": None,  # a process that is gone: removed
        ".other.md.spectryn-999999999-a4.tmp": long_ago,  # another file's: kept
        ".EPIC.md.notes.tmp": long_ago,  # not a name spectryn makes: kept
    }
    for name, when in names.items():
        (tmp_path / name).write_text("x")
        if when:
            os.utime(tmp_path / name, (when, when))
    assert sorted(remove_stale_temps(spec)) == sorted([
        ".EPIC.md.abcd_123.tmp", f".EPIC.md.spectryn-{os.getpid()}-a2.tmp",
        ".EPIC.md.spectryn-999999999-a3.tmp"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([
        "EPIC.md", ".EPIC.md.abcd_124.tmp", f".EPIC.md.spectryn-{os.getpid()}-a1.tmp",
        ".other.md.spectryn-999999999-a4.tmp", ".EPIC.md.notes.tmp"])
