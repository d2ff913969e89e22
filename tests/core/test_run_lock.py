"""The run lock without ``fcntl`` (as on Windows): it still keeps a second run out, names the
holder's pid, and a whole sync runs. Each check runs in a fresh interpreter where
``import fcntl`` fails."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NO_FCNTL = "import sys; sys.modules['fcntl'] = None  # import fcntl -> ImportError\n"

HOLDER = NO_FCNTL + textwrap.dedent("""
    from pathlib import Path
    from spectryn_core.state import RunLock
    with RunLock(Path(sys.argv[1]), "memory", "target-1"):
        print("held", flush=True)
        sys.stdin.readline()  # hold the lock until the test says so
""")

CONTENDER = NO_FCNTL + textwrap.dedent("""
    from pathlib import Path
    from spectryn_core.errors import TrackerError
    from spectryn_core.state import RunLock
    try:
        with RunLock(Path(sys.argv[1]), "memory", "target-1"):
            print("acquired")
    except TrackerError as error:
        print(f"refused: {error.message}")
""")


def _python(code: str, *args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]


@pytest.mark.parametrize("fcntl", ["without fcntl", "with fcntl"])
def test_lock_refuses_a_second_run_naming_the_holder(tmp_path: Path, fcntl: str) -> None:
    holder_code, contender_code = HOLDER, CONTENDER
    if fcntl == "with fcntl":
        holder_code, contender_code = (c.replace(NO_FCNTL, "import sys\n") for c in (HOLDER, CONTENDER))
    holder = _python(holder_code, str(tmp_path), stdin=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        out, err = _python(contender_code, str(tmp_path)).communicate(timeout=60)
        assert out == f"refused: another spectryn run (pid {holder.pid}) is syncing target-1\n", err
    finally:
        _out, err = holder.communicate("\n", timeout=60)
    assert holder.returncode == 0, err
    out, err = _python(contender_code, str(tmp_path)).communicate(timeout=60)
    assert out == "acquired\n", err  # released by the holder


def test_a_whole_sync_runs_without_fcntl(tmp_path: Path) -> None:
    from tests.core.test_engine import SPEC

    (tmp_path / "EPIC.md").write_text(SPEC)
    code = NO_FCNTL + textwrap.dedent("""
        from spectryn_core.cli import main
        sys.exit(main(["--markdown", "EPIC.md", "--tracker", "memory", "--execute"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SPECTRYN_PLUGINS": "tests.support.mem_plugin",
           "SPECTRYN_STATE_DIR": str(tmp_path / "state"), "SPECTRYN_LOG_DIR": str(tmp_path / "logs"),
           "SPECTRYN_CONFIG_DIR": str(tmp_path / "userconfig")}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Done: 4 created" in done.stdout
    assert "Traceback" not in done.stderr and "soft file lock" not in done.stderr
