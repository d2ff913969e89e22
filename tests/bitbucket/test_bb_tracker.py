"""Tracker hooks over requests-mock: read budget, create without duplicates, extras, errors."""

from __future__ import annotations

import math

import pytest
import requests
from bb_helpers import API, REPO, FakeConfig, connection, issue_json, items_of, sample_spec

from spectryn_bitbucket import plugin, tracker
from spectryn_bitbucket.render import remote_item, render_comment
from spectryn_core.errors import ConfigError, ItemError, TrackerError
from spectryn_core.items import Account, RemoteItem, comment_digest
from spectryn_core.model import Attachment, Comment


def mock_repo(m, has_issues=True):
    m.get(REPO, json={"full_name": "acme/backend-api", "has_issues": has_issues})


def test_open_tracker_checks_config_and_sends_nothing(requests_mock) -> None:
    conn = plugin.open_tracker(FakeConfig({"workspace": "acme", "repo": "r", "access_token": "t"}))
    assert conn.tracker == "bitbucket" and conn.target == "bitbucket.org/acme/r"
    assert requests_mock.call_count == 0 and conn.request_count() == {"read": 0, "write": 0}
    with pytest.raises(ConfigError) as info:
        plugin.open_tracker(FakeConfig({"workspace": "acme", "repo": "r"}))
    assert "BITBUCKET_API_TOKEN" in info.value.message and "BITBUCKET_ACCESS_TOKEN" in info.value.message
    with pytest.raises(ConfigError) as info:
        plugin.open_tracker(FakeConfig({"access_token": "t"}))
    assert "BITBUCKET_WORKSPACE" in info.value.message and "BITBUCKET_REPO" in info.value.message


def test_noop_read_budget_for_many_items(requests_mock) -> None:
    """250 stories: the full listing (too many keys for BBQL); names seen on issues need no list."""
    from pathlib import Path

    from spectryn_core.items import Item
    from spectryn_core.model import Epic, Spec, Story

    spec = Spec(path=Path("E.md"))
    stories = [Story(key=f"US-{n:03d}", title=f"S{n}") for n in range(1, 251)]
    spec.epics.append(Epic(title="E", milestone="Q1 2024", stories=stories))
    items = [Item("story", s.key, s.title, s, spec) for s in stories]
    issues = [issue_json(n, {"title": f"US-{n:03d}: S{n}", "milestone": "Q1 2024"}) for n in range(1, 251)]
    issues.append(issue_json(251, {"title": "unrelated bug"}))
    mock_repo(requests_mock)
    pages = [issues[i:i + 100] for i in range(0, len(issues), 100)]
    for index, page in enumerate(pages):
        body = {"values": page}
        if index + 1 < len(pages):
            body["next"] = f"{REPO}/issues?page={index + 2}"
        requests_mock.get(f"{REPO}/issues" + (f"?page={index + 1}" if index else ""), json=body)
    conn = connection()
    remotes = tracker.read_items(conn, items)
    assert len(remotes) == 250 and remotes[0].key == "US-001" and remotes[0].id == "1"
    assert conn.request_count() == {"read": len(pages), "write": 0}  # no GET of the repository
    assert conn.request_count()["read"] <= math.ceil(len(items) / 100) + 1
    first = requests_mock.request_history[0]
    assert "q" not in first.qs and "values.content.raw" in first.qs["fields"][0]


def test_few_keys_use_bbql_and_lists_load_only_for_unseen_names(requests_mock) -> None:
    items = items_of(sample_spec())
    mock_repo(requests_mock)
    requests_mock.get(f"{REPO}/issues", json={"values": [
        issue_json(12, {"title": "US-001: Login Feature"}),
        issue_json(13, {"title": "US-001.1: Login form"}),
        issue_json(14, {"title": "US-001.9: Removed subtask"}),
        issue_json(15, {"title": "US-0012: Other story"}),
        issue_json(11, {"title": "US-001: Login Feature (older duplicate)"}),
    ]})
    requests_mock.get(f"{REPO}/milestones", json={"values": [{"name": "Q1 2024"}]})
    requests_mock.get(f"{REPO}/components", json={"values": [{"name": "Backend"}]})
    # PR #456 is named by US-001 and no base confirms it linked: checked once
    requests_mock.get(f"{REPO}/pullrequests/456", json={"id": 456})
    conn = connection()
    found = tracker.read_items(conn, items)
    # every issue on its own, in id order: the engine picks the one to keep among twins
    assert [(r.key, r.id) for r in found] == [("US-001", "11"), ("US-001", "12"),
                                              ("US-001.1", "13"), ("US-001.9", "14")]
    assert conn.context.missing_prs == set()
    remotes = {r.key: r for r in reversed(found)}
    query = requests_mock.request_history[0].qs["q"][0]
    assert 'title ~ "us-001"' in query and " or " in query  # (requests-mock lower-cases qs)
    # the spec file's issues are found by their base line in the same request
    assert f'content.raw ~ "spectryn:1 f={items[0].origin.lower()}"' in query
    assert conn.context.milestones_complete and conn.context.components_complete
    assert not conn.context.versions_complete
    rendered = tracker.render_item(conn, {i.key: i for i in items}["US-001"], remotes)
    assert "component" not in rendered.fields and "component 'Frontend'" in rendered.warnings[0]


