"""Rules: from items, the policy and ``now`` to what each item's state should be.

``evaluate`` is pure and reads no clock. For every item it returns an ``Assessment``: its
status, deadline, findings, the pmsync-managed labels it should carry and the comments it
should have received. It says nothing about what to write; ``plan`` diffs this desired state
against what the tracker shows.

Each rule is a small pure function of an item and the ``Rules`` (the policy with its lookup
tables, at one ``now``) that says what it asks in a ``Verdict``; each is tested alone in
``tests/core/test_rule_functions.py``. The closure criteria (owner rule, evidence rule, the
verdict on a closure) are in ``syncer.core.closure``; the scope, the clock (waiver, pause,
deadline), the escalation ladder and the data rules are here. ``assess`` is the one way an
item is assessed, whatever it looks like: exempt, or else its deadline, then the closure
judgement for a closed item and the open item's rules for an open (or reopened) one. What
an open item must hear from the ladder depends on its priority and deadline only, so it is
worked out once per pair (``Rules.schedule``); that sharing and the collector pause
(``syncer.core.gcpause``) are the only things here done for speed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from syncer.core.actions import EscalationStep
from syncer.core.assessment import (
    NOTHING,
    Assessment,
    DesiredComment,
    Finding,
    LegacyMarker,
    Status,
    Verdict,
    combine,
)
from syncer.core.closure import ClosureJudgement, judge_closure, owner_verdict
from syncer.core.deadlines import DeadlineCalendar
from syncer.core.evidence_judge import judge_for
from syncer.core.gcpause import gc_paused
from syncer.core.model import ActionItem, Priority, Severity, State, Waiver
from syncer.core.policy import Policy
from syncer.core.policy_closure import ViolationAction
from syncer.core.policy_escalation import Tier

__all__ = [
    "Assessment",
    "DesiredComment",
    "Finding",
    "Rules",
    "Status",
    "Verdict",
    "assess",
    "evaluate",
    "validity",
]


def evaluate(items: Iterable[ActionItem], policy: Policy, now: datetime) -> list[Assessment]:
    """Assess every item against the policy at ``now`` (collector paused: see gcpause)."""
    rules = Rules(policy, now)
    with gc_paused():
        return [assess(item, rules) for item in items]


class Standing(NamedTuple):
    """Where an open item stands: its status, the tier it reached and what they ask."""

    status: Status
    tier: int = 0
    verdict: Verdict = NOTHING


NO_DEADLINE = Standing(Status.NO_DEADLINE)
ON_TRACK = Standing(Status.ON_TRACK)


class Rules:
    """The policy's rules at one ``now``, with the tables they look things up in.

    Built once per evaluation: what depends only on the policy (the owner rule and the
    tiers of each priority, waivers by item) is worked out here, not per item.
    """

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.calendar = DeadlineCalendar(policy.deadlines)
        self.today = self.calendar.local_date(now)
        self.exempt_labels = frozenset(policy.scope.exempt_labels)
        self.pause_labels = frozenset(policy.pause.labels)
        self.waivers = {w.item: w for w in policy.waivers.entries}
        self.closure = policy.closure
        self.now = now
        self.judging_window = policy.closure.check_closed_within.as_timedelta()
        self.judged_since = now - self.judging_window
        self.owner_rules = {p: policy.closure.owner_rule(p) for p in Priority}
        self.evidence = judge_for(policy.closure.evidence)
        self.ladder = policy.escalation
        self.tiers_of = {
            p: tuple(
                (position, tier)
                for position, tier in enumerate(policy.escalation.tiers, start=1)
                if tier.priorities is None or p in tier.priorities
            )
            for p in Priority
        }
        self.fallbacks = policy.mention_fallbacks()
        self._schedules: dict[tuple[Priority, date], Standing] = {}

    def schedule(self, priority: Priority, deadline: date | None) -> Standing:
        """``schedule_of`` the pair, worked out once per evaluation and shared.

        100,000 items share a few hundred (priority, deadline) pairs. Worth it, measured by
        ``tests/bench/bench_core_worth.py`` in one run: evaluate 0.28 s CPU with it against
        0.44 s working out each item's own, and a peak RSS of 137 MB against 165 MB (over
        the 150 MB goal): each overdue or due-soon item would carry its own findings,
        desired comments, markers and escalation step.
        """
        if deadline is None:
            return NO_DEADLINE
        key = (priority, deadline)
        found = self._schedules.get(key)
        if found is None:
            found = self._schedules[key] = schedule_of(priority, deadline, self)
        return found


# ----- the item ---------------------------------------------------------------------------


def assess(item: ActionItem, rules: Rules) -> Assessment:
    """Everything the rules conclude about one item (the only way an item is assessed)."""
    if is_exempt(item, rules):
        return Assessment(
            item=item,
            status=Status.EXEMPT,
            deadline=None,
            deadline_source="none",
            days_overdue=None,
        )
    deadline, source = rules.calendar.deadline(item)
    days = None if deadline is None else (rules.today - deadline).days
    if item.state is State.OPEN:
        return assess_open(item, rules, deadline, source, days)
    if not judged_now(item, rules):
        # Closed before the judging window (most closed items): pmsync's labels only go.
        return Assessment(
            item=item,
            status=Status.CLOSED_UNJUDGED,
            deadline=deadline,
            deadline_source=source,
            days_overdue=days,
        )
    closure = judge_closure(item, rules)
    if closure.status is Status.CLOSED_REJECTED and (
        rules.closure.on_violation is ViolationAction.REOPEN
    ):
        # Judged as the open item it is about to be, so one plan reaches the end state;
        # should the tracker refuse to reopen it, it keeps what label mode gives instead.
        return assess_open(item, rules, deadline, source, days, reopening=closure)
    return Assessment(
        item=item,
        status=closure.status,
        deadline=deadline,
        deadline_source=source,
        days_overdue=days,
        findings=closure.verdict.findings,
        desired_labels=closure.verdict.labels,
        comments=closure.verdict.comments,
        evidence_ok=closure.evidence_ok,
    )


def assess_open(
    item: ActionItem,
    rules: Rules,
    deadline: date | None,
    source: str,
    days: int | None,
    reopening: ClosureJudgement | None = None,
) -> Assessment:
    """An open item, or a rejected closure about to be reopened (``reopening``)."""
    waiver = waiver_of(item, rules)
    standing = clock(item, rules, waiver, deadline)
    verdict = combine(
        reopening.verdict if reopening is not None else NOTHING,
        rejection_label_kept(item, rules),
        data_problems(item, rules),
        owner_verdict(item, rules),
        standing.verdict,
    )
    assessment = Assessment(
        item=item,
        status=standing.status,
        deadline=deadline,
        deadline_source=source,
        days_overdue=days,
        tier=standing.tier,
        findings=verdict.findings,
        desired_labels=verdict.labels,
        comments=verdict.comments,
        waiver=waiver,
    )
    if reopening is None:
        return assessment
    return assessment._replace(
        reopen=True,
        evidence_ok=reopening.evidence_ok,
        reopen_fallback=reopening.verdict.labels,
    )


def validity(
    item: ActionItem, assessment: Assessment, rules: Rules
) -> tuple[date | None, datetime | None]:
    """How long ``assessment`` of ``item`` stays right as time moves on: ``(day, until)``.

    ``now`` reaches an assessment in two ways only, and a rule that adds a third must say
    so here (``syncer.core.incremental`` reuses assessments on this word; its property test
    checks it): through ``rules.today``, the policy-local day (days overdue, the deadline's
    schedule: reminder and tiers, a waiver's lapse), and through ``rules.judged_since`` (a
    closed item is judged while ``now <= closed_at + check_closed_within``). So the
    assessment holds on ``day`` (None: any day; an exempt item does not look at the clock)
    while ``now <= until`` (None: no instant bounds it; past the window a closed item stays
    unjudged as time goes forward).
    """
    if assessment.status is Status.EXEMPT:
        return None, None
    until = None
    if item.closed_at is not None:
        end = item.closed_at + rules.judging_window
        if rules.now <= end:
            until = end
    return rules.today, until


# ----- scope --------------------------------------------------------------------------------


def is_exempt(item: ActionItem, rules: Rules) -> bool:
    """An exempt label takes the item out of pmsync's hands (its own labels are removed)."""
    return not item.labels.isdisjoint(rules.exempt_labels)


