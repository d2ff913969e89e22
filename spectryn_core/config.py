"""Configuration: find the config files, merge every layer, validate each section.

Precedence, highest first: CLI flags > environment > ``.env`` > project file > user file >
defaults.

- Project file: ``--config FILE``, else the first of ``.spectryn.yaml`` / ``.spectryn.yml`` /
  ``.spectryn.toml``, else ``[tool.spectryn]`` in ``pyproject.toml``, in the working directory or
  the nearest parent up to the repository root (:func:`search_folders`).
- User file: ``config.yaml`` / ``config.yml`` / ``config.toml`` in the platformdirs config folder
  (``SPECTRYN_CONFIG_DIR`` overrides the folder).

- ``.env``: in the working directory, then in the repository root (python-dotenv; a variable
  already set wins; only the config variables are read, nothing is put into ``os.environ``).
- Every value keeps its :class:`Origin`. A config file or ``.env`` that travels with the
  repository (:mod:`spectryn_core.worktree`: git tracks it, a tracked symlink or a submodule leads
  to it, or any file in a folder that is not a git work tree) is a *repository* file: keys a
  section marks ``trusted_only`` are ignored there with a warning, and plugins may refuse other
  values from it (the Bitbucket plugin binds credentials to the host they were given for).

Each plugin declares its sections (:class:`ConfigSection`); a key takes its value from the highest
layer that sets it, then the section is validated by its marshmallow schema. Every problem is
collected and raised as one :class:`~spectryn_core.errors.ConfigError`. Secret values never appear in
messages, warnings, ``repr`` or :meth:`Config.redacted`.
"""

from __future__ import annotations

import copy
import os
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from spectryn_core.errors import ConfigError
from spectryn_core.redact import REDACTED, REDACTOR
from spectryn_core.worktree import Repository

PROJECT_FILES = (".spectryn.yaml", ".spectryn.yml", ".spectryn.toml")
USER_FILES = ("config.yaml", "config.yml", "config.toml")
DEFAULT = "default"


@dataclass(frozen=True)
class ConfigSection:
    """One config section a plugin reads: its name, schema, environment variables and secrets.

    ``env`` maps a key to its variable, or to a tuple of variables of which the first one set
    wins (``("BITBUCKET_REPO", "BITBUCKET_REPO_SLUG")``).
    """

    name: str
    schema: type[Schema]
    env: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    secrets: frozenset[str] = frozenset()
    #: Keys a repository file may not set (they would weaken where or how credentials are sent):
    #: their values there are ignored with a warning naming the file.
    trusted_only: frozenset[str] = frozenset()


#: Kinds of config sources. ``repository`` is a file that travels with the repository (a config
#: file or ``.env`` git tracks or reaches through a tracked link or a submodule, or one in a folder
#: that is not a git work tree); every other kind was given by the user: flags, the environment,
#: the user config file, an untracked ``.env``.
SourceKind = Literal["default", "user", "repository", "environment", "cli"]


@dataclass(frozen=True)
class Origin:
    """Where one config value came from: its kind, a label (``environment BITBUCKET_BASE_URL``,
    ``--bitbucket-base-url``, a file) and, for files, the path and line."""

    kind: SourceKind
    label: str
    path: Path | None = None
    line: int | None = None

    @property
    def trusted(self) -> bool:
        """Whether the user gave it (anything but a repository file)."""
        return self.kind != "repository"

    def __str__(self) -> str:
        if self.path is not None and self.line:
            return f"{self.path}:{self.line}"
        return self.label


class WholeNumber(fields.Integer):
    """An integer that refuses ``4.5`` and ``true`` instead of silently truncating or converting
    them (``"8"`` and ``8.0`` are fine). Every whole-number config key uses it."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


#: A key ``--adopt`` / ``sync.adopt`` may name: a story, subtask or epic key.
ADOPT_KEY = r"^[A-Z][A-Z0-9_]*-\d+(\.\d+)?$"


class ConflictPolicyField(fields.Field[dict[str, str]]):
    """``sync.conflict_policy``: ``{field: spec|tracker|ask}`` in a file, ``field=choice,...`` in
    the environment or a flag (see :mod:`spectryn_core.policy`); loads as the mapping."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        from spectryn_core.policy import Policy, PolicyError

        try:
            return dict(Policy.parse(value).choices)
        except PolicyError as error:
            raise ValidationError(str(error)) from None


