"""Items -> Bitbucket issue fields, and Bitbucket issues -> the same fields. Pure functions.

The round trip is the point: for an unchanged item, :func:`render` and :func:`remote_fields`
(applied to what Bitbucket returns) give equal values, so a re-sync sends nothing.

Choices a user can see:

- Title ``KEY: Title``; the key (``US-001``, a subtask ``US-001.2``, an epic ``EPIC-001``) is how
  a sync finds its issues again without local state.
- Labels: Bitbucket issues have none, so the content ends with a line ``Labels: story, frontend``
  (the configured ``story_label`` / ``subtask_label`` / ``epic_label``, then the spec's labels).
  It is visible in the issue, searchable (``content ~ "Labels: story"``) and read back as text.
- The spec is the source of truth for what it says: ``state``, ``priority``, ``milestone``,
  ``component`` and ``version`` are rendered only when the spec (or its epic) names them, so a
  value set by hand in Bitbucket for something the spec leaves open is kept.
- Links name their targets by key (``blocks: US-002``), not by issue number, so the content does
  not change once the target exists. Content names by ``#id`` (which Bitbucket turns into a
  link) only an issue that exists before it: a subtask's ``Parent: #12 US-001``, a story's
  ``Epic: #5 EPIC-001``. A story lists its subtasks, and an epic its stories, by key - an id
  there would not exist yet when the parent is created, and would cost a second write of every
  parent. Issues written by earlier versions (``- #13 US-001.1: Form``) read as the same list.
- The merge base and provenance: the content ends with one line that Bitbucket's markdown shows
  as nothing (a link reference definition,
  ``[//]: # (spectryn:1 f=docs/EPIC.md n=US-001 g=3 t=1a2b3c4d c=... x=...)``): the spec file
  it came from (``f``, the path in the repository, percent-encoded where it holds anything but
  letters, digits, ``/._~-``), its key (``n``), the generation of the base (``g``), a short
  digest of each field as both sides last agreed, and tags of the comments, attachments and PR
  links known to be sent. Names a reader does not know are ignored (later versions add some);
  ``f`` comes first, so ``content.raw ~ "spectryn:1 f=docs/EPIC.md"`` finds a spec's issues.
  Only the last such line outside a fenced code block is the base; everything else in the
  content is the person's text and is never changed when the base is written again (only the
  provenance note just above the base line, spectryn's own, is rewritten with it). It is read
  back into ``RemoteItem.base`` / ``RemoteItem.provenance`` and left out of the content
  compared. A person who deletes the line only loses the base (the next difference is a
  conflict, never an overwrite) and the mark (the issue is no longer spectryn's until adopted
  or it is known to the local state).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from spectryn_bitbucket import content, legacy
from spectryn_bitbucket.users import ISSUE_FIELDS as ASSIGNEE_FIELDS
from spectryn_bitbucket.users import Directory, assignee_body, assignee_ref
from spectryn_core.items import Account, Item, Provenance, RemoteItem, Rendered, base_digest, comment_text
from spectryn_core.model import KEY_PATTERN, Comment, Epic, Section, Story, Subtask

#: The reporter's identifiers an issue listing asks for (who made the issue).
REPORTER_FIELDS = ("reporter.uuid", "reporter.account_id", "reporter.nickname",
                   "reporter.display_name")
#: ``fields=`` of an issue listing: only what :func:`remote_item` reads.
ISSUE_LIST_FIELDS = ",".join(
    ["next"]
    + [
        f"values.{f}"
        for f in (
            "id", "title", "content.raw", "state", "kind", "priority", "milestone.name",
            "component.name", "version.name", "links.html.href", *ASSIGNEE_FIELDS,
            *REPORTER_FIELDS,
        )
    ]
)
KINDS = ("bug", "enhancement", "proposal", "task")
TITLE_RE = re.compile(rf"^\s*(?P<key>{KEY_PATTERN}(?:\.\d+)?)\s*:\s?(?P<title>.*)$", re.S)
RENDERED_FIELDS = ("title", "content", "state", "priority", "kind", "milestone", "component", "version",
                   "assignee")
#: The merge-base line: a link reference definition, which markdown renders as nothing.
BASE_LINE_RE = re.compile(r"^\[//\]: # \(spectryn:1(?P<body>[^()\r\n]*)\)[ \t]*$")
#: What starts the base line of an issue made from a spec file (see :func:`spec_marker`).
MARKER = "spectryn:1 f="
#: Provenance in the base line, first and in this order: spec file, key, generation.
RECORD_NAMES = {"spec": "f", "key": "n", "generation": "g"}
#: Field names in the base line (short, to keep the line compact).
BASE_NAMES = {"title": "t", "content": "c", "state": "s", "priority": "p", "kind": "k",
              "milestone": "m", "component": "o", "version": "v", "assignee": "a",
              "extras": "x", "commit": "h"}
_BASE_FIELDS = {short: name for name, short in BASE_NAMES.items()}
_BASE_VALUE_RE = re.compile(r"^[0-9a-f.]{1,4000}$")
_RECORD_FIELDS = {short: name for name, short in RECORD_NAMES.items()}
_RECORD_VALUE_RES = {
    "spec": re.compile(r"^[A-Za-z0-9._~/%-]{1,1000}$"),
    "key": re.compile(rf"^{KEY_PATTERN}(?:\.\d+)?$"),
    "generation": re.compile(r"^\d{1,9}$"),
}
#: A value of a name this version does not know (kept out of the base, never an error).
_OTHER_VALUE_RE = re.compile(r"^[!-~]{1,1000}$")
#: An opening or closing code fence (Python-Markdown's fenced_code: ``` or ~~~, 3 or more).
_FENCE_RE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<rest>.*)$")
_CHILD_LISTS = ("## Subtasks", "## Stories")


@dataclass
class RenderContext:
    """What rendering needs beyond the item: config and the repository's named things.

    ``milestones`` etc. are the names known to exist; ``*_complete`` says the whole list was read
    (only then is a name outside it reported missing).
    """

    full_name: str
    epic_mode: str = "milestone"
    epic_label: str = "epic"
    story_label: str = "story"
    subtask_label: str = "subtask"
    milestones: set[str] = field(default_factory=set)
    components: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    milestones_complete: bool = False
    components_complete: bool = False
    versions_complete: bool = False
    #: Assignee names -> accounts (config map, workspace members).
    directory: Directory = field(default_factory=Directory)
    #: Pull requests the spec names that this repository does not have, checked in this run
    #: (read_items, link_pull_request): never linked in this run.
    missing_prs: set[int] = field(default_factory=set)
    #: Pull requests found to exist in this run (read_items): linking one needs no second GET.
    existing_prs: set[int] = field(default_factory=set)
    #: Pull requests an issue's base records as checked and missing (not checked in this run
    #: unless the issue is written, or with --recheck-pull-requests): warned about.
    recorded_missing: set[int] = field(default_factory=set)


# --- reading -------------------------------------------------------------------------------


def parse_title(title: str) -> tuple[str, str] | None:
    """``"US-001: Login"`` -> ``("US-001", "Login")``; None when the title carries no key."""
    match = TITLE_RE.match(title or "")
    return (match["key"], match["title"]) if match else None


def normalise_content(text: str | None) -> str:
    """Content as compared: LF line ends, no trailing spaces, no leading/trailing blank lines
    (as a comment's text is digested: :func:`spectryn_core.items.comment_text`)."""
    return comment_text(text or "")


@dataclass
class BaseRecord:
    """What the base line of an issue's content says, and where it is.

    ``content`` is the content as compared (the base line and the provenance note above it left
    out, normalised); ``base`` the field digests and extras tags (None: no base line, or a
    malformed one); ``provenance`` the record of where the issue came from (None: none, or from
    a version before provenance); ``span`` the base line's (start, end) in the raw text, its line
    ending left out."""

    content: str
    base: dict[str, str] | None = None
    provenance: Provenance | None = None
    span: tuple[int, int] | None = None


def base_line_span(raw: str) -> tuple[int, int, re.Match[str]] | None:
    """The last base line of ``raw`` that is outside every fenced code block: (start, end, match),
    end before its line ending; None when there is none."""
    found: tuple[int, int, re.Match[str]] | None = None
    fence: str | None = None
    position = 0
    for line in raw.splitlines(keepends=True):
        text = line.rstrip("\r\n")
        opening = _FENCE_RE.match(text)
        if fence is None:
            if opening is not None:
                fence = opening["fence"]
            else:
                match = BASE_LINE_RE.match(text)
                if match is not None:
                    found = (position, position + len(text), match)
        elif (opening is not None and opening["fence"][0] == fence[0]
              and len(opening["fence"]) >= len(fence) and not opening["rest"].strip()):
            fence = None
        position += len(line)
    return found


def _parse_body(body: str) -> tuple[dict[str, str], Provenance | None] | None:
    """The entries of a base line; None when one this version knows is malformed."""
    base: dict[str, str] = {}
    record: dict[str, str] = {}
    for part in body.split():
        short, _, value = part.partition("=")
        name = _BASE_FIELDS.get(short)
        if name is not None:
            if not _BASE_VALUE_RE.match(value):
                return None
            base[name] = value
            continue
        name = _RECORD_FIELDS.get(short)
        if name is not None:
            if not _RECORD_VALUE_RES[name].match(value):
                return None
            record[name] = unquote(value) if name == "spec" else value
            continue
        if not _OTHER_VALUE_RE.match(value):
            return None
    provenance = None
    if record.get("spec") and record.get("key"):
        provenance = Provenance(record["spec"], record["key"], int(record.get("generation") or 0))
    return base, provenance


def read_base(text: str | None) -> BaseRecord:
    """Raw issue content -> its :class:`BaseRecord`. A malformed base line counts as none (and
    is left out of the content compared all the same)."""
    raw = text or ""
    found = base_line_span(raw)
    if found is None:
        return BaseRecord(normalise_content(without_note(raw)))
    start, end, match = found
    before, after = raw[:start], raw[end:]
    if before.strip() and after.strip():  # a person wrote below the base line: one blank line
        before, after = before.rstrip("\r\n") + "\n\n", after.lstrip("\r\n")
    content = normalise_content(without_note(before + after))
    parsed = _parse_body(match["body"])
    if parsed is None:
        return BaseRecord(content, span=(start, end))
    base, provenance = parsed
    return BaseRecord(content, base, provenance, (start, end))


def split_base(text: str | None) -> tuple[str, dict[str, str] | None]:
    """Raw issue content -> (the content without its base line, normalised; the base or None)."""
    found = read_base(text)
    return found.content, found.base


def base_line(base: dict[str, str]) -> str:
    """The base line of a ``base`` dict (field digests, extras, and the provenance record)."""
    parts = [f"{short}={quote(base[name], safe='/') if name == 'spec' else base[name]}"
             for name, short in RECORD_NAMES.items() if base.get(name) not in (None, "")]
    parts += [f"{BASE_NAMES[name]}={value}" for name, value in base.items() if name in BASE_NAMES]
    return f"[//]: # (spectryn:1 {' '.join(parts)})" if parts else "[//]: # (spectryn:1)"


def with_base(content: str, base: dict[str, str], note: str = "") -> str:
    """``content`` followed by the provenance ``note`` (:func:`provenance_note`, if any) and the
    base line (each after a blank line, so neither joins a paragraph)."""
    body = "\n\n".join(part for part in (normalise_content(content), note) if part)
    line = base_line(base)
    return f"{body}\n\n{line}" if body else line


def reembed(raw: str, base: dict[str, str], note: str = "") -> str:
    """``raw`` (an issue's content exactly as Bitbucket holds it) with its base line replaced by
    the one of ``base`` - or added at the end - and no byte of a person's text changed: only the
    provenance ``note`` (spectryn's own line, wherever a person's edits left it) is written again just
    above the base line."""
    line = base_line(base)
    newline = "\r\n" if "\r\n" in raw else "\n"
    found = base_line_span(raw)
    head, tail = (raw[:found[0]], raw[found[1]:]) if found is not None else (raw, "")
    head = without_note(head)  # spectryn's own note: written again just above the base line
    ours = f"{note}{newline * 2}{line}" if note else line
    if not head.strip():
        return ours + tail
    if (found is None or note) and not head.endswith(newline * 2):
        head = head.rstrip("\r\n") + newline * 2  # after the person's text, a blank line
    return head + ours + tail


def spectryns_own(remote: RemoteItem) -> bool:
    """True when ``remote``'s content is, byte for byte, text spectryn wrote and both sides still
    agree on (its digest is the base's, and the raw text is in spectryn's normal form): written
    again, it may change spectryn's own lines (issue ids after keys) - never a person's text."""
    raw = remote.native if isinstance(remote.native, str) else None
    content = remote.fields.get("content")
    agreed = (remote.base or {}).get("content")
    if raw is None or not isinstance(content, str) or not agreed or base_digest(content) != agreed:
        return False
    found = base_line_span(raw)
    if found is None:
        return False
    before = raw[: found[0]].rstrip("\n")
    head, _, last = before.rpartition("\n")
    if _is_note(last):
        before = head.rstrip("\n")
    return before == normalise_content(before) and raw[found[1]:].strip("\n") == ""


def spec_marker(origin: str) -> str:
    """The text every issue made from the spec file ``origin`` carries (the start of its base
    line), for a BBQL ``content.raw ~`` query; it may match more (a longer path), never less."""
    return MARKER + quote(origin, safe="/")


#: The visible line naming the spec an issue is managed in, written just above the base line.
NOTE_HEAD = "*Managed in "
NOTE_TAIL = " - edit the spec; changes here are kept until the spec changes the same field.*"
#: A line spectryn writes naming another issue by key: a link (``- blocks: US-002``) or a child
#: (``- US-001.1: Form``), with the issue's ``(#12)`` after the key once it is known. Never
#: ``#12`` first: Python-Markdown reads a ``#`` starting a list item's line as a heading (child
#: lists of earlier versions, ``- #13 US-001.1: Form``, are still read).
_REF_LINE = re.compile(rf"^- (?P<type>[a-z][a-z -]*: )?(?:#\d+ )?(?P<key>{KEY_PATTERN}(?:\.\d+)?)"
                       r"(?: \(#\d+\))?(?P<rest>: .*)?$")


def provenance_note(path: str, url: str | None) -> str:
    """``*Managed in [docs/specs/x.md](url) - edit the spec; ...*`` (the path in code without a url)."""
    where = f"[{path}]({url})" if url else f"`{path}`"
    return f"{NOTE_HEAD}{where}{NOTE_TAIL}"


def without_note(text: str) -> str:
    """``text`` without spectryn's provenance note: the last line of the note's form, wherever it
    is. spectryn writes it just above the base line, but a person who adds a paragraph at the end
    of an issue writes below it (it is the last line they see); that paragraph is theirs and the
    note is still spectryn's, written again after it - never twice. One of the blank lines around
    the note goes with it, so the person's text keeps its spacing."""
    lines = text.split("\n")
    for n in range(len(lines) - 1, -1, -1):
        if _is_note(lines[n]):
            blank_before = n > 0 and not lines[n - 1].strip()
            blank_after = n + 1 < len(lines) and not lines[n + 1].strip()
            del lines[n : n + 2 if blank_before and blank_after else n + 1]
            return "\n".join(lines)
    return text


def _is_note(line: str) -> bool:
    line = line.rstrip("\r")
    return line.startswith(NOTE_HEAD) and line.endswith(NOTE_TAIL)


def _is_ref_line(line: str, inside_children: bool) -> re.Match[str] | None:
    match = _REF_LINE.match(line)
    if match is None:
        return None
    # a link line names its type; a child line (``- US-001.1: Form``) only in a list of children
    return match if match["type"] or (inside_children and match["rest"]) else None


def with_refs(content: str, ids: dict[str, str]) -> str:
    """``content`` with ``(#id)`` after each key of a link or child line whose issue is known.

    Added when an issue is written, never compared (:func:`canonical_refs` removes them when
    reading): an issue written before its link target existed gets the id with its next write,
    so naming issues by id costs no request of its own."""
    if not ids:
        return content
    return _rewrite_refs(content, lambda match: f" (#{ids[match['key']]})" if match["key"] in ids
                         else None)


def canonical_refs(content: str) -> str:
    """Link and child lines without the ``(#id)`` :func:`with_refs` adds (content as compared);
    also how a child list written by earlier versions (``- #13 US-001.1: Form`` under
    ``## Subtasks`` or ``## Stories``) reads as the current form."""
    if "- " not in content or "#" not in content:
        return content
    return _rewrite_refs(content, lambda match: "" if "#" in match[0] else None)


def _rewrite_refs(content: str, decoration: Callable[[re.Match[str]], str | None]) -> str:
    """``content`` with each link or child line written again as ``- type: KEY<decoration>: rest``;
    ``decoration(match)`` None leaves the line as it is."""
    lines = content.split("\n")
    inside = False
    for number, line in enumerate(lines):
        if line.startswith("## "):
            inside = line in _CHILD_LISTS
            continue
        match = _is_ref_line(line, inside) if line.startswith("- ") else None
        added = decoration(match) if match is not None else None
        if match is not None and added is not None:
            lines[number] = f"- {match['type'] or ''}{match['key']}{added}{match['rest'] or ''}"
    return "\n".join(lines)


def _name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, dict) else None


