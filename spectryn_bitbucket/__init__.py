"""spectryn's Bitbucket tracker plugin (Cloud 2.0 and Server / Data Center) and its local sandbox.

The hooks live in :mod:`spectryn_bitbucket.plugin`; the seed guide's Python API is
:class:`spectryn_bitbucket.adapter.BitbucketAdapter`, importable from here::

    from spectryn_bitbucket import BitbucketAdapter

Attributes are imported lazily so that ``spectryn_bitbucket.sandbox`` (stdlib only) and the pytest
plugin load even where ``requests`` is not installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["BitbucketAdapter", "BitbucketClient"]


def __getattr__(name: str) -> Any:
    if name == "BitbucketAdapter":
        from spectryn_bitbucket.adapter import BitbucketAdapter

        return BitbucketAdapter
    if name == "BitbucketClient":
        from spectryn_bitbucket.client import BitbucketClient

        return BitbucketClient
    raise AttributeError(f"module 'spectryn_bitbucket' has no attribute {name!r}")
