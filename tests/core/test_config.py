"""Tests for spectryn_core.config: layers, file formats, validation messages, secrets."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import RAISE, Schema, fields, validate

from spectryn_core.config import REDACTED, ConfigSection, core_sections, load_config
from spectryn_core.errors import ConfigError

SECRET = "s3cr3t-Token-Value"


class DemoSchema(Schema):
    """A fake plugin section: one secret, typed keys, its own status mapping."""

    class Meta:
        unknown = RAISE

    token = fields.String(load_default=None, validate=validate.Length(
        min=8, error="token {input} is too short"))  # echoes input: must be scrubbed
    url = fields.String(load_default="https://demo.invalid")
    ssl_verify = fields.Boolean(load_default=True)
    workers = fields.Integer(load_default=2)
    status_mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


DEMO = ConfigSection(
    "demo", DemoSchema,
    env={"token": "DEMO_TOKEN", "url": "DEMO_URL", "ssl_verify": "DEMO_SSL_VERIFY",
         "workers": "DEMO_WORKERS"},
    secrets=frozenset({"token"}),
)


class BitbucketSchema(Schema):
    """The keys of the seed examples' bitbucket section (the real one lives in the plugin)."""

    class Meta:
        unknown = RAISE

    username = fields.String()
    app_password = fields.String()
    workspace = fields.String()
    repo = fields.String()
    base_url = fields.String(load_default="https://api.bitbucket.org/2.0")
    epic_label = fields.String(load_default="epic")
    story_label = fields.String(load_default="story")
    subtask_label = fields.String(load_default="subtask")
    status_mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    priority_mapping = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


BITBUCKET = ConfigSection("bitbucket", BitbucketSchema, env={"repo": "BITBUCKET_REPO"},
                          secrets=frozenset({"app_password"}))

SEED_YAML = """\
# Bitbucket connection settings
bitbucket:
  username: your-username
  app_password: your-app-password # Cloud: App Password, Server: Personal Access Token
  workspace: your-workspace # Workspace slug (Cloud) or project key (Server)
  repo: your-repo # Repository slug
  base_url: https://api.bitbucket.org/2.0 # Optional: defaults to Cloud API
  # Label configuration (optional)
  epic_label: "epic"
  story_label: "story"
  subtask_label: "subtask"
  # Status mapping (optional)
  status_mapping:
    open: "open"
    "in progress": "open"
    done: "resolved"
    closed: "closed"
  # Priority mapping (optional)
  priority_mapping:
    critical: "blocker"
    high: "major"
    medium: "minor"
    low: "trivial"
# Sync settings
sync:
  execute: false # Set to true for live mode
  verbose: true
"""

SEED_TOML = """\
[bitbucket]
username = "your-username"
app_password = "your-app-password"
workspace = "your-workspace"
repo = "your-repo"
base_url = "https://api.bitbucket.org/2.0"
[bitbucket.status_mapping]
open = "open"
"in progress" = "open"
done = "resolved"
closed = "closed"
[bitbucket.priority_mapping]
critical = "blocker"
high = "major"
medium = "minor"
low = "trivial"
[sync]
execute = false
verbose = true
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(project dir, user config dir), both empty."""
    (tmp_path / "proj").mkdir()
    (tmp_path / "user").mkdir()
    return tmp_path / "proj", tmp_path / "user"


def load(dirs, sections=(DEMO,), **kwargs):
    cwd, user = dirs
    kwargs.setdefault("env", {})
    return load_config(list(sections), cwd=cwd, user_config_dir=user, **kwargs)


def test_defaults_of_core_sections(dirs):
    config = load(dirs, sections=core_sections())
    assert config.section("sync") == {
        "execute": False, "verbose": False, "tracker": None, "mapper": "default", "workers": 8,
        "output": "text", "force": False, "write_back": False, "status_mapping": {}, "priority_mapping": {},
        "state_dir": None, "log_dir": None, "max_spec_size": 32 * 2**20, "adopt": [],
        "trusted_accounts": [], "conflict_policy": {}, "recheck_pull_requests": False,
    }
    assert config.section("plugins") == {"disable": []}
    assert config.section("nope") == {}
    assert config.source_of("sync.workers") == "default"
    assert config.files == [] and config.warnings == [] and config.tracker is None


LAYERS = ["cli", "env", "project", "user", "default"]


