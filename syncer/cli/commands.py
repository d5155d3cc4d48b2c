"""What the core commands do: ``check-config``, ``plan``, ``run``, ``demo`` and ``daemon``.

The parser (:mod:`syncer.cli.main`) stays cheap to import so ``pmsync --help`` loads nothing of
pydantic, rich, SQLAlchemy or the tracker libraries; the commands here import what they use
when they run, and the helpers other commands share (``load_policy``, ``read_items``,
``parse_now``) live with them. Entry-point code: it may read the system clock and build
connectors (``syncer.service.wiring``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syncer.core.errors import ConfigError
from syncer.core.exit_codes import ExitCode, worst

if TYPE_CHECKING:
    from rich.console import Console

    from syncer.core.actions import Plan, PostComment
    from syncer.core.evaluate import Assessment
    from syncer.core.model import ActionItem
    from syncer.core.plan_view import CommentRenderer
    from syncer.core.policy import Policy


EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = ExitCode.OK, ExitCode.FINDINGS, ExitCode.BAD_INPUT
VIOLATION_RULES = ("owner.", "evidence.", "closure.rejected", "deadline.overdue", "data.")
# Findings under those prefixes that are no violation: an owner named but not assigned still
# counts as the owner, and a look-up that failed says nothing about the item (judged again).
NOT_VIOLATIONS = frozenset({"owner.unassigned", "evidence.check_failed"})


def parse_now(value: str | None) -> datetime:
    if value is None:
        from syncer.core.clock import system_clock

        return system_clock()
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_policy(path: str) -> Policy:
    from syncer.core.config_loader import load_model_file
    from syncer.core.policy import Policy

    return load_model_file(Policy, Path(path))


def read_items(path: Path, err: Console) -> list[ActionItem]:
    """Items from a JSON export (YAML when the name ends in .yaml/.yml): a list, or
    {"items": [...]}, read by the safe loader; bad items are skipped, each with its place.

    A file without a single valid item is bad input (``ConfigError``): evaluating nothing
    and exiting 0 would tell CI that an export which lost every item is fine.
    """
    from pydantic import ValidationError

    from syncer.core.config_document import ITEMS_LIMITS, dotted
    from syncer.core.config_loader import load_file, validation_problems
    from syncer.core.model import ActionItem, upgrade_item_json

    syntax = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    document = load_file(path, ITEMS_LIMITS, syntax=syntax)
    data = document.data
    prefix: tuple[str, ...] = ("items",) if isinstance(data, dict) else ()
    raw = data.get("items") if isinstance(data, dict) else data
    if not isinstance(raw, list):
        raise ConfigError(
            [f'{path}:1:1: (top level): expected a list of items or {{"items": [...]}}']
        )
    items: list[ActionItem] = []
    for index, entry in enumerate(raw):
        try:
            items.append(ActionItem.model_validate(upgrade_item_json(entry)))
        except ValidationError as exc:
            where: tuple[str | int, ...] = (*prefix, index)
            first = validation_problems(exc, ActionItem, document, where)[0]
            err.print(
                f"{first.file}:{first.line}:{first.column}: {dotted(where)} skipped: "
                f"{first.key}: {first.message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if not items:
        reason = f"all {len(raw)} entries are invalid (see above)" if raw else "the list is empty"
        problem = document.problem(prefix, f"no valid item: {reason}")
        raise ConfigError([f"{problem}; export at least one action item (README: Commands)"])
    return items


def cmd_check_config(args: argparse.Namespace) -> int:
    from syncer.core.config_document import POLICY_LIMITS
    from syncer.core.config_loader import load_file

    policy = load_policy(args.file)
    warnings = policy.config_warnings()
    if warnings:
        document = load_file(Path(args.file), POLICY_LIMITS)
        for loc, message in warnings:
            print(document.problem(loc, f"warning: {message}"), file=sys.stderr)
    trackers = len(policy.trackers.github) + len(policy.trackers.jira)
    print(
        f"{args.file}: ok (policy {policy.version}, {len(policy.escalation.tiers)} tiers, "
        f"{trackers} trackers)"
    )
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from rich.console import Console

    from syncer.core.apply import DryRun
    from syncer.core.evaluate import evaluate
    from syncer.core.plan import plan
    from syncer.core.plan_view import plan_json, print_plan
    from syncer.core.secrets import register_configured_secrets

    console, err = Console(), Console(stderr=True)
    policy = load_policy(args.config)
    register_configured_secrets(policy, state_url=args.state)
    now = parse_now(args.now)
    unread: dict[str, str] = {}
    limited: set[str] = set()
    names: dict[tuple[str, str], str] = {}

    def assess(items: list[ActionItem]) -> tuple[list[Assessment], Plan]:
        assessments = evaluate(items, policy, now)
        budget = None if args.no_budget else policy.operations.max_writes_per_cycle
        return assessments, plan(assessments, policy.managed_labels, budget=budget)

    if args.items:
        assessments, the_plan = assess(read_items(Path(args.items), err))
    else:
        from syncer.core.plan_view import unnamed_mentions
        from syncer.service.wiring import fetch_all, lookup_names, runtime

        with runtime(policy, args.state) as rt:
            items = fetch_all(
                rt.trackers,
                full=False,
                err=err,
                owners_as_of=(policy, now, rt.store),
                evidence_as_of=(policy, now),
                verifiers=rt.verifiers,
                failed=unread,
                rate_limited=limited,
            )
            assessments, the_plan = assess(items)
            # Jira fallback accounts and other people no item names, shown by name.
            names = lookup_names(rt.trackers, unnamed_mentions(the_plan))
    DryRun().execute(the_plan)
    if args.json:
        from syncer.core.version import package_version

        print(
            plan_json(
                the_plan,
                assessments,
                evaluated_at=now,
                policy_version=policy.version,
                pmsync_version=package_version(),
                render=comment_renderer(policy),
                names=names,
            )
        )
    else:
        print_plan(the_plan, assessments, console, names)
    codes = [ExitCode.OK]
    if set(unread) - limited:
        codes.append(ExitCode.TRACKER_FAILED)
    if limited:
        codes.append(ExitCode.WORK_LEFT)
    if args.fail_on_violations and has_violations(assessments):
        codes.append(ExitCode.FINDINGS)
    return worst(*codes)


def has_violations(assessments: Sequence[Assessment]) -> bool:
    return any(
        f.rule.startswith(VIOLATION_RULES) and f.rule not in NOT_VIOLATIONS
        for a in assessments
        for f in a.findings
    )


def comment_renderer(policy: Policy) -> CommentRenderer:
    """Each comment in its tracker's markup, from the policy alone (no server is asked).

    GitHub takes Markdown; Jira REST v3 takes ADF (Cloud only) and v2 wiki markup, whose
    mentions differ between Cloud and Data Center: with ``deployment: auto`` that is only
    known once the server has been asked, so the markup is left out (None).
    """
    from connectors.github.renderer import render_message
    from connectors.jira.renderer import render_adf, render_wiki
    from syncer.core.plan_view import RenderedComment

    github = {tracker.name for tracker in policy.trackers.github}
    jira = {tracker.name: tracker for tracker in policy.trackers.jira}

    def render(comment: PostComment) -> RenderedComment | None:
        name, message = comment.ref.tracker, comment.message
        if name in github:
            return RenderedComment("markdown", render_message(message))
        tracker = jira.get(name)
        if tracker is None:
            return None
        if tracker.rest_api_version == "3":
            return RenderedComment("adf", render_adf(message))
        if tracker.deployment == "auto":
            return None
        return RenderedComment("wiki", render_wiki(message, cloud=tracker.deployment == "cloud"))

    return render


def cmd_run(args: argparse.Namespace) -> int:
    import uuid

    from rich.console import Console

    from syncer.core.secrets import register_configured_secrets
    from syncer.service.wiring import run_once

    policy = load_policy(args.config)
    register_configured_secrets(policy, state_url=args.state)
    outcome = run_once(
        policy,
        now=parse_now(args.now),
        state_url=args.state,
        dry_run=args.dry_run,
        cycle_id=uuid.uuid4().hex[:12],
        console=Console(),
        full=args.full,
    )
    writing = not args.dry_run and not policy.operations.shadow
    code = outcome.exit_code(writing=writing)
    if args.fail_on_violations and has_violations(outcome.assessments):
        code = worst(code, ExitCode.FINDINGS)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from syncer.cli.demo import run_demo

    return run_demo(Path(args.out), Console())


def cmd_daemon(args: argparse.Namespace) -> int:
    from syncer.core.logging_setup import install_excepthooks
    from syncer.service.daemon import Daemon
    from syncer.service.settings import load_settings

    settings = load_settings()  # logging is already set up by main(), at settings.log_level
    install_excepthooks()
    return Daemon(Path(args.config), settings, state_url=args.state).run()
