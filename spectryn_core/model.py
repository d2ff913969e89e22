"""The domain model: what a spec says, independent of markdown and of any tracker.

A :class:`Spec` holds :class:`Epic` objects (Aha!: releases); an epic holds :class:`Story`
objects (Aha!: features); a story holds :class:`Subtask` objects (Aha!: requirements) and the
comments, attachments, links, commits and pull-request references written next to it.

Parser plugins build these objects; tracker plugins read them. Status and priority are kept as the
spec's *normalised* words (``"in progress"``, ``"high"``); the mapper hooks turn them into a
tracker's vocabulary.

The small values a story holds (:class:`Criterion`, :class:`Comment`, :class:`Attachment`,
:class:`Link`, :class:`PullRequestRef`, :class:`Commit`, :class:`Section`) and
:class:`SpecProblem` are values: compared and hashed by their fields, and never changed once built
- build a new one (``dataclasses.replace``) instead of assigning to a field. They are not
``frozen`` dataclasses only because a frozen one costs an ``object.__setattr__`` per field to build
(a reader builds a dozen per story: about 2.3x the time of this ``slots=True, unsafe_hash=True``
form); nothing in spectryn assigns to them, and their hash would be wrong after such an assignment.
Every model class uses ``__slots__``: set only the fields declared here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: Status words every mapper must understand (parsers normalise aliases onto these).
STATUSES: tuple[str, ...] = ("open", "in progress", "in review", "done", "closed", "blocked")
#: Priority words every mapper must understand.
PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "critical")
#: A story or epic key (``US-001``, ``MY_PROJ-7``): parsers accept these and trackers find items
#: by them, so both must use this one pattern. A subtask's key adds ``.N``.
KEY_PATTERN = r"[A-Z][A-Z0-9_]*-\d+"


@dataclass(slots=True, unsafe_hash=True)
class Criterion:
    """One acceptance criterion (a checklist line) and whether it is ticked.

    ``children`` are the criteria nested under it (``  - [x] PayPal`` under ``- [ ] Payment
    method``), each with its own state. ``checkbox`` is False for an item written without
    ``[ ]``/``[x]``: a nested one is then a plain note under its parent, not a criterion of its own.
    """

    text: str
    done: bool = False
    children: tuple[Criterion, ...] = ()
    checkbox: bool = True


@dataclass(slots=True, unsafe_hash=True)
class Comment:
    """A comment written in the spec; added to the tracker once, never edited or deleted."""

    body: str
    author: str | None = None
    date: str | None = None


@dataclass(slots=True, unsafe_hash=True)
class Attachment:
    """A local file attached to a story. ``path`` is resolved (absolute) by the parser."""

    name: str
    path: Path


@dataclass(slots=True, unsafe_hash=True)
class Link:
    """A relation to another item, e.g. ``Link("blocks", "US-002")``."""

    type: str
    target: str


@dataclass(slots=True, unsafe_hash=True)
class PullRequestRef:
    """A pull request the spec mentions: ``PR #456`` / ``Pull Request 456`` (``repository`` None:
    the tracker's own repository), or a URL (``repository`` from its path, ``workspace/repo``;
    a tracker links it only when that is its own repository). ``line``: where it is first written."""

    number: int
    repository: str | None = None
    line: int = 0


@dataclass(slots=True, unsafe_hash=True)
class Commit:
    """A commit related to a story."""

    sha: str
    message: str = ""


#: What a :class:`Section` of a story holds (the reader's section names; ``other`` for a heading
#: it does not know, ``description`` also for the text before the first section heading).
SECTION_KINDS: tuple[str, ...] = ("description", "criteria", "notes", "subtasks", "comments",
                                  "attachments", "links", "commits", "other")


@dataclass(slots=True, unsafe_hash=True)
class Section:
    """One section of a story as written, in file order: how a tracker lays out the content.

    ``kind`` is one of :data:`SECTION_KINDS`; ``title`` the heading's text as written (markdown,
    ``""`` for the text before the first heading); ``text`` the section's markdown that no field
    took (all of it for a description, notes or unknown section; for the others what their reader
    left, such as a sentence after the commits table), as written. The structured content of a
    section (criteria, subtasks, links, commits) is in the story's fields.
    """

    kind: str
    title: str = ""
    text: str = ""
    line: int = 0


@dataclass(slots=True)
class Subtask:
    """A subtask of a story (Aha!: a requirement). It becomes a tracker item of its own.

    ``number`` is the author's number from the ``#`` column, or the 1-based position in the
    table when there is none; the subtask's key is derived from it, so it stays stable.
    """

    number: int
    title: str
    description: str = ""
    story_points: float | None = None
    status: str | None = None
    priority: str | None = None
    assignee: str | None = None
    line: int = 0
    parent_key: str = ""

    @property
    def key(self) -> str:
        """The subtask's own key: the parent story's key, a dot and its number (``US-001.2``)."""
        return f"{self.parent_key}.{self.number}"


@dataclass(slots=True)
class Story:
    """A user story (Aha!: a feature)."""

    key: str
    title: str
    line: int = 0
    description: str = ""
    acceptance_criteria: list[Criterion] = field(default_factory=list)
    technical_notes: str = ""
    story_points: float | None = None
    priority: str | None = None
    status: str | None = None
    milestone: str | None = None
    component: str | None = None
    version: str | None = None
    assignee: str | None = None
    labels: list[str] = field(default_factory=list)
    kind: str | None = None
    subtasks: list[Subtask] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    commits: list[Commit] = field(default_factory=list)
    pull_requests: list[PullRequestRef] = field(default_factory=list)
    epic_key: str | None = None
    #: The story's sections in the order written (see :class:`Section`). ``description`` above
    #: holds the same free text in one piece, unknown sections appended under their headings.
    sections: list[Section] = field(default_factory=list)


@dataclass(slots=True)
class Epic:
    """An epic (Aha!: a release). ``key`` is None for an epic written without one."""

    title: str
    key: str | None = None
    line: int = 0
    milestone: str | None = None
    status: str | None = None
    description: str = ""
    stories: list[Story] = field(default_factory=list)


@dataclass(slots=True, unsafe_hash=True)
class SpecProblem:
    """A problem found while reading a spec, reported as ``file:line: message`` (``file: message``
    for a problem of the whole file, ``line`` 0)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass(slots=True)
class Spec:
    """A parsed spec file. ``errors`` is empty when the file can be synced.

    ``warnings`` never block a sync: what was read in a way the author may not expect (a story
    key written ``US_002`` read as ``US-002``) or text that looks like metadata and was not read.
    """

    path: Path
    epics: list[Epic] = field(default_factory=list)
    errors: list[SpecProblem] = field(default_factory=list)
    warnings: list[SpecProblem] = field(default_factory=list)
    #: The spec's own words for a status or priority it normalised: ``(key, "status")`` ->
    #: ``"📋 Planned"`` (read as ``"open"``), only where the words differ from the normalised
    #: value. A plan quotes them ("the spec still says ..."); parsers may leave it empty.
    written: dict[tuple[str, str], str] = field(default_factory=dict)

    def stories(self) -> list[Story]:
        """Every story of every epic, in file order."""
        return [story for epic in self.epics for story in epic.stories]
