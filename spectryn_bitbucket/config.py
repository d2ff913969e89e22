"""The ``bitbucket`` config section: its environment variables, CLI flags, and
:class:`BitbucketSettings`, the validated view the client and the tracker work from. Its marshmallow
schema is in :mod:`spectryn_bitbucket.schema`, imported when a run loads its config (marshmallow
costs ~60 ms to import, which ``spectryn plugins`` and ``--help`` do not need).

Precedence (flags > environment > files > defaults) is applied by the core; this module declares
the names and checks that what it receives is enough to connect.
"""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from spectryn_bitbucket.trusted import checked as checked_accounts
from spectryn_core.errors import ConfigError

CLOUD_API = "https://api.bitbucket.org/2.0"

SECTION = "bitbucket"

#: Keys whose values are never printed, logged or stored.
SECRET_KEYS = frozenset({"app_password", "api_token", "access_token"})

#: Keys that weaken how credentials are sent, or (``pipelines_proxy``) where a review's text goes:
#: a repository file cannot set them (ignored, warned).
TRUSTED_ONLY = frozenset({"ssl_verify", "ca_bundle", "allow_insecure_http", "pipelines_proxy"})

#: Keys that decide where credentials go; ``spectryn check`` says where each came from.
ROUTING_KEYS = ("base_url", "ssl_verify", "ca_bundle", "allow_insecure_http")

#: Config key -> environment variable.
ENV_VARS: dict[str, str] = {
    "username": "BITBUCKET_USERNAME",
    "app_password": "BITBUCKET_APP_PASSWORD",
    "workspace": "BITBUCKET_WORKSPACE",
    "repo": "BITBUCKET_REPO",
    "base_url": "BITBUCKET_BASE_URL",
    "ssl_verify": "BITBUCKET_SSL_VERIFY",
    "ca_bundle": "BITBUCKET_CA_BUNDLE",
    "email": "BITBUCKET_EMAIL",
    "api_token": "BITBUCKET_API_TOKEN",
    "access_token": "BITBUCKET_ACCESS_TOKEN",
    "epic_mode": "BITBUCKET_EPIC_MODE",
    "rate_limit": "BITBUCKET_RATE_LIMIT",
    "rate_window": "BITBUCKET_RATE_WINDOW",
    "max_wait": "BITBUCKET_MAX_WAIT",
    "allow_insecure_http": "BITBUCKET_ALLOW_INSECURE_HTTP",
    # Pipelines sets it: the branch the spec files are read from (the link to its spec)
    "branch": "BITBUCKET_BRANCH",
    "provenance_line": "BITBUCKET_PROVENANCE_LINE",
    "pipelines_proxy": "BITBUCKET_PIPELINES_PROXY",
}

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90"``, ``"90s"``, ``"10m"``, ``"1h"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(number):] or "s"
        if unit not in _UNITS or not number:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90, 90s, 10m or 1h)")
        seconds = float(number) * _UNITS[unit]
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {value!r}")
    return seconds


#: Variables read when the one in :data:`ENV_VARS` is unset: Bitbucket Pipelines sets
#: ``BITBUCKET_REPO_SLUG`` (and ``BITBUCKET_WORKSPACE``, which is already ours).
FALLBACK_ENV_VARS: dict[str, str] = {"repo": "BITBUCKET_REPO_SLUG"}


def config_section() -> Any:
    """The :class:`spectryn_core.config.ConfigSection` of this plugin."""
    from spectryn_bitbucket.schema import BitbucketSchema
    from spectryn_core.config import ConfigSection

    env: dict[str, str | tuple[str, ...]] = dict(ENV_VARS)
    for key, fallback in FALLBACK_ENV_VARS.items():
        env[key] = (ENV_VARS[key], fallback)
    return ConfigSection(SECTION, BitbucketSchema, env=env, secrets=SECRET_KEYS,
                         trusted_only=TRUSTED_ONLY)


