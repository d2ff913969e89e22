"""Many specs in one run: which files ``--markdown a.md docs/specs 'docs/**/*.md'`` names, and the
checks that span files.

- A file is taken as named. A folder stands for every ``.md`` / ``.markdown`` / ``.mdown`` file
  below it (recursively, hidden folders skipped). A glob (``*``, ``?``, ``[``, ``**``) for the files
  it matches. Each file is taken once, in the order given (a folder's and a glob's files sorted).
- A file found through a folder or a glob that has no story at all is skipped with a note (a
  README beside the specs); a file named on its own must have stories.
- A key is unique across the files of a run: a key defined in two files is an error naming both
  ``file:line`` places, and nothing is sent.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field
from pathlib import Path

from spectryn_core.errors import UsageError
from spectryn_core.model import Spec, SpecProblem

SPEC_SUFFIXES = (".md", ".markdown", ".mdown")
_GLOB_CHARS = frozenset("*?[")
NO_STORIES = "no stories found"


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


def expand(arguments: list[str]) -> list[SpecFile]:
    """The spec files ``arguments`` name (files, folders, globs), each once, in order.

    Raises :class:`UsageError` for a path that does not exist or a glob/folder that finds nothing.
    """
    found: list[SpecFile] = []
    seen: set[Path] = set()

    def add(path: Path, named: bool) -> None:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            found.append(SpecFile(path, named))

    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            files = _folder_files(path)
            if not files:
                raise UsageError(f"{argument}: no .md files in this folder",
                                 "name the spec files, a folder holding them, or a glob like 'docs/**/*.md'")
            for file in files:
                add(file, False)
        elif path.is_file():
            add(path, True)
        elif _GLOB_CHARS & set(argument):
            matches = sorted(Path(m) for m in glob.glob(argument, recursive=True) if Path(m).is_file())
            if not matches:
                raise UsageError(f"{argument}: no file matches this pattern",
                                 "check the pattern (quote it so the shell does not expand it)")
            for match in matches:
                add(match, False)
        else:
            raise UsageError(f"{argument}: no such file or folder",
                             "give the path of your spec, e.g. --markdown EPIC.md, or a folder of specs")
    return found


def _folder_files(folder: Path) -> list[Path]:
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
