"""The tracker contract: pytest tests any tracker plugin runs against itself.

Subclass :class:`TrackerContract` in a test module of your plugin, name your tracker, and give a
``target`` fixture returning a fresh, empty :class:`Target` (its config as environment variables
and/or ``section.key`` options)::

    from spectryn_core.testing import Target, TrackerContract

    class TestMyTrackerContract(TrackerContract):
        tracker = "mytracker"

        @pytest.fixture
        def target(self, tmp_path):
            return Target(env={"MYTRACKER_URL": ..., "MYTRACKER_TOKEN": ...})

        @pytest.fixture
        def broken_target(self, target):   # optional: config that must fail cleanly
            return Target(env={**target.env, "MYTRACKER_TOKEN": "wrong"})

Each test syncs a small spec (:data:`CONTRACT_SPEC`) through the real engine and checks what a
user relies on: one create per story and subtask, a read-back equal to what was rendered, an edit
sending one write, a no-op re-sync sending none, re-discovery without local state creating no
duplicate, a removed subtask reported as an orphan and kept, and errors that end the CLI with a
message and exit code instead of a traceback. Writes are counted with
:meth:`spectryn_core.items.Connection.request_count` (``{"write": n}``), or with
``Target.count_writes`` when the plugin can count them on the tracker side.

The plugin under test must be loadable: installed (an entry point in the ``spectryn`` group) or
named in :attr:`TrackerContract.plugin_modules` (set as ``SPECTRYN_PLUGINS`` during the tests).
Only the plugins in :attr:`TrackerContract.load_plugins` are loaded (``SPECTRYN_LOAD_PLUGINS``),
so other installed plugins cannot change the result. The spec is parsed by the ``markdown``
plugin (``pip install 'spectryn[markdown]'``).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from spectryn_core.cli import App, main
from spectryn_core.config import Config, load_config
from spectryn_core.errors import ConfigError, TrackerError
from spectryn_core.items import Connection
from spectryn_core.plugins import Plugins, load_plugins
from spectryn_core.sync import SyncRequest, SyncResult, run_sync

#: The spec every contract test syncs: an epic, a story with two subtasks and a comment, and a
#: story without subtasks.
CONTRACT_SPEC = textwrap.dedent("""\
    # EPIC-900: Contract checkout

    ### US-901: Pay by card

    | Field | Value |
    |-------|-------|
    | **Story Points** | 3 |
    | **Priority** | High |
    | **Status** | In Progress |

    #### Description
    **As a** shopper **I want** to pay by card **So that** I can finish my order

    #### Subtasks
    | # | Subtask | Description | SP | Status |
    |---|---------|-------------|----|--------|
    | 1 | Card form | The form | 1 | Done |
    | 2 | Card API | The call | 2 | Open |

    #### Comments
    > **@alice** (2025-01-15):
    > Card brands: Visa and Mastercard first.

    ### US-902: Pay by invoice

    | Field | Value |
    |-------|-------|
    | **Priority** | Low |
    | **Status** | Open |

    #### Description
    **As a** company **I want** invoices **So that** accounting is happy
    """)
#: The keys of the stories and subtasks of :data:`CONTRACT_SPEC`: one tracker item each.
CONTRACT_KEYS = ("US-901", "US-901.1", "US-901.2", "US-902")


@dataclass
class Target:
    """A fresh, empty place to sync to, as a user would configure it.

    ``env`` are environment variables (``{"MYTRACKER_TOKEN": "..."}``), ``options`` dotted config
    keys as flags set them (``{"mytracker.project": "demo"}``). ``read_keys``, when given, returns
    the key of every item the target holds, one entry per item (duplicates included), read
    straight from the tracker. ``count_writes``, when given, returns the writes the tracker has
    received so far; otherwise the connection's ``request_count()["write"]`` is used.
    """

    env: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    read_keys: Callable[[], list[str]] | None = None
    count_writes: Callable[[], int] | None = None


class ContractRun:
    """Drives syncs of :data:`CONTRACT_SPEC` to one target through the engine, as the CLI does."""

    def __init__(self, tracker: str, target: Target, workdir: Path) -> None:
        self.tracker = tracker
        self.target = target
        self.workdir = workdir
        self.spec = workdir / "EPIC.md"
        self.spec.write_text(CONTRACT_SPEC, encoding="utf-8")
        self.state_dir = workdir / "state"

    def plugins(self) -> Plugins:
        """The plugins of one run (loaded afresh, as each CLI run does)."""
        plugins = load_plugins()
        broken = [f"{i.name}: {i.error}" for i in plugins.infos if i.error]
        assert not broken, f"plugins failed to load: {broken}"
        return plugins

    def config(self, plugins: Plugins, target: Target | None = None) -> Config:
        """The merged config of ``target`` (default: the test's target); no user files."""
        target = target or self.target
        return load_config(App(plugins).sections(), cli=target.options, env=dict(target.env),
                           cwd=self.workdir, user_config_dir=self.workdir / "no-user-config",
                           tracker=self.tracker)

    def sync(self, execute: bool = True, target: Target | None = None) -> SyncResult:
        """Plan (and with ``execute`` apply) the spec; the result carries ``writes``."""
        plugins = self.plugins()
        config = self.config(plugins, target)
        before = self.target.count_writes() if self.target.count_writes else 0
        request = SyncRequest(self.spec, self.tracker, self.state_dir, execute=execute, workers=4)
        result = run_sync(plugins, config, request)
        if self.target.count_writes is not None:
            result.requests["write"] = self.target.count_writes() - before
        return result

    def writes(self, result: SyncResult) -> int:
        """Writes made by the run of ``result``."""
        if "write" not in result.requests:
            pytest.fail(f"the {self.tracker} connection does not count writes: implement "
                        "Connection.request_count() returning {'read': n, 'write': m}, or give "
                        "Target(count_writes=...)")
        return int(result.requests["write"])

    def open(self) -> Connection:
        """``open_tracker`` of the chosen tracker, as a sync calls it."""
        plugins = self.plugins()
        connection: Connection | None = plugins.tracker_hooks(self.tracker).open_tracker(config=self.config(plugins))
        assert connection is not None, f"{self.tracker}: open_tracker returned None"
        return connection

    def edit(self, old: str, new: str) -> None:
        """Replace ``old`` by ``new`` in the spec file (``old`` must be there)."""
        text = self.spec.read_text(encoding="utf-8")
        assert old in text, old
        self.spec.write_text(text.replace(old, new), encoding="utf-8")

    def delete_state(self) -> None:
        """Forget every local sync state (another machine, a wiped cache)."""
        for path in sorted(self.state_dir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()


def actions(result: SyncResult) -> dict[str, str]:
    """Key -> planned action (``create``, ``update``, ``unchanged``, ``orphan``, ...)."""
    return {change.key: change.action for change in result.plan.changes}


class TrackerContract:
    """The contract tests; subclass it as ``TestXxxContract`` and override the fixtures."""

    #: The tracker's name, as users pass it to ``--tracker``.
    tracker: str = ""
    #: Plugin modules registered through ``SPECTRYN_PLUGINS`` (for a plugin not installed yet).
    plugin_modules: tuple[str, ...] = ()
    #: Entry points to load (``SPECTRYN_LOAD_PLUGINS``); default ``("markdown", tracker)``.
    load_plugins: tuple[str, ...] | None = None

    # --- fixtures a plugin overrides -------------------------------------------------------

    @pytest.fixture
    def target(self) -> Target:
        """A fresh, empty target. Override it."""
        pytest.fail("define a `target` fixture returning spectryn_core.testing.Target")

    @pytest.fixture
    def broken_target(self) -> Target:
        """Config that reaches the tracker but must be refused (wrong token, unusable path)."""
        pytest.skip("no `broken_target` fixture: error mapping not checked")

    # --- the kit's own fixtures -------------------------------------------------------------

    @pytest.fixture
    def contract(
        self, target: Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[ContractRun]:
        """A :class:`ContractRun` on ``target`` with only the plugins under test loaded."""
        assert self.tracker, "set `tracker = \"<name>\"` on your TrackerContract subclass"
        monkeypatch.setenv("SPECTRYN_LOAD_PLUGINS",
                           ",".join(self.load_plugins or ("markdown", self.tracker)))
        if self.plugin_modules:
            monkeypatch.setenv("SPECTRYN_PLUGINS", ",".join(self.plugin_modules))
        else:
            monkeypatch.delenv("SPECTRYN_PLUGINS", raising=False)
        workdir = tmp_path / "contract"
        workdir.mkdir()
        yield ContractRun(self.tracker, target, workdir)

    # --- the contract -----------------------------------------------------------------------

    def test_open_tracker_sends_nothing(self, contract: ContractRun) -> None:
        connection = contract.open()
        try:
            assert isinstance(connection, Connection)
            assert connection.target, "set Connection.target (state is kept per target)"
            assert sum(connection.request_count().values()) == 0, \
                "open_tracker must not send requests (a dry-run of a bad file sends nothing)"
        finally:
            connection.close()

    def test_dry_run_plans_creates_and_writes_nothing(self, contract: ContractRun) -> None:
        result = contract.sync(execute=False)
        planned = actions(result)
        assert {key: planned.get(key) for key in CONTRACT_KEYS} == dict.fromkeys(CONTRACT_KEYS,
                                                                                   "create")
        assert contract.writes(result) == 0
        if contract.target.read_keys:
            assert contract.target.read_keys() == []

    def test_first_sync_creates_each_item_once_and_reads_back_equal(
        self, contract: ContractRun
    ) -> None:
        result = contract.sync()
        assert not result.failed, [(c.key, c.error) for c in result.failed]
        done = {c.key: (c.action, c.status) for c in result.plan.changes}
        for key in CONTRACT_KEYS:
            assert done[key] == ("create", "done"), key
        again = contract.sync(execute=False)
        assert {k: actions(again)[k] for k in CONTRACT_KEYS} == dict.fromkeys(CONTRACT_KEYS,
                                                                               "unchanged"), \
            "what read_items returns must equal what render_item produced"
        if contract.target.read_keys:
            held = Counter(contract.target.read_keys())
            assert {key: held[key] for key in CONTRACT_KEYS} == dict.fromkeys(CONTRACT_KEYS, 1)

    def test_changed_title_sends_one_write_with_that_field(self, contract: ContractRun) -> None:
        contract.sync()
        contract.edit("### US-902: Pay by invoice", "### US-902: Pay by monthly invoice")
        result = contract.sync()
        change = next(c for c in result.plan.changes if c.key == "US-902")
        assert (change.action, change.fields, change.status) == ("update", ["title"], "done")
        others = {k: a for k, a in actions(result).items() if k in CONTRACT_KEYS and k != "US-902"}
        assert set(others.values()) == {"unchanged"}
        assert contract.writes(result) == 1
        assert actions(contract.sync(execute=False))["US-902"] == "unchanged"

    def test_no_op_resync_makes_zero_writes(self, contract: ContractRun) -> None:
        contract.sync()
        result = contract.sync()
        assert {k: actions(result)[k] for k in CONTRACT_KEYS} == dict.fromkeys(CONTRACT_KEYS,
                                                                                "unchanged")
        assert contract.writes(result) == 0

    def test_rediscovery_without_state_makes_no_duplicates(self, contract: ContractRun) -> None:
        contract.sync()
        contract.delete_state()
        result = contract.sync()
        assert contract.writes(result) == 0, "items (or the comment) were sent again"
        assert {k: actions(result)[k] for k in CONTRACT_KEYS} == dict.fromkeys(CONTRACT_KEYS,
                                                                                "unchanged")
        if contract.target.read_keys:
            held = Counter(contract.target.read_keys())
            assert {key: held[key] for key in CONTRACT_KEYS} == dict.fromkeys(CONTRACT_KEYS, 1)

    def test_removed_subtask_is_an_orphan_and_kept(self, contract: ContractRun) -> None:
        contract.sync()
        contract.edit("| 2 | Card API | The call | 2 | Open |\n", "")
        result = contract.sync()
        assert actions(result)["US-901.2"] == "orphan"
        assert actions(contract.sync(execute=False))["US-901.2"] == "orphan", \
            "the orphan must still be in the tracker (never delete)"
        if contract.target.read_keys:
            assert "US-901.2" in contract.target.read_keys()

    def test_broken_target_raises_a_spectryn_error(
        self, contract: ContractRun, broken_target: Target
    ) -> None:
        with pytest.raises((ConfigError, TrackerError)) as raised:
            contract.sync(execute=False, target=broken_target)
        assert raised.value.message

    def test_cli_reports_broken_target_with_exit_code(
        self, contract: ContractRun, broken_target: Target, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        code = _run_cli(contract, broken_target, monkeypatch, [])
        out, err = capsys.readouterr()
        assert code in (1, 2, 4, 5), (code, out, err)
        assert err.startswith("error: ") and "Traceback" not in err, err
        for secret in _secrets(broken_target):
            assert secret not in out + err, "a secret was printed"

    def test_cli_sync_then_nothing_pending(
        self, contract: ContractRun, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        assert _run_cli(contract, contract.target, monkeypatch, ["--execute"]) == 0, \
            capsys.readouterr()
        assert _run_cli(contract, contract.target, monkeypatch, ["--exit-code"]) == 0, \
            "a dry-run after a sync must find nothing to send"


def _run_cli(contract: ContractRun, target: Target, monkeypatch: pytest.MonkeyPatch,
             flags: list[str]) -> int:
    """``spectryn --markdown EPIC.md --tracker NAME FLAGS`` in the work folder, with the
    target's environment and its options in ``.spectryn.yaml``."""
    sections: dict[str, dict[str, Any]] = {}
    for dotted, value in target.options.items():
        section, _, key = dotted.partition(".")
        sections.setdefault(section, {})[key] = value
    (contract.workdir / ".spectryn.yaml").write_text(yaml.safe_dump(sections), encoding="utf-8")
    for name, value in target.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SPECTRYN_STATE_DIR", str(contract.workdir / "cli-state"))
    monkeypatch.setenv("SPECTRYN_LOG_DIR", str(contract.workdir / "cli-logs"))
    monkeypatch.setenv("SPECTRYN_CONFIG_DIR", str(contract.workdir / "no-user-config"))
    monkeypatch.chdir(contract.workdir)
    return main(["--markdown", str(contract.spec), "--tracker", contract.tracker, *flags])


def _secrets(target: Target) -> list[str]:
    """Values that look like secrets (names with TOKEN, PASSWORD or SECRET)."""
    words = ("TOKEN", "PASSWORD", "SECRET")
    named = {**target.env, **{k.upper(): str(v) for k, v in target.options.items()}}
    return [value for name, value in named.items() if any(w in name.upper() for w in words)
            and len(value) >= 4]
