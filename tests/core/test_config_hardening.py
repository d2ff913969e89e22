"""Config files cannot exhaust time or memory, whole numbers are whole, flags with secrets warn."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from spectryn_bitbucket.config import config_section
from spectryn_core.config import load_config
from spectryn_core.config_files import YAML_EXPANDED_LIMIT
from spectryn_core.errors import ConfigError


def laughs(levels: int, key: str = "bitbucket:\n  app_password") -> str:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels + 1):
        lines.append(f"l{n}: &l{n} [" + ",".join([f"*l{n - 1}"] * 9) + "]")
    return "\n".join(lines) + f"\n{key}: *l{levels}\n"


def load(tmp_path: Path, text: str, **kwargs):
    (tmp_path / ".spectryn.yaml").write_text(text)
    return load_config([config_section()], cwd=tmp_path, env={}, user_config_dir=tmp_path / "u",
                       **kwargs)


@pytest.mark.parametrize("key", ["bitbucket:\n  app_password", "bitbucket:\n  repo", "extra"])
def test_billion_laughs_is_refused_unexpanded(tmp_path: Path, key: str) -> None:
    started = time.process_time()
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as refused:
            load(tmp_path, laughs(12, key))  # 9**12 strings once expanded
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "YAML aliases (*name) expand this file beyond" in str(refused.value)
    assert str(refused.value).startswith(f"{tmp_path / '.spectryn.yaml'}:2: ")
    assert time.process_time() - started < 5  # not a timing test: the old code never ended
    # the worker's ru_maxrss is often already higher than this case needs: trace this call alone
    assert peak < 50 * 2**20


def test_small_anchors_still_work(tmp_path: Path) -> None:
    text = "bitbucket:\n  status_mapping: &m {qa: open}\n  priority_mapping: *m\n"
    assert load(tmp_path, text).get("bitbucket.priority_mapping") == {"qa": "open"}
    assert YAML_EXPANDED_LIMIT >= 10_000


@pytest.mark.parametrize(("text", "key"), [
    ("bitbucket:\n  rate_limit: 1.5\n", "bitbucket.rate_limit"),
    ("bitbucket:\n  retries: 2.5\n", "bitbucket.retries"),
    ("bitbucket:\n  workers: true\n", "bitbucket.workers"),
    ("sync:\n  workers: 4.5\n", "sync.workers"),
])
def test_whole_numbers_are_strict(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key}: Not a valid integer"):
        load(tmp_path, text)


def test_whole_numbers_written_as_such_are_fine(tmp_path: Path) -> None:
    config = load(tmp_path, "bitbucket:\n  rate_limit: 1500.0\n  retries: '3'\n")
    assert (config.get("bitbucket.rate_limit"), config.get("bitbucket.retries")) == (1500, 3)


def test_a_secret_flag_warns_once_without_the_secret(tmp_path: Path) -> None:
    config = load(tmp_path, "", cli={"bitbucket.access_token": "tok-very-secret",
                                     "bitbucket.repo": "r"})
    [warning] = config.warnings
    assert warning.startswith("--bitbucket-access-token puts a secret in the process list")
    assert "BITBUCKET_ACCESS_TOKEN" in warning and "tok-very-secret" not in warning


# --- where a value came from (issue 20) --------------------------------------------------------


def test_origins_carry_kind_file_and_line(tmp_path: Path) -> None:
    text = "sync:\n  workers: 3\nbitbucket:\n  repo: r\n  base_url: https://x.test/2.0\n"
    config = load(tmp_path, text)
    origin = config.origin("bitbucket.base_url")
    assert (origin.kind, origin.line, str(origin)) == (
        "repository", 5, f"{tmp_path / '.spectryn.yaml'}:5")
    assert not origin.trusted
    assert config.origin("bitbucket.timeout").kind == "default"
    env = load_config([config_section()], cwd=tmp_path, user_config_dir=tmp_path / "u",
                      env={"BITBUCKET_BASE_URL": "https://y.test/2.0"})
    assert [(v, o.kind) for v, o in env.origins("bitbucket.base_url")] == [
        ("https://x.test/2.0", "repository"), ("https://y.test/2.0", "environment")]
    assert env.origin("bitbucket.base_url").trusted


def test_toml_and_pyproject_lines(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname = 'x'\n\n[tool.spectryn.bitbucket]\nrepo = 'r'\nbase_url = 'https://x.test'\n")
    config = load_config([config_section()], cwd=tmp_path, env={}, user_config_dir=tmp_path / "u")
    assert str(config.origin("bitbucket.base_url")) == f"{tmp_path / 'pyproject.toml'}:6"


def test_trusted_only_keys_from_a_repository_file_are_ignored_with_a_warning(tmp_path: Path) -> None:
    config = load(tmp_path, "bitbucket:\n  ssl_verify: false\n  allow_insecure_http: true\n")
    assert config.get("bitbucket.ssl_verify") is True
    assert config.get("bitbucket.allow_insecure_http") is False
    assert [w.split(": ", 1)[0] for w in config.warnings] == [
        f"{tmp_path / '.spectryn.yaml'}:2", f"{tmp_path / '.spectryn.yaml'}:3"]
    user = tmp_path / "u"
    user.mkdir()
    (user / "config.yaml").write_text("bitbucket:\n  ssl_verify: false\n")
    (user / "config.yaml").chmod(0o600)
    mine = load_config([config_section()], cwd=tmp_path / "u", env={}, user_config_dir=user)
    assert mine.get("bitbucket.ssl_verify") is False


def test_an_untracked_file_in_a_git_work_tree_is_the_users_own(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    config = load(tmp_path, "bitbucket:\n  ssl_verify: false\n")
    assert config.origin("bitbucket.ssl_verify").kind == "user"
    assert config.get("bitbucket.ssl_verify") is False
    subprocess.run(["git", "-C", str(tmp_path), "add", ".spectryn.yaml"], check=True)
    tracked = load(tmp_path, "bitbucket:\n  ssl_verify: false\n")
    assert tracked.get("bitbucket.ssl_verify") is True


def test_dotenv_never_overrides_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BITBUCKET_REPO=from-dotenv\nBITBUCKET_WORKSPACE=ws\n")
    config = load_config([config_section()], cwd=tmp_path, user_config_dir=tmp_path / "u",
                         env={"BITBUCKET_REPO": "from-env"})
    assert (config.get("bitbucket.repo"), config.get("bitbucket.workspace")) == ("from-env", "ws")
    assert str(config.origin("bitbucket.workspace")) == f"{tmp_path / '.env'}:2"


# --- a repository file by any path or link (issue 26) ------------------------------------------

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "protocol.file.allow=always"]
ELSEWHERE = "bitbucket:\n  base_url: https://elsewhere.test/2.0\n"


def git(folder: Path, *args: str) -> None:
    import subprocess

    subprocess.run([*GIT, "-C", str(folder), *args], check=True, capture_output=True)


@pytest.fixture
def superproject(tmp_path: Path) -> Path:
    """``top/`` (a git work tree) with a submodule at ``top/sub/module`` holding ``x.yaml`` and
    ``.env`` (committed there); ``outside.yaml`` beside ``top/``, in no repository."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q")
    (origin / "x.yaml").write_text(ELSEWHERE)
    (origin / ".env").write_text("BITBUCKET_BASE_URL=https://elsewhere.test/2.0\n")
    git(origin, "add", ".")
    git(origin, "commit", "-qm", "sub")
    top = tmp_path / "top"
    top.mkdir()
    git(top, "init", "-q")
    git(top, "submodule", "add", "-q", str(origin), "sub/module")
    git(top, "commit", "-qm", "submodule")
    (tmp_path / "outside.yaml").write_text(ELSEWHERE)
    return top


