"""Turn hand-typed words from a spec into the model's vocabulary.

Authors decorate values (``🔄 In Progress``, ``:white_check_mark: Done``, ``**High**``) and use
many spellings (``To Do``, ``wip``, ``Completed``). Everything here strips the decoration, lowercases,
and maps aliases onto :data:`~spectryn_core.model.STATUSES` / :data:`~spectryn_core.model.PRIORITIES`.
A word that is a key of the config's ``status_mapping`` / ``priority_mapping`` is accepted as it is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

from spectryn_core.model import PRIORITIES, STATUSES

_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_SPACES = re.compile(r"\s+")

STATUS_ALIASES: dict[str, str] = {
    **{word: "open" for word in (
        "to do", "todo", "planned", "backlog", "new", "not started", "ready", "reopened",
        "proposed", "pending",
    )},
    **{word: "in progress" for word in (
        "inprogress", "wip", "doing", "started", "active", "in development", "in dev",
        "ongoing", "working",
    )},
    **{word: "in review" for word in (
        "review", "reviewing", "code review", "under review", "qa", "in qa", "testing",
        "in testing",
    )},
    **{word: "done" for word in (
        "complete", "completed", "resolved", "finished", "implemented", "shipped", "fixed",
        "released",
    )},
    **{word: "closed" for word in (
        "wont fix", "wontfix", "wont do", "cancelled", "canceled", "rejected", "invalid",
        "duplicate",
    )},
    **{word: "blocked" for word in ("on hold", "onhold", "hold", "paused", "waiting", "stuck")},
}

PRIORITY_ALIASES: dict[str, str] = {
    **{word: "low" for word in ("lowest", "trivial", "minor", "p3", "p4")},
    **{word: "medium" for word in ("normal", "major", "med", "moderate", "p2")},
    **{word: "high" for word in ("important", "p1")},
    **{word: "critical" for word in ("highest", "urgent", "blocker", "crit", "p0")},
}

_POINT_UNITS = re.compile(r"\s*(story points?|points?|pts?|sp)\.?\s*$", re.IGNORECASE)


def normalise_word(value: str) -> str:
    """Lowercase ``value`` and drop emoji, shortcodes and punctuation: ``"🔄 In-Progress"`` -> ``"in progress"``."""
    text = _SHORTCODE.sub(" ", value.lower()).replace("-", " ").replace("_", " ")
    kept = [ch if (ch.isalnum() or ch == "/") else " " for ch in text if ch != "'" and ch != "’"]
    return _SPACES.sub(" ", "".join(kept)).strip()


def strip_decoration(value: str) -> str:
    """Remove leading/trailing emoji, shortcodes and spaces from a title, keeping its words as typed."""
    text = value.strip()
    while True:
        before = text
        text = re.sub(r"^:[a-z0-9_+-]+:", "", text).strip()
        while text and unicodedata.category(text[0])[0] in "SZCM":
            text = text[1:]
        while text and unicodedata.category(text[-1])[0] in "SZCM":
            text = text[:-1]
        if text == before:
            return text


def _normalise(
    raw: str, canonical: tuple[str, ...], aliases: dict[str, str], extra: Iterable[str], what: str
) -> tuple[str | None, str | None]:
    word = normalise_word(raw)
    if not word:
        return None, None
    extras = {normalise_word(key): key for key in extra}
    if word in canonical:
        return word, None
    if word in extras:
        return extras[word], None
    if word in aliases:
        return aliases[word], None
    accepted = ", ".join(list(canonical) + [key for key in extras.values() if key not in canonical])
    examples = ", ".join(f'"{alias}"' for alias in list(aliases)[:3])
    return None, (
        f'unknown {what} "{raw.strip()}"; use one of: {accepted} (aliases such as {examples} also work)'
    )


def normalise_status(raw: str, extra: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """Return ``(status, None)``, ``(None, error message)``, or ``(None, None)`` for an empty value."""
    return _normalise(raw, STATUSES, STATUS_ALIASES, extra, "status")


def normalise_priority(raw: str, extra: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """Return ``(priority, None)``, ``(None, error message)``, or ``(None, None)`` for an empty value."""
    return _normalise(raw, PRIORITIES, PRIORITY_ALIASES, extra, "priority")


def parse_points(raw: str) -> tuple[float | None, str | None]:
    """Read a story-points value (``5``, ``2.5``, ``3 SP``); empty or ``-`` gives ``(None, None)``."""
    text = _POINT_UNITS.sub("", strip_decoration(raw).strip("*_ ")).strip().replace(",", ".")
    if text in ("", "-", "—", "?", "n/a", "N/A", "tbd", "TBD"):
        return None, None
    number: float | None
    try:
        number = float(text)
    except ValueError:
        # a single character with a numeric value: "½", "¾"
        number = unicodedata.numeric(text, None) if len(text) == 1 else None
    if number is None or not math.isfinite(number) or number < 0:
        return None, f'story points "{raw.strip()}" is not a number; write a number such as 3 or 0.5'
    return number, None


LINK_TYPE_ALIASES: dict[str, str] = {
    "related to": "relates to",
    "relates": "relates to",
    "related": "relates to",
    "relates with": "relates to",
    "depends": "depends on",
    "dependency": "depends on",
    "dependencies": "depends on",
    "requires": "depends on",
    "blocked": "blocked by",
    "duplicate of": "duplicates",
}


def normalise_link_type(raw: str) -> str:
    """Lowercase a link type and unify common spellings (``Related To`` -> ``relates to``)."""
    word = normalise_word(raw)
    return LINK_TYPE_ALIASES.get(word, word)


def normalise_heading(raw: str) -> str:
    """A section or field name reduced to lowercase words (``**Story Points:**`` -> ``story points``)."""
    return normalise_word(raw)
