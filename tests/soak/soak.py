"""Soak test: the daemon's cycles on GitHub and Jira Cloud together, with faults and SIGKILLs.

Why it exists: pmsync runs for months beside trackers that fail in every way, and is killed
and restarted by its supervisor at any moment. Unit tests show each safeguard; this shows
they hold together over many cycles. The parent process hosts a GitHub and a Jira Cloud
emulator (so their state survives the kills) and a clock file; a child process builds a real
``Daemon`` with both trackers on a SQLite state store and runs its jobs in a loop, moving the
shared clock forward before each cycle. Both emulators answer 10% of requests with a 5xx, 5%
with a 429 and ``Retry-After``, time out 2% and drop 2% of write answers after committing the
write. The parent SIGKILLs the child at random moments and starts a new one, until the child
has finished ``--cycles`` cycles. The weekly review is published on GitHub for the first half
of the run and on Jira for the second (the parent switches ``report.tracker`` between
children). Then the faults stop, a last child lets the backlog drain without moving time, and
each emulator's state is compared with what the policy requires:

* duplicate comments: any (issue, marker) pair with more than one comment (GitHub: the hidden
  marker; Jira: the ``pmsync.marker`` comment property, else the visible marker line);
* missing escalations: a comment the policy wants on an item whose marker is not there;
* labels converged: the plan for the final items holds no label change or reopen;
* lost report updates: a week whose review moment passed without a review issue on either.

The Jira connector's waits (``Retry-After``, backoff) move the shared clock instead of
sleeping: the simulated time passes, the soak does not wait for it.

Usage: ``python tests/soak/soak.py --cycles 1000`` (``make soak``). Exit 0 when all hold.
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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.emulators.github import Faults, GitHubEmulator  # noqa: E402
from connectors.emulators.github_model import ApiError  # noqa: E402
from connectors.emulators.jira import JiraEmulator, JiraFaults  # noqa: E402

TOKEN = "ghp_soak-test-token-5c2a"
TOKEN_ENV = "PMSYNC_SOAK_GITHUB_TOKEN"
JIRA_EMAIL = "bot@acme.test"
JIRA_TOKEN = "jira-soak-token-7e1b"
JIRA_TOKEN_ENV = "PMSYNC_SOAK_JIRA_TOKEN"
JIRA_EMAIL_ENV = "PMSYNC_SOAK_JIRA_EMAIL"
JIRA_PROJECT = "REL"
ALICE_ID = "712020:aaaaaaaa-0000-4000-8000-00000000a11c"
BOB_ID = "712020:bbbbbbbb-0000-4000-8000-000000000b0b"
REPO = "acme/api"
START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)  # a Monday morning
SPAN = timedelta(days=42)  # simulated time covered by the run, whatever the cycle count
FAULTS = Faults(
    error_5xx_rate=0.10,
    rate_429_rate=0.05,
    timeout_rate=0.02,
    drop_after_commit_rate=0.02,
    timeout_hold_s=0.0,
    retry_after_s=60,
    seed=7,
)
JIRA_FAULTS = JiraFaults(
    error_5xx_rate=0.10,
    rate_429_rate=0.05,
    timeout_rate=0.02,
    drop_after_commit_rate=0.02,
    timeout_hold_s=0.0,
    retry_after_s=60,
    seed=11,
)
TRACKERS = ("github", "jira")
MAX_KILL_WINDOW_S = 16.0


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


def policy(base_url: str, jira_url: str, budget: int, review_on: str) -> dict[str, Any]:
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
            ],
            "jira": [
                {
                    "name": "jira",
                    "server": jira_url,
                    "deployment": "cloud",
                    "jql": f"project = {JIRA_PROJECT} AND labels = postmortem-action",
                    "project": JIRA_PROJECT,
                    "token_env": JIRA_TOKEN_ENV,
                    "email_env": JIRA_EMAIL_ENV,
                    "fields": {
                        "owner": "assignee",
                        "due": "duedate",
                        "severity": "Severity",
                        "sponsor": "Sponsor",
                    },
                    "request_timeout_s": 2,
                }
            ],
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
            "tracker": review_on,
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
        # Filed a day ago in the postmortem, but added to this tracker now: a real tracker
        # stamps it updated now, which is what an incremental read (``since``) keys on.
        updated_at=now,
    )


def add_jira_item(emu: JiraEmulator, rng: random.Random, now: datetime) -> str:
    due = now + timedelta(days=rng.randint(-3, 25))
    return emu.add_issue(
        JIRA_PROJECT,
        f"Soak action {rng.randrange(10**6)}",
        labels=["postmortem-action"],
        priority=rng.choice(["Highest", "High", "Medium"]),
        assignee="alice",
        duedate=due.date().isoformat(),
        fields={"Severity": "SEV-2", "Sponsor": "bob"},
        created=now - timedelta(days=1),
        # As for GitHub: an item added mid-run is updated now, or the incremental JQL search
        # (``updated >= cursor``) would rightly never see it before the final check.
        updated=now,
    )


def seed_jira(emu: JiraEmulator) -> None:
    emu.add_project(JIRA_PROJECT, "Reliability")
    emu.add_user(account_id=ALICE_ID, name="alice", display_name="Alice Adams")
    emu.add_user(account_id=BOB_ID, name="bob", display_name="Bob Brown")
    emu.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2", "SEV-3"])
    emu.add_custom_field("Sponsor", "user")


def write_policy(work: Path, github_url: str, jira_url: str, budget: int, review_on: str) -> None:
    """The policy file children read at start (replaced atomically: a child may be starting)."""
    tmp = work / "policy.tmp"
    tmp.write_text(
        yaml.safe_dump(policy(github_url, jira_url, budget, review_on), sort_keys=False),
        encoding="utf-8",
    )
    os.replace(tmp, work / "policy.yaml")


# ----- the child: a real Daemon's jobs on the shared clock --------------------------------------


def child(args: argparse.Namespace) -> int:
    from syncer.core.logging_setup import configure_logging
    from syncer.service.daemon import Daemon
    from syncer.service.settings import Settings

    configure_logging(level="WARNING", stream=sys.stderr)
    clock = FileClock(Path(args.clock_file))
    done = Path(args.done_file)
    daemon = Daemon(
        Path(args.policy),
        Settings(replica_id="soak", health_port=0),
        clock=clock,
        state_url=args.state,
    )
    from connectors.jira.client import JiraConnector

    def wait(seconds: float) -> None:
        """A Jira retry's wait passes on the shared clock (simulated time), not the real one."""
        clock.set(clock() + timedelta(seconds=seconds))

    for tracker in daemon.runtime.trackers:
        if isinstance(tracker, JiraConnector):
            tracker.http.sleep = wait
    print("running", flush=True)
    daemon.renew_lease()  # takes the lease: a full cycle, then catch-up (missed review)
    step = timedelta(seconds=args.step_s)
    finished = done.read_text().splitlines() if done.exists() else []
    count = len(finished)
    before = datetime.fromisoformat(finished[-1]) if finished else START
    while count < args.cycles:
        # A child killed inside this cycle has already moved the clock: never add its step
        # twice, or the kills, not the cycles, would decide how much time passes.
        now = max(before + step, clock())
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
        before = now
    daemon.store.close()
    return 0


