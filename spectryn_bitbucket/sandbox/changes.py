"""Issue change records: what an edit records, and a ``POST .../changes`` body as an edit.

Atlassian's OpenAPI text (``issue_change``, and the ``/issues/{id}/changes`` operations): "Each
time an issue is edited in the UI or through the API, an immutable change record is created";
``changes`` holds ``{field: {old, new}}`` for ``title``, ``content`` (the raw text, whole, both
sides), ``state``, ``kind``, ``priority``, ``milestone``, ``component``, ``version`` and the
assignee (``assignee``: the nickname, deprecated; ``assignee_account_id``). "The fields of the
changes object are strings, not objects" (names, not ids; an absent value is ``""``, as in the
documented example). Atlassian's own client (atlascode) also reads ``changes.attachment.new``
(an uploaded file's name), so an upload records one too.

Where the documentation is silent, the stricter reading:
- a PUT that changes no recorded field records nothing (there is no change to record); a POST
  records every field it names, even one set to its current value;
- a change's message is not listed among the issue's comments (the change and comment ids share
  one sequence: the documented change 2 links to ``#comment-2``);
- ``changes.assignee`` (a username) is refused in a POST: usernames left the API, and the docs
  say to use ``assignee_account_id``; an empty ``assignee_account_id`` is refused too (Atlassian's
  own client: "the changes endpoint doesn't work for unassigning users"; a PUT with
  ``assignee: null`` unassigns).
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError

#: The recorded fields, in the order a record lists them.
FIELDS = ("title", "content", "state", "kind", "priority", "milestone", "component", "version",
          "assignee", "assignee_account_id")
#: What a POST may set: the recorded fields but the deprecated ``assignee``.
POSTABLE = tuple(f for f in FIELDS if f != "assignee")


def snapshot(record: dict[str, Any]) -> dict[str, str]:
    """An issue record's recorded fields as the strings a change holds."""
    assignee = record.get("assignee") or {}
    return {
        "title": record["title"], "content": record.get("content_raw") or "",
        "state": record["state"], "kind": record["kind"], "priority": record["priority"],
        "milestone": record.get("milestone") or "", "component": record.get("component") or "",
        "version": record.get("version") or "",
        "assignee": assignee.get("nickname", "") if isinstance(assignee, dict) else "",
        "assignee_account_id": assignee.get("account_id", "") if isinstance(assignee, dict) else "",
    }


def diff(before: dict[str, str], after: dict[str, str], named: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """``{field: {old, new}}`` of the fields that differ (and of ``named`` ones, even if equal)."""
    return {field: {"old": before[field], "new": after[field]}
            for field in FIELDS if before[field] != after[field] or field in named}


def edit_from_post(body: Any) -> tuple[dict[str, Any], tuple[str, ...], str, str]:
    """A ``POST .../changes`` body -> (the PUT-style edit, the fields it names, message raw,
    message markup); 400 when it names nothing, an unknown field, or a value that is not a
    string."""
    if not isinstance(body, dict):
        raise ApiError(400, "Bad request", "The request body must be a JSON object.")
    changes = body.get("changes")
    if not isinstance(changes, dict) or not changes:
        raise ApiError(400, "changes: This field is required.",
                       "Name at least one field: {\"changes\": {\"state\": {\"new\": \"resolved\"}}}.",
                       fields={"changes": ["This field is required."]})
    edit: dict[str, Any] = {}
    for field, change in changes.items():
        if field == "assignee":
            raise ApiError(400, "changes.assignee: usernames are no longer supported; use assignee_account_id.",
                           fields={"changes.assignee": ["Use changes.assignee_account_id."]})
        if field not in POSTABLE:
            raise ApiError(400, f"changes.{field}: not a field of an issue change.",
                           f"Fields: {', '.join(POSTABLE)}.", fields={f"changes.{field}": ["Unknown field."]})
        new = change.get("new") if isinstance(change, dict) else None
        if not isinstance(new, str):
            raise ApiError(400, f"changes.{field}.new: This field is required and must be a string.",
                           fields={f"changes.{field}.new": ["This field is required."]})
        if field == "content":
            edit["content"] = {"raw": new}
        elif field in ("milestone", "component", "version"):
            edit[field] = {"name": new} if new else None
        elif field == "assignee_account_id":
            if not new:
                raise ApiError(400, "changes.assignee_account_id.new: an account id is required.",
                               "To unassign, PUT the issue with \"assignee\": null.",
                               fields={"changes.assignee_account_id.new": ["This field may not be blank."]})
            edit["assignee"] = {"account_id": new}
        else:
            edit[field] = new
    named = tuple(changes)
    if "assignee_account_id" in named:
        named += ("assignee",)
    message = body.get("message")
    raw = message.get("raw") if isinstance(message, dict) else None
    markup = message.get("markup") if isinstance(message, dict) else None
    return edit, named, raw if isinstance(raw, str) else "", markup if isinstance(markup, str) else "markdown"