def _mapping_field() -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class SyncSchema(Schema):
    """The ``sync`` section: how a sync runs."""

    class Meta:
        unknown = RAISE

    execute = fields.Boolean(load_default=False)
    verbose = fields.Boolean(load_default=False)
    tracker = fields.String(load_default=None, allow_none=True)
    mapper = fields.String(load_default="default")
    workers = WholeNumber(load_default=8, validate=validate.Range(min=1, max=32))
    output = fields.String(load_default="text", validate=validate.OneOf(["text", "json"]))
    force = fields.Boolean(load_default=False)
    write_back = fields.Boolean(load_default=False)
    status_mapping = _mapping_field()
    priority_mapping = _mapping_field()
    state_dir = fields.String(load_default=None, allow_none=True)
    log_dir = fields.String(load_default=None, allow_none=True)
    #: Bytes a spec file may have (spectryn_core.spec_files.DEFAULT_MAX_SPEC_SIZE: 32 MiB).
    max_spec_size = WholeNumber(load_default=32 * 2**20, validate=validate.Range(min=1))
    adopt = fields.List(fields.String(validate=validate.Regexp(
        ADOPT_KEY, error="not a key (e.g. US-004 or US-004.2)")), load_default=list)
    trusted_accounts = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    conflict_policy = ConflictPolicyField(load_default=dict)
    recheck_pull_requests = fields.Boolean(load_default=False)


class PluginsSchema(Schema):
    """The ``plugins`` section: which installed plugins not to load."""

    class Meta:
        unknown = RAISE

    disable = fields.List(fields.String(), load_default=list)


def core_sections() -> list[ConfigSection]:
    """The core's own sections: `sync` and `plugins`."""
    return [
        ConfigSection(
            "sync",
            SyncSchema,
            env={
                "tracker": "SPECTRYN_TRACKER",
                "workers": "SPECTRYN_WORKERS",
                "state_dir": "SPECTRYN_STATE_DIR",
                "log_dir": "SPECTRYN_LOG_DIR",
                "max_spec_size": "SPECTRYN_MAX_SPEC_SIZE",
                "trusted_accounts": "SPECTRYN_TRUSTED_ACCOUNTS",
                "conflict_policy": "SPECTRYN_CONFLICT_POLICY",
            },
        ),
        ConfigSection("plugins", PluginsSchema, env={"disable": "SPECTRYN_DISABLE_PLUGINS"}),
    ]


@dataclass
class _Layer:
    """One source of raw values: ``data[section][key]``, each key labelled by where it came from."""

    data: dict[str, Any]
    label: str | Callable[[str, str], str]  # a function for layers with one label per key
    path: Path | None = None
    kind: SourceKind = "user"
    lines: dict[tuple[str, str], int] = field(default_factory=dict)

    def source(self, section: str, key: str) -> str:
        return self.label(section, key) if callable(self.label) else self.label

    def origin(self, section: str, key: str) -> Origin:
        return Origin(self.kind, self.source(section, key), self.path,
                      self.lines.get((section, key)))


_CHAR_NAMES = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)", " ": "a space", "\t": "a tab"}


def _describe_chars(chars: str) -> str:
    """``a carriage return (CR) and a line feed (LF)``: which characters, never the secret."""
    names = list(dict.fromkeys(_CHAR_NAMES.get(c, f"U+{ord(c):04X}") for c in chars))
    return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


def _flag_name(section: str, key: str) -> str:
    """The CLI flag that sets ``section.key``: core sync flags are unprefixed (``--execute``)."""
    name = key if section == "sync" else f"{section}-{key}"
    return "--" + name.replace("_", "-")


