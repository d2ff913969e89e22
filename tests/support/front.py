"""A server put in front of the sandbox for security tests: it forwards every request unchanged,
records what reached it (method, path, whether credentials came along), and lets a test answer a
request itself (a redirect, a create without an id) or edit a JSON answer (a ``next`` link to
another host). With no upstream it only records and answers ``{}`` (a "capture" server: anything
reaching it is a leak). Binds 127.0.0.1 unless told otherwise; optional TLS.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

#: ``answer(method, path)`` -> ``(status, headers, body)`` to answer instead of forwarding, or None.
Answer = Callable[[str, str], "tuple[int, dict[str, str], bytes] | None"]
#: ``rewrite(method, path, decoded JSON)`` -> the JSON to send on instead.
Rewrite = Callable[[str, str, Any], Any]


@dataclass
class Seen:
    """One request that reached the front."""

    method: str
    path: str
    authorization: bool


@dataclass
class Front:
    """The server; ``start()`` it, point ``BITBUCKET_BASE_URL`` at :attr:`base_url`."""

    upstream: str | None = None  # e.g. http://127.0.0.1:PORT (the sandbox's ``url``)
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    answer: Answer | None = None
    rewrite: Rewrite | None = None
    seen: list[Seen] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """``scheme://host:port`` of the front."""
        assert self._server is not None
        return f"{'https' if self.tls else 'http'}://{self.host}:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Cloud API root through the front."""
        return self.url + "/2.0"

    def start(self) -> Front:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                front.seen.append(Seen(self.command, self.path, "Authorization" in self.headers))
                status, headers, data = front._respond(self.command, self.path, dict(self.headers), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = True
        if self.tls is not None:
            server.socket = self.tls.wrap_socket(server.socket, server_side=True)
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _respond(self, method: str, path: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.answer is not None:
            answered = self.answer(method, path)
            if answered is not None:
                return answered
        if self.upstream is None:
            return 200, {"Content-Type": "application/json"}, b"{}"
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            passed = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            connection.request(method, path, body=body, headers=passed)
            response = connection.getresponse()
            data = response.read()
            out = {k: v for k, v in response.getheaders()
                   if k.lower() not in ("content-length", "connection", "transfer-encoding")}
            if self.rewrite is not None and data and "json" in out.get("Content-Type", ""):
                data = json.dumps(self.rewrite(method, path, json.loads(data))).encode()
            return response.status, out, data
        finally:
            connection.close()


def json_answer(status: int, value: Any, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """An answer for :attr:`Front.answer`."""
    return status, {"Content-Type": "application/json", **headers}, json.dumps(value).encode()
