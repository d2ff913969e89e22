"""Every code block of plugins.md is checked, so the guide cannot rot.

Each fenced block is preceded by a marker comment:

- ``<!-- file: PATH -->``: the block is that repository file, whole;
- ``<!-- excerpt: PATH -->``: the block is a run of consecutive lines of that file (indentation
  aside);
- ``<!-- test: NAME -->``: the test below named after NAME runs or parses it;
- ``<!-- shell -->``: a console session, run in a fresh virtual environment by
  ``test_plugins_install.py::test_doc_shell_sessions_run``.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from spectryn_core.cli import App, main
from spectryn_core.config import load_config
from spectryn_core.mappers import resolve_priority, resolve_status
from spectryn_core.plugins import PluginInfo, load_plugins
from spectryn_core.testing import TrackerContract

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "plugins.md"
JSONFILE = REPO / "examples" / "plugins" / "spectryn-jsonfile"
ACME = REPO / "examples" / "plugins" / "spectryn-acme-mapper"
BLOCK = re.compile(r"<!-- (?P<kind>[a-z]+)(?:: (?P<arg>[^>]*?))? -->\n```[a-z]*\n(?P<body>.*?)\n```\n",
                   re.S)
TESTED = {"jsonfile-config", "acme-config", "acme-config-with-mapping", "parser-plugin",
          "parser-sample", "parser-sample-bad", "parser-sample-bad-output", "layout"}


def blocks(kind: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, argument, body) of each marked block of plugins.md, in order."""
    found = [(m["kind"], m["arg"] or "", m["body"]) for m in BLOCK.finditer(DOC.read_text())]
    return [b for b in found if kind is None or b[0] == kind]


def block(name: str) -> str:
    """The body of the one ``<!-- test: NAME -->`` block."""
    (body,) = [body for _kind, arg, body in blocks("test") if arg == name]
    return body


def test_every_code_block_is_marked_and_every_test_block_is_used() -> None:
    text = DOC.read_text()
    fences = re.findall(r"^```", text, re.M)
    assert len(fences) == 2 * len(blocks()), "a code block in plugins.md has no marker comment"
    assert {kind for kind, _arg, _body in blocks()} == {"file", "excerpt", "test", "shell"}
    assert {arg for _kind, arg, _body in blocks("test")} == TESTED


@pytest.mark.parametrize("path,body", [(arg, body) for _k, arg, body in blocks("file")])
def test_file_blocks_equal_the_files(path: str, body: str) -> None:
    assert body + "\n" == (REPO / path).read_text()


def _is_excerpt(body: str, text: str) -> bool:
    want = textwrap.dedent(body).splitlines()
    lines = text.splitlines()
    for start in range(len(lines) - len(want) + 1):
        window = textwrap.dedent("\n".join(lines[start:start + len(want)])).splitlines()
        if window == want:
            return True
    return False


@pytest.mark.parametrize("path,body", [(arg, body) for _k, arg, body in blocks("excerpt")])
def test_excerpt_blocks_are_copied_from_the_files(path: str, body: str) -> None:
    assert _is_excerpt(body, (REPO / path).read_text()), f"plugins.md's excerpt of {path} differs"


def test_excerpt_check_catches_a_changed_line() -> None:
    source = "def f():\n    a = 1\n    return a\n"
    assert _is_excerpt("a = 1\nreturn a", source)
    assert not _is_excerpt("a = 2\nreturn a", source)


def test_layout_lists_the_example_files() -> None:
    lines = block("layout").splitlines()
    assert lines[0] == "spectryn-jsonfile/"
    path: list[str] = []
    for line in lines[1:]:
        depth = (len(line) - len(line.lstrip())) // 2  # 1 for the folder's own entries
        path = path[:depth - 1] + [line.split("#")[0].strip().rstrip("/")]
        assert JSONFILE.joinpath(*path).exists(), path


def test_contract_table_names_every_contract_test() -> None:
    names = {name for name in dir(TrackerContract) if name.startswith("test_")}
    documented = set(re.findall(r"^\| `(test_\w+)` \|", DOC.read_text(), re.M))
    assert documented == names


