"""``spectryn completion bash|zsh|fish``: shell completion scripts made from the live argparse
tree, so the installed plugins' commands and flags are included.

bash and zsh come from shtab; shtab has no fish, so the fish script is written here from the
same tree (``complete -c spectryn ...`` lines).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import shtab

from spectryn_core.argparsing import subcommands, walk

#: Options and positionals that name a file: completed with file names.
FILE_METAVARS = frozenset({"FILE", "CA_BUNDLE", "PATH", "DATA"})


def _mark_files(parser: argparse.ArgumentParser) -> None:
    for _path, each in walk(parser):
        for action in each._actions:
            metavar = action.metavar if isinstance(action.metavar, str) else ""
            if metavar.upper() in FILE_METAVARS or action.dest in ("file", "data"):
                action.complete = shtab.FILE  # type: ignore[attr-defined]


def _offer_values(parser: argparse.ArgumentParser, trackers: Sequence[str]) -> None:
    """Values to offer where argparse knows none: the installed trackers after ``--tracker``, and
    the commands after ``help``. Set on this parser only (built for the script): the real
    parser keeps checking the values itself, with its own messages."""
    commands = sorted(subcommands(parser))
    for path, each in walk(parser):
        for action in each._actions:
            if "--tracker" in action.option_strings and trackers:
                action.choices = list(trackers)
            elif path == ("help",) and action.dest == "words":
                action.choices = commands


def script(parser: argparse.ArgumentParser, shell: str, trackers: Sequence[str] = ()) -> str:
    """The completion script of ``parser`` for ``shell`` (bash, zsh or fish); ``trackers`` are
    offered after ``--tracker``."""
    _mark_files(parser)
    _offer_values(parser, trackers)
    if shell == "fish":
        return fish(parser)
    return str(shtab.complete(parser, shell=shell))


def _quote(text: str) -> str:
    return "'" + " ".join(text.split()).replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(parser: argparse.ArgumentParser) -> str:
    """A fish script: commands (nested), their options, choices and file arguments."""
    prog = parser.prog.split()[0]
    lines = [f"# fish completion for {prog} (written by `{prog} completion fish`)",
             f"complete -c {prog} -f"]
    for path, each in walk(parser):
        condition = f"__fish_seen_subcommand_from {path[-1]}" if path else "__fish_use_subcommand"
        subs = subcommands(each)
        if subs:
            below = " ".join(subs)
            guard = f"{condition}; and not __fish_seen_subcommand_from {below}" if path \
                else condition
            helps = {a.dest: a.help for a in _choice_actions(each)}
            for name, sub in subs.items():
                text = helps.get(name) or sub.description or ""
                lines.append(f"complete -c {prog} -n {_quote(guard)} -a {name} -d {_quote(text)}")
        for action in each._actions:
            if isinstance(action, argparse._SubParsersAction) or action.help == argparse.SUPPRESS:
                continue
            parts = [f"complete -c {prog} -n {_quote(condition)}"]
            longs = [s[2:] for s in action.option_strings if s.startswith("--")]
            shorts = [s[1:] for s in action.option_strings if len(s) == 2 and s[0] == "-"]
            if not longs and not shorts:  # a positional
                if action.choices:
                    parts.append(f"-a {_quote(' '.join(map(str, action.choices)))}")
                elif getattr(action, "complete", None):
                    parts.append("-F")
                else:
                    continue
            else:
                parts += [f"-l {name}" for name in longs] + [f"-s {name}" for name in shorts]
                if action.nargs != 0:
                    if action.choices:
                        parts.append(f"-x -a {_quote(' '.join(map(str, action.choices)))}")
                    elif getattr(action, "complete", None):
                        parts.append("-r -F")
                    else:
                        parts.append("-x")
            if action.help:
                parts.append(f"-d {_quote(action.help)}")
            lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def _choice_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The sub-command entries (``dest`` = name, ``help`` = the one-line help)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action._choices_actions)
    return []
