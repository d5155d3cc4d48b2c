"""Soak test: the daemon's cycle against the GitHub emulator, with faults and SIGKILLs.

Why it exists: pmsync runs for months beside trackers that fail in every way, and is killed
and restarted by its supervisor at any moment. Unit tests show each safeguard; this shows
they hold together over many cycles. The parent process hosts the emulator (so its state
survives the kills) and a clock file; a child process builds a real ``Daemon`` on a SQLite
state store and runs its jobs in a loop, moving the shared clock forward before each cycle.
The parent SIGKILLs the child at random moments and starts a new one, until the child has
finished ``--cycles`` cycles. Then the faults stop, a last child lets the backlog drain
without moving time, and the emulator's state is compared with what the policy requires:

* duplicate comments: any (issue, hidden marker) pair with more than one comment;
* missing escalations: a comment the policy wants on an item whose marker is not there;
* labels converged: the plan for the final items holds no label change or reopen;
* lost report updates: a week whose review moment passed without a review issue.

Usage: ``python tests/soak/soak.py --cycles 1000`` (``make soak``). Exit 0 when all four hold.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.emulators.github import Faults, GitHubEmulator  # noqa: E402
from connectors.emulators.github_model import ApiError  # noqa: E402

TOKEN = "ghp_soak-test-token-5c2a"
TOKEN_ENV = "PMSYNC_SOAK_GITHUB_TOKEN"
REPO = "acme/api"
START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # a Monday morning
SPAN = timedelta(days=42)  # simulated time covered by the run, whatever the cycle count
REVIEW_TITLE = "Reliability review"
FAULTS = Faults(
    error_5xx_rate=0.10,
    rate_429_rate=0.05,
    timeout_rate=0.02,
    drop_after_commit_rate=0.02,
    timeout_hold_s=0.0,
    retry_after_s=60,
    seed=7,
)


class FileClock:
    """The simulated time, kept in a file so the emulator and each child share it.

    Only the child moves it (before each cycle); the write is an atomic rename, so a SIGKILL
    can never leave half a timestamp behind.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(float(self.path.read_text(encoding="ascii")), UTC)

    def set(self, moment: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(repr(moment.timestamp()), encoding="ascii")
        os.replace(tmp, self.path)


def policy(base_url: str, budget: int) -> dict[str, Any]:
    return {
        "version": "soak-1",
        "trackers": {
            "github": [
                {
                    "name": "github",
                    "base_url": base_url,
                    "repositories": [REPO],
                    "action_label": "postmortem-action",
                    "token_env": TOKEN_ENV,
                    "seconds_between_writes": 0,
                    "request_timeout_s": 2,
                }
            ]
        },
        "deadlines": {"timezone": "UTC"},
        "escalation": {
            "reminder": {
                "before": "3d",
                "label": "pmsync/due-soon",
                "mention": ["owner"],
                "comment": "{mentions} reminder: {key} is due on {due}.",
            },
            "tiers": [
                {
                    "name": "owner",
                    "after": "0d",
                    "label": "pmsync/overdue",
                    "mention": ["owner"],
                    "comment": "{mentions} {key} is overdue (due {due}).",
                },
                {
                    "name": "sponsor",
                    "after": "7d",
                    "label": "pmsync/escalated-sponsor",
                    "mention": ["owner", "sponsor"],
                    "comment": "{mentions} {key} is {days_overdue} days overdue.",
                },
                {
                    "name": "executive",
                    "after": "14d",
                    "label": "pmsync/escalated-executive",
                    "priorities": ["P0"],
                    "mention": ["owner"],
                    "comment": "{mentions} P0 {key} is {days_overdue} days overdue.",
                },
            ],
            "fallback_mention": ["@cto"],
        },
        "report": {
            "enabled": True,
            "repository": REPO,
            "schedule": {"weekday": "mon", "time": "09:00", "timezone": "UTC"},
            # The soak kills the daemon across review moments: a restart must still publish.
            "publish_missed_on_start": True,
        },
        "operations": {"max_writes_per_cycle": budget},
        "daemon": {"interval": "15m", "lease": "30s", "max_backoff": "1h"},
    }


def item_body(owner: str, due: datetime) -> str:
    return (
        "### Postmortem\n\nhttps://example.invalid/INC-7.md\n\n"
        f"### Owner\n\n@{owner}\n\n### Due date\n\n{due.date().isoformat()}\n\n"
        "### Evidence\n\n_No response_\n\n### Sponsor\n\n@bob\n"
    )


def add_item(emu: GitHubEmulator, rng: random.Random, now: datetime) -> int:
    due = now + timedelta(days=rng.randint(-3, 25))
    priority = rng.choice(["P0", "P1", "P2"])
    return emu.add_issue(
        REPO,
        f"Soak action {rng.randrange(10**6)}",
        body=item_body("alice", due),
        labels=["postmortem-action", "sev-2", priority],
        assignees=["alice"],
        created_at=now - timedelta(days=1),
    )


# ----- the child: a real Daemon's jobs on the shared clock --------------------------------------


def child(args: argparse.Namespace) -> int:
    from syncer.daemon import Daemon
    from syncer.logging_setup import configure_logging
    from syncer.settings import Settings

    configure_logging(level="WARNING", stream=sys.stderr)
    clock = FileClock(Path(args.clock_file))
    done = Path(args.done_file)
    daemon = Daemon(
        Path(args.policy),
        Settings(replica_id="soak", health_port=0),
        clock=clock,
        state_url=args.state,
    )
    print("running", flush=True)
    daemon.renew_lease()  # takes the lease: a full cycle, then catch-up (missed review)
    step = timedelta(seconds=args.step_s)
    count = len(done.read_text().splitlines()) if done.exists() else 0
    while count < args.cycles:
        before = clock()
        now = before + step
        clock.set(now)
        daemon.renew_lease()
        if daemon._next_review(before) <= now:
            daemon.request_review(now)
        daemon.sync_job(full=count % 24 == 0)
        if now.date() != before.date():
            daemon.record_daily_counts(now)
        with done.open("a") as f:
            f.write(f"{now.isoformat()}\n")
        count += 1
    daemon.store.close()
    return 0


# ----- the parent: emulator, kills, checks ----------------------------------------------------


@dataclass
class Figures:
    cycles: int = 0
    kills: int = 0
    restarts: int = 0
    items: int = 0
    faults_5xx: int = 0
    faults_429: int = 0
    faults_dropped: int = 0
    requests: int = 0
    writes: int = 0
    comments: int = 0
    duplicate_comments: int = 0
    missing_escalations: int = 0
    label_changes_left: int = 0
    weeks_due: int = 0
    lost_report_updates: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.duplicate_comments == 0
            and self.missing_escalations == 0
            and self.label_changes_left == 0
            and self.lost_report_updates == 0
        )


