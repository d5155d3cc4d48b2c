"""Benchmark: what starting ``pmsync`` costs before it does anything (issue 14, point 3).

Goal: ``pmsync --help`` under 0.25 s CPU (user + system of the child process, from
``RUSAGE_CHILDREN``; the median of several runs, since these machines are shared). The bare
interpreter (``python -c pass``) is timed alongside as the floor, and ``python -X importtime``
names the costliest imports, so a regression says where it came from. A few other start-ups
are printed for comparison: they import what their command needs, which is allowed to cost.
Wall-clock seconds (the median of the same runs) are printed beside CPU: they are what a person
waits, but on a shared machine they also hold time spent waiting for a core.
Run: ``.venv/bin/python tests/bench/bench_startup.py``.
"""

from __future__ import annotations

import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_S = 0.25
RUNS = 11


def pmsync_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m syncer.cli.main``."""
    script = Path(sys.executable).with_name("pmsync")
    return [str(script)] if script.exists() else [sys.executable, "-m", "syncer.cli.main"]


def child_cpu(argv: list[str]) -> tuple[float, int, float]:
    """User + system CPU seconds of one run of ``argv``, its exit code and its wall seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, done.returncode, wall


def median_cpu(argv: list[str], runs: int = RUNS) -> str:
    """The median CPU and wall of ``runs`` runs, in words (an unknown option says so instead)."""
    results = [child_cpu(argv) for _ in range(runs)]
    failed = sorted({code for _, code, _ in results if code != 0})
    median = statistics.median(cpu for cpu, _, _ in results)
    wall = statistics.median(wall for _, _, wall in results)
    return f"{median:.3f} s CPU, {wall:.3f} s wall" + (f" (exit {failed[0]})" if failed else "")


def costliest_imports(argv_after_python: list[str], top: int = 5) -> list[tuple[str, float]]:
    """The ``top`` imports with the largest cumulative time under ``-X importtime``, in ms."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *argv_after_python],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|(\s*)(\S+)", line)
        if match and len(match.group(2)) == 1:  # top-level imports only
            rows.append((match.group(3), int(match.group(1)) / 1000))
    return sorted(rows, key=lambda row: row[1], reverse=True)[:top]


def main() -> None:
    pmsync = pmsync_command()
    floor = median_cpu([sys.executable, "-c", "pass"])
    helps = [child_cpu([*pmsync, "--help"]) for _ in range(RUNS)]
    help_cpu = statistics.median(cpu for cpu, _, _ in helps)
    help_wall = statistics.median(wall for _, _, wall in helps)
    verdict = "within" if help_cpu <= GOAL_S else "OVER"
    print(
        f"startup: pmsync --help {help_cpu:.3f} s CPU, {help_wall:.3f} s wall (median of {RUNS}; "
        f"{verdict} the goal of {GOAL_S} s CPU); bare interpreter {floor}"
    )
    for words in (["--version"], ["plan", "--help"], ["report", "--help"]):
        print(f"startup: pmsync {' '.join(words)} {median_cpu([*pmsync, *words], 5)}")
    imports = costliest_imports(["-m", "syncer.cli.main", "--help"])
    print(
        "startup: costliest imports of --help (cumulative ms): "
        + ", ".join(f"{name} {ms:.1f}" for name, ms in imports)
    )


if __name__ == "__main__":
    main()
