"""``pmsync postmortem link --postmortem REF ITEM_REF...``: attach existing items to a
postmortem issue as its children (GitHub sub-issues, Jira issue links).

An entry point like ``postmortem.cli``: it reads the clock and builds the one connector it
needs (lazily, through ``syncer.service.wiring``); the plan and its execution are
``syncer.postmortem.linking``'s, through the one applier. Exit codes (``syncer.core.exit_codes``):
0 linked (or, with ``--dry-run``, planned), 2 bad input (policy, tracker, references), 3 a
tracker refused or failed a request, 4 the write budget, a rate limit or a lost leadership
left links for a rerun (which links nothing twice).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from syncer.core.clock import system_clock
from syncer.core.config_loader import load_model_file
from syncer.core.cursors import CursorStore, MemoryCursorStore
from syncer.core.errors import ConfigError, RateLimited, TrackerError
from syncer.core.exit_codes import ExitCode
from syncer.core.ledger import Ledger, MemoryLedger
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from syncer.core.secrets import register_configured_secrets
from syncer.core.tracker import Tracker
from syncer.postmortem.linking import LinkRequestError, LinkResult, link_items

GITHUB_REF = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+$")
JIRA_REF = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``link`` to the ``postmortem`` subcommands."""
    link = sub.add_parser(
        "link",
        help="attach existing action items to a postmortem issue as its children",
        description="GitHub: sub-issues of the postmortem issue; Jira: issue links of "
        "trackers.jira[].postmortem_link_type from the postmortem. Items already attached "
        "are left alone.",
    )
    link.add_argument("--config", type=Path, required=True, help="pmsync policy file (YAML)")
    link.add_argument(
        "--postmortem",
        required=True,
        metavar="REF",
        help="the postmortem issue: owner/repo#N on GitHub, KEY-N on Jira",
    )
    link.add_argument("items", nargs="+", metavar="ITEM_REF", help="the items to attach")
    link.add_argument(
        "--tracker",
        help="tracker name from the policy (default: the first GitHub tracker, else the "
        "first Jira tracker)",
    )
    link.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    link.add_argument("--state", help="state store URL: record each link in its ledger")
    link.set_defaults(func=cmd_link)


def _tracker_name(policy: Policy, wanted: str | None) -> tuple[str, str]:
    """The tracker's name and kind (``github`` or ``jira``); LookupError when none fits."""
    kinds = [("github", t.name) for t in policy.trackers.github]
    kinds += [("jira", t.name) for t in policy.trackers.jira]
    if not kinds:
        raise LookupError("the policy configures no tracker")
    for kind, name in kinds:
        if wanted is None or name == wanted:
            return name, kind
    known = ", ".join(name for _, name in kinds)
    raise LookupError(f"--tracker {wanted}: no such tracker (configured: {known})")


def _refs(tracker: str, kind: str, keys: list[str]) -> list[ItemRef]:
    """References as ``ItemRef``; LookupError naming each one that is not of the tracker's form."""
    pattern, form = (GITHUB_REF, "owner/repo#N") if kind == "github" else (JIRA_REF, "KEY-N")
    bad = [key for key in keys if not pattern.match(key)]
    if bad:
        raise LookupError(f"not a {kind} issue reference ({form}): {', '.join(bad)}")
    return [ItemRef(tracker=tracker, key=key.upper() if kind == "jira" else key) for key in keys]


def _only(policy: Policy, name: str) -> Policy:
    """The policy with just the tracker ``name``: other trackers' credentials are not needed."""
    trackers = policy.trackers.model_copy(
        update={
            "github": [t for t in policy.trackers.github if t.name == name],
            "jira": [t for t in policy.trackers.jira if t.name == name],
        }
    )
    return policy.model_copy(update={"trackers": trackers})


@contextmanager
def _store(state_url: str | None) -> Iterator[tuple[CursorStore, Ledger]]:
    """The state store (cursors and ledger) when ``--state`` names one, else memory."""
    if not state_url:
        yield MemoryCursorStore(), MemoryLedger()
        return
    from syncer.service.wiring import open_state

    store = open_state(state_url)
    try:
        yield store, store
    finally:
        store.close()


def cmd_link(args: argparse.Namespace) -> int:
    from syncer.core.redaction import REDACTOR

    try:
        policy = load_model_file(Policy, args.config)
        register_configured_secrets(policy)
        name, kind = _tracker_name(policy, args.tracker)
        parent, *children = _refs(name, kind, [args.postmortem, *args.items])
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return ExitCode.BAD_INPUT
    except LookupError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    try:
        with _store(args.state) as (cursors, ledger):
            tracker = _build(_only(policy, name), cursors)
            result = link_items(
                tracker,
                parent,
                children,
                policy,
                dry_run=args.dry_run,
                clock=system_clock,
                ledger=ledger,
            )
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except LinkRequestError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return ExitCode.BAD_INPUT
    except TrackerError as exc:
        print(f"{parent}: not linked: {REDACTOR.redact_text(str(exc))}", file=sys.stderr)
        return ExitCode.WORK_LEFT if isinstance(exc, RateLimited) else ExitCode.TRACKER_FAILED
    return _report(result, parent, args.dry_run)


def _build(policy: Policy, cursors: CursorStore) -> Tracker:
    from syncer.service.wiring import build_trackers

    [tracker] = build_trackers(policy, cursors)
    return tracker


def _report(outcome: LinkResult, parent: ItemRef, dry_run: bool) -> int:
    """One line per item, then a summary; the exit code."""
    from syncer.core.redaction import REDACTOR

    for ref in outcome.already:
        print(f"already  {ref.key} is a child of {parent.key}")
    verbs = {"planned": "plan   ", "done": "linked ", "skipped": "already"}
    for done in outcome.result.done:
        child = getattr(done.action, "child", None)
        if child is not None:
            print(f"{verbs.get(done.outcome, done.outcome)}  {child.key} under {parent.key}")
    for waiting in outcome.result.backlog:
        print(f"waiting  {waiting.key}: write budget, rate limit or leadership; rerun later")
    for failed in outcome.result.failed:
        error = REDACTOR.redact_text(failed.error)
        print(f"failed   {failed.change.key}: {error}", file=sys.stderr)
    result = outcome.result
    if dry_run:
        print(f"dry run: {result.count('planned')} link(s) planned, nothing written")
        return ExitCode.OK
    there = len(outcome.already) + result.count("skipped")
    print(f"linked: {result.count('done')} new, {there} already there")
    if result.failed:
        return ExitCode.TRACKER_FAILED
    if result.backlog or result.rate_limited or result.fenced:
        return ExitCode.WORK_LEFT
    return ExitCode.OK
