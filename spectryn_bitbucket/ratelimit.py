"""Bitbucket's request quota, counted the way Bitbucket counts it.

Bitbucket Cloud allows about 1000 requests per **rolling hour** per credential (per user for API
tokens, per access token for access tokens) and answers 429 - ``text/plain``, no ``Retry-After`` -
once the last 60 minutes hold that many. A token bucket (burst, then a steady rate) does not match
that count, and a per-process counter forgets what the previous run spent.

:class:`RollingLog` keeps the send time of every request of the last window in a small file per
credential in the platformdirs state folder (``<state_dir>/ratelimit/<hash>.log``; the hash is of
the host and the user or token, so no secret is stored). Consecutive and concurrent runs (threads
and processes; ``fcntl.flock``) share it. Before each request :meth:`RollingLog.acquire` takes a
slot; when the window is full it waits for the oldest request to leave the window, and says so.
:meth:`RollingLog.answered` moves a request's time to when its answer came (the server counts
arrival, later than sending), so our window never ends before Bitbucket's.

A 429 (another tool spent the same quota) pauses every thread and process using the log, with
growing, jittered pauses up to the window (``Retry-After`` when the server sends one). A run that
would wait longer in total than ``max_wait`` stops with :func:`errors.quota_stop`, which names the
time to run again. ``X-RateLimit-Limit`` (scaled limits of access tokens) replaces the default
limit; ``X-RateLimit-NearLimit: true`` (less than 20% left) makes the log count at least 80% used.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from spectryn_bitbucket import errors
from spectryn_core.items import Quota

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: threads of one process still share the log
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("spectryn.bitbucket")

DEFAULT_LIMIT = 1000
HOUR = 3600.0
REFUSED = "429"
#: The lines of the log: its generation, then ``t``/``c``/``p`` entries of one or two times.
_GENERATION = re.compile(r"g [0-9]+-[0-9a-f]+\n")
_ENTRY = re.compile(r"([tcp])((?: [0-9]+(?:\.[0-9]+)?){1,2})\n")
NEAR_LIMIT_USED = 0.8  # X-RateLimit-NearLimit: "less than 20% of the limit remains"


def credential_id(host: str, identity: str) -> str:
    """A file-name-safe id of (host, user or token): a hash, so the log holds no secret."""
    digest = hashlib.sha256(f"spectryn-ratelimit\0{host}\0{identity}".encode()).hexdigest()
    return digest[:20]


def duration_text(seconds: float) -> str:
    """``42 s``, ``3 min``, ``1 h 5 min``."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"


def window_text(window: float) -> str:
    """``hour`` for 3600 s, else ``30 s window``."""
    return "hour" if window == HOUR else f"{duration_text(window)} window"