def judged_now(item: ActionItem, rules: Rules) -> bool:
    """Whether a closed item is judged: closed inside ``closure.check_closed_within``."""
    return item.closed_at is not None and item.closed_at >= rules.judged_since


# ----- data ---------------------------------------------------------------------------------


def data_problems(item: ActionItem, rules: Rules) -> Verdict:
    """What could not be read, and unknown priority or severity: reported and triaged."""
    known = item.priority is not Priority.UNKNOWN and item.severity is not Severity.UNKNOWN
    if known and not item.data_problems:
        return NOTHING
    found = [Finding("data.problem", p) for p in item.data_problems]
    if item.priority is Priority.UNKNOWN:
        found.append(Finding("data.unknown_priority", "priority is unknown"))
    if item.severity is Severity.UNKNOWN:
        found.append(Finding("data.unknown_severity", "incident severity is unknown"))
    triage = rules.closure.triage_label
    return Verdict(findings=tuple(found), labels=frozenset({triage} if triage else ()))


def rejection_label_kept(item: ActionItem, rules: Rules) -> Verdict:
    """The closure-rejected label stays on an open item until a closure is accepted."""
    label = rules.closure.violation_label
    return Verdict(labels=frozenset({label})) if label in item.labels else NOTHING


# ----- the clock: waiver, pause, deadline ---------------------------------------------------


def waiver_of(item: ActionItem, rules: Rules) -> Waiver | None:
    """The item's waiver: one approved in the policy file wins over the tracker's."""
    entry = rules.waivers.get(item.ref.key)
    if entry is not None:
        return Waiver(until=entry.until, approver=entry.approver, reason=entry.reason)
    return item.waiver


