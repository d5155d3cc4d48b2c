"""Benchmark: what an idle scheduled ``pmsync run --once`` costs, before and after a change.

Issue 14, point 1, measured in one run: each checkout (this one, and ``--before DIR`` with its
own ``.venv``) runs ``pmsync run --once`` as separate processes, each checkout with its own
SQLite state store, against one emulator per tracker. The runs alternate: cold (before), cold
(after), then ``--rounds`` idle runs of each, before and after in turn, so a slow minute of
this shared machine hurts both sides alike.

GitHub: N items in R repositories. Requests are counted from the emulator's request log (the
requests after the run started, by method and status); quota is read from GitHub's own
``X-RateLimit-Used`` header, asked on ``GET /rate_limit`` (which GitHub does not charge) before
and after each run. The runs evaluate as of the emulator's clock (``--now``), when no item is
due yet, so they write nothing and the emulator stays idle between runs (the table shows the
writes, which must be 0 for the idle rows to mean anything).

Jira (Cloud): N items, ``run --once --dry-run`` (the seeded items are overdue and a writing run
would escalate them; the reads are the same), requests from the emulator's counters.

Run: ``.venv/bin/python tests/bench/bench_idle_run.py --before /work/wt-before`` (a checkout
made with ``git worktree add``, with ``.venv`` installed there). Without ``--before`` only this
checkout is measured. Exit 1 when this checkout's idle runs miss issue 14's bound: GitHub one
request per repository, all 304, no quota; Jira one search (serverInfo is asked by the cold
run only: the idle one continues a view stored under the same configuration, whose explicit
deployment that run checked against the site).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import structlog

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.jira import JiraEmulator
from tests.bench import bench_github, bench_jira
from tests.bench.pmsync_process import pmsync_env, run_pmsync, write_yaml

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Checkout:
    """A pmsync checkout and the interpreter of its own venv."""

    name: str
    root: Path
    python: str


@dataclass(frozen=True)
class Measured:
    checkout: str
    run: str
    requests: Counter[tuple[str, str, int]]
    quota: int | None
    seconds: float

    @property
    def count(self) -> int:
        return sum(self.requests.values())

    @property
    def writes(self) -> int:
        return sum(n for (method, _, _), n in self.requests.items() if method != "GET")

    def shape(self) -> str:
        """The requests grouped by status (GitHub) or by route (Jira)."""
        statuses = Counter[int]()
        for (_, _, status), n in self.requests.items():
            statuses[status] += n
        return ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items()))


def rate_limit_used(base_url: str) -> int:
    """``X-RateLimit-Used`` as GitHub answers ``GET /rate_limit`` (a request it never charges)."""
    request = urllib.request.Request(
        f"{base_url}/rate_limit", headers={"Authorization": f"token {bench_github.TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(answer.headers["X-RateLimit-Used"])


def order(checkouts: list[Checkout], rounds: int) -> list[tuple[Checkout, str]]:
    """Cold runs first, then idle runs, the checkouts alternating in each round."""
    runs = [(c, "cold") for c in checkouts]
    for n in range(1, rounds + 1):
        runs += [(c, f"idle {n}") for c in checkouts]
    return runs


def github_side(args: argparse.Namespace, checkouts: list[Checkout]) -> list[Measured]:
    clock = bench_github.Clock()
    emulator = GitHubEmulator(token=bench_github.TOKEN, clock=clock)
    emulator.start()
    measured = []
    try:
        names = bench_github.seed(emulator, clock, args.items, args.repos)
        with tempfile.TemporaryDirectory(prefix="pmsync-idle-") as scratch:
            work = Path(scratch)
            policy = write_yaml(
                work / "policy.yaml", bench_github.policy_data(emulator.base_url, names)
            )
            for checkout, run in order(checkouts, args.rounds):
                state = f"sqlite:///{work / f'{checkout.name}.db'}"
                command = ["run", "--once", "--config", str(policy), "--state", state]
                command += ["--now", clock().isoformat()]
                env = pmsync_env({bench_github.TOKEN_ENV: bench_github.TOKEN}, checkout.root)
                used = rate_limit_used(emulator.base_url)
                since = len(emulator.request_log())
                seconds = run_pmsync(command, env, work, python=checkout.python)
                log = emulator.request_log(since)
                quota = rate_limit_used(emulator.base_url) - used
                requests = Counter((r.method, r.template, r.status) for r in log)
                measured.append(Measured(checkout.name, run, requests, quota, seconds))
    finally:
        emulator.stop()
    return measured


def jira_side(args: argparse.Namespace, checkouts: list[Checkout]) -> list[Measured]:
    clock = bench_jira.Clock()
    emulator = JiraEmulator(
        mode="cloud", email=bench_jira.EMAIL, token=bench_jira.TOKEN, clock=clock
    )
    bench_jira.seed(emulator, args.jira_items)
    emulator.start()
    measured = []
    try:
        with tempfile.TemporaryDirectory(prefix="pmsync-idle-") as scratch:
            work = Path(scratch)
            tracker: dict[str, Any] = {
                "name": "jira",
                "server": emulator.base_url,
                "deployment": "cloud",
                "jql": bench_jira.JQL,
                "token_env": bench_jira.TOKEN_ENV,
                "email_env": bench_jira.EMAIL_ENV,
                "fields": {"owner": "assignee", "evidence": "Evidence", "severity": "Severity"},
            }
            policy = write_yaml(
                work / "policy.yaml",
                {"version": "bench", "trackers": {"jira": [tracker]}, "report": {"enabled": False}},
            )
            secrets = {
                bench_jira.TOKEN_ENV: bench_jira.TOKEN,
                bench_jira.EMAIL_ENV: bench_jira.EMAIL,
            }
            for checkout, run in order(checkouts, args.rounds):
                state = f"sqlite:///{work / f'{checkout.name}.db'}"
                command = ["run", "--once", "--dry-run", "--config", str(policy)]
                command += ["--state", state, "--now", clock().isoformat()]
                emulator.reset_counters()
                seconds = run_pmsync(
                    command, pmsync_env(secrets, checkout.root), work, python=checkout.python
                )
                requests = bench_jira.requests_of(emulator)
                measured.append(Measured(checkout.name, run, requests, None, seconds))
    finally:
        emulator.stop()
    return measured


def jira_shape(m: Measured) -> str:
    found = sorted(m.requests.items())
    return ", ".join(f"{method} {bench_jira._short(path)} x{n}" for (method, path, _), n in found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=10_000, help="GitHub action items (N)")
    parser.add_argument("--repos", type=int, default=20, help="GitHub repositories (R)")
    parser.add_argument("--jira-items", type=int, default=10_000, help="Jira action items")
    parser.add_argument("--rounds", type=int, default=2, help="idle runs of each checkout")
    parser.add_argument(
        "--before", type=Path, help="a checkout of the code before, with its own .venv"
    )
    args = parser.parse_args(argv)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    checkouts = []
    if args.before is not None:
        before = args.before.resolve()
        checkouts.append(Checkout("before", before, str(before / ".venv" / "bin" / "python")))
    checkouts.append(Checkout("after", ROOT, sys.executable))

    github = github_side(args, checkouts)
    print(
        f"GitHub: idle run --once, N={args.items} items in {args.repos} repositories "
        f"(checkouts: {', '.join(f'{c.name} = {c.root}' for c in checkouts)})"
    )
    print(
        f"{'checkout':8} {'run':7} {'requests':>8} {'writes':>6} {'quota':>5} {'wall s':>7}  "
        "statuses"
    )
    for m in github:
        print(
            f"{m.checkout:8} {m.run:7} {m.count:>8} {m.writes:>6} {m.quota:>5} "
            f"{m.seconds:>7.1f}  {m.shape()}"
        )
    jira = jira_side(args, checkouts)
    print(f"\nJira Cloud: run --once --dry-run, N={args.jira_items} items")
    print(f"{'checkout':8} {'run':7} {'requests':>8} {'wall s':>7}  requests")
    for m in jira:
        print(f"{m.checkout:8} {m.run:7} {m.count:>8} {m.seconds:>7.1f}  {jira_shape(m)}")

    after_github = [m for m in github if m.checkout == "after" and m.run.startswith("idle")]
    after_jira = [m for m in jira if m.checkout == "after" and m.run.startswith("idle")]
    checks = {
        "GitHub idle run --once: one request per repository, all 304, no quota, no write": all(
            m.count == args.repos and m.shape() == f"{args.repos} x 304" and m.quota == 0
            for m in after_github
        ),
        "Jira idle run --once: one search, no serverInfo, no write": all(
            jira_shape(m) == "GET /search/jql x1" for m in after_jira
        ),
    }
    for name, ok in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
