"""Errors are values with a location and a fix. They are raised where a problem is found and
rendered once, by the CLI, without a traceback.

Exit codes: :class:`UsageError`, :class:`ConfigError` and :class:`SpecError` end a run with 2;
:class:`TrackerError` (the remote side failed) with 1.
"""

from __future__ import annotations

from collections.abc import Sequence

from spectryn_core.model import SpecProblem


class SpectrynError(Exception):
    """Base class of every error spectryn reports to users.

    ``message`` says what went wrong, ``hint`` what to do about it (may be empty).
    """

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(SpectrynError):
    """The command line is wrong (unknown tracker, missing file, ...)."""

    exit_code = 2


class ConfigError(SpectrynError):
    """The configuration is wrong. The message names the source (file or variable) and the key."""

    exit_code = 2


class SpecError(SpectrynError):
    """The spec file has problems; ``problems`` lists every one as ``file:line: message``."""

    exit_code = 2

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class TrackerError(SpectrynError):
    """The tracker refused or failed (authentication, missing repository, rate limit, outage).

    Raised by tracker plugins for problems that stop the whole run. A problem with one item only
    should raise :class:`ItemError` instead, so the other items still sync.
    """

    exit_code = 1


class ItemError(TrackerError):
    """One item could not be written; the run goes on with the others and ends with exit 1."""