def init_fields() -> list[Any]:
    """The values ``spectryn init --tracker bitbucket`` asks for (``--workspace``, ``--repo``,
    ``--base-url``, ``--email``); the tokens are secrets it names, never writes unless asked."""
    from spectryn_core.initcmd import InitField

    return [
        InitField("workspace", "workspace slug (Cloud: bitbucket.org/WORKSPACE/repo) or project key "
                  "(Server)", required=True, env=ENV_VARS["workspace"]),
        InitField("repo", "repository slug", required=True, env=ENV_VARS["repo"]),
        InitField("base_url", "API base URL (Server: https://HOST/rest/api/1.0)", default=CLOUD_API),
        InitField("email", "Atlassian account email (with an API token; leave empty for an access "
                  "token)", env=ENV_VARS["email"]),
        InitField("api_token", "Atlassian API token (with the email)", secret=True,
                  env=ENV_VARS["api_token"], together=("email",)),
        InitField("access_token", "or a repository/workspace access token (Server: a personal "
                  "access token)", secret=True, env=ENV_VARS["access_token"]),
    ]


def add_options(parser: argparse.ArgumentParser | Any) -> None:
    """Add the ``--bitbucket-*`` flags (dest ``bitbucket.<key>``, default None)."""
    plain = [
        ("--bitbucket-username", "username", "Bitbucket username (with --bitbucket-app-password)"),
        ("--bitbucket-app-password", "app_password", "app password (removed by Atlassian in 2026) or Server PAT"),
        ("--bitbucket-workspace", "workspace", "workspace slug (Cloud) or project key (Server)"),
        ("--bitbucket-repo", "repo", "repository slug"),
        ("--bitbucket-base-url", "base_url", f"API base URL (default {CLOUD_API})"),
        ("--bitbucket-email", "email", "Atlassian account email (with --bitbucket-api-token)"),
        ("--bitbucket-api-token", "api_token", "Atlassian API token (HTTP Basic with the email)"),
        ("--bitbucket-access-token", "access_token", "repository/workspace access token or Server PAT (Bearer)"),
        ("--bitbucket-epic-mode", "epic_mode", "epics become milestones (default) or issues"),
        ("--bitbucket-ca-bundle", "ca_bundle", "CA bundle file for TLS verification"),
    ]
    for flag, key, text in plain:
        kwargs: dict[str, Any] = {"dest": f"{SECTION}.{key}", "default": None, "help": text}
        if key == "epic_mode":
            kwargs["choices"] = ["milestone", "issue"]
        parser.add_argument(flag, **kwargs)
    parser.add_argument(
        "--bitbucket-rate-limit", dest=f"{SECTION}.rate_limit", type=int, default=None,
        help="requests per rolling hour for this credential (default 1000, or what Bitbucket "
             "states; 0 = do not count)",
    )
    parser.add_argument(
        "--max-wait", "--bitbucket-max-wait", dest=f"{SECTION}.max_wait", default=None,
        metavar="DURATION",
        help="longest time a run may wait for Bitbucket's rate limit, e.g. 10m (default: as long as "
             "it takes); past it the run stops, says when to run again and exits 1",
    )
    parser.add_argument(
        "--bitbucket-no-ssl-verify", dest=f"{SECTION}.ssl_verify", action="store_const",
        const=False, default=None, help="do not verify TLS certificates (self-signed servers)",
    )


