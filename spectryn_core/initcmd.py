"""``spectryn init``: write a commented ``.spectryn.yaml`` from flags or from questions asked on a
terminal, then test the connection and say which environment variable holds the secret.

What a tracker needs comes from its plugin (the ``init_fields`` hook), so the core stays
ignorant of any tracker. Secrets are never written unless ``--store-secret`` asks for them (then
typed without echo, and the file is made readable by its owner only); an existing file is never
overwritten.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spectryn_core.errors import SpectrynError, UsageError
from spectryn_core.plugins import Plugins

DEFAULT_FILE = ".spectryn.yaml"
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:@+-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "~"}


@dataclass(frozen=True)
class InitField:
    """One value ``spectryn init`` asks for (or takes from ``--KEY``) and writes to the tracker's
    config section.

    ``key`` is the config key (and the flag ``--key`` with dashes), ``prompt`` the question and
    the flag's help, ``required`` whether init insists on it, ``default`` a value written
    commented out when none is given. A ``secret`` is never a flag and never written unless the
    user asks (``--store-secret``); ``env`` is the variable init tells users to set instead.
    ``together`` names the keys of other fields a secret is used with (an API token with its
    account email): when they were not given, init names their variables with the secret's.
    """

    key: str
    prompt: str
    required: bool = False
    default: str | None = None
    secret: bool = False
    env: str = ""
    together: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def dest(self) -> str:
        return f"init_{self.key}"


def tracker_fields(plugins: Plugins) -> dict[str, list[InitField]]:
    """Tracker name -> the fields its plugin's ``init_fields`` returns."""
    names = {id(plugin): name for name, plugin in plugins.tracker_plugins().items()}
    found: dict[str, list[InitField]] = {}
    for plugin, fields in plugins.call_each("init_fields"):
        if id(plugin) in names and fields:
            found[names[id(plugin)]] = list(fields)
    return found


def add_init_parser(sub: Any, plugins: Plugins, epilog: str) -> None:
    """``spectryn init`` with one flag per non-secret field of every installed tracker."""
    p = sub.add_parser("init", help="write a commented .spectryn.yaml and test the connection",
                       description="Write a commented .spectryn.yaml (no secret, never over a file), "
                       "then test the connection.", epilog=epilog)
    p.add_argument("--tracker", metavar="NAME", help="tracker plugin (e.g. bitbucket)")
    seen: set[str] = set()
    for fields in tracker_fields(plugins).values():
        for field in fields:
            if field.secret or field.key in seen:
                continue
            seen.add(field.key)
            p.add_argument(field.flag, dest=field.dest, metavar=field.key.upper(), help=field.prompt)
    p.add_argument("--file", metavar="FILE", default=DEFAULT_FILE,
                   help=f"the file to write (default {DEFAULT_FILE}; .toml is not written)")
    p.add_argument("--store-secret", action="store_true",
                   help="also ask for the secret (typed without echo) and keep it in the file, "
                        "readable by you only; by default secrets stay in the environment")
    p.add_argument("--no-input", action="store_true", help="never ask questions, even on a terminal")
    p.add_argument("--no-check", action="store_true", help="do not test the connection")
    p.add_argument("--output", dest="sync.output", choices=("text", "json"), default=None,
                   help="text (default) or one JSON object on stdout")


