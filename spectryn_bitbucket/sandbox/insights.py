"""Code Insights: reports and annotations on a commit, as Bitbucket Cloud 2.0 serves them.

Routes under ``/2.0/repositories/{ws}/{repo}/commit/{commit}/reports``: list, PUT (create or
replace) / GET / DELETE one report, and its annotations (bulk POST, list, and one by id).
Shapes, enums and limits follow Atlassian's OpenAPI text (``swagger.v3.json``: ``report``,
``report_annotation``, ``report_data``): at most 10 data fields, 1 to 100 annotations per POST,
1000 per report, ``line`` >= 1. Where the text is silent the sandbox takes the stricter answer,
each noted where it is decided: a PUT keeps the report's annotations (a client that wants them
gone deletes the report first), a DELETE of a report that does not exist is 404, a report needs
``title``, ``details`` and ``report_type`` and an annotation ``external_id``, ``annotation_type``
and ``summary``, and a POST that would pass 1000 annotations stores none of it.

The sandbox has no git objects: any 7 to 40 hex digits name a commit (Bitbucket answers 404 for
one the repository does not have, and resolves a short hash to the full one; here the hash is
kept as given).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from . import shapes
from .errors import ApiError
from .routing import Request, Response, Route
from .scopes import Needs
from .store import Store, now_iso

REPORTS = "/2.0/repositories/{ws}/{repo}/commit/{commit}/reports"

REPORT_TYPES = ("SECURITY", "COVERAGE", "TEST", "BUG")
REPORT_RESULTS = ("PASSED", "FAILED", "PENDING")
DATA_TYPES = ("BOOLEAN", "DATE", "DURATION", "LINK", "NUMBER", "PERCENTAGE", "TEXT")
ANNOTATION_TYPES = ("VULNERABILITY", "CODE_SMELL", "BUG")
ANNOTATION_RESULTS = ("PASSED", "FAILED", "SKIPPED", "IGNORED")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
#: Atlassian: "Maximum 10" data fields; "up to 100 annotations per POST request"; "a report can
#: contain up to 1000 annotations".
MAX_DATA = 10
MAX_PER_REQUEST = 100
MAX_PER_REPORT = 1000

_COMMIT = re.compile(r"[0-9a-fA-F]{7,40}")

#: Every reports operation, reads and writes alike, names only ``read:repository:bitbucket``
#: (API tokens) / ``repository`` (access tokens) in the OpenAPI text: a read-only token may post
#: a report. Whether anyone may read a public repository's reports without credentials is not
#: said: the stricter answer is no.
NEEDS = Needs(("read:repository:bitbucket",), ("repository",))


def _bad(detail: str) -> ApiError:
    return ApiError(400, "The provided Report object is malformed or incomplete.", detail)


def _check_target(req: Request, ws: str, repo: str, commit: str) -> None:
    ctx = req.ctx
    if ws != ctx.workspace or repo != ctx.repo:
        raise ApiError(404, f"Repository {ws}/{repo} not found",
                       f"No repository '{repo}' exists in workspace '{ws}' or you have no access to it.")
    if not _COMMIT.fullmatch(commit):
        raise ApiError(404, f"Commit {commit} not found", "Commit not found in this repository.")


# --------------------------------------------------------------------------- validation


def _text(body: dict[str, Any], name: str, *, required: bool, where: str = "") -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise _bad(f"{where}{name}: this field is required.")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad(f"{where}{name}: expected a non-empty string.")
    return value


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...], *, required: bool,
            where: str = "") -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if value not in allowed:
        raise _bad(f"{where}{name}: '{value}' is not one of {', '.join(allowed)}.")
    return str(value)


def _uri(body: dict[str, Any], name: str, where: str = "") -> str | None:
    value = _text(body, name, required=False, where=where)
    if value is not None and not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+\Z", value):
        raise _bad(f"{where}{name}: '{value}' is not a URI.")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_DATA_VALUE: dict[str, Callable[[Any], bool]] = {
    "BOOLEAN": lambda v: isinstance(v, bool),
    "DATE": _number,
    "DURATION": _number,
    "NUMBER": _number,
    "PERCENTAGE": lambda v: _number(v) and 0 <= v <= 100,
    "TEXT": lambda v: isinstance(v, str),
    "LINK": lambda v: isinstance(v, dict) and isinstance(v.get("text"), str)
    and isinstance(v.get("href"), str),
}


def _data(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("data", [])
    if not isinstance(items, list):
        raise _bad("data: expected an array.")
    if len(items) > MAX_DATA:
        raise _bad(f"data: {len(items)} fields; a report has at most {MAX_DATA}.")
    kept = []
    for index, item in enumerate(items):
        where = f"data[{index}]."
        if not isinstance(item, dict):
            raise _bad(f"data[{index}]: expected an object.")
        title = _text(item, "title", required=True, where=where)
        kind = _choice(item, "type", DATA_TYPES, required=False, where=where)
        value = item.get("value")
        if kind is not None:
            if not _DATA_VALUE[kind](value):
                raise _bad(f"{where}value: {value!r} is not a {kind} value.")
        elif not isinstance(value, (bool, int, float, str)):  # untyped: "boolean, number or string"
            raise _bad(f"{where}value: expected a boolean, number or string (or give a type).")
        kept.append({"title": title, "type": kind, "value": value} if kind else
                    {"title": title, "value": value})
    return kept


def _report_fields(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad("The body must be a JSON object.")
    # required: title, details and report_type (the docs' "incomplete" 400; the stricter reading)
    fields: dict[str, Any] = {
        "title": _text(body, "title", required=True),
        "details": _text(body, "details", required=True),
        "report_type": _choice(body, "report_type", REPORT_TYPES, required=True),
        "result": _choice(body, "result", REPORT_RESULTS, required=False),
        "reporter": _text(body, "reporter", required=False),
        "link": _uri(body, "link"),
        "logo_url": _uri(body, "logo_url"),
        "data": _data(body),
    }
    if "remote_link_enabled" in body:
        if not isinstance(body["remote_link_enabled"], bool):
            raise _bad("remote_link_enabled: expected a boolean.")
        fields["remote_link_enabled"] = body["remote_link_enabled"]
    return {name: value for name, value in fields.items() if value is not None}


def _annotation_fields(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad(f"{where.rstrip('.')}: expected an object.")
    line = body.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        raise _bad(f"{where}line: {line!r} is not a line number (1 or more).")
    fields: dict[str, Any] = {
        "external_id": _text(body, "external_id", required=True, where=where),
        "annotation_type": _choice(body, "annotation_type", ANNOTATION_TYPES, required=True,
                                   where=where),
        "summary": _text(body, "summary", required=True, where=where),
        "details": _text(body, "details", required=False, where=where),
        "result": _choice(body, "result", ANNOTATION_RESULTS, required=False, where=where),
        "severity": _choice(body, "severity", SEVERITIES, required=False, where=where),
        "path": _text(body, "path", required=False, where=where),
        "line": line,
        "link": _uri(body, "link", where),
    }
    return {name: value for name, value in fields.items() if value is not None}


# --------------------------------------------------------------------------- storage


class Reports:
    """The reports of every commit, kept in the sandbox's store (``data["reports"]``: commit ->
    report id -> the report, with its ``annotations`` by external id, in the order created)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _all(self) -> dict[str, dict[str, Any]]:
        reports: dict[str, dict[str, Any]] = self.store.data.setdefault("reports", {})
        return reports

    def of_commit(self, commit: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return [_copy(r) for r in self._all().get(commit, {}).values()]

    def get(self, commit: str, report_id: str) -> dict[str, Any]:
        with self.store.lock:
            return _copy(self._report(commit, report_id))

    def _report(self, commit: str, report_id: str) -> dict[str, Any]:
        found = self._all().get(commit, {}).get(report_id)
        if found is None:
            raise ApiError(404, f"Report {report_id} not found",
                           f"No report with id '{report_id}' exists on commit {commit}.")
        return found

    def put(self, commit: str, report_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Create or replace the report's fields. Its annotations stay: Atlassian does not say
        that a PUT removes them, and keeping them is the stricter answer (delete first)."""
        with self.store.lock:
            reports = self._all().setdefault(commit, {})
            stamp = now_iso()
            old = reports.get(report_id)
            record = {"uuid": old["uuid"] if old else f"{{{uuid.uuid4()}}}", "external_id": report_id,
                      **fields, "created_on": old["created_on"] if old else stamp,
                      "updated_on": stamp, "annotations": old["annotations"] if old else {}}
            reports[report_id] = record
            self.store.dirty = True
            return _copy(record)

    def delete(self, commit: str, report_id: str) -> None:
        """Delete the report and its annotations; 404 when there is none (the OpenAPI text lists
        only 204: a client must not count on deleting what is not there)."""
        with self.store.lock:
            self._report(commit, report_id)
            del self._all()[commit][report_id]
            self.store.dirty = True

    def annotations(self, commit: str, report_id: str) -> list[dict[str, Any]]:
        with self.store.lock:
            return [dict(a) for a in self._report(commit, report_id)["annotations"].values()]

    def annotation(self, commit: str, report_id: str, external_id: str) -> dict[str, Any]:
        with self.store.lock:
            found = self._report(commit, report_id)["annotations"].get(external_id)
            if found is None:
                raise ApiError(404, f"Annotation {external_id} not found",
                               f"No annotation with id '{external_id}' exists on report {report_id}.")
            return dict(found)

    def upsert(self, commit: str, report_id: str, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create or update the annotations of ``batch`` by external id, all or none: a batch
        that would take the report past :data:`MAX_PER_REPORT` stores nothing."""
        with self.store.lock:
            held = self._report(commit, report_id)["annotations"]
            new = [a for a in batch if a["external_id"] not in held]
            if len(held) + len(new) > MAX_PER_REPORT:
                raise _bad(f"A report can have at most {MAX_PER_REPORT} annotations: it has "
                           f"{len(held)} and this request adds {len(new)}.")
            stamp = now_iso()
            stored = []
            for fields in batch:
                old = held.get(fields["external_id"])
                record = {"uuid": old["uuid"] if old else f"{{{uuid.uuid4()}}}", **fields,
                          "created_on": old["created_on"] if old else stamp, "updated_on": stamp}
                held[fields["external_id"]] = record
                stored.append(dict(record))
            self.store.dirty = True
            return stored

    def remove(self, commit: str, report_id: str, external_id: str) -> None:
        with self.store.lock:
            self.annotation(commit, report_id, external_id)
            del self._report(commit, report_id)["annotations"][external_id]
            self.store.dirty = True


def _copy(report: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in report.items() if name != "annotations"}


# --------------------------------------------------------------------------- shapes and endpoints


def _report_shape(report: dict[str, Any]) -> dict[str, Any]:
    return {"type": "report", **report}


def _annotation_shape(annotation: dict[str, Any]) -> dict[str, Any]:
    return {"type": "report_annotation", **annotation}


def _url(req: Request) -> str:
    return req.site.root + req.path.rstrip("/")


def _page(req: Request, values: list[Any]) -> Response:
    return Response(200, shapes.cloud_page(values, req.params, _url(req), max_pagelen=shapes.CLOUD_PAGELEN_MAX,
                                           repeated=req.param_lists))


def list_reports(req: Request, ws: str, repo: str, commit: str) -> Response:
    """``GET .../commit/{commit}/reports``."""
    _check_target(req, ws, repo, commit)
    return _page(req, [_report_shape(r) for r in Reports(req.ctx.store).of_commit(commit)])


def get_report(req: Request, ws: str, repo: str, commit: str, rid: str) -> Response:
    """``GET .../reports/{reportId}``."""
    _check_target(req, ws, repo, commit)
    return Response(200, _report_shape(Reports(req.ctx.store).get(commit, rid)))


def put_report(req: Request, ws: str, repo: str, commit: str, rid: str) -> Response:
    """``PUT .../reports/{reportId}``: create or replace (annotations kept, see :meth:`Reports.put`)."""
    _check_target(req, ws, repo, commit)
    return Response(200, _report_shape(Reports(req.ctx.store).put(commit, rid, _report_fields(req.json()))))


def delete_report(req: Request, ws: str, repo: str, commit: str, rid: str) -> Response:
    """``DELETE .../reports/{reportId}``: the report and its annotations."""
    _check_target(req, ws, repo, commit)
    Reports(req.ctx.store).delete(commit, rid)
    return Response(204)


def list_annotations(req: Request, ws: str, repo: str, commit: str, rid: str) -> Response:
    """``GET .../reports/{reportId}/annotations``."""
    _check_target(req, ws, repo, commit)
    return _page(req, [_annotation_shape(a) for a in Reports(req.ctx.store).annotations(commit, rid)])


def post_annotations(req: Request, ws: str, repo: str, commit: str, rid: str) -> Response:
    """``POST .../reports/{reportId}/annotations``: a JSON array of 1 to 100 annotations."""
    _check_target(req, ws, repo, commit)
    body = req.json()
    if not isinstance(body, list):
        raise _bad("The body must be a JSON array of annotations.")
    if not 1 <= len(body) <= MAX_PER_REQUEST:
        raise _bad(f"{len(body)} annotations in one request; send 1 to {MAX_PER_REQUEST}.")
    batch = [_annotation_fields(item, f"[{index}].") for index, item in enumerate(body)]
    ids = [a["external_id"] for a in batch]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise _bad(f"external_id must be unique: {', '.join(twice)} given more than once.")
    stored = Reports(req.ctx.store).upsert(commit, rid, batch)
    return Response(200, [_annotation_shape(a) for a in stored])


def get_annotation(req: Request, ws: str, repo: str, commit: str, rid: str, aid: str) -> Response:
    """``GET .../annotations/{annotationId}`` (the external id)."""
    _check_target(req, ws, repo, commit)
    return Response(200, _annotation_shape(Reports(req.ctx.store).annotation(commit, rid, aid)))


def put_annotation(req: Request, ws: str, repo: str, commit: str, rid: str, aid: str) -> Response:
    """``PUT .../annotations/{annotationId}``: create or update one."""
    _check_target(req, ws, repo, commit)
    body = req.json()
    fields = _annotation_fields({**body, "external_id": aid} if isinstance(body, dict) else body, "")
    (stored,) = Reports(req.ctx.store).upsert(commit, rid, [fields])
    return Response(200, _annotation_shape(stored))


def delete_annotation(req: Request, ws: str, repo: str, commit: str, rid: str, aid: str) -> Response:
    """``DELETE .../annotations/{annotationId}``."""
    _check_target(req, ws, repo, commit)
    Reports(req.ctx.store).remove(commit, rid, aid)
    return Response(204)


def routes() -> list[Route]:
    """The Code Insights routes (added to the Cloud table)."""
    table = [
        Route(REPORTS, {"GET": list_reports}),
        Route(REPORTS + "/{rid}", {"GET": get_report, "PUT": put_report, "DELETE": delete_report}),
        Route(REPORTS + "/{rid}/annotations", {"GET": list_annotations, "POST": post_annotations}),
        Route(REPORTS + "/{rid}/annotations/{aid}",
              {"GET": get_annotation, "PUT": put_annotation, "DELETE": delete_annotation}),
    ]
    for route in table:
        route.needs = dict.fromkeys(route.methods, NEEDS)
    return table