# ----- the parent: emulators, kills, checks ---------------------------------------------------


@dataclass
class TrackerFigures:
    """What one tracker's emulator saw and holds at the end."""

    items: int = 0
    requests: int = 0
    faults_5xx: int = 0
    faults_429: int = 0
    faults_dropped: int = 0
    writes: int = 0
    comments: int = 0
    duplicate_comments: int = 0
    missing_escalations: int = 0
    label_changes_left: int = 0
    reviews_published: int = 0
    #: "KEY marker" of each wanted comment that is not on its item, so a FAIL says where.
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.duplicate_comments == 0
            and self.missing_escalations == 0
            and self.label_changes_left == 0
        )


@dataclass
class Figures:
    cycles: int = 0
    kills: int = 0
    restarts: int = 0
    weeks_due: int = 0
    lost_report_updates: int = 0
    seconds: float = 0.0
    longest_kill_window: float = 0.0
    trackers: dict[str, TrackerFigures] = field(
        default_factory=lambda: {name: TrackerFigures() for name in TRACKERS}
    )

    @property
    def ok(self) -> bool:
        return self.lost_report_updates == 0 and all(t.ok for t in self.trackers.values())


@dataclass
class Sites:
    github: GitHubEmulator
    jira: JiraEmulator


def spawn(
    args: argparse.Namespace, work: Path, cycles: int, step_s: float
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        TOKEN_ENV: TOKEN,
        JIRA_TOKEN_ENV: JIRA_TOKEN,
        JIRA_EMAIL_ENV: JIRA_EMAIL,
    }
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


