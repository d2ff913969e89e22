"""Showing a plan or a sync result: text for people, one JSON object for CI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from spectryn_core.errors import SpecError, SpectrynError
from spectryn_core.plan import SYMBOLS, Change, describe_extras
from spectryn_core.sync import SyncResult

if TYPE_CHECKING:
    from spectryn_core.multi import MultiResult

COUNT_NAMES = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "conflict": "conflicts",
    "orphan": "orphans",
    "duplicate": "duplicates",
}


def counts(result: SyncResult) -> dict[str, int]:
    """``created / updated / unchanged / conflicts / orphans / errors`` (planned, in a dry-run).

    After ``--execute``, a change that failed or was skipped counts as an error, not as done.
    """
    out = {name: 0 for name in COUNT_NAMES.values()}
    out["errors"] = 0
    for change in result.plan.changes:
        if result.executed and change.status in ("failed", "skipped"):
            out["errors"] += 1
            continue
        action = change.action
        if result.executed and action == "update" and not change.fields and not change.sent:
            action = "unchanged"  # only extras were planned, and none was sent: nothing updated
        out[COUNT_NAMES[action]] += 1
        if result.executed and change.error:
            out["errors"] += 1  # done, but a comment / attachment / PR link failed
    return out


def error_json(error: SpectrynError) -> dict[str, Any]:
    """``{"error": {"kind", "message", "hint"}}``: what ``--output json`` prints on a failure
    (a spec error also lists its ``problems``, each ``file:line: message``)."""
    body: dict[str, Any] = {"kind": error.kind, "message": error.message, "hint": error.hint}
    if isinstance(error, SpecError):
        body["message"] = error.headline
        body["hint"] = error.HINT
        body["problems"] = [str(p) for p in error.problems]
    return {"error": body}


def _run_error(result: SyncResult) -> dict[str, Any] | None:
    if result.error is not None:
        body: dict[str, Any] = error_json(result.error)["error"]
        return body
    failed = result.failed if result.executed else []
    if failed:
        keys = ", ".join(c.key for c in failed[:10]) + (", ..." if len(failed) > 10 else "")
        return {"kind": "item", "message": f"{len(failed)} item(s) failed: {keys}",
                "hint": "see each item's error; run again to retry them"}
    return None


def to_json(result: SyncResult) -> dict[str, Any]:
    """The plan or the results as one JSON-serialisable object; ``error`` is null, or the
    run-stopping error (or the failed items) as ``{"kind", "message", "hint"}``."""
    return {
        "spec": str(result.spec_path),
        "tracker": result.tracker,
        "target": result.target,
        "executed": result.executed,
        "counts": counts(result),
        "items": [_item_json(change, result.executed) for change in result.plan.changes],
        "warnings": list(result.plan.warnings),
        "requests": dict(result.requests),
        "error": _run_error(result),
    }


def _item_json(change: Change, executed: bool) -> dict[str, Any]:
    remote = change.remote
    return {
        "key": change.key,
        "kind": change.kind,
        "title": change.title,
        "action": change.action,
        "fields": _fields(change, executed),
        "kept_tracker_edits": list(change.kept),
        "values": {name: {"tracker": old, "spec": new} for name, (old, new) in change.values.items()},
        "conflicts": {name: {"spec": spec, "tracker": tracker, "base": change.bases.get(name),
                             "base_source": change.base_sources.get(name)}
                      for name, (spec, tracker) in change.conflicts.items()},
        "settled": {name: {"by": how, "base_source": change.base_sources.get(name)}
                    for name, how in change.settled.items()},
        "no_base": change.no_base,
        "pending_extras": describe_extras(change.unsent_extras) if executed else [],
        "removed_comments": change.removed_comments,
        "duplicate_of": change.kept_remote.id if change.kept_remote else None,
        "takes_over": change.takeover,
        "claimed_by": ({"id": change.claimed_by.id, "url": change.claimed_by.url,
                        "why": change.claim_reason} if change.claimed_by is not None else None),
        "id": remote.id if remote else None,
        "url": remote.url if remote else None,
        "status": change.status if executed else "planned",
        "error": change.error or None,
    }


#: Lines of a content diff shown in a plan without ``--diff``.
SHORT_DIFF = 12


def to_text(result: SyncResult, *, verbose: bool = False, full_diff: bool = False) -> str:
    """The plan (dry-run) or what was done (execute), one line per change with the values that
    change (old -> new; a unified diff for content, cut to a few lines unless ``full_diff``),
    then counts."""
    lines: list[str] = []
    verb = "Synced" if result.executed else "Plan for"
    lines.append(f"{verb} {result.spec_path} -> {result.tracker} ({result.target})")
    for change in result.plan.changes:
        if change.action == "unchanged" and not verbose and not change.kept:
            continue
        lines.append("  " + _change_line(change, result.executed))
        if change.action == "conflict" or (change.action == "update" and not result.executed):
            lines.extend(value_lines(change, full_diff=full_diff))
        if change.kept and not result.executed:
            lines.extend(kept_lines(change))
    if result.plan.warnings:
        lines.append("")
        lines.extend(f"warning: {w}" for w in result.plan.warnings)
    c = counts(result)
    lines.append("")
    if result.executed:
        lines.append(
            f"Done: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged, "
            f"{c['conflicts']} conflicts, {c['orphans']} orphans, {c['errors']} errors"
        )
    else:
        lines.append(
            f"{c['created']} to create, {c['updated']} to update, {c['unchanged']} unchanged, "
            f"{c['conflicts']} conflicts, {c['orphans']} orphans"
        )
        kept = sum(1 for change in result.plan.changes if change.kept)
        if result.plan.has_pending:
            lines.append("Dry run: nothing was sent. Re-run with --execute to apply.")
        elif c["conflicts"] or c["orphans"] or kept:
            listed = [f"{c['conflicts']} conflict(s)"] if c["conflicts"] else []
            listed += [f"{c['orphans']} orphan(s)"] if c["orphans"] else []
            listed += [f"{kept} item(s) with kept tracker edits"] if kept else []
            lines.append(f"Dry run: nothing to send, but {' and '.join(listed)} (listed above) "
                         "differ from the spec.")
        else:
            lines.append("Dry run: nothing to send; the tracker matches the spec.")
        if kept:
            lines.append(f"`spectryn pull --markdown {result.spec_path}` brings the tracker's "
                         "state, title, priority and assignee into the spec, and text edits that "
                         "fall inside one section.")
    if c["duplicates"]:
        done = "marked duplicate" if result.executed else "would be marked duplicate (dry run)"
        lines.append(f"{c['duplicates']} twin issues (left by two runs at once) {done}.")
    if c["conflicts"]:
        lines.append(
            "Conflicts were left alone: they changed in the tracker and in the file since the "
            "last sync (or the issue has no merge base to tell). Settle them: edit the file to "
            "match the tracker (or `spectryn pull`), say who wins per field with "
            "--conflict-policy FIELD=spec|tracker (sync.conflict_policy), or re-run with --force "
            "to send the spec's version of every field in conflict."
        )
    return "\n".join(lines)


def value_lines(change: Change, *, full_diff: bool = False, indent: str = "      ") -> list[str]:
    """``title: "old" -> "new"`` per changed field of an update (``tracker X, spec Y`` for a
    conflict), and a unified diff for content; for a text in conflict whose base text was found,
    the three versions of each part both sides changed."""
    out: list[str] = []
    names = change.fields if change.action in ("update", "conflict") else []
    for name in names:
        if name not in change.values:
            continue
        old, new = change.values[name]
        how = _how(change, name)
        if name == "content" or (isinstance(old, str) and "\n" in old) or (isinstance(new, str) and "\n" in new):
            heading = " (tracker -> spec)" if change.action == "conflict" else ""
            both = change.action == "conflict" and name in change.bases  # said below, with the versions
            out.append(f"{indent}{name}:{heading}{'' if both else how}")
            out.extend(f"{indent}  {line}" for line in content_diff(old, new, full=full_diff))
            if both:
                out.append(f"{indent}{name}: both changed the same lines{how}")
                out.extend(f"{indent}  {line}"
                           for line in three_versions(change.bases[name], old, change.conflicts[name][0]))
        elif change.action == "conflict":
            out.append(f"{indent}{name}: tracker {_value(old)}, spec {_value(new)}")
        else:
            out.append(f"{indent}{name}: {_value(old)} -> {_value(new)}{how}")
    return out


#: What a base text's source is called in the plan.
SOURCE_NAMES = {"state": "the local state", "git": "the spec's git history",
                "tracker": "the tracker's change records"}


def _how(change: Change, name: str) -> str:
    """`` (merged: ...)`` / `` (sync.conflict_policy: spec)`` after a field's name, or ""."""
    source = change.base_sources.get(name)
    where = f"base text from {SOURCE_NAMES.get(source, source)}" if source else ""
    how = change.settled.get(name)
    if how is None:
        return f" ({where})" if where and change.action == "conflict" else ""
    if how == "force":
        return " (--force: the spec's version)"
    if how == "merged":
        return f" (merged: the tracker's edits kept; {where})"
    if how.startswith("merged, "):
        side = how.split(", ", 1)[1].split(" ", 1)[0]
        return f" (merged; sync.conflict_policy {name}={side} where both changed; {where})"
    return f" (sync.conflict_policy {name}={how})"