def test_repository_errors_tell_workspace_from_repo(requests_mock) -> None:
    requests_mock.get(f"{REPO}/issues", status_code=404)
    requests_mock.get(REPO, status_code=404)
    requests_mock.get(f"{API}/workspaces/acme", status_code=404)
    with pytest.raises(TrackerError, match="Workspace not found: acme"):
        tracker.read_items(connection(), [])
    requests_mock.get(f"{API}/workspaces/acme", json={"slug": "acme"})
    with pytest.raises(TrackerError, match="Repository not found: acme/backend-api"):
        tracker.read_items(connection(), [])


def test_disabled_issue_tracker(requests_mock) -> None:
    mock_repo(requests_mock, has_issues=False)
    requests_mock.get(f"{REPO}/issues", status_code=404, json={"type": "error", "error": {
        "message": "Repository acme/backend-api does not have the issue tracker enabled"}})
    with pytest.raises(TrackerError) as info:
        tracker.read_items(connection(), [])
    assert info.value.message == "Issue tracker switched off in acme/backend-api"
    assert "Repository settings -> Issue tracker" in info.value.hint


def test_workspace_that_cannot_have_a_tracker(requests_mock) -> None:
    mock_repo(requests_mock, has_issues=False)
    requests_mock.get(f"{REPO}/issues", status_code=404, json={"type": "error", "error": {
        "message": "Issue Tracker features are not supported for repositories in workspaces "
                   "administered through admin.atlassian.com"}})
    with pytest.raises(TrackerError) as info:
        tracker.read_items(connection(), [])
    assert info.value.message == ("acme/backend-api cannot have an issue tracker: its workspace is "
                                  "administered in Atlassian Administration (admin.atlassian.com)")
    assert "cannot be switched on" in info.value.hint


def test_server_mode_has_no_issue_tracker(requests_mock) -> None:
    base = "https://bb.corp.test/rest/api/2.0"
    requests_mock.get("https://bb.corp.test/rest/api/1.0/projects/acme/repos/backend-api", json={"slug": "backend-api"})
    requests_mock.get(f"{base}/repositories/acme/backend-api/issues", status_code=404)
    conn = connection(base_url=base, access_token="pat")
    with pytest.raises(TrackerError) as info:
        tracker.read_items(conn, items_of(sample_spec()))
    assert info.value.message.startswith("This server has no issue tracker")


def test_create_after_ambiguous_failure_finds_the_issue(requests_mock) -> None:
    items = {i.key: i for i in items_of(sample_spec())}
    requests_mock.post(f"{REPO}/issues", exc=requests.exceptions.ConnectionError("reset"))
    requests_mock.get(f"{REPO}/issues", json={"values": [issue_json(21, {"title": "US-0010: Other"}),
                                                          issue_json(20, {"title": "US-002: Logout"})]})
    conn = connection()
    remote = tracker.create_item(conn, items["US-002"], {"title": "US-002: Logout", "content": "x"})
    assert remote.id == "20" and remote.key == "US-002"
    assert requests_mock.request_history[-1].qs["q"] == ['title ~ "us-002:"']
    assert [r.method for r in requests_mock.request_history].count("POST") == 1


def test_create_sends_markdown_and_parses_the_response(requests_mock) -> None:
    items = {i.key: i for i in items_of(sample_spec())}
    requests_mock.post(f"{REPO}/issues", status_code=201,
                       json=issue_json(30, {"title": "US-002: Logout", "content": "x", "milestone": "Q1 2024"}))
    remote = tracker.create_item(connection(), items["US-002"],
                                 {"title": "US-002: Logout", "content": "x", "milestone": "Q1 2024", "component": None})
    sent = requests_mock.last_request.json()
    assert sent["content"] == {"raw": "x", "markup": "markdown"} and sent["milestone"] == {"name": "Q1 2024"}
    assert "component" not in sent
    assert remote.id == "30" and remote.fields["milestone"] == "Q1 2024"
    assert remote.url.endswith("/issues/30")


