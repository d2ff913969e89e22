"""What leaves the process as text: never a secret, never a raw control character.

One mechanism at the edge. :data:`REDACTOR` knows every secret the run was given (the config
registers each value it reads, valid or not, before anything can print it) and removes it from
text, together with the encodings that carry it: percent-encoded and JSON-escaped, and inside any
base64 run (HTTP Basic credentials, ``user:secret``, whatever the user name), plus the user
information of any URL (``https://user:secret@host``). :func:`clean` also makes text safe for a
terminal or a log: control characters (an ANSI escape in an issue title would move the cursor or
fake a log line), bidirectional overrides and lone surrogates (which cannot be encoded) are shown
as escapes (``\\x1b``) instead of being written raw; line breaks, tabs and CRLF stay.

The CLI wraps ``sys.stdout`` and ``sys.stderr`` in :class:`SafeStream` for the whole run, and the
run log formats every record through :func:`clean` (:class:`spectryn_core.runlog.SafeFormatter`);
nothing else redacts.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable
from typing import Any, TextIO

REDACTED = "********"
#: Secrets shorter than this are not searched for (they would hide ordinary words).
MIN_SECRET = 4
#: Base64 characters that must match for a base64 run to count as carrying a secret.
MIN_BASE64_CORE = 6

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@?#]+@")
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
#: C0 controls but tab and line feed, DEL, C1 controls, bidirectional embeddings/overrides and
#: isolates, lone surrogates; a CR is kept only before a line feed.
_UNSAFE = re.compile("\r(?!\n)|[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _base64_cores(secret: bytes) -> list[str]:
    """The base64 characters that encode only bytes of ``secret``, for each of the three ways it
    can sit in a longer encoded string (its offset modulo 3)."""
    import base64

    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret + b"\0\0\0").decode("ascii")
        first = -(-offset * 8 // 6)  # the first character made only of the secret's bits
        last = (offset + len(secret)) * 8 // 6  # one past the last such character
        core = encoded[first:last]
        if len(core) >= MIN_BASE64_CORE:
            cores.append(core)
    return cores


class Redactor:
    """Replaces registered secrets, their encodings and URL user information in text.

    Thread-safe; secrets only accumulate (a run's output never shows any secret it saw)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._cores: set[str] = set()

    def add(self, secrets: Iterable[Any]) -> None:
        """Register secret values (non-strings and short ones are ignored)."""
        with self._lock:
            before = len(self._secrets)
            for secret in secrets:
                if isinstance(secret, str) and len(secret.strip()) >= MIN_SECRET:
                    self._secrets.update({secret, secret.strip()})
            if len(self._secrets) != before:
                self._pattern = self._compile()

    def _compile(self) -> re.Pattern[str]:
        import json  # only once there is a secret (start-up time)
        from urllib.parse import quote

        forms: set[str] = set()
        self._cores = set()
        for secret in self._secrets:
            forms.update({secret, quote(secret, safe=""), json.dumps(secret)[1:-1]})
            self._cores.update(_base64_cores(secret.encode("utf-8")))
        every = sorted(forms | self._cores, key=len, reverse=True)
        return re.compile("|".join(re.escape(form) for form in every))

    def __call__(self, text: str) -> str:
        """``text`` without any registered secret or URL user information."""
        if "://" in text and "@" in text:
            text = _USERINFO.sub(rf"\1{REDACTED}@", text)
        pattern = self._pattern
        if pattern is None:
            return text
        spans: list[tuple[int, int]] = []
        for match in pattern.finditer(text):
            start, end = match.span()
            if match.group() in self._cores:  # the whole base64 run carries the secret
                while start and text[start - 1] in _BASE64:
                    start -= 1
                while end < len(text) and (text[end] in _BASE64 or text[end] == "="):
                    end += 1
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        if not spans:
            return text
        parts, position = [], 0
        for start, end in spans:
            parts += [text[position:start], REDACTED]
            position = end
        return "".join(parts) + text[position:]

    def url_secrets(self, values: Iterable[Any]) -> None:
        """Register the password of every URL among ``values`` (``https://user:secret@host``)."""
        from urllib.parse import urlsplit

        found = []
        for value in values:
            if isinstance(value, str) and "://" in value and "@" in value:
                try:
                    found.append(urlsplit(value).password)
                except ValueError:
                    continue
        self.add(found)


#: The process's redactor: the config registers every secret it reads here.
REDACTOR = Redactor()


def clean(text: str) -> str:
    """``text`` as it may be printed or logged: no secret, no raw control character."""
    text = REDACTOR(text)
    return _UNSAFE.sub(_shown, text) if _UNSAFE.search(text) else text


class SafeStream(io.TextIOBase):
    """A text stream that writes everything through :func:`clean` to ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(clean(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def fileno(self) -> int:
        return self.stream.fileno()

    def isatty(self) -> bool:
        return self.stream.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.stream, "encoding", "utf-8") or "utf-8")

    def writable(self) -> bool:
        return True