def kind(top: Path, cwd: Path | None = None, **kwargs) -> str:
    config = load_config([config_section()], cwd=cwd or top, env={}, user_config_dir=top.parent / "u",
                         **kwargs)
    return config.origin("bitbucket.base_url").kind


@pytest.mark.parametrize(("target", "untracked"), [
    ("sub/module/x.yaml", "repository"),  # it ends in a submodule, tracked link or not
    ("../outside.yaml", "user"),  # a link of the user's own, to a file of the user's own
])
def test_a_committed_symlink_is_a_repository_file_wherever_it_points(
        superproject: Path, target: str, untracked: str) -> None:
    (superproject / ".spectryn.yaml").symlink_to(target)
    assert kind(superproject) == untracked
    git(superproject, "add", ".spectryn.yaml")
    assert kind(superproject) == "repository"


def test_a_link_through_a_folder_link_into_a_submodule_is_a_repository_file(
        superproject: Path) -> None:
    (superproject / "mine").symlink_to("sub/module", target_is_directory=True)
    (superproject / ".spectryn.yaml").symlink_to("mine/x.yaml")
    assert kind(superproject) == "repository"  # the file it ends at is in a submodule


def test_config_flag_into_a_submodule_is_a_repository_file(superproject: Path) -> None:
    assert kind(superproject, config_file=Path("sub/module/x.yaml")) == "repository"
    (superproject / "sub/module/untracked.yaml").write_text(ELSEWHERE)
    assert kind(superproject, config_file=Path("sub/module/untracked.yaml")) == "repository"
    (superproject / "mine.yaml").write_text(ELSEWHERE)
    assert kind(superproject, config_file=Path("mine.yaml")) == "user"
    git(superproject, "add", "mine.yaml")
    assert kind(superproject, config_file=Path("mine.yaml")) == "repository"


