"""urllib3's ``Retry`` that says what it is doing: before each transport-level retry (a refused
or dropped connection, a timeout, a 5xx on an idempotent request) it logs
``retrying api.bitbucket.org in 4 s (2/5): connection refused`` as a warning on the
``spectryn.bitbucket`` logger, which the CLI shows on stderr - so an unreachable host is not
a long silence."""

from __future__ import annotations

import logging
import time
from typing import Any

from urllib3.util.retry import Retry

log = logging.getLogger("spectryn.bitbucket")


class LoggedRetry(Retry):
    """A ``Retry`` that logs each wait. ``host`` and ``limit`` (the retries allowed) are only
    used in the message and are carried over to the copies urllib3 makes on each attempt."""

    host: str = ""
    limit: int = 0

    @classmethod
    def for_host(cls, host: str, limit: int, **kwargs: Any) -> LoggedRetry:
        retry = cls(**kwargs)
        retry.host, retry.limit = host, limit
        return retry

    def new(self, **kw: Any) -> LoggedRetry:
        retry = super().new(**kw)
        retry.host, retry.limit = self.host, self.limit
        return retry

    def _sleep_backoff(self) -> None:
        delay = self.get_backoff_time()
        log.warning("retrying %s in %.0f s (%d/%d): %s", self.host or "the tracker", delay,
                    len(self.history), self.limit, _why(self))
        if delay > 0:
            time.sleep(delay)


def _why(retry: Retry) -> str:
    if not retry.history:
        return "failed"
    last = retry.history[-1]
    if last.status:
        return f"HTTP {last.status}"
    text = str(last.error or "failed")
    for marker, short in (("refused", "connection refused"), ("timed out", "timed out"),
                          ("Name or service not known", "host not found"),
                          ("Temporary failure in name resolution", "host not found"),
                          ("RemoteDisconnected", "connection dropped"),
                          ("reset by peer", "connection reset")):
        if marker in text:
            return short
    return type(last.error).__name__ if last.error else "failed"
