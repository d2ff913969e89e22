"""Turn hand-typed words from a spec into the model's vocabulary.

Authors decorate values (``🔄 In Progress``, ``:white_check_mark: Done``, ``**High**``) and use
many spellings (``To Do``, ``wip``, ``Completed``). Everything here strips the decoration, lowercases,
and maps aliases onto :data:`~spectryn_core.model.STATUSES` / :data:`~spectryn_core.model.PRIORITIES`.
A word that is a key of the config's ``status_mapping`` / ``priority_mapping`` is accepted as it is.

The functions are pure and called with the same few values on every story (``🔄 In Progress``,
``**Story Points**``), so their results are cached.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from spectryn_core.model import PRIORITIES, STATUSES

_SHORTCODE = re.compile(r":[a-z0-9_+-]+:")
_SPACES = re.compile(r"\s+")
_LEADING_SHORTCODE = re.compile(r"^:[a-z0-9_+-]+:")

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


@lru_cache(maxsize=4096)
def normalise_word(value: str) -> str:
    """Lowercase ``value`` and drop emoji, shortcodes and punctuation: ``"🔄 In-Progress"`` -> ``"in progress"``."""
    text = _SHORTCODE.sub(" ", value.lower()).replace("-", " ").replace("_", " ")
    kept = [ch if (ch.isalnum() or ch == "/") else " " for ch in text if ch != "'" and ch != "’"]
    return _SPACES.sub(" ", "".join(kept)).strip()


#: Marks that belong to an emoji, never to a word: variation selectors and the keycap's enclosing mark.
_EMOJI_MARKS = frozenset("\u20e3" + "".join(chr(code) for code in range(0xFE00, 0xFE10)))


def _decoration(ch: str) -> bool:
    """Whether ``ch`` at a title's end is decoration: a space, an emoji or pictograph (``So``), a
    non-ASCII modifier symbol (skin tones), a format or control character (the zero-width joiner, emoji
    tags), an unassigned code point (an emoji newer than this Python's tables) or an emoji's own mark.
    Never ASCII punctuation or symbols, math (``Sm``) or currency (``Sc``) signs, letters, digits, or the
    accents of a word: ``Support C++``, ``Pay in $``, ``Café`` keep their last character."""
    category = unicodedata.category(ch)
    first = category[0]
    if first == "Z" or first == "C":
        return True
    if category == "So" or (category == "Sk" and ch > "\x7f"):
        return True
    return ch in _EMOJI_MARKS or "\U000E0000" <= ch <= "\U000E01EF"


@lru_cache(maxsize=4096)
def strip_decoration(value: str) -> str:
    """Remove leading/trailing emoji, shortcodes and spaces from a title, keeping its words as typed
    (and any punctuation or math/currency sign it starts or ends with: see :func:`_decoration`)."""
    text = value.strip()
    if text and text[0].isalnum() and text[-1].isalnum():
        return text  # the common case: nothing to remove
    while True:
        before = text
        if text[:1] == ":":  # else nothing to remove (and the text is stripped already)
            text = _LEADING_SHORTCODE.sub("", text).strip()
        while text and _decoration(text[0]):
            text = text[1:]
        while text and _decoration(text[-1]):
            text = text[:-1]
        if text == before or text[:1] != ":":  # only a shortcode left in front can make another pass strip more
            return text


#: An emoji written alone as a status or priority, where what it stands for is unambiguous.
STATUS_EMOJI: dict[str, str] = {
    "✅": "done", "✔": "done", "☑": "done", "✔️": "done", ":white_check_mark:": "done", ":heavy_check_mark:": "done",
    "🔄": "in progress", "🚧": "in progress", "⏳": "in progress", ":arrows_counterclockwise:": "in progress",
    "📋": "open", "🆕": "open", "👀": "in review", "❌": "closed", ":x:": "closed",
    "⏸": "blocked", "🚫": "blocked", "⛔": "blocked", "🛑": "blocked",
}
#: The coloured circles of the format reference (``🔴 Critical``, ``🟠 High``, ``🟡 Medium``, ``🟢 Low``).
PRIORITY_EMOJI: dict[str, str] = {"🔴": "critical", "🟠": "high", "🟡": "medium", "🟢": "low"}


def _emoji_alone(raw: str) -> str | None:
    """The symbol of a value that is one emoji (or shortcode) and nothing else, else None."""
    text = raw.strip().strip("*_").strip().replace("\ufe0f", "")
    if _SHORTCODE.fullmatch(text):
        return text
    if text and any(unicodedata.category(ch) == "So" for ch in text) and not any(ch.isalnum() for ch in text):
        return text
    return None


def _normalise(
    raw: str, canonical: tuple[str, ...], aliases: dict[str, str], extra: Iterable[str], what: str
) -> tuple[str | None, str | None]:
    word = normalise_word(raw)
    if not word:
        symbol = _emoji_alone(raw)
        if symbol is None:
            return None, None  # empty, "-", "?": not given
        meaning = (STATUS_EMOJI if what == "status" else PRIORITY_EMOJI).get(symbol)
        if meaning is not None:
            return meaning, None
        example = "✅ Done" if what == "status" else "🔴 Critical"
        return None, (f'{what} "{raw.strip()}" is an emoji alone and it is not clear which {what} it means; '
                      f'write the word too, e.g. "{example}"')
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
    return _cached_status(raw, tuple(extra))


def normalise_priority(raw: str, extra: Iterable[str] = ()) -> tuple[str | None, str | None]:
    """Return ``(priority, None)``, ``(None, error message)``, or ``(None, None)`` for an empty value."""
    return _cached_priority(raw, tuple(extra))


@lru_cache(maxsize=1024)
def _cached_status(raw: str, extra: tuple[str, ...]) -> tuple[str | None, str | None]:
    return _normalise(raw, STATUSES, STATUS_ALIASES, extra, "status")


@lru_cache(maxsize=1024)
def _cached_priority(raw: str, extra: tuple[str, ...]) -> tuple[str | None, str | None]:
    return _normalise(raw, PRIORITIES, PRIORITY_ALIASES, extra, "priority")


@lru_cache(maxsize=1024)
@lru_cache(maxsize=1024)
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


@lru_cache(maxsize=256)
def normalise_link_type(raw: str) -> str:
    """Lowercase a link type and unify common spellings (``Related To`` -> ``relates to``)."""
    word = normalise_word(raw)
    return LINK_TYPE_ALIASES.get(word, word)


#: A section or field name reduced to lowercase words (``**Story Points:**`` -> ``story points``):
#: :func:`normalise_word` itself (no wrapper call per heading and cell).
normalise_heading = normalise_word