def run_init(args: argparse.Namespace, app: Any, *, ask: Callable[[str], str] = input,
             ask_secret: Callable[[str], str] = getpass.getpass) -> dict[str, Any]:
    """Write the file and test the connection; returns what happened (the JSON answer).

    Raises :class:`UsageError` for a file that exists, an unknown tracker or a missing value
    when no terminal can be asked. A failed connection test does not raise: it is in the answer's
    ``error`` (the file is written either way).
    """
    interactive = not args.no_input and sys.stdin.isatty()
    path = Path(args.file)
    if path.suffix not in (".yaml", ".yml"):
        raise UsageError(f"{path}: init writes YAML only", "use --file .spectryn.yaml")
    if path.exists():
        raise UsageError(f"{path} exists; init never overwrites a file",
                         f"edit {path}, or move it away and run `spectryn init` again")
    every = tracker_fields(app.pm)
    tracker = args.tracker
    if not tracker and len(every) == 1:
        tracker = next(iter(every))
    if not tracker and interactive:
        tracker = _ask(ask, f"Tracker ({', '.join(sorted(every))})", None, required=True)
    if not tracker:
        raise UsageError("no tracker chosen", f"pass --tracker NAME (installed: "
                         f"{', '.join(sorted(every)) or 'none'})")
    app.pm.tracker_hooks(tracker)  # an unknown tracker fails here, with the install hint
    fields = every.get(tracker, [])
    secret_place = secret_file_check(path, fields) if args.store_secret else ""
    values: dict[str, str] = {}
    for field in fields:
        given = getattr(args, field.dest, None)
        if field.secret:
            if args.store_secret:
                if not interactive:
                    raise UsageError("--store-secret asks for the secret on a terminal",
                                     f"set {field.env} in the environment instead")
                secret = ask_secret(f"{field.prompt} (not echoed; empty: skip): ").strip()
                if secret:
                    values[field.key] = secret
            continue
        if given is None and interactive:
            given = _ask(ask, field.prompt, field.default, required=field.required)
        if given:
            values[field.key] = given
        elif field.required:
            raise UsageError(f"{field.flag} is needed ({field.prompt})",
                             f"spectryn init --tracker {tracker} "
                             + " ".join(f"{f.flag} {f.key.upper()}" for f in fields if f.required))
    text = render(tracker, fields, values)
    _write_new(path, text, secret=any(f.secret and f.key in values for f in fields))
    answer: dict[str, Any] = {"written": str(path), "tracker": tracker,
                              "secret_env": secret_variables(fields, values)}
    if any(f.secret and f.key in values for f in fields):
        answer["secret_file"] = secret_place
    if args.no_check:
        answer["connection"] = "not tested"
        return answer
    from spectryn_core.cli import check_connection

    check_args = argparse.Namespace(config=str(path))
    try:
        config = app.load_config(check_args, tracker=tracker)
        _tracker, target, lines = check_connection(app, config)
    except SpectrynError as error:
        answer["connection"] = "failed"
        answer["error"] = {"kind": error.kind, "message": error.message, "hint": error.hint}
        answer["exit_code"] = error.exit_code
        return answer
    answer.update(connection="ok", target=target, details=lines)
    return answer


def secret_file_check(path: Path, fields: list[InitField]) -> str:
    """Where ``--store-secret`` would keep the secret, said in a few words (``git-ignored``, ``not in
    a git work tree``); a :class:`UsageError` before anything is asked or written when ``path``
    is in a git work tree and not git-ignored: the next commit would publish the secret."""
    import subprocess

    from spectryn_core.worktree import Repository

    folder = Path(os.path.abspath(path)).parent
    while not folder.exists():
        folder = folder.parent
    repo = Repository.of(folder)
    if not repo.git:
        return "not in a git work tree"
    target = Path(os.path.realpath(path))
    try:
        done = subprocess.run(["git", "-C", str(repo.root), "check-ignore", "-q", "--no-index", "--",
                               str(target)], capture_output=True, timeout=20, check=False)
        ignored = done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        ignored = False
    if ignored:
        return f"git-ignored in {repo.root}"
    variables = " or ".join(dict.fromkeys(f.env for f in fields if f.secret and f.env)) or "the environment"
    import platformdirs

    user_file = Path(os.environ.get("SPECTRYN_CONFIG_DIR") or platformdirs.user_config_dir("spectryn"))
    raise UsageError(
        f"{path} is in the git work tree {repo.root} and git does not ignore it: a secret written "
        "there would go out with the next commit; nothing was written",
        f"add {path.name} to .gitignore and run again, or keep the secret out of the repository: "
        f"set {variables} in the environment, or in your user config ({user_file / 'config.yaml'}, "
        "chmod 600)")


