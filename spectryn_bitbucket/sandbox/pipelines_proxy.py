"""A stand-in for the Bitbucket Pipelines auth proxy (``localhost:29418`` inside a pipeline step).

Atlassian documents it for Code Insights reports (and git push): a step sends its request in
plain http to ``http://api.bitbucket.org/2.0/...`` through the proxy, with no credential, and the
proxy authenticates it as the pipeline. This one listens on 127.0.0.1, takes absolute-form
requests (``PUT http://HOST/2.0/... HTTP/1.1``) for the sandbox it stands in front of (its own
address, or ``api.bitbucket.org``), adds the credential of the sandbox's ``pipelines`` account (an
access token whose only scope is ``repository``, which is all the reports endpoints need) and
forwards them to the sandbox.

Stricter than documented, where the documentation is silent: it serves the reports endpoints of
the sandbox's own repository only (anything else is a 403: reading issues needs a token of your
own), refuses ``CONNECT`` (it is a plain-http proxy) and refuses a request that already carries an
``Authorization`` header (a client must never hand a credential to the proxy; such requests are
counted, so a test can assert there were none).
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .accounts import Account, access_token

#: The account the proxy authenticates as: a repository access token, ``repository`` scope only.
HANDLE = "pipelines"
#: The paths it authenticates: a commit's Code Insights reports of the sandbox's repository.
_REPORTS = r"/2\.0/repositories/{ws}/{repo}/commit/[^/]+/reports(/.*)?"
#: Headers not passed on (hop-by-hop, and the ones the proxy sets itself).
_DROPPED = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
                      "trailer", "transfer-encoding", "upgrade", "host", "content-length",
                      "authorization"})


def pipelines_account() -> Account:
    """The pipeline's own credential (random each start: nobody outside the proxy knows it)."""
    return access_token(HANDLE, f"pipelines-{secrets.token_hex(16)}", name="bitbucket-pipelines",
                        scopes=("repository",))


class PipelinesProxy:
    """The proxy in front of one sandbox: ``start(sandbox_port)``, ``address`` (``127.0.0.1:PORT``),
    ``stats()`` (``requests`` forwarded, ``refused``, ``credentials_seen``), ``stop()``."""

    def __init__(self, account: Account, workspace: str, repo: str, port: int = 0) -> None:
        self.account = account
        self.port = port
        self.reports = re.compile(_REPORTS.format(ws=re.escape(workspace), repo=re.escape(repo)) + r"\Z")
        self.sandbox_port = 0
        self._lock = threading.Lock()
        self._counts = {"requests": 0, "refused": 0, "credentials_seen": 0}
        self._server: _ProxyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``: what a step's ``localhost:29418`` is here."""
        return f"127.0.0.1:{self.port}"

    def hosts(self) -> set[str]:
        """The API hosts it forwards for: the real one's name, and the sandbox's own address."""
        return {"api.bitbucket.org", f"127.0.0.1:{self.sandbox_port}", f"localhost:{self.sandbox_port}"}

    def count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def stats(self) -> dict[str, int]:
        """What went through it so far."""
        with self._lock:
            return dict(self._counts)

    def start(self, sandbox_port: int) -> PipelinesProxy:
        self.sandbox_port = sandbox_port
        server = _ProxyServer(("127.0.0.1", self.port), _ProxyHandler)
        server.proxy = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="bitbucket-pipelines-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class _ProxyServer(ThreadingHTTPServer):
    proxy: PipelinesProxy
    server_address: tuple[str, int]
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hung up is not worth a traceback."""


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "spectryn-pipelines-proxy"
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet."""

    def do_GET(self) -> None:  # noqa: D102
        self._forward()

    def do_HEAD(self) -> None:  # noqa: D102
        self._forward()

    def do_PUT(self) -> None:  # noqa: D102
        self._forward()

    def do_POST(self) -> None:  # noqa: D102
        self._forward()

    def do_DELETE(self) -> None:  # noqa: D102
        self._forward()

    def do_CONNECT(self) -> None:
        """Refused: the Pipelines proxy is for plain http to the API host."""
        self._refuse(405, "The Pipelines auth proxy takes plain http requests (http://api.bitbucket.org/...), "
                          "not CONNECT.")

    def _refuse(self, status: int, message: str) -> None:
        self.server.proxy.count("refused")
        self._answer(status, json.dumps({"type": "error", "error": {"message": message}}).encode(),
                     {"Content-Type": "application/json; charset=utf-8"})

    def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length and int(length) > 0 else b""

    def _forward(self) -> None:
        proxy = self.server.proxy
        body = self._body()
        if self.headers.get("Authorization"):
            proxy.count("credentials_seen")
            self._refuse(400, "A request through the Pipelines auth proxy must not carry a credential: "
                              "the proxy authenticates it.")
            return
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.netloc:
            self._refuse(400, "Send the request through the proxy with an absolute http:// URL of the API.")
            return
        if target.netloc.lower() not in proxy.hosts():
            self._refuse(403, f"The Pipelines auth proxy does not forward to {target.netloc}.")
            return
        if not proxy.reports.match(target.path):
            self._refuse(403, "The Pipelines auth proxy authenticates Code Insights reports of this "
                              "repository only; use a token of your own for anything else.")
            return
        proxy.count("requests")
        headers = {name: value for name, value in self.headers.items() if name.lower() not in _DROPPED}
        headers.update({"Host": target.netloc, "Authorization": proxy.account.authorization})
        path = target.path + (f"?{target.query}" if target.query else "")
        connection = http.client.HTTPConnection("127.0.0.1", proxy.sandbox_port, timeout=60)
        try:
            connection.request(self.command, path, body=body or None, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            passed = {name: value for name, value in answer.getheaders()
                      if name.lower() not in _DROPPED}
        finally:
            connection.close()
        self._answer(answer.status, payload, passed)
