"""BBQL, Bitbucket's ``q=`` filter and ``sort=`` language, as its documentation describes it.

Source: "Filter and sort API objects" (the ``x-atlassian-narrative`` of Atlassian's OpenAPI text)::

    query      := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := term ("AND" term)*
    term       := "(" or_expr ")" | FIELD OP VALUE | FIELD ("IN" | "NOT IN") "(" VALUE ("," VALUE)* ")"
    OP         := = != ~ !~ > >= < <=
    VALUE      := "string" | number | null | true | false | datetime (unquoted ISO-8601: the
                  timezone offset, milliseconds and time being optional; UTC when no offset)

Keywords in any case (the docs' own example writes ``and``). ``~``/``!~`` are case-insensitive
"contains". Each collection has a :class:`Schema`: the fields that can be filtered and sorted and
their types. An object field compared with a value means its name (``component = "UI"``), or its
raw text (``content ~ "unicode"``); an account (``assignee``, ``reporter``) can only be compared
with ``null``, its ``nickname``/``uuid``/``account_id``/``display_name`` with values (filtering
by username left the API for privacy). ``priority`` compares and sorts by rank (trivial < minor
< major < critical < blocker: ``priority >= "major"`` is the docs' example). A list field
(``reviewers``) matches when one of its elements does.

Errors are 400s: a malformed query (``Invalid query: ...``), a field the object does not have
(``Issue has no field named 'foo'``, the wording users quote from the real service), one it has
but cannot filter on (``Field "links.self" does not support filtering``, BCLOUD-22361), a value
of the wrong type. Where the documentation is silent (which fields are filterable beyond the
documented examples; a quoted datetime; a value of the wrong type) the sandbox takes the
stricter answer: an error, not an empty page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import ApiError

Predicate = Callable[[dict[str, Any]], bool]

TEXT, NUMBER, DATETIME, BOOL, RANK = "text", "number", "datetime", "boolean", "rank"
PRIORITY_RANK = {name: rank for rank, name in enumerate(("trivial", "minor", "major", "critical", "blocker"))}
#: What an account can be filtered by (its username is gone from the API).
ACCOUNT_FIELDS = ("nickname", "uuid", "account_id", "display_name")


@dataclass(frozen=True)
class Schema:
    """The filterable fields of one kind of object.

    ``fields``: dotted path -> type; ``names``: an object path -> the path its value comparisons
    mean (``component`` -> ``component.name``); ``accounts``: paths of embedded accounts (``= null``
    only; their :data:`ACCOUNT_FIELDS` are filterable); ``fixed``: paths the object has that cannot
    be filtered (a prefix covers what is below it)."""

    name: str
    fields: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)
    accounts: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ("type", "links")

    def lookup(self, path: str) -> tuple[str, str]:
        """(the path compared, its type) for a query's field; 400 when it cannot be filtered."""
        path = self.names.get(path, path)
        if path in self.fields:
            return path, self.fields[path]
        if path in self.accounts:
            return path, "account"
        head, _, tail = path.rpartition(".")
        if head in self.accounts and tail in ACCOUNT_FIELDS:
            return path, TEXT
        if any(path == f or path.startswith(f + ".") for f in self.fixed):
            raise ApiError(400, f'Field "{path}" does not support filtering')
        raise ApiError(400, f"{self.name} has no field named '{path}'")


def _account_paths(*names: str) -> dict[str, str]:
    return {f"{n}.{f}": TEXT for n in names for f in ACCOUNT_FIELDS}


ISSUE = Schema("Issue", {
    "id": NUMBER, "title": TEXT, "state": TEXT, "kind": TEXT, "priority": RANK,
    "content.raw": TEXT, "content.markup": TEXT, "milestone.name": TEXT, "component.name": TEXT,
    "version.name": TEXT, "created_on": DATETIME, "updated_on": DATETIME, "edited_on": DATETIME,
    "votes": NUMBER, "watches": NUMBER,
}, names={"content": "content.raw", "milestone": "milestone.name", "component": "component.name",
          "version": "version.name"},
    accounts=("assignee", "reporter"),
    fixed=("type", "links", "content.html", "content.type", "repository", "milestone.id", "component.id",
           "version.id", "milestone.links", "component.links", "version.links"))

