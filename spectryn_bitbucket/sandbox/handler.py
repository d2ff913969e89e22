"""HTTP plumbing: parse a request, count it, inject faults, check auth, dispatch, answer.

One ``SandboxHandler`` per connection (``ThreadingHTTPServer``); HTTP/1.1 with exact
``Content-Length`` so clients keep connections alive. The server object carries the
:class:`Context` (``server.ctx``) and the route tables.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import downloads, scopes
from . import faults as fault_kinds
from .accounts import INVALID_TOKEN
from .errors import ApiError
from .routing import Context, Request, Response, Route, find_route
from .shapes import Site
from .store import json_bytes

if TYPE_CHECKING:
    from .server import _Server

_DIGITS = re.compile(r"/\d+(?=/|$)")


class SandboxHandler(BaseHTTPRequestHandler):
    """Serves the Bitbucket API subset, the control endpoints and the injected faults."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in one buffered write, and without Nagle's delay: otherwise every
    # keep-alive request waits ~40 ms for a delayed ACK.
    wbufsize = -1
    disable_nagle_algorithm = True
    server_version = "spectryn-bitbucket-sandbox"
    server: _Server

    def setup(self) -> None:
        """Count the new connection (keep-alive makes this far lower than the request count)."""
        super().setup()
        self.server.ctx.stats.count_connection()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: no per-request line on stderr."""

    def do_GET(self) -> None:
        """Handle GET."""
        self._handle()

    def do_HEAD(self) -> None:
        """Handle HEAD (as GET, without the body)."""
        self._handle()

    def do_POST(self) -> None:
        """Handle POST."""
        self._handle()

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._handle()

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._handle()

    def do_PATCH(self) -> None:
        """Handle PATCH (no route allows it: 405 / 404)."""
        self._handle()

    # ------------------------------------------------------------------ request flow
    @property
    def ctx(self) -> Context:
        return self.server.ctx

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except ValueError as exc:
            self.close_connection = True
            self._send(self._error_response(ApiError(400, "Bad request", str(exc))))
            return
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        ctx = self.ctx
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address)
        site = Site(f"http://{host}", ctx.workspace, ctx.repo, ctx.has_issues and not ctx.admin_hub,
                    ctx.public)
        request = Request(self.command, split.path, {k: v[-1] for k, v in query.items()}, query,
                          self.headers, body, site, ctx)

        if split.path.startswith("/_sandbox/"):
            self._send(self._dispatch(request, self.server.control_routes, cloud_errors=True))
            return
        if split.path.startswith(downloads.PREFIX) and not ctx.server_mode:
            self._send(self._download(split.path))
            return
        self._handle_api(request)

    def _download(self, path: str) -> Response:
        """A one-time attachment link (see downloads.py): not the API - no credentials, not
        counted, not rate-limited - and good once."""
        ticket = self.ctx.downloads.redeem(path)
        if ticket is None or self.command not in ("GET", "HEAD"):
            return Response(403, b"This download link has expired or was already used.", content_type="text/plain")
        try:
            meta, content = self.ctx.store.attachment(ticket.issue_id, ticket.name)
        except ApiError:
            return Response(404, b"Not found", content_type="text/plain")
        return Response(200, content, content_type=meta.get("content_type") or "application/octet-stream")

    def _handle_api(self, request: Request) -> None:
        ctx = self.ctx
        found = find_route(self.server.api_routes, request.path)
        template = found[0].stats_template(found[1]) if found else _DIGITS.sub("/{id}", request.path)
        ctx.stats.count(request.method, template)
        ctx.faults.hold.pause(request.method, request.path)
        ctx.faults.sleep()
        rate_key = "server"  # Data Center: its admins configure limits; one window
        if not ctx.server_mode and ctx.accounts is not None:
            request.caller = ctx.accounts.identify(self.headers.get("Authorization", ""))
            rate_key = request.caller.rate_key
        decision = ctx.faults.decide(request.method, rate_key)
        if decision.action == fault_kinds.RATE_LIMITED:
            ctx.stats.count_fault("rate_limited")
            # as Bitbucket Cloud answers: text/plain, and no Retry-After unless asked for
            headers = {"Retry-After": str(decision.retry_after)} if decision.retry_after else {}
            self._send(Response(429, b"Rate limit for this resource has been exceeded", headers,
                                content_type="text/plain"))
            return
        if decision.action == fault_kinds.FAIL:
            ctx.stats.count_fault("failed")
            self._send(self._error_response(ApiError(decision.status, "Something went wrong",
                                                     "Injected sandbox failure; nothing was changed.")))
            return
        if decision.action == fault_kinds.DROP:
            ctx.stats.count_fault("dropped")
            self._drop()
            return

        if ctx.server_mode or ctx.accounts is None:
            refusal = self._authenticate_server(request)
        else:
            refusal = self._authenticate_cloud(request, found[0] if found else None)
        response = refusal or self._dispatch(request, self.server.api_routes, cloud_errors=not ctx.server_mode)
        if decision.action == fault_kinds.DROP_AFTER:
            ctx.stats.count_fault("dropped")
            self._drop()
            return
        if decision.action == fault_kinds.AMBIGUOUS:
            ctx.stats.count_fault("ambiguous")
            response = self._error_response(ApiError(502, "Bad Gateway", "Injected sandbox failure after the request was applied."))
        self._send(self._with_rate_headers(request, response))

    def _with_rate_headers(self, request: Request, response: Response) -> Response:
        """``X-RateLimit-Limit``/``-Resource``/``-NearLimit``: "Requests made by Access Tokens or
        Forge to scaled endpoints" (the ``api`` resource group, ``/2.0/repositories/*``), as
        Atlassian's scaled-rate-limits announcement documents; no other credential gets them."""
        account = request.account
        if account is None or not account.is_access_token or not request.path.startswith("/2.0/repositories/"):
            return response
        limit, near = self.ctx.faults.allowance(request.caller.rate_key if request.caller else "")
        response.headers.update({"X-RateLimit-Limit": str(limit), "X-RateLimit-Resource": "api",
                                 "X-RateLimit-NearLimit": "true" if near else "false"})
        return response

    def _authenticate_cloud(self, request: Request, route: Route | None) -> Response | None:
        """None when the caller may go on to the endpoint; else the 401 (credentials refused, or
        none where Bitbucket needs some) or 403 (a scope missing) Bitbucket answers."""
        caller = request.caller
        challenge = {"WWW-Authenticate": 'Basic realm="Bitbucket.org HTTP"'}
        if caller is None or caller.refused:
            return self._error_response(ApiError(401, INVALID_TOKEN, headers=challenge))
        method = "GET" if request.method == "HEAD" else request.method
        needs = route.needs.get(method) if route is not None else None
        if caller.account is None:
            # anonymous: only reads of a public repository (and its workspace)
            if needs is not None and needs.anonymous and self.ctx.public:
                return None
            if route is None:
                return None  # a 404 for a path that does not exist, as to anyone
            return self._error_response(ApiError(401, "Unauthorized", "This resource requires authentication.",
                                                 headers=challenge))
        try:
            scopes.check(needs, caller.account)
        except ApiError as error:
            return self._error_response(error)
        return None

    def _authenticate_server(self, request: Request) -> Response | None:
        """Data Center mode: the one token, as Bearer or as the password of Basic auth."""
        header = self.headers.get("Authorization", "")
        token = self.ctx.token
        scheme, _, value = header.partition(" ")
        supplied = None
        if scheme.lower() == "bearer":
            supplied = value.strip()
        elif scheme.lower() == "basic" and not self.ctx.bearer_only:
            try:
                supplied = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
            except (binascii.Error, UnicodeDecodeError):
                supplied = None
        if supplied is not None and hmac.compare_digest(supplied.encode(), token.encode()):
            return None
        if self.ctx.server_mode:
            error = ApiError(401, "Authentication failed. Please check your credentials and try again.",
                             headers={"WWW-Authenticate": 'Bearer realm="Bitbucket"'})
        else:
            error = ApiError(401, INVALID_TOKEN, headers={"WWW-Authenticate": 'Basic realm="Bitbucket.org HTTP"'})
        return self._error_response(error, cloud=not self.ctx.server_mode)

    def _dispatch(self, request: Request, routes: list[Route], cloud_errors: bool) -> Response:
        found = find_route(routes, request.path)
        try:
            if found is None:
                if cloud_errors:
                    raise ApiError(404, "Resource not found", f"There is no API resource at {request.path}.")
                raise ApiError(404, f"The requested resource {request.path} does not exist on this server "
                                    "(Bitbucket Data Center has no issue tracker).")
            route, params = found
            method = "GET" if request.method == "HEAD" else request.method
            endpoint = route.methods.get(method)
            if endpoint is None:
                allowed = ", ".join(sorted(route.methods))
                raise ApiError(405, f"Method {request.method} not allowed", route.not_allowed_detail
                               or f"This resource allows: {allowed}.", headers={"Allow": allowed})
            response = endpoint(request, **params)
            fields = request.params.get("fields")
            if fields and isinstance(response.body, (dict, list)):
                from .fields import trim
                response.body = trim(response.body, fields)
            return response
        except ApiError as error:
            return self._error_response(error, cloud=cloud_errors)

    # ------------------------------------------------------------------ I/O
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline(65537).split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            size = int(length)
        except ValueError:
            raise ValueError(f"Invalid Content-Length: {length!r}") from None
        return self.rfile.read(size) if size > 0 else b""

    def _error_response(self, error: ApiError, cloud: bool | None = None) -> Response:
        if cloud is None:
            cloud = not self.ctx.server_mode
        body = error.cloud_body() if cloud else error.server_body()
        return Response(error.status, body, dict(error.headers))

    def _send(self, response: Response) -> None:
        if response.body is None:
            payload = b""
        elif isinstance(response.body, bytes):
            payload = response.body
        else:
            payload = json_bytes(response.body)
        self.send_response(response.status)
        if payload or response.status not in (204, 304):
            self.send_header("Content-Type", response.content_type)
        if response.status != 204:
            self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def _drop(self) -> None:
        """Close the connection without sending anything."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(2)  # socket.SHUT_RDWR
        except OSError:
            pass
