"""Benchmark: an idle daemon cycle's evaluation at 10,000 and 100,000 items, full against
incremental, in one run.

Idle: every item unchanged (the same objects a 304 read hands back), the clock moved by one
poll interval (the example policy's ``daemon.interval``) inside the same policy-local day.
"Full" is ``syncer.core.evaluate.evaluate``, what every cycle did before; "incremental" is the
daemon's ``IncrementalEvaluator`` after a first cycle filled it. CPU time is
``time.process_time``, best of five runs (noise only adds). The plan of the same cycle is
timed too, on its own (in a daemon it is reused for the very same assessments: the whole
idle cycle, reads to metrics, is ``bench_idle_cycle.py``). "One item changed" is the next poll with
one new item object: the item-by-item path. Goal (issue 14): the idle cycle at
100,000 items under 50 ms CPU.
Run: ``.venv/bin/python tests/bench/bench_incremental.py``.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syncer.core.config_loader import load_model_file
from syncer.core.evaluate import evaluate
from syncer.core.incremental import IncrementalEvaluator
from syncer.core.plan import plan
from syncer.core.policy import Policy
from tests.bench.bench_core import NOW, POLICY_FILE, generate


def best(run: Callable[[], object], repeat: int = 5) -> float:
    """The best CPU seconds of ``repeat`` runs."""
    fastest = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        run()
        fastest = min(fastest, time.process_time() - start)
    return fastest


def measure(n: int, policy: Policy) -> None:
    """Print the idle cycle's figures at ``n`` items."""
    interval = policy.daemon.interval.as_timedelta()
    items = generate(n)
    incremental = IncrementalEvaluator()
    first = incremental.evaluate(items, policy, NOW)
    later = NOW + interval
    assert incremental.evaluate(items, policy, later) == evaluate(items, policy, later)
    steps = iter(range(2, 1_000_000))

    def idle() -> object:
        # Each run is the next poll: the clock keeps moving by one interval.
        return incremental.evaluate(list(items), policy, NOW + interval * next(steps))

    def one_changed() -> object:
        # The next poll with one item changed (a new object): the item-by-item path.
        changed = list(items)
        changed[n // 2] = changed[n // 2].model_copy(update={"title": f"t{next(steps)}"})
        return incremental.evaluate(changed, policy, NOW + interval * next(steps))

    full_s = best(lambda: evaluate(items, policy, later))
    changed_s = best(one_changed)
    assert incremental.assessed == 1
    incremental.evaluate(items, policy, NOW + interval * next(steps))
    incremental_s = best(idle)
    assert incremental.assessed == 0
    budget = policy.operations.max_writes_per_cycle
    plan_s = best(lambda: plan(first, policy.managed_labels, budget=budget))
    print(
        f"idle daemon cycle, {n:,} items (clock +{interval}): evaluate full "
        f"{full_s * 1000:.1f} ms, incremental {incremental_s * 1000:.2f} ms CPU "
        f"({full_s / incremental_s:.0f} x less), one item changed "
        f"{changed_s * 1000:.1f} ms; a full plan {plan_s * 1000:.1f} ms"
    )


def main() -> None:
    policy = load_model_file(Policy, POLICY_FILE)
    for n in (10_000, 100_000):
        measure(n, policy)
    print("goal: idle cycle at 100,000 items under 50 ms CPU (the evaluate stage)")


if __name__ == "__main__":
    main()