@pytest.mark.parametrize("top", LAYERS)
def test_each_layer_beats_the_next(dirs, top):
    """Every layer sets demo.url and sync.workers; only layers from `top` down are present."""
    cwd, user = dirs
    present = LAYERS[LAYERS.index(top):]
    if "user" in present:
        write(user / "config.toml", '[demo]\nurl = "user"\n[sync]\nworkers = 5\n')
    if "project" in present:
        write(cwd / ".spectryn.yaml", "demo: {url: project}\nsync: {workers: 6}\n")
    env = {"DEMO_URL": "env", "SPECTRYN_WORKERS": "7"} if "env" in present else {}
    cli = {"demo.url": "cli", "sync.workers": 9} if "cli" in present else {}
    config = load(dirs, env=env, cli=cli)
    url, workers, source = {
        "cli": ("cli", 9, "--workers"),
        "env": ("env", 7, "environment SPECTRYN_WORKERS"),
        "project": ("project", 6, str(cwd / ".spectryn.yaml")),
        "user": ("user", 5, f"user config {user / 'config.toml'}"),
        "default": ("https://demo.invalid", 8, "default"),
    }[top]
    assert config.get("demo.url") == url
    assert config.get("sync.workers") == workers
    assert config.source_of("sync.workers") == source


def test_sources_and_files_list(dirs):
    cwd, user = dirs
    write(user / "config.yaml", "demo: {workers: 3}\n")
    write(cwd / ".spectryn.toml", '[demo]\nurl = "p"\n')
    config = load(dirs, env={"DEMO_SSL_VERIFY": "false"}, cli={"demo.token": SECRET, "x": 1})
    assert config.source_of("demo.token") == "--demo-token"
    assert config.source_of("demo.ssl_verify") == "environment DEMO_SSL_VERIFY"
    assert config.source_of("demo.url") == str(cwd / ".spectryn.toml")
    assert config.source_of("demo.workers") == f"user config {user / 'config.yaml'}"
    assert config.files == [cwd / ".spectryn.toml", user / "config.yaml"]


def test_user_dir_from_environment(tmp_path):
    write(tmp_path / "u" / "config.yml", "demo: {workers: 9}\n")
    (tmp_path / "p").mkdir()
    config = load_config([DEMO], cwd=tmp_path / "p", env={"SPECTRYN_CONFIG_DIR": str(tmp_path / "u")})
    assert config.get("demo.workers") == 9


def test_yaml_seed_example(dirs):
    write(dirs[0] / ".spectryn.yaml", SEED_YAML)
    config = load(dirs, sections=[BITBUCKET], tracker="bitbucket")
    assert config.get("bitbucket.repo") == "your-repo"
    assert config.get("sync.verbose") is True and config.get("sync.execute") is False
    assert config.mapping("status") == {"open": "open", "in progress": "open",
                                        "done": "resolved", "closed": "closed"}
    assert config.mapping("priority")["critical"] == "blocker"


def test_toml_seed_example(dirs):
    write(dirs[0] / ".spectryn.toml", SEED_TOML)
    config = load(dirs, sections=[BITBUCKET], cli={"sync.tracker": None}, tracker="bitbucket")
    assert config.tracker == "bitbucket"
    assert config.section("bitbucket")["workspace"] == "your-workspace"
    assert config.section("bitbucket")["epic_label"] == "epic"
    assert config.mapping("status")["in progress"] == "open"
    assert config.get("sync.verbose") is True


def test_yaml_file_wins_over_yml_and_toml(dirs):
    write(dirs[0] / ".spectryn.yaml", "demo: {workers: 1}\n")
    write(dirs[0] / ".spectryn.toml", "[demo]\nworkers = 2\n")
    assert load(dirs).get("demo.workers") == 1


def test_pyproject_tool_table(dirs):
    cwd, _ = dirs
    write(cwd / "pyproject.toml", '[project]\nname = "x"\n[tool.spectryn.sync]\ntracker = "demo"\n')
    config = load(dirs)
    assert config.tracker == "demo"
    assert config.source_of("sync.tracker") == f"{cwd / 'pyproject.toml'} [tool.spectryn]"
    write(cwd / ".spectryn.yml", "sync: {mapper: custom}\n")
    config = load(dirs)
    assert config.tracker is None and config.get("sync.mapper") == "custom"


def test_pyproject_without_table_is_not_read(dirs):
    write(dirs[0] / "pyproject.toml", '[project]\nname = "x"\n')
    assert load(dirs).files == []


def test_config_flag(dirs, tmp_path):
    write(dirs[0] / ".spectryn.yaml", "demo: {workers: 1}\n")
    chosen = write(tmp_path / "elsewhere.toml", "[demo]\nworkers = 2\n")
    config = load(dirs, config_file=chosen)
    assert config.get("demo.workers") == 2 and config.files == [chosen]
    with pytest.raises(ConfigError, match="missing.yaml: config file not found"):
        load(dirs, config_file=tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="unknown config format"):
        load(dirs, config_file=write(tmp_path / "c.json", "{}"))


