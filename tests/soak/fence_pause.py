"""Pause soak: the leader is frozen (SIGSTOP) inside its write path; it must never write stale.

Why it exists: a leader stopped by SIGSTOP, a long GC pause or a suspended VM between its
leadership check and its request used to wake after a standby had taken over and send one
stale write. The fence is now asked right before each request leaves (after the spacing
between writes), and only while a safety margin of the lease is left. This drives two real
``pmsync daemon`` processes on one PostgreSQL schema against the GitHub emulator, each with
its own token, writes paced 1 s apart (so most of the write path is the pacing pause):

1. wait until the leader (per the lease row) has sent a write in this trial;
2. wait a random 0 to 1.5 s, then SIGSTOP it, wherever it is (pacing pause, fence check,
   request in flight, ledger write...);
3. wait until the standby holds the lease and has written, and at least one lease has
   passed since the stop;
4. SIGCONT the old leader and wait until its ``/readyz`` says standby;
5. stale writes = write requests with the old leader's token after the standby's first
   write, counted in the emulator's request log.

The roles swap each trial. At the end every item must have its escalation comment, once.
Usage: ``python tests/soak/fence_pause.py --trials 50`` (in ``make soak``); a 3-trial version
runs in ``make test`` (tests/service/test_fence_pause.py). Exit 0 when no write was stale.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.emulators.github import GitHubEmulator  # noqa: E402
from syncer.state import StateStore  # noqa: E402
from tests.service.support import (  # noqa: E402
    LEASE_S,
    REPO,
    TOKEN,
    DaemonProcess,
    add_overdue,
    comment_pairs,
    holder,
    policy_dict,
    role,
    seed_repo,
    start_daemon,
    wait_for,
    write_policy,
)
from tests.state.conftest import POSTGRES_CANDIDATES  # noqa: E402

TOKENS = {"A": "ghp_pause-replica-a-41c9", "B": "ghp_pause-replica-b-7e02"}
PACING_S = 1.0
ITEMS_PER_TRIAL = 4
"""Eight paced writes (a comment and a label each): the stop, up to 1.5 s after the first
write was seen, must land with work left for the standby. With 3 items a loaded machine
(load average 6 on 2 cores) saw the first write late enough that the leader had finished
before the stop, and the trial waited in vain for the standby's write. Not more: 50 trials
of 6 items are 600 content writes, past GitHub's 500 an hour, and the last items then wait
for the shared write window (as they should) beyond the final check's patience."""


@dataclass
class Trial:
    leader: str
    delay_s: float
    stopped_s: float
    stale_writes: int
    refused_after_resume: bool


@dataclass
class Figures:
    trials: list[Trial] = field(default_factory=list)
    items: int = 0
    duplicate_comments: int = 0
    comments: int = 0
    seconds: float = 0.0

    @property
    def stale_writes(self) -> int:
        return sum(t.stale_writes for t in self.trials)

    @property
    def ok(self) -> bool:
        return self.stale_writes == 0 and self.duplicate_comments == 0


