"""The :class:`Sandbox` server object and its command line (``main``, ``add_sandbox_arguments``)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import cloud, control, datacenter
from .accounts import Account, Accounts, default_accounts
from .faults import ANONYMOUS_LIMIT, Faults
from .handler import SandboxHandler
from .options import add_sandbox_arguments
from .pipelines_proxy import PipelinesProxy, pipelines_account
from .routing import Context, Route
from .stats import Stats
from .store import Store

SAVE_INTERVAL = 1.0  # seconds: save at most this often while there are unsaved changes


class _Server(ThreadingHTTPServer):
    # set by Sandbox.start before serving; read by each SandboxHandler
    ctx: Context
    api_routes: list[Route]
    control_routes: list[Route]
    server_address: tuple[str, int]  # bound to 127.0.0.1 (IPv4)
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: a client that hung up is not worth a traceback on stderr."""


class Sandbox:
    """A local Bitbucket Cloud (or Data Center, with ``server_mode``) API server for tests and demos.

    Use as ``with Sandbox(milestones=["v1"]) as sb: requests.get(sb.base_url + "/user",
    headers=sb.account("person").headers)``. ``url`` is ``http://127.0.0.1:PORT``; ``base_url`` is
    what a client is configured with (Cloud: ``url + "/2.0"``; server mode: ``url + "/rest/api/2.0"``,
    whose issue paths answer 404 as Data Center's would; ``server_api_url`` is the REST 1.0 root
    that server mode does serve).

    Accounts (Cloud; see accounts.py): ``sync`` is an access token (``token``, Bearer only;
    ``token_level`` repository/project/workspace, ``token_scopes`` its legacy scopes), ``person``
    an API token of a workspace member (``person=(email, token)``, Basic only) and ``stranger``
    one of an account that is not a member (``stranger=(email, token)``); ``accounts`` adds more
    (:func:`accounts.api_token`, :func:`accounts.access_token`). ``public``: the repository is
    public (anyone reads it; a stranger may create issues and comments and edit its own).

    ``pipelines_proxy`` (a port, 0 for any free one) also starts a stand-in for the Pipelines
    auth proxy (:mod:`.pipelines_proxy`) at ``proxy_address``, authenticating as the account
    ``pipelines``; ``proxy_stats()`` counts what went through it.
    """

    def __init__(self, *, port: int = 0, data: Path | str | None = None, workspace: str = "sandbox",
                 repo: str = "demo", token: str = "sandbox-token", milestones: Iterable[str] = (),
                 components: Iterable[str] = (), versions: Iterable[str] = (),
                 pull_requests: Iterable[int | dict[str, Any]] = range(1, 11), latency_ms: float = 0, fail_rate: float = 0.0,
                 drop_rate: float = 0.0, ambiguous_rate: float = 0.0, rate_limit: int | None = None,
                 rate_window: float = 3600.0, retry_after: bool = False, server_mode: bool = False,
                 has_issues: bool = True, seed: int | None = None,
                 members: Iterable[str | dict[str, str]] = (),
                 admin_hub: bool = False, lenient_pagelen: bool = False, bearer_only: bool = False,
                 token_level: str = "repository", token_scopes: Iterable[str] | None = None,
                 person: tuple[str, str] | None = None, stranger: tuple[str, str] | None = None,
                 accounts: Iterable[Account] = (), public: bool = False,
                 anonymous_rate_limit: int | None = ANONYMOUS_LIMIT,
                 pipelines_proxy: int | None = None):
        self.port = port
        self.data = Path(data) if data is not None else None
        self.store = Store.load(self.data)
        defaults = default_accounts(token, token_level=token_level, token_scopes=token_scopes,
                                    **{k: v for k, v in (("person", person), ("stranger", stranger)) if v})
        extra = list(accounts)
        self.proxy: PipelinesProxy | None = None
        if pipelines_proxy is not None:
            extra.append(pipelines_account())
            self.proxy = PipelinesProxy(extra[-1], workspace, repo, port=pipelines_proxy)
        self.accounts = Accounts([*defaults, *extra])
        people = [a.user for a in self.accounts if a.member and not a.is_access_token]
        self.store.seed(milestones, components, versions, pull_requests, [*people, *members],
                        pr_author=self.accounts["person"].user)
        self.faults = Faults(latency_ms=latency_ms, fail_rate=fail_rate, drop_rate=drop_rate,
                             ambiguous_rate=ambiguous_rate, rate_limit=rate_limit, rate_window=rate_window,
                             retry_after=retry_after, seed=seed, anonymous_rate_limit=anonymous_rate_limit)
        self.stats_counter = Stats()
        self.ctx = Context(self.store, self.faults, self.stats_counter, workspace, repo, token,
                           has_issues, server_mode, admin_hub=admin_hub,
                           lenient_pagelen=lenient_pagelen, bearer_only=bearer_only,
                           accounts=self.accounts, public=public)
        self.server_mode = server_mode
        self._server: _Server | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        """Bind 127.0.0.1:port and serve in background threads; returns self."""
        server = _Server(("127.0.0.1", self.port), SandboxHandler)
        server.ctx = self.ctx
        server.api_routes = datacenter.routes() if self.server_mode else cloud.routes()
        server.control_routes = control.routes()
        self._server = server
        self.port = server.server_address[1]
        self._stopping.clear()
        serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                 name="bitbucket-sandbox", daemon=True)
        saver = threading.Thread(target=self._save_loop, name="bitbucket-sandbox-saver", daemon=True)
        self._threads = [serve, saver]
        for thread in self._threads:
            thread.start()
        if self.proxy is not None:
            self.proxy.start(self.port)
        return self

    def stop(self) -> None:
        """Stop serving and save the data file."""
        self._stopping.set()
        if self.proxy is not None:
            self.proxy.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self.save()

    def save(self) -> None:
        """Write the data file now (when there is one)."""
        if self.data is not None:
            self.store.save(self.data)

    def _save_loop(self) -> None:
        while not self._stopping.wait(SAVE_INTERVAL):
            if self.store.dirty:
                try:
                    self.save()
                except OSError as exc:
                    print(f"sandbox: cannot save {self.data}: {exc}", file=sys.stderr)

    def __enter__(self) -> Sandbox:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The base URL a client is configured with (Cloud ``/2.0``; server mode ``/rest/api/2.0``)."""
        return self.url + ("/rest/api/2.0" if self.server_mode else "/2.0")

    @property
    def server_api_url(self) -> str:
        """The Data Center REST 1.0 root (served in server mode)."""
        return self.url + "/rest/api/1.0"

    @property
    def workspace(self) -> str:
        """The workspace (project key in server mode)."""
        return self.ctx.workspace

    @property
    def repo(self) -> str:
        """The repository slug."""
        return self.ctx.repo

    @property
    def token(self) -> str:
        """The sync's access token (Bearer; in server mode also the password of Basic auth)."""
        return self.ctx.token

    @property
    def proxy_address(self) -> str:
        """``127.0.0.1:PORT`` of the Pipelines proxy stand-in (``pipelines_proxy``)."""
        if self.proxy is None:
            raise RuntimeError("this sandbox has no Pipelines proxy: start it with pipelines_proxy=0")
        return self.proxy.address

    def proxy_stats(self) -> dict[str, int]:
        """Requests the Pipelines proxy forwarded, refused, and refused for carrying a credential."""
        return self.proxy.stats() if self.proxy is not None else {}

    def account(self, handle: str) -> Account:
        """An account by handle (``sync``, ``person``, ``stranger``, or one passed in
        ``accounts``): its ``headers``, ``auth`` (for requests), ``env`` (for spectryn's CLI),
        ``email``, ``secret``, ``user`` (nickname, display name, account id, uuid)."""
        return self.accounts[handle]

    def set_scopes(self, handle: str, scopes: Iterable[str]) -> Account:
        """Give an account exactly these scopes from now on (its token re-created with other
        permissions); returns the changed account."""
        return self.accounts.with_scopes(handle, scopes)

    def stats(self) -> dict[str, Any]:
        """The request counters (same document as ``GET /_sandbox/stats``)."""
        return self.stats_counter.snapshot()

    def reset_stats(self) -> None:
        """Zero the request counters."""
        self.stats_counter.reset()

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change fault settings while running (same as ``POST /_sandbox/faults``)."""
        return self.faults.update(settings)

    def hold(self, method: str, path_suffix: str = "", count: int = 1) -> None:
        """Make the next ``count`` matching API requests (0: all) wait until :meth:`release`."""
        self.faults.hold.set(method, path_suffix, count)

    def held(self) -> int:
        """How many requests are waiting in the hold now."""
        return int(self.faults.hold.status()["waiting"])

    def release(self) -> None:
        """Let held requests go and end the hold."""
        self.faults.hold.release()

    def add_milestone(self, name: str) -> None:
        """Add a milestone, as an admin would in Repository settings."""
        self.store.add_catalog_entry("milestones", name)

    def banner(self) -> str:
        """The lines printed at start: where it listens, the environment to use it, the accounts."""
        mode = "Bitbucket Data Center (server mode)" if self.server_mode else "Bitbucket Cloud"
        kind = "project" if self.server_mode else "workspace"
        lines = [f"sandbox listening on {self.base_url} ({mode}; {kind} {self.workspace}, repo {self.repo}, "
                 f"token {self.token})",
                 f"export BITBUCKET_BASE_URL={self.base_url} BITBUCKET_WORKSPACE={self.workspace} "
                 f"BITBUCKET_REPO={self.repo} BITBUCKET_ACCESS_TOKEN={self.token}"]
        if not self.server_mode:
            for account in self.accounts:
                if account.is_access_token:
                    lines.append(f"  account {account.handle}: {account.level} access token {account.secret} "
                                 f"(Bearer; scopes {', '.join(account.granted())})")
                else:
                    member = "workspace member" if account.member else "not a member"
                    lines.append(f"  account {account.handle}: {account.display_name}, API token "
                                 f"{account.email} / {account.secret} (Basic; {member})")
        if self.proxy is not None:
            lines.append(f"Pipelines auth proxy on {self.proxy.address} (plain http, no credential, "
                         f"reports only): BITBUCKET_PIPELINES_PROXY={self.proxy.address}")
        return "\n".join(lines)


# ---------------------------------------------------------------------- command line
# the options live in .options (standard library only), so the ``spectryn`` parser can offer them
# without importing the server


def sandbox_from_args(args: argparse.Namespace) -> Sandbox:
    """A (not started) Sandbox configured from parsed arguments."""
    return Sandbox(port=args.port, data=args.data, workspace=args.workspace, repo=args.repo, token=args.token,
                   milestones=args.milestones, components=args.components, versions=args.versions,
                   pull_requests=args.pull_requests, latency_ms=args.latency_ms, fail_rate=args.fail_rate,
                   drop_rate=args.drop_rate, ambiguous_rate=args.ambiguous_rate, rate_limit=args.rate_limit,
                   rate_window=args.rate_window, retry_after=args.retry_after, server_mode=args.server_mode,
                   has_issues=args.has_issues, seed=args.seed, members=args.members,
                   admin_hub=args.admin_hub, lenient_pagelen=args.lenient_pagelen,
                   bearer_only=args.bearer_only, token_level=args.token_level,
                   token_scopes=args.token_scopes, person=args.person, stranger=args.stranger,
                   public=args.public, pipelines_proxy=args.pipelines_proxy,
                   anonymous_rate_limit=args.anonymous_rate_limit or None)


def run_from_args(args: argparse.Namespace) -> int:
    """Start a sandbox from parsed arguments, print where it listens, serve until Ctrl-C / SIGTERM."""
    try:
        sandbox = sandbox_from_args(args).start()
    except (OSError, ValueError) as exc:
        print(f"error: cannot start the sandbox: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        # before the banner: whoever reads it may send SIGTERM at once and expects a clean stop
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(sandbox.banner(), flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    where = f"; data saved to {sandbox.data}" if sandbox.data else ""
    print(f"sandbox stopped{where}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m spectryn_bitbucket.sandbox [options]``."""
    parser = argparse.ArgumentParser(prog="spectryn bitbucket sandbox",
                                     description="Run a local Bitbucket API sandbox server on 127.0.0.1.")
    add_sandbox_arguments(parser)
    return run_from_args(parser.parse_args(argv))
