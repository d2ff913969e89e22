"""Fault injection: latency, 5xx failures, dropped connections, ambiguous POSTs, rate limiting.

All randomness comes from one seeded ``random.Random`` (guarded by a lock), so a run with a seed
injects the same sequence of faults for the same sequence of requests.

Rate limits, as Bitbucket Cloud counts (support.atlassian.com "API request limits"; KB "Bitbucket
Cloud Rate Limit Troubleshooting"): a rolling window per credential - per user for API tokens,
per access token - and "unauthenticated calls: measured against a specific IP address", at "60
requests per hour across all API resources" (``anonymous_rate_limit``, per ``rate_window``).
Where the documentation is silent, the stricter answer: a request refused for its credentials
(401) counts as unauthenticated, a refused (429) request counts too, and the API paths besides
repository data (``/2.0/user``, ``/2.0/workspaces/...``: no documented limit of their own) count
in the credential's one window. ``rate_limit`` None enforces nothing for credentials (a test
convenience) but the windows are still counted for the ``X-RateLimit-*`` headers.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .hold import Hold

SETTINGS = ("fail_rate", "drop_rate", "ambiguous_rate", "latency_ms", "rate_limit", "rate_window", "retry_after",
            "anonymous_rate_limit")
#: Bitbucket's allowance per credential and hour when nothing scales it (and what the
#: ``X-RateLimit-Limit`` header states when the sandbox enforces no limit).
DEFAULT_LIMIT = 1000
#: "Anonymous requests are subject to a strict rate limit of 60 requests per hour".
ANONYMOUS_LIMIT = 60
ANONYMOUS = "anonymous"
#: X-RateLimit-NearLimit is true when less than this share of the allowance is left.
NEAR_LIMIT_LEFT = 0.2

# What to do with one API request.
PASS = "pass"                  # serve normally
FAIL = "fail"                  # answer 500/502/503 without applying
DROP = "drop"                  # close the connection without applying
DROP_AFTER = "drop_after"      # apply, then close the connection without answering
AMBIGUOUS = "ambiguous"        # apply, then answer 502
RATE_LIMITED = "rate_limited"  # answer 429


@dataclass
class Decision:
    """The fault chosen for one request (``status`` for FAIL, ``retry_after`` seconds for 429)."""

    action: str = PASS
    status: int = 0
    retry_after: int | None = None


class Faults:
    """The current fault settings and the state they need (RNG, rate-limit window)."""

    def __init__(self, *, latency_ms: float = 0, fail_rate: float = 0.0, drop_rate: float = 0.0,
                 ambiguous_rate: float = 0.0, rate_limit: int | None = None, rate_window: float = 3600.0,
                 retry_after: bool = False, seed: int | None = None,
                 anonymous_rate_limit: int | None = ANONYMOUS_LIMIT):
        self.lock = threading.Lock()
        self.random = random.Random(seed)
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.drop_rate = drop_rate
        self.ambiguous_rate = ambiguous_rate
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after = retry_after
        self.anonymous_rate_limit = anonymous_rate_limit
        #: One rolling window per credential (``Caller.rate_key``): Bitbucket counts each user,
        #: each access token and each anonymous address on its own.
        self._windows: dict[str, deque[float]] = {}
        #: Requests held at a known point until a test releases them (see hold.py).
        self.hold = Hold()
        self.validate()

    def validate(self) -> None:
        """Raise ValueError when a setting is out of range."""
        for name in ("fail_rate", "drop_rate", "ambiguous_rate"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
        if not isinstance(self.latency_ms, (int, float)) or self.latency_ms < 0:
            raise ValueError(f"latency_ms must be a number >= 0, got {self.latency_ms!r}")
        for name in ("rate_limit", "anonymous_rate_limit"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a positive integer or null, got {value!r}")
        if not isinstance(self.rate_window, (int, float)) or self.rate_window <= 0:
            raise ValueError(f"rate_window must be a number of seconds > 0, got {self.rate_window!r}")

    def settings(self) -> dict[str, Any]:
        """The current settings as a JSON-able dict."""
        return {name: getattr(self, name) for name in SETTINGS}

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Change some settings (unknown names raise ValueError); returns the new settings."""
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
        with self.lock:
            before = self.settings()
            for name, value in changes.items():
                setattr(self, name, value)
            try:
                self.validate()
            except ValueError:
                for name, value in before.items():
                    setattr(self, name, value)
                raise
            if {"rate_limit", "rate_window", "anonymous_rate_limit"} & set(changes):
                self._windows.clear()
            return self.settings()

    def sleep(self) -> None:
        """The per-request latency (in the handler thread, so concurrent requests overlap)."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)

    def decide(self, method: str, rate_key: str = "anonymous") -> Decision:
        """Choose the fault for one API request of the credential ``rate_key``."""
        with self.lock:
            limited = self._rate_limited(rate_key)
            if limited is not None:
                return limited
            if self.fail_rate and self.random.random() < self.fail_rate:
                return Decision(FAIL, status=self.random.choice((500, 502, 503)))
            if self.drop_rate and self.random.random() < self.drop_rate:
                if method == "POST" and self.random.random() < 0.5:
                    return Decision(DROP_AFTER)
                return Decision(DROP)
            if method == "POST" and self.ambiguous_rate and self.random.random() < self.ambiguous_rate:
                return Decision(AMBIGUOUS)
            return Decision(PASS)

    def _rate_limited(self, rate_key: str) -> Decision | None:
        """A rolling window of requests per ``rate_window`` seconds per credential; every request
        counts, a refused one too."""
        now = time.monotonic()
        window = self._window(rate_key, now)
        limit = self.anonymous_rate_limit if rate_key == ANONYMOUS else self.rate_limit
        refused = limit is not None and len(window) >= limit
        window.append(now)
        if limit is None or not refused:
            return None
        frees = window[len(window) - limit] + self.rate_window - now  # when fewer than limit remain
        return Decision(RATE_LIMITED, retry_after=max(1, math.ceil(frees)) if self.retry_after else None)

    def _window(self, rate_key: str, now: float) -> deque[float]:
        window = self._windows.setdefault(rate_key, deque())
        while window and window[0] <= now - self.rate_window:
            window.popleft()
        return window

    def allowance(self, rate_key: str) -> tuple[int, bool]:
        """(the credential's limit per window as ``X-RateLimit-Limit`` states it, whether less
        than 20% of it is left: ``X-RateLimit-NearLimit``)."""
        with self.lock:
            limit = self.rate_limit or DEFAULT_LIMIT
            used = len(self._window(rate_key, time.monotonic()))
        return limit, limit - used < limit * NEAR_LIMIT_LEFT