def postgres_url() -> str:
    """The first local PostgreSQL URL that answers (the tests' candidates)."""
    override = os.environ.get("PMSYNC_TEST_POSTGRES_URL")
    for url in (override,) if override else POSTGRES_CANDIDATES:
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            with psycopg.connect(libpq, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            return url
        except psycopg.Error:
            continue
    raise SystemExit("PostgreSQL is not reachable on 127.0.0.1:5432")


@contextmanager
def schema(url: str) -> Iterator[str]:
    """A fresh schema for the run, dropped afterwards."""
    name = f"pmsync_pause_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield str(make_url(url).update_query_dict({"options": f"-csearch_path={name}"}))
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def writes_by(emu: GitHubEmulator, replica: str, after_seq: int) -> list[int]:
    """Sequence numbers of the write requests ``replica`` sent after ``after_seq``."""
    return [
        r.seq
        for r in emu.request_log(after_seq)
        if r.method != "GET" and r.credential == TOKENS[replica]
    ]


def one_trial(
    emu: GitHubEmulator,
    store: StateStore,
    replicas: dict[str, DaemonProcess],
    rng: random.Random,
    numbers: list[int],
) -> Trial:
    mark = len(emu.request_log())
    numbers.extend(add_overdue(emu, ITEMS_PER_TRIAL))
    wait_for(lambda: holder(store) in replicas, 30, "a leader")
    leader_id = holder(store)
    assert leader_id is not None
    standby_id = next(r for r in replicas if r != leader_id)
    leader = replicas[leader_id]
    wait_for(lambda: bool(writes_by(emu, leader_id, mark)), 30, f"a write by {leader_id}")
    delay = rng.uniform(0.0, 1.5)
    time.sleep(delay)  # where in the write path the stop lands: the randomisation, not a wait
    refusals_before = leader.log_text().count("write refused")
    leader.signal(signal.SIGSTOP)
    stopped = time.monotonic()
    stop_mark = len(emu.request_log())
    try:
        wait_for(
            lambda: (
                holder(store) == standby_id
                and bool(writes_by(emu, standby_id, stop_mark))
                and time.monotonic() - stopped >= LEASE_S
            ),
            60,
            f"{standby_id} to take over and write (the leader had sent "
            f"{len(writes_by(emu, leader_id, mark))} writes this trial before its stop)",
        )
        first_standby_write = writes_by(emu, standby_id, stop_mark)[0]
    finally:
        stopped_s = time.monotonic() - stopped
        leader.signal(signal.SIGCONT)
    wait_for(lambda: role(leader) == "standby", 30, f"{leader_id} to step down")
    stale = writes_by(emu, leader_id, first_standby_write)
    return Trial(
        leader=leader_id,
        delay_s=delay,
        stopped_s=stopped_s,
        stale_writes=len(stale),
        refused_after_resume=leader.log_text().count("write refused") > refusals_before,
    )


def run(
    trials: int, seed: int = 20261124, work: Path | None = None, postgres: str | None = None
) -> Figures:
    """``trials`` trials on a fresh schema of ``postgres`` (default: the local server)."""
    figures = Figures()
    started = time.monotonic()
    rng = random.Random(seed)
    server = postgres or postgres_url()
    with tempfile.TemporaryDirectory(prefix="pmsync-pause-") as tmp, schema(server) as url:
        folder = work or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        emu = GitHubEmulator(token=TOKEN)
        emu.start()
        store = StateStore.open(url)
        replicas: dict[str, DaemonProcess] = {}
        numbers: list[int] = []
        try:
            seed_repo(emu)
            emu.add_label(REPO, "pmsync/overdue")
            for token in TOKENS.values():
                emu.add_token(token)
            data = policy_dict(emu.base_url, interval="1s")
            data["trackers"]["github"][0]["seconds_between_writes"] = PACING_S
            policy = write_policy(folder / "policy.yaml", data)
            for rid, token in TOKENS.items():
                replicas[rid] = start_daemon(
                    policy,
                    url,
                    folder / f"{rid}.log",
                    replica_id=rid,
                    extra_env={"PMSYNC_TEST_GITHUB_TOKEN": token},
                )
            for number in range(trials):
                trial = one_trial(emu, store, replicas, rng, numbers)
                figures.trials.append(trial)
                print(
                    f"\r  trial {number + 1}/{trials}  stale writes {figures.stale_writes}",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
            print(file=sys.stderr)
            # The new leader finishes what is left: every item ends with its comment.
            wait_for(
                lambda: len(comment_pairs(emu, REPO, numbers)) == len(numbers),
                30 + 3 * PACING_S * len(numbers),
                "every item's escalation",
            )
            pairs = comment_pairs(emu, REPO, numbers)
            figures.items = len(numbers)
            figures.comments = sum(pairs.values())
            figures.duplicate_comments = sum(n - 1 for n in pairs.values() if n > 1)
        finally:
            for proc in replicas.values():
                if proc.proc.poll() is None:
                    proc.signal(signal.SIGCONT)
                proc.stop()
            store.close()
            emu.stop()
    figures.seconds = time.monotonic() - started
    return figures


def report(figures: Figures) -> str:
    trials = figures.trials
    refused = sum(t.refused_after_resume for t in trials)
    stops = sorted(t.stopped_s for t in trials)
    return "\n".join(
        [
            f"pause soak: {len(trials)} trials in {figures.seconds:.0f} s "
            f"(lease {LEASE_S} s, writes paced {PACING_S} s apart)",
            f"  leader stopped for {stops[0]:.1f}..{stops[-1]:.1f} s "
            f"(median {stops[len(stops) // 2]:.1f} s), after a random 0..1.5 s into its writes",
            f"  resumed leaders whose next write was refused by the fence: {refused}",
            f"  stale writes (old leader after the standby's first write): {figures.stale_writes}",
            f"  items {figures.items}, comments {figures.comments}, "
            f"duplicate comments {figures.duplicate_comments}",
            f"  result: {'PASS' if figures.ok else 'FAIL'}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--work", type=Path, help="keep the daemons' logs here")
    args = parser.parse_args(argv)
    figures = run(args.trials, args.seed, args.work)
    print(report(figures))
    return 0 if figures.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
