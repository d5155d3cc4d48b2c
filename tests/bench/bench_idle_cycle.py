"""Benchmark: the whole idle daemon cycle at 10,000 and 100,000 items, as a daemon pays it.

Idle: every repository answers 304, nothing changed, nothing to write. The cycle is the
daemon's own (``Daemon.sync_job``) through the real GitHub connector: per repository, the
cursor read from the SQLite state store and one conditional list request (``If-None-Match``)
through PyGithub's ``Requester`` and ``requests``, over a keep-alive socket, to a stand-in
GitHub in another process that answers every conditional list 304 (so its CPU is not
counted; the requests and their answers are real HTTP); then the view turned back into
items, owners and evidence looked up, evaluate, plan, apply (nothing), the decisions
recorded and the metrics set. The items are ``bench_core.generate``'s backlog in 20
repositories, settled (every planned write applied, so an idle cycle has nothing to do),
saved in the state store as the connector's view cache with a cursor per repository, and
read back by the daemon's first cycle. Owner accounts are asked once (the stand-in answers
200), then come from the store's answers of the day; the evidence links (github.com pull
requests) are answered from memory, as ``connectors.github.verify`` does for a merged pull
request (final: no request).

Each cycle is checked to be idle: exactly one GET per repository, answered 304, nothing else
sent. CPU time is ``time.process_time`` around one ``sync_job``, best of five cycles, the
clock moved by one poll interval each time; logs are JSON lines at INFO, as in a container.
The line "of which the reads" is the connector's ``fetch`` alone (cursors and requests).
``--stages-anew`` also measures the cycle with every stage after the evaluator done anew
(what the daemon did before ``syncer.core.idle``). To compare two checkouts, run this file in each
(copy it into the other one's ``tests/bench/``), one after the other.
Goal (issue 14): an idle daemon cycle at 100,000 items under 50 ms CPU.
Run: ``.venv/bin/python tests/bench/bench_idle_cycle.py [--stages-anew]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syncer.core.cursors import Cursor, ViewEntry, encode_entry
from syncer.core.evaluate import evaluate
from syncer.core.idle import CheckedItems, CycleMemory, Reuse
from syncer.core.logging_setup import configure_logging
from syncer.core.model import ActionItem, Evidence, ItemRef, Verification
from syncer.core.plan import Observed, plan
from syncer.core.policy import Policy
from syncer.core.tracker import EvidenceLink, Verdict
from syncer.service.daemon import Daemon
from syncer.service.settings import Settings
from tests.bench.bench_core import NOW, POLICY_FILE, generate, settle

TOKEN_ENV = "PMSYNC_BENCH_GITHUB_TOKEN"
TRACKER = "github"
REPOSITORIES = [f"acme/repo{i}" for i in range(20)]  # as bench_core.generate spreads items
T = TypeVar("T")
MERGED = Verdict(Verification.CONFIRMED, "merged")


class NotModified(BaseHTTPRequestHandler):
    """A stand-in GitHub: a conditional issue list is 304 (with GitHub's rate-limit headers,
    which it sends on a 304 too), ``GET /users/LOGIN`` an active account, the rest 404."""

    protocol_version = "HTTP/1.1"  # keep-alive, as with api.github.com

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        etag = self.headers.get("If-None-Match")
        if path.startswith("/repos/") and path.endswith("/issues") and etag:
            self._answer(304, b"", {"ETag": etag})
        elif path.startswith("/users/"):
            login = path.removeprefix("/users/")
            self._answer(200, json.dumps({"login": login, "type": "User"}).encode())
        else:
            self._answer(404, b'{"message": "Not Found"}')

    def _answer(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Used": "1",
            **(headers or {}),
        }.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve() -> None:
    """Run the stand-in on a free port of 127.0.0.1; print the port, serve until killed."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotModified)
    print(server.server_address[1], flush=True)
    server.serve_forever()


