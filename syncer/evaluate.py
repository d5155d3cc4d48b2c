"""Rules: from items, the policy and ``now`` to what each item's state should be.

``evaluate`` is pure and reads no clock. For every item it returns an ``Assessment``: its
status, deadline, findings, the pmsync-managed labels it should carry and the comments it
should have received. It says nothing about what to write; ``plan`` diffs this desired state
against what the tracker shows. Each rule is a small function so it can be tested alone.

A daemon evaluates every item every cycle (goal: 100,000 in under half a second of CPU), and
most items are healthy: open, owned and on track, or closed long ago. ``Evaluator.assess``
lets those skip the general rules, and items sharing a priority and deadline share one
worked-out ``Schedule``. The shortcuts are checked against the general rules by a property
test (``assess(item, shortcuts=False)``), so they can only be faster, never different.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from typing import NamedTuple

from syncer.actions import EscalationStep
from syncer.assessment import Assessment, DesiredComment, Finding, LegacyMarker, Status
from syncer.deadlines import DeadlineCalendar
from syncer.evidence import EvidenceJudgement, EvidenceOutcome, judge_for
from syncer.gcpause import gc_paused
from syncer.model import ActionItem, Person, Priority, Severity, State, Waiver
from syncer.policy import OwnerRule, Policy, Tier, Unverifiable, ViolationAction
from syncer.templates import Fallbacks

__all__ = ["Assessment", "DesiredComment", "Evaluator", "Finding", "Status", "evaluate"]


_NONE: tuple[Finding, ...] = ()
_OWNER_COUNTS = {
    OwnerRule.EXACTLY_ONE: (1, 1),
    OwnerRule.AT_LEAST_ONE: (1, 1 << 30),
    OwnerRule.ANY: (0, 1 << 30),
}
# Builds an Assessment from a tuple in C: the NamedTuple constructor is a Python function,
# and one assessment is built per item per cycle.
_assessment: Callable[[tuple[object, ...]], Assessment] = partial(tuple.__new__, Assessment)
_comment: Callable[[tuple[object, ...]], DesiredComment] = partial(tuple.__new__, DesiredComment)


def _quiet(
    item: ActionItem, status: Status, deadline: date | None, source: str, days: int | None
) -> Assessment:
    """An assessment with nothing to report and nothing to change."""
    return _assessment(
        (
            item,
            status,
            deadline,
            source,
            days,
            0,
            _NONE,
            _NO_LABELS,
            _NO_COMMENTS,
            False,
            None,
            None,
            None,
        )
    )


def _plain(owners: tuple[Person, ...]) -> bool:
    """Whether every owner is assigned and not known to be inactive (the common case)."""
    for owner in owners:  # noqa: SIM110 - a loop: cheaper than all() on the hot path
        if owner.active is False or not owner.assigned:
            return False
    return True


def _names(people: Iterable[Person]) -> str:
    """People as a reader knows them (a Jira account id means nothing to anyone)."""
    return ", ".join(p.display_name or p.handle for p in people)


_NO_COMMENTS: tuple[DesiredComment, ...] = ()
_NO_LABELS: frozenset[str] = frozenset()
_ACCEPTED = (Finding("closure.accepted", "closure criteria met"),)


class CommentSpec(NamedTuple):
    """A desired comment less the item, deadline and days it is about (shared by items)."""

    head: tuple[str, str, str | None, str]  # template, marker, anchor, rule
    # targets, fallbacks, first_known_only, extra, escalation, legacy
    tail: tuple[
        tuple[str, ...],
        Fallbacks,
        bool,
        tuple[tuple[str, str], ...],
        EscalationStep | None,
        LegacyMarker | None,
    ]


class Schedule(NamedTuple):
    """Where items of one priority and deadline stand: status, tier and what that asks for."""

    status: Status
    tier: int
    findings: tuple[Finding, ...]
    labels: frozenset[str]
    comments: tuple[CommentSpec, ...]


_NO_DEADLINE = Schedule(Status.NO_DEADLINE, 0, _NONE, _NO_LABELS, ())
_ON_TRACK = Schedule(Status.ON_TRACK, 0, _NONE, _NO_LABELS, ())


def _bind(
    specs: tuple[CommentSpec, ...], item: ActionItem, deadline: date | None, days: int | None
) -> tuple[DesiredComment, ...]:
    """The shared comment specs made into this item's desired comments."""
    if not specs:
        return _NO_COMMENTS
    about = (item, deadline, days)
    return tuple([_comment(head + about + tail) for head, tail in specs])


