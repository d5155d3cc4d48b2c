"""``make bench``: run every benchmark script in this folder, one after another.

Each script prints its own figures; they are benchmarks, not tests, and never fail the build
on a number (these machines are shared: compare the ratios each script prints).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = [
    "bench_core.py",
    "bench_mapper.py",
    "bench_jira_mapper.py",
    "bench_github.py",
    "bench_jira.py",
    "bench_idle_run.py",
    "bench_latency.py",
    "bench_report.py",
    "bench_startup.py",
]


def main() -> int:
    scripts = [HERE / name for name in ORDER if (HERE / name).exists()]
    scripts += sorted(p for p in HERE.glob("bench_*.py") if p.name not in ORDER)
    failed = 0
    for script in scripts:
        print(f"\n== {script.name}", flush=True)
        failed += subprocess.run([sys.executable, str(script)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