def spawn(
    args: argparse.Namespace, work: Path, cycles: int, step_s: float
) -> subprocess.Popen[str]:
    env = {**os.environ, TOKEN_ENV: TOKEN}
    return subprocess.Popen(  # our own script, with arguments we built
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            "--cycles",
            str(cycles),
            "--step-s",
            str(step_s),
            "--policy",
            str(work / "policy.yaml"),
            "--state",
            f"sqlite:///{work / 'state.db'}",
            "--clock-file",
            str(work / "clock"),
            "--done-file",
            str(work / "done"),
        ],
        stdout=subprocess.PIPE,
        stderr=(work / "child.log").open("a"),
        env=env,
        text=True,
        cwd=ROOT,
    )


def done_count(work: Path) -> int:
    path = work / "done"
    return len(path.read_text().splitlines()) if path.exists() else 0


def drive(args: argparse.Namespace, emu: GitHubEmulator, work: Path, figures: Figures) -> None:
    """Run children until ``args.cycles`` cycles are done, killing them at random moments."""
    rng = random.Random(args.seed)
    step_s = SPAN.total_seconds() / args.cycles
    clock = FileClock(work / "clock")
    while done_count(work) < args.cycles:
        proc = spawn(args, work, args.cycles, step_s)
        figures.restarts += 1
        assert proc.stdout is not None
        proc.stdout.readline()  # "running": the daemon is built, its cycles begin
        # Strike after a random moment, but let three lives in four finish a cycle first
        # (watched in the done file): on a loaded machine a cycle can outlast the kill
        # window, and a soak where no child ever finishes one would never end.
        at_least = done_count(work) + (0 if rng.random() < 0.25 else 1)
        deadline = time.monotonic() + rng.uniform(0.05, args.kill_window)
        while proc.poll() is None and (time.monotonic() < deadline or done_count(work) < at_least):
            time.sleep(0.02)
        if proc.poll() is None and done_count(work) < args.cycles:
            proc.send_signal(signal.SIGKILL)  # wherever it is: mid-request, mid-commit...
            figures.kills += 1
        proc.wait(120)
        proc.stdout.close()
        if rng.random() < 0.3:  # new work arrives now and then
            add_item(emu, rng, clock())
            figures.items += 1
        print(
            f"\r  cycles {done_count(work)}/{args.cycles}  kills {figures.kills}",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)


