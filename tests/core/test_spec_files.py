"""Which files a run takes from --markdown arguments, and the checks across files."""

from __future__ import annotations

from pathlib import Path

import pytest

from spectryn_core.errors import SpecError, UsageError
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


# --- only regular files inside the repository (issue 26) ---------------------------------------


def refused(arguments: list[str], **kwargs) -> list[str]:
    """The problems ``expand`` reports for ``arguments`` (each ``file: message``)."""
    with pytest.raises(SpecError) as error:
        expand(arguments, **kwargs)
    return [str(problem) for problem in error.value.problems]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``repo/`` (a git work tree, the working directory) with ``docs/specs/a.md``; a spec outside
    it at ``outside/x.md``."""
    import subprocess

    root = tmp_path / "repo"
    (root / "docs/specs").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "docs/specs/a.md").write_text("### US-001: A\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside/x.md").write_text("### US-009: Outside\n")
    monkeypatch.chdir(root)
    return root


def test_devices_fifos_and_links_out_are_errors_before_anything_is_read(repo: Path) -> None:
    import os

    specs = repo / "docs/specs"
    (specs / "zero.md").symlink_to("/dev/zero")
    os.mkfifo(specs / "pipe.md")
    (specs / "far.md").symlink_to(repo.parent / "outside/x.md")
    problems = refused(["docs/specs"])  # a FIFO opened for reading would hang: it is never opened
    assert problems == [
        f"docs/specs/far.md: a symlink to {repo.parent / 'outside/x.md'}, outside the repository "
        f"({repo}); only files inside it are read",
        "docs/specs/pipe.md: not a regular file (a named pipe); a spec must be a regular file",
        f"docs/specs/zero.md: a symlink to /dev/zero, outside the repository ({repo}); only files "
        "inside it are read",
    ]
    assert refused(["docs/specs/pipe.md"]) == [problems[1]]  # named on its own: the same
    import socket

    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(repo / "sock.md"))
        assert refused(["sock.md"]) == ["sock.md: not a regular file (a socket); a spec must be a "
                                        "regular file"]


def test_links_inside_the_repository_are_followed_and_counted_once(repo: Path) -> None:
    (repo / "docs/current.md").symlink_to("specs/a.md")
    found = expand(["docs/current.md", "docs/specs"])
    assert [str(f.path) for f in found] == ["docs/current.md"]


def test_a_glob_never_leaves_the_repository_through_a_symlinked_folder(repo: Path) -> None:
    (repo / "docs/ext").symlink_to(repo.parent / "outside", target_is_directory=True)
    assert refused(["docs/**/*.md"]) == [
        f"docs/ext/x.md: a symlink to {repo.parent / 'outside/x.md'}, outside the repository ({repo}); only "
        "files inside it are read"]
    assert [str(f.path) for f in expand(["docs"])] == ["docs/specs/a.md"]  # a walk skips it


def test_a_spec_named_outside_the_working_repository_reads_in_its_own_folder(repo: Path) -> None:
    outside = repo.parent / "outside"
    assert [f.path for f in expand([str(outside / "x.md")])] == [outside / "x.md"]
    (outside / "leak.md").symlink_to(repo / "docs/specs/a.md")
    assert refused([str(outside / "leak.md")]) == [
        f"{outside / 'leak.md'}: a symlink to {repo / 'docs/specs/a.md'}, outside the spec's folder "
        f"({outside}); only files inside it are read"]


def test_a_spec_over_the_size_limit_is_an_error_naming_the_setting(repo: Path) -> None:
    (repo / "big.md").write_bytes(b"x" * 2049)
    assert refused(["big.md"], max_size=2048) == [
        "big.md: 2049 bytes, over sync.max_spec_size (2048 bytes); split the spec or raise the "
        "limit (SPECTRYN_MAX_SPEC_SIZE)"]
    assert [str(f.path) for f in expand(["big.md"], max_size=4096)] == ["big.md"]


def test_read_spec_never_waits_on_a_fifo_and_stops_at_the_limit(tmp_path: Path) -> None:
    import os

    from spectryn_core.spec_files import UnreadableSpec, read_spec

    os.mkfifo(tmp_path / "pipe.md")
    with pytest.raises(UnreadableSpec, match="a named pipe"):
        read_spec(tmp_path / "pipe.md")
    with pytest.raises(UnreadableSpec, match="a character device"):
        read_spec(Path("/dev/zero"), 1024)
    (tmp_path / "a.md").write_bytes(b"12345")
    assert read_spec(tmp_path / "a.md", 5) == b"12345"
    with pytest.raises(UnreadableSpec, match="over sync.max_spec_size"):
        read_spec(tmp_path / "a.md", 4)
