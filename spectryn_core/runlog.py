"""The per-run integration log, and what reaches stderr.

Every run writes a detailed log (requests, decisions, errors) to the platformdirs log folder,
``spectryn/runs/<time>-<pid>.log``; ``--verbose`` shows its path and the requests on stderr.
Every record is formatted through :class:`SafeFormatter`: no secret the run
was given (nor its encodings), no raw control character, in the message, its arguments or a
traceback.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from spectryn_core.redact import REDACTOR, clean

KEEP_LOGS = 30


class SafeFormatter(logging.Formatter):
    """A formatter whose whole output - message, arguments, traceback - goes through
    :func:`spectryn_core.redact.clean`."""

    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record))


def start(log_dir: Path, *, verbose: bool, secrets: Iterable[str] = ()) -> Path | None:
    """Send spectryn's logs to a new run log file and warnings (or everything, with
    ``verbose``) to stderr. Returns the log file's path, or None if it cannot be written."""
    logger = logging.getLogger("spectryn")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    REDACTOR.add(secrets)

    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if verbose else logging.WARNING)
    console.setFormatter(SafeFormatter("%(levelname)s: %(message)s" if verbose else "%(message)s"))
    logger.addHandler(console)

    path: Path | None = None
    try:
        runs = log_dir / "runs"
        runs.mkdir(parents=True, exist_ok=True)
        path = runs / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        file_handler = logging.FileHandler(path, encoding="utf-8")
        os.chmod(path, 0o600)
        file_handler.setLevel(logging.DEBUG)
        file_handler.setFormatter(
            SafeFormatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
        )
        logger.addHandler(file_handler)
        _prune(runs)
    except OSError:
        path = None
    return path


def _prune(runs: Path) -> None:
    logs = sorted(runs.glob("*.log"), key=lambda p: p.stat().st_mtime)
    for old in logs[:-KEEP_LOGS]:
        old.unlink(missing_ok=True)
