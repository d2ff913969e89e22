"""Request counters served by ``GET /_sandbox/stats``."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

READ_METHODS = ("GET", "HEAD")
FAULT_KINDS = ("failed", "dropped", "ambiguous", "rate_limited")


class Stats:
    """Thread-safe counts of API requests by method + path template, reads/writes and faults."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Set every counter back to zero."""
        with self.lock:
            self.requests: Counter[str] = Counter()
            self.by_method: Counter[str] = Counter()
            self.faults: Counter[str] = Counter({kind: 0 for kind in FAULT_KINDS})
            self.connections = 0

    def count_connection(self) -> None:
        """Count one accepted TCP connection."""
        with self.lock:
            self.connections += 1

    def count(self, method: str, template: str) -> None:
        """Count one API request."""
        with self.lock:
            self.requests[f"{method} {template}"] += 1
            self.by_method[method] += 1

    def count_fault(self, kind: str) -> None:
        """Count one injected fault (``failed``, ``dropped``, ``ambiguous``, ``rate_limited``)."""
        with self.lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """The counters as the JSON document of ``GET /_sandbox/stats``."""
        with self.lock:
            reads = sum(n for method, n in self.by_method.items() if method in READ_METHODS)
            total = sum(self.by_method.values())
            return {
                "requests": dict(sorted(self.requests.items())),
                "reads": reads,
                "writes": total - reads,
                "total": total,
                "by_method": dict(sorted(self.by_method.items())),
                "faults": dict(self.faults),
                "connections": self.connections,
            }
