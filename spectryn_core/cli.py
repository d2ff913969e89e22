"""The ``spectryn`` command line.

``spectryn --markdown EPIC.md --tracker bitbucket [--execute]`` syncs (the seed's form; also
``spectryn sync ...``); ``spectryn plugins``, ``spectryn check``, ``spectryn validate`` and the
plugins' own commands (``spectryn bitbucket ...``) do the rest. Errors are printed once, here,
without a traceback.

Exit codes: 0 ok; 1 sync errors (an item failed, the tracker refused or could not be reached);
2 usage, config or spec errors (nothing was sent); 3 with ``--exit-code``: a dry-run found changes
to send (or conflicts); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import platformdirs

from spectryn_core import __version__, runlog
from spectryn_core.config import Config, core_sections, load_config
from spectryn_core.errors import SpecError, SpectrynError, UsageError
from spectryn_core.plugins import Plugins, load_plugins

log = logging.getLogger("spectryn.cli")

EXIT_OK, EXIT_SYNC_ERRORS, EXIT_USAGE, EXIT_PENDING, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
BUILTIN_COMMANDS = ("sync", "plugins", "check", "validate", "pull")

EPILOG = """commands:
  spectryn [sync] --markdown FILE... --tracker NAME [--execute]   plan (or apply) a sync
  spectryn plugins                  list plugins, their hooks and load problems
  spectryn check --tracker NAME     test the connection and list what the tracker has
  spectryn validate FILE...         check spec files (or folders, globs); report every problem
  spectryn pull --markdown FILE --tracker NAME [--execute]   bring tracker changes into the spec
{extra}
exit codes: 0 ok, 1 sync errors, 2 usage/config/spec errors (nothing sent),
            3 changes pending in a dry-run with --exit-code, 130 interrupted
