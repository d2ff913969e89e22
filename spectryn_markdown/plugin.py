"""The markdown reader plugin: the ``parse_spec`` hook for ``.md`` / ``.markdown`` / ``.mdown`` files."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spectryn_core import hookimpl

if TYPE_CHECKING:  # annotations only: `spectryn plugins` need not import them (start-up, issue 15)
    from spectryn_core.config import ConfigSection
    from spectryn_core.model import Spec
    from spectryn_core.spec_edits import EditedSpec, SpecEdit
    from spectryn_markdown.attachments import AttachmentRules

#: File suffixes this parser reads.
SUFFIXES = (".md", ".markdown", ".mdown")

# markdown-it-py is imported when a file is parsed, not when plugins are listed; without the
# [markdown] extra the plugin refuses to load so `spectryn plugins` names the fix.
if importlib.util.find_spec("markdown_it") is None:
    raise ModuleNotFoundError("No module named 'markdown_it'", name="markdown_it")


@hookimpl
def config_sections() -> list[ConfigSection]:
    """The ``attachments`` section (``SPECTRYN_ATTACHMENTS_ROOT``, ``SPECTRYN_ATTACHMENTS_MAX_SIZE``)."""
    from spectryn_core.config import ConfigSection  # marshmallow: only when a run loads its config
    from spectryn_markdown.schema import AttachmentsSchema

    env = {"root": "SPECTRYN_ATTACHMENTS_ROOT", "max_size": "SPECTRYN_ATTACHMENTS_MAX_SIZE"}
    # a repository file may not widen what a spec may attach (and send)
    return [ConfigSection("attachments", AttachmentsSchema, env=env, trusted_only=frozenset({"root"}))]


def attachment_rules(path: Path, config: Any) -> AttachmentRules:
    """The spec's attachment rules from the ``attachments`` section (defaults without config)."""
    from spectryn_markdown.attachments import AttachmentRules

    section = config.section("attachments") if config is not None else {}
    root = section.get("root")
    return AttachmentRules.for_spec(path, Path(root) if root else None, section.get("max_size"))


@hookimpl
def parse_spec(path: Path, config: Any) -> Spec | None:
    """Parse a markdown spec; None for other suffixes. Config status/priority mapping keys are accepted words."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        return None
    statuses: list[str] = []
    priorities: list[str] = []
    if config is not None:
        statuses = list(config.mapping("status"))
        priorities = list(config.mapping("priority"))
    from spectryn_markdown.parser import parse_file

    return parse_file(path, extra_statuses=statuses, extra_priorities=priorities,
                      attachments=attachment_rules(path, config),
                      max_size=config.get("sync.max_spec_size") if hasattr(config, "get") else None)


@hookimpl
def edit_spec(path: Path, text: str, edits: list[SpecEdit]) -> EditedSpec | None:
    """Minimal cell edits of a markdown spec (issue links, pulled values); None for other suffixes."""
    if Path(path).suffix.lower() not in SUFFIXES:
        return None
    from spectryn_markdown.writeback import edit_spec_text

    return edit_spec_text(text, Path(path), edits)