COMMENT = Schema("Comment", {
    "id": NUMBER, "content.raw": TEXT, "content.markup": TEXT, "created_on": DATETIME,
    "updated_on": DATETIME, "issue.id": NUMBER, "pullrequest.id": NUMBER, "deleted": BOOL,
}, names={"content": "content.raw"}, accounts=("user",),
    fixed=("type", "links", "content.html", "content.type", "issue", "pullrequest", "inline", "parent"))

CHANGE = Schema("IssueChange", {
    "id": NUMBER, "created_on": DATETIME, "issue.id": NUMBER, "message.raw": TEXT,
    **{f"changes.{f}.{side}": TEXT
       for f in ("title", "content", "state", "kind", "priority", "milestone", "component", "version",
                 "assignee", "assignee_account_id", "attachment") for side in ("old", "new")},
}, names={"message": "message.raw"}, accounts=("user",),
    fixed=("type", "links", "message.html", "message.type", "message.markup", "issue"))

MEMBERSHIP = Schema("WorkspaceMembership", {"workspace.slug": TEXT, "workspace.uuid": TEXT},
                    accounts=("user",), fixed=("type", "links", "workspace"))

REPOSITORY = Schema("Repository", {
    "name": TEXT, "slug": TEXT, "full_name": TEXT, "uuid": TEXT, "is_private": BOOL,
    "has_issues": BOOL, "has_wiki": BOOL, "scm": TEXT, "mainbranch.name": TEXT, "workspace.slug": TEXT,
}, fixed=("type", "links", "workspace", "mainbranch"))

CATALOG_ENTRY = Schema("Milestone", {"id": NUMBER, "name": TEXT})

PULL_REQUEST = Schema("PullRequest", {
    "id": NUMBER, "title": TEXT, "description": TEXT, "state": TEXT, "created_on": DATETIME,
    "updated_on": DATETIME, "comment_count": NUMBER, "task_count": NUMBER, "close_source_branch": BOOL,
    "source.branch.name": TEXT, "destination.branch.name": TEXT, "source.commit.hash": TEXT,
    "destination.commit.hash": TEXT, "merge_commit.hash": TEXT,
    "source.repository.full_name": TEXT, "destination.repository.full_name": TEXT,
    "participants.role": TEXT, "participants.approved": BOOL, "participants.state": TEXT,
    **_account_paths("participants.user"),
}, names={"summary": "summary.raw"}, accounts=("author", "reviewers", "closed_by"),
    fixed=("type", "links", "summary", "rendered", "source", "destination", "merge_commit",
           "participants", "reason"))


