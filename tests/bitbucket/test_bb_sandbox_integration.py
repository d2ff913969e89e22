"""The tracker hooks over real HTTP against the sandbox (no CLI: the lead's e2e tests do that)."""

from __future__ import annotations

import math

import pytest
from bb_helpers import items_of, sample_spec

from spectryn_bitbucket import tracker
from spectryn_bitbucket.client import BitbucketClient
from spectryn_bitbucket.config import settings_from_section
from spectryn_core.errors import TrackerError

sandbox_mod = pytest.importorskip("spectryn_bitbucket.sandbox")


@pytest.fixture
def start(tmp_path):
    started = []

    def factory(**options):
        sb = sandbox_mod.Sandbox(data=tmp_path / f"sb{len(started)}.json", **options).start()
        started.append(sb)
        return sb

    yield factory
    for sb in started:
        sb.stop()


def connect(sb, **extra) -> tracker.BitbucketConnection:
    settings = settings_from_section({"workspace": "sandbox", "repo": "demo", "access_token": "sandbox-token",
                                      "base_url": sb.base_url, "rate_limit": 0, "retries": 5, **extra})
    return tracker.BitbucketConnection(settings, BitbucketClient(settings, backoff=0.01))


def sync(conn) -> dict[str, int]:
    """A minimal engine: read, create missing parents first, update what differs; returns writes."""
    items = items_of(sample_spec())
    refs = {r.key: r for r in tracker.read_items(conn, items)}
    for item in items:
        rendered = tracker.render_item(conn, item, refs)
        if rendered.skip:
            continue
        remote = refs.get(item.key)
        if remote is None:
            refs[item.key] = tracker.create_item(conn, item, rendered.fields)
            continue
        changes = {k: v for k, v in rendered.fields.items() if remote.fields.get(k) != v}
        if changes:
            refs[item.key] = tracker.update_item(conn, item, remote, changes)
    return conn.request_count()


def test_first_sync_then_noop(start) -> None:
    sb = start(milestones=["Q1 2024"], components=["Frontend"])
    first = sync(connect(sb))
    assert first["write"] == 4  # 2 stories + 2 subtasks, each written once
    conn = connect(sb)
    again = sync(conn)
    assert again["write"] == 0
    assert again["read"] <= math.ceil(4 / 100) + 3
    remotes = {r.key: r for r in tracker.read_items(connect(sb), items_of(sample_spec()))}
    assert remotes["US-001"].fields["milestone"] == "Q1 2024"
    assert "- US-001.1: " in remotes["US-001"].fields["content"]
    assert f"Parent: #{remotes['US-001'].id} US-001" in remotes["US-001.1"].fields["content"]


def test_base_is_carried_by_the_issue_and_kept_content_gets_the_new_base(start) -> None:
    sb = start(milestones=["Q1 2024"], components=["Frontend"])
    conn = connect(sb)
    items = {i.key: i for i in items_of(sample_spec())}
    story = items["US-002"]
    fields = tracker.render_item(conn, story, {}).fields
    created = tracker.create_item(conn, story, fields, {"title": "11111111", "content": "22222222"})
    assert created.base == {"title": "11111111", "content": "22222222"}
    assert created.fields["content"] == fields["content"]  # the base line is not content
    # a person edits the content; an update of the title alone re-embeds the base into it
    raw = sb.store.issue(int(created.id))["content_raw"]
    edited = "Edited by a person\n\n" + raw.rsplit("\n", 1)[1]  # the base line stays
    sb.store.update_issue(int(created.id), {"content": {"raw": edited}}, sb.account("person").user)
    remote = {r.key: r for r in tracker.read_items(connect(sb), list(items.values()))}["US-002"]
    tracker.update_item(conn, story, remote, {"title": "US-002: New"}, {"title": "33333333"})
    again = {r.key: r for r in tracker.read_items(connect(sb), list(items.values()))}["US-002"]
    assert again.base == {"title": "33333333"}
    assert again.fields["content"] == remote.fields["content"] == "Edited by a person"


def test_ambiguous_creates_do_not_duplicate(start) -> None:
    sb = start(milestones=["Q1 2024"], components=["Frontend"], ambiguous_rate=0.5, seed=7)
    sync(connect(sb))
    remotes = tracker.read_items(connect(sb), items_of(sample_spec()))
    keys = [r.key for r in remotes]
    assert sorted(keys) == ["US-001", "US-001.1", "US-001.2", "US-002"]


def test_missing_milestone_is_warned_then_assigned(start, tmp_path) -> None:
    sb = start(components=["Frontend"])
    conn = connect(sb)
    items = items_of(sample_spec())
    tracker.read_items(conn, items)
    rendered = tracker.render_item(conn, {i.key: i for i in items}["US-002"], {})
    assert "milestone" not in rendered.fields  # the issue keeps what it has until the name exists
    assert "milestone 'Q1 2024' does not exist in sandbox/demo" in rendered.warnings[0]


def test_server_mode_says_no_issue_tracker(start) -> None:
    sb = start(server_mode=True)
    with pytest.raises(TrackerError, match="This server has no issue tracker"):
        tracker.read_items(connect(sb), items_of(sample_spec()))


def test_adapter_pr_search_covers_every_state_and_the_exact_number(start):
    from spectryn_bitbucket import BitbucketAdapter

    sb = start(pull_requests=range(1, 121))
    prs = sb.store.data["pull_requests"]
    prs["3"].update(title="Fix login (#5)", state="MERGED")
    prs["4"].update(title="Unrelated", description="Closes #5.", state="DECLINED")
    prs["6"].update(title="Fix #50")  # not #5
    prs["7"].update(title="Fix #5", state="OPEN")
    for n in range(60, 120):  # more than one page of 50 matches of ~ "#5"
        prs[str(n)].update(title=f"Follow-up of #5{n}")
    adapter = BitbucketAdapter(access_token=sb.token, workspace="sandbox", repo="demo",
                               base_url=sb.base_url, rate_limit=0)
    issue = adapter.client.call("POST", adapter.connection.issues_path(), "issue",
                                json={"title": "x"})
    assert issue["id"] == 1
    for n in range(2, 6):
        adapter.client.call("POST", adapter.connection.issues_path(), "issue", json={"title": f"{n}"})
    found = adapter.get_pull_requests_for_issue("#5")
    assert [(pr["id"], pr["state"]) for pr in found] == [(3, "MERGED"), (4, "DECLINED"), (7, "OPEN")]
    adapter.close()


def test_server_mode_accepts_basic_username_and_token(start):
    sb = start(server_mode=True, workspace="PROJ", repo="web")
    settings = settings_from_section({"workspace": "PROJ", "repo": "web", "username": "john",
                                      "app_password": sb.token, "base_url": sb.base_url, "rate_limit": 0})
    assert settings.auth_kind == "server_basic"
    conn = tracker.BitbucketConnection(settings, BitbucketClient(settings, backoff=0.01))
    assert conn.ensure_repository()["slug"] == "web"
    with pytest.raises(TrackerError, match="no issue tracker"):
        tracker.read_items(conn, [])
