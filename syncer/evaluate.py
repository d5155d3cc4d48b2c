"""Rules: from items, the policy and ``now`` to what each item's state should be.

``evaluate`` is pure and reads no clock. For every item it returns an ``Assessment``: its
status, deadline, findings, the pmsync-managed labels it should carry and the comments it
should have received. It says nothing about what to write; ``plan`` diffs this desired state
against what the tracker shows. Each rule is a small function so it can be tested alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from syncer.deadlines import DeadlineCalendar
from syncer.messages import Message
from syncer.model import ActionItem, EvidenceKind, Person, Priority, Severity, State, Waiver
from syncer.policy import OwnerRule, Policy, Tier, ViolationAction
from syncer.templates import first_known, render_template, resolve_mentions


class Status(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    NO_DEADLINE = "no_deadline"
    WAIVED = "waived"
    PAUSED = "paused"
    EXEMPT = "exempt"
    CLOSED_ACCEPTED = "closed_accepted"
    CLOSED_REJECTED = "closed_rejected"
    CLOSED_EXEMPT = "closed_exempt"
    CLOSED_UNJUDGED = "closed_unjudged"


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule's verdict on one item, in words (e.g. ``owner.missing``)."""

    rule: str
    message: str


@dataclass(frozen=True, slots=True)
class DesiredComment:
    """A comment the item should have; ``anchor`` is the label that records it was posted."""

    message: Message
    anchor: str | None
    rule: str


@dataclass(frozen=True, slots=True)
class Assessment:
    """Everything the rules concluded about one item."""

    item: ActionItem
    status: Status
    deadline: date | None
    deadline_source: str
    days_overdue: int | None
    tier: int
    findings: tuple[Finding, ...]
    desired_labels: frozenset[str]
    comments: tuple[DesiredComment, ...]
    reopen: bool
    evidence_ok: bool | None
    waiver: Waiver | None


_NONE: tuple[Finding, ...] = ()
_NO_COMMENTS: tuple[DesiredComment, ...] = ()
_NO_LABELS: frozenset[str] = frozenset()


