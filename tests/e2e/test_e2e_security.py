"""Security, end to end: what a spec, a config file or a server may make spectryn send, and where.

The bad-input corpus (tests/data/bad/cases.yaml) holds the one-run refusals (attachments outside
the repository, ...); this module holds the cases that need more than one run or a special server.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from tests.support.front import Front, json_answer

STORY = """# EPIC-7: Security

## User Stories

### US-001: Attach a file

| Field | Value |
|-------|-------|
| **Status** | 📋 To Do |

#### Attachments
{links}
"""


def attachment_names(world: Any, issue_id: int) -> list[str]:
    url = f"{world.sandbox.base_url}/repositories/sandbox/demo/issues/{issue_id}/attachments"
    values = requests.get(url, headers={"Authorization": f"Bearer {world.sandbox.token}"},
                          timeout=10).json()["values"]
    return sorted(value["name"] for value in values)


def test_attachment_elsewhere_in_the_git_work_tree_is_uploaded_with_a_safe_name(world: Any) -> None:
    (world.tmp / ".git").mkdir()
    (world.tmp / "assets").mkdir()
    (world.tmp / "assets" / "plan.txt").write_text("the plan\n")
    spec = world.tmp / "docs" / "EPIC.md"
    spec.parent.mkdir()
    spec.write_text(STORY.format(links="- [../plan\u202e.txt](../assets/plan.txt)"))

    run = world.sync("docs/EPIC.md")

    assert run.code == 0, run.err
    [issue] = world.issues()
    assert attachment_names(world, issue["id"]) == [".._plan.txt"]
    assert world.sync("docs/EPIC.md").code == 0
    assert world.writes() == 3  # the issue, its attachment once, the base confirming it


def test_digest_of_a_large_attachment_keeps_memory_flat(world: Any) -> None:
    size = 400 * 1024 * 1024
    with open(world.tmp / "big.bin", "wb") as handle:
        handle.truncate(size)  # sparse: no disk used, but every byte is read and hashed
    (world.tmp / "EPIC.md").write_text(STORY.format(links="- [big.bin](big.bin)"))
    # VmHWM is this process's own peak: ru_maxrss would carry the pytest worker's peak across
    # fork+exec on Linux (the test failed in a full run, passed alone)
    measure = ("import re, sys; from spectryn_core.cli import main; code = main(sys.argv[1:]); "
               "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
               "print('maxrss', hwm, file=sys.stderr); sys.exit(code)")
    env = {**world.env, "SPECTRYN_ATTACHMENTS_MAX_SIZE": str(size)}
    done = subprocess.run([sys.executable, "-c", measure, "--markdown", "EPIC.md",
                           "--tracker", "bitbucket"], cwd=world.tmp, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "+ US-001" in done.stdout and "big.bin" in done.stdout
    maxrss_kib = int(done.stderr.rsplit("maxrss", 1)[1].split()[0])
    assert maxrss_kib < 200 * 1024, f"{maxrss_kib} KiB for a {size // 2**20} MiB attachment"
    assert world.writes() == 0


def test_validate_refuses_what_sync_refuses(world: Any) -> None:
    (world.tmp / "EPIC.md").write_text(STORY.format(
        links="- [a](/etc/hostname)\n- [b](..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd)"))

    run = world.cli("validate", "EPIC.md")

    assert run.code == 2
    assert "EPIC.md:12:" in run.err and "absolute path" in run.err
    assert "EPIC.md:13:" in run.err and "leaves the spec's folder" in run.err


# --- transport: every request stays on the base_url's scheme, host and port -----------------


@pytest.fixture
def front_factory() -> Iterator[Callable[..., Front]]:
    """Starts :class:`tests.support.front.Front` servers and stops them after the test."""
    started: list[Front] = []

    def make(**options: Any) -> Front:
        front = Front(**options).start()
        started.append(front)
        return front

    yield make
    for front in started:
        front.stop()


def test_a_next_link_to_another_host_is_refused_and_nothing_reaches_it(
        world: Any, front_factory: Any) -> None:
    capture = front_factory()

    def next_elsewhere(method: str, path: str, page: Any) -> Any:
        if method == "GET" and isinstance(page, dict) and "values" in page and "/issues" in path:
            page["next"] = capture.base_url + "/repositories/sandbox/demo/issues?page=2"
        return page

    front = front_factory(upstream=world.sandbox.url, rewrite=next_elsewhere)

    run = world.sync(env={"BITBUCKET_BASE_URL": front.base_url})

    assert run.code == 1, run.err
    assert "Refused to follow the next page of" in run.err
    assert f"to {capture.url}: it leaves {front.base_url}" in run.err
    assert capture.seen == []
    assert world.writes() == 0


def test_a_redirect_to_another_host_is_refused(world: Any, front_factory: Any) -> None:
    capture = front_factory()
    front = front_factory(upstream=world.sandbox.url, answer=lambda method, path: (
        (302, {"Location": capture.url + path}, b"") if method == "GET" else None))

    run = world.sync(env={"BITBUCKET_BASE_URL": front.base_url})

    assert run.code == 1, run.err
    assert f"Refused to follow a redirect to {capture.url}" in run.err
    assert capture.seen == []


def test_reads_follow_a_same_host_redirect_and_writes_never_do(world: Any, front_factory: Any) -> None:
    """Behind /moved/ everything answers 301 to /2.0/: the reads go on, the first write stops."""
    def moved(method: str, path: str) -> Any:
        if path.startswith("/moved/"):
            return 301, {"Location": "/2.0/" + path[len("/moved/"):]}, b""
        return None

    front = front_factory(upstream=world.sandbox.url, answer=moved)

    run = world.sync(env={"BITBUCKET_BASE_URL": front.url + "/moved"})

    assert run.code == 1, run.err
    assert "with a redirect (301 to http://127.0.0.1" in run.err
    assert "writes never follow redirects, so nothing was written" in run.err
    assert any(s.method == "GET" and s.path.startswith("/2.0/") for s in front.seen)
    assert not any(s.method != "GET" and s.path.startswith("/2.0/") for s in front.seen)
    assert world.writes() == 0


@pytest.mark.parametrize("answer", [
    pytest.param(lambda path: (302, {"Location": path}, b""), id="post-redirected-to-the-listing"),
    pytest.param(lambda path: json_answer(200, {"values": [], "pagelen": 100}), id="200-without-id"),
])
def test_a_create_answered_without_an_issue_id_is_an_error_never_a_success(
        world: Any, front_factory: Any, answer: Any) -> None:
    def creates(method: str, path: str) -> Any:
        return answer(path) if method == "POST" and path.split("?")[0].endswith("/issues") else None

    front = front_factory(upstream=world.sandbox.url, answer=creates)

    run = world.sync(env={"BITBUCKET_BASE_URL": front.base_url})

    assert run.code == 1, run.err
    assert "#None" not in run.out + run.err
    assert "without an issue id" in run.err or "with a redirect" in run.err
    assert not any("/None" in s.path for s in front.seen)
    again = world.sync()  # straight to the sandbox: nothing was recorded as created
    assert again.code == 0, again.err
    assert all(issue["id"] for issue in world.issues())
    assert world.duplicates() == {}


def test_plain_http_to_another_host_is_refused_before_any_request(world: Any) -> None:
    run = world.sync(env={"BITBUCKET_BASE_URL": "http://10.99.0.1/2.0"})

    assert run.code == 2
    assert "environment BITBUCKET_BASE_URL: bitbucket.base_url http://10.99.0.1/2.0 is plain http" \
        in run.err
    assert "use https://10.99.0.1/2.0" in run.err and "allow_insecure_http" in run.err


def test_loopback_http_never_goes_through_a_proxy(world: Any, front_factory: Any) -> None:
    proxy = front_factory()
    env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, "ALL_PROXY": proxy.url,
           "NO_PROXY": "", "no_proxy": ""}

    run = world.sync(env=env)

    assert run.code == 0, run.err
    assert proxy.seen == []