def raw_content(issue: dict[str, Any]) -> str:
    """An issue's content exactly as Bitbucket holds it."""
    content = issue.get("content") or {}
    raw = content.get("raw") if isinstance(content, dict) else content
    return str(raw or "")


def issue_content(issue: dict[str, Any]) -> tuple[str, dict[str, str] | None]:
    """An issue's content as compared (no base line, child lists in the current form), and
    the merge base it carries."""
    found = read_base(raw_content(issue))
    return canonical_refs(found.content), found.base


def reporter(issue: dict[str, Any]) -> Account | None:
    """The account that made an issue, when the answer names it: identified by its ``{uuid}``
    (else its account id), the account id as its only alias. The nickname is only the label:
    it is "defined by the owner" and "not guaranteed to be unique" (Atlassian's OpenAPI text for
    Bitbucket Cloud, the ``user`` schema; coderabbitai/bitbucket src/cloud/openapi/
    swagger.v3.json), so anyone could take a trusted person's - a config naming it must never
    match (:mod:`spectryn_bitbucket.trusted`)."""
    user = issue.get("reporter")
    if not isinstance(user, dict) or not (user.get("uuid") or user.get("account_id")):
        return None
    ident = str(user.get("uuid") or user.get("account_id"))
    aliases = tuple(str(user[k]) for k in ("account_id",) if user.get(k) and str(user[k]) != ident)
    return Account(ident, str(user.get("nickname") or user.get("display_name") or ""), aliases)