@dataclass(frozen=True)
class BitbucketSettings:
    """Everything the client and tracker need, checked: which mode, which auth, which repository.

    ``auth`` is ``("bearer", token)`` or ``("basic", (user, secret))``; ``auth_kind`` names where
    it came from (``access_token``, ``api_token``, ``app_password``, ``server_pat``, ``server_basic``) for messages.
    ``repr`` never shows a secret.
    """

    base_url: str
    mode: str
    workspace: str
    repo: str
    auth_kind: str
    auth: tuple[str, Any] = field(repr=False)
    verify: bool | str = True
    timeout: float = 30.0
    retries: int = 5
    rate_limit: int | None = None
    rate_window: float = 3600.0
    max_wait: float | None = None
    state_dir: str | None = None
    workers: int | None = None
    epic_mode: str = "milestone"
    epic_label: str = "epic"
    story_label: str = "story"
    subtask_label: str = "subtask"
    #: Spec names (or emails) -> account id or ``{uuid}`` (see :mod:`spectryn_bitbucket.users`).
    users: dict[str, str] = field(default_factory=dict)
    user_lookup: bool = True
    #: The branch the specs are read from: each issue's "Managed in" line links to its spec there.
    branch: str | None = None
    #: Whether issues carry the visible "Managed in docs/specs/x.md" line.
    provenance_line: bool = True
    #: One line per setting that decides where the credentials go (``base_url``, the secret in
    #: use, TLS settings) with its value (never a secret's) and where it came from, for
    #: ``spectryn check``; empty when built without a Config.
    sources: tuple[str, ...] = ()
    #: ``host:port`` of the Bitbucket Pipelines auth proxy to send through (a review's report),
    #: with ``auth`` ``("none", "")``: no credential ever goes to the proxy.
    via_proxy: str = ""
    #: ``sync.trusted_accounts``, checked to be uuids or account ids (:mod:`.trusted`); what
    #: ``spectryn check`` weighs against the repository being public.
    trusted_accounts: tuple[str, ...] = ()

    @property
    def host(self) -> str:
        """Host name of the API (``api.bitbucket.org``)."""
        return urlsplit(self.base_url).hostname or self.base_url

    @property
    def web_host(self) -> str:
        """The host users know: ``bitbucket.org`` for Cloud, the server's host otherwise."""
        return "bitbucket.org" if self.host == "api.bitbucket.org" else self.host

    @property
    def web_root(self) -> str:
        """Where people browse the repository: ``https://bitbucket.org`` for Cloud, else the API's
        own scheme, host and port (the sandbox serves its pages there)."""
        if self.host == "api.bitbucket.org":
            return "https://bitbucket.org"
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"

    @property
    def quota_identity(self) -> str:
        """Whose quota requests count against: the user of Basic auth, else the token itself
        (each access token has its own). Only ever stored hashed (:mod:`ratelimit`)."""
        kind, value = self.auth
        if kind == "basic":
            return f"user:{value[0]}"
        return f"token:{value}"

    @property
    def full_name(self) -> str:
        """``workspace/repo``."""
        return f"{self.workspace}/{self.repo}"

    @property
    def server_root(self) -> str:
        """Server mode: the URL before ``/rest/`` (REST 1.0 endpoints hang below it)."""
        url = self.base_url.rstrip("/")
        return url.split("/rest/", 1)[0] if "/rest/" in url + "/" else url


def detect_mode(base_url: str, mode: str = "auto") -> str:
    """``cloud`` or ``server``: auto means server when the URL is not api.bitbucket.org and has
    a ``/rest/`` path (``https://bitbucket.company.com/rest/api/1.0``; the seed's ``.../2.0`` too)."""
    if mode in ("cloud", "server"):
        return mode
    host = urlsplit(base_url).hostname or ""
    return "server" if host != "api.bitbucket.org" and "/rest/" in base_url + "/" else "cloud"


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1): traffic that never leaves the machine."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def insecure_http(base_url: str) -> bool:
    """Plain http to a host that is not loopback: credentials would cross the network in clear."""
    parts = urlsplit(base_url)
    return parts.scheme.lower() == "http" and not is_loopback(parts.hostname or "")


def _missing(keys: list[str]) -> str:
    return ", ".join(f"{SECTION}.{k} ({ENV_VARS.get(k, '')})" for k in keys)