# ------------------------------------------------------------------------------------ lexing
_DATETIME = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_TOKEN = re.compile(rf"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<datetime>{_DATETIME})(?![\w:.+-])
    | (?P<op>!=|!~|>=|<=|=|~|>|<)
    | (?P<paren>[()])
    | (?P<comma>,)
    | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
    | (?P<word>[A-Za-z_][\w.]*)
    )""", re.VERBOSE)


@dataclass(frozen=True)
class _Datetime:
    moment: datetime


def parse_datetime(text: str) -> datetime:
    """An ISO-8601 date time as BBQL reads it (UTC unless it names an offset)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _tokenize(query: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    query = query.rstrip()
    while pos < len(query):
        match = _TOKEN.match(query, pos)
        if match is None or match.end() == pos or match.lastgroup is None:
            raise _invalid(query, f"unexpected character at position {pos}")
        pos = match.end()
        kind = match.lastgroup
        text = match.group(kind)
        if kind == "string":
            tokens.append(("value", re.sub(r"\\(.)", r"\1", text[1:-1])))
        elif kind == "datetime":
            try:
                tokens.append(("value", _Datetime(parse_datetime(text))))
            except ValueError:
                raise _invalid(query, f"{text} is not a valid datetime") from None
        elif kind == "number":
            tokens.append(("value", float(text) if "." in text else int(text)))
        elif kind == "word" and text.upper() in ("AND", "OR", "IN", "NOT"):  # keywords in any case
            tokens.append((text.upper(), text))
        elif kind == "word" and text in ("null", "true", "false"):
            tokens.append(("value", {"null": None, "true": True, "false": False}[text]))
        else:
            tokens.append((kind, text))
    return tokens


def _invalid(query: str, why: str) -> ApiError:
    return ApiError(400, f"Invalid query: {why}", f"Query was: {query}")


# ------------------------------------------------------------------------------------ values
def values_at(obj: Any, path: str) -> list[Any]:
    """Every value at a dotted ``path`` (lists are walked element by element); [None] when absent."""
    found: list[Any] = [obj]
    for part in path.split("."):
        step: list[Any] = []
        for item in found:
            items = item if isinstance(item, list) else [item]
            step.extend(i.get(part) for i in items if isinstance(i, dict))
        found = step
    flat: list[Any] = []
    for item in found:
        flat.extend(item if isinstance(item, list) else [item])
    return flat or [None]


def _typed(query: str, path: str, kind: str, value: Any) -> Any:
    """The literal as compared with a field of ``kind``; 400 when it cannot be."""
    if value is None:
        return None
    wrong = {
        TEXT: not isinstance(value, str), RANK: value not in PRIORITY_RANK,
        NUMBER: isinstance(value, bool) or not isinstance(value, (int, float)),
        DATETIME: not isinstance(value, _Datetime), BOOL: not isinstance(value, bool),
        "account": True,
    }[kind]
    if wrong:
        shown = value.moment.isoformat() if isinstance(value, _Datetime) else repr(value)
        expected = {TEXT: "a string", RANK: "one of " + ", ".join(f'"{p}"' for p in PRIORITY_RANK),
                    NUMBER: "a number", DATETIME: "an unquoted datetime such as 2015-10-04T14:00:00-07:00",
                    BOOL: "true or false", "account": "null (or compare one of its fields)"}[kind]
        raise ApiError(400, f"Invalid value {shown} for field \"{path}\": expected {expected}",
                       f"Query was: {query}")
    if kind == RANK:
        return PRIORITY_RANK[value]
    if kind == DATETIME:
        return value.moment
    return value


def comparable(kind: str, actual: Any) -> Any:
    """A field's value as compared and sorted (ranks for priority, datetimes parsed)."""
    if actual is None or actual == "" and kind != TEXT:
        return None
    if kind == RANK:
        return PRIORITY_RANK.get(actual)
    if kind == DATETIME and isinstance(actual, str):
        return parse_datetime(actual)
    return actual


def _matches(kind: str, actual: Any, op: str, expected: Any) -> bool:
    value = comparable(kind, actual)
    if kind == "account":
        value = actual if actual else None
    if op in ("~", "!~"):
        return value is not None and expected is not None and str(expected).lower() in str(value).lower()
    if op == "=":
        return value == expected
    if value is None or expected is None:
        return False
    if op == ">":
        return bool(value > expected)
    if op == "<":
        return bool(value < expected)
    if op == ">=":
        return bool(value >= expected)
    return bool(value <= expected)


NEGATED = {"!=": "=", "!~": "~", "NOT IN": "IN"}


class _Parser:
    def __init__(self, query: str, schema: Schema):
        self.query = query
        self.schema = schema
        self.tokens = _tokenize(query)
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str) -> Any:
        token = self.peek()
        if token is None or token[0] != kind:
            found = "end of query" if token is None else repr(token[1])
            raise _invalid(self.query, f"expected {kind}, found {found}")
        self.pos += 1
        return token[1]

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if (token := self.peek()) is not None:
            raise _invalid(self.query, f"unexpected {token[1]!r}")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while (token := self.peek()) is not None and token[0] == "OR":
            self.pos += 1
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda obj: any(p(obj) for p in parts))

    def and_expr(self) -> Predicate:
        parts = [self.term()]
        while (token := self.peek()) is not None and token[0] == "AND":
            self.pos += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else (lambda obj: all(p(obj) for p in parts))

    def term(self) -> Predicate:
        token = self.peek()
        if token is not None and token == ("paren", "("):
            self.pos += 1
            inner = self.or_expr()
            self.take("paren")
            return inner
        name = self.take("word")
        path, kind = self.schema.lookup(name)
        op = self.operator()
        literals = self.value_list() if op in ("IN", "NOT IN") else [self.take("value")]
        if op in ("~", "!~") and kind != TEXT:
            raise ApiError(400, f"Invalid query: the operator {op} needs a text field, and \"{path}\" is not one",
                           f"Query was: {self.query}")
        expected = [_typed(self.query, path, kind, v) for v in literals]
        positive = NEGATED.get(op, op)
        compare = "=" if positive == "IN" else positive

        def test(obj: dict[str, Any]) -> bool:
            found = any(_matches(kind, actual, compare, e) for actual in values_at(obj, path) for e in expected)
            return not found if op in NEGATED else found
        return test

    def operator(self) -> str:
        token = self.peek()
        if token is not None and token[0] == "IN":
            self.pos += 1
            return "IN"
        if token is not None and token[0] == "NOT":
            self.pos += 1
            self.take("IN")
            return "NOT IN"
        return str(self.take("op"))

    def value_list(self) -> list[Any]:
        if self.take("paren") != "(":
            raise _invalid(self.query, "expected ( after IN")
        values = [self.take("value")]
        while (token := self.peek()) is not None and token[0] == "comma":
            self.pos += 1
            values.append(self.take("value"))
        if self.take("paren") != ")":
            raise _invalid(self.query, "expected ) to close the list")
        return values