def test_update_puts_only_the_changes(requests_mock) -> None:
    items = {i.key: i for i in items_of(sample_spec())}
    requests_mock.put(f"{REPO}/issues/12", json=issue_json(12, {"title": "US-001: New"}))
    remote = tracker.update_item(connection(), items["US-001"], RemoteItem("US-001", "12"), {"title": "US-001: New"})
    assert requests_mock.last_request.json() == {"title": "US-001: New"}
    assert remote.fields["title"] == "US-001: New"


def test_read_extras_matches_comments_attachments_and_pr_marker(requests_mock, tmp_path) -> None:
    spec = sample_spec()
    story = spec.epics[0].stories[0]
    (tmp_path / "a.png").write_bytes(b"png")
    story.comments = [Comment("Done", "alice", "2025-01-15"), Comment("New one", "bob")]
    story.attachments = [Attachment("a.png", tmp_path / "a.png"), Attachment("b.pdf", tmp_path / "b.pdf")]
    item = {i.key: i for i in items_of(spec)}["US-001"]
    remote = RemoteItem("US-001", "12")
    requests_mock.get(f"{REPO}/issues/12/comments", json={"values": [{"content": {"raw": "**@alice** (2025-01-15):\n\nDone\n"}}]})
    requests_mock.get(f"{REPO}/issues/12/attachments", json={"values": [{"name": "a.png"}]})
    requests_mock.get(f"{REPO}/pullrequests/456/comments",
                      json={"values": [{"content": {"raw": f"Related issue: {tracker.pr_marker(item, remote)}"}}]})
    present = tracker.read_extras(connection(), item, remote)
    extras = {e.ident: e for e in item.extras()}
    assert present == {i for i, e in extras.items() if e.payload in (story.comments[0], story.attachments[0], 456)}


def test_add_comment_looks_before_reposting(requests_mock) -> None:
    item = {i.key: i for i in items_of(sample_spec())}["US-001"]
    requests_mock.post(f"{REPO}/issues/12/comments", status_code=503)
    requests_mock.get(f"{REPO}/issues/12/comments", json={"values": [{"content": {"raw": "**@alice**:\n\nHi"}}]})
    assert tracker.add_comment(connection(), item, RemoteItem("US-001", "12"), Comment("Hi", "alice"))
    assert [r.method for r in requests_mock.request_history] == ["POST", "GET"]


def test_upload_streams_multipart_files_field(requests_mock, tmp_path) -> None:
    item = {i.key: i for i in items_of(sample_spec())}["US-001"]
    path = tmp_path / "mockup.png"
    path.write_bytes(b"\x89PNG-data")
    bodies: list[bytes] = []
    headers: list[str] = []

    def accept(request, context):
        bodies.append(request.body.read())  # the streamed MultipartEncoder, read while open
        headers.append(request.headers["Content-Type"])
        context.status_code = 201 if len(bodies) > 1 else 429
        context.headers["Retry-After"] = "0"
        return ""

    requests_mock.post(f"{REPO}/issues/12/attachments", text=accept)
    assert tracker.upload_attachment(connection(), item, RemoteItem("US-001", "12"), Attachment("mockup.png", path))
    assert len(bodies) == 2 and all(b"\x89PNG-data" in b for b in bodies)  # rebuilt after the 429
    assert headers[-1].startswith("multipart/form-data; boundary=")
    assert b'name="files"; filename="mockup.png"' in bodies[-1] and b"\x89PNG-data" in bodies[-1]


def test_link_pull_request_missing_answers_false_and_is_not_asked_twice(requests_mock) -> None:
    item = {i.key: i for i in items_of(sample_spec())}["US-001"]
    requests_mock.get(f"{REPO}/pullrequests/456", status_code=404)
    conn = connection()
    assert tracker.link_pull_request(conn, item, RemoteItem("US-001", "12"), 456) is False
    assert tracker.link_pull_request(conn, item, RemoteItem("US-002", "13"), 456) is False
    assert requests_mock.call_count == 1 and 456 in conn.context.missing_prs