@pytest.fixture
def with_examples(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The example plugins importable from their source folders; cwd a fresh project folder."""
    monkeypatch.syspath_prepend(str(JSONFILE))
    monkeypatch.syspath_prepend(str(ACME))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_jsonfile_config_file_env_and_flag_say_the_same(with_examples, monkeypatch) -> None:
    monkeypatch.setenv("SPECTRYN_PLUGINS", "spectryn_jsonfile.plugin")
    plugins = load_plugins()
    sections = App(plugins).sections()
    (with_examples / ".spectryn.yaml").write_text(block("jsonfile-config"))
    common = {"cwd": with_examples, "user_config_dir": with_examples / "u"}
    from_file = load_config(sections, env={}, **common)
    from_env = load_config(sections, env={"SPECTRYN_JSONFILE_PATH": "other.json"}, **common)
    from_flag = load_config(sections, env={}, cli={"jsonfile.path": "flag.json"}, **common)
    assert yaml.safe_load(block("jsonfile-config")) == {"jsonfile": {"path": "issues.json"}}
    assert from_file.get("jsonfile.path") == "issues.json"
    assert from_env.get("jsonfile.path") == "other.json"
    assert from_flag.get("jsonfile.path") == "flag.json"
    assert from_env.source_of("jsonfile.path") == "environment SPECTRYN_JSONFILE_PATH"


def _acme_resolves(folder: Path, config_text: str) -> dict[str, str]:
    import spectryn_acme_mapper

    plugins = load_plugins()
    plugins.pm.register(spectryn_acme_mapper, name="acme")  # as its entry point would
    plugins.infos.append(PluginInfo("acme", "spectryn_acme_mapper"))
    (folder / ".spectryn.yaml").write_text(config_text)
    config = load_config(App(plugins).sections(), env={}, cwd=folder,
                         user_config_dir=folder / "u", tracker="jsonfile")
    hooks = plugins.mapper_hooks(config.get("sync.mapper"))
    return {
        "done": resolve_status(hooks, "done", "jsonfile", config),
        "blocked": resolve_status(hooks, "blocked", "jsonfile", config),
        "closed": resolve_status(hooks, "closed", "jsonfile", config),
        "high": resolve_priority(hooks, "high", "jsonfile", config),
    }


def test_acme_config_blocks_choose_the_mapper_and_mapping_wins(with_examples) -> None:
    assert _acme_resolves(with_examples, block("acme-config")) == {
        "done": "closed", "blocked": "on hold", "closed": "closed", "high": "blocker"}
    assert _acme_resolves(with_examples, block("acme-config-with-mapping")) == {
        "done": "resolved", "blocked": "on hold", "closed": "closed", "high": "blocker"}
    assert _acme_resolves(with_examples, "sync: {}\n")["high"] == "critical"  # default mapper


@pytest.fixture
def tasklist(with_examples: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The guide's parser plugin saved as spectryn_tasklist.py and registered by module."""
    plugin_dir = with_examples / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "spectryn_tasklist.py").write_text(block("parser-plugin") + "\n")
    monkeypatch.syspath_prepend(str(plugin_dir))
    monkeypatch.setenv("SPECTRYN_PLUGINS", "spectryn_tasklist,spectryn_jsonfile.plugin")
    return with_examples


def test_parser_plugin_reads_the_sample(tasklist: Path, capsys) -> None:
    (tasklist / "backlog.tasks").write_text(block("parser-sample") + "\n")
    assert main(["validate", "backlog.tasks"]) == 0
    said = capsys.readouterr().out.strip()
    assert said == "backlog.tasks: OK - 1 epic(s), 2 stories, 0 subtasks"
    assert f"`spectryn validate backlog.tasks` says `{said}`" in DOC.read_text()


def test_parser_plugin_sample_syncs_to_jsonfile(tasklist: Path) -> None:
    import json

    (tasklist / "backlog.tasks").write_text(block("parser-sample") + "\n")
    argv = ["--markdown", "backlog.tasks", "--tracker", "jsonfile", "--execute"]
    assert "`spectryn " + " ".join(argv) + "`" in DOC.read_text()
    assert main(argv) == 0
    issues = json.loads((tasklist / "issues.json").read_text())["issues"]
    assert [(i["title"], i["state"]) for i in issues] == [
        ("US-101: Export invoices as PDF", "open"), ("US-102: Send reminders", "open")]


def test_parser_plugin_reports_every_problem_and_sends_nothing(tasklist: Path, capsys) -> None:
    (tasklist / "bad.tasks").write_text(block("parser-sample-bad") + "\n")
    assert main(["--markdown", "bad.tasks", "--tracker", "jsonfile", "--execute"]) == 2
    assert capsys.readouterr().err.strip() == block("parser-sample-bad-output")
    assert not (tasklist / "issues.json").exists()
    assert main(["validate", "bad.tasks"]) == 2