class RollingLog:
    """Send times of the last ``window`` seconds, shared through ``path`` (None: this process only).

    ``limit`` None means the default (1000) until the server states its own (X-RateLimit-Limit);
    0 switches the client-side count off (429s are still waited out). ``clock`` is wall time
    (shared across processes); ``clock`` and ``sleep`` are injectable for tests.
    """

    def __init__(
        self,
        path: Path | None,
        limit: int | None = None,
        window: float = HOUR,
        *,
        max_wait: float | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.explicit_limit = limit is not None
        self.limit = DEFAULT_LIMIT if limit is None else limit
        self.window = float(window)
        self.max_wait = max_wait
        self.margin = min(2.0, self.window * 0.01)  # the server counts arrival, we count sending
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._times: list[float] = []  # sorted send (then answer) times of the window
        self._local = threading.local()
        self._pause_until = 0.0
        self._rejections = 0  # 429s since the last accepted request
        self._waiters = 0
        self._wait_since = 0.0
        self._waited = 0.0
        self._announced = -1e18
        self._file: IO[str] | None = None
        self._gen = ""
        self._offset = 0
        self._lines = 0
        self.path = path
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
                # a damaged byte must not stop every run: it reads as U+FFFD, and the log is rebuilt
                self._file = os.fdopen(fd, "r+", encoding="ascii", errors="replace", newline="\n")
            except OSError as exc:
                log.debug("rate limit log %s not usable (%s); counting in memory", path, exc)
                self._file = None

    def close(self) -> None:
        """Close the log file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def enabled(self) -> bool:
        """False when the client-side count is off (``rate_limit: 0``)."""
        return self.limit > 0

    # --- the shared file ---------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            if self._file is None:
                yield
                return
            if fcntl is not None:
                fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
            try:
                self._load()
                yield
            finally:
                self._file.flush()
                if fcntl is not None:
                    fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)

    def _load(self) -> None:
        """Read what other runs appended since the last look (all of it after a compaction)."""
        assert self._file is not None
        self._file.seek(0)
        first = self._file.readline()
        if first != self._gen or not first:
            self._times.clear()
            self._pause_until = 0.0
            self._gen = first
            self._lines = 0
            if not first:
                self._offset = 0
                return
            self._offset = self._file.tell()
        self._file.seek(self._offset)
        damaged = not _GENERATION.fullmatch(first)
        while True:
            start = self._file.tell()
            line = self._file.readline()
            if not line:
                break
            match = _ENTRY.fullmatch(line)
            if match is None and not line.endswith("\n"):  # cut short by a killed run: dropped
                self._file.seek(start)
                self._file.truncate()
                break
            self._lines += 1
            if match is None:
                damaged = True
                continue
            self._apply(match.group(1), [float(v) for v in match.group(2).split()])
        self._offset = self._file.tell()
        if damaged:
            log.warning("the rate limit log %s was damaged (a line it cannot read); rebuilt from "
                        "the %d request times it could read", self.path, len(self._times))
            self._compact()

    def _apply(self, kind: str, stamps: list[float]) -> None:
        if kind == "t":
            bisect.insort(self._times, stamps[0])
        elif kind == "c" and len(stamps) == 2:  # a request answered: it counts from then on
            index = bisect.bisect_left(self._times, stamps[0])
            if index < len(self._times) and self._times[index] == stamps[0]:
                del self._times[index]
                bisect.insort(self._times, stamps[1])
        elif kind == "p":
            self._pause_until = max(self._pause_until, stamps[0])

    def _record(self, kind: str, *stamps: float) -> None:
        """Note a request (``t``), its answer (``c sent answered``) or a pause end (``p``)."""
        if self._file is not None:
            if not self._gen or self._lines > 2 * max(self.limit, 100) + 100:
                self._compact()
            self._file.seek(0, os.SEEK_END)
            self._file.write(kind + "".join(f" {stamp:.3f}" for stamp in stamps) + "\n")
            self._offset = self._file.tell()
            self._lines += 1
        self._apply(kind, list(stamps))

    def _compact(self) -> None:
        """Rewrite the file with only the live entries, under a new first line."""
        assert self._file is not None
        self._gen = f"g {os.getpid()}-{random.getrandbits(48):x}\n"
        lines = [self._gen] + [f"t {t:.3f}\n" for t in self._times]
        if self._pause_until > self._clock():
            lines.append(f"p {self._pause_until:.3f}\n")
        self._file.seek(0)
        self._file.truncate()
        self._file.write("".join(lines))
        self._offset = self._file.tell()
        self._lines = len(lines) - 1

    def _prune(self, now: float) -> None:
        cut = bisect.bisect_right(self._times, now - self.window)
        if cut:
            del self._times[:cut]

    # --- taking a slot -----------------------------------------------------------------------

    def acquire(self) -> float:
        """Take a slot for one request, waiting for it when needed; returns the seconds waited.

        Raises the :func:`errors.quota_stop` TrackerError instead of waiting past ``max_wait``.
        """
        waited = 0.0
        while True:
            with self._locked():
                now = self._clock()
                self._prune(now)
                pause = self._pause_until - now
                slot = 0.0
                if self.enabled and len(self._times) >= self.limit:
                    slot = self._times[len(self._times) - self.limit] + self.window + self.margin - now
                wait = max(pause, slot)
                if wait <= 0:
                    stamp = round(now, 3)
                    self._record("t", stamp)
                    self._local.stamp = stamp
                    return waited
                left = max(0, self.limit - len(self._times)) if self.enabled else 0
                why = REFUSED if pause >= slot else "full"
            self._wait(wait, left, why)
            waited += wait

    def answered(self) -> None:
        """The request of this thread's last :meth:`acquire` got its answer: count it from now.

        Bitbucket counts a request when it arrives, which is after we sent it; counting from the
        answer keeps our window's end at or after the server's, so pacing never runs ahead of it.
        """
        stamp = getattr(self._local, "stamp", None)
        if stamp is None:
            return
        self._local.stamp = None
        with self._locked():
            now = round(self._clock(), 3)
            if now > stamp:
                self._record("c", stamp, now)

    def _wait(self, seconds: float, left: int, why: str) -> None:
        with self._lock:
            spent = self._waited + (self._clock() - self._wait_since if self._waiters else 0.0)
            if self.max_wait is not None and spent + seconds > self.max_wait:
                raise errors.quota_stop(self.describe(), seconds, self.max_wait,
                                        time.time() + seconds)
            now = self._clock()
            if seconds >= min(1.0, self.window / 20) and now - self._announced >= min(30.0, self.window / 10):
                self._announced = now
                if why == REFUSED:
                    log.warning("rate limit: Bitbucket answered 429 (other runs or tools may share "
                                "this credential's quota); pausing %s", duration_text(seconds))
                else:
                    log.warning("rate limit: %d requests left this %s, next slot in %s (%s)",
                                left, window_text(self.window), duration_text(seconds),
                                self.describe())
            if self._waiters == 0:
                self._wait_since = now
            self._waiters += 1
        try:
            self._sleep(seconds)
        finally:
            with self._lock:
                self._waiters -= 1
                if self._waiters == 0:
                    self._waited += self._clock() - self._wait_since

    def describe(self) -> str:
        """``Bitbucket counts 1000 requests per rolling hour for this credential``."""
        if not self.enabled:
            return "Bitbucket limits requests per credential"
        return (f"Bitbucket counts {self.limit} requests per rolling {window_text(self.window)} "
                "for this credential")

    # --- what the server said ----------------------------------------------------------------

    def rejected(self, retry_after: str | None) -> float:
        """A 429: pause everyone sharing the log; returns the pause chosen.

        Without ``Retry-After`` (Bitbucket Cloud sends none) the pauses grow - 1/360 of the
        window, doubling, jittered - up to the window.
        """
        with self._locked():
            now = self._clock()
            try:
                pause = max(0.0, float(retry_after or ""))
            except ValueError:
                base = self.window / 360 * (2 ** min(self._rejections, 16))
                pause = min(self.window, base * random.uniform(1.0, 1.5))
            self._rejections += 1
            if self._rejections > 40:
                raise errors.rate_limit_exceeded(self._rejections)
            self._record("p", max(self._pause_until, now + pause))
            return pause

    def accepted(self, headers: Mapping[str, str]) -> None:
        """Any answer but 429: reset the 429 pauses; read ``X-RateLimit-*`` when present."""
        self._rejections = 0
        limit = headers.get("X-RateLimit-Limit")
        near = str(headers.get("X-RateLimit-NearLimit", "")).lower() == "true"
        if limit is None and not near:
            return
        with self._locked():
            if limit is not None and limit.isdigit() and not self.explicit_limit and int(limit) > 0:
                self.limit = int(limit)
            if near and self.enabled:
                now = self._clock()
                self._prune(now)
                floor = int(self.limit * NEAR_LIMIT_USED)
                for _ in range(floor - len(self._times)):
                    self._record("t", now)

    # --- status --------------------------------------------------------------------------------

    def quota(self) -> Quota:
        """The budget now: requests left in the window, when the next slot frees, time waited."""
        with self._locked():
            now = self._clock()
            self._prune(now)
            used = len(self._times)
            if not self.enabled:
                return Quota(0, self.window, 0, max(0.0, self._pause_until - now), self._waited)
            frees = tuple(max(0.0, t + self.window - now) for t in self._times)
            left = max(0, self.limit - used)
            next_slot = 0.0 if left else frees[used - self.limit]
            next_slot = max(next_slot, self._pause_until - now)
            spent = self._waited + (now - self._wait_since if self._waiters else 0.0)
            return Quota(self.limit, self.window, left, next_slot, spent, frees)


def open_log(state_dir: str | None, host: str, identity: str, limit: int | None, window: float,
             max_wait: float | None, sleep: Callable[[float], None] = time.sleep) -> RollingLog:
    """The rolling log of one credential (in memory when there is no state folder)."""
    path = None
    if state_dir:
        path = Path(state_dir) / "ratelimit" / f"{credential_id(host, identity)}.log"
    return RollingLog(path, limit, window, max_wait=max_wait, sleep=sleep)

