"""Benchmark: what the leader fence costs, how small its blind spot is, and a real-time cycle.

Runs standalone (``.venv/bin/python tests/bench/bench_fence.py``). Three measurements:

1. **The blind spot.** The fence is asked inside the HTTP adapter; what is left between its
   answer and the request being on the wire is urllib3 writing the request. A process frozen
   exactly there sends a stale write on waking (no tracker takes a fencing token). This
   times that window for comment POSTs through the real GitHub connector against the
   in-process emulator: from the fence's answer to the end of the last ``send`` of the
   request on its socket.
2. **The check itself.** One ``LeaseFence`` call (a read of the lease row; a renewal when due)
   on SQLite and, when it answers, the local PostgreSQL.
3. **A full-budget cycle in real time.** One daemon, the default 30 s lease and margin, 50
   writes paced 1 s apart by the real sleep on the database's clock: how often leadership
   was lost (it must be 0) and how often the lease was renewed during the cycle.
   ``--no-cycle`` skips it (it takes about a minute).

Figures are printed; exit 1 only when the cycle lost its leadership.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.emulators.github import Faults, GitHubEmulator  # noqa: E402
from connectors.github import GitHubConnector  # noqa: E402
from syncer.core.cursors import MemoryCursorStore  # noqa: E402
from syncer.core.messages import Markup, Message  # noqa: E402
from syncer.core.model import ItemRef  # noqa: E402
from syncer.core.policy import Policy  # noqa: E402
from syncer.core.tracker_config import GitHubTracker  # noqa: E402
from syncer.core.write_windows import GRANTED, Reservation, WindowLimit  # noqa: E402
from syncer.state import LeaderLease, LeaseFence, StateStore  # noqa: E402
from tests.soak.fence_pause import postgres_url, schema  # noqa: E402

TOKEN = "bench-fence-token"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Unlimited:
    """Write windows that always have room: this bench times requests, not GitHub's limits."""

    def reserve_write(self, host: str, now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
        return GRANTED


def blind_spot(writes: int) -> list[float]:
    """Seconds from the fence's yes to the request's last byte handed to the socket."""
    answered: list[float] = []
    sent: list[float] = []

    def fence() -> bool:
        answered.append(time.perf_counter())
        return True

    original_send = http.client.HTTPConnection.send

    def timed_send(self: http.client.HTTPConnection, data: Any) -> None:
        original_send(self, data)
        sent.append(time.perf_counter())

    with GitHubEmulator(token=TOKEN) as emu:
        emu.faults = Faults(secondary_limit=False)
        emu.add_repo("acme/api")
        number = emu.add_issue("acme/api", "bench", labels=["postmortem-action"])
        config = GitHubTracker(
            base_url=emu.base_url, repositories=["acme/api"], seconds_between_writes=0
        )
        connector = GitHubConnector(
            config,
            Policy(version="bench"),
            MemoryCursorStore(),
            emu.now,
            token=SecretStr(TOKEN),
            fence=fence,
            windows=Unlimited(),
        )
        ref = ItemRef(tracker="github", key=f"acme/api#{number}")
        http.client.HTTPConnection.send = timed_send  # type: ignore[method-assign]
        try:
            windows = []
            for n in range(writes):
                answered.clear()
                sent.clear()
                connector.post_comment(
                    ref, Message(marker=f"pmsync:bench:{n}", parts=(Markup(text="x"),))
                )
                windows.append(sent[-1] - answered[-1])
        finally:
            http.client.HTTPConnection.send = original_send  # type: ignore[method-assign]
    return windows


def fence_cost(url: str, calls: int) -> list[float]:
    store = StateStore.open(url)
    try:
        lease = LeaderLease(store, holder_id="bench", lease_seconds=30)
        lease.try_acquire_or_renew()
        fence = LeaseFence(lease, margin_seconds=17)
        times = []
        for _ in range(calls):
            started = time.perf_counter()
            assert fence()
            times.append(time.perf_counter() - started)
        return times
    finally:
        store.close()


def real_time_cycle() -> tuple[int, int, int, float]:
    """(writes, leadership losses, renewals seen, seconds) of one paced full-budget cycle."""
    from syncer.service.daemon import Daemon
    from syncer.service.settings import Settings
    from tests.service.support import TOKEN_ENV, add_overdue, policy_dict, seed_repo, write_policy

    os.environ[TOKEN_ENV] = TOKEN
    renewals: list[object] = []
    with tempfile.TemporaryDirectory() as tmp, GitHubEmulator(token=TOKEN) as emu:
        seed_repo(emu)
        emu.add_label("acme/api", "pmsync/overdue")
        add_overdue(emu, 25)
        data = policy_dict(emu.base_url)
        data["daemon"] = {"interval": "15m"}
        data["trackers"]["github"][0].update(seconds_between_writes=1, request_timeout_s=15)
        daemon = Daemon(
            write_policy(Path(tmp) / "policy.yaml", data),
            Settings(health_port=0, replica_id="bench"),
            state_url=f"sqlite:///{Path(tmp) / 'state.db'}",
        )
        renew = daemon.lease.renew

        def counted() -> float | None:
            renewals.append(None)
            return renew()

        daemon.lease.renew = counted  # type: ignore[method-assign]
        lost: list[str] = []

        def watch(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
            if event.get("event") in {"leadership lost; writes stop", "lost leadership"}:
                lost.append(str(event["event"]))
            raise structlog.DropEvent

        structlog.configure(processors=[watch])
        started = time.monotonic()
        try:
            daemon.renew_lease()
        finally:
            seconds = time.monotonic() - started
            daemon.store.close()
        writes = sum(1 for r in emu.request_log() if r.method != "GET")
    return writes, len(lost), len(renewals), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--no-cycle", action="store_true")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    windows = blind_spot(args.writes)
    print(f"blind spot, fence answer -> request on the socket ({args.writes} comment POSTs):")
    print(
        f"  median {statistics.median(windows) * 1e6:.0f} us, "
        f"p99 {percentile(windows, 0.99) * 1e6:.0f} us, max {max(windows) * 1e6:.0f} us"
    )
    with tempfile.TemporaryDirectory() as tmp:
        lite = fence_cost(f"sqlite:///{Path(tmp) / 'fence.db'}", 300)
    print(
        f"fence check on SQLite: median {statistics.median(lite) * 1e3:.2f} ms, "
        f"p99 {percentile(lite, 0.99) * 1e3:.2f} ms"
    )
    try:
        server = postgres_url()
    except SystemExit:
        print("fence check on PostgreSQL: skipped (no server on 127.0.0.1:5432)")
    else:
        with schema(server) as url:
            costs = fence_cost(url, 300)
        print(
            f"fence check on PostgreSQL: median {statistics.median(costs) * 1e3:.2f} ms, "
            f"p99 {percentile(costs, 0.99) * 1e3:.2f} ms"
        )
    if args.no_cycle:
        return 0
    writes, lost, renewals, seconds = real_time_cycle()
    print(
        f"real-time full-budget cycle (lease 30 s, margin 17 s, writes 1 s apart): "
        f"{writes} writes in {seconds:.1f} s, leadership lost {lost} times, "
        f"lease renewed {renewals} times by the fence"
    )
    return 0 if lost == 0 and writes == 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