def settle(args: argparse.Namespace, emu: GitHubEmulator, work: Path) -> None:
    """Faults off, time still: a last child drains what the faults and kills left over."""
    emu.faults = Faults(secondary_limit=False)
    target = done_count(work) + args.settle
    proc = spawn(args, work, target, 0.0)
    assert proc.stdout is not None
    proc.stdout.read()
    code = proc.wait(300)
    proc.stdout.close()
    if code != 0:
        raise SystemExit(f"settling child failed with exit code {code}; see {work / 'child.log'}")


def check(emu: GitHubEmulator, work: Path, figures: Figures) -> None:
    from pydantic import SecretStr

    from connectors.github import GitHubConnector
    from syncer.actions import AddLabels, RemoveLabels, Reopen
    from syncer.config_loader import load_model_file
    from syncer.cursors import MemoryCursorStore
    from syncer.evaluate import evaluate
    from syncer.messages import markers_in
    from syncer.plan import plan
    from syncer.policy import Policy
    from syncer.report.build import scheduled_week

    clock = FileClock(work / "clock")
    now = clock()
    the_policy = load_model_file(Policy, work / "policy.yaml")
    connector = GitHubConnector(
        the_policy.trackers.github[0],
        the_policy,
        MemoryCursorStore(),
        clock,
        token=SecretStr(TOKEN),
    )
    fetched = connector.fetch(full=True)
    assert not fetched.errors, fetched.errors
    assessments = evaluate(fetched.items, the_policy, now)

    markers: dict[str, Counter[str]] = {}
    titles: list[str] = []
    number = 1
    while True:
        try:
            issue = emu.issue(REPO, number)
        except ApiError:
            break
        titles.append(str(issue["title"]))
        counted: Counter[str] = Counter()
        for comment in emu.comments(REPO, number):
            counted.update(markers_in(str(comment.get("body") or "")))
            figures.comments += 1
        markers[str(number)] = counted
        number += 1
    figures.duplicate_comments = sum(n - 1 for c in markers.values() for n in c.values() if n > 1)
    figures.missing_escalations = sum(
        1
        for a in assessments
        for wanted in a.comments
        if markers.get(a.item.ref.key.split("#")[-1], Counter())[wanted.marker] == 0
    )
    final = plan(assessments, the_policy.managed_labels, budget=None)
    figures.label_changes_left = sum(
        1 for action in final.actions if isinstance(action, AddLabels | RemoveLabels | Reopen)
    )
    weeks = set()
    review = START.replace(hour=9, minute=0)  # START is a Monday; reviews are Mondays 09:00
    while review <= now:
        if review > START:
            weeks.add(scheduled_week(the_policy, review))  # each reviews the week before
        review += timedelta(days=7)
    figures.weeks_due = len(weeks)
    figures.lost_report_updates = sum(1 for w in weeks if f"{REVIEW_TITLE} {w}" not in titles)
    counters = emu.counters
    figures.faults_5xx = sum(n for (_, _, s), n in counters.items() if 500 <= s < 600)
    figures.faults_429 = sum(n for (_, _, s), n in counters.items() if s == 429)
    figures.faults_dropped = sum(n for (_, _, s), n in counters.items() if s == 0)
    figures.requests = sum(counters.values())
    figures.writes = sum(n for (m, _, s), n in counters.items() if m != "GET" and 200 <= s < 300)