def remote_fields(issue: dict[str, Any], found: BaseRecord | None = None) -> dict[str, Any]:
    """The rendered-field values of a Bitbucket issue object (full or ``fields=``-trimmed)."""
    found = found if found is not None else read_base(raw_content(issue))
    return {
        "title": issue.get("title") or "",
        "content": canonical_refs(found.content),
        "state": issue.get("state"),
        "priority": issue.get("priority"),
        "kind": issue.get("kind"),
        "milestone": _name(issue.get("milestone")),
        "component": _name(issue.get("component")),
        "version": _name(issue.get("version")),
        "assignee": assignee_ref(issue.get("assignee")),
    }


def remote_item(issue: dict[str, Any]) -> RemoteItem:
    """A :class:`RemoteItem` from a Bitbucket issue object: the key its title carries ("" when
    none), its fields, base, provenance and reporter, and its raw content (``native``: the base
    is re-embedded into exactly that text)."""
    parsed = parse_title(issue.get("title") or "")
    url = ((issue.get("links") or {}).get("html") or {}).get("href") or ""
    raw = raw_content(issue)
    found = read_base(raw)
    return RemoteItem(key=parsed[0] if parsed else "", id=str(issue.get("id")), url=url,
                      fields=remote_fields(issue, found), base=found.base,
                      provenance=found.provenance, reporter=reporter(issue), native=raw)


