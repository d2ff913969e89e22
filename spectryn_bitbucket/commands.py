"""``spectryn bitbucket repos`` and ``spectryn bitbucket sandbox``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from spectryn_bitbucket import config as bb_config
from spectryn_bitbucket import errors


def add_commands(subparsers: Any) -> None:
    """Register ``bitbucket repos`` and ``bitbucket sandbox`` on the ``spectryn`` parser."""
    parser = subparsers.add_parser(
        "bitbucket", help="Bitbucket helpers: list repositories, run the sandbox",
        description="Bitbucket helpers: list the workspace's repositories, run the local sandbox.",
        epilog="examples:\n  spectryn bitbucket repos --bitbucket-workspace acme\n"
               "  spectryn bitbucket sandbox --port 7990")
    sub = parser.add_subparsers(dest="bitbucket_command", metavar="{repos,sandbox}")
    sub.required = True

    repos = sub.add_parser(
        "repos", help="list the workspace's repositories and whether their issue tracker is on",
        description="List the workspace's repositories and whether their issue tracker is on.",
        epilog="example:\n  spectryn bitbucket repos --bitbucket-workspace acme --output json")
    bb_config.add_options(repos)
    repos.add_argument("--output", dest="sync.output", choices=("text", "json"), default=None,
                       help="text (default) or one JSON object on stdout")
    repos.set_defaults(func=run_repos)

    sandbox = sub.add_parser(
        "sandbox", help="run the local Bitbucket sandbox server",
        description="Run the local Bitbucket sandbox on 127.0.0.1, for trying things and for CI.",
        epilog="example:\n  spectryn bitbucket sandbox --port 7990 --data sandbox.json")
    try:
        from spectryn_bitbucket.sandbox.options import add_sandbox_arguments
    except ImportError:
        sandbox.add_argument("sandbox_argv", nargs=argparse.REMAINDER, help="arguments of the sandbox")
    else:
        add_sandbox_arguments(sandbox)
    sandbox.set_defaults(func=run_sandbox)


def run_sandbox(args: argparse.Namespace, app: Any) -> int:
    """Delegate to :mod:`spectryn_bitbucket.sandbox.server`."""
    from spectryn_bitbucket.sandbox import server

    if hasattr(args, "sandbox_argv"):
        return int(server.main(args.sandbox_argv) or 0)
    return int(server.run_from_args(args) or 0)


def repository_lines(settings: bb_config.BitbucketSettings, client: Any) -> list[str]:
    """One line per repository of the workspace (project on a server): slug, name, tracker."""
    ws = settings.workspace
    lines: list[str] = []
    if settings.mode == "server":
        url = f"{settings.server_root}/rest/api/1.0/projects/{ws}/repos"
        start: int | None = 0
        while start is not None:
            page = client.get(url, f"repositories of project {ws}", params={"limit": 100, "start": start},
                              not_found=lambda: errors.workspace_not_found(ws, "server")) or {}
            for repo in page.get("values", []):
                lines.append(f"{repo.get('slug')}\t{repo.get('name', '')}\tissue tracker: none (Data Center)")
            start = None if page.get("isLastPage", True) else page.get("nextPageStart")
        return lines
    values = client.paginate(
        f"/repositories/{ws}", f"repositories of workspace {ws}",
        params={"fields": "values.slug,values.name,values.has_issues,next", "sort": "slug"},
        not_found=lambda: errors.workspace_not_found(ws, "cloud"),
    )
    for repo in values:
        state = "on" if repo.get("has_issues") else "off"
        lines.append(f"{repo.get('slug')}\t{repo.get('name', '')}\tissue tracker: {state}")
    return lines


def run_repos(args: argparse.Namespace, app: Any) -> int:
    """``spectryn bitbucket repos``: needs credentials and a workspace, not a repo."""
    from spectryn_bitbucket.client import BitbucketClient

    config = app.load_config(args, tracker="bitbucket")
    values = dict(config.section(bb_config.SECTION) or {})
    values["repo"] = values.get("repo") or "-"
    settings = bb_config.settings_from_section(values, state_dir=bb_config.state_dir_of(config))
    client = BitbucketClient(settings)
    try:
        lines = repository_lines(settings, client)
    finally:
        client.close()
    if config.get("sync.output") == "json":
        rows = [dict(zip(("slug", "name", "issue_tracker"), line.split("\t"), strict=True)) for line in lines]
        for row in rows:
            row["issue_tracker"] = row["issue_tracker"].split(": ", 1)[1].split()[0]
        print(json.dumps({"workspace": settings.workspace, "repositories": rows}, indent=2))
        return 0
    if not lines:
        print(f"no repositories visible in {settings.workspace}", file=sys.stderr)
        return 0
    for line in lines:
        print(line)
    return 0
