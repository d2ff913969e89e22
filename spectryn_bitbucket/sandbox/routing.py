"""Request / response values and the route table type shared by the endpoint modules."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .downloads import Downloads
from .errors import ApiError

if TYPE_CHECKING:
    from .accounts import Account, Accounts, Caller
    from .faults import Faults
    from .scopes import Needs
    from .shapes import Site
    from .stats import Stats
    from .store import Store


@dataclass
class Context:
    """Everything an endpoint needs besides the request: the data and the sandbox's settings."""

    store: Store
    faults: Faults
    stats: Stats
    workspace: str
    repo: str
    token: str
    has_issues: bool
    server_mode: bool
    #: The workspace is administered in Atlassian Administration: no issue tracker is possible.
    admin_hub: bool = False
    #: Old behaviour: a pagelen above the maximum is capped (real: 400 "Invalid pagelen").
    lenient_pagelen: bool = False
    #: Old behaviour: the Data Center mode accepts only Bearer (real: Basic too).
    bearer_only: bool = False
    #: Who may call (Cloud): the accounts by handle (see accounts.py). None: only ``token``.
    accounts: Accounts | None = None
    #: One-time attachment download links handed out (see downloads.py).
    downloads: Downloads = field(default_factory=lambda: Downloads())
    #: The repository is public: anyone may read it, and any account may create issues and
    #: comments (editing only its own); private (Bitbucket's default): members only.
    public: bool = False


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    params: dict[str, str]
    param_lists: dict[str, list[str]]
    headers: Any  # email.message.Message from http.server
    body: bytes
    site: Site
    ctx: Context
    #: Who sent it (Cloud API requests; anonymous otherwise).
    caller: Caller | None = None

    @property
    def account(self) -> Account | None:
        """The authenticated account, or None for an anonymous request."""
        return self.caller.account if self.caller is not None else None

    def json(self) -> Any:
        """The body parsed as JSON; 400 when it is not JSON."""
        if not self.body:
            return {}
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError(400, "Bad request", f"The request body is not valid JSON: {exc}") from None


@dataclass
class Response:
    """What to answer: ``body`` is JSON-able, raw bytes, or None for an empty body."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


Endpoint = Callable[..., Response]

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")
_TYPES = {"int": r"\d+", "path": r".+", "ver": r"1\.0|latest", None: r"[^/]+"}


class Route:
    """A path template like ``/2.0/repositories/{ws}/{repo}/issues/{id:int}`` and its methods.

    ``stats_template`` is the template as counted in the stats: integer parameters become ``{id}``,
    ``ver`` parameters keep their value, others keep their name. ``needs`` maps a method to the
    scopes it requires (see scopes.py); a method not in it needs none.
    """

    def __init__(self, template: str, methods: dict[str, Endpoint], not_allowed_detail: str | None = None,
                 needs: dict[str, Needs] | None = None):
        self.template = template
        self.methods = methods
        self.not_allowed_detail = not_allowed_detail
        self.needs = needs or {}
        self.converters: dict[str, Callable[[str], Any]] = {}
        pattern = ""
        last = 0
        for match in _PLACEHOLDER.finditer(template):
            name, kind = match.group(1), match.group(2)
            pattern += re.escape(template[last:match.start()]) + f"(?P<{name}>{_TYPES[kind]})"
            self.converters[name] = int if kind == "int" else unquote
            last = match.end()
        pattern += re.escape(template[last:])
        self.regex = re.compile(pattern + r"/?\Z")
        self._kinds = {m.group(1): m.group(2) for m in _PLACEHOLDER.finditer(template)}

    def match(self, path: str) -> dict[str, Any] | None:
        """The converted path parameters when ``path`` matches, else None."""
        found = self.regex.match(path)
        if found is None:
            return None
        return {name: self.converters[name](value) for name, value in found.groupdict().items()}

    def stats_template(self, params: dict[str, Any]) -> str:
        """The template for the stats, e.g. ``/2.0/repositories/{ws}/{repo}/issues/{id}``."""
        def show(match: re.Match[str]) -> str:
            name, kind = match.group(1), match.group(2)
            if kind == "int":
                return "{id}"
            if kind == "ver":
                return str(params.get(name, "1.0"))
            return "{" + name + "}"
        return _PLACEHOLDER.sub(show, self.template)


def find_route(routes: list[Route], path: str) -> tuple[Route, dict[str, Any]] | None:
    """The first route matching ``path`` with its parameters."""
    for route in routes:
        params = route.match(path)
        if params is not None:
            return route, params
    return None
