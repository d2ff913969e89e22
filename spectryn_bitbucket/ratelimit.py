"""A thread-safe token bucket that keeps a run under Bitbucket's hourly request quota.

Why these numbers: Bitbucket Cloud allows about 1000 API requests per hour per user. The bucket
holds ``per_hour`` tokens and refills at ``per_hour / 3600`` tokens a second. A fresh run can
therefore spend the whole hourly budget at full speed - a 600-item first sync (about 600 creates,
up to 150 follow-up updates and a few reads) is never slowed by the client - and a longer run is
held to the quota's average rate from then on. The client cannot know what other tools spent in
the same hour, so a 429 from the server (honouring ``Retry-After``) remains the backstop.
``per_hour = 0`` disables the bucket (local sandbox, self-hosted servers without a quota).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """Take one token per request; :meth:`acquire` blocks until one is available."""

    def __init__(
        self,
        per_hour: int,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_hour = per_hour
        self.rate = per_hour / 3600.0
        self.capacity = float(per_hour if capacity is None else capacity)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when ``per_hour`` is 0 (no client-side limit)."""
        return self.per_hour > 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def available(self) -> float:
        """Tokens available now (for tests and ``--verbose``)."""
        with self._lock:
            self._refill()
            return self._tokens

    def acquire(self) -> float:
        """Take one token, waiting for it if needed. Returns the seconds waited."""
        if not self.enabled:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                delay = (1.0 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay
