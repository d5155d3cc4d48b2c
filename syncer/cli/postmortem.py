"""``pmsync postmortem``: new, check, render, lint and file an incident record; ``link``
(``link_command``) attaches existing items to a postmortem issue.

This is an entry point, so it may read the clock and, lazily inside the ``file`` handler, import
the GitHub connector; everything it calls is pure. Exit codes (``syncer.core.exit_codes``): 0 ok,
1 findings (``lint --strict``), 2 bad input (including ``file`` refusing a record with lint
findings, unless ``--force``; dry runs too, so what they show is what would be filed), 3 a
tracker refused or failed a filing request (what was filed before it stays filed, and a rerun
picks up from the markers), 4 the write budget, a rate limit or a lost leadership left issues
unfiled or unlinked (rerun later). Filing writes go through the one applier
(``filing_apply``), and so do the links that make each item a child of the postmortem issue.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from syncer.cli import postmortem_link as link_command
from syncer.core.clock import system_clock
from syncer.core.config_loader import load_model_file
from syncer.core.errors import ConfigError, RateLimited, TrackerError
from syncer.core.exit_codes import ExitCode
from syncer.core.ledger import Ledger
from syncer.core.model import Person
from syncer.core.policy import Policy
from syncer.core.secrets import register_configured_secrets
from syncer.postmortem import filing, filing_model
from syncer.postmortem.filing_apply import file_incident
from syncer.postmortem.lint import RULES, lint
from syncer.postmortem.record import Record, load_file
from syncer.postmortem.render import postmortem_document
from syncer.postmortem.schema import Incident
from syncer.postmortem.skeleton import skeleton
from syncer.postmortem.source import SourceError
from syncer.postmortem.validate import clock_start, resolve_due

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = ExitCode.OK, ExitCode.FINDINGS, ExitCode.BAD_INPUT


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``postmortem`` and its subcommands to the pmsync parser."""
    parser = subparsers.add_parser(
        "postmortem",
        help="write, lint, render and file incident postmortems",
        description="Incident records (YAML) -> blameless postmortem and filed action items.",
    )
    sub = parser.add_subparsers(dest="postmortem_command", required=True)

    new = sub.add_parser("new", help="write a commented incident record skeleton")
    new.add_argument("--out", type=Path, help="file to write (default: standard output)")
    new.add_argument("--id", dest="incident_id", help="incident id to fill in, e.g. INC-2026-042")
    new.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    new.set_defaults(func=cmd_new)

    check = sub.add_parser(
        "check", help="validate a record (with --config: deadlines against the policy's SLOs)"
    )
    _record_args(check)
    check.set_defaults(func=cmd_check)

    rend = sub.add_parser("render", help="print the postmortem document")
    _record_args(rend)
    rend.add_argument(
        "--format", choices=("markdown", "jira"), default="markdown", help="target markup"
    )
    rend.add_argument(
        "--jira-account-ids",
        action="store_true",
        help="render Jira mentions as [~accountid:ID] (Jira Cloud) instead of [~username]",
    )
    rend.set_defaults(func=cmd_render)

    lnt = sub.add_parser(
        "lint",
        help="blameless and quality lint",
        description="Rules: " + "; ".join(f"{k}: {v}" for k, v in RULES.items()),
    )
    lnt.add_argument("file", type=Path, help="incident record (YAML)")
    lnt.add_argument("--strict", action="store_true", help="exit 1 on any finding")
    lnt.set_defaults(func=cmd_lint)

    fil = sub.add_parser("file", help="file the postmortem and its action items")
    _record_args(fil, config_required=True)
    fil.add_argument("--dry-run", action="store_true", help="print what would be filed")
    fil.add_argument(
        "--force",
        action="store_true",
        help="file even while lint findings remain (they are printed as warnings)",
    )
    fil.add_argument("--repo", help="GitHub owner/name to file in (default: first configured)")
    fil.add_argument("--state", help="state store URL: record each filing in its ledger")
    fil.add_argument(
        "--tracker",
        help="tracker name from the policy, GitHub or Jira (default: the first GitHub tracker, "
        "else the first Jira tracker, which files in its `project`)",
    )
    fil.set_defaults(func=cmd_file)

    link_command.register(sub)


def _record_args(parser: argparse.ArgumentParser, config_required: bool = False) -> None:
    parser.add_argument("file", type=Path, help="incident record (YAML)")
    parser.add_argument(
        "--config", type=Path, required=config_required, help="pmsync policy file (YAML)"
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        help="pretend today is YYYY-MM-DD (default: today in the policy's timezone)",
    )


def load_policy(path: Path) -> Policy:
    """Load and validate the policy file with the core's loader (same errors as check-config)."""
    return load_model_file(Policy, path)


def _today(args: argparse.Namespace, policy: Policy | None) -> date:
    if args.today is not None:
        return args.today  # type: ignore[no-any-return]
    zone = ZoneInfo(policy.deadlines.timezone if policy else "UTC")
    return system_clock().astimezone(zone).date()


def _load(args: argparse.Namespace, err: TextIO) -> tuple[Record, Policy | None, date] | None:
    try:
        policy = load_policy(args.config) if getattr(args, "config", None) else None
        if policy is not None:
            register_configured_secrets(policy)
        today = _today(args, policy)
        record = load_file(args.file, policy, today)
    except (SourceError, ConfigError) as exc:
        for problem in exc.problems:
            print(problem, file=err)
        return None
    return record, policy, today


def cmd_new(args: argparse.Namespace) -> int:
    text = skeleton(args.incident_id)
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.out.exists() and not args.force:
        print(f"{args.out}: exists; pass --force to overwrite", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out}; fill in every <<...>> placeholder, then `pmsync postmortem lint`")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    loaded = _load(args, sys.stderr)
    if loaded is None:
        return EXIT_BAD_INPUT
    record = loaded[0]
    items = len(record.incident.action_items)
    print(f"{args.file}: ok ({record.incident.id}, {items} action items)")
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    loaded = _load(args, sys.stderr)
    if loaded is None:
        return EXIT_BAD_INPUT
    record, policy, today = loaded
    incident = record.incident
    dues = None
    if policy is not None:
        start = clock_start(incident, policy, today)
        dues = [resolve_due(item, incident, policy, start) for item in incident.action_items]
    document = postmortem_document(incident, dues)
    if args.format == "jira":
        from connectors.jira.renderer import wiki_mention
        from connectors.jira.renderer_document import render_wiki_document

        cloud = bool(args.jira_account_ids)
        text = render_wiki_document(document, lambda h: wiki_mention(Person(handle=h), cloud=cloud))
    else:
        from connectors.github.renderer import render_document

        text = render_document(document)
    sys.stdout.write(text)
    return EXIT_OK


def cmd_lint(args: argparse.Namespace) -> int:
    args.config, args.today = None, None
    loaded = _load(args, sys.stderr)
    if loaded is None:
        return EXIT_BAD_INPUT
    findings = lint(loaded[0])
    for finding in findings:
        print(finding)
    if findings:
        print(
            f"{len(findings)} finding(s); silence one with `# pmsync: ignore[RULE]` on its line",
            file=sys.stderr,
        )
    return EXIT_FINDINGS if findings and args.strict else EXIT_OK


def _is_jira(policy: Policy, name: str | None) -> bool:
    """Whether ``--tracker`` (or the default) names a Jira tracker of the policy."""
    if name is not None:
        return any(t.name == name for t in policy.trackers.jira) and not any(
            t.name == name for t in policy.trackers.github
        )
    return not policy.trackers.github and bool(policy.trackers.jira)