class Config:
    """The merged, validated configuration of one run; build it with :func:`load_config`.

    ``tracker`` is the chosen tracker (the ``tracker`` argument, else ``sync.tracker``), ``files``
    the files read, highest precedence first, and ``warnings`` what the CLI should print (never
    containing a secret).
    """

    def __init__(
        self,
        sections: Mapping[str, ConfigSection],
        layers: list[_Layer],
        tracker_arg: str | None,
        warnings: list[str],
    ) -> None:
        self._sections = dict(sections)
        self._layers = layers  # lowest precedence first
        self._tracker_arg = tracker_arg
        self.files: list[Path] = [layer.path for layer in reversed(layers) if layer.path]
        self._given_warnings = list(warnings)
        self.warnings: list[str] = list(warnings)
        self._values: dict[str, dict[str, Any]] = {}
        self._sources: dict[str, str] = {}
        self._origins: dict[str, list[tuple[Any, Origin]]] = {}
        REDACTOR.add(self._raw_secrets())  # before any message can show one, valid or not
        REDACTOR.url_secrets(value for layer in layers for table in layer.data.values()
                             if isinstance(table, Mapping) for value in table.values())
        self.warnings.extend(self._tidy_secrets())
        self._validate()
        self.tracker: str | None = tracker_arg or self._values["sync"].get("tracker")

    def _validate(self) -> None:
        raw: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        shadowed: list[tuple[str, Any, Any, str]] = []  # values a higher layer overrides
        for layer in self._layers:
            for name, section in layer.data.items():
                if name not in self._sections:
                    if isinstance(layer.label, str):
                        self.warnings.append(
                            f"{layer.label}: section [{name}] is not used by any installed plugin"
                            " (is its plugin installed?); ignored"
                        )
                    continue
                if section is None:  # a YAML section with every key commented out
                    continue
                if not isinstance(section, Mapping):
                    problems.append(f"{layer.source(name, '')}: {name}: must be a table of keys, "
                                    f"not {type(section).__name__}")
                    continue
                for key, value in section.items():
                    if layer.kind == "repository" and key in self._sections[name].trusted_only:
                        self.warnings.append(
                            f"{layer.origin(name, str(key))}: {name}.{key} is ignored: a file in the "
                            "repository cannot weaken how credentials are sent; set it in the "
                            "environment, on the command line or in your user config")
                        # still checked: a broken value is an error wherever it is
                        shadowed.append((name, key, value, str(layer.origin(name, str(key)))))
                        continue
                    self._origins.setdefault(f"{name}.{key}", []).append(
                        (value, layer.origin(name, str(key))))
                    if key in raw.get(name, {}):
                        shadowed.append((name, key, raw[name][key], self._sources[f"{name}.{key}"]))
                    raw.setdefault(name, {})[key] = value
                    self._sources[f"{name}.{key}"] = layer.source(name, str(key))
        for name, spec in self._sections.items():
            schema = spec.schema()
            accepted = {f.data_key or attr: attr for attr, f in schema.load_fields.items()}
            data = {}
            for key, value in raw.get(name, {}).items():
                if key in accepted:
                    data[key] = value
                else:
                    problems.append(self._unknown_key(name, key, sorted(accepted)))
            try:
                self._values[name] = schema.load(data)
            except ValidationError as exc:
                self._values[name] = {}
                problems.extend(self._describe(name, exc.messages))
        # A broken value in a file is reported even when a flag or variable overrides it today:
        # it would break the next run that does not override it.
        for name, key, value, source in shadowed:
            if name not in self._sections:
                continue
            schema = self._sections[name].schema()
            if key not in {f.data_key or attr for attr, f in schema.load_fields.items()}:
                continue
            errors = schema.validate({key: value}, partial=True)
            for message in errors.get(key, []) if isinstance(errors.get(key), list) else []:
                problems.append(f"{source}: {name}.{key}: {message}")
        if problems:
            raise self._error(problems)

    def _unknown_key(self, section: str, key: Any, accepted: list[str]) -> str:
        import difflib

        close = difflib.get_close_matches(str(key), accepted, n=1)
        hint = f" - did you mean {close[0]}?" if close else ""
        return (f"{self._sources[f'{section}.{key}']}: {section}.{key}: unknown key{hint}. "
                f"Accepted keys: {', '.join(accepted)}.")

    def _describe(self, section: str, messages: Any, path: str = "") -> list[str]:
        """Flatten marshmallow's nested error messages into ``source: section.key: problem``."""
        if isinstance(messages, Mapping):
            return [line for key, sub in messages.items()
                    for line in self._describe(section, sub, f"{path}.{key}" if path else str(key))]
        if isinstance(messages, list | tuple):
            return [line for sub in messages for line in self._describe(section, sub, path)]
        top = path.split(".", 1)[0]
        where = section if top == "_schema" else f"{section}.{path}"
        return [f"{self._sources.get(f'{section}.{top}', DEFAULT)}: {where}: {messages}"]

    def _error(self, problems: list[str]) -> ConfigError:
        # the message may leave through the Python API, not only through the CLI's output
        text = REDACTOR("\n".join(problems))
        return ConfigError(text, "fix each key above in the file or variable named before it")

    def _secret_places(self) -> list[tuple[_Layer, ConfigSection, str]]:
        return [(layer, spec, key) for layer in self._layers for spec in self._sections.values()
                if isinstance(layer.data.get(spec.name), Mapping) for key in sorted(spec.secrets)
                if key in layer.data[spec.name]]

    def _raw_secrets(self) -> list[str]:
        """Every secret value any layer holds, even one that fails validation (a table or list
        under a secret key is refused by its schema; never stringified)."""
        return [str(value) for layer, spec, key in self._secret_places()
                if isinstance(value := layer.data[spec.name][key], str | int | float)]

    def _tidy_secrets(self) -> list[str]:
        """Strip spaces and line breaks around secrets (``$(cat token.txt)`` of a file saved
        with CRLF keeps the CR), with a warning; a secret with a line break, a space or a control
        character inside is an error. Neither message shows the value."""
        warnings: list[str] = []
        problems: list[str] = []
        for layer, spec, key in self._secret_places():
            value = layer.data[spec.name][key]
            if not isinstance(value, str):
                continue
            where = f"{layer.origin(spec.name, key)}: {spec.name}.{key}"
            tidy = value.strip()
            if tidy != value and tidy:
                layer.data[spec.name] = {**layer.data[spec.name], key: tidy}
                around = value[: len(value) - len(value.lstrip())] + value[len(value.rstrip()):]
                warnings.append(f"{where} had {_describe_chars(around)} around it; removed (a file "
                                "saved with Windows line endings? set the secret without them)")
            if any(char.isspace() or unicodedata.category(char)[0] == "C" for char in tidy):
                problems.append(f"{where} has a line break, a space or a control character inside "
                                "it; a secret is one line without spaces")
        if problems:
            raise ConfigError("\n".join(problems), "set the secret again, e.g. from a file with "
                              "`tr -d '\\r\\n' < token.txt`")
        return warnings

    def section(self, name: str) -> dict[str, Any]:
        """The validated values of a section, defaults included; ``{}`` for an unknown section."""
        return copy.deepcopy(self._values.get(name, {}))

    def get(self, dotted: str, default: Any = None) -> Any:
        """One value by ``section.key`` (``"bitbucket.repo"``); ``default`` if it is not set."""
        name, _, key = dotted.partition(".")
        return self._values.get(name, {}).get(key, default)

    def source_of(self, dotted: str) -> str:
        """Where ``section.key`` came from: a flag, ``environment VAR``, a file, or ``default``."""
        return self._sources.get(dotted, DEFAULT)

    def origin(self, dotted: str) -> Origin:
        """Where the value in effect of ``section.key`` came from (kind, label, file and line)."""
        found = self._origins.get(dotted)
        return found[-1][1] if found else Origin("default", DEFAULT)

    def origins(self, dotted: str) -> list[tuple[Any, Origin]]:
        """Every raw value some source gave ``section.key``, lowest precedence first."""
        return list(self._origins.get(dotted, []))

    def mapping(self, kind: Literal["status", "priority"]) -> dict[str, str]:
        """``sync.<kind>_mapping`` overlaid by the tracker section's own, keys normalised."""
        merged: dict[str, str] = {}
        sections = ["sync"] + ([self.tracker] if self.tracker else [])
        for name in sections:
            table = self._values.get(name, {}).get(f"{kind}_mapping") or {}
            for key, value in table.items():
                merged[" ".join(str(key).lower().split())] = value
        return merged

    def secret_values(self) -> list[str]:
        """Every non-empty secret value in effect, for redaction and leak scans."""
        return [
            str(self._values[name][key])
            for name, spec in self._sections.items()
            for key in sorted(spec.secrets)
            if self._values.get(name, {}).get(key) not in (None, "")
        ]

    def redacted(self) -> dict[str, dict[str, Any]]:
        """All sections with their values, secrets replaced by ``********`` (safe to print)."""
        out: dict[str, dict[str, Any]] = {}
        for name, spec in self._sections.items():
            values = self.section(name)
            for key in spec.secrets:
                if values.get(key) not in (None, ""):
                    values[key] = REDACTED
            out[name] = values
        return out

    def with_overrides(self, cli: Mapping[str, Any]) -> Config:
        """A new Config with ``cli`` (dotted keys) on top of every layer, validated again."""
        return Config(self._sections, [*self._layers, _cli_layer(cli)], self._tracker_arg,
                      self._given_warnings)

    def __repr__(self) -> str:
        return (f"Config(tracker={self.tracker!r}, sections={sorted(self._sections)!r}, "
                f"files={[str(p) for p in self.files]!r})")


