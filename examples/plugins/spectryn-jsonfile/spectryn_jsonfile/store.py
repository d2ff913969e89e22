"""The issues file: read it whole, change it under a lock, write it back atomically.

The file looks like ``{"issues": [{"id": 1, "title": "US-001: Login", ...}]}``. Every write goes
to a temporary file in the same folder that then replaces the old one (``os.replace``), so a
crash leaves either the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from spectryn_core import TrackerError

T = TypeVar("T")


class IssueFile:
    """One JSON file of issues, safe to use from the engine's worker threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.reads = 0
        self.writes = 0

    def load(self) -> list[dict[str, Any]]:
        """Every issue in the file; an empty list when the file does not exist yet."""
        self.reads += 1
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as error:
            raise TrackerError(f"{self.path}: cannot read the issues file ({error.strerror})",
                               "check the path (jsonfile.path) and its permissions") from None
        try:
            data = json.loads(text)
            issues = data["issues"]
            if not isinstance(issues, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise TrackerError(f"{self.path}: not a spectryn-jsonfile issues file",
                               "point jsonfile.path at another file, or move this one away") from None
        return issues

    def change(self, edit: Callable[[list[dict[str, Any]]], T]) -> T:
        """Load the issues, call ``edit(issues)`` (which changes the list in place and returns a
        value), write the file atomically and return that value. One call is one write."""
        with self.lock:
            issues = self.load()
            result = edit(issues)
            self._save(issues)
            self.writes += 1
            return result

    def _save(self, issues: list[dict[str, Any]]) -> None:
        text = json.dumps({"issues": issues}, indent=2, ensure_ascii=False) + "\n"
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise TrackerError(f"{self.path}: cannot write the issues file ({error.strerror})",
                               "check that the folder is writable") from None
