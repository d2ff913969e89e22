"""The entries of a story's sections, one line or cell at a time: what both readers of a story share.

The block walk (:mod:`spectryn_markdown.parser`) and the story path (:mod:`spectryn_markdown.storypath`)
find a section's lines differently; what a line means - a criterion, a list subtask, a comment, a
commit, a link, a field line, a pull-request mention - is read here, the same for both.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from functools import lru_cache

from spectryn_core.model import KEY_PATTERN, Comment, Commit, Criterion, Link, PullRequestRef, Subtask
from spectryn_markdown.inline import inline_text
from spectryn_markdown.normalise import normalise_heading, normalise_link_type
from spectryn_markdown.scanner import Block
from spectryn_markdown.tables import COMMIT_COLUMNS, Table, column_map

#: Text that starts with a key (``US-001: Title``, ``[US-001] Title``): the key and the rest.
KEY_LINE = re.compile(rf"^\[?({KEY_PATTERN})\]?(?:\s*[:\-–—|]\s*|\s+|$)(.*)$")

# "PR #12", "pull request 12", any case: written out rather than IGNORECASE, which makes the
# regex engine try every position (7x slower); "ſ" is what IGNORECASE also takes for "s".
_PR = re.compile(r"[Pp](?<=\b[Pp])(?:[Rr]|[Uu][Ll][Ll][ -]?[Rr][Ee][Qq][Uu][Ee][Ss\u017f][Tt])\s*#?\s*(\d+)\b")
_PR_URL = re.compile(r"(?P<prefix>[^\s()<>\[\]\"'\x00]*)/pull-?requests/(?P<number>\d+)\b", re.IGNORECASE)
#: Where either pattern above could match, found once per file: every match in a story's text (code spans
#: read as spaces) is in a block where this matches the file's text (after "PR" comes a space, "#", a digit or
#: a code span; after "pull" a space, "-", "r" or a code span). A story with none mentions no pull request;
#: the others are read only in those blocks.
PR_HINT = re.compile(r"[Pp](?<=\b[Pp])(?:[Rr][\s#`\d]|[Uu][Ll][Ll][\x20\-`Rr])")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_CODE_BLOCKS = frozenset({"fence", "code_block", "html_block"})

_CHECKBOX = re.compile(r"^\[([ xX])\]\s*")
_COMMENT_HEAD = re.compile(
    r"^\s*(?:\*\*|__)?@?(?P<author>[^*_()\n:]+?)(?:\*\*|__)?\s*"
    r"(?:\((?P<date>[^)\n]*)\))?\s*:\s*(?P<rest>.*)$"
)
_LINK_LINE = re.compile(r"^(?P<type>[^:]+?)\s*:\s*(?P<targets>.+)$")
_LINK_PREFIXES = ("blocked by", "blocks", "depends on", "relates to", "related to", "duplicates",
                  "duplicated by", "clones", "cloned by", "is blocked by")
#: ``**Priority**: High`` / ``**Story Points:** 3`` on a line of its own (a list item too).
INLINE_FIELD = re.compile(r"^\s{0,3}(?:[-*+]\s+)?(?:\*\*|__)\s*(?P<name>[^*_\n:]+?)\s*(?P<colon>:)?\s*(?:\*\*|__)"
                           r"\s*(?(colon)|:)\s*(?P<value>.*?)\s*$")
#: A line that is a table row: ``| **Story Points** | 5 |``.
PIPE_ROW = re.compile(r"^\s{0,3}\|.*\|\s*$")
#: Where a line of a block could be one of the two above (each line of it searched alone is a match of this).
FIELD_OR_ROW = re.compile(f"(?:{INLINE_FIELD.pattern})|(?:{PIPE_ROW.pattern})", re.MULTILINE)


def may_hold_fields(text: str) -> bool:
    """Whether :data:`FIELD_OR_ROW` finds a line of ``text`` that could be a field line or a table row.

    Every match needs a pipe, or a colon and ``**`` or ``__``: text without them is answered without the
    search (which tries every position of a paragraph)."""
    if "|" not in text and (":" not in text or ("**" not in text and "__" not in text)):
        return False
    return FIELD_OR_ROW.search(text) is not None
#: A checkbox subtask's points suffix: ``(2 SP)``, ``(3 pts)``, ``(1.5 points)``.
_SUBTASK_POINTS = re.compile(r"\s*\(\s*(\d+(?:[.,]\d+)?)\s*(?:sp|pts?|points?|story\s*points?)\.?\s*\)\s*$",
                             re.IGNORECASE)
_SUBTASK_DESCRIPTION = re.compile(r"\s+[-–—]\s+")
_TARGET_SEPARATOR = re.compile(r"[,;]|\band\b")
_COMMIT_SEPARATOR = re.compile(r"\s*(?:[-–—:]\s+|\s+)")
_BOLD_AUTHOR = re.compile(r"^(\*\*|__)[^*_]+(\*\*|__)\s*(\([^)]*\))?\s*:")


def join_chunks(chunks: list[str]) -> str:
    """Text pieces (blocks as written) as one text, a blank line between them; empty pieces left out."""
    return "\n\n".join([chunk.strip("\n") for chunk in chunks if chunk and chunk.strip()])


def links_default(heading: str) -> str:
    """The link type of a line without one under the heading written ``heading`` (Links or Dependencies)."""
    return "depends on" if normalise_heading(inline_text(heading)) == "dependencies" else "relates to"


def commit_rows(table: Table, commits: list[Commit]) -> None:
    """Add the commits of a Related Commits table (columns by name; else the first two)."""
    columns = column_map(table, COMMIT_COLUMNS)
    sha_index = columns.get("sha", 0)
    message_index = columns.get("message", 1 if len(table.headers) > 1 else None)
    for _, row in table.rows:
        sha = inline_text(row[sha_index]).strip() if sha_index < len(row) else ""
        message = (inline_text(row[message_index]).strip()
                   if message_index is not None and message_index < len(row) else "")
        if sha:
            commits.append(Commit(sha.strip("`"), message))


def commit_line(text: str) -> Commit | None:
    """A commit written as a list item's plain text: ``a1b2c3d - message``."""
    parts = _COMMIT_SEPARATOR.split(text, maxsplit=1)
    if parts and parts[0]:
        return Commit(sha=parts[0].strip("`"), message=parts[1] if len(parts) > 1 else "")
    return None