def test_yaml_syntax_error_names_file_and_line(dirs):
    path = write(dirs[0] / ".spectryn.yaml", "sync:\n  execute: true\n  verbose: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load(dirs)
    assert err.value.message.startswith(f"{path}:4: invalid YAML")
    assert err.value.exit_code == 2


def test_toml_syntax_error_names_file_and_line(dirs):
    path = write(dirs[0] / ".spectryn.toml", '[sync]\nexecute = true\nverbose = = 1\n')
    with pytest.raises(ConfigError) as err:
        load(dirs)
    assert err.value.message.startswith(f"{path}:3: invalid TOML")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_top_level_must_be_a_mapping(dirs, text):
    write(dirs[0] / ".spectryn.yaml", text)
    with pytest.raises(ConfigError, match="top level must be a table of sections"):
        load(dirs)


def test_section_that_is_not_a_mapping(dirs):
    write(dirs[0] / ".spectryn.yaml", "demo: [1, 2]\nsync:\n")
    with pytest.raises(ConfigError, match=r"\.spectryn\.yaml: demo: must be a table of keys"):
        load(dirs)


def test_wrong_types_name_source_and_key_all_at_once(dirs):
    path = write(dirs[0] / ".spectryn.yaml",
                 "demo: {workers: many, status_mapping: {done: 3}}\nsync: {output: xml}\n")
    with pytest.raises(ConfigError) as err:
        load(dirs, env={"DEMO_SSL_VERIFY": "perhaps"})
    lines = err.value.message.splitlines()
    assert f"{path}: demo.workers: Not a valid integer." in lines
    assert "environment DEMO_SSL_VERIFY: demo.ssl_verify: Not a valid boolean." in lines
    assert f"{path}: demo.status_mapping.done.value: Not a valid string." in lines
    assert f"{path}: sync.output: Must be one of: text, json." in lines
    assert len(lines) == 4


def test_unknown_key_lists_accepted_keys_and_suggests(dirs):
    path = write(dirs[0] / ".spectryn.yaml", "demo: {tokn: abcdefghij}\n")
    with pytest.raises(ConfigError) as err:
        load(dirs)
    message = err.value.message
    assert message.startswith(f"{path}: demo.tokn: unknown key - did you mean token?")
    assert "Accepted keys: ssl_verify, status_mapping, token, url, workers." in message


def test_unknown_section_is_a_warning(dirs):
    path = write(dirs[0] / ".spectryn.yaml", "jira: {url: x}\ndemo: {workers: 3}\n")
    config = load(dirs)
    assert config.get("demo.workers") == 3
    assert config.section("jira") == {}
    assert len(config.warnings) == 1
    assert str(path) in config.warnings[0] and "[jira]" in config.warnings[0]


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("0", False), ("TRUE", True),
                                               ("1", True), ("yes", True), ("off", False)])
def test_env_booleans(dirs, raw, expected):
    assert load(dirs, env={"DEMO_SSL_VERIFY": raw}).get("demo.ssl_verify") is expected


def test_env_ints_lists_and_empty_values(dirs):
    write(dirs[0] / ".spectryn.yaml", "demo: {workers: 3, url: from-file}\n")
    config = load(dirs, env={"DEMO_WORKERS": "8", "SPECTRYN_WORKERS": "12", "DEMO_URL": "",
                             "SPECTRYN_DISABLE_PLUGINS": " markdown, ,extra ,"})
    assert config.get("demo.workers") == 8 and config.get("sync.workers") == 12
    assert config.get("demo.url") == "from-file"  # the empty variable is ignored
    assert config.get("plugins.disable") == ["markdown", "extra"]


def test_workers_range_and_fractions(dirs):
    with pytest.raises(ConfigError, match="environment SPECTRYN_WORKERS: sync.workers: Must be"):
        load(dirs, env={"SPECTRYN_WORKERS": "33"})
    write(dirs[0] / ".spectryn.yaml", "sync: {workers: 2.5}\n")
    with pytest.raises(ConfigError, match="sync.workers: Not a valid integer"):
        load(dirs)


def test_secrets_are_redacted_everywhere(dirs):
    cwd, user = dirs
    write(user / "config.yaml", f"demo: {{token: {SECRET}}}\n")
    config = load(dirs, env={"DEMO_URL": "https://x"})
    assert config.get("demo.token") == SECRET
    assert config.secret_values() == [SECRET]
    redacted = config.redacted()
    assert redacted["demo"]["token"] == REDACTED and redacted["demo"]["url"] == "https://x"
    assert "sync" in redacted and "plugins" in redacted
    assert SECRET not in repr(config) and SECRET not in str(redacted)
    assert all(SECRET not in w for w in config.warnings)
    assert load(dirs, sections=[BITBUCKET]).redacted()["bitbucket"].get("app_password") is None


