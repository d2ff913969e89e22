"""Who wins, per field, when a field changed in the spec and in the tracker since they last agreed.

``sync.conflict_policy`` (config: a mapping; ``--conflict-policy``: ``state=tracker,content=spec``)
gives each field one of:

- ``ask`` (the default): a conflict, left alone and shown with both values (and the base text,
  for text);
- ``spec``: the spec's value is sent; a text is merged first and only the lines both sides
  changed take the spec's version (the tracker's other edits stay);
- ``tracker``: the tracker's value is kept; a text is merged first and only the lines both sides
  changed keep the tracker's version (the spec's other edits are sent).

``--force`` stays what it was: the spec's value for everything still in conflict after merging.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Choice = Literal["spec", "tracker", "ask"]
CHOICES: tuple[Choice, ...] = ("spec", "tracker", "ask")
#: The fields a policy may name (the fields a tracker item has; the markdown/Bitbucket names).
FIELDS = ("title", "content", "state", "priority", "kind", "milestone", "component", "version",
          "assignee")


class PolicyError(ValueError):
    """A policy that names an unknown field or choice (the message says which)."""


@dataclass(frozen=True)
class Policy:
    """The choice per field (a field not named is ``ask``)."""

    choices: Mapping[str, Choice] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Choice:
        return self.choices.get(name, "ask")

    @classmethod
    def parse(cls, value: object) -> Policy:
        """A policy from config (``{field: choice}``) or a flag (``"field=choice,..."``); raises
        :class:`PolicyError` naming what is wrong."""
        if value is None or value == "":
            return cls()
        if isinstance(value, str):
            pairs: dict[str, object] = {}
            for part in value.split(","):
                name, equals, choice = part.partition("=")
                if not equals:
                    raise PolicyError(f"'{part.strip()}' is not FIELD=CHOICE (e.g. state=tracker)")
                pairs[name.strip()] = choice.strip()
            value = pairs
        if not isinstance(value, Mapping):
            raise PolicyError("expected a mapping of field to spec, tracker or ask")
        choices: dict[str, Choice] = {}
        for name, choice in value.items():
            if name not in FIELDS:
                raise PolicyError(f"unknown field '{name}' (fields: {', '.join(FIELDS)})")
            if choice not in CHOICES:
                raise PolicyError(f"{name}: '{choice}' is not one of {', '.join(CHOICES)}")
            choices[str(name)] = choice
        return cls(choices)

    def describe(self) -> str:
        """``state=tracker, content=spec`` (the fields not ``ask``)."""
        return ", ".join(f"{name}={choice}" for name, choice in self.choices.items() if choice != "ask")