def drive(args: argparse.Namespace, sites: Sites, work: Path, figures: Figures) -> None:
    """Run children until ``args.cycles`` cycles are done, killing them at random moments.

    A child is killed 0.05 s to ``window`` s after it starts its cycles; ``window`` starts at
    ``--kill-window`` and doubles (up to ``MAX_KILL_WINDOW_S``) after a child that finished no
    cycle, so work that takes longer than the window (a pending Jira review renders its PNG
    chart at every start) still gets done while kills stay dense; and three children in four
    are killed only once they have finished a cycle, so the soak ends on a loaded machine.
    Halfway, the review moves from GitHub to Jira (each child reads the policy at its start).
    """
    rng = random.Random(args.seed)
    step_s = SPAN.total_seconds() / args.cycles
    clock = FileClock(work / "clock")
    switched = False
    window = args.kill_window
    while done_count(work) < args.cycles:
        finished_before = done_count(work)
        if not switched and done_count(work) >= args.cycles // 2:
            write_policy(work, sites.github.base_url, sites.jira.base_url, args.budget, "jira")
            switched = True
        proc = spawn(args, work, args.cycles, step_s)
        figures.restarts += 1
        assert proc.stdout is not None
        proc.stdout.readline()  # "running": the daemon is built, its cycles begin
        # Strike at a random moment, but let three lives in four finish a cycle first
        # (watched in the done file): on a loaded machine one cycle can outlast even the
        # doubled window, and a soak where children never finish a cycle would never end.
        at_least = finished_before + (0 if rng.random() < 0.25 else 1)
        deadline = time.monotonic() + rng.uniform(0.05, window)
        while proc.poll() is None and (time.monotonic() < deadline or done_count(work) < at_least):
            time.sleep(0.02)
        if proc.poll() is None and done_count(work) < args.cycles:
            proc.send_signal(signal.SIGKILL)  # wherever it is: mid-request, mid-commit...
            figures.kills += 1
        proc.wait(120)
        proc.stdout.close()
        progressed = done_count(work) > finished_before
        window = args.kill_window if progressed else min(window * 2, MAX_KILL_WINDOW_S)
        figures.longest_kill_window = max(figures.longest_kill_window, window)
        if rng.random() < 0.3:  # new work arrives now and then, on both trackers
            add_item(sites.github, rng, clock())
            figures.trackers["github"].items += 1
        if rng.random() < 0.3:
            add_jira_item(sites.jira, rng, clock())
            figures.trackers["jira"].items += 1
        print(
            f"\r  cycles {done_count(work)}/{args.cycles}  kills {figures.kills}",
            end="",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)


def settle(args: argparse.Namespace, sites: Sites, work: Path) -> None:
    """Faults off, time still: a last child drains what the faults and kills left over."""
    sites.github.faults = Faults(secondary_limit=False)
    sites.jira.faults = JiraFaults()
    target = done_count(work) + args.settle
    proc = spawn(args, work, target, 0.0)
    assert proc.stdout is not None
    proc.stdout.read()
    code = proc.wait(300)
    proc.stdout.close()
    if code != 0:
        raise SystemExit(f"settling child failed with exit code {code}; see {work / 'child.log'}")