@contextmanager
def stand_in_github() -> Iterator[str]:
    """The stand-in in a process of its own (its CPU is not this process's); its base URL."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline())}"
    finally:
        server.terminate()
        server.wait()


class MergedPulls:
    """The evidence verifier for github.com: every pull request merged, from memory (as
    ``connectors.github.verify`` answers a pull request it knows is merged: final)."""

    name = "github.com"

    def serves(self, link: EvidenceLink) -> int:
        return 1 if link.url.startswith("https://github.com/") else 0

    def verify(self, links: Sequence[EvidenceLink]) -> Mapping[str, Verdict]:
        return {link.url: MERGED for link in links}


def as_mapped(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """``evidence`` as the mapper gives it: links not looked up yet."""
    return tuple(e.model_copy(update={"verification": Verification.UNCHECKED}) for e in evidence)


def settled(n: int, policy: Policy) -> tuple[list[ActionItem], set[tuple[ItemRef, str]]]:
    """``n`` generated items with every planned write applied, and the markers posted."""
    items = generate(n)
    markers: set[tuple[ItemRef, str]] = set()
    for _ in range(4):
        assessments = evaluate(items, policy, NOW)
        pending = plan(assessments, policy.managed_labels, Observed(set(markers)))
        if pending.is_empty():
            return items, markers
        for action in pending.actions:
            if action.kind == "comment":
                markers.add((action.ref, action.message.marker))
        items = settle(items, assessments, policy)
    raise AssertionError("the generated items did not settle")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def save_views(daemon: Daemon, items: Sequence[ActionItem]) -> None:
    """Store ``items`` as the connector's view cache after a cold sync at ``NOW``: per
    repository the mapped entries and a cursor with an ETag, as ``connectors.github.reads``
    saves them."""
    connector: Any = daemon.runtime.trackers[0]
    by_repo: dict[str, dict[str, str]] = {repo: {} for repo in REPOSITORIES}
    newest: dict[str, datetime] = {}
    for item in items:
        mapped = item.model_copy(update={"evidence": as_mapped(item.evidence)})
        repo, number = item.ref.key.split("#")
        by_repo[repo][number] = encode_entry(ViewEntry(mapped, comments=0))
        newest[repo] = max(newest.get(repo, item.updated_at), item.updated_at)
    for repo, entries in by_repo.items():
        cursor = Cursor(
            since=newest.get(repo),
            etag=f'"bench-{repo}"',
            full_sync_at=NOW,
            view=connector.reader.fingerprint,
        )
        daemon.store.save_view(f"github:{TRACKER}:{repo}", cursor, entries, replace=True)


def idle_daemon(
    n: int, folder: Path, policy_data: dict[str, Any]
) -> tuple[Daemon, Clock, Callable[[], Counter[tuple[str, int]]]]:
    """A leading daemon on a settled store of ``n`` items; and its connector's request count."""
    policy_path = folder / f"policy-{n}.yaml"
    policy_path.write_text(yaml.safe_dump(policy_data))
    clock = Clock(NOW)
    daemon = Daemon(
        policy_path,
        Settings(),
        clock=clock,
        state_url=f"sqlite:///{folder / f'state-{n}.db'}",
    )
    items, markers = settled(n, daemon.policy)
    save_views(daemon, items)
    daemon.runtime.verifiers = [MergedPulls()]
    daemon.store.remember_markers(TRACKER, [(ref.key, marker) for ref, marker in markers])
    daemon.leader = True
    connector: Any = daemon.runtime.trackers[0]
    return daemon, clock, lambda: Counter(connector.requests)


def assert_idle(daemon: Daemon, sent: Counter[tuple[str, int]], label: str) -> None:
    """The cycle went through, sending one conditional GET per repository, all 304, and
    nothing else (a planned write would have been sent, and refused): it was idle."""
    if daemon.backoff.failures:
        raise AssertionError(f"{label}: the cycle failed (see the log)")
    if sent != Counter({("GET", 304): len(REPOSITORIES)}):
        raise AssertionError(f"{label}: not an idle cycle, sent {dict(sent)}")


def best_cycle(
    daemon: Daemon, clock: Clock, sent: Callable[[], Counter[tuple[str, int]]], repeat: int = 5
) -> float:
    """The best CPU seconds of ``repeat`` idle cycles, one poll interval apart."""
    interval = daemon.policy.daemon.interval.as_timedelta()
    fastest = float("inf")
    for _ in range(repeat):
        clock.now += interval
        before = sent()
        gc.collect()
        start = time.process_time()
        daemon.sync_job(full=False)
        fastest = min(fastest, time.process_time() - start)
        assert_idle(daemon, sent() - before, "cycle")
    return fastest


