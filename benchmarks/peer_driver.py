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
3. create what is not matched: stories with the adapter's ``BitbucketApiClient.create_issue`` (the
   adapter has no method that creates a story issue), subtasks with ``BitbucketAdapter.create_subtask``;
4. update what is matched but differs: ``update_issue_description`` / ``update_subtask``.

What this driver does that the peer's own orchestrator (``SyncOrchestrator``) does not:

- it creates the stories that match no issue; the orchestrator only warns "Could not match story"
  and creates nothing for them (it creates subtasks, under matched stories only);
- it matches subtasks by title in the one listing; the orchestrator GETs each matched story
  (``_fetch_existing_subtasks``), one more read per story than counted here;
- it is called per step through the Python API, because the peer's CLI rejects ``--markdown``.

Its client throttles to 0.3 requests per second by default (1080 an hour - more than Bitbucket's
1000 per rolling hour) and answers a 429 with 3 retries of 1, 2 and 4 s before raising. By default
this script turns the throttle off for a like-for-like wall time (as ``run.py`` runs ours
unpaced); ``--throttle`` keeps it as shipped. ``--time-scale F`` divides the throttle interval and
the retry delays by F, for runs against a sandbox whose rate-limit window is scaled down by F.

Usage (from run.py): ``peer-venv/bin/python peer_driver.py sync SPEC --base-url URL [--dry-run]
[--throttle] [--time-scale F]`` or ``peer_driver.py parse SPEC``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from typing import Any

from spectryn.adapters.bitbucket import BitbucketAdapter
from spectryn.adapters.parsers.markdown import MarkdownParser

# The sandbox's default "person" account: an Atlassian account email and its API token (HTTP
# Basic, what the peer's username/app_password keywords send; app passwords are gone).
WORKSPACE, REPO, USER, TOKEN = "sandbox", "demo", "alice@example.com", "sandbox-person-token"
PAGE = 100  # the largest page Bitbucket serves; search_issues reads only this one page


def story_body(story: Any) -> str:
    """The issue content the driver writes for a story (its description and criteria)."""
    parts = [story.description.to_markdown() if story.description else ""]
    criteria = getattr(story.acceptance_criteria, "items", ()) or ()
    parts += [f"- [ ] {item}" for item in criteria]
    return "\n".join(parts)


def subtask_key(story: Any, subtask: Any) -> str:
    return f"{story.id}.{subtask.number}"


def pace(client: Any, throttle: bool, scale: float) -> None:
    """The peer client's throttle as shipped (``throttle``) or off; times divided by ``scale``."""
    client._min_request_interval = client._min_request_interval / scale if throttle else 0.0
    if not throttle:
        client._requests_per_second = None
    client.initial_delay = client.initial_delay / scale
    client.max_delay = client.max_delay / scale


def sync(spec: str, base_url: str, dry_run: bool, throttle: bool = False, scale: float = 1.0) -> dict[str, Any]:
    """One sync step; returns what it did."""
    stories = MarkdownParser().parse_stories(spec)
    adapter = BitbucketAdapter(username=USER, app_password=TOKEN, workspace=WORKSPACE, repo=REPO,
                               dry_run=dry_run, base_url=base_url)
    client = adapter._client  # one client, one throttle, as the adapter's own calls have
    pace(client, throttle, scale)
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
    cli.add_argument("--throttle", action="store_true", help="keep the client's 0.3 requests/s throttle")
    cli.add_argument("--time-scale", type=float, default=1.0, help="divide its waits by this factor")
    args = cli.parse_args(argv)
    if args.action == "parse":
        result = parse(args.spec)
    else:
        try:
            result = sync(args.spec, args.base_url, args.dry_run, args.throttle, args.time_scale)
        except Exception as error:  # e.g. its RateLimitError after 3 retries: the run stops
            print(json.dumps({"error": f"{type(error).__name__}: {error}"[:300]}))
            return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