def review_weeks(the_policy: Any, now: datetime) -> set[str]:
    """Weeks whose review moment (Mondays 09:00 UTC, after START) has passed."""
    from syncer.report.build import scheduled_week

    weeks = set()
    review = START.replace(hour=9, minute=0)  # START is a Monday; reviews are Mondays 09:00
    while review <= now:
        if review > START:
            weeks.add(scheduled_week(the_policy, review))  # each reviews the week before
        review += timedelta(days=7)
    return weeks


def judge(
    figures: TrackerFigures,
    assessments: list[Any],
    markers: dict[str, Counter[str]],
    managed: Any,
) -> None:
    """Duplicates, missing escalations and leftover label changes of one tracker."""
    from syncer.core.actions import AddLabels, RemoveLabels, Reopen
    from syncer.core.plan import plan

    figures.duplicate_comments = sum(n - 1 for c in markers.values() for n in c.values() if n > 1)
    figures.missing = [
        f"{a.item.ref.key} {wanted.marker}"
        for a in assessments
        for wanted in a.comments
        if markers.get(a.item.ref.key, Counter())[wanted.marker] == 0
    ]
    figures.missing_escalations = len(figures.missing)
    final = plan(assessments, managed, budget=None)
    figures.label_changes_left = sum(
        1 for action in final.actions if isinstance(action, AddLabels | RemoveLabels | Reopen)
    )


def count_requests(figures: TrackerFigures, counters: Counter[Any]) -> None:
    """Requests the emulator answered (status 0: timed out or dropped), by kind."""
    figures.faults_5xx = sum(n for (_, _, s), n in counters.items() if 500 <= s < 600)
    figures.faults_429 = sum(n for (_, _, s), n in counters.items() if s == 429)
    figures.faults_dropped = sum(n for (_, _, s), n in counters.items() if s == 0)
    figures.requests = sum(counters.values())
    figures.writes = sum(n for (m, _, s), n in counters.items() if m != "GET" and 200 <= s < 300)


def check(sites: Sites, work: Path, figures: Figures) -> None:
    from pydantic import SecretStr

    from connectors.github import GitHubConnector
    from connectors.jira.client import JiraConnector
    from connectors.jira.renderer import markers_in_body
    from syncer.core.config_loader import load_model_file
    from syncer.core.cursors import MemoryCursorStore
    from syncer.core.evaluate import evaluate
    from syncer.core.messages import markers_in
    from syncer.core.policy import Policy

    clock = FileClock(work / "clock")
    now = clock()
    the_policy = load_model_file(Policy, work / "policy.yaml")
    managed = the_policy.managed_labels

    github = GitHubConnector(
        the_policy.trackers.github[0],
        the_policy,
        MemoryCursorStore(),
        clock,
        token=SecretStr(TOKEN),
    )
    fetched = github.fetch(full=True)
    assert not fetched.errors, fetched.errors
    gh = figures.trackers["github"]
    gh_markers: dict[str, Counter[str]] = {}
    gh_titles: set[str] = set()
    number = 1
    while True:
        try:
            issue = sites.github.issue(REPO, number)
        except ApiError:
            break
        gh_titles.add(str(issue["title"]))
        counted: Counter[str] = Counter()
        for comment in sites.github.comments(REPO, number):
            counted.update(markers_in(str(comment.get("body") or "")))
            gh.comments += 1
        gh_markers[f"{REPO}#{number}"] = counted
        number += 1
    judge(gh, evaluate(fetched.items, the_policy, now), gh_markers, managed)
    count_requests(gh, sites.github.counters)

    jira = JiraConnector(
        the_policy.trackers.jira[0],
        the_policy,
        MemoryCursorStore(),
        clock,
        token=SecretStr(JIRA_TOKEN),
        email=JIRA_EMAIL,
    )
    fetched_jira = jira.fetch(full=True)
    assert not fetched_jira.errors, fetched_jira.errors
    ji = figures.trackers["jira"]
    ji_markers: dict[str, Counter[str]] = {}
    ji_titles: set[str] = set()
    for key in sites.jira.issue_keys():
        ji_titles.add(str(sites.jira.issue(key)["fields"]["summary"]))
        counted = Counter()
        comments = sites.jira.comments(key)
        for comment, props in zip(comments, sites.jira.comment_properties(key), strict=True):
            marker = (props.get("pmsync.marker") or {}).get("marker")
            counted.update({marker} if marker else markers_in_body(comment["body"]))
            ji.comments += 1
        ji_markers[key] = counted
    judge(ji, evaluate(fetched_jira.items, the_policy, now), ji_markers, managed)
    count_requests(ji, sites.jira.counters)

    weeks = review_weeks(the_policy, now)
    figures.weeks_due = len(weeks)
    title = the_policy.report.title
    gh.reviews_published = sum(1 for w in weeks if f"{title} {w}" in gh_titles)
    ji.reviews_published = sum(1 for w in weeks if f"{title} {w}" in ji_titles)
    published = gh_titles | ji_titles
    figures.lost_report_updates = sum(1 for w in weeks if f"{title} {w}" not in published)


