"""One level-triggered cycle: fetch, look owners and evidence up, evaluate, plan, execute, record.

Each cycle rebuilds its view from the trackers' current state (kopf's level-triggered
reconcile); nothing remembered from earlier cycles is trusted except as a cache. A tracker that
fails to fetch is reported and skipped; the others go on. Between fetching and evaluating, the
pull-request and commit links that closure judgements depend on are looked up through the
configured ``EvidenceVerifier`` values (``syncer.core.evidence``), whichever tracker the items came
from. ``now`` comes from the caller.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog

from syncer.core.actions import ItemChange, Plan, PostComment
from syncer.core.apply import ApplyResult, Executor
from syncer.core.directory import LookupCache, MemoryLookupCache, account_status
from syncer.core.errors import RateLimited, TrackerError
from syncer.core.evaluate import Assessment, evaluate
from syncer.core.evidence import Verified, links_to_verify, lookup, with_verdicts
from syncer.core.exit_codes import ExitCode, worst
from syncer.core.idle import CycleMemory, Looked, next_window_end
from syncer.core.ledger import Ledger, LedgerEntry
from syncer.core.model import ActionItem
from syncer.core.plan import Observed, plan
from syncer.core.policy import Policy
from syncer.core.tracker import EvidenceVerifier, ReadsItems, SkippedItem, Tracker

log = structlog.get_logger(__name__)


@dataclass
class CycleOutcome:
    """What one cycle saw, decided and did."""

    cycle_id: str
    now: datetime
    items: list[ActionItem]
    assessments: list[Assessment]
    plan: Plan
    result: ApplyResult
    skipped: list[SkippedItem] = field(default_factory=list)
    fetch_errors: dict[str, str] = field(default_factory=dict)
    fetch_rate_limits: dict[str, RateLimited] = field(default_factory=dict)
    """Trackers whose fetch stopped at a rate limit (also in ``fetch_errors``), with it."""

    @property
    def ok(self) -> bool:
        return not self.fetch_errors and not any(f.transient for f in self.result.failed)

    def exit_code(self, *, writing: bool) -> ExitCode:
        """3 when a write failed or a tracker could not be read; 4 when work waits for a later
        cycle (budget, rate limit, lost leadership: only when writing, a dry run leaves nothing
        undone); else 0. A tracker that could only not be read because of a rate limit is 4.
        """
        unread = set(self.fetch_errors) - set(self.fetch_rate_limits)
        codes = [ExitCode.OK]
        if unread or self.result.failed:
            codes.append(ExitCode.TRACKER_FAILED)
        if self.fetch_rate_limits:
            codes.append(ExitCode.WORK_LEFT)
        if writing and (self.result.backlog or self.result.rate_limited or self.result.fenced):
            codes.append(ExitCode.WORK_LEFT)
        return worst(*codes)


def collect(
    trackers: Sequence[Tracker],
    *,
    full: bool,
    rate_limits: dict[str, RateLimited] | None = None,
    only: Mapping[str, Collection[str]] | None = None,
) -> tuple[list[ActionItem], list[SkippedItem], dict[str, str]]:
    """Items from every tracker; one tracker's failure does not stop the others.

    A fetch stopped by a rate limit is an error like any other; when ``rate_limits`` is given
    it also receives the ``RateLimited`` (its reset time and reason), by tracker name. With
    ``only`` (tracker name -> item keys: a cycle for webhook deliveries), just those items
    are read, from just those trackers (a tracker that cannot read chosen items is fetched).
    """
    items: list[ActionItem] = []
    skipped: list[SkippedItem] = []
    errors: dict[str, str] = {}
    for tracker in trackers:
        keys = None if only is None else only.get(tracker.name)
        if only is not None and keys is None:
            continue
        try:
            if keys is not None and isinstance(tracker, ReadsItems):
                fetched = tracker.read_items(sorted(keys))
            else:
                fetched = tracker.fetch(full=full)
        except TrackerError as exc:
            if isinstance(exc, RateLimited) and rate_limits is not None:
                rate_limits[tracker.name] = exc
            log.warning("fetch failed; retried next cycle", tracker=tracker.name, error=str(exc))
            errors[tracker.name] = str(exc)
            continue
        items.extend(fetched.items)
        skipped.extend(fetched.skipped)
        for problem in fetched.skipped:
            log.warning(
                "item skipped", tracker=tracker.name, key=problem.key, problem=problem.problem
            )
        if fetched.errors:
            errors[tracker.name] = "; ".join(fetched.errors)
    return items, skipped, errors


def decisions(
    assessments: Iterable[Assessment], now: datetime, cycle_id: str, policy_version: str
) -> list[LedgerEntry]:
    """Closure and waiver decisions worth keeping, each recorded once (dedupe keys)."""
    out: list[LedgerEntry] = []
    for a in assessments:
        for finding in a.findings:
            kind = {
                "closure.accepted": "closure_accepted",
                "closure.rejected": "closure_rejected",
                "closure.flagged": "closure_flagged",
                "waiver.active": "waiver_granted",
                "waiver.lapsed": "waiver_lapsed",
            }.get(finding.rule)
            if kind is None:
                continue
            item = a.item
            if kind.startswith("closure"):
                anchor = item.closed_at.isoformat() if item.closed_at else ""
            else:
                anchor = a.waiver.until.isoformat() if a.waiver else ""
            out.append(
                LedgerEntry(
                    at=now,
                    cycle_id=cycle_id,
                    tracker=item.ref.tracker,
                    item_key=item.ref.key,
                    kind=kind,
                    rule=finding.rule,
                    policy_version=policy_version,
                    outcome="decided",
                    inputs={
                        "priority": item.priority.value,
                        "severity": item.severity.value,
                        "owners": [o.handle for o in item.owners],
                        "inactive_owners": [o.handle for o in item.owners if not o.accountable],
                        "evidence": [e.url or e.text for e in item.evidence],
                        "evidence_verification": [e.verification.value for e in item.evidence],
                        "closed_at": anchor if kind.startswith("closure") else None,
                        "resolution": item.resolution.value if item.resolution else None,
                        "approver": a.waiver.approver if a.waiver else None,
                    },
                    detail=finding.message,
                    dedupe_key=f"{kind}:{item.ref}:{anchor}",
                )
            )
    return out


def record_decisions(
    ledger: Ledger,
    assessments: list[Assessment],
    now: datetime,
    cycle_id: str,
    policy_version: str,
    memory: CycleMemory | None,
) -> None:
    """Record the cycle's decisions; with ``memory``, not again for the very same assessments
    (every entry would be a duplicate of one recorded then, dropped by its dedupe key)."""

    def record() -> bool:
        ledger.record(decisions(assessments, now, cycle_id, policy_version))
        return True

    if memory is None:
        record()
    else:
        memory.recorded.answer(assessments, policy_version, record)


def checked_items(
    fetched: list[ActionItem],
    trackers: Sequence[Tracker],
    policy: Policy,
    now: datetime,
    lookups: LookupCache | None,
    verifiers: Sequence[EvidenceVerifier],
    rate_limits: Mapping[str, RateLimited],
    memory: CycleMemory | None,
) -> list[ActionItem]:
    """``fetched`` with owner accounts (``syncer.core.directory``) and the evidence links of judged
    closures (``syncer.core.evidence``) looked up; with ``memory``, the owner pass and the choice
    of links are kept while they cannot change (``syncer.core.idle.CheckedItems``)."""
    day = now.astimezone(ZoneInfo(policy.deadlines.timezone)).date()
    looked = memory.checked.get(fetched, day, now) if memory is not None else None
    if looked is None:
        # A tracker whose fetch hit a rate limit is not asked about its owners either.
        askable = [t for t in trackers if t.name not in rate_limits]
        cache = lookups or MemoryLookupCache()
        items, complete = account_status(fetched, askable, policy, now, cache)
        looked = Looked(items, *links_to_verify(items, policy, now))
        if memory is not None:
            if complete and not rate_limits:
                window = policy.closure.check_closed_within.as_timedelta()
                until = next_window_end(fetched, window, now)
                memory.checked.keep(fetched, day, until, looked)
            else:
                memory.checked.forget()
    if not looked.links:
        return looked.items
    # Nor about evidence: its links wait for the next cycle (pending, not unverifiable).
    verdicts = lookup(looked.links.values(), verifiers, frozenset(rate_limits))
    log.info("evidence looked up", links=len(verdicts), **Verified(looked.items, verdicts).counts())
    if memory is not None:
        return memory.checked.with_verdicts(looked.items, looked.carriers, verdicts)
    checked = list(looked.items)
    for index in looked.carriers:
        checked[index] = with_verdicts(checked[index], verdicts)
    return checked


def run_cycle(
    *,
    trackers: Sequence[Tracker],
    policy: Policy,
    now: datetime,
    executor: Executor,
    cycle_id: str,
    ledger: Ledger | None = None,
    observed: Observed | None = None,
    full: bool = False,
    extra_changes: Iterable[ItemChange] = (),
    lookups: LookupCache | None = None,
    verifiers: Sequence[EvidenceVerifier] = (),
    only: Mapping[str, Collection[str]] | None = None,
    memory: CycleMemory | None = None,
) -> CycleOutcome:
    """Run one cycle; ``executor`` is an ``Applier`` or ``DryRun``.

    ``lookups`` keeps owner-account answers for the day (the state store); without it they
    are kept for this cycle only. ``verifiers`` look up the evidence links of judged closures
    (for items of every tracker in the cycle); without one, such links are unverifiable.
    ``only`` limits the cycle to chosen items (see ``collect``): they are read, evaluated,
    planned and written like any others. ``memory`` (a daemon's, kept across cycles)
    re-assesses only the items that changed or that time moved (``syncer.core.incremental``) and
    reuses the plan and the recorded decisions of the very same assessments
    (``syncer.core.idle``); a ``full`` cycle forgets it first and does everything.
    """
    rate_limits: dict[str, RateLimited] = {}
    fetched, skipped, errors = collect(trackers, full=full, rate_limits=rate_limits, only=only)
    if full and memory is not None:
        memory.forget()
    items = checked_items(fetched, trackers, policy, now, lookups, verifiers, rate_limits, memory)
    budget = policy.operations.max_writes_per_cycle
    if memory is None:
        assessments = evaluate(items, policy, now)
        the_plan = plan(assessments, policy.managed_labels, observed, budget, extra_changes)
    else:
        partial = only is not None
        assessments = memory.evaluator.evaluate(items, policy, now, partial=partial)
        the_plan = memory.plan(assessments, policy.managed_labels, observed, budget, extra_changes)
    result = executor.execute(the_plan)
    if observed is not None:
        for done in result.done:
            if isinstance(done.action, PostComment) and done.outcome in {"done", "skipped"}:
                observed.remember(done.action.ref, done.action.message.marker)
    if ledger is not None:
        record_decisions(ledger, assessments, now, cycle_id, policy.version, memory)
    log.info(
        "cycle finished",
        cycle_id=cycle_id,
        items=len(items),
        planned=the_plan.write_count,
        writes=result.writes,
        skipped_writes=result.count("skipped"),
        failed=len(result.failed),
        backlog=sum(c.cost for c in result.backlog),
        fetch_errors=len(errors),
        reopen_fallbacks=len(result.fallbacks),
    )
    return CycleOutcome(
        cycle_id, now, items, assessments, the_plan, result, skipped, errors, rate_limits
    )
