"""Request budget of the Jira connector at scale, against the emulator, vs a naive script.

Standalone: ``python tests/bench/bench_jira.py [--n 10000] [--mode cloud|datacenter|both]``.
It seeds N action items into the in-process Jira emulator and counts the HTTP requests the
emulator answered for: a cold sync (server info, field list, search pages), an idle
incremental cycle, the first escalation of a process (marker check: index GET, then a
comments GET because the marker is absent, and, because the issue has someone else's comment,
one GET myself to tell pmsync's comments from people's; comment POST carrying the marker;
index PUT; labels PUT), a later escalation (the same without GET myself), and the check that
repairs a comment whose index PUT never happened (index GET, comments GET, POST comment/list
with expand=properties, index PUT). The
comparison is what a straightforward ``jira``-library script does: ``search_issues`` with
all fields, then ``comments()`` per issue. The per-issue comment reads are measured on a
sample (``--sample``) and extrapolated to N; the table says so.

First, ``pmsync run --once --dry-run`` as separate processes sharing one SQLite state store
(issue 14): a cold run, which asks serverInfo (the configured deployment checked against the
site), and an idle one, which sends one incremental search and nothing else, the field list,
the items and the checked deployment coming from the store. Dry runs, because the seeded
items are overdue and a writing run would escalate them; the reads are the same.
``--code DIR`` runs those processes from another checkout.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from jira import JIRA
from pydantic import SecretStr

from connectors.emulators.jira import JiraEmulator
from connectors.jira.client import JiraConnector
from syncer.core.cursors import MemoryCursorStore
from syncer.core.messages import Markup, Mention, Message
from syncer.core.model import ItemRef, Person
from syncer.core.policy import Policy
from syncer.core.tracker_config import JiraTracker
from tests.bench.pmsync_process import pmsync_env, run_pmsync, write_yaml

EMAIL, TOKEN = "bot@acme.test", "bench-token"
EMAIL_ENV, TOKEN_ENV = "PMSYNC_BENCH_JIRA_EMAIL", "PMSYNC_BENCH_JIRA_TOKEN"
JQL = "project = REL AND labels = postmortem-action"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def seed(emulator: JiraEmulator, n: int) -> list[str]:
    emulator.add_project("REL", "Reliability")
    emulator.add_user(account_id="712020:alice", name="alice", display_name="Alice")
    emulator.add_custom_field("Evidence", "url")
    emulator.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2", "SEV-3"])
    keys = []
    for i in range(n):
        keys.append(
            emulator.add_issue(
                "REL",
                f"Action item {i}",
                labels=["postmortem-action"],
                assignee="alice",
                updated=f"-{1 + i % 300}d",
                fields={"Severity": "SEV-2"} if i % 3 == 0 else None,
            )
        )
        if i % 10 == 0:
            emulator.add_comment(keys[-1], f"progress note on {i}", author="alice")
    return keys


def requests_of(emulator: JiraEmulator) -> Counter[tuple[str, str, int]]:
    return Counter({k: v for k, v in emulator.counters.items() if v})


class Received:
    """Bytes of response bodies seen on a requests session (a response hook)."""

    def __init__(self, session: Any) -> None:
        self.total = 0
        session.hooks["response"].append(self._hook)

    def _hook(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.total += len(response.content)
        return response

    def take(self) -> str:
        kib, self.total = self.total / 1024, 0
        return f"{kib:,.0f}"


Row = tuple[str, str, str, str, str]


def _short(path: str) -> str:
    path = path.removeprefix("/rest/api/2").replace("{issueIdOrKey}", "KEY")
    return path.replace("/properties/{propertyKey}", "/properties/pmsync.markers")


SEND_ORDER = [
    ("GET", "/issue/KEY/properties/pmsync.markers"),
    ("GET", "/issue/KEY/comment"),
    ("GET", "/myself"),
    ("POST", "/comment/list"),
    ("POST", "/issue/KEY/comment"),
    ("PUT", "/issue/KEY/properties/pmsync.markers"),
    ("PUT", "/issue/KEY"),
]


def _shape(requests: Counter[tuple[str, str, int]]) -> str:
    """The requests of one escalation, in the order the connector sends them."""
    sent = [(m, _short(p)) for (m, p, _) in requests]
    sent.sort(key=lambda r: SEND_ORDER.index(r) if r in SEND_ORDER else len(SEND_ORDER))
    return ", ".join(f"{m} {p}" for m, p in sent)


def run_once_rows(
    emulator: JiraEmulator, mode: Literal["cloud", "datacenter"], clock: Clock, code: Path | None
) -> list[Row]:
    """Cold and idle ``pmsync run --once --dry-run`` processes sharing one state store."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="pmsync-bench-") as scratch:
        work = Path(scratch)
        tracker: dict[str, Any] = {
            "name": "jira",
            "server": emulator.base_url,
            "deployment": mode,
            "jql": JQL,
            "token_env": TOKEN_ENV,
            "email_env": EMAIL_ENV,
            "fields": {"owner": "assignee", "evidence": "Evidence", "severity": "Severity"},
        }
        policy = write_yaml(
            work / "policy.yaml",
            {"version": "bench", "trackers": {"jira": [tracker]}, "report": {"enabled": False}},
        )
        state = f"sqlite:///{work / 'state.db'}"
        extra = {TOKEN_ENV: TOKEN, **({EMAIL_ENV: EMAIL} if mode == "cloud" else {})}
        env = pmsync_env(extra, code)
        command = ["run", "--once", "--dry-run", "--config", str(policy), "--state", state]
        command += ["--now", clock().isoformat()]
        for name in ("cold", "idle"):
            emulator.reset_counters()
            seconds = run_pmsync(command, env, work)
            found = requests_of(emulator)
            shape = ", ".join(f"{m} {_short(p)} x{c}" for (m, p, _), c in sorted(found.items()))
            rows.append(
                (
                    f"{mode}: run --once, {name} (process)",
                    f"{sum(found.values())} ({shape})",
                    "1 search" if name == "idle" else "-",
                    "-",
                    f"{seconds:.1f}",
                )
            )
    return rows


