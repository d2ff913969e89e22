"""``sync.trusted_accounts`` for Bitbucket Cloud: which entries name an account for sure.

An issue's maker is trusted only by a stable identifier Bitbucket assigns: the account's
``{uuid}`` (in braces, as every answer writes it) or its Atlassian account id (``557058:<uuid>``,
or 24-32 hex digits for newer accounts). A nickname is "defined by the owner" and "not
guaranteed to be unique" (Atlassian's OpenAPI text for Bitbucket Cloud, ``user`` schema, field
``nickname``; mirrored in coderabbitai/bitbucket src/cloud/openapi/swagger.v3.json), and a
display name is free text: anyone could pick a trusted person's and have their issues taken for
the team's. So an entry that is neither is a config error (exit 2) before anything is sent, and
:func:`spectryn_bitbucket.render.reporter` matches on the uuid and account id only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from spectryn_core.errors import ConfigError

KEY = "sync.trusted_accounts"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: ``{uuid}`` as Bitbucket writes it: lowercase, in braces.
UUID_REF = re.compile(r"\{" + _UUID + r"\}")
#: Atlassian account ids: ``<digits>:<uuid>`` (``557058:...``, older accounts) or a hex string
#: (``5b10ac8d82e05b22cc7d4ef5``; Atlassian's examples have 24 and 25 digits).
ACCOUNT_ID = re.compile(r"[0-9]{1,10}:" + _UUID + r"|[0-9a-f]{24,32}")

HINT = ("name each account by its {uuid} or account id: the account's own `spectryn check` (an "
        "API token with read:user:bitbucket) or GET https://api.bitbucket.org/2.0/user prints both; "
        "the workspace's members list them (GET /2.0/workspaces/WORKSPACE/members); a sync that "
        "refuses an issue names its maker's uuid")


def problem(ref: str) -> str | None:
    """Why ``ref`` cannot name an account, or None when it is a uuid or an account id."""
    text = ref.strip()
    if UUID_REF.fullmatch(text) or ACCOUNT_ID.fullmatch(text):
        return None
    lowered = text.lower()
    if UUID_REF.fullmatch(lowered) or ACCOUNT_ID.fullmatch(lowered):
        return f"write it as Bitbucket does, in lowercase: {lowered}"
    if re.fullmatch(_UUID, lowered):
        return f"a uuid goes in braces, as Bitbucket writes it: {{{lowered}}}"
    return ("not a {uuid} or an account id - a nickname or display name is chosen by its owner and "
            "is not unique on Bitbucket, so anyone could take it")


def checked(refs: Iterable[Any], origin: object) -> tuple[str, ...]:
    """The entries of ``sync.trusted_accounts`` (from ``origin``: where the value came from),
    stripped; ConfigError naming the key and every bad entry otherwise."""
    found = tuple(str(ref).strip() for ref in refs)
    bad = [f"{ref!r}: {why}" for ref in found if (why := problem(ref)) is not None]
    if bad:
        raise ConfigError(f"{origin}: {KEY}: " + "; ".join(bad), HINT)
    return found
