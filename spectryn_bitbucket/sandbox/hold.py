"""Holding requests at a known point, so tests can make races deterministic.

``POST /_sandbox/hold`` with ``{"method": "POST", "path_suffix": "/issues", "count": 1}`` makes the
next ``count`` matching API requests (0: every one until released) wait before they are served;
``GET /_sandbox/hold`` says how many are waiting; ``POST /_sandbox/release`` lets them all go and
ends the hold. A held request waits at most ``timeout`` seconds (a test that fails never hangs).
"""

from __future__ import annotations

import threading
from typing import Any


class Hold:
    """The current hold (none by default) and the requests waiting in it."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._method: str | None = None
        self._suffix = ""
        self._left = 0  # requests still to catch; -1: every matching one
        self._waiting = 0
        self._held = 0
        self._generation = 0
        self.timeout = 60.0

    def set(self, method: str, path_suffix: str = "", count: int = 1, timeout: float = 60.0) -> dict[str, Any]:
        """Hold the next ``count`` requests (0: all) with this method and path ending."""
        if not isinstance(count, int) or count < 0:
            raise ValueError(f"count must be a whole number >= 0, got {count!r}")
        with self._lock:
            self._method = method.upper()
            self._suffix = path_suffix
            self._left = count or -1
            self.timeout = float(timeout)
            return self.status()

    def release(self) -> dict[str, Any]:
        """Let every waiting request go and end the hold."""
        with self._lock:
            self._method = None
            self._left = 0
            self._generation += 1
            self._lock.notify_all()
            return self.status()

    def status(self) -> dict[str, Any]:
        """``{"active", "waiting", "held"}`` (held: how many were caught in all)."""
        return {"active": self._method is not None, "waiting": self._waiting, "held": self._held}

    def pause(self, method: str, path: str) -> None:
        """Wait here while the request matches the hold (called per API request)."""
        with self._lock:
            if self._method is None or method != self._method or not path.endswith(self._suffix):
                return
            if self._left == 0:
                return
            if self._left > 0:
                self._left -= 1
            generation = self._generation
            self._waiting += 1
            self._held += 1
            self._lock.notify_all()
            self._lock.wait_for(lambda: self._generation != generation, timeout=self.timeout)
            self._waiting -= 1

    def wait_for_waiting(self, count: int, timeout: float = 60.0) -> bool:
        """Block until at least ``count`` requests are waiting (for in-process tests)."""
        with self._lock:
            return self._lock.wait_for(lambda: self._waiting >= count, timeout=timeout)
