"""The marshmallow schema of the ``attachments`` config section. A module of its own so that
listing plugins does not import marshmallow; ``config_sections`` imports it."""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields, validate

from spectryn_core.config import WholeNumber
from spectryn_markdown.attachments import DEFAULT_MAX_SIZE


class AttachmentsSchema(Schema):
    """The ``attachments`` section: where attached files may come from, and how large they may be."""

    class Meta:
        unknown = RAISE

    root = fields.String(load_default=None, allow_none=True)
    max_size = WholeNumber(load_default=DEFAULT_MAX_SIZE, validate=validate.Range(min=1))
