"""``pmsync report``: build the weekly review, write its files, publish it.

An entry point: it reads the clock, opens the trackers and the state store through
``syncer.service.wiring`` (imported lazily, so the report package stays pure) and publishes through
the executor ``choose_executor`` gives, with the cycle's write budget. ``--dry-run`` and
shadow mode write the files and print what the ``DryRun`` executor planned; nothing else
differs. Exit codes are ``syncer.core.exit_codes``:
3 when a tracker could not be read or a publish write failed, 4 when a publish write waits
for the budget or a rate limit, 2 for bad input.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from syncer.core.actions import Action, UpsertLogEntry, UpsertReport
from syncer.core.apply import ApplyResult, choose_executor
from syncer.core.cursors import MemoryCursorStore
from syncer.core.directory import LookupCache
from syncer.core.document import DocumentRenderer
from syncer.core.errors import ConfigError
from syncer.core.evaluate import evaluate
from syncer.core.exit_codes import ExitCode, worst
from syncer.core.extras import CHARTS, require
from syncer.core.ledger import Ledger, LedgerEntry, MemoryLedger
from syncer.core.model import ActionItem
from syncer.core.plan import plan
from syncer.core.policy import Policy
from syncer.core.redaction import redact
from syncer.core.secrets import register_configured_secrets
from syncer.core.tracker import Tracker
from syncer.report.build import (
    build_report,
    moment_for_week,
    report_period,
    report_timezone,
    scheduled_week,
)
from syncer.report.layout import layout
from syncer.report.model import TREND_WEEKS, WeeklyReport
from syncer.report.people import Names, unnamed
from syncer.report.publish import report_changes, report_tracker
from syncer.report.render_html import render_html
from syncer.report.render_json import render_json

Clock = Callable[[], datetime]


@dataclass
class Sources:
    """What the report reads and writes through: trackers, and the state store if any."""

    trackers: list[Tracker] = field(default_factory=list)
    ledger: Ledger | None = None
    daily_counts: Callable[[date, date], Mapping[date, Mapping[str, int]]] | None = None
    names: Callable[[Mapping[str, set[str]]], Names] | None = None
    """Looks up display names (tracker -> handles) the items and the ledger do not give."""


Connect = Callable[[Policy, "str | None", bool, bool], AbstractContextManager[Sources]]


def lookup_cache(store: object) -> LookupCache | None:
    """The state store as the owner-lookup cache, when there is one."""
    return store if isinstance(store, LookupCache) else None


@contextmanager
def connect_wiring(
    policy: Policy, state_url: str | None, need_trackers: bool, use_store: bool
) -> Iterator[Sources]:
    """Trackers and the state store from ``syncer.service.wiring``.

    Without a store (not asked for, or ``syncer.state`` not installed) the report is built
    without ledger or daily counts, from the items' own timestamps.
    """
    if not need_trackers and not use_store:
        yield Sources()
        return
    try:
        from syncer.service import wiring
    except ImportError as exc:
        raise ConfigError(
            [f"trackers and the state store are not available here ({exc}); use --items FILE"]
        ) from None
    store = None
    if use_store:
        try:
            store = wiring.open_state(state_url)
        except ImportError:
            store = None
    try:
        trackers = (
            wiring.build_trackers(policy, store if store is not None else MemoryCursorStore())
            if need_trackers
            else []
        )
        yield Sources(
            trackers=list(trackers),
            ledger=store,
            daily_counts=store.daily_counts if store is not None else None,
            names=lambda wanted: wiring.lookup_names(trackers, wanted),
        )
    finally:
        if store is not None:
            store.close()


def render_markdown(report: WeeklyReport) -> str:
    """The review as a Markdown file: the GitHub issue's Markdown, every row."""
    from connectors.github.renderer import render_document

    return render_document(layout(report))


def render_wiki(report: WeeklyReport) -> str:
    """The review as a Jira wiki file, every row, without the PNG."""
    from connectors.jira.renderer_document import render_wiki_document

    return render_wiki_document(layout(report))


def render_adf_json(report: WeeklyReport) -> str:
    """The review as an ADF JSON file, every row, without the PNG."""
    from connectors.jira.renderer_document import adf_json, render_adf_document

    return adf_json(render_adf_document(layout(report)))