def run_mode(
    mode: Literal["cloud", "datacenter"], n: int, sample: int, code: Path | None = None
) -> list[Row]:
    clock = Clock()
    emulator = JiraEmulator(mode=mode, email=EMAIL, token=TOKEN, clock=clock)
    keys = seed(emulator, n)
    emulator.start()
    rows: list[Row] = []
    try:
        rows.extend(run_once_rows(emulator, mode, clock, code))
        config = JiraTracker(
            name="jira",
            server=emulator.base_url,
            deployment=mode,
            jql=JQL,
            fields={"owner": "assignee", "evidence": "Evidence", "severity": "Severity"},
        )
        cloud = mode == "cloud"
        connector = JiraConnector(
            config,
            Policy(version="bench"),
            MemoryCursorStore(),
            clock,
            token=SecretStr(TOKEN),
            email=EMAIL if cloud else None,
        )
        emulator.reset_counters()
        started = time.perf_counter()
        received = Received(connector.http.client()._session)
        items = connector.fetch(full=False).items
        cold = sum(requests_of(emulator).values())
        assert len(items) == n, len(items)
        rows.append(
            (
                f"{mode}: pmsync cold sync",
                str(cold),
                f"<= {math.ceil(n / 100) + 2}",
                received.take(),
                f"{time.perf_counter() - started:.1f}",
            )
        )

        clock.now += timedelta(minutes=5)
        emulator.reset_counters()
        started = time.perf_counter()
        connector.fetch(full=False)
        idle = sum(requests_of(emulator).values())
        rows.append(
            (
                f"{mode}: pmsync idle cycle",
                str(idle),
                "1",
                received.take(),
                f"{time.perf_counter() - started:.2f}",
            )
        )

        handle = "712020:alice" if cloud else "alice"
        for label, index, budget in (
            (
                "first escalation of a process",
                0,
                "prop GET + comments GET + GET myself + POST + prop PUT + PUT",
            ),
            ("next escalation", 10, "prop GET + comments GET + POST + prop PUT + PUT"),
        ):
            emulator.reset_counters()
            started = time.perf_counter()
            ref = ItemRef(tracker="jira", key=keys[index])
            message = Message(
                marker=f"pmsync:tier:1:{keys[index]}",
                parts=(Mention(person=Person(handle=handle)), Markup(text=" overdue")),
            )
            if not connector.has_marker(ref, message.marker):
                connector.post_comment(ref, message)
            connector.add_labels(ref, ["pmsync/overdue"])
            one = requests_of(emulator)
            rows.append(
                (
                    f"{mode}: pmsync {label}",
                    f"{sum(one.values())} ({_shape(one)})",
                    budget,
                    received.take(),
                    f"{time.perf_counter() - started:.2f}",
                )
            )

        # A run that died between its comment POST and the index PUT: the next process checks.
        ref = ItemRef(tracker="jira", key=keys[20])
        connector.marks.post(keys[20], f"pmsync:tier:1:{keys[20]}", "left by a killed run")
        emulator.reset_counters()
        started = time.perf_counter()
        fresh = JiraConnector(
            config,
            Policy(version="bench"),
            MemoryCursorStore(),
            clock,
            token=SecretStr(TOKEN),
            email=EMAIL if cloud else None,
        )
        fresh.http.client()
        emulator.reset_counters()
        assert fresh.has_marker(ref, f"pmsync:tier:1:{keys[20]}")
        repair = requests_of(emulator)
        rows.append(
            (
                f"{mode}: pmsync repair after a kill (new process)",
                f"{sum(repair.values())} ({_shape(repair)})",
                "prop GET + comments GET + GET myself + comment/list POST + prop PUT",
                "-",
                f"{time.perf_counter() - started:.2f}",
            )
        )

        emulator.reset_counters()
        started = time.perf_counter()
        auth: dict[str, Any] = {"basic_auth": (EMAIL, TOKEN)} if cloud else {"token_auth": TOKEN}
        naive = JIRA(server=emulator.base_url, timeout=30, **auth)
        naive_received = Received(naive._session)
        issues = naive.search_issues(JQL, maxResults=False)
        search_requests = sum(requests_of(emulator).values())
        search_kib = naive_received.total / 1024
        search_s = time.perf_counter() - started
        naive_received.total = 0
        emulator.reset_counters()
        started = time.perf_counter()
        for issue in list(issues)[:sample]:
            naive.comments(issue.key)
        per_issue = sum(requests_of(emulator).values()) / sample
        per_issue_kib = naive_received.total / 1024 / sample
        per_issue_s = (time.perf_counter() - started) / sample
        rows.append(
            (
                f"{mode}: naive script (comments: {sample} measured, x{n} extrapolated)",
                f"{search_requests + per_issue * n:,.0f} ({search_requests} search + "
                f"{per_issue:.0f} per issue)",
                "-",
                f"{search_kib + per_issue_kib * n:,.0f}",
                f"{search_s + per_issue_s * n:.1f}",
            )
        )
    finally:
        emulator.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=10_000, help="number of action items")
    parser.add_argument("--sample", type=int, default=200, help="issues whose comments are read")
    parser.add_argument("--mode", choices=["cloud", "datacenter", "both"], default="both")
    parser.add_argument(
        "--code", type=Path, help="run the run --once processes from this checkout instead"
    )
    args = parser.parse_args(argv)
    modes: list[Literal["cloud", "datacenter"]] = (
        ["cloud", "datacenter"] if args.mode == "both" else [args.mode]
    )
    rows: list[Row] = [("scenario", "requests", "budget", "KiB received", "seconds")]
    for mode in modes:
        rows.extend(run_mode(mode, args.n, min(args.sample, args.n), args.code))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            print("-+-".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
