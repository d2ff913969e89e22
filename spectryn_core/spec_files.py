"""Many specs in one run: which files ``--markdown a.md docs/specs 'docs/**/*.md'`` names, and the
checks that span files.

- A file is taken as named. A folder stands for every ``.md`` / ``.markdown`` / ``.mdown`` file
  below it (recursively, hidden folders skipped). A glob (``*``, ``?``, ``[``, ``**``) for the files
  it matches. Each file is taken once, in the order given (a folder's and a glob's files sorted).
- A file found through a folder or a glob that has no story at all is skipped with a note (a
  README beside the specs); a file named on its own must have stories.
- A key is unique across the files of a run: a key defined in two files is an error naming both
  ``file:line`` places, and nothing is sent.
- Only regular files inside the repository are read (a spec may come from a pull request): a
  file whose real path leaves the repository (a symlink to ``/dev/zero`` or to a file outside, a
  glob through a symlinked folder), a device, a FIFO or a socket, and a file larger than
  ``sync.max_spec_size`` are ``file: ...`` errors before anything is read (exit 2). The repository
  of a path is the git work tree of the working directory when the path lies in it, else the git
  work tree holding the path, else the path's own folder. Links that stay inside are followed.
"""

from __future__ import annotations

import glob
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from spectryn_core.errors import SpecError, UsageError
from spectryn_core.model import Spec, SpecProblem
from spectryn_core.worktree import Repository, inside, link_chain

SPEC_SUFFIXES = (".md", ".markdown", ".mdown")
_GLOB_CHARS = frozenset("*?[")
NO_STORIES = "no stories found"
#: ``sync.max_spec_size`` when the config says nothing: 32 MiB, about 30,000 stories (a spec of
#: thousands of stories is a few MiB); parsing takes about five times the file's size in memory.
DEFAULT_MAX_SPEC_SIZE = 32 * 2**20
_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"))


@dataclass(frozen=True)
class SpecFile:
    """One spec file of a run; ``named`` when the user named the file itself (not a folder/glob)."""

    path: Path
    named: bool


@dataclass
class SpecSet:
    """The parsed specs of a run, and notes on files skipped."""

    specs: list[Spec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def expand(arguments: list[str], *, max_size: int | None = DEFAULT_MAX_SPEC_SIZE,
           example: str = "spectryn --markdown EPIC.md") -> list[SpecFile]:
    """The spec files ``arguments`` name (files, folders, globs), each once, in order.

    Raises :class:`UsageError` for a path that does not exist or a glob/folder that finds nothing
    (its hint shows ``example``, the command as the user is running it), and :class:`SpecError`
    (every file at once) for a file that is not a regular file inside its repository or is larger
    than ``max_size`` bytes (None: no limit).
    """
    cwd = Path.cwd()
    repo = Repository.of(cwd)
    found: list[SpecFile] = []
    seen: set[Path] = set()
    problems: list[SpecProblem] = []

    def add(path: Path, named: bool, root: tuple[Path, str]) -> None:
        problem = check_file(path, root, max_size, cwd)
        if problem is not None:
            problems.append(problem)
            return
        resolved = link_chain(path, cwd).real
        if resolved not in seen:
            seen.add(resolved)
            found.append(SpecFile(path, named))

    for argument in arguments:
        path = Path(argument)
        root = _root_of(argument, cwd, repo)
        if path.is_dir():
            files = _folder_files(path)
            if not files:
                raise UsageError(f"{argument}: no .md files in this folder",
                                 "name the spec files, a folder holding them, or a glob like 'docs/**/*.md'")
            for file in files:
                add(file, False, root)
        elif os.path.lexists(path):
            add(path, True, root)
        elif _GLOB_CHARS & set(argument):
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True) if not Path(m).is_dir())
            if not matches:
                raise UsageError(f"{argument}: no file matches this pattern",
                                 "check the pattern (quote it so the shell does not expand it)")
            for match in matches:
                add(match, False, root)
        else:
            raise UsageError(f"{argument}: no such file or folder",
                             f"give the path of your spec, e.g. `{example}`, or a folder of specs")
    if problems:
        raise SpecError(problems)
    return found


