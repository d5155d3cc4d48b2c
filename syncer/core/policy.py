"""The policy file: what "honest" means for a team's action items.

Every section is a nested pydantic model with ``extra="forbid"`` and a description on every
field, so a misspelt key is an error with a did-you-mean (see ``syncer.core.config_loader``), and
the configuration reference in the README is generated from these descriptions.

The larger sections live in their own modules (``policy_closure``, ``policy_escalation``,
``policy_operations``; the checks they share in ``policy_values``); this one assembles them
into ``Policy`` with the small sections, and its ``__all__`` names every section model, so
``syncer.core.policy`` stays the one place the many tests and tools import the models from.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from syncer.core.durations import SpanField, parse_span
from syncer.core.fields import WEEKDAYS, TimezoneName, Weekday
from syncer.core.model import Person, Priority, Severity
from syncer.core.policy_base import ROLES, FallbackMention, Strict, github_person
from syncer.core.policy_closure import (
    Closure,
    EvidenceRule,
    LinkRule,
    OwnerRule,
    Unverifiable,
    ViolationAction,
)
from syncer.core.policy_escalation import Escalation, Reminder, Tier
from syncer.core.policy_operations import (
    DaemonSchedule,
    Operations,
    Report,
    ReportFormat,
    ReportSchedule,
)
from syncer.core.policy_values import MentionTarget, check_mention_target, check_template, tier_slug
from syncer.core.templates import Fallbacks, RolePeople
from syncer.core.tracker_config import Trackers

__all__ = [
    "WEEKDAYS",
    "Closure",
    "DaemonSchedule",
    "Deadlines",
    "Escalation",
    "EvidenceRule",
    "LinkRule",
    "MentionTarget",
    "Operations",
    "OwnerRule",
    "Pause",
    "Policy",
    "Reminder",
    "Report",
    "ReportFormat",
    "ReportSchedule",
    "Scope",
    "Tier",
    "Unverifiable",
    "ViolationAction",
    "WaiverEntry",
    "Waivers",
    "check_mention_target",
    "check_template",
    "tier_slug",
]


class Scope(Strict):
    """Which items pmsync governs, beyond each tracker's own query."""

    exempt_labels: list[str] = Field(
        default_factory=lambda: ["pmsync/exempt"],
        description="Items with any of these labels are ignored (pmsync's own labels removed).",
    )


class Deadlines(Strict):
    """How the deadline of an item is computed when the tracker has no due date."""

    by_priority: dict[Priority, SpanField] = Field(
        default_factory=lambda: {
            Priority.P0: parse_span("14d"),
            Priority.P1: parse_span("30d"),
            Priority.P2: parse_span("60d"),
            Priority.P3: parse_span("90d"),
        },
        description="SLO per priority, e.g. P0: 14d.",
    )
    by_severity: dict[Severity, SpanField] = Field(
        default_factory=dict, description="SLO per incident severity, e.g. SEV-1: 15d."
    )
    combine: Literal["strictest", "priority", "severity"] = Field(
        default="strictest",
        description="When both apply: the earlier deadline, or which one wins.",
    )
    default: SpanField | None = Field(
        default=parse_span("60d"),
        description="SLO when neither priority nor severity is known; null = no deadline.",
    )
    count_from: Literal["created", "incident"] = Field(
        default="created",
        description="Start the clock at item creation or at the incident date (if known).",
    )
    timezone: TimezoneName = Field(
        default="UTC", description="IANA timezone in which days are counted."
    )
    business_days: list[Weekday] = Field(
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"],
        description="Weekdays that count for business-day (bd) durations.",
    )
    holidays: list[date] = Field(
        default_factory=list, description="Dates that never count as business days."
    )
    tracker_due_date_wins: bool = Field(
        default=True, description="Use the tracker's own due date when the item has one."
    )


class WaiverEntry(Strict):
    """A waiver approved in the policy file (reviewed like any other change)."""

    item: str = Field(description="Tracker key: owner/repo#12 or REL-42.")
    until: date = Field(description="Last day of the waiver (inclusive).")
    approver: str = Field(min_length=1, description="Who approved it.")
    reason: str = Field(default="", description="Why.")


class Waivers(Strict):
    """Waivers stop escalation until a date; it resumes when they lapse."""

    label: str = Field(default="pmsync/waived", description="Label while a waiver is active.")
    entries: list[WaiverEntry] = Field(default_factory=list, description="Approved waivers.")


class Pause(Strict):
    """Labels that pause the SLO clock (e.g. blocked on a vendor)."""

    labels: list[str] = Field(
        default_factory=lambda: ["blocked-external"],
        description="While any is present: no escalation; the item is still reported.",
    )


