"""Benchmark: the whole idle daemon cycle at 10,000 and 100,000 items, before/after, one run.

Idle: every repository answered 304, nothing changed, nothing to write. The cycle is the
daemon's own (``Daemon.sync_job``): read the tracker's cached view, look owners and evidence
up, evaluate, plan, apply (nothing), record the decisions, set the metrics. The tracker is
a stand-in for the GitHub connector after all-304 reads: it hands back the very item objects
its view holds, repository by repository, as ``connectors.github.reads`` does, with their
links unchecked as mapped; it answers owner look-ups (once a day: the state store keeps the
answers) and evidence look-ups from memory, as the connector does for merged pull requests.
The items are ``bench_core.generate``'s backlog, settled: every planned write applied, so an
idle cycle has nothing left to do.

"Before" is the cycle with a full plan every time (what main did: ``IncrementalEvaluator``
but no plan cache); "after" is the daemon as it is. CPU time is ``time.process_time`` around
one ``sync_job``, best of five cycles, the clock moved by one poll interval each time; logs
are JSON lines at INFO, as in a container.
Goal (issue 14): an idle daemon cycle at 100,000 items under 50 ms CPU.
Run: ``.venv/bin/python tests/bench/bench_idle_cycle.py``.
"""

from __future__ import annotations

import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syncer.daemon import Daemon
from syncer.directory import AccountStatus
from syncer.evaluate import evaluate
from syncer.idle import CheckedItems, CycleMemory, Reuse
from syncer.logging_setup import configure_logging
from syncer.messages import Message
from syncer.model import ActionItem, Evidence, ItemRef, Verification
from syncer.plan import Observed, plan
from syncer.policy import Policy
from syncer.settings import Settings
from syncer.tracker import EvidenceLink, FetchResult, Verdict
from tests.bench.bench_core import NOW, POLICY_FILE, generate, settle

TOKEN_ENV = "PMSYNC_BENCH_GITHUB_TOKEN"
T = TypeVar("T")
MERGED = Verdict(Verification.CONFIRMED, "merged")


def as_mapped(evidence: tuple[Evidence, ...]) -> tuple[Evidence, ...]:
    """``evidence`` as the mapper gives it: links not looked up yet."""
    return tuple(e.model_copy(update={"verification": Verification.UNCHECKED}) for e in evidence)


