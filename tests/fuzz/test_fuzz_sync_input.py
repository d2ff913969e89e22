"""Property tests beyond the parser's and the loader's own (tests/markdown, tests/core):

- a spec the parser accepts (no errors) always goes through the engine's item building and the
  Bitbucket rendering - the steps between parsing and the first request - without an exception
  other than the documented :class:`SpecError`;
- any config document (random sections, keys and values, YAML or TOML) and any environment values
  give a Config or a :class:`ConfigError` - never another exception - and the Bitbucket settings
  built from a valid config give settings or a ConfigError; a secret value never appears in the
  error message.
"""

from __future__ import annotations

import string
import tomllib
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spectryn_bitbucket.config import ENV_VARS, config_section, settings_from_section
from spectryn_bitbucket.render import RenderContext, render
from spectryn_core.config import load_config
from spectryn_core.desired import build_items
from spectryn_core.errors import ConfigError, SpecError
from spectryn_core.plugins import load_plugins
from spectryn_markdown.parser import parse_text

DATA = Path(__file__).resolve().parents[1] / "data" / "specs"
LINES = (DATA / "format_reference.md").read_text(encoding="utf-8").split("\n")
FAKE = Path("/nonexistent/spec.md")
SECRET = "spx-fuzz-secret-Qm3Vn8"

PLUGINS = load_plugins()


def _config(tmp: Path, env: dict[str, str] | None = None) -> Any:
    sections = [config_section()]
    return load_config(sections, env=env or {}, cwd=tmp, user_config_dir=tmp / "none")


@st.composite
def mutated_spec(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(0, 6))):
        index = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["drop", "dup", "swap", "edit"]))
        if how == "drop":
            del lines[index]
        elif how == "dup":
            lines.insert(index, lines[index])
        elif how == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        else:
            lines[index] = draw(st.sampled_from(["", "| x |", "#### Subtasks", "- [ ] y",
                                                 "### US-777: New", "| 9 | Late | z | 2 | Done |"]))
        if not lines:
            lines = [""]
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=mutated_spec())
def test_accepted_specs_build_and_render(text: str, tmp_path: Path) -> None:
    spec = parse_text(text, FAKE)
    if spec.errors:
        return
    config = _config(tmp_path)
    mappers = PLUGINS.mapper_hooks("default")
    try:
        items = build_items(spec, tracker="bitbucket", config=config, mappers=mappers)
    except SpecError as error:
        assert error.problems
        return
    context = RenderContext(full_name="w/r", epic_mode="milestone", epic_label="epic",
                            story_label="story", subtask_label="subtask")
    for item in items:
        rendered = render(item, {}, context)
        assert rendered.fields.get("title") or rendered.skip


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                    st.just(SECRET))
KEYS = st.sampled_from(["execute", "workers", "output", "tracker", "force", "status_mapping",
                        "access_token", "api_token", "base_url", "timeout", "retries",
                        "epic_mode", "rate_limit", "ssl_verify", "workspace", "repo", "x"])
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(string.ascii_lowercase, max_size=6),
                                                 inner, max_size=3)), max_leaves=6)
DOCUMENTS = st.dictionaries(st.sampled_from(["sync", "bitbucket", "plugins", "jira"]),
                            st.one_of(st.dictionaries(KEYS, VALUES, max_size=5), SCALARS),
                            max_size=3)


def _check_error(error: ConfigError) -> None:
    assert error.message and SECRET not in str(error)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=DOCUMENTS, as_toml=st.booleans())
def test_any_config_document_loads_or_raises_config_error(document: dict[str, Any],
                                                           as_toml: bool, tmp_path: Path) -> None:
    path = tmp_path / (".spectryn.toml" if as_toml else ".spectryn.yaml")
    for other in tmp_path.glob(".spectryn.*"):
        other.unlink()
    if as_toml:
        try:
            text = _toml(document)
            tomllib.loads(text)
        except (TypeError, ValueError, tomllib.TOMLDecodeError):
            return  # not expressible in TOML (None, nested lists of tables...)
    else:
        text = yaml.safe_dump(document)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    try:
        config = _config(tmp_path)
        settings_from_section(config.section("bitbucket"))
    except ConfigError as error:
        _check_error(error)


@settings(max_examples=200, deadline=None)
@given(values=st.dictionaries(st.sampled_from(sorted(ENV_VARS.values())),
                              st.one_of(st.text(max_size=20), st.just(SECRET)), max_size=6))
def test_any_environment_loads_or_raises_config_error(values: dict[str, str]) -> None:
    values = {k: v.replace("\x00", "") for k, v in values.items()}
    try:
        config = _config(Path("/nonexistent-cwd"), env=values)
        settings_from_section(config.section("bitbucket"))
    except ConfigError as error:
        _check_error(error)


def _toml(document: dict[str, Any]) -> str:
    """A tiny TOML writer for the shapes above (tables of scalars, lists and inline tables)."""
    def value(v: Any) -> str:
        if v is None:
            raise TypeError("TOML has no null")
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').encode(
                "unicode_escape").decode("ascii").replace("\\\\\\\\", "\\\\") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"

    lines = []
    for section, body in document.items():
        if isinstance(body, dict):
            lines.append(f"[{section}]")
            lines.extend(f'"{k}" = {value(v)}' for k, v in body.items())
        else:
            lines.insert(0, f'"{section}" = {value(body)}')
    return "\n".join(lines) + "\n"
