"""What travels with the repository: which files a pull request could have added or changed.

A config file or ``.env`` that travels with the repository may not choose where credentials go
(see :mod:`spectryn_core.config`), and a spec may only be read from inside its repository
(:mod:`spectryn_core.spec_files`). Both need the same two facts about a path:

- :func:`link_chain` walks a path the way the kernel does, one component at a time, and records
  every symlink on the way (where each link itself lives) and the real file it ends at;
- :class:`Repository` says whether a place in the work tree travels with it: a file or symlink git
  tracks there, or anything inside one of its submodules (a pull request chooses a submodule's
  commit, so it chooses every file in it, tracked or not).

A file *travels with the repository* when the path as named, or any link on the way, or the file it
ends at, is such a place: a committed ``.spectryn.yaml -> sub/module/x.yaml`` travels (the link is
tracked), and so does ``--config sub/module/x.yaml`` (inside a submodule) and a committed link to a
file outside the repository. An untracked file of the user's own (a ``.env`` listed in
``.gitignore``) does not. When git cannot answer, a file in the work tree is taken to travel.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: How many symlinks a path may pass through (Linux's limit): more is a loop.
MAX_LINKS = 40


@dataclass(frozen=True)
class LinkChain:
    """The symlinks a path passes through (each link's own location, its folder resolved) and the
    real path it ends at (which may not exist)."""

    links: tuple[Path, ...]
    real: Path

    @property
    def places(self) -> tuple[Path, ...]:
        """Every place the path is decided by: each link on the way, then the real path."""
        return (*self.links, self.real)


def link_chain(path: Path, cwd: Path | None = None) -> LinkChain:
    """Resolve ``path`` (relative to ``cwd``) component by component, as the kernel does, and
    record each symlink passed on the way. A loop (more than :data:`MAX_LINKS` links) stops the
    walk where it is; a missing component ends it (the rest is appended as named)."""
    start = Path(os.path.join(cwd or Path.cwd(), path))  # keeps "..", unlike abspath
    pending = list(start.parts[1:])
    current = Path(start.anchor)
    links: list[Path] = []
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = current.parent  # ``current`` is always real here, so its parent is too
            continue
        candidate = current / name
        try:
            is_link = candidate.is_symlink()
        except OSError:
            is_link = False
        if not is_link or len(links) >= MAX_LINKS:
            current = candidate
            continue
        links.append(candidate)
        target = Path(os.readlink(candidate))
        if target.is_absolute():
            current = Path(target.anchor)
            pending[:0] = list(target.parts[1:])
        else:
            pending[:0] = list(target.parts)
    return LinkChain(tuple(links), current)


def inside(path: Path, root: Path) -> bool:
    """Whether ``path`` is ``root`` or below it (both as given: resolve them first)."""
    return path == root or root in path.parents


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, timeout=20,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def _entries(folder: Path, relative: str) -> dict[str, str] | None:
    """``{path: mode}`` of the index entries of the work tree ``folder`` named exactly
    ``relative``; None when git cannot say."""
    done = _git(folder, "ls-files", "-s", "-z", "--", f":(literal){relative}")
    if done is None or done.returncode != 0:
        return None
    found: dict[str, str] = {}
    for entry in done.stdout.split(b"\0"):
        head, tab, name = entry.partition(b"\t")
        if tab:
            found[os.fsdecode(name)] = os.fsdecode(head.split(b" ", 1)[0])
    return found


@dataclass
class Repository:
    """The repository a run works in: the git work tree holding the working directory (``git``
    True; the outermost one when the working directory is inside a submodule), else the working
    directory itself. Says whether a file in it travels with it."""

    root: Path
    git: bool
    _answers: dict[Path, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, cwd: Path) -> Repository:
        """The repository of ``cwd``."""
        folder = cwd.resolve()
        for candidate in (folder, *folder.parents):
            marker = candidate / ".git"
            if not marker.exists():
                continue
            if marker.is_file():  # a submodule (or a linked worktree): climb to its superproject
                done = _git(candidate, "rev-parse", "--show-superproject-working-tree")
                outer = os.fsdecode(done.stdout).strip() if done is not None and done.returncode == 0 else ""
                if outer:
                    return cls.of(Path(outer))
            return cls(candidate, True)
        return cls(folder, False)

    def travels(self, path: Path, cwd: Path | None = None) -> bool:
        """Whether the file ``path`` names travels with the repository: the path as named, a link
        on the way or the file it ends at is tracked here or lies in a submodule (or, outside a
        git work tree, lies in this folder at all)."""
        return any(self._place_travels(place) for place in link_chain(path, cwd).places)

    def _place_travels(self, place: Path) -> bool:
        if not inside(place, self.root):
            return False
        if not self.git:
            return True
        if place not in self._answers:
            self._answers[place] = self._tracked_or_in_submodule(place)
        return self._answers[place]

    def _tracked_or_in_submodule(self, place: Path) -> bool:
        # the work trees between the place and the root, nearest first (submodules, nested clones)
        trees = [folder for folder in place.parents
                 if inside(folder, self.root) and folder != self.root and (folder / ".git").exists()]
        chain = [*trees, self.root]
        for tree, parent in zip(trees, chain[1:], strict=False):
            relative = tree.relative_to(parent).as_posix()
            entries = _entries(parent, relative)
            if entries is None or entries.get(relative) == "160000":
                return True  # a submodule: its commit, so every file in it, came with the repository
        relative = place.relative_to(chain[0]).as_posix()
        if relative == ".":
            return False  # a work tree's own folder is not a file
        entries = _entries(chain[0], relative)
        return entries is None or relative in entries