def test_a_symlinked_dotenv_is_classified_by_its_link(superproject: Path) -> None:
    (superproject / ".env").symlink_to("sub/module/.env")
    assert kind(superproject) == "repository"  # it ends in a submodule
    (superproject / ".env").unlink()
    (superproject / "my.env").write_text("BITBUCKET_BASE_URL=https://elsewhere.test/2.0\n")
    (superproject / ".env").symlink_to("my.env")
    assert kind(superproject) == "user"
    git(superproject, "add", ".env")  # the link is committed: whatever it points at
    assert kind(superproject) == "repository"


def test_from_inside_a_submodule_the_repository_is_the_superproject(superproject: Path) -> None:
    (superproject / ".spectryn.yaml").write_text(ELSEWHERE)
    git(superproject, "add", ".spectryn.yaml")
    (superproject / "sub/module/.env").unlink()
    config = load_config([config_section()], cwd=superproject / "sub/module", env={},
                         config_file=Path("../../.spectryn.yaml"), user_config_dir=superproject / "u")
    origin = config.origin("bitbucket.base_url")
    assert (origin.path, origin.kind) == (superproject / ".spectryn.yaml", "repository")


def test_a_user_config_folder_inside_the_work_tree_is_a_repository_file(superproject: Path) -> None:
    folder = superproject / "ci"
    folder.mkdir()
    (folder / "config.yaml").write_text(ELSEWHERE)
    config = load_config([config_section()], cwd=superproject, env={}, user_config_dir=folder)
    assert config.origin("bitbucket.base_url").kind == "user"  # untracked: the runner's own
    git(superproject, "add", "ci/config.yaml")
    config = load_config([config_section()], cwd=superproject, env={}, user_config_dir=folder)
    assert config.origin("bitbucket.base_url").kind == "repository"


# --- secrets with spaces or line breaks (issue 26) ---------------------------------------------

TOKEN = "spx-tidy-Zq81Lm3Vd"


@pytest.mark.parametrize(("given", "described"), [
    (TOKEN + "\r", "a carriage return (CR)"),
    (TOKEN + "\r\n", "a carriage return (CR) and a line feed (LF)"),
    (" " + TOKEN + "\n", "a space and a line feed (LF)"),
])
def test_a_secret_with_a_line_break_around_it_is_stripped_with_a_warning(
        tmp_path: Path, given: str, described: str) -> None:
    env = {"BITBUCKET_ACCESS_TOKEN": given, "BITBUCKET_WORKSPACE": "w", "BITBUCKET_REPO": "r"}
    config = load_config([config_section()], cwd=tmp_path, env=env, user_config_dir=tmp_path / "u")
    assert config.get("bitbucket.access_token") == TOKEN
    [warning] = config.warnings
    assert warning == (f"environment BITBUCKET_ACCESS_TOKEN: bitbucket.access_token had {described} "
                       "around it; removed (a file saved with Windows line endings? set the secret "
                       "without them)")
    assert TOKEN not in warning


def test_a_secret_with_a_line_break_inside_is_refused_without_showing_it(tmp_path: Path) -> None:
    config_file = tmp_path / ".spectryn.yaml"
    config_file.write_text('bitbucket:\n  api_token: "spx-one\\nspx-two"\n')
    with pytest.raises(ConfigError) as refused:
        load_config([config_section()], cwd=tmp_path, env={}, user_config_dir=tmp_path / "u")
    assert str(refused.value.message) == (
        f"{config_file}:2: bitbucket.api_token has a line break, a space or a control character "
        "inside it; a secret is one line without spaces")
    assert "spx-one" not in str(refused.value) and "spx-two" not in str(refused.value)
