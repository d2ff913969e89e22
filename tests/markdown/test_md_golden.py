"""Golden tests: each ``tests/data/specs/*.md`` parses to the JSON stored next to it.

Regenerate the expected files after an intended change with
``REGEN_GOLDEN=1 pytest tests/markdown/test_md_golden.py`` and review the diff (the test
environment drops ``SPECTRYN_*`` variables, so the old name never reached the test).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from spectryn_markdown.jsonout import spec_to_json
from spectryn_markdown.parser import parse_file

SPECS = Path(__file__).resolve().parents[1] / "data" / "specs"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CASES = sorted(SPECS.glob("*.md")) + [EXAMPLES / "EPIC.md"]


def stable_json(path: Path) -> dict:
    """The spec's JSON with error and warning file names reduced to the base name (the checkout path varies)."""
    data = spec_to_json(parse_file(path))
    for problem in data["errors"] + data["warnings"]:
        problem["file"] = Path(problem["file"]).name
    return data


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_golden(path: Path) -> None:
    expected_path = path.with_suffix(".json")
    actual = stable_json(path)
    if os.environ.get("REGEN_GOLDEN"):
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected


def test_every_golden_input_has_expected_output() -> None:
    missing = [p.name for p in CASES if not p.with_suffix(".json").exists()]
    assert not missing, f"run with SPECTRYN_REGEN_GOLDEN=1 to create: {missing}"