class Policy(Strict):
    """The whole policy file."""

    version: str = Field(description="Policy version, recorded with every decision.")
    trackers: Trackers = Field(default_factory=Trackers, description="Where items live.")
    scope: Scope = Field(default_factory=Scope, description="Exemptions.")
    deadlines: Deadlines = Field(default_factory=Deadlines, description="SLOs.")
    closure: Closure = Field(default_factory=Closure, description="Closure criteria.")
    escalation: Escalation = Field(default_factory=Escalation, description="Escalation ladder.")
    waivers: Waivers = Field(default_factory=Waivers, description="Waivers.")
    pause: Pause = Field(default_factory=Pause, description="Paused clocks.")
    operations: Operations = Field(default_factory=Operations, description="Budget, shadow.")
    daemon: DaemonSchedule = Field(default_factory=DaemonSchedule, description="Daemon jobs.")
    report: Report = Field(default_factory=Report, description="Weekly review and log.")

    def config_warnings(self) -> list[tuple[tuple[str | int, ...], str]]:
        """(key path, message) for settings that work but should change."""
        found: list[tuple[tuple[str | int, ...], str]] = []
        if self.escalation.fallback_mention:
            found.append(
                (
                    ("escalation", "fallback_mention"),
                    "deprecated: it applies only to GitHub trackers without a fallback of their "
                    "own (never to Jira); move it to trackers.github[].fallback_mention",
                )
            )
            for index, jira in enumerate(self.trackers.jira):
                if not jira.fallback_mention.is_set:
                    found.append(
                        (
                            ("trackers", "jira", index),
                            f"Jira tracker {jira.name!r} has no fallback_mention: a role "
                            "nobody holds on its items names nobody (set account ids on Cloud, "
                            "user names on Data Center)",
                        )
                    )
        found.extend(self._report_warnings())
        return found

    def report_target(self) -> str | None:
        """The tracker the weekly review goes to: ``report.tracker``, else the first one
        configured (GitHub before Jira); None without any tracker."""
        if self.report.tracker:
            return self.report.tracker
        names = [g.name for g in self.trackers.github] + [j.name for j in self.trackers.jira]
        return names[0] if names else None

    def _report_warnings(self) -> list[tuple[tuple[str | int, ...], str]]:
        """A review that cannot be published is found at the weekly moment, days after the
        start; say it when the policy is checked instead."""
        target = self.report_target()
        if not self.report.enabled or target is None:
            return []
        names = [g.name for g in self.trackers.github] + [j.name for j in self.trackers.jira]
        if target not in names:
            return [
                (
                    ("report", "tracker"),
                    f"{target!r} names no tracker (known: {', '.join(names)}): the weekly "
                    "review cannot be published",
                )
            ]
        for index, jira in enumerate(self.trackers.jira):
            if jira.name == target and not (self.report.project or jira.project):
                return [
                    (
                        ("trackers", "jira", index),
                        f"the weekly review and the operating log go to Jira tracker "
                        f"{jira.name!r}, which names no project to create them in: set "
                        "project: KEY (or report.project), or report.enabled: false",
                    )
                ]
        return []

    def mention_fallbacks(self) -> Fallbacks:
        """Who stands in for a role that names nobody, per tracker, as people.

        A tracker's own ``fallback_mention`` wins. A GitHub tracker without one, and items
        of trackers this policy does not configure (an items file), use the deprecated
        ``escalation.fallback_mention``; a Jira tracker never does: GitHub handles are no
        Jira accounts.
        """
        legacy = _role_people(
            FallbackMention(default=self.escalation.fallback_mention), github_person
        )
        by_tracker: dict[str, RolePeople] = {}
        for github in self.trackers.github:
            own = github.fallback_mention
            by_tracker[github.name] = _role_people(own, github_person) if own.is_set else legacy
        for jira in self.trackers.jira:
            by_tracker[jira.name] = _role_people(
                jira.fallback_mention, lambda handle: Person(handle=handle)
            )
        return Fallbacks(by_tracker=by_tracker, default=legacy)

    @field_validator("daemon")
    @classmethod
    def _lease_fits_margin(cls, daemon: DaemonSchedule, info: ValidationInfo) -> DaemonSchedule:
        trackers = info.data.get("trackers")
        if isinstance(trackers, Trackers):
            problem = daemon.margin_problem(trackers.longest_timeout_s)
            if problem is not None:
                raise ValueError(problem)
        return daemon

    @property
    def write_safety_margin_s(self) -> float:
        """Seconds of lease a leader must have left to send a write (see ``LeaseFence``)."""
        return self.daemon.safety_margin_s(self.trackers.longest_timeout_s)

    @property
    def managed_labels(self) -> frozenset[str]:
        """Every label pmsync adds and removes by itself."""
        labels = set(self.escalation.managed_labels)
        labels.update({self.waivers.label, self.closure.violation_label})
        labels.add(self.closure.needs_owner_label)
        labels.add(self.closure.evidence.unverified_label)
        if self.closure.triage_label:
            labels.add(self.closure.triage_label)
        return frozenset(labels)


def _role_people(config: FallbackMention, person: Callable[[str], Person]) -> RolePeople:
    return {role: tuple(person(h) for h in config.for_role(role)) for role in ROLES}
