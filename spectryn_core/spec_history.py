"""The git history of the repository a spec file lives in: which commit a spec was read at, and
the spec file as it was at a commit.

A sync records in each base it writes the commit the spec was read at - only when the file in the
work tree is the file of ``HEAD`` (a spec edited and not committed yet has no commit to find it
at). A later run renders the spec at that commit to get the base text of a three-way merge back
(see :mod:`spectryn_core.basetext`). A shallow clone (Bitbucket Pipelines clones 50 commits deep
by default) may not hold the commit: then this source has nothing and the next one is asked.
Nothing here fetches: it reads what the clone has, with ``git`` run without a shell.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

#: Hex digits of the commit recorded in a base (unique in any real repository; an ambiguous one
#: only makes this source find nothing).
COMMIT_DIGITS = 12
_COMMIT_RE = re.compile(r"^[0-9a-f]{7,40}$")


def _git(root: Path, *args: str) -> bytes | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


@dataclass
class SpecHistory:
    """The git work tree ``root`` (see :func:`spectryn_core.provenance.spec_root`)."""

    root: Path
    _files: dict[tuple[str, str], bytes | None] = field(default_factory=dict)
    _commits: dict[str, str | None] = field(default_factory=dict)

    @property
    def git(self) -> bool:
        """True when ``root`` is a git work tree."""
        return (self.root / ".git").exists()

    def commit_of(self, origin: str) -> str | None:
        """The commit (abbreviated) whose file ``origin`` (relative to ``root``) is the file in
        the work tree now; None when it is not committed as it is, or git cannot say."""
        if origin in self._commits:
            return self._commits[origin]
        found: str | None = None
        if self.git:
            heads = _git(self.root, "rev-parse", "HEAD", f"HEAD:{origin}")
            local = _git(self.root, "hash-object", "--", origin)
            lines = heads.decode().split() if heads else []
            if len(lines) == 2 and local is not None and local.decode().strip() == lines[1]:
                found = lines[0][:COMMIT_DIGITS]
        self._commits[origin] = found
        return found

    def read(self, commit: str, origin: str) -> bytes | None:
        """The file ``origin`` as it was at ``commit``; None when the clone does not hold that
        commit (shallow), the file was not there, or ``commit`` is not a commit id."""
        if not _COMMIT_RE.match(commit) or not origin or origin.startswith(("-", "/")):
            return None
        if (commit, origin) not in self._files:
            self._files[commit, origin] = (
                _git(self.root, "cat-file", "blob", f"{commit}:{origin}") if self.git else None)
        return self._files[commit, origin]
