"""``spectryn review``: what merging a pull request would do to the tracker, for its reviewers.

It validates the specs, computes the plan against the tracker read-only (a dry run: nothing is
ever written to an item), and hands the result - a :class:`Review` with one :class:`Finding` per
spec error and warning and per item the merge would create, change or leave in conflict - to the
chosen tracker's ``publish_review`` hook (the Bitbucket plugin puts one Code Insights report on the
pull request's commit). A tracker without the hook gets the review printed only.

Reading the tracker needs a read credential; without one (a ``ConfigError`` from opening it) or
when the tracker cannot be read, the review is of validation only, and says why. The result is
FAILED when a spec has errors or the plan has conflicts (or ownership clashes), else PASSED.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectryn_core.errors import ConfigError, SpecError, SpectrynError, TrackerError

if TYPE_CHECKING:
    from spectryn_core.cli import App
    from spectryn_core.model import SpecProblem
    from spectryn_core.multi import MultiResult
    from spectryn_core.plan import Change
    from spectryn_core.plugins import Plugins
    from spectryn_core.sync import SyncResult

#: Finding kinds, most important first (a tracker that can show only some shows these first).
KINDS = ("error", "clash", "conflict", "warning", "update", "duplicate", "create", "orphan")
#: Kinds that make the review FAILED.
FAILING = frozenset({"error", "clash", "conflict"})
_LOCATED = re.compile(r"(?P<path>[^\n:]+):(?P<line>\d+): (?P<message>.*)", re.S)


@dataclass(frozen=True)
class Finding:
    """One thing a reviewer should see, at a place in a spec: ``kind`` (one of :data:`KINDS`),
    ``path`` relative to the repository, ``line`` (0: the file as a whole), a one-line
    ``summary`` ("merging updates #12 US-002: title, priority"), optional ``details`` (the values
    that change) and the item's ``key``."""

    kind: str
    path: str
    line: int
    summary: str
    details: str = ""
    key: str = ""

    @property
    def failing(self) -> bool:
        """True for an error, a conflict or an ownership clash."""
        return self.kind in FAILING


@dataclass
class Review:
    """What merging would do: the result (``PASSED`` / ``FAILED``), counts per kind, the findings
    (most important first), whether the plan could be computed (``note`` says why not), the
    tracker and target, the spec files and the ``commit`` to put it on (None: the tracker's
    default, e.g. Pipelines' ``BITBUCKET_COMMIT``)."""

    tracker: str
    target: str
    files: list[str]
    findings: list[Finding] = field(default_factory=list)
    plan_computed: bool = True
    note: str = ""
    commit: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """``{"errors": n, "clashes": n, "conflicts": n, "warnings": n, "updates": n,
        "duplicates": n, "creates": n, "orphans": n}``."""
        plural = {"clash": "clashes"}
        found = {plural.get(kind, kind + "s"): 0 for kind in KINDS}
        for finding in self.findings:
            found[plural.get(finding.kind, finding.kind + "s")] += 1
        return found

    @property
    def result(self) -> str:
        """``FAILED`` when a spec has errors or the plan has conflicts or clashes, else ``PASSED``."""
        return "FAILED" if any(f.failing for f in self.findings) else "PASSED"

    def headline(self) -> str:
        """One sentence: what merging does, or why only validation was done."""
        c = self.counts
        if c["errors"]:
            return (f"{c['errors']} problem(s) in the specs: fix them before merging "
                    "(the plan is computed once the specs are valid).")
        if not self.plan_computed:
            return f"The specs are valid; validation only: {self.note}"
        parts = [f"creates {c['creates']}", f"updates {c['updates']}"]
        parts += [f"marks {c['duplicates']} duplicate(s)"] if c["duplicates"] else []
        text = f"Merging {', '.join(parts)} item(s) in {self.target}"
        if c["conflicts"]:
            text += f"; {c['conflicts']} conflict(s) are left alone (changed in the tracker and in the spec)"
        if c["clashes"]:
            text += f"; {c['clashes']} item(s) belong to another spec file"
        if c["orphans"]:
            text += f"; {c['orphans']} issue(s) are no longer in the specs (left as they are)"
        return text + "."


