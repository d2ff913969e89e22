"""Which local files a spec may attach: only regular files inside the spec's repository.

A spec can come from someone else (a pull request synced in CI with a token), so a link in its
Attachments section must not reach ``/etc/passwd``, ``~/.ssh`` or the checkout's ``.git/config``.
The root is the git work tree holding the spec file (the nearest folder above it with a ``.git``),
else the spec's own folder, or ``attachments.root`` from the config. A link is refused when it is
an absolute path, when it leaves the root (``..``, after percent-decoding), when a symlink takes it
outside the root, when it is not a regular file, or when the file is larger than ``max_size``.

The name uploaded is a safe basename (no path separators, control characters or quotes), and two
attachments of one story may not share it (the second upload would replace the first, every run).
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from spectryn_core.model import Attachment

#: ``attachments.max_size`` when the config says nothing: 50 MiB.
DEFAULT_MAX_SIZE = 50 * 1024 * 1024

_UNSAFE = set("/\\\"'`")


def find_root(spec_path: Path) -> tuple[Path, str]:
    """The git work tree holding ``spec_path`` (a folder with ``.git``), else the spec's folder.

    Returns ``(root, what)`` where ``what`` names the root in messages.
    """
    folder = spec_path.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate, "the repository"
    return folder, "the spec's folder"


def safe_name(text: str, fallback: str) -> str:
    """``text`` as an upload name: separators and quotes become ``_``, control characters go.

    An empty result (or only dots) falls back to ``fallback`` made safe the same way.
    """
    chars = []
    for char in text:
        if char in _UNSAFE:
            chars.append("_")
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            continue
        else:
            chars.append(char)
    name = " ".join("".join(chars).split())
    if not name.strip("."):
        return safe_name(fallback, "attachment") if fallback != text else "attachment"
    return name


@dataclass
class AttachmentRules:
    """Where attachments may come from and how large they may be.

    ``root`` is resolved; ``where`` names it in messages ("the repository", ``attachments.root``).
    """

    root: Path
    where: str
    max_size: int = DEFAULT_MAX_SIZE

    @classmethod
    def for_spec(cls, spec_path: Path, root: Path | None = None,
                 max_size: int | None = None) -> AttachmentRules:
        """The rules for one spec: ``root`` (configured) or the spec's repository."""
        limit = DEFAULT_MAX_SIZE if max_size is None else max_size
        if root is not None:
            return cls(Path(root).expanduser().resolve(), f"attachments.root ({root})", limit)
        found, where = find_root(Path(spec_path))
        return cls(found, where, limit)


@dataclass
class AttachmentChecker:
    """Checks the attachment links of one spec file against :class:`AttachmentRules`.

    Remembers the names taken per story, so a repeated upload name is reported with both lines.
    """

    spec_path: Path
    rules: AttachmentRules
    _taken: dict[tuple[str, str], int] = field(default_factory=dict)

    def check(self, owner: str, target: str, text: str, line: int) -> tuple[Attachment | None, str]:
        """``(attachment, "")`` for an acceptable link, else ``(None, problem)``.

        ``owner`` is the story's key, ``target`` the link as written, ``text`` its link text.
        """
        relative = unquote(target.split("#")[0].split("?")[0])
        shown = relative or text
        root, where = self.rules.root, self.rules.where
        if not relative:
            return None, f'attachment "{shown}" not found; add the file or fix the link ' \
                         "(paths are relative to the spec file's folder)"
        if "\0" in relative:
            return None, f'attachment "{shown}": the path contains a NUL character'
        if os.path.isabs(relative) or relative.startswith("~"):
            return None, (f'attachment "{shown}" is an absolute path; attachments must be files '
                          f"inside {where} ({root}), linked relative to the spec file")
        real_folder = Path(self.spec_path).resolve().parent
        if not _inside(Path(os.path.normpath(real_folder / relative)), root):
            return None, (f'attachment "{shown}" leaves {where} ({root}); only files inside it '
                          "can be attached")
        full = real_folder / relative
        try:
            resolved = full.resolve(strict=True)
        except (OSError, RuntimeError):
            return None, (f'attachment "{shown}" not found; add the file or fix the link '
                          "(paths are relative to the spec file's folder)")
        if not _inside(resolved, root):
            return None, (f'attachment "{shown}" is a symlink to {resolved}, outside {where} '
                          f"({root}); only files inside it can be attached")
        try:
            info = os.stat(resolved)
        except OSError as error:
            return None, f'attachment "{shown}": cannot read it: {error.strerror}'
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            return None, f'attachment "{shown}" is {kind}; only regular files can be attached'
        if info.st_size == 0 and _yields_bytes(resolved):
            return None, (f'attachment "{shown}" says it is empty but is not (a /proc-style file); '
                          "only regular files can be attached")
        if info.st_size > self.rules.max_size:
            return None, (f'attachment "{shown}" is {info.st_size} bytes, over attachments.max_size '
                          f"({self.rules.max_size} bytes); make it smaller or raise the limit")
        name = safe_name(text, resolved.name) if text else safe_name(resolved.name, "attachment")
        first = self._taken.get((owner, name))
        if first is not None:
            return None, (f'attachment "{shown}" of {owner} is uploaded as "{name}", like the one at '
                          f"line {first}; Bitbucket keeps one file per name - give each its own "
                          "link text")
        self._taken[(owner, name)] = line
        return Attachment(name=name, path=resolved), ""


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _yields_bytes(path: Path) -> bool:
    """Whether a file whose size is 0 gives bytes when read (``/proc/self/environ`` does)."""
    try:
        with open(path, "rb") as handle:
            return bool(handle.read(1))
    except OSError:
        return False