def test_edit_comment_puts_only_the_syncs_comment_with_the_old_text(requests_mock) -> None:
    item = {i.key: i for i in items_of(sample_spec())}["US-001"]
    old = Comment("Looks good.", "alice", "2025-01-15")
    new = Comment("Looks good to me.", "alice", "2025-01-15")
    sync = {"uuid": "{sync}", "nickname": "bot"}
    stranger = {"uuid": "{stranger}", "nickname": "eve"}
    requests_mock.get(f"{REPO}/issues/12/comments", json={"values": [
        {"id": 1, "content": {"raw": render_comment(old)}, "user": stranger},  # a copy by someone else
        {"id": 2, "content": {"raw": "unrelated"}, "user": sync},
        {"id": 3, "content": {"raw": render_comment(old)}, "user": sync},
    ]})
    requests_mock.put(f"{REPO}/issues/12/comments/3", json={"id": 3})
    conn = connection()
    accounts = [Account("{sync}")]
    assert tracker.edit_comment(conn, item, RemoteItem("US-001", "12"), new, comment_digest(old)[:8], accounts)
    assert requests_mock.last_request.json() == {"content": {"raw": render_comment(new)}}
    # no comment of the sync's has that text: nothing is sent, the engine adds it anew
    requests_mock.reset_mock()
    assert not tracker.edit_comment(conn, item, RemoteItem("US-001", "12"), new,
                                    comment_digest(Comment("gone"))[:8], accounts)
    assert all(r.method == "GET" for r in requests_mock.request_history)
    assert not tracker.edit_comment(conn, item, RemoteItem("US-001", "12"), new, comment_digest(old)[:8],
                                    [Account("{someone}")])


def test_edit_comment_of_another_account_of_the_sync_is_an_item_error_not_a_stop(requests_mock) -> None:
    """The issue's reporter (trusted) wrote the comment, but this run writes as another account:
    Bitbucket answers 403 - that comment is reported, the run goes on."""
    item = {i.key: i for i in items_of(sample_spec())}["US-001"]
    old = Comment("Looks good.", "alice", "2025-01-15")
    requests_mock.get(f"{REPO}/issues/12/comments", json={"values": [
        {"id": 3, "content": {"raw": render_comment(old)}, "user": {"uuid": "{ci}", "display_name": "CI bot"}}]})
    requests_mock.put(f"{REPO}/issues/12/comments/3", status_code=403,
                      json={"type": "error", "error": {"message": "You may only edit your own comments."}})
    with pytest.raises(ItemError, match=r"comment 3 of issue #12 \(US-001\) was written by CI bot"):
        tracker.edit_comment(connection(), item, RemoteItem("US-001", "12"), Comment("Fine.", "alice", "2025-01-15"),
                             comment_digest(old)[:8], [Account("{ci}")])


def test_link_pull_request_comments_once(requests_mock) -> None:
    item = {i.key: i for i in items_of(sample_spec())}["US-001"]
    requests_mock.get(f"{REPO}/pullrequests/456", json={"id": 456})
    requests_mock.post(f"{REPO}/pullrequests/456/comments", status_code=201, json={"id": 1})
    assert tracker.link_pull_request(connection(), item, RemoteItem("US-001", "12"), 456)
    assert "#12 (US-001)" in requests_mock.last_request.json()["content"]["raw"]


def _check_world(requests_mock) -> None:
    mock_repo(requests_mock)
    requests_mock.get(f"{REPO}/issues", json={"size": 0})
    requests_mock.get(f"{REPO}/pullrequests", json={"size": 0})
    for kind, names in (("milestones", ["Q1 2024"]), ("components", []), ("versions", ["v1.0"])):
        requests_mock.get(f"{REPO}/{kind}", json={"values": [{"name": n} for n in names]})


def test_check_tracker_lines(requests_mock) -> None:
    _check_world(requests_mock)
    requests_mock.get(f"{API}/user", json={"display_name": "Ada"})
    lines = tracker.check_tracker(connection())
    assert lines[0] == "repository acme/backend-api (bitbucket.org/acme/backend-api)"
    assert "authenticated as Ada (api token)" in lines
    assert "issue tracker on; issues readable" in lines and "milestones: Q1 2024" in lines
    assert "versions: v1.0" in lines and "pull requests readable" in lines