def three_versions(base: Any, tracker: Any, spec: Any) -> list[str]:
    """Each part of a text that both sides changed, as base, tracker and spec (diff3 style)."""
    from spectryn_core.textmerge import merge3

    lines: list[str] = []
    for chunk in merge3(str(base or ""), str(tracker or ""), str(spec or "")).conflicts:
        lines.append(f"@@ line {chunk.line} of the base @@")
        lines += ["<<<<<<< tracker", *chunk.tracker, "||||||| base", *chunk.base, "=======",
                  *chunk.spec, ">>>>>>> spec"]
    return lines


def kept_lines(change: Change, indent: str = "      ") -> list[str]:
    """``priority: kept "trivial" (the spec still says "🟠 High")`` per tracker edit kept: what
    the spec says in its own words (:attr:`spectryn_core.model.Spec.written`), not as mapped."""
    out = []
    for name in change.kept:
        if name in change.values and name != "content":
            old, new = change.values[name]
            why = (f"sync.conflict_policy {name}=tracker; the spec says" if change.settled.get(name) == "tracker"
                   else "the spec still says")
            out.append(f"{indent}{name}: kept {_value(old)} ({why} {spec_words(change, name, new)})")
    return out


#: Tracker fields that carry a spec field mapped by the mapper hooks: (Item attribute, spec field).
_MAPPED = {"state": ("state", "status"), "status": ("state", "status"),
           "priority": ("priority", "priority")}


