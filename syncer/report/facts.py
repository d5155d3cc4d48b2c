"""What the report needs to know about each item, computed once per build.

Every section reads the same ``Fact`` per item (its assessment plus the dates, weights and
flags the history, roadmap and KPIs use), so an item's severity weight, counted closure and
evidence are decided in one place. Exempt items have no fact and appear nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple

from syncer.core.evaluate import Assessment, Status
from syncer.core.evidence_judge import judge_for
from syncer.core.model import ActionItem, Severity
from syncer.core.policy import Policy
from syncer.report.model import RISK_WEIGHTS

CRITICAL = frozenset({Severity.SEV1, Severity.SEV2})


class Fact(NamedTuple):
    """What the history needs from one item, computed once."""

    assessment: Assessment
    created: datetime
    closed: datetime | None
    deadline: date | None
    weight: float
    critical: bool
    severity: str
    one_owner: bool
    counted_close: bool  # closed as done (not won't-do/duplicate) and not rejected
    close_attempt: datetime | None  # closed as done, accepted or not (for the evidence KPI)
    measurable: bool


def measurable_evidence(item: ActionItem, policy: Policy) -> tuple[int, int]:
    """(links that count as measurable evidence under the policy, all evidence links)."""
    return judge_for(policy.closure.evidence).good(item), len(item.evidence)


def item_facts(assessments: Iterable[Assessment], policy: Policy) -> list[Fact]:
    """One fact per assessed item that is not exempt."""
    exempt_resolutions = frozenset(policy.closure.exempt_resolutions)
    min_links = policy.closure.evidence.min_links
    facts: list[Fact] = []
    for a in assessments:
        if a.status is Status.EXEMPT:
            continue
        item = a.item
        # A closure about to be undone by a reopen never counted as closed.
        closed = None if item.is_open or a.reopen else (item.closed_at or item.updated_at)
        attempt = item.closed_at if item.resolution not in exempt_resolutions else None
        good, _ = measurable_evidence(item, policy)
        facts.append(
            Fact(
                a,
                item.created_at,
                closed,
                a.deadline,
                RISK_WEIGHTS[item.severity.value],
                item.severity in CRITICAL,
                item.severity.value,
                sum(o.accountable for o in item.owners) == 1,
                closed is not None
                and item.resolution not in exempt_resolutions
                and a.status is not Status.CLOSED_REJECTED,
                None if item.is_open else attempt,
                good >= min_links,
            )
        )
    return facts


def open_facts(facts: Sequence[Fact]) -> list[Fact]:
    """The facts of items open now, counting those about to be reopened."""
    return [f for f in facts if f.assessment.item.is_open or f.assessment.reopen]


def tier_name(policy: Policy, tier: int) -> str:
    """The name of escalation tier ``tier`` (1-based); empty when the policy has no such tier."""
    tiers = policy.escalation.tiers
    return tiers[tier - 1].name if 0 < tier <= len(tiers) else ""
