"""Architecture rules: the core never imports requests or the plugin packages; the plugin listing
imports plugin modules (to show their hooks) but not their heavy dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys, json, io, contextlib
import spectryn_core, spectryn_core.sync, spectryn_core.cli, spectryn_core.config
after_import = sorted(m for m in sys.modules if m.split('.')[0] in
                      ('requests', 'requests_toolbelt', 'markdown_it', 'spectryn_markdown', 'spectryn_bitbucket'))
with contextlib.redirect_stdout(io.StringIO()):
    spectryn_core.cli.main(['plugins'])
after_listing = sorted(m for m in sys.modules if m.split('.')[0] in
                       ('requests', 'requests_toolbelt', 'markdown_it', 'urllib3'))
print(json.dumps({"after_import": after_import, "after_listing": after_listing}))
"""


def test_core_imports_no_plugin_and_no_requests() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["after_import"] == []
    assert found["after_listing"] == []


def test_core_sources_never_import_plugins_or_requests() -> None:
    offenders = []
    for path in (ROOT / "spectryn_core").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                name in stripped.split()[1]
                for name in ("requests", "spectryn_markdown", "spectryn_bitbucket")
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {stripped}")
    assert offenders == []


NO_EXTRAS = """
import sys
for name in ('requests', 'requests_toolbelt', 'markdown_it'):
    sys.modules[name] = None  # as if the [bitbucket] and [markdown] extras were not installed
from spectryn_core.cli import main
code = main(['plugins'])
print('exit', code)
code = main(['--markdown', 'examples/EPIC.md', '--tracker', 'bitbucket'])
print('exit', code)
"""


def test_without_extras_plugins_say_which_extra_fixes_them() -> None:
    done = subprocess.run([sys.executable, "-c", NO_EXTRAS], capture_output=True, text=True,
                          cwd=ROOT)
    assert "exit 0" in done.stdout
    assert "pip install 'spectryn[bitbucket]'" in done.stdout
    assert "pip install 'spectryn[markdown]'" in done.stdout
    assert "NOT LOADED" in done.stdout
    # a sync without the extras is a clean usage error naming the fix, not a traceback
    assert "exit 2" in done.stdout
    assert "Traceback" not in done.stderr
    assert "spectryn[markdown]" in done.stderr