def run(args: argparse.Namespace) -> Figures:
    from syncer.core.logging_setup import configure_logging

    configure_logging(level="WARNING", stream=sys.stderr)
    figures = Figures()
    started = time.monotonic()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="pmsync-soak-") as tmp:
        work = Path(args.work) if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        clock = FileClock(work / "clock")
        clock.set(START)
        sites = Sites(
            GitHubEmulator(token=TOKEN, clock=clock),
            JiraEmulator(mode="cloud", email=JIRA_EMAIL, token=JIRA_TOKEN, clock=clock),
        )
        sites.github.start()
        sites.jira.start()
        try:
            sites.github.add_repo(REPO)
            for login in ("alice", "bob", "cto"):
                sites.github.add_user(login)
            for label in ("postmortem-action", "sev-2", "P0", "P1", "P2"):
                sites.github.add_label(REPO, label)
            seed_jira(sites.jira)
            for _ in range(args.items):
                add_item(sites.github, rng, START)
                add_jira_item(sites.jira, rng, START)
            for name in TRACKERS:
                figures.trackers[name].items = args.items
            write_policy(work, sites.github.base_url, sites.jira.base_url, args.budget, "github")
            sites.github.faults = FAULTS
            sites.jira.faults = JIRA_FAULTS
            drive(args, sites, work, figures)
            figures.cycles = done_count(work)
            settle(args, sites, work)
            check(sites, work, figures)
        finally:
            sites.github.stop()
            sites.jira.stop()
    figures.seconds = time.monotonic() - started
    return figures


def report(figures: Figures) -> str:
    f = figures
    lines = [
        f"soak: {f.cycles} cycles over {SPAN.days} simulated days in {f.seconds:.0f} s, "
        "GitHub and Jira Cloud in one daemon",
        f"  kills (SIGKILL) {f.kills}, child starts {f.restarts}, "
        f"longest kill window {f.longest_kill_window:.1f} s",
        f"  weekly reviews due {f.weeks_due} (on github, then on jira from half-way), "
        f"lost report updates {f.lost_report_updates}",
    ]
    for name, t in f.trackers.items():
        lines += [
            f"  {name}: items {t.items}, requests {t.requests}; faults injected: "
            f"5xx {t.faults_5xx}, 429 {t.faults_429}, "
            f"timeouts/dropped after commit {t.faults_dropped}",
            f"    writes accepted {t.writes}, comments {t.comments}",
            f"    duplicate comments {t.duplicate_comments}",
            f"    missing escalations {t.missing_escalations}"
            + (f" ({', '.join(t.missing[:5])})" if t.missing else ""),
            f"    labels converged: {'yes' if t.label_changes_left == 0 else 'no'} "
            f"({t.label_changes_left} label changes left)",
            f"    weekly reviews published here {t.reviews_published}",
        ]
    lines.append(f"  result: {'PASS' if f.ok else 'FAIL'}")
    return "\n".join(lines)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--cycles", type=int, default=1000)
    p.add_argument("--items", type=int, default=40, help="items seeded at the start")
    p.add_argument("--budget", type=int, default=30, help="operations.max_writes_per_cycle")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument(
        "--kill-window",
        type=float,
        default=1.5,
        help="a child is killed after 0.05..this s (doubled after a child that did no cycle)",
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
