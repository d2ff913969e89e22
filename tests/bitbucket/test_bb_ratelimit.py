"""The rolling one-hour request log: pacing, sharing between runs, 429 pauses, max wait."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spectryn_bitbucket.ratelimit import RollingLog, credential_id, open_log
from spectryn_core.errors import TrackerError
from spectryn_core.items import Quota


class FakeTime:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def log_of(path: Path | None, limit: int | None, window: float, t: FakeTime, **kw) -> RollingLog:
    return RollingLog(path, limit, window, clock=t.clock, sleep=t.sleep, **kw)


def test_a_full_window_waits_for_its_oldest_request_and_says_so(tmp_path, caplog) -> None:
    t = FakeTime()
    quota = log_of(tmp_path / "q.log", 3, 3600, t)
    for step in range(3):
        assert quota.acquire() == 0
        t.now += 10 * (step + 1)  # sent at 0, 10, 30; now 60
    assert quota.quota().remaining == 0
    waited = quota.acquire()
    assert waited == pytest.approx(3600 - 60 + quota.margin)  # the first one leaves the window
    assert "rate limit: 0 requests left this hour, next slot in 59 min" in caplog.text
    assert "1000" not in caplog.text and "3 requests per rolling hour" in caplog.text


def test_consecutive_runs_share_the_budget_through_the_file(tmp_path) -> None:
    t = FakeTime()
    first = log_of(tmp_path / "q.log", 5, 60, t)
    for _ in range(5):
        first.acquire()
    first.close()
    second = log_of(tmp_path / "q.log", 5, 60, t)
    status = second.quota()
    assert status.remaining == 0 and status.next_slot_in == pytest.approx(60)
    t.now += 30
    assert second.acquire() == pytest.approx(30 + second.margin)


def test_concurrent_processes_never_lose_a_count(tmp_path) -> None:
    path = tmp_path / "q.log"
    script = ("import sys; from pathlib import Path; from spectryn_bitbucket.ratelimit import RollingLog;"
              "q = RollingLog(Path(sys.argv[1]), 10000, 3600)\nfor _ in range(300): q.acquire()")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert RollingLog(path, 10000, 3600).quota().remaining == 10000 - 900


def test_compaction_keeps_only_live_entries(tmp_path) -> None:
    t = FakeTime()
    quota = log_of(tmp_path / "q.log", 100, 10, t)
    for _ in range(1000):
        quota.acquire()
        t.now += 0.2  # 50 requests live at any time
    lines = (tmp_path / "q.log").read_text().splitlines()
    assert len(lines) <= 2 * 100 + 102
    assert log_of(tmp_path / "q.log", 100, 10, t).quota().remaining == quota.quota().remaining


def test_max_wait_stops_instead_of_waiting_and_names_the_time_to_resume(tmp_path) -> None:
    t = FakeTime()
    quota = log_of(tmp_path / "q.log", 2, 3600, t, max_wait=600)
    quota.acquire()
    quota.acquire()
    with pytest.raises(TrackerError) as info:
        quota.acquire()
    assert "stopped rather than wait 1 h (max wait 10 min)" in info.value.message
    assert "run again after" in info.value.hint and "resumes where it stopped" in info.value.hint
    assert t.slept == []


def test_429_without_retry_after_pauses_grow_with_jitter_up_to_the_window(tmp_path) -> None:
    t = FakeTime()
    quota = log_of(tmp_path / "q.log", 1000, 3600, t)
    pauses = [quota.rejected(None) for _ in range(14)]
    assert pauses[0] >= 10 and pauses[0] <= 15  # 1/360 of the window, jittered
    assert all(b > a for a, b in zip(pauses[:8], pauses[1:8], strict=False))
    assert max(pauses) == 3600
    assert quota.rejected("7") == 7.0  # Retry-After when a server sends it
    quota.accepted({})
    assert quota.rejected(None) <= 15  # an accepted request resets the growth


def test_a_429_pauses_every_run_sharing_the_credential(tmp_path) -> None:
    t = FakeTime()
    one = log_of(tmp_path / "q.log", 1000, 3600, t)
    other = log_of(tmp_path / "q.log", 1000, 3600, t)
    pause = one.rejected(None)
    assert other.acquire() == pytest.approx(pause, abs=0.01)


def test_ratelimit_headers_scale_the_limit_and_near_limit_holds_back(tmp_path) -> None:
    t = FakeTime()
    auto = log_of(None, None, 3600, t)
    auto.accepted({"X-RateLimit-Limit": "5000"})
    assert auto.quota().limit == 5000
    fixed = log_of(None, 800, 3600, t)
    fixed.accepted({"X-RateLimit-Limit": "5000"})
    assert fixed.quota().limit == 800  # the user's own setting wins
    auto.accepted({"X-RateLimit-NearLimit": "true"})
    assert auto.quota().remaining == 1000  # less than 20% of 5000 left


def test_zero_limit_counts_nothing_but_still_pauses_after_429(tmp_path) -> None:
    t = FakeTime()
    off = log_of(None, 0, 3600, t)
    for _ in range(50):
        assert off.acquire() == 0
    pause = off.rejected(None)
    assert off.acquire() == pytest.approx(pause, abs=0.01)


def test_quota_seconds_until() -> None:
    quota = Quota(limit=4, window=100, remaining=1, next_slot_in=0, frees_in=(10, 20, 30))
    assert quota.seconds_until(1) == 0
    assert quota.seconds_until(2) == 10 and quota.seconds_until(4) == 30
    assert quota.seconds_until(6) == 130  # beyond this window: 4 per 100 s
    assert Quota(0, 3600, 0, 0).seconds_until(10_000) == 0


def test_the_log_file_holds_no_secret(tmp_path) -> None:
    quota = open_log(str(tmp_path), "api.bitbucket.org", "token:s3cr3t-t0ken", None, 3600, None)
    quota.acquire()
    quota.close()
    files = list((tmp_path / "ratelimit").iterdir())
    assert [f.name for f in files] == [credential_id("api.bitbucket.org", "token:s3cr3t-t0ken") + ".log"]
    assert "s3cr3t" not in files[0].name and "s3cr3t" not in files[0].read_text()
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"


def test_a_request_counts_from_its_answer_so_the_window_never_ends_before_bitbuckets(tmp_path) -> None:
    t = FakeTime()
    quota = log_of(tmp_path / "q.log", 1, 100, t)
    quota.acquire()
    t.now += 5  # the answer came 5 s later: Bitbucket counted it somewhere in between
    quota.answered()
    assert quota.quota().next_slot_in == pytest.approx(100, abs=0.01)
    other = log_of(tmp_path / "q.log", 1, 100, t)  # another run reads the same correction
    assert other.quota().next_slot_in == pytest.approx(100, abs=0.01)


@pytest.mark.parametrize("damage", [b"t 1000005.0\xc3\xa9\n", b"\x00\x00\x00\n", b"x 1 2\n",
                                    b"t 1000005.0 what\n"])
def test_a_damaged_log_is_rebuilt_with_a_warning_not_a_crash(tmp_path, caplog, damage: bytes) -> None:
    """One non-ASCII byte in the log stopped every run until the file was deleted (issue 26)."""
    t = FakeTime()
    path = tmp_path / "q.log"
    first = log_of(path, 5, 60, t)
    first.acquire()
    first.acquire()
    first.close()
    with open(path, "ab") as handle:
        handle.write(damage)
    second = log_of(path, 5, 60, t)
    assert second.quota().remaining == 3  # the two good entries survive
    assert "was damaged (a line it cannot read); rebuilt from the 2 request times" in caplog.text
    text = path.read_bytes().decode("ascii")  # rebuilt: plain ASCII, every line readable again
    assert text.splitlines()[1:] == [f"t {t.now:.3f}", f"t {t.now:.3f}"]
    caplog.clear()
    assert second.acquire() == 0 and log_of(path, 5, 60, t).quota().remaining == 2
    assert "damaged" not in caplog.text


def test_a_last_line_cut_short_by_a_killed_run_is_no_damage(tmp_path, caplog) -> None:
    t = FakeTime()
    path = tmp_path / "q.log"
    first = log_of(path, 5, 60, t)
    first.acquire()
    first.close()
    with open(path, "a") as handle:
        handle.write("t 10000")
    second = log_of(path, 5, 60, t)
    assert second.quota().remaining == 4
    second.acquire()
    assert path.read_text().splitlines()[1:] == [f"t {t.now:.3f}", f"t {t.now:.3f}"]  # dropped
    assert log_of(path, 5, 60, t).quota().remaining == 3
    assert "damaged" not in caplog.text
