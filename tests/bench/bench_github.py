"""Benchmark: what pmsync's GitHub connector costs in requests, against a naive PyGithub script.

Runs standalone (``.venv/bin/python tests/bench/bench_github.py``) on the in-process emulator:
N action items spread over R repositories, one second apart so each has its own updated_at.
It measures, by the emulator's own request counters, a cold sync, an idle cycle, a cycle with
one changed item, one escalation (marker check + comment + label), the evidence look-ups of
newly closed items (one GET per distinct pull request, none in the next cycle), and a
straightforward PyGithub script (list issues, then ``get_comments()`` per issue). The naive
script is run on a subset of the repositories and extrapolated linearly when ``--naive-repos``
is below R; the output says so.

First, ``pmsync run --once`` as separate processes sharing one SQLite state store, as a
scheduler runs it: a cold run, an idle run (issue 14: one conditional request per repository,
all 304, no quota) and a ``--full`` run (what every run paid before the view cache was kept in
the store), with the size of that cache. ``--code DIR`` runs those processes from another
checkout (``git archive`` of an older commit) to measure it with the same script; its own
``--full`` row is then skipped when that checkout has no such option (``--no-full-row``).
Exit 1 when one of the bounds from issues 3 and 14 does not hold.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import structlog
from github import Auth, Github
from pydantic import SecretStr

from connectors.emulators.github import GitHubEmulator
from connectors.github import GitHubConnector
from syncer.core.cursors import MemoryCursorStore
from syncer.core.directory import MemoryLookupCache, with_account_status
from syncer.core.evidence import verify_evidence
from syncer.core.messages import Markup, Mention, Message
from syncer.core.model import ItemRef, Person
from syncer.core.policy import Escalation, Policy, Tier
from syncer.core.tracker_config import GitHubTracker
from syncer.state import StateStore
from tests.bench.pmsync_process import pmsync_env, run_pmsync, write_yaml

TOKEN = "bench-token"
TOKEN_ENV = "PMSYNC_BENCH_GITHUB_TOKEN"
LABEL = "postmortem-action"
BODY = "### Postmortem\n\nINC-{n}\n\n### Due date\n\n2026-12-01\n\n### Evidence\n\n_No response_\n"


class Clock:
    """Emulator and connector time, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def seed(emulator: GitHubEmulator, clock: Clock, items: int, repos: int) -> list[str]:
    names = [f"acme/service-{i:02d}" for i in range(repos)]
    start = clock() - timedelta(seconds=items + 10)
    for name in names:
        emulator.add_repo(name)
    for n in range(items):
        emulator.add_issue(
            names[n % repos],
            f"Action item {n}",
            labels=[LABEL, ("P0", "P1", "P2", "P3")[n % 4], ("sev-1", "sev-2", "sev-3")[n % 3]],
            assignees=["alice"],
            body=BODY.format(n=n // 25),
            created_at=start + timedelta(seconds=n),
        )
    return names


def measure(
    emulator: GitHubEmulator, action: object
) -> tuple[Counter[tuple[str, str, int]], int, float]:
    """(request counter, quota used, seconds) for one callable."""
    emulator.reset_counters()
    quota = emulator.rate_limit_remaining
    began = time.perf_counter()
    assert callable(action)
    action()
    elapsed = time.perf_counter() - began
    return emulator.counters, quota - emulator.rate_limit_remaining, elapsed


def naive(base_url: str, repos: list[str]) -> int:
    """What a user might write first: every issue, then every issue's comments."""
    gh = Github(
        base_url=base_url,
        auth=Auth.Token(TOKEN),
        seconds_between_requests=0,
        seconds_between_writes=0,
    )
    seen = 0
    for name in repos:
        repo = gh.get_repo(name)
        for issue in repo.get_issues(state="all", labels=[LABEL]):
            for _ in issue.get_comments():
                pass
            seen += 1
    return seen


Row = tuple[str, int, str, int, float, str]


def run_once_rows(
    emulator: GitHubEmulator, clock: Clock, names: list[str], code: Path | None, full_row: bool
) -> tuple[list[Row], dict[str, bool]]:
    """``pmsync run --once`` processes sharing one state store: cold, idle, ``--full``.

    The runs evaluate as of the emulator's clock (``--now``), when no item is due yet, so they
    write nothing and the second run is idle in the tracker's sense.
    """
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pmsync-bench-") as scratch:
        work = Path(scratch)
        policy = write_yaml(work / "policy.yaml", policy_data(emulator.base_url, names))
        state = f"sqlite:///{work / 'state.db'}"
        env = pmsync_env({TOKEN_ENV: TOKEN}, code)
        command = ["run", "--once", "--config", str(policy), "--state", state]
        command += ["--now", clock().isoformat()]

        def one_run(*extra: str) -> tuple[Counter[tuple[str, str, int]], int, float]:
            emulator.reset_counters()
            quota = emulator.rate_limit_remaining
            seconds = run_pmsync([*command, *extra], env, work)
            return emulator.counters, quota - emulator.rate_limit_remaining, seconds

        cold, cold_quota, cold_s = one_run()
        rows.append(("run --once, cold (process)", sum(cold.values()), "", cold_quota, cold_s, ""))
        idle, idle_quota, idle_s = one_run()
        idle_n = sum(idle.values())
        all_304 = all(status == 304 for (_, _, status) in idle)
        with StateStore.open(state) as store:
            sizes = store.view_sizes()
        entries = sum(n for n, _ in sizes.values())
        view_mb = sum(b for _, b in sizes.values()) / 1e6
        file_mb = (work / "state.db").stat().st_size / 1e6
        rows.append(
            (
                "run --once, idle (process)",
                idle_n,
                f"= {len(names)}, all 304",
                idle_quota,
                idle_s,
                f"{'all 304' if all_304 else 'NOT all 304'}; view cache {entries} entries, "
                f"{view_mb:.1f} MB JSON (state file {file_mb:.1f} MB)",
            )
        )
        checks = {
            "idle run --once (a new process): R requests, all 304, no quota": idle_n == len(names)
            and all_304
            and idle_quota == 0
        }
        if full_row:
            full, full_quota, full_s = one_run("--full")
            rows.append(
                (
                    "run --once --full (process)",
                    sum(full.values()),
                    "",
                    full_quota,
                    full_s,
                    "what every run paid before",
                )
            )
    return rows, checks


LABEL_OVER = "pmsync/overdue"


def policy_data(base_url: str, names: list[str]) -> dict[str, Any]:
    """The benchmarks' policy: the seeded repositories, unpaced writes, one tier, no review."""
    return {
        "version": "bench",
        "trackers": {
            "github": [
                {
                    "name": "github",
                    "base_url": base_url,
                    "repositories": names,
                    "token_env": TOKEN_ENV,
                    "seconds_between_writes": 0,
                }
            ]
        },
        "escalation": {"tiers": [{"name": "owner", "after": "0d", "label": LABEL_OVER}]},
        "report": {"enabled": False},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=10_000, help="action items (N)")
    parser.add_argument("--repos", type=int, default=20, help="repositories")
    parser.add_argument(
        "--naive-repos", type=int, default=2, help="repositories the naive script really reads"
    )
    parser.add_argument(
        "--code", type=Path, help="run the run --once processes from this checkout instead"
    )
    parser.add_argument(
        "--no-full-row", action="store_true", help="skip the run --once --full process"
    )
    parser.add_argument(
        "--only-run-once", action="store_true", help="only the run --once processes"
    )
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    clock = Clock()
    emulator = GitHubEmulator(token=TOKEN, clock=clock)
    emulator.start()
    try:
        began = time.perf_counter()
        names = seed(emulator, clock, args.items, args.repos)
        seed_s = time.perf_counter() - began
        process_rows, process_checks = run_once_rows(
            emulator, clock, names, args.code, not args.no_full_row
        )
        if args.only_run_once:
            print_rows(args, seed_s, process_rows)
            return report(process_checks)
        policy = Policy(
            version="bench",
            escalation=Escalation(tiers=[Tier(name="owner", after="0d", label="pmsync/overdue")]),
        )
        config = GitHubTracker(
            base_url=emulator.base_url, repositories=names, seconds_between_writes=0
        )
        connector = GitHubConnector(
            config, policy, MemoryCursorStore(), clock, token=SecretStr(TOKEN)
        )
        rows: list[Row] = list(process_rows)

        def fetch() -> None:
            result = connector.fetch(full=False)
            assert len(result.items) == args.items, len(result.items)

        cold, cold_quota, cold_s = measure(emulator, fetch)
        cold_n = sum(cold.values())
        cold_bound = math.ceil(args.items / 100) + args.repos
        rows.append(("cold sync", cold_n, f"<= {cold_bound}", cold_quota, cold_s, ""))

        clock.advance(300)
        idle, idle_quota, idle_s = measure(emulator, fetch)
        idle_n = sum(idle.values())
        all_304 = all(status == 304 for (_, _, status) in idle)
        rows.append(
            (
                "idle cycle",
                idle_n,
                f"<= {args.repos}, all 304",
                idle_quota,
                idle_s,
                "all 304" if all_304 else "NOT all 304",
            )
        )

        clock.advance(300)
        emulator.add_comment(names[3], 5, "investigating", user="alice")
        changed, changed_quota, changed_s = measure(emulator, fetch)
        changed_n = sum(changed.values())
        rows.append(
            ("one changed item", changed_n, f"<= {args.repos + 1}", changed_quota, changed_s, "")
        )

        # Owner-account look-ups, as a cycle makes them: the first cycle of a day asks once per
        # distinct login; the rest of the day is answered by the cache (here in memory, the
        # state store in the daemon).
        lookups = MemoryLookupCache()
        items = list(connector.fetch(full=False).items)
        logins = len({o.handle for i in items for o in i.owners})

        def look_up() -> None:
            with_account_status(items, [connector], policy, clock(), lookups)

        first_lookups, _, _ = measure(emulator, look_up)
        rows.append(
            (
                "owner look-ups, first of a day",
                sum(first_lookups.values()),
                f"= {logins} (distinct logins)",
                0,
                0.0,
                "",
            )
        )
        clock.advance(300)
        cached_lookups, _, _ = measure(emulator, look_up)
        rows.append(
            ("owner look-ups, same day", sum(cached_lookups.values()), "= 0", 0, 0.0, "cached")
        )

        def escalate(number: int) -> None:
            item = ItemRef(tracker="github", key=f"{names[0]}#{number}")
            message = Message(
                marker=f"pmsync:escalation:tier-1:item-{number}",
                parts=(Mention(person=Person(handle="alice")), Markup(text=" this is overdue.")),
            )
            if not connector.has_marker(item, message.marker):
                connector.post_comment(item, message)
            connector.add_labels(item, ["pmsync/overdue"])

        first, _, _ = measure(emulator, lambda: escalate(1))
        rows.append(
            (
                "first escalation in a repo",
                sum(first.values()),
                "",
                0,
                0.0,
                "incl. one-off label list + create",
            )
        )
        emulator.add_comment(names[0], 21, "a human comment", user="bob")
        clock.advance(60)
        fetch()
        steady, _, _ = measure(emulator, lambda: escalate(41))
        rows.append(
            (
                "escalation, no comments yet",
                sum(steady.values()),
                "= 2 writes",
                0,
                0.0,
                "marker check free: list says 0 comments",
            )
        )
        commented, _, _ = measure(emulator, lambda: escalate(21))
        rows.append(
            (
                "escalation, item has comments",
                sum(commented.values()),
                "= 2 writes + 1 check",
                0,
                0.0,
                "",
            )
        )

        subset = names[: max(1, min(args.naive_repos, args.repos))]
        naive_counter, naive_quota, naive_s = measure(
            emulator, lambda: naive(emulator.base_url, subset)
        )
        scale = args.repos / len(subset)
        naive_n = round(sum(naive_counter.values()) * scale)
        note = (
            f"measured on {len(subset)} of {args.repos} repos, x{scale:g} (linear)"
            if scale != 1
            else "measured"
        )
        rows.append(
            (
                "naive PyGithub cold sync",
                naive_n,
                "",
                round(naive_quota * scale),
                naive_s * scale,
                note,
            )
        )
        rows.append(
            (
                "naive PyGithub idle cycle",
                naive_n,
                "",
                round(naive_quota * scale),
                naive_s * scale,
                "no ETags: same as cold",
            )
        )

        # Closures to judge: 100 items closed with their own merged pull request, 20 more
        # sharing one. The cycle looks each distinct link up once, then never again.
        clock.advance(60)
        closed_at = clock() - timedelta(minutes=5)
        shared = emulator.add_pull(names[1], merged=True)
        for n in range(120):
            pull = emulator.add_pull(names[1], merged=True) if n < 100 else shared
            emulator.add_issue(
                names[1],
                f"Closed action {n}",
                labels=[LABEL, "P0", "sev-1"],
                assignees=["alice"],
                state="closed",
                closed_at=closed_at,
                body=BODY.replace("_No response_", f"{emulator.base_url}/{names[1]}/pull/{pull}"),
            )
        clock.advance(60)
        closures = connector.fetch(full=False).items

        def look_up() -> None:
            verified = verify_evidence(closures, policy, clock(), [connector])
            assert verified.counts() == {"confirmed": 101}, verified.counts()

        looked, looked_quota, looked_s = measure(emulator, look_up)
        looked_n = sum(looked.values())
        rows.append(
            (
                "evidence, 120 new closures",
                looked_n,
                "= 101 distinct PRs",
                looked_quota,
                looked_s,
                "",
            )
        )
        again, _, again_s = measure(emulator, look_up)
        again_n = sum(again.values())
        rows.append(("evidence, next cycle", again_n, "= 0 (merged is final)", 0, again_s, ""))
    finally:
        emulator.stop()

    print_rows(args, seed_s, rows)
    ratio = naive_n / cold_n if cold_n else float("inf")
    print(f"cold sync: {ratio:.1f}x fewer requests than the naive script")
    checks = {
        "cold sync within ceil(N/100)+R": cold_n <= cold_bound,
        "idle cycle within R requests, all 304, no quota": idle_n <= args.repos
        and all_304
        and idle_quota == 0,
        "one changed item within R+1": changed_n <= args.repos + 1,
        "owner look-ups: one per distinct login a day, none when cached": sum(
            first_lookups.values()
        )
        == logins
        and sum(cached_lookups.values()) == 0,
        "escalation = its writes (+1 marker check when the item has comments)": sum(steady.values())
        == 2
        and sum(commented.values()) == 3,
        "evidence: one GET per distinct pull request, none once merged": looked_n == 101
        and again_n == 0,
        **process_checks,
    }
    return report(checks)


def print_rows(args: argparse.Namespace, seed_s: float, rows: list[Row]) -> None:
    print(
        f"GitHub connector benchmark: N={args.items} items in {args.repos} repositories "
        f"(seeded in {seed_s:.1f} s)" + (f"; processes run from {args.code}" if args.code else "")
    )
    print(f"{'scenario':32} {'requests':>9} {'bound':>22} {'quota':>7} {'seconds':>8}  note")
    for name, count, bound, quota, seconds, extra in rows:
        print(f"{name:32} {count:>9} {bound:>22} {quota:>7} {seconds:>8.2f}  {extra}")


def report(checks: dict[str, bool]) -> int:
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
