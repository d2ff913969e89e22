"""The sandbox's command-line options, apart from the server so that ``spectryn``'s own parser can
offer ``spectryn bitbucket sandbox --help`` without importing the server (start-up time)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _numbers(text: str) -> list[int]:
    """``"1-10,42"`` -> [1, ..., 10, 42]."""
    numbers: list[int] = []
    try:
        for part in _names(text):
            low, _, high = part.partition("-")
            numbers.extend(range(int(low), int(high or low) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers and ranges like 1-10,42, got {text!r}") from None
    return numbers


def _credential(text: str) -> tuple[str, str]:
    """``"alice@example.com:TOKEN"`` -> (email, token)."""
    email, sep, token = text.partition(":")
    if not sep or "@" not in email or not token:
        raise argparse.ArgumentTypeError(f"expected EMAIL:TOKEN (an Atlassian account email and an API token), got {text!r}")
    return email, token


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1, got {text}")
    return value


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the sandbox's options to ``parser`` (used by ``spectryn bitbucket sandbox``)."""
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--data", type=Path, default=None, help="JSON file keeping the sandbox's data across runs")
    parser.add_argument("--workspace", default="sandbox", help="workspace (project key in server mode)")
    parser.add_argument("--repo", default="demo", help="repository slug")
    parser.add_argument("--token", default="sandbox-token",
                        help="the sync's access token (Bearer only; server mode: also a Basic password)")
    parser.add_argument("--token-level", choices=("repository", "project", "workspace"), default="repository",
                        help="kind of access token --token is (default repository; only a workspace "
                             "token may list workspace members)")
    parser.add_argument("--token-scopes", type=_names, default=None,
                        help="the access token's scopes, comma-separated legacy names (default "
                             "issue:write,repository,pullrequest:write; workspace tokens add account)")
    parser.add_argument("--person", type=_credential, default=None, metavar="EMAIL:TOKEN",
                        help="API token of the workspace member 'person' (default "
                             "alice@example.com:sandbox-person-token; HTTP Basic only)")
    parser.add_argument("--stranger", type=_credential, default=None, metavar="EMAIL:TOKEN",
                        help="API token of 'stranger', an account that is not a member (default "
                             "sam@example.net:sandbox-stranger-token)")
    parser.add_argument("--public", action="store_true",
                        help="the repository is public: anyone reads it; a stranger may create issues "
                             "and comments and edit its own (default: private, as Bitbucket)")
    parser.add_argument("--milestones", type=_names, default=[], help="comma-separated milestone names")
    parser.add_argument("--components", type=_names, default=[], help="comma-separated component names")
    parser.add_argument("--versions", type=_names, default=[], help="comma-separated version names")
    parser.add_argument("--pull-requests", type=_numbers, default=list(range(1, 11)),
                        help="pull request ids that exist, e.g. 1-10,42 (default 1-10)")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay added to every API request")
    parser.add_argument("--fail-rate", type=_rate, default=0.0, help="fraction answered 500/502/503, not applied")
    parser.add_argument("--drop-rate", type=_rate, default=0.0,
                        help="fraction whose connection is closed without an answer (POSTs: applied half the time)")
    parser.add_argument("--ambiguous-rate", type=_rate, default=0.0, help="fraction of POSTs applied but answered 502")
    parser.add_argument("--rate-limit", type=int, default=None, help="at most N API requests per --rate-window and credential (each API-token user, each access token)")
    parser.add_argument("--anonymous-rate-limit", type=int, default=60,
                        help="at most N unauthenticated (or refused) requests per --rate-window, as "
                             "Bitbucket's 60 an hour per address (0: none)")
    parser.add_argument("--rate-window", type=float, default=3600.0, help="rate limit window in seconds (default 3600)")
    parser.add_argument("--retry-after", dest="retry_after", action="store_true", default=False,
                        help="add a Retry-After header to 429 answers (Bitbucket Cloud sends none)")
    parser.add_argument("--no-retry-after", dest="retry_after", action="store_false",
                        help="answer 429 without a Retry-After header (the default, as Bitbucket Cloud)")
    parser.add_argument("--server-mode", action="store_true",
                        help="act as Bitbucket Data Center (REST 1.0 repos and pull requests; no issue tracker)")
    parser.add_argument("--no-issues", dest="has_issues", action="store_false",
                        help="the repository's issue tracker is disabled")
    parser.add_argument("--admin-hub", action="store_true",
                        help="the workspace is administered in Atlassian Administration: it cannot have "
                             "an issue tracker")
    parser.add_argument("--lenient-pagelen", action="store_true",
                        help="old behaviour: cap pagelen at the maximum (Bitbucket: 400 Invalid pagelen)")
    parser.add_argument("--bearer-only", action="store_true",
                        help="server mode: accept only Bearer tokens (Data Center also accepts Basic)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the fault injection's random numbers")
    parser.add_argument("--members", type=_names, default=[],
                        help="comma-separated nicknames of workspace members (assignable users)")
    parser.add_argument("--pipelines-proxy", type=int, default=None, metavar="PORT",
                        help="also listen as the Bitbucket Pipelines auth proxy on this port (0: any free "
                             "one): plain http, no credential, Code Insights reports only")
    return parser