def load_config(
    sections: Sequence[ConfigSection],
    *,
    cli: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    user_config_dir: Path | None = None,
    tracker: str | None = None,
) -> Config:
    """cli: {"bitbucket.repo": "x", "sync.execute": True} - dotted keys, None values ignored.
    env defaults to os.environ, cwd to Path.cwd(). `tracker` is the chosen tracker name (or None).

    The core sections are added if ``sections`` lacks them. Keys of ``cli`` without a dot (other
    argparse destinations) are ignored. Raises ConfigError for unreadable files and bad values.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else cwd
    declared: dict[str, ConfigSection] = {}
    warnings: list[str] = []
    for spec in [*sections, *core_sections()]:
        if spec.name in declared:
            if spec not in core_sections() and spec != declared[spec.name]:
                warnings.append(f"section [{spec.name}] is declared twice; the first one is used")
            continue
        declared[spec.name] = spec
    layers: list[_Layer] = []
    if user_config_dir is None:
        user_config_dir = Path(env.get("SPECTRYN_CONFIG_DIR")
                               or platformdirs.user_config_dir("spectryn"))
    user_file = next((user_config_dir / n for n in USER_FILES if (user_config_dir / n).is_file()),
                     None)
    repo = Repository.of(cwd)
    if user_file:
        # a user config folder pointed into the work tree (SPECTRYN_CONFIG_DIR=ci/) is a file the
        # repository chose like any other
        if repo.git and repo.travels(user_file):
            layers.append(_file_layer(user_file, str(user_file), "repository"))
        else:
            layers.append(_file_layer(user_file, f"user config {user_file}", "user"))
    layers.extend(_project_layer(config_file, cwd, repo))
    layers.extend(_dotenv_layers(declared, env, cwd, repo))
    layers.append(_env_layer(declared, env))
    layers.append(_cli_layer(cli or {}))
    for layer in layers:
        if layer.path:
            warnings.extend(_readable_secret_warnings(layer, declared))
            warnings.extend(_repository_secret_warnings(layer, declared))
    warnings.extend(_secret_flag_warnings(cli or {}, declared))
    return Config(declared, layers, tracker, warnings)


def _project_layer(config_file: Path | None, cwd: Path, repo: Repository) -> list[_Layer]:
    if config_file is not None:
        path = (cwd / config_file).resolve()
        if not path.is_file():
            raise ConfigError(f"{config_file}: config file not found",
                              "check the path given to --config")
        return [_file_layer(path, str(path), kind_of(repo, config_file, cwd))]
    for folder in search_folders(cwd):
        for name in PROJECT_FILES:
            path = folder / name
            if path.is_file():
                return [_file_layer(path, str(path), kind_of(repo, path))]
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            layer = _file_layer(pyproject, f"{pyproject} [tool.spectryn]", kind_of(repo, pyproject))
            table = layer.data.get("tool", {})
            if isinstance(table, dict) and isinstance(table.get("spectryn"), dict):
                layer.data = table["spectryn"]
                return [layer]
    return []


def search_folders(cwd: Path) -> list[Path]:
    """Where the project file is looked for, nearest first: ``cwd`` and each parent up to the
    repository root (the first folder holding ``.git``); just ``cwd`` outside a repository."""
    here = cwd.resolve()
    chain = [here, *here.parents]
    for index, folder in enumerate(chain):
        if (folder / ".git").exists():
            return chain[: index + 1]
    return [here]


def kind_of(repo: Repository, path: Path, cwd: Path | None = None) -> SourceKind:
    """``repository`` for a file that travels with ``repo`` - by the path as named, any link on
    the way or the file it ends at (:meth:`Repository.travels`) - else ``user``."""
    return "repository" if repo.travels(path, cwd) else "user"


def _dotenv_layers(sections: Mapping[str, ConfigSection], env: Mapping[str, str], cwd: Path,
                   repo: Repository) -> list[_Layer]:
    """``./.env`` and the repository root's ``.env`` as layers below the environment (a variable
    already set wins); read with python-dotenv, never put into ``os.environ``."""
    found: list[Path] = []
    for folder in (cwd.resolve(), repo.root):
        path = folder / ".env"
        if path.is_file() and path not in found:
            found.append(path)
    if not found:
        return []
    from dotenv import dotenv_values

    layers: list[_Layer] = []
    for path in reversed(found):  # the working directory's wins over the repository root's
        try:
            values = dotenv_values(path, interpolate=False)
            lines = _dotenv_lines(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}", "fix or remove the .env file") from None
        data: dict[str, dict[str, Any]] = {}
        names: dict[tuple[str, str], str] = {}
        key_lines: dict[tuple[str, str], int] = {}
        for spec in sections.values():
            list_keys = {f.data_key or a for a, f in spec.schema().load_fields.items()
                         if isinstance(f, fields.List)}
            for key, wanted in spec.env.items():
                candidates = (wanted,) if isinstance(wanted, str) else tuple(wanted)
                if any(env.get(name, "").strip() for name in candidates):
                    continue  # a variable that is set wins over every .env
                var = next((n for n in candidates if (values.get(n) or "").strip()), None)
                if var is None:
                    continue
                value: str | list[str] = values[var] or ""
                if key in list_keys:
                    value = [part.strip() for part in str(value).split(",") if part.strip()]
                data.setdefault(spec.name, {})[key] = value
                names[(spec.name, key)] = var
                if var in lines:
                    key_lines[(spec.name, key)] = lines[var]
        if data:
            layers.append(_Layer(data, _dotenv_label(path, names), path, kind_of(repo, path),
                                 key_lines))
    return layers


def _dotenv_label(path: Path, names: dict[tuple[str, str], str]) -> Callable[[str, str], str]:
    return lambda section, key: f"{path} {names[(section, key)]}"


def _dotenv_lines(path: Path) -> dict[str, int]:
    """The line each variable of a .env file is set on (the first time)."""
    lines: dict[str, int] = {}
    pattern = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=")
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        match = pattern.match(text)
        if match:
            lines.setdefault(match.group(1), number)
    return lines


def _env_layer(sections: Mapping[str, ConfigSection], env: Mapping[str, str]) -> _Layer:
    data: dict[str, dict[str, Any]] = {}
    names: dict[tuple[str, str], str] = {}
    for spec in sections.values():
        list_keys = {f.data_key or a for a, f in spec.schema().load_fields.items()
                     if isinstance(f, fields.List)}
        for key, wanted in spec.env.items():
            # a tuple names fallbacks: the first variable that is set wins
            candidates = (wanted,) if isinstance(wanted, str) else tuple(wanted)
            var = next((n for n in candidates if env.get(n, "").strip()), candidates[0])
            value = env.get(var, "")
            if not value.strip():
                continue
            parsed: str | list[str] = value
            if key in list_keys:  # comma-separated, e.g. SPECTRYN_DISABLE_PLUGINS=a,b
                parsed = [part.strip() for part in value.split(",") if part.strip()]
            data.setdefault(spec.name, {})[key] = parsed
            names[(spec.name, key)] = var
    return _Layer(data, lambda s, k: f"environment {names[(s, k)]}", kind="environment")


def _cli_layer(cli: Mapping[str, Any]) -> _Layer:
    data: dict[str, dict[str, Any]] = {}
    for dotted, value in cli.items():
        section, dot, key = dotted.partition(".")
        if dot and value is not None:
            data.setdefault(section, {})[key] = value
    return _Layer(data, _flag_name, kind="cli")


def _file_layer(path: Path, label: str, kind: SourceKind) -> _Layer:
    """A config file as a layer, with the line of each ``section.key`` it sets."""
    from spectryn_core.config_files import read_file  # PyYAML, only when there is a file

    data = read_file(path)
    return _Layer(data, label, path, kind, _key_lines(path))


def _key_lines(path: Path) -> dict[tuple[str, str], int]:
    """The line of each ``section.key`` of a YAML or TOML config file (for messages): a key is a
    line ``key:`` / ``key =`` under ``section:`` / ``[section]`` (``[tool.spectryn.section]``)."""
    lines: dict[tuple[str, str], int] = {}
    section = ""
    toml = path.suffix == ".toml"
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if toml:
            header = re.match(r"\s*\[\s*([A-Za-z0-9_.\"-]+)\s*\]", text)
            if header:
                section = header.group(1).replace('"', "").removeprefix("tool.spectryn.")
                continue
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*=", text)
            if match:
                name, dot, key = match.group(1).rpartition(".")
                where = name.removeprefix("tool.spectryn.") if dot else section
                lines.setdefault((where, key), number)
            continue
        top = re.match(r"([A-Za-z0-9_-]+)\s*:", text)
        if top:
            section = top.group(1)
            continue
        match = re.match(r"\s+([A-Za-z0-9_-]+)\s*:", text)
        if match and section:
            lines.setdefault((section, match.group(1)), number)
    return lines


def _repository_secret_warnings(layer: _Layer, sections: Mapping[str, ConfigSection]) -> list[str]:
    """A secret in a file that travels with the repository is exposed: warn once per file."""
    if layer.kind != "repository" or layer.path is None:
        return []
    held = sorted({
        f"{spec.name}.{key}"
        for spec in sections.values()
        if isinstance(layer.data.get(spec.name), Mapping)
        for key in spec.secrets
        if layer.data[spec.name].get(key) not in (None, "")
    })
    if not held:
        return []
    return [f"{layer.path} travels with the repository and holds a secret ({', '.join(held)}): "
            "whoever has the repository has it; revoke it, and keep secrets in the environment "
            "or an untracked .env"]


def _secret_flag_warnings(cli: Mapping[str, Any], sections: Mapping[str, ConfigSection]) -> list[str]:
    """A secret given as a flag is in the process list, which every local user can read."""
    found = []
    for dotted, value in cli.items():
        name, _, key = dotted.partition(".")
        spec = sections.get(name)
        if spec is not None and key in spec.secrets and value not in (None, ""):
            var = spec.env.get(key)
            var = var if isinstance(var, str | None) else " or ".join(var)
            instead = f"the environment ({var})" if var else "the environment"
            found.append(f"{_flag_name(name, key)} puts a secret in the process list, where other "
                         f"local users can read it: use {instead} or a config file (chmod 600)")
    return found


def _readable_secret_warnings(layer: _Layer, sections: Mapping[str, ConfigSection]) -> list[str]:
    """Warn when a file holding a secret can be read by group or others (POSIX only)."""
    if os.name != "posix" or layer.path is None:
        return []
    held = [
        f"{spec.name}.{key}"
        for spec in sections.values()
        if isinstance(layer.data.get(spec.name), Mapping)
        for key in sorted(spec.secrets)
        if layer.data[spec.name].get(key) not in (None, "")
    ]
    if not held or not layer.path.stat().st_mode & 0o077:
        return []
    return [f"{layer.path} holds a secret ({', '.join(held)}) and other users can read it: "
            f"chmod 600 {layer.path}"]
