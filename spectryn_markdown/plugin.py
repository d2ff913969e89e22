"""The markdown reader plugin: the ``parse_spec`` hook for ``.md`` / ``.markdown`` / ``.mdown`` files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spectryn_core import hookimpl
from spectryn_core.model import Spec
from spectryn_markdown.parser import SUFFIXES, parse_file


@hookimpl
def parse_spec(path: Path, config: Any) -> Spec | None:
    """Parse a markdown spec; None for other suffixes. Config status/priority mapping keys are accepted words."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        return None
    statuses: list[str] = []
    priorities: list[str] = []
    if config is not None:
        statuses = list(config.mapping("status"))
        priorities = list(config.mapping("priority"))
    return parse_file(path, extra_statuses=statuses, extra_priorities=priorities)
