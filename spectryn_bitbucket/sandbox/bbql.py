"""The subset of BBQL (Bitbucket's ``q=`` filter language) the sandbox understands.

Grammar::

    query      := or_expr
    or_expr    := and_expr ("OR" and_expr)*
    and_expr   := term ("AND" term)*
    term       := "(" or_expr ")" | comparison
    comparison := FIELD OP VALUE          OP: = != ~ !~ > < >= <=
    VALUE      := "string" | number | null | true | false

``AND`` / ``OR`` may be written in any case, as Bitbucket accepts (its docs use ``and``).
FIELD is a dotted path into the API object (``id``, ``title``, ``milestone.name``,
``content.raw``...). ``~`` / ``!~`` are case-insensitive "contains". A malformed query raises
:class:`ApiError` 400, as Bitbucket answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import ApiError

Predicate = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<op>!=|!~|>=|<=|=|~|>|<)
    | (?P<paren>[()])
    | (?P<number>-?\d+(?:\.\d+)?)(?![\w.])
    | (?P<word>[A-Za-z_][\w.]*)
    )""", re.VERBOSE)


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
        elif kind == "number":
            tokens.append(("value", float(text) if "." in text else int(text)))
        elif kind == "word" and text.upper() in ("AND", "OR"):  # keywords in either case
            tokens.append((text.upper(), text))
        elif kind == "word" and text in ("null", "true", "false"):
            tokens.append(("value", {"null": None, "true": True, "false": False}[text]))
        else:
            tokens.append((kind, text))
    return tokens


def _invalid(query: str, why: str) -> ApiError:
    return ApiError(400, f"Invalid query: {why}", f"Query was: {query}")


def resolve(obj: Any, path: str) -> Any:
    """The value at a dotted ``path`` in ``obj`` (None when any step is missing)."""
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op in ("~", "!~"):
        contains = (actual is not None and expected is not None
                    and str(expected).lower() in str(actual).lower())
        return contains if op == "~" else not contains
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    if actual is None or expected is None:
        return False
    if isinstance(actual, (int, float)) != isinstance(expected, (int, float)):
        actual, expected = str(actual), str(expected)
    if op == ">":
        return actual > expected
    if op == "<":
        return actual < expected
    if op == ">=":
        return actual >= expected
    return actual <= expected


class _Parser:
    def __init__(self, query: str):
        self.query = query
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
        field = self.take("word")
        op = self.take("op")
        value = self.take("value")
        return lambda obj: _compare(resolve(obj, field), op, value)


def parse(query: str) -> Predicate:
    """Compile a BBQL query into a predicate over API objects; 400 ApiError when malformed."""
    if not query.strip():
        return lambda obj: True
    return _Parser(query).parse()
