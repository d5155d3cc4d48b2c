"""A stand-in replica for the multi-process lease test: contends for the lease on the real clock.

Run as ``python -m tests.state.lease_worker URL HOLDER LEASE_SECONDS LEAD_FOR MAX_SECONDS``.
It prints ``ready``, waits for a line on stdin (so both replicas start together), then calls
``try_acquire_or_renew`` every third of a lease, as the daemon will. Each time it leads it
prints one JSON line with the lease row it holds and what ``is_leader`` said; once it has led
for LEAD_FOR seconds it stops without releasing, like a replica that died.
"""

from __future__ import annotations

import json
import sys
import time

from syncer.state import LeaderLease, StateStore


def main(argv: list[str]) -> int:
    url, holder, lease_seconds, lead_for, max_seconds = argv
    store = StateStore.open(url)
    lease = LeaderLease(store, holder_id=holder, lease_seconds=float(lease_seconds))
    print("ready", flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + float(max_seconds)
    led_since: float | None = None
    polls = 0
    while time.monotonic() < deadline:
        polls += 1
        if lease.try_acquire_or_renew():
            led_since = led_since if led_since is not None else time.monotonic()
            state = lease.state()
            confirmed = lease.is_leader()
            if state is not None and state.holder == holder:
                record = {
                    "holder": holder,
                    "token": state.fencing_token,
                    "renewed_at": state.renewed_at.isoformat() if state.renewed_at else None,
                    "expires_at": state.expires_at.isoformat(),
                    "is_leader": confirmed,
                }
                print(json.dumps(record), flush=True)
            if time.monotonic() - led_since >= float(lead_for):
                break
        time.sleep(lease.renew_interval)
    print(json.dumps({"holder": holder, "polls": polls, "done": True}), flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