class Evaluator:
    """The rules of one policy, with their lookup tables, applied at one ``now``.

    Tables that depend only on the policy (owner rule and tiers per priority, tier lengths
    in days) are built once here, so assessing an item is a handful of lookups.
    """

    def __init__(self, policy: Policy, now: datetime) -> None:
        self.policy = policy
        self.calendar = DeadlineCalendar(policy.deadlines)
        self.today = self.calendar.local_date(now)
        self.now = now
        self.exempt = frozenset(policy.scope.exempt_labels)
        self.pause = frozenset(policy.pause.labels)
        self.waivers = {w.item: w for w in policy.waivers.entries}
        self.closure = policy.closure
        self.ladder = policy.escalation
        self.fallbacks = policy.mention_fallbacks()
        self.tiers: tuple[Tier, ...] = tuple(policy.escalation.tiers)
        # The labels of the tiers after each position: seen on an item, they say a tier-N
        # marker from before tier ids was another tier's (see LegacyMarker). An explicit
        # legacy_tier_order is the truth and needs no such guess.
        pinned = policy.escalation.legacy_tier_order is not None
        self.later_tier_labels = tuple(
            frozenset() if pinned else frozenset(t.label for t in self.tiers[index:])
            for index in range(len(self.tiers) + 1)
        )
        self.owner_rules = {p: policy.closure.owner_rule(p) for p in Priority}
        self.count_unassigned = policy.closure.count_unassigned_owners
        self.tiers_by_priority = {
            p: tuple(
                (index, tier, tier.after.days, tier.after.business)
                for index, tier in enumerate(self.tiers, start=1)
                if tier.priorities is None or p in tier.priorities
            )
            for p in Priority
        }
        reminder = policy.escalation.reminder
        self.reminder_days = reminder.before.days if reminder is not None else None
        self.check_closed_since = now - policy.closure.check_closed_within.as_timedelta()
        self.evidence = judge_for(policy.closure.evidence)
        self.violation_label = policy.closure.violation_label
        self.label_sets: dict[frozenset[str], frozenset[str]] = {}
        self.days_since: dict[date, int] = {}
        # Tables for the fast path of a healthy open item (see ``assess``).
        self.owner_counts = {p: _OWNER_COUNTS[rule] for p, rule in self.owner_rules.items()}
        self.open_special = self.pause | {self.violation_label}
        self.on_track_below = -self.reminder_days if self.reminder_days is not None else 1
        self.tier_mentions = tuple(tuple(t.mention) for t in self.tiers)
        # What the schedule says, per (priority, deadline): items share a few hundred.
        self.schedules: dict[tuple[Priority, date], Schedule] = {}

    def days_past(self, deadline: date | None) -> int | None:
        """Days from ``deadline`` to today (positive = overdue), once per distinct deadline."""
        if deadline is None:
            return None
        days = self.days_since.get(deadline)
        if days is None:
            days = self.days_since[deadline] = (self.today - deadline).days
        return days

    def shared(self, labels: set[str]) -> frozenset[str]:
        """One frozenset per distinct desired label set (a policy yields a handful)."""
        key = frozenset(labels)
        return self.label_sets.setdefault(key, key)

    # ----- small rules -------------------------------------------------------------------
    def waiver_of(self, item: ActionItem) -> Waiver | None:
        entry = self.waivers.get(item.ref.key)
        if entry is not None:
            return Waiver(until=entry.until, approver=entry.approver, reason=entry.reason)
        return item.waiver

    def counts_as_owner(self, owner: Person) -> bool:
        """An owner is accountable unless their account is inactive; one the tracker only
        names (not assigned) counts when the policy says so."""
        return owner.active is not False and (owner.assigned or self.count_unassigned)

    def owner_problem(self, item: ActionItem) -> Finding | None:
        rule = self.owner_rules[item.priority]
        if rule is OwnerRule.ANY:
            return None
        counted = [o for o in item.owners if self.counts_as_owner(o)]
        count = len(counted)
        need = (
            "exactly one accountable owner"
            if rule is OwnerRule.EXACTLY_ONE
            else "an accountable owner"
        )
        if count == 0:
            inactive = [o for o in item.owners if o.active is False]
            if len(inactive) == 1:
                why = f"the owner's account is inactive: {_names(inactive)}"
                return Finding("owner.inactive", f"{need} ({why})")
            if inactive:
                why = f"the owners' accounts are inactive: {_names(inactive)}"
                return Finding("owner.inactive", f"{need} ({why})")
            named = [o for o in item.owners if not o.assigned]
            if named:
                why = f"it has none: named as owner but not assigned: {_names(named)}"
                return Finding("owner.missing", f"{need} ({why})")
            return Finding("owner.missing", f"{need} (it has none)")
        if rule is OwnerRule.EXACTLY_ONE and count > 1:
            return Finding("owner.multiple", f"{need} (it has {count})")
        return None

    def owner_notes(self, item: ActionItem) -> list[Finding]:
        """Informational: owners who count although the tracker only names them."""
        named = [o for o in item.owners if not o.assigned and self.counts_as_owner(o)]
        if not named:
            return []
        return [Finding("owner.unassigned", f"named as owner but not assigned: {_names(named)}")]

    def evidence_problem(self, item: ActionItem) -> EvidenceJudgement | None:
        """None when the evidence rule holds; else its outcome and the reasons in words."""
        if self.evidence.met(item):
            return None
        return self.evidence.judge(item)

    def data_problems(self, item: ActionItem) -> list[Finding]:
        found = [Finding("data.problem", p) for p in item.data_problems]
        if item.priority is Priority.UNKNOWN:
            found.append(Finding("data.unknown_priority", "priority is unknown"))
        if item.severity is Severity.UNKNOWN:
            found.append(Finding("data.unknown_severity", "incident severity is unknown"))
        return found

    def desired_tier(self, priority: Priority, deadline: date, days_overdue: int) -> int:
        reached = 0
        for index, _tier, after_days, business in self.tiers_by_priority[priority]:
            if business:
                overdue = self.calendar.business_days_between(deadline, self.today)
            else:
                overdue = days_overdue
            if overdue >= after_days:
                reached = index
        return reached

    # ----- the item ----------------------------------------------------------------------
    def assess(self, item: ActionItem, shortcuts: bool = True) -> Assessment:
        """The item's assessment. With ``shortcuts`` (the default), the common healthy cases
        skip the general rules; a property test checks they reach the same result."""
        labels = item.labels
        if not labels.isdisjoint(self.exempt):
            return _quiet(item, Status.EXEMPT, None, "none", None)
        deadline, source = self.calendar.deadline(item)
        days = self.days_past(deadline)
        if item.state is State.CLOSED:
            closed_at = item.closed_at
            if closed_at is None or closed_at < self.check_closed_since:
                # Closed before the judging window (most closed items): only de-escalate.
                return _quiet(item, Status.CLOSED_UNJUDGED, deadline, source, days)
            lowest, highest = self.owner_counts[item.priority]
            if (
                shortcuts
                and lowest <= len(item.owners) <= highest
                and _plain(item.owners)
                and item.resolution not in self.closure.exempt_resolutions
                and self.evidence.met(item)
            ):
                # Closed as it should be: accepted, nothing to change.
                return _assessment(
                    (
                        item,
                        Status.CLOSED_ACCEPTED,
                        deadline,
                        source,
                        days,
                        0,
                        _ACCEPTED,
                        _NO_LABELS,
                        _NO_COMMENTS,
                        False,
                        True,
                        None,
                        None,
                    )
                )
            return self.assess_closed(item, deadline, source, days)
        lowest, highest = self.owner_counts[item.priority]
        if (
            shortcuts
            and days is not None
            and labels.isdisjoint(self.open_special)
            and lowest <= len(item.owners) <= highest
            and _plain(item.owners)
            and item.waiver is None
            and not item.data_problems
            and item.priority is not Priority.UNKNOWN
            and item.severity is not Severity.UNKNOWN
            and item.ref.key not in self.waivers
        ):
            # Open, owned, unwaived and unpaused, with good data: only the schedule speaks.
            if days < self.on_track_below:
                return _quiet(item, Status.ON_TRACK, deadline, source, days)
            schedule = self.schedule(item.priority, deadline, days)
            return _assessment(
                (
                    item,
                    schedule.status,
                    deadline,
                    source,
                    days,
                    schedule.tier,
                    schedule.findings,
                    schedule.labels,
                    _bind(schedule.comments, item, deadline, days),
                    False,
                    None,
                    None,
                    None,
                )
            )
        return self.assess_open(item, deadline, source, days, [], set(), [], False, None)

    def assess_closed(
        self, item: ActionItem, deadline: date | None, source: str, days: int | None
    ) -> Assessment:
        findings: list[Finding] = []
        desired: set[str] = set()
        comments: list[DesiredComment] = []
        status, evidence_ok = self.judge_closure(item, deadline, days, findings, desired, comments)
        if status is Status.CLOSED_REJECTED and self.closure.on_violation is ViolationAction.REOPEN:
            # Judge it as the open item it is about to be, so one plan reaches the end state;
            # should the tracker refuse to reopen it, it keeps what label mode gives instead.
            fallback = self.shared(desired)
            return self.assess_open(
                item,
                deadline,
                source,
                days,
                findings,
                desired,
                comments,
                True,
                evidence_ok,
                fallback,
            )
        return Assessment(
            item,
            status,
            deadline,
            source,
            days,
            0,
            tuple(findings),
            self.shared(desired),
            tuple(comments),
            False,
            evidence_ok,
            None,
        )

    def assess_open(
        self,
        item: ActionItem,
        deadline: date | None,
        source: str,
        days: int | None,
        findings: list[Finding],
        desired: set[str],
        comments: list[DesiredComment],
        reopen: bool,
        evidence_ok: bool | None,
        reopen_fallback: frozenset[str] | None = None,
    ) -> Assessment:
        labels = item.labels
        closure = self.closure
        if self.violation_label in labels:
            desired.add(self.violation_label)  # sticky until a closure is accepted
        if (
            item.data_problems
            or item.priority is Priority.UNKNOWN
            or item.severity is Severity.UNKNOWN
        ):
            findings.extend(self.data_problems(item))
            if closure.triage_label:
                desired.add(closure.triage_label)
        owner = self.owner_problem(item)
        if owner is not None:
            findings.append(owner)
            desired.add(closure.needs_owner_label)
            comments.append(
                DesiredComment(
                    closure.owner_comment,
                    f"pmsync:{owner.rule}",
                    closure.needs_owner_label,
                    owner.rule,
                    item,
                    deadline,
                    days,
                    tuple(closure.owner_mention),
                    self.fallbacks,
                    first_known_only=True,
                    extra=(("reason", owner.message),),
                )
            )
        elif item.owners and not _plain(item.owners):
            findings.extend(self.owner_notes(item))
        waiver = self.waiver_of(item)
        if waiver is not None and waiver.until >= self.today:
            desired.add(self.policy.waivers.label)
            findings.append(
                Finding("waiver.active", f"waived until {waiver.until} by {waiver.approver}")
            )
            status, tier = Status.WAIVED, 0
        elif not labels.isdisjoint(self.pause):
            findings.append(Finding("clock.paused", "SLO clock paused by label"))
            status, tier = Status.PAUSED, 0
        else:
            if waiver is not None:
                findings.append(Finding("waiver.lapsed", f"waiver lapsed on {waiver.until}"))
            schedule = self.schedule(item.priority, deadline, days)
            status, tier = schedule.status, schedule.tier
            findings.extend(schedule.findings)
            desired.update(schedule.labels)
            comments.extend(_bind(schedule.comments, item, deadline, days))
        return Assessment(
            item,
            status,
            deadline,
            source,
            days,
            tier,
            tuple(findings) or _NONE,
            self.shared(desired) if desired else _NO_LABELS,
            tuple(comments) or _NO_COMMENTS,
            reopen,
            evidence_ok,
            waiver,
            reopen_fallback,
        )

    def schedule(self, priority: Priority, deadline: date | None, days: int | None) -> Schedule:
        """Where an item stands against its deadline: the same for every item of one
        priority with one deadline, so it is worked out once per pair."""
        if deadline is None or days is None:
            return _NO_DEADLINE
        found = self.schedules.get((priority, deadline))
        if found is None:
            found = self.schedules[(priority, deadline)] = self.work_out_schedule(
                priority, deadline, days
            )
        return found

    def work_out_schedule(self, priority: Priority, deadline: date, days: int) -> Schedule:
        if days > 0:
            tier = self.desired_tier(priority, deadline, days)
            overdue = (Finding("deadline.overdue", f"{days} days overdue (due {deadline})"),)
            if not tier:
                return Schedule(Status.OVERDUE, 0, overdue, _NO_LABELS, ())
            rung = self.tiers[tier - 1]
            due = deadline.isoformat()
            legacy_at = self.ladder.legacy_position(rung.id)
            legacy = (
                LegacyMarker(
                    f"pmsync:escalation:tier-{legacy_at}:due-{due}", self.later_tier_labels[tier]
                )
                if legacy_at is not None
                else None
            )
            comment = CommentSpec(
                (rung.comment, f"pmsync:escalation:{rung.id}:due-{due}", rung.label, "escalation"),
                (
                    self.tier_mentions[tier - 1],
                    self.fallbacks,
                    False,
                    (("tier", rung.name),),
                    EscalationStep.model_construct(
                        tier_id=rung.id, tier_name=rung.name, due=deadline
                    ),
                    legacy,
                ),
            )
            labels = self.shared({rung.label, *rung.extra_labels})
            return Schedule(Status.OVERDUE, tier, overdue, labels, (comment,))
        reminder = self.ladder.reminder
        if reminder is not None and self.reminder_days is not None and -days <= self.reminder_days:
            comment = CommentSpec(
                (
                    reminder.comment,
                    f"pmsync:reminder:due-{deadline.isoformat()}",
                    reminder.label,
                    "reminder",
                ),
                (tuple(reminder.mention), self.fallbacks, False, (), None, None),
            )
            return Schedule(Status.DUE_SOON, 0, _NONE, self.shared({reminder.label}), (comment,))
        return _ON_TRACK

    def judge_closure(
        self,
        item: ActionItem,
        deadline: date | None,
        days: int | None,
        findings: list[Finding],
        desired: set[str],
        comments: list[DesiredComment],
    ) -> tuple[Status, bool | None]:
        """Closure verdict and whether the evidence rule was met (None: nobody could tell).

        A closure is rejected only for what pmsync knows: a broken owner rule, or evidence
        that is missing or refuted (an unmerged pull request). Evidence that nobody can verify
        is what ``closure.evidence.unverifiable`` says (accept, flag or reject); evidence whose
        look-up failed this cycle leaves the closure as it is, to be judged next cycle.
        """
        closure = self.closure
        if item.resolution in closure.exempt_resolutions:
            return Status.CLOSED_EXEMPT, None
        owner = self.owner_problem(item)
        problems = [owner] if owner is not None else []
        judgement = self.evidence_problem(item)
        outcome = judgement.outcome if judgement is not None else EvidenceOutcome.MET
        evidence_reasons = list(judgement.reasons) if judgement is not None else []
        policy = closure.evidence.unverifiable
        if outcome is EvidenceOutcome.UNVERIFIABLE and policy == Unverifiable.REJECT:
            outcome = EvidenceOutcome.NOT_MET
        evidence_ok = {EvidenceOutcome.MET: True, EvidenceOutcome.NOT_MET: False}.get(outcome)
        if outcome is EvidenceOutcome.NOT_MET:
            findings.extend(evidence_reasons)
            problems.extend(evidence_reasons)
        if problems:
            status = self.reject(item, deadline, days, problems, findings, desired, comments)
            return status, evidence_ok
        findings.extend(evidence_reasons)
        reason = "; ".join(r.message for r in evidence_reasons)
        if outcome is EvidenceOutcome.PENDING:
            # Keep the closure labels as they are: nothing is decided until someone could look.
            desired.update(
                item.labels & {closure.violation_label, closure.evidence.unverified_label}
            )
            findings.append(Finding("closure.pending", f"closure not judged yet: {reason}"))
            return Status.CLOSED_PENDING, None
        if outcome is EvidenceOutcome.UNVERIFIABLE and policy == Unverifiable.FLAG:
            desired.add(closure.evidence.unverified_label)
            findings.append(Finding("closure.flagged", f"closure kept but flagged: {reason}"))
            return Status.CLOSED_FLAGGED, None
        if outcome is EvidenceOutcome.UNVERIFIABLE:
            findings.append(
                Finding("closure.accepted", f"closure criteria met; accepted unverified: {reason}")
            )
            return Status.CLOSED_ACCEPTED, None
        findings.extend(_ACCEPTED)
        return Status.CLOSED_ACCEPTED, evidence_ok

    def reject(
        self,
        item: ActionItem,
        deadline: date | None,
        days: int | None,
        problems: list[Finding],
        findings: list[Finding],
        desired: set[str],
        comments: list[DesiredComment],
    ) -> Status:
        """Record a rejected closure: its reasons in words, the label and the one comment."""
        closure = self.closure
        reason = "; ".join(p.message for p in problems)
        findings.append(Finding("closure.rejected", f"closure criteria not met: {reason}"))
        assert item.closed_at is not None
        stamp = item.closed_at.strftime("%Y%m%dT%H%M%SZ")
        action = closure.on_violation
        # Reopen: the closed state itself anchors the comment (reopened items are not judged).
        # Label: the violation label does. Comment only: the marker alone does.
        anchor = closure.violation_label if action is ViolationAction.LABEL else None
        if action is not ViolationAction.COMMENT:
            desired.add(closure.violation_label)
        comments.append(
            DesiredComment(
                closure.comment,
                f"pmsync:closure-rejected:{stamp}",
                anchor,
                "closure",
                item,
                deadline,
                days,
                ("owner", "sponsor"),
                self.fallbacks,
                first_known_only=True,
                extra=(("reason", reason),),
            )
        )
        return Status.CLOSED_REJECTED


def evaluate(items: Iterable[ActionItem], policy: Policy, now: datetime) -> list[Assessment]:
    """Assess every item against the policy at ``now`` (collector paused: see gcpause)."""
    evaluator = Evaluator(policy, now)
    with gc_paused():
        return [evaluator.assess(item) for item in items]
