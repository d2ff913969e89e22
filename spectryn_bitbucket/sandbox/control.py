"""Control endpoints under ``/_sandbox`` (no auth, no faults, not counted in the stats)."""

from __future__ import annotations

from . import shapes
from .errors import ApiError
from .routing import Request, Response, Route
from .store import CATALOGS


def get_stats(req: Request) -> Response:
    """``GET /_sandbox/stats``."""
    return Response(200, req.ctx.stats.snapshot())


def reset_stats(req: Request) -> Response:
    """``POST /_sandbox/reset-stats``."""
    req.ctx.stats.reset()
    return Response(200, req.ctx.stats.snapshot())


def get_faults(req: Request) -> Response:
    """``GET /_sandbox/faults``: the current fault settings."""
    return Response(200, req.ctx.faults.settings())


def set_faults(req: Request) -> Response:
    """``POST /_sandbox/faults`` with any of the fault settings."""
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(400, "Bad request", "Send a JSON object of fault settings.")
    try:
        return Response(200, req.ctx.faults.update(body))
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def get_hold(req: Request) -> Response:
    """``GET /_sandbox/hold``: ``{"active", "waiting", "held"}``."""
    return Response(200, req.ctx.faults.hold.status())


def set_hold(req: Request) -> Response:
    """``POST /_sandbox/hold`` with ``{"method", "path_suffix", "count", "timeout"}``: the next
    ``count`` matching API requests (0: all) wait until ``POST /_sandbox/release``."""
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("method"), str):
        raise ApiError(400, "Bad request", 'Send {"method": "POST", "path_suffix": "/issues", "count": 1}.')
    try:
        return Response(200, req.ctx.faults.hold.set(body["method"], str(body.get("path_suffix", "")),
                                                     body.get("count", 1), body.get("timeout", 60.0)))
    except (TypeError, ValueError) as exc:
        raise ApiError(400, str(exc)) from None


def release_hold(req: Request) -> Response:
    """``POST /_sandbox/release``: every held request goes on; the hold ends."""
    return Response(200, req.ctx.faults.hold.release())


def all_issues(req: Request) -> Response:
    """``GET /_sandbox/issues``: every issue, unpaginated, in Cloud's shape."""
    catalogs = {c: {e["name"]: e["id"] for e in req.ctx.store.catalog(c)} for c in CATALOGS}
    issues = sorted(req.ctx.store.issues(), key=lambda r: r["id"])
    return Response(200, [shapes.issue(req.site, r, catalogs) for r in issues])


def _adder(catalog: str):
    def add(req: Request) -> Response:
        body = req.json()
        name = body.get("name") if isinstance(body, dict) else None
        entry = req.ctx.store.add_catalog_entry(catalog, name)
        return Response(201, shapes.catalog_entry(req.site, catalog, entry))
    add.__doc__ = f"``POST /_sandbox/{catalog}`` with ``{{\"name\": ...}}``: an admin adds one."
    return add


def routes() -> list[Route]:
    """The control route table."""
    table = [
        Route("/_sandbox/stats", {"GET": get_stats}),
        Route("/_sandbox/reset-stats", {"POST": reset_stats}),
        Route("/_sandbox/faults", {"GET": get_faults, "POST": set_faults}),
        Route("/_sandbox/issues", {"GET": all_issues}),
        Route("/_sandbox/hold", {"GET": get_hold, "POST": set_hold}),
        Route("/_sandbox/release", {"POST": release_hold}),
    ]
    table += [Route(f"/_sandbox/{catalog}", {"POST": _adder(catalog)}) for catalog in CATALOGS]
    return table
