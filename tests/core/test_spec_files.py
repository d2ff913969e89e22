"""Which files a run takes from --markdown arguments, and the checks across files."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectryn_core.errors import UsageError
from spectryn_core.model import Epic, Spec, Story
from spectryn_core.spec_files import duplicate_keys, expand


def test_files_folders_and_globs_each_once_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("a.md", "specs/b.md", "specs/deep/c.markdown", "specs/notes.txt", "specs/.hidden/d.md",
                 "other/e.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = expand(["a.md", "specs", "**/*.md"])
    assert [(str(f.path), f.named) for f in found] == [
        ("a.md", True), ("specs/b.md", False), ("specs/deep/c.markdown", False), ("other/e.md", False)]
    with pytest.raises(UsageError, match="missing.md: no such file"):
        expand(["missing.md"])
    with pytest.raises(UsageError, match="no file matches"):
        expand(["nothing/*.md"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no .md files"):
        expand(["empty"])


def test_a_key_in_two_files_names_both_places() -> None:
    one = Spec(Path("a.md"), [Epic("", stories=[Story("US-001", "A", line=3), Story("US-002", "B", line=9)])])
    two = Spec(Path("b.md"), [Epic("", stories=[Story("US-002", "B again", line=5)])])
    (problem,) = duplicate_keys([one, two])
    assert str(problem) == ("b.md:5: key US-002 is also defined at a.md:9; a key must be unique "
                            "across the specs synced together")
    assert duplicate_keys([one]) == []