def test_check_works_when_user_is_refused_and_names_missing_scopes(requests_mock) -> None:
    _check_world(requests_mock)
    requests_mock.get(f"{API}/user", status_code=403)
    requests_mock.get(f"{REPO}/pullrequests", status_code=403)
    lines = tracker.check_tracker(connection(access_token="tok", email=None, api_token=None))
    assert "authenticated with an access token (Bitbucket names no user for access tokens)" in lines
    assert any("read:pullrequest:bitbucket" in line for line in lines)
    requests_mock.get(f"{REPO}/issues", status_code=403)
    with pytest.raises(TrackerError) as info:
        tracker.check_tracker(connection())
    assert "read:issue:bitbucket" in info.value.message


def test_attachments_of_one_issue_go_in_one_post_even_from_parallel_calls(requests_mock, tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    spec = sample_spec()
    story = spec.epics[0].stories[0]
    story.attachments = [Attachment(n, tmp_path / n) for n in ("a.png", "b.pdf", "c.txt")]
    for attachment in story.attachments:
        attachment.path.write_bytes(attachment.name.encode())
    item = {i.key: i for i in items_of(spec)}["US-001"]
    bodies: list[bytes] = []

    def accept(request, context):
        bodies.append(request.body.read())
        context.status_code = 201
        return ""

    requests_mock.post(f"{REPO}/issues/12/attachments", text=accept)
    conn = connection()
    remote = RemoteItem("US-001", "12")
    with ThreadPoolExecutor(3) as pool:
        done = list(pool.map(lambda a: tracker.upload_attachment(conn, item, remote, a), story.attachments))
    assert done == [True, True, True]
    assert len(bodies) == 1
    assert all(f'filename="{n}"'.encode() in bodies[0] for n in ("a.png", "b.pdf", "c.txt"))
    assert conn.request_count() == {"read": 0, "write": 1}


# --- provenance (issue 25) --------------------------------------------------------------------

#: The visible line dev-render's renderer writes above the base line (bitbucket.provenance_line).
NOTE = ("*Managed in `EPIC.md` - edit the spec; changes here are kept until the spec changes the "
        "same field.*")


def test_a_create_looked_up_after_an_ambiguous_failure_must_carry_what_it_sent(requests_mock) -> None:
    """A hand-made issue with the same title (lower number) is never taken for the one sent."""
    items = {i.key: i for i in items_of(sample_spec())}
    base = {"spec": "EPIC.md", "key": "US-002", "generation": "1", "title": "1a2b3c4d"}
    ours = "x\n\n[//]: # (spectryn:1 f=EPIC.md n=US-002 g=1 t=1a2b3c4d)"
    requests_mock.post(f"{REPO}/issues", exc=requests.exceptions.ConnectionError("reset"))
    requests_mock.get(f"{REPO}/issues", json={"values": [
        issue_json(20, {"title": "US-002: Logout", "content": "made by hand"}),
        issue_json(22, {"title": "US-002: Logout", "content": ours})]})
    remote = tracker.create_item(connection(), items["US-002"], {"title": "US-002: Logout",
                                                                 "content": "x"}, base)
    assert remote.id == "22" and remote.provenance is not None and remote.provenance.generation == 1
    assert [r.method for r in requests_mock.request_history].count("POST") == 1


def test_a_create_learns_the_account_the_sync_writes_as(requests_mock) -> None:
    items = {i.key: i for i in items_of(sample_spec())}
    answer = issue_json(30, {"title": "US-002: Logout", "content": "x"})
    answer["reporter"] = {"uuid": "{bot}", "display_name": "CI bot", "nickname": "ci-bot"}
    requests_mock.post(f"{REPO}/issues", status_code=201, json=answer)
    conn = connection()
    assert conn.account is None
    remote = tracker.create_item(conn, items["US-002"], {"title": "US-002: Logout", "content": "x"},
                                 {"spec": "EPIC.md", "key": "US-002", "generation": "1"})
    assert conn.account is not None and conn.account.id == "{bot}" and remote.reporter == conn.account
    sent = requests_mock.last_request.json()["content"]["raw"]
    assert sent == f"x\n\n{NOTE}\n\n[//]: # (spectryn:1 f=EPIC.md n=US-002 g=1)"


def test_an_update_that_leaves_the_content_replaces_only_the_base_line(requests_mock) -> None:
    items = {i.key: i for i in items_of(sample_spec())}
    raw = "PM text  \r\nline two\r\n\r\n[//]: # (spectryn:1 f=EPIC.md n=US-001 g=1 t=11111111)\r\n"
    remote = remote_item(issue_json(12, {"title": "US-001: Old", "content": raw}))
    requests_mock.put(f"{REPO}/issues/12", json=issue_json(12, {"title": "US-001: New"}))
    base = {"spec": "EPIC.md", "key": "US-001", "generation": "2", "title": "22222222"}
    tracker.update_item(connection(), items["US-001"], remote, {"title": "US-001: New"}, base)
    sent = requests_mock.last_request.json()["content"]["raw"]
    # the person's text byte for byte, then spectryn's own lines: the provenance note, the base
    assert sent == ("PM text  \r\nline two\r\n\r\n" + NOTE + "\r\n\r\n"
                    "[//]: # (spectryn:1 f=EPIC.md n=US-001 g=2 t=22222222)\r\n")
    again = remote_item(issue_json(12, {"title": "US-001: New", "content": sent}))
    assert again.fields["content"] == "PM text\nline two"  # the note is never compared
    tracker.update_item(connection(), items["US-001"], again, {}, {**base, "generation": "3"})
    assert requests_mock.last_request.json()["content"]["raw"] == sent.replace("g=2", "g=3")
    tracker.update_item(connection(provenance_line=False), items["US-001"], again, {},
                        {**base, "generation": "3"})
    assert requests_mock.last_request.json()["content"]["raw"] == (
        "PM text  \r\nline two\r\n\r\n[//]: # (spectryn:1 f=EPIC.md n=US-001 g=3 t=22222222)\r\n")


def test_the_listing_finds_a_specs_issues_by_provenance_and_the_ids_the_state_knows(requests_mock) -> None:
    items = items_of(sample_spec())
    listed = [
        issue_json(12, {"title": "Login (renamed)", "content": "x\n\n[//]: # (spectryn:1 f=EPIC.md n=US-001 g=2)"}),
        issue_json(13, {"title": "Other", "content": "x\n\n[//]: # (spectryn:1 f=EPIC.md.bak n=US-001 g=2)"}),
        issue_json(14, {"title": "Unrelated"}),
    ]
    requests_mock.get(f"{REPO}/issues", [{"json": {"values": listed}},
                                         {"json": {"values": [issue_json(40, {"title": "Logout"})]}}])
    requests_mock.get(f"{REPO}/pullrequests/456", json={"id": 456})
    requests_mock.get(f"{REPO}/milestones", json={"values": [{"name": "Q1 2024"}]})
    requests_mock.get(f"{REPO}/components", json={"values": [{"name": "Backend"}]})
    found = tracker.read_items(connection(), items, known={"US-002": "40", "US-001": "12"})
    assert [(r.id, r.key) for r in found] == [("12", ""), ("40", "")]
    assert found[0].provenance is not None and found[0].provenance.key == "US-001"
    queries = [r.qs.get("q", [""])[0] for r in requests_mock.request_history if r.path.endswith("/issues")]
    assert queries[1] == "id = 40"  # one more query, only for the id the listing missed


def test_read_touches_tells_the_syncs_comments_and_changes_from_peoples(requests_mock) -> None:
    from spectryn_bitbucket.render import render_comment
    from spectryn_core.items import Account

    items = {i.key: i for i in items_of(sample_spec())}
    item = items["US-001"]
    item.source.comments = [Comment("Card brands first.", "alice", "2025-01-15")]
    bot, pat = {"uuid": "{bot}", "display_name": "CI bot"}, {"uuid": "{pat}", "display_name": "Pat"}
    ours = render_comment(item.source.comments[0])
    requests_mock.get(f"{REPO}/issues/9/comments", json={"values": [
        {"content": {"raw": ours}, "user": bot}]})
    requests_mock.get(f"{REPO}/issues/9/changes", json={"values": [{"changes": {"content": {}}, "user": bot}]})
    accounts = [Account("{bot}", "CI bot")]
    remote = RemoteItem("US-001", "9")
    assert tracker.read_touches(connection(), item, remote, accounts) == []
    requests_mock.get(f"{REPO}/issues/9/comments", json={"values": [
        {"content": {"raw": ours}, "user": pat}, {"content": {"raw": "keep open"}, "user": bot}]})
    requests_mock.get(f"{REPO}/issues/9/changes", json={"values": [
        {"changes": {"state": {"old": "new", "new": "open"}}, "user": pat}]})
    assert tracker.read_touches(connection(), item, remote, accounts) == [
        "a comment by Pat", "a comment by CI bot", "state changed by Pat"]
    requests_mock.get(f"{REPO}/issues/9/changes", status_code=404)  # a server keeping no records
    assert tracker.read_touches(connection(), item, remote, accounts)[-1] == "a comment by CI bot"