def run(args: argparse.Namespace) -> Figures:
    from syncer.logging_setup import configure_logging

    configure_logging(level="WARNING", stream=sys.stderr)
    figures = Figures()
    started = time.monotonic()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="pmsync-soak-") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        clock = FileClock(work / "clock")
        clock.set(START)
        emu = GitHubEmulator(token=TOKEN, clock=clock)
        emu.start()
        try:
            emu.add_repo(REPO)
            for login in ("alice", "bob", "cto"):
                emu.add_user(login)
            for label in ("postmortem-action", "sev-2", "P0", "P1", "P2"):
                emu.add_label(REPO, label)
            for _ in range(args.items):
                add_item(emu, rng, START)
            figures.items = args.items
            (work / "policy.yaml").write_text(
                yaml.safe_dump(policy(emu.base_url, args.budget), sort_keys=False),
                encoding="utf-8",
            )
            emu.faults = FAULTS
            drive(args, emu, work, figures)
            figures.cycles = done_count(work)
            settle(args, emu, work)
            check(emu, work, figures)
        finally:
            emu.stop()
    figures.seconds = time.monotonic() - started
    return figures


def report(figures: Figures) -> str:
    f = figures
    return "\n".join(
        [
            f"soak: {f.cycles} cycles over {SPAN.days} simulated days in {f.seconds:.0f} s",
            f"  kills (SIGKILL) {f.kills}, child starts {f.restarts}, items {f.items}",
            f"  requests {f.requests}; faults injected: 5xx {f.faults_5xx}, 429 {f.faults_429}, "
            f"timeouts/dropped after commit {f.faults_dropped}",
            f"  writes accepted {f.writes}, comments {f.comments}",
            f"  duplicate comments {f.duplicate_comments}",
            f"  missing escalations {f.missing_escalations}",
            f"  labels converged: {'yes' if f.label_changes_left == 0 else 'no'} "
            f"({f.label_changes_left} label changes left)",
            f"  weekly reviews due {f.weeks_due}, lost report updates {f.lost_report_updates}",
            f"  result: {'PASS' if f.ok else 'FAIL'}",
        ]
    )


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--cycles", type=int, default=1000)
    p.add_argument("--items", type=int, default=40, help="items seeded at the start")
    p.add_argument("--budget", type=int, default=30, help="operations.max_writes_per_cycle")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument(
        "--kill-window", type=float, default=1.5, help="a child is killed after 0.05..this s"
    )
    p.add_argument("--settle", type=int, default=8, help="fault-free cycles at the end")
    p.add_argument("--work", help="keep the working files here (default: a temp dir)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--step-s", type=float, default=3600.0, help=argparse.SUPPRESS)
    p.add_argument("--policy", help=argparse.SUPPRESS)
    p.add_argument("--state", help=argparse.SUPPRESS)
    p.add_argument("--clock-file", help=argparse.SUPPRESS)
    p.add_argument("--done-file", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        return child(args)
    figures = run(args)
    print(report(figures))
    return 0 if figures.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