def best_read(daemon: Daemon, clock: Clock, repeat: int = 5) -> float:
    """The best CPU seconds of the connector's idle ``fetch`` alone (cursors and requests)."""
    connector: Any = daemon.runtime.trackers[0]
    interval = daemon.policy.daemon.interval.as_timedelta()
    fastest = float("inf")
    for _ in range(repeat):
        clock.now += interval
        gc.collect()
        start = time.process_time()
        connector.fetch(full=False)
        fastest = min(fastest, time.process_time() - start)
    return fastest


class NeverReuse(Reuse[T]):
    """A stage computed every cycle, as before ``syncer.core.idle``."""

    def answer(self, inputs: Sequence[object], key: Hashable, compute: Callable[[], T]) -> T:
        self.reused = False
        return compute()


class NeverChecked(CheckedItems):
    """Owner accounts and evidence looked at every cycle, as before ``syncer.core.idle``."""

    def get(self, fetched: list[ActionItem], day: date, now: datetime) -> Any:
        self.reused = False
        return None


@dataclass
class BeforeMemory(CycleMemory):
    """Only the evaluator remembers; the marker cache is read from the store every cycle."""

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, None if name == "markers" else value)


def as_before(daemon: Daemon) -> None:
    """The daemon before ``syncer.core.idle``: an ``IncrementalEvaluator``, each stage anew."""
    daemon.memories[TRACKER] = BeforeMemory(
        checked=NeverChecked(), plans=NeverReuse(), recorded=NeverReuse()
    )
    daemon.gauges = NeverReuse()
    daemon.follow_through = NeverReuse()


@dataclass(frozen=True)
class Figures:
    cycle: float
    read: float


def measure(
    n: int, folder: Path, policy_data: dict[str, Any], *, stages_anew: bool = False
) -> Figures:
    """The best idle cycle's (and idle read's) CPU seconds at ``n`` items."""
    where = folder / ("anew" if stages_anew else "idle")
    where.mkdir(exist_ok=True)
    daemon, clock, sent = idle_daemon(n, where, policy_data)
    if stages_anew:
        as_before(daemon)
    try:
        before = sent()
        daemon.sync_job(full=False)  # the first cycle reads the view back and fills the caches
        first = sent() - before
        first.pop(("GET", 200), None)  # the owner look-ups of the day
        assert_idle(daemon, first, "first cycle")
        cycle = best_cycle(daemon, clock, sent)
        return Figures(cycle, best_read(daemon, clock))
    finally:
        daemon.store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--stages-anew", action="store_true", help="also measure every stage done anew"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve()
        return
    os.environ.setdefault(TOKEN_ENV, "ghp_bench-not-sent")
    # As in a container: JSON lines at INFO (one per cycle), here to nowhere.
    sink = open(os.devnull, "w")  # noqa: SIM115 - kept open for the whole run
    configure_logging(level="INFO", stream=sink, json_output=True)
    policy_data = yaml.safe_load(POLICY_FILE.read_text())
    with stand_in_github() as base_url, tempfile.TemporaryDirectory() as tmp:
        github = policy_data["trackers"]["github"][0]
        github.update({"base_url": base_url, "token_env": TOKEN_ENV, "repositories": REPOSITORIES})
        github.pop("webhook_secret_env", None)
        folder = Path(tmp)
        for n in args.sizes:
            idle = measure(n, folder, policy_data)
            print(
                f"idle daemon cycle, {n:,} items, {len(REPOSITORIES)} repositories: "
                f"{idle.cycle * 1000:.1f} ms CPU (of which the reads, cursors and 304s: "
                f"{idle.read * 1000:.1f} ms)",
                flush=True,
            )
            if args.stages_anew:
                anew = measure(n, folder, policy_data, stages_anew=True)
                print(
                    f"  every stage after the evaluator anew: {anew.cycle * 1000:.1f} ms CPU "
                    f"({anew.cycle / idle.cycle:.0f} x more)",
                    flush=True,
                )
    print("goal: idle daemon cycle at 100,000 items under 50 ms CPU")


if __name__ == "__main__":
    main()
