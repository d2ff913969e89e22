"""The ``spectryn`` command line.

``spectryn --markdown EPIC.md --tracker bitbucket [--execute]`` syncs (the seed's form; also
``spectryn sync ...``); ``spectryn validate``, ``check``, ``plugins``, ``init``, ``completion``,
``help`` and the plugins' own commands (``spectryn bitbucket ...``) do the rest. Errors are
rendered once, here, without a traceback: ``error: ...`` on stderr and, with ``--output json``,
one ``{"error": {"kind", "message", "hint"}}`` object on stdout. Exit codes: :data:`EXIT_CODES`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectryn_core._version import __version__
from spectryn_core.argparsing import (
    Parser,
    example_epilog,
    readable_metavars,
    subcommands,
    unknown_command,
)
from spectryn_core.errors import SpecError, SpectrynError, UsageError

# Imported by the commands that need them, so that `spectryn --version` stays fast (issue 15):
# the config module (marshmallow, PyYAML), the plugin manager (pluggy, importlib.metadata), init's
# command, platformdirs and logging (the run log).
if TYPE_CHECKING:
    from spectryn_core.config import Config
    from spectryn_core.plugins import Plugins

EXIT_OK, EXIT_SYNC_ERRORS, EXIT_USAGE, EXIT_PENDING = 0, 1, 2, 3
EXIT_AUTH, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 4, 5, 130
#: The exit-code table, as ``--help`` and the README show it.
EXIT_CODES = (
    (EXIT_OK, "ok (a dry-run with changes pending too, unless --exit-code)"),
    (EXIT_SYNC_ERRORS, "sync errors: an item failed, or the run stopped part-way (run again)"),
    (EXIT_USAGE, "usage, config or spec error, or an unknown workspace/repository: nothing was sent"),
    (EXIT_PENDING, "with --exit-code: a dry-run found changes to send or conflicts"),
    (EXIT_AUTH, "the tracker refused the credentials, or they lack a permission"),
    (EXIT_UNREACHABLE, "the tracker cannot be reached or is unavailable (network, TLS, outage, "
                       "rate limit): retry later"),
    (EXIT_INTERRUPTED, "interrupted (what was written is recorded; run again)"),
)
SYNC_EXAMPLES = (
    "spectryn --markdown EPIC.md --tracker bitbucket            # dry-run: show the plan",
    "spectryn --markdown EPIC.md --tracker bitbucket --execute  # apply it",
    "spectryn --markdown EPIC.md --tracker bitbucket --output json --exit-code   # CI",
    "spectryn --markdown docs/specs --tracker bitbucket --execute --write-back   # many files",
)


def exit_code_text() -> str:
    """The exit-code table for ``--help``."""
    return "exit codes:\n" + "\n".join(f"  {code:<4} {text}" for code, text in EXIT_CODES)


class App:
    """What a command gets: the loaded plugins and a way to load the config."""

    def __init__(self, plugins: Plugins) -> None:
        self.pm = plugins

    def sections(self) -> list[Any]:
        from spectryn_core.config import core_sections

        sections = list(core_sections())
        for _plugin, contributed in self.pm.call_each("config_sections"):
            sections.extend(contributed or [])
        return sections

    def load_config(self, args: argparse.Namespace, tracker: str | None = None) -> Config:
        """Merge flags (``dest="section.key"``), environment, files and defaults."""
        cli = {k: v for k, v in vars(args).items() if "." in k and v is not None}
        config_file = getattr(args, "config", None)
        from spectryn_core.config import load_config

        config = load_config(
            self.sections(),
            cli=cli,
            config_file=Path(config_file) if config_file else None,
            tracker=tracker,
        )
        for warning in config.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        self.pm.disable(config.get("plugins.disable") or [])
        if config.get("sync.output") == "json":
            OUTPUT.json = True
        return config


def chosen_tracker(app: App, config: Config) -> str:
    """The tracker the run uses (``--tracker`` or ``sync.tracker``); a usage error naming the
    installed ones when none is chosen."""
    tracker = config.tracker or config.get("sync.tracker")
    if not tracker:
        known = ", ".join(app.pm.tracker_names()) or "none installed"
        raise UsageError("no tracker chosen", f"pass --tracker NAME (installed: {known})")
    return str(tracker)


class _Output:
    """Whether this run answers in JSON: ``--output json`` anywhere on the command line, or
    ``sync.output: json`` once the config is loaded."""

    json = False


OUTPUT = _Output()


# --- parsers --------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="config file (.yaml, .yml or .toml); "
                        "default: the nearest .spectryn.yaml|.yml|.toml or pyproject.toml "
                        "[tool.spectryn] from here up to the repository root")
    parser.add_argument("--verbose", "-v", dest="sync.verbose", action="store_true", default=None,
                        help="show requests and decisions, and where the run log is")


def _output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", dest="sync.output", choices=("text", "json"), default=None,
                        help="text (default) or one JSON object on stdout (errors too)")


def _plugin_options(parser: argparse.ArgumentParser, plugins: Plugins) -> None:
    plugins.call_each("add_options", parser=parser.add_argument_group("plugin options"))


def add_sync_arguments(parser: argparse.ArgumentParser, plugins: Plugins, *, required: bool) -> None:
    """The sync options, on the root parser (the seed's ``spectryn --markdown ...`` form) and on
    ``spectryn sync``."""
    parser.add_argument("--markdown", "--spec", dest="spec", metavar="FILE", required=required,
                        nargs="+", help="the spec file(s) to sync: files, folders (their .md "
                        "files, recursively) or globs (e.g. EPIC.md, docs/specs, 'docs/**/*.md')")
    parser.add_argument("--tracker", dest="sync.tracker", metavar="NAME", default=None,
                        help="tracker plugin to sync to (e.g. bitbucket); default: sync.tracker")
    parser.add_argument("--execute", dest="sync.execute", action="store_true", default=None,
                        help="apply the plan (default: dry-run, nothing is sent)")
    parser.add_argument("--only", metavar="KEY",
                        help="sync one story and its subtasks (or one subtask, or one epic)")
    parser.add_argument("--force", dest="sync.force", action="store_true", default=None,
                        help="overwrite conflicts (items changed in the tracker and in the file)")
    parser.add_argument("--conflict-policy", dest="sync.conflict_policy", metavar="FIELD=WHO,...",
                        default=None,
                        help="who wins per field when both sides changed it: spec, tracker or ask "
                        "(a conflict, the default), e.g. state=tracker,assignee=tracker,content=spec "
                        "(text is merged first); default: sync.conflict_policy")
    parser.add_argument("--write-back", dest="sync.write_back", action="store_true", default=None,
                        help="after --execute, write each item's issue link into the spec "
                        "(an Issue row / column); default: sync.write_back")
    parser.add_argument("--adopt", dest="sync.adopt", metavar="KEY", action="append", default=None,
                        help="take over the tracker item that carries KEY but was not made by "
                        "spectryn (hand-made, or someone else's): the spec's values are sent to "
                        "it (repeat for several keys); default: sync.adopt")
    parser.add_argument("--recheck-pull-requests", dest="sync.recheck_pull_requests",
                        action="store_true", default=None,
                        help="check again the pull requests an earlier run found missing (one "
                        "read each) and link those that exist now; without it they are checked "
                        "again only when their issue is written; default: sync.recheck_pull_requests")
    parser.add_argument("--workers", dest="sync.workers", type=int, metavar="N", default=None,
                        help="parallel writes (default 8)")
    _output_flag(parser)
    parser.add_argument("--diff", action="store_true",
                        help="show the whole content diff of each update (default: a few lines)")
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 3 when a dry-run finds changes to send or conflicts (for CI)")
    _common(parser)
    _plugin_options(parser, plugins)


def build_parser(plugins: Plugins) -> Parser:
    """The whole command tree: the root (which syncs, like ``spectryn sync``), the built-in
    commands and the plugins' commands (``add_commands``)."""
    root = Parser(
        prog="spectryn",
        usage="spectryn --markdown FILE... --tracker NAME [--execute] [options]\n"
              "       spectryn COMMAND [options]      (spectryn help COMMAND)",
        description="Sync a markdown spec to an issue tracker (a dry-run unless --execute).",
        epilog=example_epilog(*SYNC_EXAMPLES, extra=exit_code_text()
                              + "\n\nrun `spectryn help COMMAND` for a command's options"),
    )
    root.add_argument("--version", action="version", version=f"spectryn {__version__}")
    add_sync_arguments(root, plugins, required=False)
    sub = root.add_subparsers(dest="command", metavar="COMMAND", title="commands", prog="spectryn")

    p = sub.add_parser("sync", help="plan (or with --execute apply) a sync; the default command",
                       description="Plan, or with --execute apply, the sync of a spec (the same as "
                       "`spectryn --markdown ...`).",
                       epilog=example_epilog(*(e.replace("spectryn ", "spectryn sync ", 1)
                                               for e in SYNC_EXAMPLES)))
    add_sync_arguments(p, plugins, required=True)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("validate", help="check a spec file and report every problem",
                       description="Check a spec file and report every problem as file:line: "
                       "message; nothing is sent.",
                       epilog=example_epilog(
                           "spectryn validate EPIC.md",
                           "spectryn validate docs/specs --output json",
                           "git diff --cached --name-only -z --diff-filter=d -- '*.md' "
                           "| xargs -0 spectryn validate --only-specs   # a git hook"))
    p.add_argument("file", metavar="FILE", nargs="*",
                   help="spec files, folders (their .md files, recursively) or globs")
    p.add_argument("--only-specs", action="store_true",
                   help="for hooks given the changed files: skip a file with no story (a README) "
                        "with a note, and pass when no file is given")
    _output_flag(p)
    _common(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("check", help="test the connection to a tracker",
                       description="Test the connection: authenticate, find the repository, list "
                       "what the tracker has.",
                       epilog=example_epilog("spectryn check --tracker bitbucket"))
    p.add_argument("--tracker", dest="sync.tracker", metavar="NAME", default=None,
                   help="tracker plugin (e.g. bitbucket); default: sync.tracker")
    _output_flag(p)
    _common(p)
    _plugin_options(p, plugins)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plugins", help="list plugins, their hooks and load problems",
                       description="List the plugins found, their versions and hooks, and why any "
                       "failed to load.",
                       epilog=example_epilog("spectryn plugins", "spectryn plugins --output json"))
    _output_flag(p)
    p.set_defaults(func=cmd_plugins)

    from spectryn_core import pull_cli, review

    pull_cli.add_parser(sub, plugins, _common)
    review.add_parser(sub, plugins, _common, _plugin_options)

    p = sub.add_parser("help", help="show the help of spectryn or of a command",
                       description="Show the help of spectryn, or of the command named.",
                       epilog=example_epilog("spectryn help check", "spectryn help bitbucket repos"))
    p.add_argument("words", nargs="*", metavar="COMMAND", help="the command (and sub-command)")
    p.set_defaults(func=cmd_help)

    from spectryn_core.initcmd import add_init_parser, cmd_init

    add_init_parser(sub, plugins, example_epilog(
        "spectryn init --tracker bitbucket --workspace acme --repo api",
        "spectryn init          # on a terminal: asks the questions"))
    sub.choices["init"].set_defaults(func=cmd_init)

    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)",
                       description="Print a completion script for bash, zsh or fish, with the "
                       "plugins' commands and flags.",
                       epilog=example_epilog(
                           "spectryn completion bash > ~/.local/share/bash-completion/completions/spectryn",
                           "spectryn completion zsh > ~/.zfunc/_spectryn",
                           "spectryn completion fish > ~/.config/fish/completions/spectryn.fish"))
    p.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    p.set_defaults(func=cmd_completion)

    plugins.call_each("add_commands", subparsers=sub)
    readable_metavars(root)
    return root