class CachedView:
    """The GitHub connector after a cycle of 304s: its in-memory view, nothing sent.

    Its items carry their links unchecked, as the mapper maps them; as an evidence verifier
    it answers from memory, as ``connectors.github.verify`` does for a merged pull request
    (final: no request).
    """

    name = "github"

    def __init__(self, items: Sequence[ActionItem]) -> None:
        self.view: dict[str, dict[int, ActionItem]] = {}
        self.looked_up = 0
        shared: dict[tuple[Evidence, ...], tuple[Evidence, ...]] = {}
        for item in items:
            mapped = item
            if item.evidence:
                unchecked = shared.setdefault(item.evidence, as_mapped(item.evidence))
                mapped = item.model_copy(update={"evidence": unchecked})
            repo, number = item.ref.key.split("#")
            self.view.setdefault(repo, {})[int(number)] = mapped

    def serves(self, link: EvidenceLink) -> int:
        return 1 if link.url.startswith("https://github.com/") else 0

    def verify(self, links: Sequence[EvidenceLink]) -> Mapping[str, Verdict]:
        self.looked_up += len(links)
        return {link.url: MERGED for link in links}

    def fetch(self, *, full: bool) -> FetchResult:
        items = [item for repo in self.view.values() for item in repo.values()]
        return FetchResult(tuple(items))

    def look_up_users(self, handles: Sequence[str]) -> Mapping[str, AccountStatus]:
        return {h: AccountStatus(active=True) for h in handles}

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        raise AssertionError("an idle cycle checks no marker")

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        raise AssertionError("an idle cycle writes nothing")

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        raise AssertionError("an idle cycle writes nothing")

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        raise AssertionError("an idle cycle writes nothing")

    def reopen(self, ref: ItemRef) -> None:
        raise AssertionError("an idle cycle writes nothing")

    def upsert_report(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("an idle cycle writes nothing")

    def upsert_log_entry(self, *args: object, **kwargs: object) -> object:
        raise AssertionError("an idle cycle writes nothing")

    def display_names(self, handles: Collection[str]) -> Mapping[str, str]:
        return {}


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


def idle_daemon(n: int, folder: Path, policy_data: dict[str, object]) -> tuple[Daemon, Clock]:
    """A leading daemon whose one tracker is a settled ``CachedView`` of ``n`` items."""
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
    view = CachedView(items)
    daemon.runtime.trackers = [view]  # type: ignore[list-item]
    daemon.runtime.verifiers = [view]
    daemon.store.remember_markers(view.name, [(ref.key, marker) for ref, marker in markers])
    daemon.leader = True
    return daemon, clock


def best_cycle(daemon: Daemon, clock: Clock, repeat: int = 5) -> float:
    """The best CPU seconds of ``repeat`` idle cycles, one poll interval apart."""
    interval = daemon.policy.daemon.interval.as_timedelta()
    fastest = float("inf")
    for _ in range(repeat):
        clock.now += interval
        gc.collect()
        start = time.process_time()
        daemon.sync_job(full=False)
        fastest = min(fastest, time.process_time() - start)
    return fastest


class NeverReuse(Reuse[T]):
    """A stage computed every cycle, as before ``syncer.idle``."""

    def answer(self, inputs: Sequence[object], key: Hashable, compute: Callable[[], T]) -> T:
        self.reused = False
        return compute()


class NeverChecked(CheckedItems):
    """Owner accounts and evidence looked at every cycle, as before ``syncer.idle``."""

    def get(self, fetched: list[ActionItem], day: date, now: datetime) -> list[ActionItem] | None:
        self.reused = False
        return None


@dataclass
class BeforeMemory(CycleMemory):
    """Only the evaluator remembers; the marker cache is read from the store every cycle
    (after one extra count query, which main did not send: it makes "before" a little worse,
    by well under a millisecond)."""

    def __setattr__(self, name: str, value: object) -> None:
        super().__setattr__(name, None if name == "markers" else value)


def as_before(daemon: Daemon) -> None:
    """The daemon as main had it: an ``IncrementalEvaluator``, every other stage anew."""
    daemon.memories[CachedView.name] = BeforeMemory(
        checked=NeverChecked(), plans=NeverReuse(), recorded=NeverReuse()
    )
    daemon.gauges = NeverReuse()
    daemon.follow_through = NeverReuse()


def measure(n: int, folder: Path, policy_data: dict[str, object], *, before: bool) -> float:
    """The best idle cycle's CPU seconds at ``n`` items, ``before`` or after."""
    daemon, clock = idle_daemon(n, folder / ("before" if before else "after"), policy_data)
    if before:
        as_before(daemon)
    try:
        daemon.sync_job(full=False)  # the first cycle fills the caches
        return best_cycle(daemon, clock)
    finally:
        daemon.store.close()


def main() -> None:
    os.environ.setdefault(TOKEN_ENV, "ghp_bench-not-sent")
    # As in a container: JSON lines at INFO (one per cycle), here to nowhere.
    sink = open(os.devnull, "w")  # noqa: SIM115 - kept open for the whole run
    configure_logging(level="INFO", stream=sink, json_output=True)
    policy_data = yaml.safe_load(POLICY_FILE.read_text())
    github = policy_data["trackers"]["github"][0]
    github.update({"base_url": "http://127.0.0.1:9", "token_env": TOKEN_ENV})
    github.pop("webhook_secret_env", None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "before").mkdir()
        (folder / "after").mkdir()
        for n in (10_000, 100_000):
            before = measure(n, folder, policy_data, before=True)
            after = measure(n, folder, policy_data, before=False)
            print(
                f"idle daemon cycle, {n:,} items: before {before * 1000:.1f} ms, "
                f"after {after * 1000:.1f} ms CPU ({before / after:.0f} x less)"
            )
    print("goal: idle daemon cycle at 100,000 items under 50 ms CPU")


if __name__ == "__main__":
    main()