@dataclass
class Published:
    """What ``publish_review`` did: ``where`` it put the review (empty when it did not, and
    ``note`` says why), ``via`` which route (a proxy, a credential), how many findings it
    ``annotated`` and ``left_out`` (a tracker's limit), and the ``requests`` it sent."""

    where: str = ""
    via: str = ""
    annotated: int = 0
    left_out: int = 0
    requests: int = 0
    note: str = ""


# --- building a review ------------------------------------------------------------------------


def relative(path: Path | str, root: Path) -> str:
    """``path`` relative to the repository ``root`` (as a tracker shows files), else as given."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def problem_findings(problems: list[SpecProblem], kind: str, root: Path) -> list[Finding]:
    """A finding per spec problem (``error`` or ``warning``), at its file and line."""
    return [Finding(kind, relative(p.file, root), p.line, p.message) for p in problems]


def warning_findings(warnings: list[str], spec: Path, root: Path) -> list[Finding]:
    """A finding per plan warning: at its ``file:line:`` when it names one, else on the spec."""
    found = []
    for warning in warnings:
        located = _LOCATED.fullmatch(warning)
        if located:
            found.append(Finding("warning", relative(located["path"], root), int(located["line"]),
                                 located["message"]))
        else:
            found.append(Finding("warning", relative(spec, root), 0, warning))
    return found


def change_finding(change: Change, spec: Path, root: Path) -> Finding | None:
    """The finding of one planned change (None for an unchanged item)."""
    from spectryn_core.report import value_lines

    source = change.item.source if change.item is not None else None
    line = int(getattr(source, "line", 0) or 0)
    issue = f"#{change.remote.id} " if change.remote is not None and change.remote.id else ""
    details = "\n".join(line.strip() for line in value_lines(change, full_diff=False))
    fields = ", ".join(change.describe_fields())
    if change.action == "create":
        summary = f"merging creates {change.key} ({change.kind}): {change.title}"
        details = f"with: {fields}" if fields else ""
    elif change.action == "update":
        summary = f"merging updates {issue}{change.key}: {fields}"
    elif change.action == "conflict":
        summary = (f"merging leaves {issue}{change.key} in conflict: {', '.join(change.fields)} "
                   "changed in the tracker and in the spec")
    elif change.action == "duplicate":
        kept = f" of #{change.kept_remote.id}" if change.kept_remote is not None else ""
        summary = f"merging marks {issue}{change.key} a duplicate{kept}"
    elif change.action == "orphan":
        summary = f"{issue}{change.key} is no longer in the spec; merging leaves the issue as it is"
        details = ""
    else:
        return None
    return Finding(change.action, relative(spec, root), line, summary, details, change.key)


def result_findings(result: SyncResult, root: Path) -> list[Finding]:
    """The findings of one spec file's dry run: its warnings and its changes."""
    found = warning_findings(list(result.plan.warnings), result.spec_path, root)
    for change in result.plan.changes:
        finding = change_finding(change, result.spec_path, root)
        if finding is not None:
            found.append(finding)
    return found


def ordered(findings: list[Finding]) -> list[Finding]:
    """Most important first (:data:`KINDS`), then by file and line."""
    rank = {kind: n for n, kind in enumerate(KINDS)}
    return sorted(findings, key=lambda f: (rank.get(f.kind, len(KINDS)), f.path, f.line))


