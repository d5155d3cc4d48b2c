"""Benchmark: what the two speed-ups of the core are worth, each with and without, in one run.

``syncer.core.evaluate`` keeps two things done only for speed, and their docstrings give their
measured worth: sharing one worked-out schedule per (priority, deadline) (``Rules.schedule``)
and pausing the cyclic collector around evaluate and plan (``syncer.core.gcpause``). This script
measures the 100,000 items of ``bench_core.py`` three ways: as shipped, with every item's
schedule worked out on its own, and with the collector left running. CPU is the best of 7
runs of evaluate and of plan; peak RSS is each variant's own process's high-water mark, so
each runs in a subprocess, and the three alternate twice (these machines are shared).

Run: ``.venv/bin/python tests/bench/bench_core_worth.py``.
"""

from __future__ import annotations

import contextlib
import gc
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syncer.core import plan as plan_module
from syncer.core.config_loader import load_model_file
from syncer.core.evaluate import NO_DEADLINE, Rules, Standing, assess, schedule_of
from syncer.core.gcpause import gc_paused
from syncer.core.model import ActionItem, Priority
from syncer.core.policy import Policy
from tests.bench.bench_core import NOW, POLICY_FILE, generate

VARIANTS = ("shipped", "unshared", "unpaused")


def evaluate_as(variant: str, items: list[ActionItem], policy: Policy) -> list[object]:
    """``evaluate`` as shipped, or without one of its two speed-ups."""
    rules = Rules(policy, NOW)
    if variant == "unshared":

        def worked_out_each_time(priority: Priority, deadline: object) -> Standing:
            if deadline is None:
                return NO_DEADLINE
            return schedule_of(priority, deadline, rules)  # type: ignore[arg-type]

        rules.schedule = worked_out_each_time  # type: ignore[method-assign]
    pause = contextlib.nullcontext() if variant == "unpaused" else gc_paused()
    with pause:
        return [assess(item, rules) for item in items]


def measure(variant: str) -> str:
    policy = load_model_file(Policy, POLICY_FILE)
    items = generate(100_000)
    if variant == "unpaused":
        plan_module.gc_paused = contextlib.nullcontext  # type: ignore[assignment]
    best_evaluate = best_plan = float("inf")
    for attempt in range(7):
        gc.collect()
        start = time.process_time()
        assessments = evaluate_as(variant, items, policy)
        mid = time.process_time()
        the_plan = plan_module.plan(
            assessments,  # type: ignore[arg-type]
            policy.managed_labels,
            budget=policy.operations.max_writes_per_cycle,
        )
        best_evaluate = min(best_evaluate, mid - start)
        best_plan = min(best_plan, time.process_time() - mid)
        if attempt < 6:
            del assessments, the_plan
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"core worth, {variant:8s}: evaluate {best_evaluate:.3f} s, plan {best_plan:.3f} s "
        f"CPU; peak RSS {peak:.0f} MB"
    )


def main() -> None:
    if len(sys.argv) > 1:
        print(measure(sys.argv[1]), flush=True)
        return
    for _ in range(2):
        for variant in VARIANTS:
            subprocess.run([sys.executable, __file__, variant], check=True)


if __name__ == "__main__":
    main()