# --- commands -------------------------------------------------------------------------------


def cmd_sync(args: argparse.Namespace, app: App) -> int:
    """Plan or apply the sync of the spec files named on the command line (files, folders, globs)."""
    import logging

    from spectryn_core import report
    from spectryn_core.multi import run_many
    from spectryn_core.policy import Policy
    from spectryn_core.spec_files import expand
    from spectryn_core.sync import SyncRequest

    config = app.load_config(args, tracker=getattr(args, "sync.tracker"))
    tracker = chosen_tracker(app, config)
    verbose = bool(config.get("sync.verbose"))
    log_path = _start_log(config, verbose)
    tracker_section = config.section(tracker)
    workers = tracker_section.get("workers") or config.get("sync.workers") or 8
    files = expand(list(args.spec), max_size=config.get("sync.max_spec_size"))
    request = SyncRequest(
        spec_path=files[0].path,
        tracker=tracker,
        state_dir=_dir(config, "state"),
        execute=bool(config.get("sync.execute")),
        only=args.only,
        force=bool(config.get("sync.force")),
        workers=int(workers),
        adopt=tuple(config.get("sync.adopt") or ()),
        trusted_accounts=tuple(config.get("sync.trusted_accounts") or ()),
        policy=Policy.parse(config.get("sync.conflict_policy") or {}),
        recheck_pull_requests=bool(config.get("sync.recheck_pull_requests")),
    )
    logging.getLogger("spectryn.cli").info("spectryn %s: %s %s -> %s", __version__,
             "execute" if request.execute else "dry-run", " ".join(str(f.path) for f in files), tracker)
    started = time.monotonic()
    outcome = run_many(app.pm, config, files, request, progress=_progress_printer(),
                       write_back=bool(config.get("sync.write_back")))
    elapsed = time.monotonic() - started
    if OUTPUT.json:
        _print_json(report.many_to_json(outcome))
    else:
        print(report.many_to_text(outcome, verbose=verbose, full_diff=args.diff))
    results = outcome.results
    if verbose and results:
        requests = ", ".join(f"{k} {v}" for k, v in results[-1].requests.items())
        states = ", ".join(str(r.state_path) for r in results)
        print(f"{elapsed:.1f}s; requests: {requests or 'n/a'}; state: {states}", file=sys.stderr)
        if log_path:
            print(f"run log: {log_path}", file=sys.stderr)
    for result in results:
        if result.error is not None:
            print(f"error: {result.error}", file=sys.stderr)
            return result.error.exit_code
    for error in outcome.write_errors:
        print(f"error: {error}", file=sys.stderr)
    if outcome.write_errors or any(result.failed for result in results):
        return EXIT_SYNC_ERRORS
    if args.exit_code and not request.execute and any(
            r.plan.has_pending or r.plan.counts()["conflict"] for r in results):
        return EXIT_PENDING
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace, app: App) -> int:
    """``spectryn plugins``."""
    trackers = {name: plugin for name, plugin in app.pm.tracker_plugins().items()}
    roles = {app.pm.pm.get_name(plugin): name for name, plugin in trackers.items()}
    rows: list[dict[str, Any]] = []
    for info in app.pm.infos:
        rows.append({
            "name": info.name,
            "module": info.module,
            "distribution": info.distribution,
            "version": info.version,
            "loaded": info.loaded,
            "tracker": roles.get(info.name),
            "hooks": info.hooks,
            "error": info.error or None,
            "fix": info.hint or None,
        })
    if OUTPUT.json:
        _print_json({"plugins": rows})
        return EXIT_OK
    for row in rows:
        dist = f"{row['distribution']} {row['version']}".strip()
        status = "ok" if row["loaded"] else "NOT LOADED"
        print(f"{row['name']:<12} {status:<11} {row['module']}  ({dist})")
        if row["loaded"]:
            role = f"tracker '{row['tracker']}'; " if row["tracker"] else ""
            print(f"{'':12} {role}hooks: {', '.join(row['hooks']) or '-'}")
        else:
            print(f"{'':12} {row['error']}")
            print(f"{'':12} fix: {row['fix']}")
    return EXIT_OK