def list_subtask(text: str, line: int, number: int, parent: str) -> Subtask | None:
    """A subtask written as a list item's plain text (``[x] Title - description (2 SP)``), None when it has no title."""
    match = _CHECKBOX.match(text)
    title = text[match.end():] if match else text
    if not title:
        return None
    status = "done" if match and match.group(1) in "xX" else None
    points: float | None = None
    suffix = _SUBTASK_POINTS.search(title)
    if suffix and title[:suffix.start()].strip():
        points = float(suffix.group(1).replace(",", "."))
        title = title[:suffix.start()].rstrip()
    description = ""
    parts = _SUBTASK_DESCRIPTION.split(title, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        title, description = parts[0].strip(), parts[1].strip()
    return Subtask(number=number, title=title, description=description, story_points=points, status=status,
                   line=line, parent_key=parent)


def paragraph_criteria(content: str) -> list[Criterion]:
    """A paragraph under Acceptance Criteria: a criterion (no checkbox) per line."""
    return [Criterion(text=line.strip(), checkbox=False) for line in inline_text(content).split("\n") if line.strip()]


def comment_of(text: str) -> Comment:
    text = text.strip()
    first, _, rest = text.partition("\n")
    head = _comment_head(first)
    if head is None:
        return Comment(body=text)
    said, author, date = head
    rest = rest.strip()
    return Comment(f"{said}\n{rest}" if said and rest else said or rest, author, date)  # body, author, date


@lru_cache(maxsize=1024)
def _comment_head(first: str) -> tuple[str, str | None, str | None] | None:
    """A comment's first line read as ``**@author** (date): text`` - ``(text, author, date)`` - or None
    (a spec's comments repeat a few authors and dates)."""
    if not (first.startswith(("**@", "@", "__@")) or _BOLD_AUTHOR.match(first)):
        return None
    match = _COMMENT_HEAD.match(first)
    if match is None:
        return None
    return (match.group("rest").strip(), match.group("author").strip().lstrip("@") or None,
            (match.group("date") or "").strip() or None)


def criterion_of(text: str, children: tuple[Criterion, ...]) -> Criterion | None:
    """A list item's text (``[x] Done``) as a criterion; None when it says nothing."""
    text = text.strip()
    match = _CHECKBOX.match(text)
    done = bool(match and match.group(1) in "xX")
    text = " ".join((text[match.end():] if match else text).split())
    if not text:
        return None
    return Criterion(text, done, children, match is not None)  # checkbox: whether one was written


def link_targets(text: str) -> list[str]:
    # a single target (no separator in it) without the split
    parts = _TARGET_SEPARATOR.split(text) if "," in text or ";" in text or "and" in text else [text]
    return [part.strip().strip("`") for part in parts if part.strip()]


def parse_link(text: str, default: str) -> list[Link] | None:
    match = _LINK_LINE.match(text)
    if match:
        kind = normalise_link_type(match.group("type"))
        targets = link_targets(match.group("targets"))
        return [Link(kind, target) for target in targets] if kind and targets else None
    lowered = text.lower()
    for prefix in sorted(_LINK_PREFIXES, key=len, reverse=True):
        if lowered.startswith(prefix + " "):
            targets = link_targets(text[len(prefix):])
            return [Link(normalise_link_type(prefix), target) for target in targets] or None
    if KEY_LINE.match(text):
        return [Link(default, target) for target in link_targets(text)]
    return None


def pull_requests_in(texts: Iterable[tuple[str, int]]) -> list[PullRequestRef]:
    """Pull requests mentioned in a story's ``texts`` (blocks as written outside code, each with the 1-based
    line it starts on, in order), links included - not in code spans - by number and (for a URL)
    repository, each with the line it is first written on."""
    pieces: list[str] = []
    starts: list[tuple[int, int]] = []  # (offset in the joined text, 1-based line of the block)
    offset = 0
    for text, line in texts:
        text = _CODE_SPAN.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text) if "`" in text else text
        starts.append((offset, line))
        pieces.append(text)
        offset += len(text) + 1
    # NUL between blocks: neither pattern can match across it, so one search covers every block
    joined = "\x00".join(pieces) if len(pieces) > 1 else pieces[0] if pieces else ""
    found: dict[tuple[int, str | None], int] = {}

    def line_of(position: int) -> int:
        index = bisect_right(starts, (position, 1 << 30)) - 1
        start, line = starts[index]
        return line + joined.count("\n", start, position)

    for match in _PR.finditer(joined):
        found.setdefault((int(match.group(1)), None), line_of(match.start()))
    if "/" in joined:  # every URL match has one
        for match in _PR_URL.finditer(joined):
            found.setdefault((int(match.group("number")), _repository(match.group("prefix"))),
                             line_of(match.start()))
    return [PullRequestRef(number, repository, line) for (number, repository), line
            in (sorted(found.items(), key=lambda pair: (pair[0][0], pair[0][1] or "")) if len(found) > 1
                else found.items())]


def code_free(blocks: Iterable[Block], source: Callable[[Block], str]) -> list[tuple[str, int]]:
    """The blocks that are not code (fenced, indented, HTML), as written with their 1-based lines."""
    return [(source(block), block.line) for block in blocks if block.kind not in _CODE_BLOCKS]


def _repository(prefix: str) -> str | None:
    """``workspace/repo`` from the part of a pull-request URL before ``/pull-requests/N``
    (Cloud ``https://bitbucket.org/ws/repo``, Data Center ``.../projects/P/repos/r``); None for
    a bare ``/pull-requests/N``. One path segment alone names no repository: kept as it is."""
    path = prefix
    if "://" in prefix:  # drop the scheme and the host
        path = prefix.split("://", 1)[1].partition("/")[2]
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 4 and parts[-2].lower() == "repos" and parts[-4].lower() == "projects":
        return f"{parts[-3]}/{parts[-1]}"
    if len(parts) >= 2:
        return f"{parts[-2]}/{parts[-1]}"
    return parts[0] if parts else None