def settings_from_section(
    values: dict[str, Any],
    workers: int | None = None,
    state_dir: str | None = None,
    source: Callable[[str], str] = lambda key: f"{SECTION}.{key}",
) -> BitbucketSettings:
    """Check a validated ``bitbucket`` section and resolve auth and mode.

    Raises :class:`~spectryn_core.errors.ConfigError` naming the missing keys and their
    environment variables - before any request is made. ``source(key)`` names where a key's
    value came from, for messages.
    """
    def get(key: str) -> Any:
        return values.get(key)

    base_url = (get("base_url") or CLOUD_API).rstrip("/")
    if insecure_http(base_url) and not get("allow_insecure_http"):
        https = "https://" + base_url.split("://", 1)[1]
        raise ConfigError(
            f"{source('base_url')}: bitbucket.base_url {base_url} is plain http to "
            f"{urlsplit(base_url).hostname}: the credentials would cross the network unencrypted",
            f"use {https}; only if the network is yours, set bitbucket.allow_insecure_http: true",
        )
    mode = detect_mode(base_url, get("mode") or "auto")
    missing = [k for k in ("workspace", "repo") if not get(k)]
    if missing:
        raise ConfigError(
            f"Bitbucket {' and '.join(missing)} not set: {_missing(missing)}",
            "set them in .spectryn.yaml under 'bitbucket:', in the environment, or with "
            "--bitbucket-workspace / --bitbucket-repo",
        )
    if mode == "server":
        # Data Center takes a personal access token as Bearer, or Basic: username + password
        # (or username + token)
        if get("access_token"):
            auth_kind, auth = "server_pat", ("bearer", get("access_token"))
        elif get("username") and get("app_password"):
            auth_kind, auth = "server_basic", ("basic", (get("username"), get("app_password")))
        elif get("app_password"):
            auth_kind, auth = "server_pat", ("bearer", get("app_password"))
        else:
            raise ConfigError(
                f"no Bitbucket Server credentials: set {_missing(['access_token'])}, or "
                f"{_missing(['username', 'app_password'])} (a password or a token)",
                "create a token in Bitbucket Server: Personal settings -> HTTP access tokens",
            )
    elif get("access_token"):
        auth_kind, auth = "access_token", ("bearer", get("access_token"))
    elif get("email") and get("api_token"):
        auth_kind, auth = "api_token", ("basic", (get("email"), get("api_token")))
    elif get("username") and get("app_password"):
        auth_kind, auth = "app_password", ("basic", (get("username"), get("app_password")))
    else:
        raise ConfigError(
            "no Bitbucket credentials: set "
            f"{_missing(['email', 'api_token'])}, or {_missing(['access_token'])}"
            f" (or the older {_missing(['username', 'app_password'])})",
            "create an API token at https://id.atlassian.com/manage-profile/security/api-tokens "
            "with scopes: issues read+write, repository read, pull requests read",
        )
    verify: bool | str = True
    if get("ca_bundle"):
        verify = str(get("ca_bundle"))
    if get("ssl_verify") is False:
        verify = False
    return BitbucketSettings(
        base_url=base_url,
        mode=mode,
        workspace=str(get("workspace")),
        repo=str(get("repo")),
        auth_kind=auth_kind,
        auth=auth,
        verify=verify,
        timeout=float(get("timeout") or 30.0),
        retries=int(get("retries") if get("retries") is not None else 5),
        rate_limit=None if get("rate_limit") is None else int(get("rate_limit")),
        rate_window=float(get("rate_window") or 3600.0),
        max_wait=None if get("max_wait") is None else parse_duration(get("max_wait")),
        state_dir=state_dir,
        workers=get("workers") or workers,
        epic_mode=get("epic_mode") or "milestone",
        epic_label=get("epic_label") or "epic",
        story_label=get("story_label") or "story",
        subtask_label=get("subtask_label") or "subtask",
        users=dict(get("users") or {}),
        user_lookup=get("user_lookup") is not False,
        branch=str(get("branch")).strip() or None if get("branch") else None,
        provenance_line=get("provenance_line") is not False,
    )