"""


class App:
    """What a command gets: the loaded plugins and a way to load the config."""

    def __init__(self, plugins: Plugins) -> None:
        self.pm = plugins

    def sections(self) -> list[Any]:
        sections = list(core_sections())
        for _plugin, contributed in self.pm.call_each("config_sections"):
            sections.extend(contributed or [])
        return sections

    def load_config(self, args: argparse.Namespace, tracker: str | None = None) -> Config:
        """Merge flags (``dest="section.key"``), environment, files and defaults."""
        cli = {k: v for k, v in vars(args).items() if "." in k and v is not None}
        config_file = getattr(args, "config", None)
        config = load_config(
            self.sections(),
            cli=cli,
            config_file=Path(config_file) if config_file else None,
            tracker=tracker,
        )
        for warning in config.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        self.pm.disable(config.get("plugins.disable") or [])
        return config


# --- parsers --------------------------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="config file (.yaml, .yml or .toml); "
                        "default: .spectryn.yaml|.yml|.toml or [tool.spectryn] in pyproject.toml")
    parser.add_argument("--verbose", "-v", dest="sync.verbose", action="store_true", default=None,
                        help="show requests and decisions, and where the run log is")


def sync_parser(plugins: Plugins, prog: str = "spectryn") -> argparse.ArgumentParser:
    extra = "".join(f"  spectryn {name} ...\n" for name in _plugin_command_names(plugins))
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Sync a markdown spec to an issue tracker. Without --execute, only shows the "
        "plan (a dry-run sends no write).",
        epilog=EPILOG.format(extra=extra.rstrip("\n")),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"spectryn {__version__}")
    parser.add_argument("--markdown", "--spec", dest="spec", metavar="FILE", required=True, nargs="+",
                        help="the spec file(s) to sync: files, folders (their .md files, "
                        "recursively) or globs (e.g. EPIC.md, docs/specs, 'docs/**/*.md')")
    parser.add_argument("--tracker", dest="sync.tracker", metavar="NAME", default=None,
                        help="tracker plugin to sync to (e.g. bitbucket); default: sync.tracker")
    parser.add_argument("--execute", dest="sync.execute", action="store_true", default=None,
                        help="apply the plan (default: dry-run, nothing is sent)")
    parser.add_argument("--only", metavar="KEY",
                        help="sync one story and its subtasks (or one subtask, or one epic)")
    parser.add_argument("--force", dest="sync.force", action="store_true", default=None,
                        help="overwrite conflicts (items changed in the tracker and in the file)")
    parser.add_argument("--write-back", dest="sync.write_back", action="store_true", default=None,
                        help="after --execute, write each item's issue link into the spec "
                        "(an Issue row / column); default: sync.write_back")
    parser.add_argument("--workers", dest="sync.workers", type=int, metavar="N", default=None,
                        help="parallel writes (default 8)")
    parser.add_argument("--output", dest="sync.output", choices=("text", "json"), default=None,
                        help="text (default) or one JSON object on stdout")
    parser.add_argument("--diff", action="store_true",
                        help="show the whole content diff of each update (default: a few lines)")
    parser.add_argument("--exit-code", action="store_true",
                        help="exit 3 when a dry-run finds changes to send or conflicts (for CI)")
    _common(parser)
    group = parser.add_argument_group("plugin options")
    plugins.call_each("add_options", parser=group)
    return parser


def _plugin_command_names(plugins: Plugins) -> list[str]:
    probe = argparse.ArgumentParser(add_help=False)
    sub = probe.add_subparsers()
    plugins.call_each("add_commands", subparsers=sub)
    return sorted(sub.choices)


def command_parser(plugins: Plugins) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spectryn")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("plugins", help="list plugins, their hooks and load problems")
    p.add_argument("--output", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_plugins)

    p = sub.add_parser("check", help="test the connection to a tracker")
    p.add_argument("--tracker", dest="sync.tracker", metavar="NAME", default=None)
    _common(p)
    plugins.call_each("add_options", parser=p.add_argument_group("plugin options"))
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("validate", help="check a spec file and report every problem")
    p.add_argument("file", metavar="FILE", nargs="+",
                   help="spec files, folders (their .md files, recursively) or globs")
    p.add_argument("--output", choices=("text", "json"), default="text")
    _common(p)
    p.set_defaults(func=cmd_validate)

    from spectryn_core import pull_cli

    pull_cli.add_parser(sub, plugins, _common)
    plugins.call_each("add_commands", subparsers=sub)
    return parser


# --- commands -------------------------------------------------------------------------------


def cmd_sync(args: argparse.Namespace, app: App) -> int:
    from spectryn_core import report
    from spectryn_core.multi import run_many
    from spectryn_core.spec_files import expand
    from spectryn_core.sync import SyncRequest

    config = app.load_config(args, tracker=getattr(args, "sync.tracker"))
    tracker = config.tracker or config.get("sync.tracker")
    if not tracker:
        known = ", ".join(app.pm.tracker_names()) or "none installed"
        raise UsageError("no tracker chosen", f"pass --tracker NAME (installed: {known})")
    verbose = bool(config.get("sync.verbose"))
    log_path = _start_log(config, verbose)
    tracker_section = config.section(tracker)
    workers = tracker_section.get("workers") or config.get("sync.workers") or 8
    files = expand(list(args.spec))
    request = SyncRequest(
        spec_path=files[0].path,
        tracker=tracker,
        state_dir=_dir(config, "state"),
        execute=bool(config.get("sync.execute")),
        only=args.only,
        force=bool(config.get("sync.force")),
        workers=int(workers),
    )
    log.info("spectryn %s: %s %s -> %s", __version__,
             "execute" if request.execute else "dry-run", " ".join(str(f.path) for f in files), tracker)
    started = time.monotonic()
    outcome = run_many(app.pm, config, files, request, progress=_progress_printer(),
                       write_back=bool(config.get("sync.write_back")))
    elapsed = time.monotonic() - started
    if config.get("sync.output") == "json":
        print(json.dumps(report.many_to_json(outcome), indent=2))
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
    if any(result.failed for result in results):
        return EXIT_SYNC_ERRORS
    if args.exit_code and not request.execute and any(
            r.plan.has_pending or r.plan.counts()["conflict"] for r in results):
        return EXIT_PENDING
    return EXIT_OK


def cmd_plugins(args: argparse.Namespace, app: App) -> int:
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
    if args.output == "json":
        print(json.dumps({"plugins": rows}, indent=2))
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


def cmd_check(args: argparse.Namespace, app: App) -> int:
    config = app.load_config(args, tracker=getattr(args, "sync.tracker"))
    tracker = config.tracker or config.get("sync.tracker")
    if not tracker:
        raise UsageError("no tracker chosen", "pass --tracker NAME")
    _start_log(config, bool(config.get("sync.verbose")))
    hooks = app.pm.tracker_hooks(tracker)
    connection = hooks.open_tracker(config=config)
    try:
        lines = hooks.check_tracker(connection=connection) or []
    finally:
        connection.close()
    print(f"{tracker}: connection OK ({connection.target})")
    for line in lines:
        print(f"  {line}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace, app: App) -> int:
    from spectryn_core.multi import parse_all
    from spectryn_core.spec_files import expand
    from spectryn_core.spec_json import spec_to_json

    config = app.load_config(args)
    files = expand(list(args.file))
    try:
        specs, notes = parse_all(app.pm, files, config)
    except SpecError as error:
        if args.output == "json":
            parsed = [app.pm.hook.parse_spec(path=f.path, config=config) for f in files]
            shown = [spec_to_json(s) for s in parsed if s is not None]
            print(json.dumps(shown[0] if len(files) == 1 and shown else {"specs": shown}, indent=2))
            return EXIT_USAGE
        raise error
    if args.output == "json":
        shown = [spec_to_json(spec) for spec in specs]
        print(json.dumps(shown[0] if len(files) == 1 and shown else {"specs": shown, "skipped": notes},
                         indent=2))
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
    return EXIT_OK


# --- helpers --------------------------------------------------------------------------------


def _dir(config: Config, kind: str) -> Path:
    configured = config.get(f"sync.{kind}_dir")
    if configured:
        return Path(configured).expanduser()
    if kind == "state":
        return Path(platformdirs.user_state_dir("spectryn"))
    return Path(platformdirs.user_log_dir("spectryn"))


def _start_log(config: Config, verbose: bool) -> Path | None:
    return runlog.start(_dir(config, "log"), verbose=verbose, secrets=config.secret_values())


def _progress_printer() -> Any:
    last = [0.0]

    def show(done: int, total: int, key: str) -> None:
        now = time.monotonic()
        if total >= 20 and (now - last[0] >= 1.0 or done == total):
            last[0] = now
            print(f"progress: {done}/{total} written (last: {key})", file=sys.stderr, flush=True)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except SpecError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"{len(error.problems)} problem(s) in the spec; nothing was sent.", file=sys.stderr)
        return EXIT_USAGE
    except SpectrynError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted; what was written is recorded - run again to continue",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `spectryn ... | head`: the reader left; say nothing more
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_SYNC_ERRORS


def _main(argv: list[str]) -> int:
    plugins = load_plugins(_disabled_plugins())
    app = App(plugins)
    commands = set(BUILTIN_COMMANDS) | set(_plugin_command_names(plugins))
    if argv and argv[0] in commands and argv[0] != "sync":
        args = command_parser(plugins).parse_args(argv)
        return int(args.func(args, app))
    if argv and argv[0] == "sync":
        argv = argv[1:]
    args = sync_parser(plugins).parse_args(argv)
    return cmd_sync(args, app)


def _disabled_plugins() -> list[str]:
    """``plugins.disable`` from the environment (config files are read after plugins load, and
    their ``plugins.disable`` is applied when the run's config is loaded)."""
    import os

    raw = os.environ.get("SPECTRYN_DISABLE_PLUGINS", "")
    return [name.strip() for name in raw.split(",") if name.strip()]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
