"""What was decided and who was asked during the review period: closures, waivers, escalations.

The ledger is the record: each decision or escalation comment pmsync made in the period is
reported once, with the inputs it was made on. What the ledger lacks (a first run, a rebuilt
store) is derived from the items' current state: closures and waiver ends that fell in the
period, and the escalation tiers items reached in it (those rows say ``source="derived"``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo

from syncer.core.evaluate import Assessment
from syncer.core.ledger import LedgerEntry
from syncer.core.policy import Policy
from syncer.core.templates import resolve_mentions
from syncer.report.facts import Fact, tier_name
from syncer.report.model import Decision, DecisionKind, EscalationRow
from syncer.report.people import Names, name_of
from syncer.report.weeks import local_day

_LEGACY_TIER_RE = re.compile(r"pmsync:escalation:tier-(\d+):")
DECISION_KINDS: dict[str, DecisionKind] = {
    "closure_accepted": "closure_accepted",
    "closure_rejected": "closure_rejected",
    "closure_flagged": "closure_flagged",
    "waiver_granted": "waiver_granted",
    "waiver_lapsed": "waiver_lapsed",
}

# Closure findings and the decision each one is, for items the ledger does not know yet.
_CLOSURE_FINDINGS: dict[str, DecisionKind] = {
    "closure.accepted": "closure_accepted",
    "closure.rejected": "closure_rejected",
    "closure.flagged": "closure_flagged",
}


def _closed_day(inputs: Mapping[str, object], tz: tzinfo) -> date | None:
    """The local day a judged item was closed, as its decision entry recorded it: the review
    lists the week's decisions, and a first run judges closures made days before."""
    closed = inputs.get("closed_at")
    if not isinstance(closed, str) or not closed:
        return None
    try:
        return datetime.fromisoformat(closed).astimezone(tz).date()
    except ValueError:
        return None