def build_review(tracker: str, target: str, files: list[str], *, outcome: MultiResult | None,
                 errors: list[SpecProblem], warnings: list[SpecProblem], stopped: SpectrynError | None,
                 root: Path, commit: str | None, clashes: list[SpecProblem] | None = None) -> Review:
    """The review of a dry run (``outcome``), or of validation alone (``errors``/``warnings`` from
    parsing; ``clashes``: keys whose issues another spec file owns, which stop the plan;
    ``stopped``: why the tracker was not read)."""
    review = Review(tracker, target, files, commit=commit)
    findings = problem_findings(errors, "error", root) + problem_findings(clashes or [], "clash", root)
    if outcome is not None:
        for result in outcome.results:
            findings += result_findings(result, root)
    else:
        findings += problem_findings(warnings, "warning", root)
        review.plan_computed = False
        if errors:
            review.note = "the specs have errors"
        elif clashes:
            review.note = f"{len(clashes)} key(s) belong to another spec file"
        elif stopped is not None:
            review.note = f"the tracker was not read ({stopped.message})"
    review.findings = ordered(findings)
    return review


# --- showing it -----------------------------------------------------------------------------


def to_text(review: Review, published: Published | None) -> str:
    """The review as the pipeline log shows it."""
    lines = [f"Review of {', '.join(review.files)} -> {review.tracker} ({review.target}): {review.result}"]
    for finding in review.findings:
        where = f"{finding.path}:{finding.line}" if finding.line else finding.path
        label = f"{finding.kind}: " if finding.kind in ("error", "warning", "clash") else ""
        lines.append(f"  {where}: {label}{finding.summary}")
    lines += ["", review.headline()]
    c = review.counts
    lines.append(", ".join([f"would create {c['creates']}", f"would update {c['updates']}",
                            f"{c['conflicts']} conflicts", f"{c['clashes']} clashes",
                            f"{c['orphans']} orphans", f"{c['warnings']} warnings",
                            f"{c['errors']} errors"]))
    if published is not None:
        if published.where:
            left = f", {published.left_out} left out" if published.left_out else ""
            lines.append(f"published: {published.where} via {published.via}: "
                         f"{published.annotated} annotations{left}; {published.requests} requests")
        else:
            lines.append(f"not published: {published.note}")
    return "\n".join(lines)


def to_json(review: Review, published: Published | None) -> dict[str, Any]:
    """The review as one JSON object."""
    return {
        "result": review.result,
        "tracker": review.tracker,
        "target": review.target,
        "files": review.files,
        "plan": {"computed": review.plan_computed, "note": review.note},
        "counts": review.counts,
        "findings": [asdict(f) for f in review.findings],
        "published": asdict(published) if published is not None else None,
    }


# --- the command ----------------------------------------------------------------------------


def add_parser(sub: Any, plugins: Plugins, common: Any, sync_options: Any) -> None:
    """Add ``spectryn review`` to ``sub``; ``common`` adds --config/--verbose, ``sync_options``
    the plugins' options."""
    p = sub.add_parser(
        "review", help="put what merging would do to the tracker on the pull request (CI)",
        description="Validate the specs, plan the sync read-only and publish the review on the commit.",
        epilog="Inside Bitbucket Pipelines the report goes through the Pipelines auth proxy with no\n"
               "credential; reading the tracker needs a read credential (without one: validation only).\n"
               "Exit 0 with the review published (PASSED or FAILED), 2 when a spec has errors.\n\n"
               "examples:\n  spectryn review --markdown docs/specs --tracker bitbucket\n"
               "  spectryn review --markdown EPIC.md --tracker bitbucket --commit 1a2b3c4 --output json")
    p.add_argument("--markdown", "--spec", dest="spec", metavar="FILE", nargs="+", required=True,
                   help="the spec file(s): files, folders (their .md files) or globs")
    p.add_argument("--tracker", dest="sync.tracker", metavar="NAME", default=None,
                   help="tracker plugin (e.g. bitbucket); default: sync.tracker")
    p.add_argument("--commit", metavar="SHA", default=None,
                   help="the commit to put the review on (default: what the tracker's CI says, "
                        "e.g. BITBUCKET_COMMIT)")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 3 when the review is FAILED by conflicts or clashes (errors exit 2)")
    p.add_argument("--output", dest="sync.output", choices=("text", "json"), default=None,
                   help="text (default) or one JSON object on stdout")
    common(p)
    sync_options(p, plugins)
    p.set_defaults(func=cmd_review)


