"""The HTTP client: one ``requests.Session`` per run with auth, TLS, timeouts, retries, the
client-side rate limit, pagination and the mapping of HTTP failures to spectryn errors.

Retries, in two layers:

- transport: urllib3's ``Retry`` mounted on the session's ``HTTPAdapter`` retries connection
  failures of every method (nothing was sent) and read failures and 500/502/503/504 answers of
  the idempotent methods (GET, PUT, DELETE), with exponential backoff and jitter;
- 429: handled here for every method (the request was refused, not applied): the rolling log
  (:mod:`spectryn_bitbucket.ratelimit`) pauses every thread and process sharing the credential -
  ``Retry-After`` when sent, else growing jittered pauses up to the window - then sends again.

Pacing: every request first takes a slot in the credential's rolling one-hour log, shared by
consecutive and concurrent runs, so a run never sends more than Bitbucket counts as allowed.

A POST that timed out or got a 5xx may have been applied. :meth:`BitbucketClient.create` never
re-sends it blindly: it asks a ``lookup`` callback first and returns what it finds.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from spectryn_bitbucket import errors
from spectryn_bitbucket.config import BitbucketSettings, insecure_http, is_loopback
from spectryn_bitbucket.ratelimit import RollingLog, duration_text, open_log
from spectryn_bitbucket.retry import LoggedRetry
from spectryn_core.errors import TrackerError

log = logging.getLogger("spectryn.bitbucket")

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
PAGELEN = 100
MAX_REDIRECTS = 5


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer <token>`` (access tokens, Server personal access tokens)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "BearerAuth(***)"


def _error_object(response: requests.Response) -> dict[str, Any]:
    """The ``error`` object of a Cloud error body, or {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    err = body.get("error") if isinstance(body, dict) else None
    return err if isinstance(err, dict) else {}


def error_message(response: requests.Response) -> str:
    """The ``error.message`` of a Cloud error body, or ''."""
    return str(_error_object(response).get("message") or "")


def required_scopes(response: requests.Response) -> list[str]:
    """The scopes a 403 says are required (``error.detail.required`` of Bitbucket's "Your
    credentials lack one or more required privilege scopes."), or []."""
    detail = _error_object(response).get("detail")
    required = detail.get("required") if isinstance(detail, dict) else None
    return [str(s) for s in required] if isinstance(required, list) else []


def error_detail(response: requests.Response) -> str:
    """The ``error.message`` (and ``detail``) of a Bitbucket error body, or ''."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    err = body.get("error") or {}
    if isinstance(err, dict):
        parts = [str(err[k]) for k in ("message", "detail") if err.get(k) and not isinstance(err[k], dict)]
        return " - ".join(parts)
    errs = body.get("errors")  # Server's shape: {"errors": [{"message": ...}]}
    if isinstance(errs, list):
        return "; ".join(str(e.get("message", "")) for e in errs if isinstance(e, dict))
    return ""


class BitbucketClient:
    """HTTP access to one Bitbucket repository (Cloud 2.0 or Server REST 1.0).

    ``sleep`` and ``backoff`` are injectable so tests do not wait.
    """

    def __init__(
        self,
        settings: BitbucketSettings,
        *,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        pool_size: int | None = None,
        quota: RollingLog | None = None,
    ) -> None:
        self.settings = settings
        self.backoff = backoff
        self._sleep = sleep
        self._lock = threading.Lock()
        self.counts = {"read": 0, "write": 0}
        #: The credential's rolling request log (waits, 429 pauses, ``quota()``).
        self.quota = quota or open_log(settings.state_dir, settings.host, settings.quota_identity,
                                       settings.rate_limit, settings.rate_window, settings.max_wait,
                                       sleep=sleep)
        self.session = self._make_session(pool_size or max(10, (settings.workers or 8) + 2))
        # Per request, because requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a
        # session's ``verify``: ssl_verify=false and ca_bundle must win. Loopback (the sandbox)
        # never goes through a proxy, which would see plain-http credentials.
        self._transport: dict[str, Any] = {"verify": settings.verify}
        if settings.via_proxy:
            # the Pipelines auth proxy: plain http through it, and never a credential (see
            # _make_session); nothing else of the environment decides where it goes
            proxy = f"http://{settings.via_proxy}"
            self._transport["proxies"] = {"http": proxy, "https": proxy, "all": proxy}
        elif is_loopback(urlsplit(settings.base_url).hostname or ""):
            self._transport["proxies"] = {"http": None, "https": None, "all": None}

    # --- session -------------------------------------------------------------------------

    def _make_session(self, pool_size: int) -> requests.Session:
        session = requests.Session()
        kind, value = self.settings.auth
        if self.settings.via_proxy or kind == "none":
            if kind != "none":
                raise ValueError("a credential is never sent through the Pipelines auth proxy")
            session.auth = None
            session.trust_env = False  # no ~/.netrc credential, no proxy from the environment
        elif kind == "bearer":
            session.auth = BearerAuth(value)
        else:
            session.auth = requests.auth.HTTPBasicAuth(*value)
        session.headers.update({"Accept": "application/json", "User-Agent": "spectryn-bitbucket"})
        session.verify = self.settings.verify
        if insecure_http(self.settings.base_url) and kind != "none":
            log.warning("credentials are sent unencrypted to %s over plain http "
                        "(bitbucket.allow_insecure_http: true); use https", self.settings.host)
        if self.settings.verify is False:
            log.warning(
                "TLS certificate verification is off for %s (BITBUCKET_SSL_VERIFY=false); "
                "use bitbucket.ca_bundle instead in production", self.settings.host,
            )
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        retries = self.settings.retries
        retry = LoggedRetry.for_host(
            self.settings.host, retries,
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            allowed_methods=IDEMPOTENT,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff,
            backoff_jitter=self.backoff,
            backoff_max=30,
            respect_retry_after_header=False,  # 429s go to request(): logged, counted, bucketed
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def close(self) -> None:
        """Close the session's connections and the quota log."""
        self.session.close()
        self.quota.close()

    def request_count(self) -> dict[str, int]:
        """Requests sent so far: ``{"read": GETs, "write": POST/PUT/DELETE}``."""
        with self._lock:
            return dict(self.counts)

    # --- URLs ----------------------------------------------------------------------------

    def url(self, path: str, what: str = "a link") -> str:
        """Absolute URL of an API path (``/repositories/...``); absolute URLs (a ``next`` link)
        pass through only when they keep the base_url's scheme, host and port."""
        url = path if path.startswith(("http://", "https://")) else self.settings.base_url + path
        if _origin(url) != _origin(self.settings.base_url):
            raise errors.off_origin(what, _shown_origin(url), self.settings.base_url)
        return url

    def repo_path(self, suffix: str = "") -> str:
        """Cloud path of the repository: ``/repositories/{workspace}/{repo}{suffix}``."""
        return f"/repositories/{self.settings.workspace}/{self.settings.repo}{suffix}"

    def server_url(self, suffix: str = "") -> str:
        """Server REST 1.0 URL of the repository (``.../projects/KEY/repos/slug{suffix}``)."""
        s = self.settings
        return f"{s.server_root}/rest/api/1.0/projects/{s.workspace}/repos/{s.repo}{suffix}"

    # --- sending -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        make_body: Callable[[], tuple[Any, dict[str, str]]] | None = None,
    ) -> requests.Response:
        """Send one request (taking a quota slot, waiting out 429s) and return the response,
        whatever its status.

        ``make_body`` builds a fresh streamed body and its headers for every attempt (a
        multipart upload cannot be rewound).

        Raises :class:`requests.ConnectionError` / :class:`requests.Timeout` for a POST whose
        fate is unknown (the caller decides), and ``Cannot reach <host>`` for everything else.
        """
        url = self.url(path)
        shown = urlsplit(url).path
        kind = "read" if method in ("GET", "HEAD") else "write"
        redirects = 0
        while True:
            self.quota.acquire()
            if make_body is not None:
                data, extra = make_body()
                headers = {**(headers or {}), **extra}
            started = time.monotonic()
            with self._lock:
                self.counts[kind] += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, data=data, headers=headers,
                    timeout=self.settings.timeout, allow_redirects=False, **self._transport,
                )
            except requests.exceptions.SSLError as exc:
                self.quota.answered()
                raise errors.cannot_reach(self.settings.host, _reason(exc), tls=True) from None
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.quota.answered()
                log.debug("%s %s -> %s", method, shown, type(exc).__name__)
                if method in IDEMPOTENT:
                    raise errors.cannot_reach(self.settings.host, _reason(exc), tls=False) from None
                raise
            self.quota.answered()
            elapsed = (time.monotonic() - started) * 1000
            log.debug("%s %s -> %d (%.0f ms)", method, shown, response.status_code, elapsed)
            if response.is_redirect:
                self.quota.accepted(response.headers)
                url, params = self._redirect(method, url, response, redirects), None
                shown = urlsplit(url).path
                redirects += 1
                continue
            if response.status_code != 429:
                self.quota.accepted(response.headers)
                return response
            retry_after = response.headers.get("Retry-After")
            pause = self.quota.rejected(retry_after)
            log.debug("rate limited by Bitbucket (429%s); pausing %s before sending again",
                        ", Retry-After" if retry_after else "", duration_text(pause))

    def _redirect(self, method: str, url: str, response: requests.Response, redirects: int) -> str:
        """Where a redirect may be followed: reads only, on the base_url's own origin."""
        target = urljoin(url, response.headers.get("Location", ""))
        response.close()
        if method not in ("GET", "HEAD"):
            raise errors.write_redirected(method, urlsplit(url).path, response.status_code,
                                          _shown_origin(target))
        if redirects >= MAX_REDIRECTS:
            raise TrackerError(f"Too many redirects reading {urlsplit(url).path}",
                               "check bitbucket.base_url (BITBUCKET_BASE_URL)")
        return self.url(target, "a redirect")

    def raise_for(
        self,
        response: requests.Response,
        what: str,
        not_found: Callable[[], TrackerError] | None = None,
    ) -> None:
        """Turn a failed response into the matching :mod:`spectryn_bitbucket.errors` value."""
        status = response.status_code
        if status < 400:
            return
        detail = error_detail(response)
        if status == 401:
            kind, value = self.settings.auth
            raise errors.authentication_failed(self.settings.auth_kind, self.settings.mode,
                                               str(value[0]) if kind == "basic" else None)
        if status == 403:
            required = required_scopes(response)
            if required:
                raise errors.permission_denied(what, ", ".join(required))
            message = error_message(response)
            if message and "scope" not in message.lower():
                raise errors.permission_denied(what, reason=message)
            method = response.request.method if response.request is not None else "GET"
            raise errors.permission_denied(what, errors.missing_scope(str(method), urlsplit(response.url).path))
        if status == 404:
            if not_found is not None:
                raise not_found()
            raise TrackerError(f"Not found: {what}", detail or "check workspace, repo and issue numbers")
        if status in (400, 409, 422):
            raise errors.bad_request(what, detail)
        method = response.request.method if response.request is not None else "?"
        raise errors.server_error(status, str(method), urlsplit(response.url).path, detail)

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        not_found: Callable[[], TrackerError] | None = None,
        **kwargs: Any,
    ) -> Any:
        """:meth:`request` + :meth:`raise_for`; returns the decoded JSON body (None if empty)."""
        try:
            response = self.request(method, path, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise errors.cannot_reach(self.settings.host, _reason(exc), tls=False) from None
        self.raise_for(response, what, not_found)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def get(self, path: str, what: str, **kwargs: Any) -> Any:
        """GET ``path`` and return its JSON."""
        return self.call("GET", path, what, **kwargs)

    def paginate(
        self,
        path: str,
        what: str,
        params: dict[str, Any] | None = None,
        not_found: Callable[[], TrackerError] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every value of a Cloud collection, following ``next`` (``pagelen=100``)."""
        query: dict[str, Any] | None = {"pagelen": PAGELEN, **(params or {})}
        url: str | None = path
        while url:
            url = self.url(str(url), f"the next page of {what}")
            page = self.get(url, what, params=query, not_found=not_found) or {}
            yield from page.get("values", [])
            url = page.get("next")
            query = None  # ``next`` is absolute and carries the query already

    def create(
        self,
        path: str,
        what: str,
        *,
        lookup: Callable[[], Any],
        not_found: Callable[[], TrackerError] | None = None,
        **kwargs: Any,
    ) -> Any:
        """POST something that must not be created twice.

        After a timeout, a broken connection or a 5xx the POST may have been applied: ``lookup()``
        is asked first, and whatever it finds is returned; only when it finds nothing is the POST
        sent again (up to ``retries`` times, with backoff).
        """
        attempt = 0
        while True:
            try:
                response = self.request("POST", path, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                outcome = type(exc).__name__
            else:
                if response.status_code < 500:
                    self.raise_for(response, what, not_found)
                    return response.json() if response.content else None
                outcome = f"HTTP {response.status_code}"
            found = lookup()
            if found is not None:
                log.info("%s: the create was applied despite %s; using it", what, outcome)
                return found
            if attempt >= self.settings.retries:
                if outcome.startswith("HTTP "):
                    raise errors.server_error(int(outcome[5:]), "POST", urlsplit(self.url(path)).path, "")
                raise errors.cannot_reach(self.settings.host, outcome, tls=False)
            delay = self.backoff * (2**attempt) + random.uniform(0, self.backoff)
            log.warning("%s failed (%s) and was not applied; sending again in %.1fs", what, outcome, delay)
            self._sleep(delay)
            attempt += 1


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:  # a port that is not a number: never the base_url's
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _shown_origin(url: str) -> str:
    """``scheme://host[:port]`` of a URL, for messages (no path, query or user info)."""
    scheme, host, port = _origin(url)
    return f"{scheme}://{host}:{port}" if port not in (None, 443, 80) else f"{scheme}://{host}"


def _reason(exc: BaseException) -> str:
    """A short reason for a transport failure (no URL query, no headers)."""
    text = str(exc)
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in text:
            text = text.split(marker, 1)[1]
    return text.strip("()'\" ")[:200] or type(exc).__name__