def check_connection(app: App, config: Config) -> tuple[str, str, list[str]]:
    """Run the chosen tracker's ``check_tracker``: (tracker, target, detail lines)."""
    tracker = chosen_tracker(app, config)
    hooks = app.pm.tracker_hooks(tracker)
    connection = hooks.open_tracker(config=config)
    try:
        lines = hooks.check_tracker(connection=connection) or []
    finally:
        connection.close()
    return tracker, connection.target, list(lines)


def cmd_check(args: argparse.Namespace, app: App) -> int:
    """``spectryn check``: test the connection."""
    config = app.load_config(args, tracker=getattr(args, "sync.tracker"))
    _start_log(config, bool(config.get("sync.verbose")))
    tracker, target, lines = check_connection(app, config)
    if OUTPUT.json:
        _print_json({"tracker": tracker, "target": target, "connection": "ok", "details": lines})
        return EXIT_OK
    print(f"{tracker}: connection OK ({target})")
    for line in lines:
        print(f"  {line}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, app: App) -> int:
    """``spectryn validate FILE...``."""
    from spectryn_core.multi import parse_all
    from spectryn_core.spec_files import expand
    from spectryn_core.spec_json import spec_to_json

    config = app.load_config(args)
    if not args.file and not args.only_specs:
        raise UsageError("the following arguments are required: FILE", "see `spectryn validate --help`")
    files = expand(list(args.file), max_size=config.get("sync.max_spec_size"),
                   example="spectryn validate EPIC.md")
    if args.only_specs:  # each file as if found in a folder: one without stories is not a spec
        from spectryn_core.spec_files import SpecFile

        files = [SpecFile(file.path, named=False) for file in files]
    try:
        specs, notes = parse_all(app.pm, files, config)
    except SpecError as error:
        error.nothing_sent = False  # validate never sends: do not say it held something back
        if OUTPUT.json:
            from spectryn_core.report import error_json  # the sync report's module: not otherwise needed

            parsed = [app.pm.hook.parse_spec(path=f.path, config=config) for f in files]
            shown = [spec_to_json(s) for s in parsed if s is not None]
            body = shown[0] if len(files) == 1 and shown else {"specs": shown}
            _print_json({**body, **error_json(error)})
            _print_spec_error(error)
            return EXIT_USAGE
        raise error
    if OUTPUT.json:
        shown = [spec_to_json(spec) for spec in specs]
        _print_json(shown[0] if len(files) == 1 and shown else {"specs": shown, "skipped": notes})
        return EXIT_OK
    for spec in specs:
        for warning in spec.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        stories = spec.stories()
        subtasks = sum(len(s.subtasks) for s in stories)
        print(f"{spec.path}: OK - {len(spec.epics)} epic(s), {len(stories)} stories, "
              f"{subtasks} subtasks")
    for note in notes:
        print(f"note: {note}")
    if not specs:
        print("no spec files to check")
    return EXIT_OK


def cmd_help(args: argparse.Namespace, app: App) -> int:
    """``spectryn help [COMMAND ...]``: that command's ``--help``."""
    parser: argparse.ArgumentParser = build_parser(app.pm)
    for word in args.words:
        choices = subcommands(parser)
        if word not in choices:
            raise unknown_command(word, sorted(choices), parser.prog)
        parser = choices[word]
    parser.print_help()
    return EXIT_OK


def cmd_completion(args: argparse.Namespace, app: App) -> int:
    """``spectryn completion SHELL``."""
    from spectryn_core.completion import script

    sys.stdout.write(script(build_parser(app.pm), args.shell, trackers=app.pm.tracker_names()))
    return EXIT_OK


# --- helpers --------------------------------------------------------------------------------


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _print_spec_error(error: SpecError) -> None:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"error: {error.headline}\n  hint: {error.HINT}", file=sys.stderr)


