"""CLI runs that meet a full disk or a read-only folder for real, with nothing changed outside.

:func:`within` wraps a command so that it runs in a private mount namespace (``unshare -m``; as a
user that is not root, inside a user namespace too) after a few shell commands that mount what
the test needs - a tiny tmpfs filled to the brim, or a folder bound read-only over itself - and
followed by commands that look at what is there before the namespace (and its mounts) go away.
Root ignores file permissions, so a ``chmod 555`` folder is no read-only folder for the tests
when they run as root: a read-only mount is, for every user.
"""

from __future__ import annotations

import os
import shutil
import subprocess


def _unshare() -> list[str]:
    return ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-r", "-m"]


def available() -> bool:
    """Whether this machine lets the tests mount a tmpfs in a private mount namespace."""
    if not shutil.which("unshare"):
        return False
    done = subprocess.run([*_unshare(), "sh", "-c", "mount -t tmpfs -o size=16k tmpfs /mnt"],
                          capture_output=True, check=False)
    return done.returncode == 0


def within(before: list[str], after: tuple[str, ...] = ()) -> list[str]:
    """A command prefix: run the shell commands ``before``, then the command (its exit code is
    kept), then ``after`` - in a private mount namespace."""
    script = " && ".join([*before, '"$@"']) + "; code=$?; " + "".join(f"{c}; " for c in after) + "exit $code"
    return [*_unshare(), "sh", "-c", script, "sh"]


def full_disk(folder: str) -> list[str]:
    """Mount commands: a 64 KiB tmpfs over ``folder`` holding a copy of what it held, then
    filled until no byte is left."""
    stash = f"{folder}.stash"
    return [f"rm -rf {stash}", f"cp -a {folder} {stash}", f"mount -t tmpfs -o size=64k tmpfs {folder}",
            f"cp -a {stash}/. {folder}/", f"(dd if=/dev/zero of={folder}/filler bs=1k 2>/dev/null || true)"]


def read_only(folder: str) -> list[str]:
    """Mount commands: ``folder`` bound read-only over itself."""
    return [f"mount --bind {folder} {folder}", f"mount -o remount,bind,ro {folder}"]