def spec_words(change: Change, name: str, value: Any) -> str:
    """``value`` of the tracker field ``name`` quoted as the spec writes it (``"📋 Planned"``
    where the mapper made it ``"open"``), else as it is."""
    item = change.item
    mapped = _MAPPED.get(name)
    if item is not None and mapped is not None and getattr(item, mapped[0]) == value:
        words = item.spec.written.get((item.key, mapped[1]))
        if words:
            return _value(words)
    return _value(value)


def content_diff(old: Any, new: Any, *, full: bool = False) -> list[str]:
    """A unified diff of two texts (one line of context), cut to :data:`SHORT_DIFF` lines."""
    import difflib

    lines = list(difflib.unified_diff(str(old or "").split("\n"), str(new or "").split("\n"),
                                      n=1 if not full else 3, lineterm=""))[2:]
    if not full and len(lines) > SHORT_DIFF:
        hidden = len(lines) - SHORT_DIFF
        lines = lines[:SHORT_DIFF] + [f"... {hidden} more line(s); --diff shows the whole diff"]
    return lines


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False, default=str)


def _fields(change: Change, executed: bool) -> list[str]:
    """The fields and extras of a change; after a run, only the extras that were sent."""
    if not executed or not change.extras:
        return change.describe_fields()
    return list(change.fields) + describe_extras([e for e in change.extras if e.ident in change.sent])


