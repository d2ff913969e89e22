"""One-time download URLs, as Bitbucket Cloud hands out for an issue attachment.

``GET .../issues/{id}/attachments/{path}`` "does not return a JSON response, but instead returns a
redirect pointing to the actual file ... The redirect URL contains a one-time token that has a
limited lifetime. As a result, the link should not be persisted, stored, or shared" (OpenAPI
text). The real file host is another service (not the API: no credentials, no API rate limit);
the sandbox serves it under ``/_downloads/{token}/{name}``. Where the documentation is silent,
the stricter answer: the link works once, for :data:`LIFETIME` seconds, and a used or expired
one is a 403, as a refused signed URL is.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

PREFIX = "/_downloads/"
#: Seconds a link stays valid (the documentation says "a limited lifetime", not how long).
LIFETIME = 60.0


@dataclass(frozen=True)
class Ticket:
    """What a one-time link gives: one attachment of one issue."""

    issue_id: int
    name: str
    expires: float


class Downloads:
    """The one-time links handed out and not yet used (thread-safe)."""

    def __init__(self, lifetime: float = LIFETIME) -> None:
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._tickets: dict[str, Ticket] = {}

    def issue(self, issue_id: int, name: str) -> str:
        """A new link's path (``/_downloads/TOKEN/name``) for one download of the attachment."""
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            for old in [t for t, ticket in self._tickets.items() if ticket.expires <= now]:
                del self._tickets[old]
            self._tickets[token] = Ticket(issue_id, name, now + self.lifetime)
        return f"{PREFIX}{token}/{quote(name)}"

    def redeem(self, path: str) -> Ticket | None:
        """The ticket of a link path, used up now; None when it is unknown, used or expired."""
        token = path[len(PREFIX):].split("/", 1)[0]
        with self._lock:
            ticket = self._tickets.pop(token, None)
        if ticket is None or ticket.expires <= time.monotonic():
            return None
        return ticket
