"""Drive the peer tool (``spectryn`` 1.0.0 from PyPI) the way a user of its Python API would.

Runs inside the peer's own virtual environment (``benchmarks/work/peer-venv``), never ours: it
imports only the peer's package and the standard library. ``benchmarks/run.py`` calls it once per
step, as a separate process, exactly as it calls our CLI.

The peer's documented command (``spectryn --markdown EPIC.md --tracker bitbucket``) is rejected by
its own CLI in 1.0.0, so this script does what its sync orchestrator does, through its public
Bitbucket classes:

1. parse the spec with its ``MarkdownParser``;
2. list the repository's issues (``BitbucketAdapter.search_issues``; the orchestrator's
   ``get_epic_children`` reads the same single page) and match stories by title with the
   peer's own ``UserStory.matches_title``;
3. create what is not matched: stories with ``BitbucketApiClient.create_issue`` (the adapter has
   no method that creates a story issue), subtasks with ``BitbucketAdapter.create_subtask``;
4. update what is matched but differs: ``update_issue_description`` / ``update_subtask``.

Its client throttles to 0.3 requests per second by default; for a like-for-like wall time this
script turns that off (as ``run.py`` turns ours off with ``BITBUCKET_RATE_LIMIT=0``).

Usage (from run.py): ``peer-venv/bin/python peer_driver.py sync SPEC --base-url URL [--dry-run]``
or ``peer_driver.py parse SPEC``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from typing import Any

from spectryn.adapters.bitbucket import BitbucketAdapter, BitbucketApiClient
from spectryn.adapters.parsers.markdown import MarkdownParser

WORKSPACE, REPO, USER, TOKEN = "sandbox", "demo", "bench", "sandbox-token"
PAGE = 100  # the largest page Bitbucket serves; search_issues reads only this one page


def story_body(story: Any) -> str:
    """The issue content the driver writes for a story (its description and criteria)."""
    parts = [story.description.to_markdown() if story.description else ""]
    criteria = getattr(story.acceptance_criteria, "items", ()) or ()
    parts += [f"- [ ] {item}" for item in criteria]
    return "\n".join(parts)


def subtask_key(story: Any, subtask: Any) -> str:
    return f"{story.id}.{subtask.number}"


def sync(spec: str, base_url: str, dry_run: bool) -> dict[str, Any]:
    """One sync step; returns what it did."""
    stories = MarkdownParser().parse_stories(spec)
    adapter = BitbucketAdapter(username=USER, app_password=TOKEN, workspace=WORKSPACE, repo=REPO,
                               dry_run=dry_run, base_url=base_url)
    adapter._client._min_request_interval = 0.0  # its default 0.3 req/s throttle, off (see docstring)
    client = BitbucketApiClient(username=USER, app_password=TOKEN, workspace=WORKSPACE, repo=REPO,
                                base_url=base_url, dry_run=dry_run, requests_per_second=None)
    existing = adapter.search_issues("", max_results=PAGE)
    by_title = {issue.summary: issue for issue in existing}
    done = {"created": 0, "updated": 0, "matched": 0, "listed": len(existing)}
    for story in stories:
        title = f"{story.id}: {story.title}"
        body = story_body(story)
        match = next((i for i in existing if story.matches_title(i.summary)), None)
        if match is None:
            created = client.create_issue(title=title, content=body, kind="enhancement")
            parent = f"#{created.get('id')}" if created.get("id") else None
            done["created"] += 1
        else:
            parent = match.key
            done["matched"] += 1
            if match.description != body:
                adapter.update_issue_description(match.key, body)
                done["updated"] += 1
        for subtask in story.subtasks:
            sub_title = f"{subtask_key(story, subtask)}: {subtask.name}"
            sub_match = by_title.get(sub_title)
            if sub_match is None:
                if parent is None:  # dry-run: the story was not created, nothing to hang it on
                    done["created"] += 1
                    continue
                adapter.create_subtask(parent, sub_title, subtask.description or "", REPO,
                                       story_points=subtask.story_points)
                done["created"] += 1
            else:
                done["matched"] += 1
                wanted = f"Parent: {parent}\n\n{subtask.description or ''}"
                if sub_match.description != wanted:
                    adapter.update_subtask(sub_match.key, description=wanted)
                    done["updated"] += 1
    done["stories"] = len(stories)
    return done


def parse(spec: str) -> dict[str, Any]:
    """Parse time (stories/s) and tracemalloc peak of the peer's markdown parser."""
    parser = MarkdownParser()
    start = time.perf_counter()
    stories = parser.parse_stories(spec)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    parser.parse_stories(spec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"stories": len(stories), "subtasks": sum(len(s.subtasks) for s in stories),
            "seconds": seconds, "stories_per_second": len(stories) / seconds,
            "peak_mib": peak / 2**20}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``sync SPEC --base-url URL [--dry-run]`` or ``parse SPEC``."""
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("action", choices=("sync", "parse"))
    cli.add_argument("spec")
    cli.add_argument("--base-url")
    cli.add_argument("--dry-run", action="store_true")
    args = cli.parse_args(argv)
    result = parse(args.spec) if args.action == "parse" else sync(args.spec, args.base_url, args.dry_run)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