def secret_variables(fields: list[InitField], values: dict[str, str]) -> list[str]:
    """What to set for each secret not written: ``BITBUCKET_EMAIL and BITBUCKET_API_TOKEN`` (the
    variables of the fields it goes ``together`` with that were not given, then its own)."""
    by_key = {field.key: field for field in fields}
    found: list[str] = []
    for field in fields:
        if not field.secret or not field.env or field.key in values:
            continue
        partners = [by_key[key].env for key in field.together
                    if key in by_key and key not in values and by_key[key].env]
        found.append(" and ".join([*partners, field.env]))
    return found


def cmd_init(args: argparse.Namespace, app: Any) -> int:
    """``spectryn init``: print what was written and how the connection test went; a failed
    test ends in the ``error:`` / ``hint:`` form, with where to put the secret when it is missing."""
    from spectryn_core.cli import OUTPUT

    answer = run_init(args, app)
    code = int(answer.pop("exit_code", 0))
    if OUTPUT.json:
        print(json.dumps(answer, indent=2))
        return code
    print(f"wrote {answer['written']} (tracker {answer['tracker']})")
    if answer.get("secret_file"):
        print(f"the secret is in {answer['written']}, readable by you only ({answer['secret_file']})")
    where = ""
    if answer["secret_env"]:
        where = (f"the secret is not in {answer['written']}: set {', or '.join(answer['secret_env'])} "
                 "in the environment (a secured variable in CI), then run `spectryn check`")
    if answer["connection"] == "ok":
        print(f"connection OK ({answer['target']})")
        for line in answer["details"]:
            print(f"  {line}")
    elif answer["connection"] == "failed":
        error = answer["error"]
        # a missing secret is a config error: then where to put it comes first
        hints = [where] if where and error["kind"] == "config" else []
        hints += [error["hint"]] if error["hint"] else []
        print(f"error: {error['message']}", file=sys.stderr)
        if hints:
            print(f"  hint: {'; '.join(hints)}", file=sys.stderr)
    elif where:
        print(where)
    return code


def _ask(ask: Callable[[str], str], prompt: str, default: str | None, *, required: bool) -> str:
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    for _attempt in range(3):
        answer = ask(shown).strip()
        if answer or not required:
            return answer
        print("  a value is needed", file=sys.stderr)
    raise UsageError(f"no answer for: {prompt}", "run again, or pass it as a flag")


def render(tracker: str, fields: list[InitField], values: dict[str, str]) -> str:
    """The commented YAML file init writes."""
    lines = [
        "# spectryn configuration, written by `spectryn init`.",
        "# Flags and environment variables override what is here (see README: Configuration).",
        "",
        "sync:",
        f"  tracker: {_scalar(tracker)}",
        "  # execute: false      # true: apply without --execute",
        "  # workers: 8          # parallel writes",
        "",
        f"{tracker}:",
    ]
    for field in fields:
        lines.append(f"  # {field.prompt}")
        if field.key in values:
            lines.append(f"  {field.key}: {_scalar(values[field.key])}")
        elif field.secret:
            where = f"set {field.env} in the environment" if field.env else "keep it out of files"
            lines.append(f"  # {field.key}: not kept here - {where}")
        else:
            lines.append(f"  # {field.key}: {_scalar(field.default) if field.default else ''}".rstrip())
    return "\n".join(lines) + "\n"


def _scalar(value: str) -> str:
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and not value[0].isdigit():
        return value
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def _write_new(path: Path, text: str, *, secret: bool) -> None:
    """Create ``path`` (never replacing one that appeared meanwhile); 0600 when it holds a secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if secret else 0o644)
    except FileExistsError:
        raise UsageError(f"{path} exists; init never overwrites a file", f"edit {path}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
