"""A line-based three-way merge of text, with diff3's rules (as ``git merge-file`` applies them).

Given the text both sides last agreed on (``base``) and each side's text now (``tracker``, ``spec``),
the lines all three keep unchanged split the texts into stable and unstable chunks. In an unstable
chunk, a change made on one side only is taken; the same change made on both sides is taken once;
different changes - also two changes next to each other with no unchanged line between them, or
two insertions at one place - are a conflict, which keeps the three versions of the chunk.

Lines are matched with :class:`difflib.SequenceMatcher` (``autojunk`` off: blank lines are common
in markdown and must still match). Pure functions; nothing here knows about trackers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Side = Literal["base", "tracker", "spec", "both", "conflict"]


@dataclass(frozen=True)
class Chunk:
    """One piece of a merge: the lines of each version it covers, and what the merge took.

    ``taken`` is ``base`` (nobody changed it), ``tracker`` or ``spec`` (that side changed it),
    ``both`` (both made the same change) or ``conflict`` (they changed it differently).
    ``line`` is the chunk's first line in the base (1-based)."""

    base: tuple[str, ...]
    tracker: tuple[str, ...]
    spec: tuple[str, ...]
    taken: Side
    line: int = 1

    @property
    def lines(self) -> tuple[str, ...]:
        """The merged lines of a chunk without conflict."""
        if self.taken == "conflict":
            raise ValueError("a conflicting chunk has no merged lines")
        return self.spec if self.taken in ("spec", "both") else self.tracker


@dataclass(frozen=True)
class Merge:
    """The outcome of :func:`merge3`: every chunk in order (together they cover each of the
    three texts exactly, so no line of any side is ever lost)."""

    chunks: tuple[Chunk, ...]

    @property
    def clean(self) -> bool:
        """True when no chunk conflicts."""
        return all(chunk.taken != "conflict" for chunk in self.chunks)

    @property
    def conflicts(self) -> list[Chunk]:
        """The chunks the two sides changed differently."""
        return [chunk for chunk in self.chunks if chunk.taken == "conflict"]

    @property
    def text(self) -> str:
        """The merged text; only for a clean merge (:attr:`clean`)."""
        if not self.clean:
            raise ValueError("the merge has conflicts")
        return "\n".join(line for chunk in self.chunks for line in chunk.lines)

    def resolved(self, side: Literal["tracker", "spec"]) -> str:
        """The merged text with each conflict settled for ``side`` (its version of the chunk),
        the other side's changes elsewhere kept (``git merge -X ours`` / ``-X theirs``)."""
        return "\n".join(line for chunk in self.chunks
                         for line in (getattr(chunk, side) if chunk.taken == "conflict" else chunk.lines))

    def marked(self, tracker: str = "tracker", base: str = "base", spec: str = "spec") -> str:
        """The merge with each conflict written as git writes it in diff3 style
        (``<<<<<<< tracker``, ``||||||| base``, ``=======``, ``>>>>>>> spec``)."""
        out: list[str] = []
        for chunk in self.chunks:
            if chunk.taken != "conflict":
                out.extend(chunk.lines)
                continue
            out.append(f"<<<<<<< {tracker}")
            out.extend(chunk.tracker)
            out.append(f"||||||| {base}")
            out.extend(chunk.base)
            out.append("=======")
            out.extend(chunk.spec)
            out.append(f">>>>>>> {spec}")
        return "\n".join(out)


def merge3(base: str, tracker: str, spec: str) -> Merge:
    """Merge the edits ``base -> tracker`` and ``base -> spec`` line by line (see the module)."""
    return merge_lines(_lines(base), _lines(tracker), _lines(spec))


def _lines(text: str) -> list[str]:
    return text.split("\n") if text else []


def _matches(base: Sequence[str], other: Sequence[str]) -> dict[int, int]:
    """Base line index -> the index of the same line in ``other``, for the lines kept."""
    matcher = SequenceMatcher(None, base, other, autojunk=False)
    found: dict[int, int] = {}
    for start, other_start, size in matcher.get_matching_blocks():
        for offset in range(size):
            found[start + offset] = other_start + offset
    return found


def merge_lines(base: Sequence[str], tracker: Sequence[str], spec: Sequence[str]) -> Merge:
    """:func:`merge3` on lists of lines."""
    in_tracker = _matches(base, tracker)
    in_spec = _matches(base, spec)
    chunks: list[Chunk] = []
    o = t = s = 0
    while True:
        stable = 0  # lines kept in the same order by both sides from here on
        while (o + stable < len(base) and in_tracker.get(o + stable) == t + stable
               and in_spec.get(o + stable) == s + stable):
            stable += 1
        if stable:
            lines = tuple(base[o:o + stable])
            chunks.append(Chunk(lines, lines, lines, "base", o + 1))
            o, t, s = o + stable, t + stable, s + stable
            continue
        # the next base line both sides still have: the end of this unstable chunk
        end = next((i for i in range(o, len(base)) if i in in_tracker and i in in_spec), None)
        if end is None:
            end_o, end_t, end_s = len(base), len(tracker), len(spec)
        else:
            end_o, end_t, end_s = end, in_tracker[end], in_spec[end]
        if (end_o, end_t, end_s) == (o, t, s):
            break
        chunks.append(_unstable(tuple(base[o:end_o]), tuple(tracker[t:end_t]), tuple(spec[s:end_s]),
                                o + 1))
        o, t, s = end_o, end_t, end_s
        if end is None:
            break
    return Merge(tuple(chunks))


def _unstable(base: tuple[str, ...], tracker: tuple[str, ...], spec: tuple[str, ...], line: int) -> Chunk:
    if tracker == spec:
        taken: Side = "both" if tracker != base else "base"
    elif tracker == base:
        taken = "spec"
    elif spec == base:
        taken = "tracker"
    else:
        taken = "conflict"
    return Chunk(base, tracker, spec, taken, line)
