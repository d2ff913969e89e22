"""The tracker contract kit run against the Bitbucket plugin on the local sandbox server."""

from __future__ import annotations

from typing import Any

import pytest

from spectryn_core.testing import Target, TrackerContract

TOKEN = "sandbox-token"


class TestBitbucketContract(TrackerContract):
    tracker = "bitbucket"

    @pytest.fixture
    def target(self, bitbucket_sandbox: Any) -> Target:
        sandbox = bitbucket_sandbox
        return Target(
            env={
                "BITBUCKET_BASE_URL": sandbox.base_url,
                "BITBUCKET_WORKSPACE": "sandbox",
                "BITBUCKET_REPO": "demo",
                "BITBUCKET_ACCESS_TOKEN": TOKEN,
            },
            read_keys=lambda: _keys(sandbox),
            count_writes=lambda: int(sandbox.stats()["writes"]),
        )

    @pytest.fixture
    def broken_target(self, target: Target) -> Target:
        return Target(env={**target.env, "BITBUCKET_ACCESS_TOKEN": "not-the-sandbox-token"})


def _keys(sandbox: Any) -> list[str]:
    """Every issue's title key, straight from the sandbox's API (not through the plugin)."""
    import requests

    keys: list[str] = []
    url: str | None = f"{sandbox.base_url}/repositories/sandbox/demo/issues?pagelen=100"
    while url:
        page = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).json()
        keys += [issue["title"].split(":", 1)[0] for issue in page["values"]]
        url = page.get("next")
    return keys
