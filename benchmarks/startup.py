"""Start-up cost of the CLI over a bare interpreter (issue 15).

Run ``python benchmarks/startup.py [RUNS] [--against PYTHON]`` (default 15 runs) with the
interpreter of an environment the project is installed in (its ``spectryn`` console script is the
one next to that interpreter). Each command runs RUNS times, alternating, from an empty temporary
folder (no config file, no ``.env``); the table gives the median wall time and the median CPU time
(user + system, of the child) of each, the same minus ``python -c pass``, and the fastest run's CPU
time minus the fastest bare run's. On a busy machine the CPU column is steadier than the wall one,
and the fastest run (the least disturbed by other processes) steadier still. Targets, judged on the
median: ``spectryn --version`` and ``spectryn plugins`` under 150 ms over ``python -c pass``;
``spectryn validate`` of a 5-story spec under 250 ms over it. The ``python -m spectryn_core.cli``
rows are for comparison (no target). ``--against PYTHON`` also runs every command in that
interpreter's environment (e.g. a venv with the previous commit installed), interleaved with this
one's, and adds a before/after table.

Bytecode: a first, unmeasured round runs every command with ``PYTHONDONTWRITEBYTECODE`` removed
from its environment, so each module is measured loading from its ``__pycache__`` as it does after
``pip install`` (which byte-compiles). With ``PYTHONDONTWRITEBYTECODE=1`` set globally and no
``__pycache__`` in the checkout, every run compiles the project's modules from source instead.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parse import generate_spec  # noqa: E402

TARGETS = {"spectryn --version": 0.150, "spectryn plugins": 0.150, "spectryn validate EPIC.md (5 stories)": 0.250}


def timed(command: list[str], cwd: str) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def commands_of(python: str, spec: Path) -> dict[str, list[str]]:
    """The measured commands of the environment of ``python`` (its console script is next to it)."""
    script = str(Path(python).parent / "spectryn")
    module = [python, "-m", "spectryn_core.cli"]
    return {
        "python -c pass": [python, "-c", "pass"],
        "spectryn --version": [script, "--version"],
        "spectryn plugins": [script, "plugins"],
        "spectryn validate EPIC.md (5 stories)": [script, "validate", str(spec)],
        "python -m spectryn_core.cli --version": [*module, "--version"],
        "python -m spectryn_core.cli plugins": [*module, "plugins"],
        "python -m spectryn_core.cli validate EPIC.md": [*module, "validate", str(spec)],
    }


def main(argv: list[str]) -> int:
    against = None
    if "--against" in argv:  # another environment (e.g. a venv of the previous commit), interleaved
        at = argv.index("--against")
        against = argv[at + 1]
        argv = argv[:at] + argv[at + 2:]
    runs = int(argv[0]) if argv else 15
    pythons = {"this": sys.executable, **({"against": against} if against else {})}
    for python in pythons.values():
        if not (Path(python).parent / "spectryn").is_file():
            print(f"no console script next to {python}: install the project into that environment",
                  file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory(prefix="startup-") as folder:
        spec = Path(folder) / "EPIC.md"
        spec.write_text(generate_spec(5), encoding="utf-8")
        commands = {env: commands_of(python, spec) for env, python in pythons.items()}
        os.environ.update({"SPECTRYN_CONFIG_DIR": folder, "SPECTRYN_STATE_DIR": folder, "SPECTRYN_LOG_DIR": folder})
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        for each in commands.values():  # writes any missing __pycache__ (see the module docstring)
            for command in each.values():
                timed(command, folder)
        samples: dict[str, dict[str, list[tuple[float, float]]]] = {
            env: {name: [] for name in each} for env, each in commands.items()}
        for _ in range(runs):
            for name in commands["this"]:
                for env, each in commands.items():
                    samples[env][name].append(timed(each[name], folder))
    print(f"{runs} runs each, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; {sys.executable}\n")
    print("| command | wall ms | CPU ms | wall over bare | CPU over bare | fastest CPU over fastest bare "
          "| target over bare |")
    print("|---|---|---|---|---|---|---|")
    this = samples["this"]
    base_wall = statistics.median(w for w, _ in this["python -c pass"])
    base_cpu = statistics.median(c for _, c in this["python -c pass"])
    base_min = min(c for _, c in this["python -c pass"])
    met = True
    for name, values in this.items():
        wall = statistics.median(w for w, _ in values)
        cpu = statistics.median(c for _, c in values)
        fastest = min(c for _, c in values)
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            ok = cpu - base_cpu < target
            met &= ok
            verdict = f"< {target * 1000:.0f} ms: {'met' if ok else 'NOT met'} (median CPU)"
        print(f"| {name} | {wall * 1000:.0f} | {cpu * 1000:.0f} | {(wall - base_wall) * 1000:+.0f} | "
              f"{(cpu - base_cpu) * 1000:+.0f} | {(fastest - base_min) * 1000:+.0f} | {verdict} |")
    if against:
        print(f"\nSame run, interleaved: CPU ms of python -c pass, and of each command over its own "
              f"environment's python -c pass (median; fastest); against: {against}\n")
        print("| command | against | this | against, fastest | this, fastest |")
        print("|---|---|---|---|---|")

        def cpu_ms(env: str, name: str, pick: Any) -> float:
            return float(pick(c for _, c in samples[env][name])) * 1000

        for name in this:
            cells = []
            for pick in (statistics.median, min):
                for env in ("against", "this"):
                    if name == "python -c pass":
                        cells.append(f"{cpu_ms(env, name, pick):.0f}")
                    else:
                        cells.append(f"{cpu_ms(env, name, pick) - cpu_ms(env, 'python -c pass', pick):+.0f}")
            print(f"| {name} | {' | '.join(cells)} |")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