def is_paused(item: ActionItem, rules: Rules) -> bool:
    """A pause label stops the SLO clock (the item is still reported)."""
    return not item.labels.isdisjoint(rules.pause_labels)


PAUSED = Standing(
    Status.PAUSED, verdict=Verdict(findings=(Finding("clock.paused", "SLO clock paused by label"),))
)


def clock(item: ActionItem, rules: Rules, waiver: Waiver | None, deadline: date | None) -> Standing:
    """Where an open item stands: an active waiver stops the clock, then a pause label;
    otherwise its deadline's schedule speaks (and a lapsed waiver is reported)."""
    if waiver is not None and waiver.until >= rules.today:
        active = Finding("waiver.active", f"waived until {waiver.until} by {waiver.approver}")
        label = frozenset({rules.policy.waivers.label})
        return Standing(Status.WAIVED, verdict=Verdict(findings=(active,), labels=label))
    if is_paused(item, rules):
        return PAUSED
    schedule = rules.schedule(item.priority, deadline)
    if waiver is None:
        return schedule
    lapsed = Verdict(findings=(Finding("waiver.lapsed", f"waiver lapsed on {waiver.until}"),))
    return schedule._replace(verdict=combine(lapsed, schedule.verdict))


def schedule_of(priority: Priority, deadline: date, rules: Rules) -> Standing:
    """Where an open item of ``priority`` due on ``deadline`` stands today: overdue (at a
    tier, or below the first), due soon (the reminder) or on track."""
    days = (rules.today - deadline).days
    if days > 0:
        overdue = (Finding("deadline.overdue", f"{days} days overdue (due {deadline})"),)
        position = tier_reached(priority, deadline, rules)
        if not position:
            return Standing(Status.OVERDUE, verdict=Verdict(findings=overdue))
        tier = rules.ladder.tiers[position - 1]
        escalation = Verdict(
            findings=overdue,
            labels=frozenset({tier.label, *tier.extra_labels}),
            comments=(escalation_comment(position, tier, deadline, rules),),
        )
        return Standing(Status.OVERDUE, tier=position, verdict=escalation)
    if reminder_due(days, rules):
        reminder = rules.ladder.reminder
        assert reminder is not None
        comment = DesiredComment(
            template=reminder.comment,
            marker=f"pmsync:reminder:due-{deadline.isoformat()}",
            anchor=reminder.label,
            rule="reminder",
            targets=tuple(reminder.mention),
            fallbacks=rules.fallbacks,
        )
        reminded = Verdict(labels=frozenset({reminder.label}), comments=(comment,))
        return Standing(Status.DUE_SOON, verdict=reminded)
    return ON_TRACK


def tier_reached(priority: Priority, deadline: date, rules: Rules) -> int:
    """The highest tier (1-based place in the ladder; 0 = none) that an item of
    ``priority`` past ``deadline`` has reached today: the last whose ``after`` has passed,
    in calendar or business days, among the tiers for that priority."""
    reached = 0
    for position, tier in rules.tiers_of[priority]:
        if tier.after.business:
            overdue = rules.calendar.business_days_between(deadline, rules.today)
        else:
            overdue = (rules.today - deadline).days
        if overdue >= tier.after.days:
            reached = position
    return reached


def reminder_due(days: int, rules: Rules) -> bool:
    """Whether an item ``days`` past its deadline (0 or less: not yet due) is within the
    reminder's ``before``."""
    reminder = rules.ladder.reminder
    return reminder is not None and -days <= reminder.before.days


def escalation_comment(position: int, tier: Tier, deadline: date, rules: Rules) -> DesiredComment:
    """The one comment a tier posts for a deadline; its marker names the tier by its id.

    A release before tier ids wrote ``tier-N`` (its place then) for the same comment: that
    marker counts as this comment unless the item carries the label of a later tier, which
    says the ladder changed under it (see ``LegacyMarker``). ``legacy_tier_order`` pins what
    N meant, and then no label needs to say it.
    """
    due = deadline.isoformat()
    legacy_at = rules.ladder.legacy_position(tier.id)
    legacy = None
    if legacy_at is not None:
        pinned = rules.ladder.legacy_tier_order is not None
        later = rules.ladder.tiers[position:]
        legacy = LegacyMarker(
            marker=f"pmsync:escalation:tier-{legacy_at}:due-{due}",
            unless_labelled=frozenset() if pinned else frozenset(t.label for t in later),
        )
    return DesiredComment(
        template=tier.comment,
        marker=f"pmsync:escalation:{tier.id}:due-{due}",
        anchor=tier.label,
        rule="escalation",
        targets=tuple(tier.mention),
        fallbacks=rules.fallbacks,
        extra=(("tier", tier.name),),
        escalation=EscalationStep.model_construct(
            tier_id=tier.id, tier_name=tier.name, due=deadline
        ),
        legacy=legacy,
    )
