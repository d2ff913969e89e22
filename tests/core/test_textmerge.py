"""The three-way text merge (spectryn_core/textmerge.py): diff3's rules, as properties and examples."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from spectryn_core.textmerge import merge3, merge_lines

# few distinct lines, so that texts repeat lines (blank lines, "- ☐ ..." bullets) as issue text does
LINE = st.sampled_from(["", "a", "b", "c", "- ☐ x", "- ☑ x", "## H", "text"])
TEXT = st.lists(LINE, max_size=12).map("\n".join)


@given(TEXT, TEXT)
def test_a_side_that_did_not_change_takes_the_other(base: str, other: str) -> None:
    assert merge3(base, base, other).text == other
    assert merge3(base, other, base).text == other


@given(TEXT, TEXT)
def test_the_same_change_on_both_sides_is_taken_once(base: str, other: str) -> None:
    assert merge3(base, other, other).text == other


@given(TEXT, TEXT, TEXT)
@settings(max_examples=300)
def test_no_line_of_any_version_is_ever_lost(base: str, tracker: str, spec: str) -> None:
    """The chunks cover each version exactly: a conflict keeps all three."""
    merge = merge3(base, tracker, spec)
    for name, text in (("base", base), ("tracker", tracker), ("spec", spec)):
        joined = [line for chunk in merge.chunks for line in getattr(chunk, name)]
        assert joined == (text.split("\n") if text else []), name
    if merge.clean:
        taken = [line for chunk in merge.chunks for line in chunk.lines]
        assert "\n".join(taken) == merge.text


def _resolve(marked: str, keep: str) -> list[str]:
    """The marked text with every conflict resolved to one of its sections."""
    out: list[str] = []
    section = None
    for line in marked.split("\n") if marked else []:
        if line.startswith("<<<<<<< "):
            section = "tracker"
        elif line.startswith("||||||| "):
            section = "base"
        elif line == "=======" and section == "base":
            section = "spec"
        elif line.startswith(">>>>>>> "):
            section = None
        elif section is None or section == keep:
            out.append(line)
    return out


@given(TEXT, TEXT, TEXT)
def test_the_marked_text_holds_all_three_versions_of_each_conflict(base: str, tracker: str, spec: str) -> None:
    merge = merge3(base, tracker, spec)
    marked = merge.marked()
    for keep in ("tracker", "base", "spec"):
        expected = [line for chunk in merge.chunks
                    for line in (getattr(chunk, keep) if chunk.taken == "conflict" else chunk.lines)]
        assert _resolve(marked, keep) == expected


@st.composite
def apart(draw: st.DrawFn) -> tuple[list[str], list[str], list[str], list[str]]:
    """A base of distinct lines, an edit of one region for the tracker and of a later region for
    the spec, with at least one untouched line between them; and the expected merge."""
    size = draw(st.integers(min_value=3, max_value=14))
    base = [f"line {n}" for n in range(size)]
    t0 = draw(st.integers(0, size - 2))
    t1 = draw(st.integers(t0, min(size - 2, t0 + 3)))
    s0 = draw(st.integers(t1 + 1, size - 1))
    s1 = draw(st.integers(s0, min(size, s0 + 3)))
    tracker_new = [f"PM {n}" for n in range(draw(st.integers(0, 3)))]
    spec_new = [f"spec {n}" for n in range(draw(st.integers(0, 3)))]
    if t0 == t1 and not tracker_new:
        tracker_new = ["PM note"]
    if s0 == s1 and not spec_new:
        spec_new = ["spec note"]
    tracker = base[:t0] + tracker_new + base[t1:]
    spec = base[:s0] + spec_new + base[s1:]
    expected = base[:t0] + tracker_new + base[t1:s0] + spec_new + base[s1:]
    if draw(st.booleans()):  # the spec's edit first
        return base, spec, tracker, expected
    return base, tracker, spec, expected


@given(apart())
@settings(max_examples=300)
def test_edits_apart_both_survive(case: tuple[list[str], list[str], list[str], list[str]]) -> None:
    base, tracker, spec, expected = case
    merge = merge_lines(base, tracker, spec)
    assert merge.clean
    assert merge.text == "\n".join(expected)


def test_a_pm_paragraph_and_a_spec_edit_of_the_criteria() -> None:
    base = "**As a** shopper\n\n## Acceptance Criteria\n\n- ☐ Pay by card\n- ☐ Receipt by mail\n\nLabels: story"
    tracker = base.replace("Labels: story", "PM note: please also support Apple Pay\n\nLabels: story")
    spec = base.replace("- ☐ Receipt by mail", "- ☑ Receipt by mail\n- ☐ Receipt as PDF")
    merge = merge3(base, tracker, spec)
    assert merge.clean
    assert merge.text == ("**As a** shopper\n\n## Acceptance Criteria\n\n- ☐ Pay by card\n- ☑ Receipt by mail\n"
                          "- ☐ Receipt as PDF\n\nPM note: please also support Apple Pay\n\nLabels: story")


def test_one_line_changed_differently_is_a_conflict_with_three_versions() -> None:
    merge = merge3("a\nb\nc", "a\nB1\nc", "a\nB2\nc")
    assert not merge.clean
    [chunk] = merge.conflicts
    assert (chunk.base, chunk.tracker, chunk.spec, chunk.line) == (("b",), ("B1",), ("B2",), 2)
    assert merge.marked() == "a\n<<<<<<< tracker\nB1\n||||||| base\nb\n=======\nB2\n>>>>>>> spec\nc"


def test_adjacent_changes_conflict_as_in_git() -> None:
    """git merge-file: changes with no unchanged line between them overlap."""
    assert not merge3("a\nb\nc\nd", "a\nB\nc\nd", "a\nb\nC\nd").clean
    assert merge3("a\nb\nc\nd\ne", "a\nB\nc\nd\ne", "a\nb\nc\nD\ne").text == "a\nB\nc\nD\ne"


def test_two_insertions_at_one_place_conflict() -> None:
    merge = merge3("a\nb", "a\nX\nb", "a\nY\nb")
    assert [(c.base, c.tracker, c.spec) for c in merge.conflicts] == [((), ("X",), ("Y",))]


def test_a_conflicting_merge_has_no_text() -> None:
    merge = merge3("a", "b", "c")
    try:
        merge.text  # noqa: B018 - the property raises
    except ValueError:
        pass
    else:
        raise AssertionError("a conflict has no merged text")
