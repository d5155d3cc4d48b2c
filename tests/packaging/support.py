"""Running ``pmsync`` in a fresh interpreter with some packages made missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Blocked:
    """What one run did: exit code, output, refused imports and watched packages imported."""

    code: int | None
    stdout: str
    stderr: str
    refused: list[str]
    imported: list[str]

    def problem_lines(self) -> list[str]:
        """stderr without the structured log lines (JSON objects, one a line)."""
        return [line for line in self.stderr.splitlines() if not line.startswith("{")]

    def log_events(self) -> list[dict[str, object]]:
        """The structured log lines on stderr, parsed."""
        events: list[dict[str, object]] = []
        for line in self.stderr.splitlines():
            if line.startswith("{"):
                events.append(json.loads(line))
        return events


def run_blocked(
    tmp_path: Path,
    args: Sequence[str],
    *,
    block: Sequence[str] = ("matplotlib", "psycopg"),
    env: dict[str, str] | None = None,
    timeout: float = 180,
) -> Blocked:
    """``pmsync ARGS`` with ``block`` made missing, in a subprocess started from the repo."""
    record = tmp_path / f"record-{len(list(tmp_path.glob('record-*')))}.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.packaging.blocked",
            "--block",
            ",".join(block),
            "--record",
            str(record),
            "--",
            *args,
        ],
        cwd=REPO,
        env={**os.environ, "PMSYNC_LOG_LEVEL": "INFO", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    data = json.loads(record.read_text(encoding="utf-8")) if record.exists() else {}
    return Blocked(
        code=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        refused=list(data.get("refused", ["<no record: the runner died>"])),
        imported=list(data.get("imported", [])),
    )
