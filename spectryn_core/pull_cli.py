"""The ``spectryn pull`` command: its flags, and its output (text for people, JSON for CI)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spectryn_core.cli import App
    from spectryn_core.plugins import Plugins
    from spectryn_core.pull import FilePull, PullRequest


def add_parser(sub: Any, plugins: Plugins, common: Any) -> None:
    """Add ``spectryn pull`` to the subcommands ``sub``; ``common`` adds --config/--verbose."""
    p = sub.add_parser(
        "pull", help="bring tracker changes (state, title, priority, assignee, text) back into the "
        "spec",
        description="Bring tracker changes (state, title, priority, assignee, text) into the spec.",
        epilog="State comes back through the inverse of the status mapping (resolved -> Done), as\n"
        "a minimal edit of those cells. Without --execute, prints the diff and writes nothing.\n"
        "A text edit comes back when it falls inside one spec section (a paragraph added, a\n"
        "criterion ticked or added); any other is reported, never guessed. A field changed on\n"
        "both sides is a conflict: shown and left alone.\n\n"
        "examples:\n  spectryn pull --markdown EPIC.md --tracker bitbucket\n"
        "  spectryn pull --markdown docs/specs --tracker bitbucket --execute",
    )
    p.add_argument("--markdown", "--spec", dest="specs", metavar="FILE", nargs="+", required=True,
                   help="the spec file(s) to pull into: files, folders (their .md files) or globs")
    p.add_argument("--tracker", dest="sync.tracker", metavar="NAME", default=None,
                   help="tracker plugin to pull from (e.g. bitbucket); default: sync.tracker")
    p.add_argument("--execute", dest="sync.execute", action="store_true", default=None,
                   help="write the spec file(s) (default: dry-run, print the diff)")
    p.add_argument("--output", dest="sync.output", choices=("text", "json"), default=None,
                   help="text (default) or one JSON object on stdout")
    common(p)
    plugins.call_each("add_options", parser=p.add_argument_group("plugin options"))
    p.set_defaults(func=cmd_pull)


def cmd_pull(args: argparse.Namespace, app: App) -> int:
    """Run ``spectryn pull``."""
    from spectryn_core.cli import EXIT_OK, _dir, _start_log, chosen_tracker
    from spectryn_core.pull import PullRequest, run_pull  # the engine, only when pulling
    from spectryn_core.spec_files import expand

    config = app.load_config(args, tracker=getattr(args, "sync.tracker"))
    tracker = chosen_tracker(app, config)
    _start_log(config, bool(config.get("sync.verbose")))
    files = expand(list(args.specs), max_size=config.get("sync.max_spec_size"),
                   example="spectryn pull --markdown EPIC.md")
    request = PullRequest([f.path for f in files], tracker, _dir(config, "state"),
                          execute=bool(config.get("sync.execute")),
                          trusted_accounts=tuple(config.get("sync.trusted_accounts") or ()))
    results, notes = run_pull(app.pm, config, request, files)
    if config.get("sync.output") == "json":
        print(json.dumps({**to_json(results, request), "skipped": notes}, indent=2))
    else:
        print(to_text(results, request))
        for note in notes:
            print(f"note: {note}")
    errors = [r.error for r in results if r.error is not None]
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    return errors[0].exit_code if errors else EXIT_OK


def to_json(results: list[FilePull], request: PullRequest) -> dict[str, Any]:
    """Every file's pulled values, conflicts, notes and diff as one JSON object."""
    errors = [r.error for r in results if r.error is not None]
    return {
        "tracker": request.tracker,
        "executed": request.execute,
        "error": _error(errors[0]) if errors else None,
        "files": [{
            "spec": str(r.path),
            "target": r.target,
            "pulled": [{"key": p.key, "field": p.field, "old": p.old, "new": p.new,
                        "tracker": p.tracker, "id": p.issue} for p in r.pulled],
            "conflicts": [{"key": c.key, "field": c.field, "spec": c.spec, "tracker": c.tracker,
                           "reason": c.reason} for c in r.conflicts],
            "notes": list(r.notes),
            "diff": r.diff,
            "written": r.written,
            "error": _error(r.error) if r.error else None,
        } for r in results],
    }


def _error(error: Any) -> dict[str, Any]:
    from spectryn_core.report import error_json

    body: dict[str, Any] = error_json(error)["error"]
    return body


def to_text(results: list[FilePull], request: PullRequest) -> str:
    """Per file: what comes back (``<`` lines), conflicts (``!``), notes, the diff; then a summary."""
    lines: list[str] = []
    for result in results:
        verb = "Pulled" if result.written else "Pull"
        lines.append(f"{verb} {request.tracker} ({result.target}) -> {result.path}")
        for p in result.pulled:
            lines.append(f"  < {p.key:<12} {p.field}: {_show(p.old)} -> {_show(p.new)}"
                         f"  (#{p.issue}: {p.tracker})")
        for c in result.conflicts:
            lines.append(f"  ! {c.key:<12} {c.field}: spec {_show(c.spec)}, tracker {_show(c.tracker)}"
                         f"  ({c.reason}; left alone)")
        lines.extend(f"  note: {note}" for note in result.notes)
        if result.error is not None:
            lines.append(f"  NOT written: {result.error.message}")
        if result.diff:
            lines.append("")
            lines.append(result.diff.rstrip("\n"))
        lines.append("")
    pulled = sum(len(r.pulled) for r in results if r.error is None)  # a file not written: none
    conflicts = sum(len(r.conflicts) for r in results)
    changed = [r for r in results if r.edit is not None and r.edit.changed]
    lines.append(f"{pulled} value(s) to bring back, {conflicts} conflict(s)"
                 if not request.execute else f"{pulled} value(s) brought back, {conflicts} conflict(s)")
    if not request.execute:
        if changed:
            lines.append("Dry run: no file was written. Re-run with --execute to write "
                         + ", ".join(str(r.path) for r in changed) + ".")
        else:
            lines.append("Dry run: nothing to bring back.")
    elif any(r.written for r in changed):
        lines.append("Wrote " + ", ".join(str(r.path) for r in changed if r.written) + ".")
    return "\n".join(lines)


def _show(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
