"""The marshmallow schema of the ``bitbucket`` config section (names, environment variables and
flags are in :mod:`spectryn_bitbucket.config`). A module of its own so that listing plugins or
building ``--help`` does not import marshmallow; the config loader imports it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from spectryn_bitbucket.config import CLOUD_API, parse_duration
from spectryn_core.config import WholeNumber


class Duration(fields.Field):
    """Seconds, written as a number or ``90s`` / ``10m`` / ``1h``."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class BitbucketSchema(Schema):
    """Validates the ``bitbucket`` section of ``.spectryn.yaml`` / ``.spectryn.toml``."""

    username = fields.String(load_default=None, allow_none=True)
    app_password = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)
    api_token = fields.String(load_default=None, allow_none=True)
    access_token = fields.String(load_default=None, allow_none=True)
    workspace = fields.String(load_default=None, allow_none=True)
    repo = fields.String(load_default=None, allow_none=True)
    base_url = fields.Url(load_default=CLOUD_API, require_tld=False, schemes={"http", "https"})
    mode = fields.String(load_default="auto", validate=validate.OneOf(["auto", "cloud", "server"]))
    ssl_verify = fields.Boolean(load_default=True)
    ca_bundle = fields.String(load_default=None, allow_none=True)
    timeout = fields.Float(load_default=30.0, validate=validate.Range(min=0, min_inclusive=False))
    epic_mode = fields.String(load_default="milestone", validate=validate.OneOf(["milestone", "issue"]))
    epic_label = fields.String(load_default="epic")
    story_label = fields.String(load_default="story")
    subtask_label = fields.String(load_default="subtask")
    status_mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    priority_mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    rate_limit = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=0))
    rate_window = Duration(load_default=3600.0, validate=validate.Range(min=0, min_inclusive=False))
    max_wait = Duration(load_default=None, allow_none=True)
    workers = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(min=1))
    retries = WholeNumber(load_default=5, validate=validate.Range(min=0))
    users = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    user_lookup = fields.Boolean(load_default=True)
    allow_insecure_http = fields.Boolean(load_default=False)
    branch = fields.String(load_default=None, allow_none=True)
    provenance_line = fields.Boolean(load_default=True)
    pipelines_proxy = fields.String(load_default=None, allow_none=True)
