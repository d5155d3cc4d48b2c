"""A small builder for action items, so each test states only what matters to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from syncer.core.config_loader import load_model_file
from syncer.core.model import (
    ActionItem,
    Evidence,
    EvidenceKind,
    ItemRef,
    Person,
    Priority,
    Resolution,
    Severity,
    State,
    Verification,
)
from syncer.core.policy import Policy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
EXAMPLE_POLICY = REPO / "config" / "pmsync.example.yaml"


def example_policy(**changes: Any) -> Policy:
    policy = load_model_file(Policy, EXAMPLE_POLICY)
    return policy.model_copy(update=changes) if changes else policy


def person(handle: str) -> Person:
    return Person(handle=handle)


def merged_pr(url: str = "https://github.com/acme/api/pull/12") -> Evidence:
    return Evidence(kind=EvidenceKind.PULL_REQUEST, url=url, verification=Verification.CONFIRMED)


def item(
    key: str = "acme/api#1",
    *,
    tracker: str = "github",
    priority: Priority = Priority.P1,
    severity: Severity = Severity.SEV2,
    owners: tuple[str, ...] = ("alice",),
    age_days: int = 5,
    due: date | None = None,
    closed_days_ago: int | None = None,
    resolution: Resolution = Resolution.DONE,
    evidence: tuple[Evidence, ...] = (),
    labels: frozenset[str] = frozenset(),
    sponsor: str | None = "sam",
    executive: str | None = "erin",
    **extra: Any,
) -> ActionItem:
    created = NOW - timedelta(days=age_days)
    closed = NOW - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    return ActionItem(
        ref=ItemRef(tracker=tracker, key=key),
        url=f"https://github.com/{key.replace('#', '/issues/')}",
        title=f"Action {key}",
        state=State.CLOSED if closed else State.OPEN,
        resolution=resolution if closed else None,
        severity=severity,
        priority=priority,
        owners=tuple(person(o) for o in owners),
        evidence=evidence,
        due=due,
        sponsor=person(sponsor) if sponsor else None,
        executive_sponsor=person(executive) if executive else None,
        incident="INC-1",
        labels=labels,
        created_at=created,
        updated_at=closed or created,
        closed_at=closed,
        **extra,
    )
