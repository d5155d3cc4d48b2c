"""Run pmsync as its own process, as a scheduler or a service manager starts it.

Shared by the benchmarks that measure what separate processes cost (``run --once`` sharing
one state store) or how a running daemon reacts. ``code`` runs another checkout's pmsync
(``--code DIR`` in the benchmarks), to measure the code before a change with the same script;
``python`` runs it with another interpreter (that checkout's own venv, whose dependencies may
differ from this one's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml


def pmsync_env(extra: dict[str, str], code: Path | None = None) -> dict[str, str]:
    """The environment of a pmsync process: ours plus ``extra``, ``code`` first on the path."""
    env = {**os.environ, "PMSYNC_LOG_LEVEL": "WARNING", **extra}
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    return env


def pmsync_command(*args: str, python: str | None = None) -> list[str]:
    return [python or sys.executable, "-m", "syncer.cli.main", *args]


def run_pmsync(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    *,
    allowed: tuple[int, ...] = (0, 4),
    python: str | None = None,
) -> float:
    """Run one pmsync command to its end; its wall-clock seconds. Exits on an unexpected code."""
    began = time.perf_counter()
    done = subprocess.run(
        pmsync_command(*args, python=python),
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode not in allowed:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"pmsync {' '.join(args[:2])} exited {done.returncode}")
    return time.perf_counter() - began


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
