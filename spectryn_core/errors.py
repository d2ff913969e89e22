"""Errors are values with a location and a fix. They are raised where a problem is found and
rendered once, by the CLI, without a traceback.

Each class has an exit code and a ``kind`` (the ``{"error": {"kind", "message", "hint"}}`` object
that ``--output json`` prints): :class:`UsageError`, :class:`ConfigError`, :class:`SpecError` and
:class:`TargetError` end a run with 2 (fix the command, config or spec); :class:`TrackerError`,
:class:`ItemError` and :class:`FileWriteError` with 1; :class:`AuthError` with 4 (fix the credentials or permissions);
:class:`UnreachableError` with 5 (the tracker cannot be reached now: retry later).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spectryn_core.model import SpecProblem


class SpectrynError(Exception):
    """Base class of every error spectryn reports to users.

    ``message`` says what went wrong, ``hint`` what to do about it (may be empty).
    """

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(SpectrynError):
    """The command line is wrong (unknown tracker, missing file, ...)."""

    exit_code = 2
    kind = "usage"


class ConfigError(SpectrynError):
    """The configuration is wrong. The message names the source (file or variable) and the key."""

    exit_code = 2
    kind = "config"


class SpecError(SpectrynError):
    """The spec file has problems; ``problems`` lists every one as ``file:line: message``."""

    exit_code = 2
    kind = "spec"

    #: What to do about the problems (the ``hint:`` line and the JSON ``hint``).
    HINT = "fix each problem at the file and line named"

    def __init__(self, problems: Sequence[SpecProblem], *, nothing_sent: bool = True) -> None:
        self.problems = list(problems)
        #: True when the command would have sent something (a sync): the headline says nothing
        #: was; False for ``validate``, which never sends.
        self.nothing_sent = nothing_sent
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def headline(self) -> str:
        """``2 problem(s) in the spec`` (``; nothing was sent`` when a send was stopped)."""
        text = f"{len(self.problems)} problem(s) in the spec"
        return text + "; nothing was sent" if self.nothing_sent else text


class OwnershipError(SpecError):
    """A key of the spec belongs to an issue another spec file made and still defines: a run of
    this file never changes it (``problems`` name both files and the issue)."""

    kind = "ownership"
    HINT = ("a key belongs to one spec file: rename it in one of them, or --adopt KEY to move "
            "the issue to this file")

    @property
    def headline(self) -> str:
        """``1 key(s) belong to another spec file; nothing was sent``."""
        text = f"{len(self.problems)} key(s) belong to another spec file"
        return text + "; nothing was sent" if self.nothing_sent else text


class TrackerError(SpectrynError):
    """The tracker refused or failed (authentication, missing repository, rate limit, outage).

    Raised by tracker plugins for problems that stop the whole run. A problem with one item only
    should raise :class:`ItemError` instead, so the other items still sync.
    """

    exit_code = 1
    kind = "tracker"


class ItemError(TrackerError):
    """One item could not be written; the run goes on with the others and ends with exit 1."""

    kind = "item"


class AuthError(TrackerError):
    """The tracker refused the credentials (401) or they lack a permission (403): exit 4."""

    exit_code = 4
    kind = "auth"


class UnreachableError(TrackerError):
    """The tracker cannot be reached or is not answering now (network, DNS, TLS, timeouts, an
    outage's 5xx or the rate limit after every retry): exit 5, run again later."""

    exit_code = 5
    kind = "unreachable"


class InternalError(SpectrynError):
    """Anything else that went wrong (a bug in spectryn or a plugin): exit 1, rendered like every
    other error; the run log keeps the traceback."""

    kind = "internal"


class FileWriteError(SpectrynError):
    """A local file (a spec written back or pulled into) could not be written - a read-only
    folder, a full disk: exit 1. The file is left as it was; what was sent is recorded."""

    exit_code = 1
    kind = "file"


class TargetError(TrackerError):
    """What the config names does not exist on the tracker or cannot be used (an unknown
    workspace or repository, an issue tracker switched off): exit 2, fix the config."""

    exit_code = 2
    kind = "target"
