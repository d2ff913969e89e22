"""The error the sandbox's request handling raises; the handler turns it into an error response."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer: status, message, optional detail (text, or an object such as the
    ``{"required", "granted"}`` of a missing scope) and per-field messages.

    Rendered by the handler as Bitbucket Cloud's body
    ``{"type": "error", "error": {"message", "detail", "fields"}}`` (or Data Center's
    ``{"errors": [{"message"}]}`` in server mode).
    """

    def __init__(self, status: int, message: str, detail: Any = None,
                 fields: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None,
                 data: dict[str, Any] | None = None):
        super().__init__(message)
        #: ``error.data`` (and, as the real 410s carry it, the body's top-level ``data`` too)
        self.data = data
        self.status = status
        self.message = message
        self.detail = detail
        self.fields = fields
        self.headers = headers or {}

    def cloud_body(self) -> dict[str, Any]:
        """The Bitbucket Cloud error document."""
        error: dict[str, Any] = {"message": self.message}
        if self.detail:
            error["detail"] = self.detail
        if self.fields:
            error["fields"] = self.fields
            error["data"] = {"fields": self.fields}
        if self.data:
            error["data"] = self.data
            return {"type": "error", "error": error, "data": self.data}
        return {"type": "error", "error": error}

    def server_body(self) -> dict[str, Any]:
        """The Bitbucket Data Center error document."""
        return {"errors": [{"context": None, "message": self.message, "exceptionName": None}]}