def _dir(config: Config, kind: str) -> Path:
    configured = config.get(f"sync.{kind}_dir")
    if configured:
        path = Path(configured).expanduser()
        origin = config.origin(f"sync.{kind}_dir")
        if not path.is_absolute() and origin.kind in ("user", "repository") and origin.path is not None:
            # written in a config file: relative to that file, wherever the command runs from
            path = origin.path.parent / path
        return path
    import platformdirs

    if kind == "state":
        return Path(platformdirs.user_state_dir("spectryn"))
    return Path(platformdirs.user_log_dir("spectryn"))


def _start_log(config: Config, verbose: bool) -> Path | None:
    from spectryn_core import runlog

    return runlog.start(_dir(config, "log"), verbose=verbose, secrets=config.secret_values())


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _progress_printer() -> Any:
    """Progress on stderr for runs of 20 writes or more: at most one line a second, and the
    final ``N/N`` line once (writes that send nothing more, such as an issue's further
    attachments going in its first upload, can finish after it)."""
    last = [0.0]
    finished = [False]

    def show(done: int, total: int, key: str, eta: float | None = None) -> None:
        now = time.monotonic()
        if total < 20 or finished[0]:
            return
        if now - last[0] >= 1.0 or done >= total:
            last[0] = now
            finished[0] = done >= total
            left = ""
            if eta is not None and done < total:
                left = f", about {_duration(eta)} left"
            print(f"progress: {done}/{total} writes (last: {key}){left}", file=sys.stderr,
                  flush=True)

    return show