def parse(query: str, schema: Schema) -> Predicate:
    """Compile a BBQL query against ``schema`` into a predicate over API documents; 400 ApiError
    when it is malformed or names a field that cannot be filtered."""
    if not query.strip():
        return lambda obj: True
    return _Parser(query, schema).parse()


def sort_key(sort: str, schema: Schema) -> tuple[Callable[[Any], tuple[bool, Any]], bool]:
    """(the key, reversed) of ``sort=field`` / ``sort=-field``; 400 for a field that cannot be
    sorted on ("every field that can be queried can also be used as a key for sorting"; one field
    only)."""
    name = sort[1:] if sort.startswith("-") else sort
    if not name or "," in name:
        raise ApiError(400, f"Invalid sort: {sort!r}", "Sort on one field, e.g. sort=-updated_on.")
    path, kind = schema.lookup(name)
    if kind == "account":
        raise ApiError(400, f'Field "{path}" does not support sorting', "Sort on one of its fields, e.g. "
                       f"{path}.display_name.")

    def key(obj: Any) -> tuple[bool, Any]:
        value = comparable(kind, values_at(obj, path)[0])
        return (value is not None, value if value is not None else 0)
    return key, sort.startswith("-")


def apply(items: Iterable[Any], query: str | None, sort: str | None, schema: Schema,
          view: Callable[[Any], dict[str, Any]] = lambda x: x) -> list[Any]:
    """``q=`` then ``sort=`` on a collection, looking at ``view(item)`` of each."""
    result = list(items)
    if query:
        predicate = parse(query, schema)
        result = [item for item in result if predicate(view(item))]
    if sort:
        key, descending = sort_key(sort, schema)
        result = sorted(result, key=lambda item: key(view(item)), reverse=descending)
    return result