def test_secret_never_in_error_messages(dirs):
    short = "abc123"  # the fake schema's validator would echo it back
    write(dirs[0] / ".spectryn.yaml", f"demo: {{token: {short}, workers: x}}\n")
    with pytest.raises(ConfigError) as err:
        load(dirs)
    text = str(err.value)
    assert short not in text
    assert f"demo.token: token {REDACTED} is too short" in text
    assert "demo.workers: Not a valid integer." in text
    with pytest.raises(ConfigError) as err:
        load(dirs, sections=[DEMO], cli={"demo.token": SECRET, "demo.workers": "x"})
    assert SECRET not in str(err.value)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_world_readable_secret_file_warns(dirs):
    cwd, user = dirs
    path = write(cwd / ".spectryn.yaml", f"demo: {{token: {SECRET}}}\n", mode=0o644)
    write(user / "config.yaml", "demo: {url: x}\n", mode=0o644)  # no secret: no warning
    config = load(dirs)
    exposed = (f"{path} travels with the repository and holds a secret (demo.token): whoever has "
               "the repository has it; revoke it, and keep secrets in the environment or an "
               "untracked .env")
    assert config.warnings == [
        f"{path} holds a secret (demo.token) and other users can read it: chmod 600 {path}", exposed]
    path.chmod(0o600)
    assert load(dirs).warnings == [exposed]


def test_mapping_overlay_and_normalisation(dirs):
    write(dirs[0] / ".spectryn.yaml",
          'sync:\n  status_mapping: {"In   Progress ": started, Done: finished, open: open}\n'
          '  priority_mapping: {High: major}\n'
          'demo:\n  status_mapping: {" DONE": resolved}\n')
    assert load(dirs).mapping("status") == {"in progress": "started", "done": "finished",
                                            "open": "open"}
    config = load(dirs, tracker="demo")
    assert config.mapping("status") == {"in progress": "started", "done": "resolved",
                                        "open": "open"}
    assert config.mapping("priority") == {"high": "major"}  # demo has no priority_mapping


def test_with_overrides_revalidates(dirs):
    write(dirs[0] / ".spectryn.yaml", "demo: {workers: 3}\nsync: {tracker: demo}\n")
    config = load(dirs)
    again = config.with_overrides({"demo.workers": 5, "sync.execute": True})
    assert again.get("demo.workers") == 5 and again.get("sync.execute") is True
    assert again.source_of("sync.execute") == "--execute" and again.tracker == "demo"
    assert config.get("demo.workers") == 3
    with pytest.raises(ConfigError, match="--demo-workers: demo.workers"):
        config.with_overrides({"demo.workers": "lots"})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200), name=st.sampled_from([".spectryn.yaml", ".spectryn.toml"]))
def test_any_file_content_loads_or_raises_config_error(text, name):
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / name).write_text(text, encoding="utf-8")
        with contextlib.suppress(ConfigError):
            load_config([DEMO, BITBUCKET], cwd=cwd, env={}, user_config_dir=cwd / "none")


@settings(max_examples=100, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("sync:demo{}[]\n -#'\"=.,0123tkenworus")),
                    max_size=120))
def test_config_like_text_loads_or_raises_config_error(text):
    for name in (".spectryn.yaml", ".spectryn.toml"):
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            (cwd / name).write_text(text, encoding="utf-8")
            with contextlib.suppress(ConfigError):
                load_config([DEMO], cwd=cwd, env={}, user_config_dir=cwd / "none")


def test_section_returns_a_copy(dirs):
    write(dirs[0] / ".spectryn.yaml", "sync: {status_mapping: {done: resolved}}\n")
    config = load(dirs)
    config.section("sync")["status_mapping"]["done"] = "changed"
    assert config.mapping("status") == {"done": "resolved"}


def test_a_broken_file_value_is_reported_even_when_a_flag_overrides_it(tmp_path):
    (tmp_path / ".spectryn.yaml").write_text("sync:\n  workers: lots\n")
    with pytest.raises(ConfigError) as exc:
        load_config([], cli={"sync.workers": 4}, cwd=tmp_path, env={}, user_config_dir=tmp_path / "u")
    assert ".spectryn.yaml" in str(exc.value) and "sync.workers" in str(exc.value)


class DataKeySchema(Schema):
    """A plugin section whose file key differs from its attribute (``data_key``)."""

    class Meta:
        unknown = RAISE

    max_items = fields.Integer(data_key="max-items", load_default=1)


def test_a_broken_file_value_under_a_data_key_is_reported_when_overridden(tmp_path):
    section = ConfigSection("dk", DataKeySchema, env={"max-items": "DK_MAX_ITEMS"})
    (tmp_path / ".spectryn.yaml").write_text("dk:\n  max-items: lots\n")
    with pytest.raises(ConfigError) as exc:
        load_config([section], cwd=tmp_path, env={"DK_MAX_ITEMS": "4"}, user_config_dir=tmp_path / "u")
    assert ".spectryn.yaml" in str(exc.value) and "dk.max-items" in str(exc.value)