def _wants_json(argv: Sequence[str]) -> bool:
    """``--output json`` (or ``--output=json``) anywhere on the command line."""
    return "--output=json" in argv or any(
        a == "--output" and b == "json" for a, b in zip(argv, argv[1:], strict=False))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it).

    Everything it prints goes through :class:`spectryn_core.redact.SafeStream`: no secret the
    run was given, no raw control character from tracker text."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # answered before anything is loaded (start-up time, issue 15)
        print(f"spectryn {__version__}")
        return EXIT_OK
    from spectryn_core.redact import SafeStream

    OUTPUT.json = _wants_json(argv)
    if isinstance(sys.stdout, SafeStream):  # already inside a run (init runs check)
        return _guarded(argv)
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(streams[0]), SafeStream(streams[1])
    try:
        return _guarded(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _guarded(argv: list[str]) -> int:
    """:func:`_main`, every failure rendered as ``error:`` / ``hint:`` (and the JSON object)."""
    try:
        return _main(argv)
    except SpecError as error:
        _print_spec_error(error)
        failure: SpectrynError = error
    except SpectrynError as error:
        print(f"error: {error}", file=sys.stderr)
        failure = error
    except KeyboardInterrupt:
        message = "interrupted; what was written is recorded - run again to continue"
        print(message, file=sys.stderr)
        if OUTPUT.json:
            _print_json({"error": {"kind": "interrupted", "message": message, "hint": ""}})
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `spectryn ... | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SYNC_ERRORS
    except Exception as error:  # noqa: BLE001 - a bug: still no traceback on the terminal
        import logging

        from spectryn_core.errors import InternalError

        logger = logging.getLogger("spectryn")
        record = logger.makeRecord("spectryn.cli", logging.ERROR, __file__, 0, "unexpected error",
                                   (), (type(error), error, error.__traceback__))
        for handler in logger.handlers:  # the traceback goes to the run log, not to the terminal
            if isinstance(handler, logging.FileHandler):
                handler.handle(record)
        failure = InternalError(
            f"unexpected {type(error).__name__}: {error}",
            "this is a bug in spectryn or one of its plugins; the run log has the traceback "
            "(--verbose prints where it is): please report it with that log")
        print(f"error: {failure}", file=sys.stderr)
    if OUTPUT.json:
        from spectryn_core.report import error_json

        _print_json(error_json(failure))
    return failure.exit_code


def _main(argv: list[str]) -> int:
    from spectryn_core.plugins import load_plugins

    plugins = load_plugins(_disabled_plugins())
    app = App(plugins)
    args = build_parser(plugins).parse_args(argv)
    if getattr(args, "func", None) is not None:
        return int(args.func(args, app))
    if args.spec is None:
        raise UsageError("nothing to do: give a spec to sync or a command",
                         "spectryn --markdown EPIC.md --tracker NAME; `spectryn help` lists the "
                         "commands")
    return cmd_sync(args, app)


def _disabled_plugins() -> list[str]:
    """``plugins.disable`` from the environment (config files are read after plugins load, and
    their ``plugins.disable`` is applied when the run's config is loaded)."""
    import os

    raw = os.environ.get("SPECTRYN_DISABLE_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


if __name__ == "__main__":  # pragma: no cover
    # `python -m spectryn_core.cli`: run the imported module's main, so that the commands that
    # import from spectryn_core.cli (init, plugins) share this run's state (OUTPUT)
    from spectryn_core.cli import main as _main_of_the_module

    sys.exit(_main_of_the_module())
