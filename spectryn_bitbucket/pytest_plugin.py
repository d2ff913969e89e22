"""pytest fixtures giving tests a running Bitbucket sandbox server.

Registered through the ``pytest11`` entry point, so this module is loaded by every pytest run of
anyone who has spectryn installed. It therefore imports nothing at import time beyond pytest
itself; the sandbox is imported inside the fixtures.

Fixtures:

- ``bitbucket_sandbox``: a started :class:`spectryn_bitbucket.sandbox.Sandbox` with default options
  and its data in a temporary file; stopped after the test.
- ``bitbucket_sandbox_factory``: a callable ``factory(**options) -> Sandbox`` starting a sandbox
  with the given keyword options (those of ``Sandbox.__init__``); every sandbox it started is
  stopped after the test. Without ``data=`` each gets its own temporary data file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def bitbucket_sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Start sandboxes with options: ``factory(latency_ms=5, milestones=["v1"]) -> Sandbox``."""
    from spectryn_bitbucket.sandbox import Sandbox

    started: list[Any] = []

    def factory(**options: Any) -> Any:
        if "data" not in options:
            options["data"] = tmp_path_factory.mktemp("bitbucket-sandbox") / "sandbox.json"
        sandbox = Sandbox(**options).start()
        started.append(sandbox)
        return sandbox

    yield factory
    for sandbox in reversed(started):
        sandbox.stop()


@pytest.fixture
def bitbucket_sandbox(bitbucket_sandbox_factory: Callable[..., Any]) -> Any:
    """A running sandbox with default options (workspace ``sandbox``, repo ``demo``)."""
    return bitbucket_sandbox_factory()