def write_files(report: WeeklyReport, formats: Sequence[str], out: Path) -> list[Path]:
    """Every requested format, full length (no row cap), named by week; each text passes the
    secret redactor (the model already did, in ``build_report``: this catches the rest).
    Each renders the same document (``syncer.report.layout``), but JSON, which is the report
    model itself, for dashboards."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"reliability-review-{report.header.week}"
    written: list[Path] = []
    for fmt in formats:
        if fmt == "png":
            from syncer.report.render_png import render_png

            path = out / f"{stem}.png"
            path.write_bytes(render_png(report))  # drawn from the redacted report model
        else:
            suffix, renderer = {
                "markdown": (".md", render_markdown),
                "html": (".html", render_html),
                "json": (".json", render_json),
                "jira_wiki": (".jira.txt", render_wiki),
                "adf": (".adf.json", render_adf_json),
            }[fmt]
            path = out / f"{stem}{suffix}"
            path.write_text(redact(renderer(report)), encoding="utf-8")
        written.append(path)
    return written


def publish(
    report: WeeklyReport,
    policy: Policy,
    trackers: Sequence[Tracker],
    ledger: Ledger,
    clock: Clock,
    *,
    tracker_name: str,
    cycle_id: str,
    dry_run: bool = False,
) -> ApplyResult:
    """The review issue and the log entry, through the executor ``choose_executor`` gives
    (the applier; ``DryRun`` for a dry run or shadow mode) and the write budget."""
    changes = report_changes(report, policy, tracker_name, renderer_for(policy, tracker_name))
    the_plan = plan(
        (), policy.managed_labels, budget=policy.operations.max_writes_per_cycle, extra=changes
    )
    executor, _ = choose_executor(
        dry_run=dry_run,
        shadow=policy.operations.shadow,
        trackers={t.name: t for t in trackers},
        ledger=ledger,
        clock=clock,
        cycle_id=cycle_id,
        policy_version=policy.version,
    )
    return executor.execute(the_plan)


def renderer_for(policy: Policy, tracker_name: str) -> DocumentRenderer:
    """The connector's renderer for the tracker named ``tracker_name`` (``syncer.service.wiring``,
    imported when called, like the connectors it wires)."""
    from syncer.service.wiring import document_renderer

    return document_renderer(policy, tracker_name)


def describe_planned(action: Action, policy: Policy, tracker_name: str, reason: str) -> str | None:
    """The line a dry run or shadow mode prints for a publishing write it did not make."""
    if not isinstance(action, UpsertReport | UpsertLogEntry):
        return None
    sizes = ", ".join(f"{m} {len(b)}" for m, b in action.bodies.items())
    files = (
        "; attaches " + ", ".join(action.attachments)
        if isinstance(action, UpsertReport) and action.attachments
        else ""
    )
    if (
        isinstance(action, UpsertReport)
        and not action.attachments
        and renderer_for(policy, tracker_name).attaches_charts
    ):
        files = f"; no trend chart ({escape(CHARTS.install)})"
    return (
        f"{reason}: would {action.kind} {action.week_key} in "
        f"{tracker_name} (characters: {sizes}{files})"
    )


def prepared_policy(args: argparse.Namespace) -> Policy:
    """The policy, before anything is read: the chart extra checked when PNG files are asked
    for, and the configured secrets registered with the redactor."""
    from syncer.cli.commands import load_policy

    policy = load_policy(args.config)
    if args.out and "png" in policy.report.formats:
        require(CHARTS, "report.formats: png")  # before reading anything, not after
    register_configured_secrets(policy, state_url=args.state)
    return policy


def run(
    args: argparse.Namespace,
    out: Console,
    err: Console,
    *,
    clock: Clock,
    connect: Connect = connect_wiring,
) -> int:
    from syncer.cli.commands import parse_now, read_items

    policy = prepared_policy(args)
    now = parse_now(args.now) if args.now else clock()
    if args.week:
        week = scheduled_week(policy, now) if args.week == "last" else args.week
        try:
            now = moment_for_week(policy, week, now)
        except ValueError as exc:
            raise ConfigError([f"--week: {exc}"]) from None
    writing = not args.dry_run and not policy.operations.shadow
    tracker_name = report_tracker(policy)
    use_store = bool(args.state) or not args.items
    with connect(policy, args.state, writing or not args.items, use_store) as sources:
        items: list[ActionItem]
        unread: dict[str, str] = {}
        limited: set[str] = set()
        if args.items:
            items = read_items(Path(args.items), err)
        else:
            from syncer.service.wiring import fetch_all

            items = fetch_all(
                sources.trackers,
                full=False,
                err=err,
                owners_as_of=(policy, now, lookup_cache(sources.ledger)),
                evidence_as_of=(policy, now),
                failed=unread,
                rate_limited=limited,
            )
        read_code = worst(
            ExitCode.TRACKER_FAILED if set(unread) - limited else ExitCode.OK,
            ExitCode.WORK_LEFT if limited else ExitCode.OK,
        )
        start, end = report_period(policy, now)
        entries: list[LedgerEntry] = (
            list(sources.ledger.entries_between(start, end)) if sources.ledger else []
        )
        today = now.astimezone(report_timezone(policy)).date()
        counts = (
            sources.daily_counts(today - timedelta(days=7 * TREND_WEEKS), today)
            if sources.daily_counts
            else None
        )
        assessments = evaluate(items, policy, now)
        directory: Names = {}
        if sources.names is not None:
            directory = sources.names(unnamed(assessments, entries, start, end, policy))
        report = build_report(assessments, policy, now, entries, counts, directory=directory)
        if args.out:
            for path in write_files(report, policy.report.formats, Path(args.out)):
                out.print(f"wrote {path}")
        if not policy.report.enabled or tracker_name is None:
            out.print("report publishing is off (report.enabled false or no tracker)")
            return read_code
        result = publish(
            report,
            policy,
            sources.trackers,
            sources.ledger or MemoryLedger(),
            clock,
            tracker_name=tracker_name,
            cycle_id=uuid.uuid4().hex[:12],
            dry_run=args.dry_run,
        )
    if not writing:
        reason = "dry run" if args.dry_run else "shadow mode"
        planned = [d.action for d in result.done if d.outcome == "planned"]
        planned += [a for d in result.backlog for a in d.build().actions]
        for action in planned:
            line = describe_planned(action, policy, tracker_name, reason)
            if line is not None:
                out.print(line)
        return read_code
    for done in result.done:
        out.print(f"{done.action.kind}: {done.outcome}")
    for failed in result.failed:
        err.print(f"{failed.action.kind} failed: {failed.error}", markup=False)
    if result.backlog:
        err.print(f"{len(result.backlog)} report writes wait for budget or a rate limit")
    return worst(
        read_code,
        ExitCode.TRACKER_FAILED if result.failed else ExitCode.OK,
        ExitCode.WORK_LEFT if result.backlog or result.rate_limited else ExitCode.OK,
    )


def handle(args: argparse.Namespace) -> int:
    from syncer.core.clock import system_clock

    return run(args, Console(), Console(stderr=True), clock=system_clock)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="build the weekly reliability review, write its files and publish it",
        description="Builds the review of an ISO week (default: this week from Monday up to now; "
        "a past week whole), writes "
        "the files named in report.formats to --out, and publishes the review issue and the "
        "operating-log entry unless --dry-run or operations.shadow. Rerunning in the same week "
        "updates the same issue and comment; unchanged data writes nothing.",
    )
    parser.add_argument("--config", required=True, help="policy YAML file")
    parser.add_argument(
        "--week",
        help="ISO week to review, e.g. 2026-W47, or 'last' for the week that ended, as the "
        "daemon publishes it (default: this week up to now)",
    )
    parser.add_argument("--dry-run", action="store_true", help="write files only; publish nothing")
    parser.add_argument("--out", help="directory for the Markdown/HTML/JSON (... ) files")
    parser.add_argument("--items", help="build from this JSON export instead of the trackers")
    parser.add_argument("--now", help="build as if it were this ISO time")
    parser.add_argument("--state", help="state store URL (ledger and daily counts)")
    parser.set_defaults(func=handle)