def cmd_review(args: argparse.Namespace, app: App) -> int:
    """Run ``spectryn review``."""
    from spectryn_core.cli import EXIT_OK, EXIT_PENDING, OUTPUT, _dir, _start_log, chosen_tracker
    from spectryn_core.multi import parse_all, run_many
    from spectryn_core.spec_files import expand
    from spectryn_core.sync import SyncRequest
    from spectryn_core.worktree import Repository

    config = app.load_config(args, tracker=getattr(args, "sync.tracker"))
    tracker = chosen_tracker(app, config)
    hooks = app.pm.tracker_hooks(tracker)
    _start_log(config, bool(config.get("sync.verbose")))
    files = expand(list(args.spec), max_size=config.get("sync.max_spec_size"),
                   example="spectryn review --markdown docs/specs --tracker NAME")
    request = SyncRequest(spec_path=files[0].path, tracker=tracker, state_dir=_dir(config, "state"),
                          execute=False)
    outcome: MultiResult | None = None
    errors: list[SpecProblem] = []
    clashes: list[SpecProblem] = []
    warnings: list[SpecProblem] = []
    stopped: SpectrynError | None = None
    ending: SpectrynError | None = None
    try:
        outcome = run_many(app.pm, config, files, request)  # a dry run: never writes to the tracker
    except SpecError as error:
        if error.kind == "ownership":  # keys whose issues another spec file made (issue 25)
            clashes = error.problems
            error.nothing_sent = False  # the report is sent; no issue ever is
            ending = error
        else:
            errors = error.problems
    except (ConfigError, TrackerError) as error:  # no read credential, or the tracker unreadable
        stopped = error
        specs, _notes = parse_all(app.pm, files, config)
        warnings = [w for spec in specs for w in spec.warnings]
    target = outcome.results[0].target if outcome is not None and outcome.results else config_target(config, tracker)
    review = build_review(tracker, target, [str(f.path) for f in files], outcome=outcome, errors=errors,
                          warnings=warnings, stopped=stopped, root=Repository.of(Path.cwd()).root,
                          commit=args.commit, clashes=clashes)
    published: Published | None = None
    failure: SpectrynError | None = None
    if hooks.publish_review.get_hookimpls():
        try:
            published = hooks.publish_review(config=config, review=review)
        except SpectrynError as error:
            failure = error
    else:
        published = Published(note=f"the '{tracker}' plugin cannot publish reviews (no publish_review hook)")
    # what ends the run once the review is out: a failed publish, a spec error (listed in the
    # review already: only the headline here), or a tracker that could not be read
    ending = failure or ending
    if ending is None and errors:
        ending = SpecError(errors, nothing_sent=False)
    if ending is None and stopped is not None and not isinstance(stopped, ConfigError):
        ending = stopped
    if OUTPUT.json:
        from spectryn_core.report import error_json

        print(json.dumps({**to_json(review, published),
                          **(error_json(ending) if ending is not None else {"error": None})}, indent=2))
    else:
        print(to_text(review, published))
    if ending is not None:
        if not OUTPUT.json:
            headline = ending.headline if isinstance(ending, SpecError) else str(ending)
            hint = f"\n  hint: {ending.HINT}" if isinstance(ending, SpecError) else ""
            print(f"error: {headline}{hint}", file=sys.stderr)
        return ending.exit_code
    if args.exit_code and review.result == "FAILED":
        return EXIT_PENDING
    return EXIT_OK


def config_target(config: Any, tracker: str) -> str:
    """What the config names as the target (when the tracker was not opened): ``workspace/repo``
    style values of the tracker's section, else the tracker's name."""
    section = dict(config.section(tracker) or {})
    parts = [str(section[key]) for key in ("workspace", "repo") if section.get(key)]
    return "/".join(parts) or tracker