def _filer(
    args: argparse.Namespace, policy: Policy, incident: Incident, today: date
) -> tuple[filing_model.Filer, filing_model.FilingLabels, str]:
    """The filer for the configured tracker and its name, imported lazily (the core stays
    tracker-free)."""
    if _is_jira(policy, args.tracker):
        from connectors.github.renderer import render_document
        from connectors.jira.filer import jira_filer_from_policy

        # Filing plans in GitHub issue-form Markdown; the Jira filer reads its sections back.
        jira_filer, labels = jira_filer_from_policy(
            policy, args.tracker, incident, lambda: today, system_clock, render_form=render_document
        )
        return jira_filer, labels, jira_filer.name
    from connectors.github.filer import filer_from_policy

    github_filer, tracker = filer_from_policy(policy, args.tracker, args.repo)
    return github_filer, filing_model.FilingLabels.for_tracker(tracker), tracker.name


def cmd_file(args: argparse.Namespace) -> int:

    loaded = _load(args, sys.stderr)
    if loaded is None:
        return EXIT_BAD_INPUT
    record, policy, today = loaded
    assert policy is not None  # --config is required
    findings = lint(record)
    if findings and not args.force:
        for finding in findings:
            print(finding, file=sys.stderr)
        print(
            f"{args.file}: not filed: {len(findings)} lint finding(s) remain; fix them, "
            "silence one with `# pmsync: ignore[RULE]` on its line, or pass --force",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    for finding in findings:
        print(f"warning (--force): {finding}", file=sys.stderr)
    incident = record.incident
    try:
        filer, labels, name = _filer(args, policy, incident, today)
    except LookupError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return _file(args, filer, labels, name, record.incident, policy, today)
    except TrackerError as exc:
        from syncer.core.redaction import REDACTOR

        print(f"{args.file}: filing stopped: {REDACTOR.redact_text(str(exc))}", file=sys.stderr)
        if isinstance(exc, RateLimited):
            print("rerun after the limit resets; nothing is filed twice", file=sys.stderr)
            return ExitCode.WORK_LEFT
        return ExitCode.TRACKER_FAILED


def _file(
    args: argparse.Namespace,
    filer: filing_model.Filer,
    labels: filing_model.FilingLabels,
    tracker: str,
    incident: Incident,
    policy: Policy,
    today: date,
) -> int:
    """File through the executor ``choose_executor`` gives (``--dry-run``: ``DryRun``), with
    the ledger of the state store when ``--state`` names one."""
    with _ledger(args.state) as ledger:
        result = file_incident(
            filer,
            incident,
            policy,
            today,
            labels,
            tracker=tracker,
            dry_run=args.dry_run,
            ledger=ledger,
            clock=system_clock,
        )
    for step in result.steps:
        print(filing.describe(step))
    for orphan in result.orphans:
        print(f"orphan  {orphan.url}: no longer in the record (left as it is)")
    parent = result.postmortem.key if result.postmortem is not None else "the postmortem issue"
    for child in result.links_planned:
        print(f"link    {child.key} under {parent}")
    for slug in result.links_after_filing:
        print(f"link    {slug} under {parent}, once filed")
    if args.dry_run:
        print(f"dry run: {result.planned} write(s) planned, nothing written")
        return EXIT_OK
    from syncer.core.redaction import REDACTOR

    for failed in result.failed:
        print(f"{args.file}: filing stopped: {REDACTOR.redact_text(failed.error)}", file=sys.stderr)
    if result.postmortem is not None:
        there = len(result.links_already)
        print(f"linked under {parent}: {result.linked} new, {there} already there")
    print(f"filed: {result.created} created, {result.updated} updated")
    if result.failed:
        return ExitCode.TRACKER_FAILED
    if result.waiting:
        print(
            f"{result.waiting} issue(s) or link(s) wait for the write budget or a rate limit; "
            "rerun later, nothing is filed or linked twice",
            file=sys.stderr,
        )
        return ExitCode.WORK_LEFT
    return EXIT_OK


@contextmanager
def _ledger(state_url: str | None) -> Iterator[Ledger | None]:
    """The state store as the ledger when ``--state`` is given (imported lazily), else none
    (the filing is recorded in memory only)."""
    if not state_url:
        yield None
        return
    from syncer.service.wiring import open_state

    store = open_state(state_url)
    try:
        yield store
    finally:
        store.close()