def issue_body(fields: dict[str, Any]) -> dict[str, Any]:
    """Rendered fields -> the JSON body of a POST/PUT on ``/issues``."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "content":
            body["content"] = {"raw": value, "markup": "markdown"}
        elif name in ("milestone", "component", "version"):
            body[name] = {"name": value} if value is not None else None
        elif name == "assignee":
            body[name] = assignee_body(value)
        elif name in RENDERED_FIELDS:
            body[name] = value
    return body


# --- rendering -----------------------------------------------------------------------------


def render_comment(comment: Comment) -> str:
    """A spec comment as posted: ``**@alice** (2025-01-15):`` then the body."""
    head = ""
    if comment.author:
        head = f"**@{comment.author.lstrip('@')}**"
    if comment.date:
        head = f"{head} ({comment.date})".strip()
    body = normalise_content(comment.body)
    return f"{head}:\n\n{body}" if head else body


_POSTED_HEAD_RE = re.compile(r"^(?:\*\*@(?P<author>[^*\n]+)\*\*)? ?(?:\((?P<date>[^()\n]*)\))?:\n\n")


def posted_comment(text: str) -> Comment:
    """A posted comment's text read back as the spec comment :func:`render_comment` made it
    from (what its :func:`~spectryn_core.items.comment_digest` is computed on). A text with no
    ``**@author** (date):`` head is a comment with neither."""
    text = normalise_content(text)
    match = _POSTED_HEAD_RE.match(text)
    if match is None or not (match["author"] or match["date"] is not None):
        return Comment(body=text)
    return Comment(body=text[match.end():], author=match["author"], date=match["date"])


def _points(value: float | None) -> str:
    if value is None:
        return ""
    return f"**Story Points:** {int(value) if float(value).is_integer() else value}"


def _ref(key: str, refs: dict[str, RemoteItem]) -> str:
    remote = refs.get(key)
    return f"#{remote.id}" if remote is not None and remote.id else ""


def _labels(first: str, extra: list[str]) -> str:
    seen: list[str] = []
    for label in [first, *extra]:
        label = label.strip()
        if label and label not in seen:
            seen.append(label)
    return "Labels: " + ", ".join(seen)


@dataclass
class _SpecIndex:
    """Who contains whom in one spec, by object identity (built once per spec, not per item)."""

    spec: Any
    story_of_subtask: dict[int, Story]
    story_by_key: dict[str, Story]
    epic_of_story: dict[int, Epic]


_last_index: list[_SpecIndex] = []  # the index of the spec being rendered (one at a time)


def _index(spec: Any) -> _SpecIndex:
    # Rendering every item of a spec used to scan all its stories per item (quadratic: 1.1 s of
    # a 7 s first sync of 200 x 3 stories); a run renders one spec, so one cached index suffices.
    if _last_index and _last_index[0].spec is spec:
        return _last_index[0]
    index = _SpecIndex(spec, {}, {}, {})
    for epic in spec.epics:
        for story in epic.stories:
            index.epic_of_story.setdefault(id(story), epic)
            if story.key is not None:
                index.story_by_key.setdefault(story.key, story)
            for subtask in story.subtasks:
                index.story_of_subtask.setdefault(id(subtask), story)
    _last_index[:] = [index]
    return index


def _epic_of(item: Item) -> Epic | None:
    story = _story_of(item)
    return _index(item.spec).epic_of_story.get(id(story)) if story is not None else None


def _story_of(item: Item) -> Story | None:
    if isinstance(item.source, Story):
        return item.source
    if isinstance(item.source, Subtask):
        index = _index(item.spec)
        return index.story_of_subtask.get(id(item.source)) or (
            index.story_by_key.get(item.parent) if item.parent else None
        )
    return None


def _check(kind: str, name: str | None, known: set[str], complete: bool, ctx: RenderContext,
           warnings: list[str], where: str) -> str | None:
    if name is None or name in known or not complete:
        return name
    warnings.append(
        f"{kind} '{name}' does not exist in {ctx.full_name}; create it in Repository settings -> "
        f"Issue tracker -> {where}, then sync again"
    )
    return None


def _set_named(fields: dict[str, Any], name: str, value: str | None) -> None:
    """Set a milestone / component / version that exists; leave the field out when it does not,
    so whatever the issue has now is kept (never cleared) until the name exists."""
    if value is not None:
        fields[name] = value


def story_milestone(item: Item) -> str | None:
    """The milestone a story or subtask belongs to: its story's own, else its epic's."""
    story = _story_of(item)
    if story is not None and story.milestone:
        return story.milestone
    epic = _epic_of(item)
    return epic.milestone if epic is not None and epic.milestone else None


def _epic_line(item: Item, refs: dict[str, RemoteItem], ctx: RenderContext) -> str:
    if ctx.epic_mode != "issue" or not item.parent:
        return ""
    ref = _ref(item.parent, refs)
    return f"Epic: {ref + ' ' if ref else ''}{item.parent}"


def _pull_requests(item: Item) -> list[str]:
    """This repository's pull requests (Bitbucket links ``pull request #N``); one of another
    repository stays the plain link the spec wrote."""
    numbers = item.pull_requests()
    if not numbers:
        return []
    return ["## Pull Requests\n\n" + "\n".join(f"- pull request #{n}" for n in numbers)]


def _unassigned(source: Story | Subtask, ctx: RenderContext) -> list[str]:
    """A line naming an assignee that maps to no account (the plan warns too)."""
    name = source.assignee
    if not name or ctx.directory.resolve(name) is not None:
        return []
    return [f"Assignee: @{name.lstrip('@')} (no Bitbucket account)"]


def _story_content(item: Item, story: Story, refs: dict[str, RemoteItem], ctx: RenderContext) -> str:
    return normalise_content("\n\n".join(text for _, text in story_layout(item, story, refs, ctx)))


def story_layout(item: Item, story: Story, refs: dict[str, RemoteItem],
                 ctx: RenderContext) -> list[tuple[Section | None, str]]:
    """The parts of a story's content in order, each with the spec section it shows (None for
    the lines spectryn adds: pull requests, points, labels ...); joined by blank lines they are
    the content."""
    parts: list[tuple[Section | None, str]] = [*content.story_parts(story)]
    extra = [*_pull_requests(item)]
    if story.story_points is not None:
        extra.append(_points(story.story_points))
    extra.extend(_unassigned(story, ctx))
    extra.append(_epic_line(item, refs, ctx))
    extra.append(_labels(ctx.story_label, list(story.labels)))
    parts.extend((None, text) for text in extra)
    return [(section, text) for section, text in parts if text]


def _story_legacy(item: Item, story: Story, refs: dict[str, RemoteItem], ctx: RenderContext) -> list[str]:
    return legacy.story_contents(story, _points(story.story_points), _epic_line(item, refs, ctx),
                                 _labels(ctx.story_label, list(story.labels)), normalise_content)


def earlier_layouts(item: Item, refs: dict[str, RemoteItem], ctx: RenderContext) -> list[str]:
    """The content of ``item`` as earlier versions wrote it (legacy.py), newest first."""
    source = item.source
    if isinstance(source, Story):
        return _story_legacy(item, source, refs, ctx)
    if isinstance(source, Subtask):
        return [legacy.subtask_content(source, _points(source.story_points), _parent_line(item, refs),
                                       _labels(ctx.subtask_label, []), normalise_content)]
    return [legacy.epic_content(source, _labels(ctx.epic_label, []), normalise_content)]


def _parent_line(item: Item, refs: dict[str, RemoteItem]) -> str:
    if not item.parent:
        return ""
    ref = _ref(item.parent, refs)
    return f"Parent: {ref + ' ' if ref else ''}{item.parent}"


def _subtask_content(item: Item, sub: Subtask, refs: dict[str, RemoteItem], ctx: RenderContext) -> str:
    parts = [*content.subtask_body(sub)]
    if sub.story_points is not None:
        parts.append(_points(sub.story_points))
    parts.extend(_unassigned(sub, ctx))
    if item.parent:
        parts.append(_parent_line(item, refs))
    parts.append(_labels(ctx.subtask_label, []))
    return normalise_content("\n\n".join(parts))


def _as_held(item: Item, new: str, older: list[str], refs: dict[str, RemoteItem]) -> str:
    """``new``, unless the issue holds one of the ``older`` layouts of the same spec text (or its
    merge base records one): then that one, so an upgrade rewrites no issue (legacy.py)."""
    held = refs.get(item.key)
    have = held.fields.get("content") if held is not None else None
    if held is None or have == new:
        return new
    agreed = (held.base or {}).get("content")
    for old in older:
        if old == have or (agreed is not None and base_digest(old) == agreed):
            return old
    return new


def render(item: Item, refs: dict[str, RemoteItem], ctx: RenderContext) -> Rendered:
    """The fields ``item`` should have in Bitbucket, and warnings to show in the plan."""
    warnings: list[str] = []
    source = item.source
    if isinstance(source, Epic):
        if ctx.epic_mode == "milestone":
            return Rendered({}, skip=True)
        fields: dict[str, Any] = {
            "title": f"{item.key}: {item.title}",
            "content": _as_held(
                item, normalise_content("\n\n".join([*content.epic_body(source), _labels(ctx.epic_label, [])])),
                earlier_layouts(item, refs, ctx), refs),
            "kind": "enhancement",
        }
        if source.milestone:
            _set_named(fields, "milestone", _check("milestone", source.milestone, ctx.milestones,
                                                   ctx.milestones_complete, ctx, warnings, "Milestones"))
    elif isinstance(source, Story):
        kind = (source.kind or "enhancement").lower()
        if kind not in KINDS:
            warnings.append(f"kind '{source.kind}' is not a Bitbucket kind ({', '.join(KINDS)}); "
                            "using 'enhancement'")
            kind = "enhancement"
        fields = {
            "title": f"{item.key}: {item.title}",
            "content": _as_held(item, _story_content(item, source, refs, ctx),
                                earlier_layouts(item, refs, ctx), refs),
            "kind": kind,
        }
        if source.component:
            _set_named(fields, "component", _check("component", source.component, ctx.components,
                                                   ctx.components_complete, ctx, warnings, "Components"))
        if source.version:
            _set_named(fields, "version", _check("version", source.version, ctx.versions,
                                                 ctx.versions_complete, ctx, warnings, "Versions"))
    else:
        fields = {
            "title": f"{item.key}: {item.title}",
            "content": _as_held(item, _subtask_content(item, source, refs, ctx),
                                earlier_layouts(item, refs, ctx), refs),
            "kind": "task",
        }
    if not isinstance(source, Epic):
        milestone = story_milestone(item)
        if milestone:
            _set_named(fields, "milestone", _check("milestone", milestone, ctx.milestones,
                                                   ctx.milestones_complete, ctx, warnings, "Milestones"))
    assignee = getattr(source, "assignee", None)
    if assignee:
        ref = ctx.directory.resolve(assignee)
        if ref is not None:
            fields["assignee"] = ref
        else:
            warnings.append(ctx.directory.warning(assignee, f"{item.spec.path}:{source.line}"))
    if isinstance(source, Story):
        warnings.extend(_missing_prs(item, source, ctx))
    if item.state:
        fields["state"] = item.state
    if item.priority:
        fields["priority"] = item.priority
    return Rendered(fields, warnings)


def _missing_prs(item: Item, story: Story, ctx: RenderContext) -> list[str]:
    found = []
    for number in item.pull_requests():
        if number in ctx.missing_prs:
            state = "does not exist"
        elif number in ctx.recorded_missing:  # not checked in this run (no request)
            state = "was missing"
        else:
            continue
        line = next((ref.line for ref in story.pull_requests if ref.number == number), story.line)
        found.append(f"{item.spec.path}:{line or story.line}: pull request #{number} ({item.key}) {state} "
                     f"in {ctx.full_name}; not linked - checked again when the issue is next written, "
                     "or with --recheck-pull-requests (check the number)")
    return found


def needed_names(items: list[Item], ctx: RenderContext) -> dict[str, set[str]]:
    """The milestone, component and version names these items will render."""
    names: dict[str, set[str]] = {"milestone": set(), "component": set(), "version": set()}
    for item in items:
        source = item.source
        if isinstance(source, Epic):
            if ctx.epic_mode == "issue" and source.milestone:
                names["milestone"].add(source.milestone)
            continue
        milestone = story_milestone(item)
        if milestone:
            names["milestone"].add(milestone)
        if isinstance(source, Story):
            if source.component:
                names["component"].add(source.component)
            if source.version:
                names["version"].add(source.version)
    return names