def _root_of(argument: str, cwd: Path, repo: Repository) -> tuple[Path, str]:
    """The folder a spec argument may read in, and its name in messages: the working directory's
    repository when the argument lies in it as written, else the git work tree holding it, else
    its own folder (a glob: the folder before its first pattern character)."""
    written = argument
    if _GLOB_CHARS & set(argument) and not os.path.lexists(argument):
        written = os.path.dirname(argument[:min(argument.index(c) for c in _GLOB_CHARS & set(argument))])
    lexical = Path(os.path.normpath(cwd.resolve() / written))
    where = "the repository" if repo.git else "the working folder"
    if inside(lexical, repo.root):
        return repo.root, where
    folder = lexical if os.path.isdir(lexical) else lexical.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate.resolve(), "the repository"
    return folder.resolve(), "the spec's folder"


def check_file(path: Path, root: tuple[Path, str], max_size: int | None,
               cwd: Path | None = None) -> SpecProblem | None:
    """Why the spec file ``path`` may not be read (a ``file: message`` problem), or None: it must
    end, through any links, at a regular file inside ``root`` no larger than ``max_size``."""
    folder, where = root
    chain = link_chain(path, cwd)
    if not inside(chain.real, folder):
        how = f"a symlink to {chain.real}" if chain.links else str(chain.real)
        return SpecProblem(str(path), 0, f"{how}, outside {where} ({folder}); only files inside it "
                           "are read")
    try:
        info = os.stat(chain.real)
    except OSError as error:
        return SpecProblem(str(path), 0, f"cannot read the file: {error.strerror or error}")
    problem = file_problem(info, max_size)
    return SpecProblem(str(path), 0, problem) if problem else None


def file_problem(info: os.stat_result, max_size: int | None) -> str:
    """What is wrong with reading a spec of this ``stat``: not a regular file, or too large."""
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
        return f"not a regular file ({kind}); a spec must be a regular file"
    if max_size is not None and info.st_size > max_size:
        return (f"{info.st_size} bytes, over sync.max_spec_size ({max_size} bytes); split the spec "
                "or raise the limit (SPECTRYN_MAX_SPEC_SIZE)")
    return ""


class UnreadableSpec(Exception):
    """A spec file that is not a regular file or is too large (the message says which)."""


def read_spec(path: Path, max_size: int | None = None) -> bytes:
    """The bytes of the spec at ``path``: a regular file (opened without blocking, so a FIFO
    never hangs), at most ``max_size`` bytes. Raises :class:`UnreadableSpec` or OSError."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with open(descriptor, "rb") as handle:
        problem = file_problem(os.fstat(handle.fileno()), max_size)
        if problem:
            raise UnreadableSpec(problem)
        data = handle.read() if max_size is None else handle.read(max_size + 1)
    if max_size is not None and len(data) > max_size:  # it grew after the check
        raise UnreadableSpec(f"over sync.max_spec_size ({max_size} bytes)")
    return data


def _folder_files(folder: Path) -> list[Path]:
    """The spec files below ``folder`` (hidden files and folders skipped; symlinked folders are not
    entered, symlinked files are checked like any other)."""
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / name for name in names
                     if name.lower().endswith(SPEC_SUFFIXES) and not name.startswith("."))
    return sorted(files)


def has_no_stories(spec: Spec) -> bool:
    """True when the parser's only complaint is that the file holds no story."""
    return bool(spec.errors) and all(NO_STORIES in problem.message for problem in spec.errors)


def duplicate_keys(specs: list[Spec]) -> list[SpecProblem]:
    """A problem for each key defined in two files of one run, naming both places."""
    first: dict[str, tuple[Spec, int]] = {}
    problems: list[SpecProblem] = []
    for spec in specs:
        for epic in spec.epics:
            places = ([(epic.key, epic.line)] if epic.key else []) + [(s.key, s.line) for s in epic.stories]
            for key, line in places:
                earlier = first.get(key)
                if earlier is None:
                    first[key] = (spec, line)
                elif earlier[0] is not spec:
                    problems.append(SpecProblem(
                        str(spec.path), line,
                        f"key {key} is also defined at {earlier[0].path}:{earlier[1]}; "
                        "a key must be unique across the specs synced together"))
    return problems