class Evaluator:
    """The rules of one policy, with their caches, applied at one ``now``."""

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
        self.tiers: tuple[Tier, ...] = tuple(policy.escalation.tiers)
        self.uses_business_tiers = any(t.after.business for t in self.tiers)
        self.check_closed_since = now - policy.closure.check_closed_within.as_timedelta()
        evidence = policy.closure.evidence
        self.evidence_priorities = frozenset(evidence.required_for)
        self.measurable = frozenset(evidence.measurable_kinds)

    # ----- small rules -------------------------------------------------------------------
    def waiver_of(self, item: ActionItem) -> Waiver | None:
        entry = self.waivers.get(item.ref.key)
        if entry is not None:
            return Waiver(until=entry.until, approver=entry.approver, reason=entry.reason)
        return item.waiver

    def owner_problem(self, item: ActionItem) -> Finding | None:
        rule = self.closure.owner_rule(item.priority)
        count = len(item.owners)
        if rule is OwnerRule.EXACTLY_ONE and count != 1:
            if count == 0:
                return Finding("owner.missing", "exactly one accountable owner (it has none)")
            return Finding("owner.multiple", f"exactly one accountable owner (it has {count})")
        if rule is OwnerRule.AT_LEAST_ONE and count == 0:
            return Finding("owner.missing", "an accountable owner (it has none)")
        return None

    def evidence_problem(self, item: ActionItem) -> Finding | None:
        if item.priority not in self.evidence_priorities:
            return None
        rule = self.closure.evidence
        good = 0
        for evidence in item.evidence:
            if evidence.kind not in self.measurable:
                continue
            unmerged = evidence.kind is EvidenceKind.PULL_REQUEST and evidence.verified is not True
            if unmerged and rule.pull_requests_must_be_merged:
                continue
            good += 1
        if good >= rule.min_links:
            return None
        kinds = ", ".join(k.value.replace("_", " ") for k in rule.measurable_kinds)
        if rule.min_links == 1:
            return Finding("evidence.missing", f"measurable completion evidence (one of: {kinds})")
        return Finding(
            "evidence.missing",
            f"{rule.min_links} measurable evidence links (one of: {kinds}); it has {good}",
        )

    def data_problems(self, item: ActionItem) -> list[Finding]:
        found = [Finding("data.problem", p) for p in item.data_problems]
        if item.priority is Priority.UNKNOWN:
            found.append(Finding("data.unknown_priority", "priority is unknown"))
        if item.severity is Severity.UNKNOWN:
            found.append(Finding("data.unknown_severity", "incident severity is unknown"))
        return found

    def overdue_for(self, tier: Tier, deadline: date, days_overdue: int) -> bool:
        if tier.after.business:
            return self.calendar.business_days_between(deadline, self.today) >= tier.after.days
        return days_overdue >= tier.after.days

    def desired_tier(self, item: ActionItem, deadline: date, days_overdue: int) -> int:
        reached = 0
        for index, tier in enumerate(self.tiers, start=1):
            if tier.priorities is not None and item.priority not in tier.priorities:
                continue
            if self.overdue_for(tier, deadline, days_overdue):
                reached = index
        return reached

    # ----- message building --------------------------------------------------------------
    def values(
        self, item: ActionItem, deadline: date | None, days: int | None, **extra: str
    ) -> dict[str, str]:
        owner = item.owners[0].handle if len(item.owners) == 1 else ""
        return {
            "title": item.title,
            "key": item.ref.key,
            "url": item.url,
            "due": deadline.isoformat() if deadline else "no deadline",
            "days_overdue": str(days if days is not None and days > 0 else 0),
            "priority": item.priority.value,
            "severity": item.severity.value,
            "owner": owner,
            "incident": item.incident or "",
            **extra,
        }

    def comment(
        self,
        template: str,
        marker: str,
        anchor: str | None,
        rule: str,
        mentions: tuple[Person, ...],
        values: dict[str, str],
    ) -> DesiredComment:
        return DesiredComment(render_template(template, marker, values, mentions), anchor, rule)

    # ----- the item ----------------------------------------------------------------------
    def assess(self, item: ActionItem) -> Assessment:
        labels = item.labels
        if not labels.isdisjoint(self.exempt):
            return Assessment(
                item,
                Status.EXEMPT,
                None,
                "none",
                None,
                0,
                _NONE,
                _NO_LABELS,
                _NO_COMMENTS,
                False,
                None,
                None,
            )
        findings: list[Finding] = []
        desired: set[str] = set()
        comments: list[DesiredComment] = []
        reopen = False
        evidence_ok: bool | None = None
        deadline, source = self.calendar.deadline(item)
        days = (self.today - deadline).days if deadline is not None else None
        closure = self.closure

        if item.state is State.CLOSED:
            status, evidence_ok = self.judge_closure(
                item, deadline, days, findings, desired, comments
            )
            if (
                status is not Status.CLOSED_REJECTED
                or closure.on_violation is not ViolationAction.REOPEN
            ):
                return Assessment(
                    item,
                    status,
                    deadline,
                    source,
                    days,
                    0,
                    tuple(findings),
                    frozenset(desired),
                    tuple(comments),
                    False,
                    evidence_ok,
                    None,
                )
            # Rejected and to be reopened: judge it as the open item it is about to be, so
            # that one plan brings it to its final state.
            reopen = True

        if closure.violation_label in labels:
            desired.add(closure.violation_label)  # sticky until a closure is accepted
        data = self.data_problems(item)
        if data:
            findings.extend(data)
            if closure.triage_label:
                desired.add(closure.triage_label)
        owner = self.owner_problem(item)
        if owner is not None:
            findings.append(owner)
            desired.add(closure.needs_owner_label)
            mentions = first_known(item, closure.owner_mention, self.ladder.fallback_mention)
            comments.append(
                self.comment(
                    closure.owner_comment,
                    f"pmsync:{owner.rule}",
                    closure.needs_owner_label,
                    owner.rule,
                    mentions,
                    self.values(item, deadline, days, reason=owner.message),
                )
            )

        waiver = self.waiver_of(item)
        if waiver is not None and waiver.until >= self.today:
            desired.add(self.policy.waivers.label)
            findings.append(
                Finding("waiver.active", f"waived until {waiver.until} by {waiver.approver}")
            )
            status = Status.WAIVED
            tier = 0
        elif not labels.isdisjoint(self.pause):
            findings.append(Finding("clock.paused", "SLO clock paused by label"))
            status, tier = Status.PAUSED, 0
        else:
            if waiver is not None:
                findings.append(Finding("waiver.lapsed", f"waiver lapsed on {waiver.until}"))
            status, tier = self.schedule_state(item, deadline, days, findings, desired, comments)
        return Assessment(
            item,
            status,
            deadline,
            source,
            days,
            tier,
            tuple(findings) or _NONE,
            frozenset(desired) if desired else _NO_LABELS,
            tuple(comments) or _NO_COMMENTS,
            reopen,
            evidence_ok,
            waiver,
        )

    def schedule_state(
        self,
        item: ActionItem,
        deadline: date | None,
        days: int | None,
        findings: list[Finding],
        desired: set[str],
        comments: list[DesiredComment],
    ) -> tuple[Status, int]:
        if deadline is None or days is None:
            return Status.NO_DEADLINE, 0
        ladder = self.ladder
        if days > 0:
            tier = self.desired_tier(item, deadline, days)
            findings.append(Finding("deadline.overdue", f"{days} days overdue (due {deadline})"))
            if tier:
                rung = self.tiers[tier - 1]
                desired.add(rung.label)
                desired.update(rung.extra_labels)
                mentions = resolve_mentions(item, rung.mention, ladder.fallback_mention)
                marker = f"pmsync:escalation:tier-{tier}:due-{deadline.isoformat()}"
                comments.append(
                    self.comment(
                        rung.comment,
                        marker,
                        rung.label,
                        "escalation",
                        mentions,
                        self.values(item, deadline, days, tier=rung.name),
                    )
                )
            return Status.OVERDUE, tier
        reminder = ladder.reminder
        if reminder is not None and -days <= reminder.before.days:
            desired.add(reminder.label)
            mentions = resolve_mentions(item, reminder.mention, ladder.fallback_mention)
            comments.append(
                self.comment(
                    reminder.comment,
                    f"pmsync:reminder:due-{deadline.isoformat()}",
                    reminder.label,
                    "reminder",
                    mentions,
                    self.values(item, deadline, days),
                )
            )
            return Status.DUE_SOON, 0
        return Status.ON_TRACK, 0

    def judge_closure(
        self,
        item: ActionItem,
        deadline: date | None,
        days: int | None,
        findings: list[Finding],
        desired: set[str],
        comments: list[DesiredComment],
    ) -> tuple[Status, bool | None]:
        """Closure verdict and whether the evidence rule was met."""
        closure = self.closure
        if item.closed_at is None or item.closed_at < self.check_closed_since:
            return Status.CLOSED_UNJUDGED, None
        if item.resolution in closure.exempt_resolutions:
            return Status.CLOSED_EXEMPT, None
        problems = [p for p in (self.owner_problem(item), self.evidence_problem(item)) if p]
        evidence_ok = not any(p.rule.startswith("evidence") for p in problems)
        if not problems:
            findings.append(Finding("closure.accepted", "closure criteria met"))
            return Status.CLOSED_ACCEPTED, evidence_ok
        reason = "; ".join(p.message for p in problems)
        findings.append(Finding("closure.rejected", f"closed without {reason}"))
        stamp = item.closed_at.strftime("%Y%m%dT%H%M%SZ")
        action = closure.on_violation
        anchor = None if action is ViolationAction.COMMENT else closure.violation_label
        if action is not ViolationAction.COMMENT:
            desired.add(closure.violation_label)
        mentions = resolve_mentions(item, ["owner"], ["sponsor", *self.ladder.fallback_mention])
        if action is ViolationAction.REOPEN:
            anchor = None  # the closed state itself anchors it: reopened items are not judged
        comments.append(
            self.comment(
                closure.comment,
                f"pmsync:closure-rejected:{stamp}",
                anchor,
                "closure",
                mentions,
                self.values(item, deadline, days, reason=reason),
            )
        )
        return Status.CLOSED_REJECTED, evidence_ok


def evaluate(items: Iterable[ActionItem], policy: Policy, now: datetime) -> list[Assessment]:
    """Assess every item against the policy at ``now``."""
    evaluator = Evaluator(policy, now)
    return [evaluator.assess(item) for item in items]