def decisions(
    assessments_by_key: Mapping[tuple[str, str], Assessment],
    facts: Sequence[Fact],
    entries: Sequence[LedgerEntry],
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> tuple[Decision, ...]:
    """Closures accepted or rejected and waivers granted or lapsed in ``[start, end)``."""
    found: dict[tuple[str, str, str], Decision] = {}
    reopened = {
        (e.tracker, e.item_key) for e in entries if e.kind == "reopen" and e.outcome == "done"
    }

    def describe(tracker: str, key: str) -> tuple[str, str]:
        a = assessments_by_key.get((tracker, key))
        return (a.item.url, a.item.title) if a is not None else ("", "")

    for e in entries:
        kind = DECISION_KINDS.get(e.kind)
        if kind is None:
            continue
        slot = (kind, e.tracker, e.item_key)
        if slot in found:
            continue
        url, title = describe(e.tracker, e.item_key)
        inputs = e.inputs
        until = None
        if kind.startswith("waiver"):
            match = re.search(r"\d{4}-\d{2}-\d{2}", e.detail)
            until = date.fromisoformat(match.group(0)) if match else None
        found[slot] = Decision(
            kind=kind,
            tracker=e.tracker,
            key=e.item_key,
            url=url,
            title=title,
            day=(_closed_day(inputs, tz) if kind.startswith("closure") else None)
            or e.at.astimezone(tz).date(),
            detail=e.detail,
            evidence=tuple(str(x) for x in inputs.get("evidence") or () if x),
            approver=str(inputs.get("approver") or ""),
            until=until,
            reopened=(e.tracker, e.item_key) in reopened,
        )
    # Items judged now whose closure or waiver end fell in the period, even without a ledger.
    for f in facts:
        a = f.assessment
        item = a.item
        tracker, key = item.ref.tracker, item.ref.key
        for finding in a.findings:
            kind = _CLOSURE_FINDINGS.get(finding.rule)
            if kind is not None:
                if item.closed_at is None or not (start <= item.closed_at < end):
                    continue
                if (kind, tracker, key) in found:
                    continue
                found[(kind, tracker, key)] = Decision(
                    kind=kind,
                    tracker=tracker,
                    key=key,
                    url=item.url,
                    title=item.title,
                    day=local_day(item.closed_at, tz),
                    detail=finding.message,
                    evidence=tuple(e.url or e.text for e in item.evidence if e.url or e.text),
                    reopened=a.reopen or (tracker, key) in reopened,
                )
            elif finding.rule == "waiver.lapsed" and a.waiver is not None:
                lapsed_on = a.waiver.until + timedelta(days=1)
                first, last = period_days(start, end, tz)
                if not (first <= lapsed_on <= last) or ("waiver_lapsed", tracker, key) in found:
                    continue
                found[("waiver_lapsed", tracker, key)] = Decision(
                    kind="waiver_lapsed",
                    tracker=tracker,
                    key=key,
                    url=item.url,
                    title=item.title,
                    day=lapsed_on,
                    detail=finding.message,
                    approver=a.waiver.approver,
                    until=a.waiver.until,
                )
    order = {k: i for i, k in enumerate(DECISION_KINDS)}
    return tuple(
        sorted(
            found.values(),
            key=lambda d: (order[d.kind], d.day or date.min, d.tracker, d.key),
        )
    )


def period_days(start: datetime, end: datetime, tz: tzinfo) -> tuple[date, date]:
    """The first and last local day of the half-open span ``[start, end)``: a review built
    today includes today, a finished week ends on its Sunday."""
    last = (end - timedelta(microseconds=1)) if end > start else end
    return start.astimezone(tz).date(), last.astimezone(tz).date()


def reached_on(deadline: date, after_days: int, business: bool, policy: Policy) -> date:
    """The day an item reached a tier: its deadline plus the tier's delay, and never before
    the first day it was overdue (the day after its deadline)."""
    if not business:
        return deadline + timedelta(days=max(after_days, 1))
    workdays = set(policy.deadlines.business_days)
    holidays = set(policy.deadlines.holidays)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    day, left = deadline, after_days
    while left > 0:
        day += timedelta(days=1)
        if names[day.weekday()] in workdays and day not in holidays:
            left -= 1
    return max(day, deadline + timedelta(days=1))


def _ledger_tier(inputs: Mapping[str, object], policy: Policy) -> tuple[str, str] | None:
    """(tier id, tier name) of a ledger comment entry.

    Entries carry them as structured inputs. Entries written before tier ids lack them: their
    marker's ``tier-N`` is read as the escalation ladder reads legacy markers (the Nth id of
    ``escalation.legacy_tier_order``, else of the ladder now).
    """
    tier_id, name = inputs.get("tier_id"), inputs.get("tier_name")
    if isinstance(tier_id, str) and tier_id:
        return tier_id, name if isinstance(name, str) else ""
    match = _LEGACY_TIER_RE.search(str(inputs.get("marker", "")))
    if match is None:
        return None
    found = policy.escalation.legacy_tier(int(match.group(1)))
    if found is None:
        return None
    tier_id, tier = found
    return tier_id, tier.name if tier is not None else ""


def escalations(
    assessments_by_key: Mapping[tuple[str, str], Assessment],
    facts: Sequence[Fact],
    entries: Sequence[LedgerEntry],
    policy: Policy,
    start: datetime,
    end: datetime,
    tz: tzinfo,
    names: Names | None = None,
) -> tuple[EscalationRow, ...]:
    """Escalation tiers reached in ``[start, end)``: from the ledger, else derived.

    Who was asked is shown by display name (``names``, see ``syncer.report.people``). A
    derived row is only for an item that is open: a closure pmsync could not reopen was
    never escalated (the escalation comment waits for the reopen).
    """
    names = names or {}
    rows: dict[tuple[str, str, str], EscalationRow] = {}
    for e in entries:
        if e.kind != "comment" or e.rule != "escalation" or e.outcome != "done":
            continue
        tier = _ledger_tier(e.inputs, policy)
        if tier is None:
            continue
        tier_id, name = tier
        a = assessments_by_key.get((e.tracker, e.item_key))
        handles = tuple(str(m) for m in e.inputs.get("mentions") or ())
        rows.setdefault(
            (e.tracker, e.item_key, tier_id),
            EscalationRow(
                tracker=e.tracker,
                key=e.item_key,
                url=a.item.url if a else "",
                title=a.item.title if a else "",
                tier=policy.escalation.position(tier_id),
                tier_id=tier_id,
                tier_name=name or tier_name(policy, policy.escalation.position(tier_id)),
                asked=tuple(name_of(e.tracker, h, names) for h in handles),
                asked_handles=handles,
                day=e.at.astimezone(tz).date(),
                source="ledger",
            ),
        )
    logged = {(t, k) for t, k, _ in rows}
    first, last = period_days(start, end, tz)
    fallbacks = policy.mention_fallbacks()
    for f in facts:
        a = f.assessment
        item = a.item
        if a.tier == 0 or a.deadline is None or (item.ref.tracker, item.ref.key) in logged:
            continue
        if not item.is_open:
            continue
        for index in range(1, a.tier + 1):
            rung = policy.escalation.tiers[index - 1]
            day = reached_on(a.deadline, rung.after.days, rung.after.business, policy)
            if not (first <= day <= last):
                continue
            people = resolve_mentions(item, rung.mention, fallbacks)
            rows[(item.ref.tracker, item.ref.key, rung.id)] = EscalationRow(
                tracker=item.ref.tracker,
                key=item.ref.key,
                url=item.url,
                title=item.title,
                tier=index,
                tier_id=rung.id,
                tier_name=rung.name,
                asked=tuple(name_of(item.ref.tracker, p, names) for p in people),
                asked_handles=tuple(p.handle for p in people),
                day=day,
                source="derived",
            )
    return tuple(sorted(rows.values(), key=lambda r: (r.day, -r.tier, r.tracker, r.key)))