def _change_line(change: Change, executed: bool) -> str:
    symbol = SYMBOLS[change.action]
    where = f" #{change.remote.id}" if change.remote is not None else ""
    text = f"{symbol} {change.key:<12} {change.title}"
    fields = _fields(change, executed)
    if change.action == "update" and fields:
        text += f"  [{', '.join(f'{f} (merged)' if change.settled.get(f) == 'merged' else f for f in fields)}]"
    elif change.action == "conflict" and change.claimed_by is not None:
        claim = change.claimed_by
        link = f" {claim.url}" if claim.url else ""
        text += (f"  (held: #{claim.id}{link} carries this key but spectryn did not make it - "
                 f"{change.claim_reason}; --adopt {change.key} takes it over)")
    elif change.action == "conflict":
        text += f"  [conflict: {', '.join(fields)}]"
        if change.no_base:
            text += " (no merge base: made before bases were kept, or its base line was removed)"
    elif change.action == "duplicate" and change.kept_remote is not None:
        marked = "marked duplicate" if executed and change.status == "done" else "would mark it duplicate"
        text += f"  (issue{where} duplicates #{change.kept_remote.id}; {marked})"
    elif change.action == "orphan":
        text += f"  (issue{where} is gone from the spec; left alone)"
    elif change.action == "create" and fields and len(fields) > len(change.fields):
        text += f"  [+ {', '.join(fields[len(change.fields):])}]"
    if change.kept:
        text += f"  (kept tracker edits: {', '.join(change.kept)})"
    if change.takeover:
        text += f"  (taking over issue{where})"
    if executed:
        if change.status == "done":
            text += f"  -> {where.strip() or 'done'}"
            if change.remote is not None and change.remote.url:
                text += f" {change.remote.url}"
        if change.status in ("failed", "skipped"):
            text += f"  FAILED: {change.error}"
        elif change.error:
            text += f"  ERROR: {change.error}"
    return text


def many_to_text(outcome: MultiResult, *, verbose: bool = False, full_diff: bool = False) -> str:
    """Each file's plan or results (as :func:`to_text`), files skipped, issue links written back,
    and totals when there are several files."""
    parts = [to_text(result, verbose=verbose, full_diff=full_diff) for result in outcome.results]
    lines: list[str] = ["\n\n".join(parts)] if parts else []
    extra = [f"note: {note}" for note in outcome.notes]
    for edit in outcome.write_backs:
        if edit.written:
            extra.append(f"Issue links written into {edit.path}")
        extra.extend(f"note: {note}" for note in edit.notes)
    for error in outcome.write_errors:
        extra.append(f"Issue links NOT written: {error.message}")
    if extra:
        lines += ["", *extra]
    if outcome.many and outcome.results:
        lines += ["", totals_line(outcome.results)]
    if not outcome.results:
        lines.append("No spec file with stories to sync.")
    return "\n".join(lines)


def totals_line(results: list[SyncResult]) -> str:
    """``Done over 3 spec files: 12 created, ...`` or, for a dry run, ``Dry run over 1 spec
    file: would create 18, would update 0, ...`` (what would happen, never "created")."""
    total = {name: 0 for name in (*COUNT_NAMES.values(), "errors")}
    for result in results:
        for name, count in counts(result).items():
            total[name] += count
    files = f"{len(results)} spec file{'' if len(results) == 1 else 's'}"
    if results[0].executed:
        return f"Done over {files}: " + ", ".join(f"{count} {name}" for name, count in total.items())
    parts = [f"would create {total['created']}", f"would update {total['updated']}",
             f"{total['unchanged']} unchanged", f"{total['conflicts']} conflicts",
             f"{total['orphans']} orphans"]
    if total["duplicates"]:
        parts.append(f"would mark {total['duplicates']} duplicate(s)")
    return f"Dry run over {files}: " + ", ".join(parts)


def many_to_json(outcome: MultiResult) -> dict[str, Any]:
    """One file named: :func:`to_json` (plus ``written_back`` with --write-back); several files,
    a folder or a glob: ``{"files": [...], "counts": totals, "skipped": ..., ...}``."""
    written = [str(edit.path) for edit in outcome.write_backs if edit.written]
    write_error = error_json(outcome.write_errors[0])["error"] if outcome.write_errors else None
    if not outcome.many and len(outcome.results) == 1:
        single = to_json(outcome.results[0])
        if outcome.notes:
            single["skipped"] = list(outcome.notes)
        if outcome.write_backs or outcome.write_errors:
            single["written_back"] = written
        single["error"] = single["error"] or write_error
        return single
    files = [to_json(result) for result in outcome.results]
    total: dict[str, int] = {}
    for item in files:
        for name, count in item["counts"].items():
            total[name] = total.get(name, 0) + count
    return {
        "files": files,
        "counts": total,
        "skipped": list(outcome.notes),
        "written_back": written,
        "requests": dict(outcome.results[-1].requests) if outcome.results else {},
        "error": next((f["error"] for f in files if f["error"]), write_error),
    }
