"""argparse as the CLI uses it: no abbreviations, usage errors raised (not printed and exited) with
a "did you mean ...", readable placeholders for plugin flags, and a walk over the command tree
(for ``spectryn help``, the completion scripts and the tests)."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator, Sequence
from typing import Any

from spectryn_core.errors import UsageError

_CHOICE = re.compile(r"argument (?P<arg>\S+): invalid choice: '(?P<word>[^']*)' \(choose from (?P<choices>.*)\)")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that never takes ``--exec`` for ``--execute`` (``allow_abbrev`` off)
    and raises :class:`UsageError` instead of printing usage and exiting, so ``--output json``
    can render the error like any other. Sub-command parsers are of this class too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.argv: list[str] = []

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        self.argv = list(args or [])
        return super().parse_args(self.argv, namespace)

    def error(self, message: str) -> Any:
        target = command_for(self, self.argv) if self.argv else self
        match = _CHOICE.match(message)
        if match and match["arg"] == "COMMAND":
            # `--markdwn EPIC.md`: argparse took EPIC.md for a command; the typo is the news
            known = {s for action in target._actions for s in action.option_strings}
            unknown = [w for w in self.argv[: self.argv.index(match["word"])]
                       if w.startswith("-") and w.split("=", 1)[0] not in known]
            if unknown:
                message = "unrecognized arguments: " + " ".join(unknown)
            elif target is self and _looks_like_a_spec(match["word"]):
                # `spectryn docs/specs`: a spec named where a command goes
                word = match["word"]
                raise UsageError(_improve(message, target),
                                 f"to sync it: `{self.prog} --markdown {word} --tracker NAME`; "
                                 f"to check it: `{self.prog} validate {word}`")
        raise UsageError(_improve(message, target), f"see `{target.prog} --help`")


def _looks_like_a_spec(word: str) -> bool:
    """A word that names a file, a folder or a glob rather than a command."""
    from pathlib import Path

    return ("/" in word or "*" in word or word.lower().endswith((".md", ".markdown"))
            or Path(word).exists())


def _improve(message: str, parser: argparse.ArgumentParser) -> str:
    """argparse's message, with the close match of a mistyped command, flag or choice."""
    import difflib  # only when there is a usage error to improve

    match = _CHOICE.match(message)
    if match:
        word = match["word"]
        choices = re.findall(r"'([^']*)'", match["choices"])
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
        if match["arg"] == "COMMAND" or match["arg"].startswith("{"):
            text = f"unknown command '{word}'"
        else:
            text = f"{match['arg']}: invalid choice '{word}' (choose from {', '.join(choices)})"
        return text + (f" - did you mean '{close[0]}'?" if close else "")
    if message.startswith("unrecognized arguments: "):
        options = [s for action in parser._actions for s in action.option_strings]
        parts = []
        for word in message.removeprefix("unrecognized arguments: ").split():
            flag = word.split("=", 1)[0]
            close = difflib.get_close_matches(flag, options, n=1, cutoff=0.75) if flag.startswith("-") else []
            parts.append(f"{word} (did you mean {close[0]}?)" if close else word)
        what = "unknown option" if all(p.startswith("-") for p in parts) else "unexpected argument"
        return f"{what}{'s' if len(parts) > 1 else ''}: {', '.join(parts)}"
    return message


def unknown_command(word: str, choices: Sequence[str], prog: str) -> UsageError:
    """``unknown command 'x' - did you mean 'y'?``"""
    import difflib

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
    hint = f"commands: {', '.join(choices)}" if choices else f"`{prog}` has no sub-commands"
    return UsageError(f"unknown command '{word}'" + (f" - did you mean '{close[0]}'?" if close else ""),
                      hint)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser's sub-command parsers by name (``{}`` when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_for(parser: argparse.ArgumentParser, words: Sequence[str]) -> argparse.ArgumentParser:
    """The deepest sub-command parser named by ``words`` (``["bitbucket", "repos", ...]``)."""
    for word in words:
        sub = subcommands(parser)
        if word in sub:
            parser = sub[word]
        elif not word.startswith("-") and sub:
            break
    return parser


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (command words, parser) of the tree, the root first; aliases are not repeated."""
    yield path, parser
    seen: set[int] = set()
    for name, sub in subcommands(parser).items():
        if id(sub) not in seen:
            seen.add(id(sub))
            yield from walk(sub, (*path, name))


def readable_metavars(parser: argparse.ArgumentParser) -> None:
    """``--bitbucket-username USERNAME`` instead of argparse's ``BITBUCKET.USERNAME``: every
    option whose destination is a config key (``section.key``) and that takes a value gets the
    key's name as its placeholder, in the whole tree."""
    for _path, each in walk(parser):
        for action in each._actions:
            if action.option_strings and action.metavar is None and action.nargs != 0 \
                    and action.choices is None and "." in action.dest:
                action.metavar = action.dest.rsplit(".", 1)[1].upper()


def example_epilog(*examples: str, extra: str = "") -> str:
    """The ``example:`` block every command's ``--help`` ends with."""
    lines = ["example:" if len(examples) == 1 else "examples:"]
    lines += [f"  {example}" for example in examples]
    return "\n".join(lines) + (f"\n\n{extra}" if extra else "")