def settings_from_config(config: Any) -> BitbucketSettings:
    """:func:`settings_from_section` for a :class:`spectryn_core.config.Config`, after checking
    that the credentials go only to a host their own source allows (:func:`check_host_binding`)."""
    values = dict(config.section(SECTION) or {})
    workers = None
    try:
        workers = config.get("sync.workers")
    except Exception:  # noqa: BLE001 - an unknown key is simply "not set"
        workers = None
    settings = settings_from_section(values, workers=workers,
                                     state_dir=state_dir_of(config),
                                     source=lambda key: str(config.origin(f"{SECTION}.{key}")))
    secret = secret_key(settings.auth_kind, values)
    check_host_binding(config, settings.base_url, secret)
    trusted: tuple[str, ...] = tuple(config.get("sync.trusted_accounts") or ())
    if settings.mode != "server":  # Data Center has no issue tracker: no reporter to weigh
        trusted = checked_accounts(trusted, config.origin("sync.trusted_accounts"))
    sources = []
    for key in (*ROUTING_KEYS, secret):
        value = "" if key in SECRET_KEYS else f" = {values.get(key)}"
        sources.append(f"{SECTION}.{key}{value} (from {_describe(config.origin(f'{SECTION}.{key}'))})")
    return replace(settings, sources=tuple(sources), trusted_accounts=trusted)


def secret_key(auth_kind: str, values: dict[str, Any]) -> str:
    """The config key holding the secret that ``auth_kind`` sends."""
    if auth_kind == "server_pat":
        return "access_token" if values.get("access_token") else "app_password"
    if auth_kind == "server_basic":
        return "app_password"
    return auth_kind


def check_host_binding(config: Any, base_url: str, secret: str) -> None:
    """Credentials are bound to the host they were given for.

    A ``base_url`` that only a repository file names (``.spectryn.yaml``, ``pyproject.toml``, a
    git-tracked ``.env``) may point at the Cloud API, at a loopback address (the sandbox: the
    request never leaves the machine), at a host the user named themselves (flag, environment,
    user config), or at any host when the secret comes from a repository file too (they travel
    together; that file was warned about). Anything else raises ConfigError before any request.
    """
    origin = config.origin(f"{SECTION}.base_url")
    if origin.trusted or is_loopback(urlsplit(base_url).hostname or ""):
        return
    allowed = {_origin(CLOUD_API)} | {
        _origin(str(value)) for value, where in config.origins(f"{SECTION}.base_url")
        if where.trusted and value}
    if _origin(base_url) in allowed:
        return
    given = config.origin(f"{SECTION}.{secret}")
    if not given.trusted:
        return
    host = urlsplit(base_url).hostname
    raise ConfigError(
        f"{origin}: bitbucket.base_url names {host}, and only this file of the repository does: "
        f"your credentials ({given.label}) were not given for {host}, so nothing was sent",
        f"if {host} is yours, set BITBUCKET_BASE_URL={base_url} where the secret is set "
        "(or pass --bitbucket-base-url, or put base_url in your user config)",
    )


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url.rstrip("/"))
    try:
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _describe(origin: Any) -> str:
    """``environment BITBUCKET_BASE_URL``, ``command line --bitbucket-base-url``, ``user config
    /home/me/.config/spectryn/config.yaml:3``, ``repository file /repo/.spectryn.yaml:2``."""
    if origin.kind == "cli":
        return f"command line {origin.label}"
    if origin.path is not None:
        where = f"{origin.path}:{origin.line}" if origin.line else str(origin.path)
        return f"{'repository file' if origin.kind == 'repository' else 'user config'} {where}"
    return str(origin.label)


def state_dir_of(config: Any) -> str:
    """The state folder (``sync.state_dir`` or platformdirs'), where the rate-limit log lives."""
    try:
        state_dir = config.get("sync.state_dir")
    except Exception:  # noqa: BLE001 - an unknown key is simply "not set"
        state_dir = None
    if not state_dir:
        import platformdirs

        state_dir = platformdirs.user_state_dir("spectryn")
    return str(Path(state_dir).expanduser())
