"""The policy file: what "honest" means for a team's action items.

Every section is a nested pydantic model with ``extra="forbid"`` and a description on every
field, so a misspelt key is an error with a did-you-mean (see ``syncer.config_loader``), and
the configuration reference in the README is generated from these descriptions.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from syncer.durations import SpanField, parse_span
from syncer.fields import WEEKDAYS, TimezoneName, Weekday
from syncer.model import EvidenceKind, Person, Priority, Resolution, Severity
from syncer.policy_operations import (
    DaemonSchedule,
    Operations,
    Report,
    ReportFormat,
    ReportSchedule,
)
from syncer.templates import Fallbacks, RolePeople
from syncer.tracker_config import (
    ROLES,
    FallbackMention,
    Strict,
    Trackers,
    github_handle_problem,
    github_person,
)

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

TEMPLATE_FIELDS = frozenset(
    {
        "title",
        "key",
        "url",
        "due",
        "days_overdue",
        "tier",
        "mentions",
        "priority",
        "severity",
        "reason",
        "owner",
        "incident",
        "waiver_until",
        "approver",
    }
)


def check_template(text: str) -> str:
    """Reject placeholders the renderer does not know, with the list of known ones."""
    for _, name, _, _ in string.Formatter().parse(text):
        if name is not None and name not in TEMPLATE_FIELDS:
            known = ", ".join("{" + n + "}" for n in sorted(TEMPLATE_FIELDS))
            raise ValueError(f"unknown placeholder {{{name}}} (known: {known})")
    return text


_HANDLE = re.compile(r"^[\w.@+:-]+(?:/[\w.-]+)?$")
_TARGETS = f"{', '.join(ROLES)}, @handle, @org/team or team:org/team"


def check_mention_target(value: str) -> str:
    """Reject a mention target pmsync cannot resolve (``ownr``), with a did-you-mean."""
    if value in ROLES:
        return value
    if value.startswith("team:"):
        if "/" in value and _HANDLE.match(value.removeprefix("team:")):
            return value
        raise ValueError(f"{value!r} is not a team (write team:org/team-slug)")
    if value.startswith("@"):
        if _HANDLE.match(value[1:]):
            return value
        raise ValueError(f"{value!r} is not a handle (no spaces or punctuation)")
    close = difflib.get_close_matches(value, ROLES, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise ValueError(f"unknown mention target {value!r} ({hint}known: {_TARGETS})")


MentionTarget = Annotated[str, AfterValidator(check_mention_target)]
"""``owner``, ``sponsor``, ``executive_sponsor``, or a literal ``@handle`` / team."""

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LEGACY_ID = re.compile(r"^tier-\d+$")


def tier_slug(text: str) -> str:
    """``text`` in slug form: lower case, each run of other characters one ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _check_tier_id(value: str) -> str:
    if not _SLUG.match(value) or len(value) > 64:
        slug = tier_slug(value)[:64].strip("-")
        example = slug if slug and not _LEGACY_ID.match(slug) else "sponsor"
        raise ValueError(
            f"tier id {value!r} must be lower-case letters and digits joined by single hyphens "
            f"(at most 64), e.g. {example!r}"
        )
    if _LEGACY_ID.match(value):
        raise ValueError(
            f"tier id {value!r} is reserved: tier-N names the Nth tier in markers written "
            "before tier ids existed; choose a name such as 'sponsor'"
        )
    return value


TierId = Annotated[str, AfterValidator(_check_tier_id)]


class OwnerRule(StrEnum):
    EXACTLY_ONE = "exactly_one"
    AT_LEAST_ONE = "at_least_one"
    ANY = "any"


class ViolationAction(StrEnum):
    REOPEN = "reopen"
    LABEL = "label"
    COMMENT = "comment"


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


class Unverifiable(StrEnum):
    """What a closure whose evidence nobody could verify gets (see ``EvidenceRule``)."""

    ACCEPT = "accept"
    FLAG = "flag"
    REJECT = "reject"


def _pattern(value: str | None) -> str | None:
    """A regular expression, checked when the policy is loaded rather than on the first link."""
    if value is None:
        return None
    try:
        re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(
            f"not a regular expression: {exc} (put the pattern in single quotes in YAML and "
            "escape special characters such as . ( [ with a backslash)"
        ) from None
    return value


class LinkRule(Strict):
    """One rule that types evidence links: where its patterns match, the link is ``kind``.

    Rules are tried in order and the first match decides; ``closure.evidence.links`` come
    before pmsync's defaults. Both patterns are Python regular expressions, searched (not
    anchored unless they say ``^``/``$``) and case-insensitive; a missing one matches anything.
    """

    host: str | None = Field(
        default=None,
        description="Pattern searched in the link's host name, e.g. grafana\\.acme\\.com$; "
        "null = any host.",
    )
    path: str | None = Field(
        default=None,
        description="Pattern searched in the link's path with its ?query and #fragment, "
        "e.g. ^/d/; null = any path.",
    )
    kind: EvidenceKind = Field(
        description="What such a link is: pull_request, commit, dashboard, runbook, test_run, "
        "document or other."
    )

    @field_validator("host", "path")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return _pattern(value)

    @model_validator(mode="after")
    def _not_empty(self) -> LinkRule:
        if self.host is None and self.path is None:
            raise ValueError("a link rule needs a host or a path pattern (or both)")
        return self


class EvidenceRule(Strict):
    """What counts as measurable completion evidence, and how links are typed and verified."""

    required_for: list[Priority] = Field(
        default_factory=lambda: [Priority.P0, Priority.P1],
        description="Priorities whose closure needs evidence.",
    )
    measurable_kinds: list[EvidenceKind] = Field(
        default_factory=lambda: [
            EvidenceKind.PULL_REQUEST,
            EvidenceKind.COMMIT,
            EvidenceKind.DASHBOARD,
            EvidenceKind.TEST_RUN,
        ],
        description="Link kinds that count as measurable evidence.",
    )
    min_links: int = Field(default=1, ge=1, description="How many measurable links are needed.")
    pull_requests_must_be_merged: bool = Field(
        default=True,
        description="A linked pull request counts only once a GitHub connector has seen it merged.",
    )
    commits_must_exist: bool = Field(
        default=True,
        description="A linked commit counts only once a GitHub connector has seen it exist.",
    )
    links: list[LinkRule] = Field(
        default_factory=list,
        description="Your rules typing links by host and path, tried in order before the "
        "defaults; the first match decides.",
    )
    default_links: bool = Field(
        default=True,
        description="After your rules, apply pmsync's defaults (GitHub, GitLab, CI, dashboards, "
        "documents; see the README).",
    )
    unverifiable: Unverifiable = Field(
        default=Unverifiable.FLAG,
        description="A closure whose only evidence nobody can verify (no GitHub connector for "
        "the host, GitLab...): accept it, flag it (keep it closed, add unverified_label) or "
        "reject it.",
    )
    unverified_label: str = Field(
        default="pmsync/evidence-unverified",
        description="Label on closed items flagged because their evidence could not be verified.",
    )


class Closure(Strict):
    """Closure criteria, and what to do when a closed item misses them."""

    owners: dict[Priority, OwnerRule] = Field(
        default_factory=lambda: {
            Priority.P0: OwnerRule.EXACTLY_ONE,
            Priority.P1: OwnerRule.EXACTLY_ONE,
        },
        description="Owner rule per priority (exactly_one, at_least_one, any).",
    )
    default_owner_rule: OwnerRule = Field(
        default=OwnerRule.AT_LEAST_ONE, description="Owner rule for priorities not listed."
    )
    count_unassigned_owners: bool = Field(
        default=True,
        description="An owner named in the issue form's Owner section but not assigned counts "
        "(finding owner.unassigned, informational); false = only assignees count.",
    )
    evidence: EvidenceRule = Field(default_factory=EvidenceRule, description="Evidence rule.")
    exempt_resolutions: list[Resolution] = Field(
        default_factory=lambda: [Resolution.WONT_DO, Resolution.DUPLICATE],
        description="Closed with these resolutions: no evidence needed.",
    )
    on_violation: ViolationAction = Field(
        default=ViolationAction.REOPEN,
        description="reopen (with a comment and label), label (and comment) or comment only.",
    )
    violation_label: str = Field(
        default="pmsync/closure-rejected", description="Label on items whose closure failed."
    )
    check_closed_within: SpanField = Field(
        default=parse_span("30d"),
        description="Closures older than this are not judged again (first-install safety).",
    )
    comment: str = Field(
        default=(
            "{mentions} this action item was closed without meeting the closure criteria: "
            "{reason}. Please add the missing evidence or owner and close it again."
        ),
        description="Comment posted when a closure is rejected.",
    )
    needs_owner_label: str = Field(
        default="pmsync/needs-owner", description="Label on open items breaking the owner rule."
    )
    owner_comment: str = Field(
        default="{mentions} this {priority} action item needs {reason}.",
        description="Comment posted once when an open item breaks the owner rule.",
    )
    owner_mention: list[MentionTarget] = Field(
        default_factory=lambda: ["sponsor", "executive_sponsor"],
        description="Who is asked to fix an owner problem (the first one known; when none "
        "is, the tracker's fallback for the first).",
    )
    triage_label: str | None = Field(
        default="pmsync/needs-triage",
        description="Label on items whose priority or severity is unknown; null = no label.",
    )

    @field_validator("comment", "owner_comment")
    @classmethod
    def _templates(cls, value: str) -> str:
        return check_template(value)

    def owner_rule(self, priority: Priority) -> OwnerRule:
        return self.owners.get(priority, self.default_owner_rule)


class Tier(Strict):
    """One rung of the escalation ladder."""

    id: TierId = Field(
        default="",
        description="Stable identity in markers, the ledger and the report (a-z, 0-9, -). "
        "Empty = the label in slug form (pmsync/escalated-sponsor -> "
        "pmsync-escalated-sponsor). Keep it when you rename, reorder or insert tiers.",
    )
    name: str = Field(description="Shown in comments and reports, e.g. sponsor.")
    after: SpanField = Field(description="How long overdue before this tier applies (0d = due).")
    label: str = Field(description="Label that records this tier on the item (unique).")
    extra_labels: list[str] = Field(
        default_factory=list, description="More labels to add while at this tier."
    )
    mention: list[MentionTarget] = Field(
        default_factory=lambda: ["owner"],
        description="owner, sponsor, executive_sponsor (a role nobody holds on the item is "
        "replaced by the tracker's fallback for it), @handle, @org/team or team:org/team.",
    )
    priorities: list[Priority] | None = Field(
        default=None, description="Only items of these priorities reach this tier; null = all."
    )
    comment: str = Field(
        default="{mentions} {key} is {days_overdue} days overdue (due {due}).",
        description="Comment template posted once when the item reaches this tier.",
    )

    @model_validator(mode="before")
    @classmethod
    def _id_from_label(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("id") and isinstance(data.get("label"), str):
            slug = tier_slug(data["label"])
            if not slug:
                raise ValueError(
                    f"label {data['label']!r} gives no id (no letter or digit): set `id`"
                )
            return {**data, "id": slug}
        return data

    @field_validator("comment")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_template(value)


class Reminder(Strict):
    """A single reminder before the deadline."""

    before: SpanField = Field(description="How long before the deadline to remind.")
    label: str = Field(default="pmsync/due-soon", description="Label recording the reminder.")
    mention: list[MentionTarget] = Field(
        default_factory=lambda: ["owner"], description="Who to remind (as a tier's mention)."
    )
    comment: str = Field(
        default="{mentions} reminder: {key} is due on {due}.",
        description="Reminder comment template.",
    )

    @field_validator("comment")
    @classmethod
    def _template(cls, value: str) -> str:
        return check_template(value)


class Escalation(Strict):
    """Tiered escalation of overdue items; labels are removed again when no longer due."""

    reminder: Reminder | None = Field(default=None, description="Optional pre-due reminder.")
    tiers: list[Tier] = Field(default_factory=list, description="Tiers, in increasing `after`.")
    fallback_mention: list[str] = Field(
        default_factory=list,
        description="Deprecated: set fallback_mention on each tracker. GitHub handles "
        "(@login, @org/team, team:org/team) standing in for any role that names nobody, on "
        "GitHub trackers without a fallback of their own (never on Jira).",
    )
    legacy_tier_order: list[TierId] | None = Field(
        default=None,
        description="Tier ids in the order the ladder had when markers were written as tier-N "
        "(releases before tier ids): tier-N means the Nth id. Null = the current ladder. Set it "
        "before inserting, removing or reordering tiers while such markers are on open items.",
    )

    @field_validator("fallback_mention")
    @classmethod
    def _github_handles(cls, value: list[str]) -> list[str]:
        for handle in value:
            problem = github_handle_problem(handle)
            if problem is not None:
                raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _ordered_unique(self) -> Escalation:
        labels = [t.label for t in self.tiers]
        if len(set(labels)) != len(labels):
            raise ValueError("each tier needs its own label")
        first: dict[str, int] = {}
        for position, tier in enumerate(self.tiers, start=1):
            if tier.id in first:
                raise ValueError(
                    f"tiers {first[tier.id]} and {position} have the same id {tier.id!r} "
                    "(an id defaults to the label in slug form): give one its own `id`"
                )
            first[tier.id] = position
        afters = [t.after.as_timedelta() for t in self.tiers]
        if afters != sorted(afters):
            raise ValueError("tiers must be listed in increasing `after`")
        order = self.legacy_tier_order or []
        if len(set(order)) != len(order):
            raise ValueError("legacy_tier_order names a tier id twice")
        return self

    def legacy_position(self, tier_id: str) -> int | None:
        """N such that a ``tier-N`` marker (written before tier ids) was this tier's."""
        order = self.legacy_tier_order
        ids = order if order is not None else [t.id for t in self.tiers]
        return ids.index(tier_id) + 1 if tier_id in ids else None

    def legacy_tier(self, position: int) -> tuple[str, Tier | None] | None:
        """The tier id a ``tier-N`` marker stands for, and the tier if it is still defined."""
        order = self.legacy_tier_order
        ids = order if order is not None else [t.id for t in self.tiers]
        if not 0 < position <= len(ids):
            return None
        tier_id = ids[position - 1]
        return tier_id, next((t for t in self.tiers if t.id == tier_id), None)

    def position(self, tier_id: str) -> int:
        """The 1-based place of tier ``tier_id`` in the ladder now (0: not in it)."""
        for index, tier in enumerate(self.tiers, start=1):
            if tier.id == tier_id:
                return index
        return 0

    @property
    def managed_labels(self) -> frozenset[str]:
        labels = {t.label for t in self.tiers}
        labels.update(lbl for t in self.tiers for lbl in t.extra_labels)
        if self.reminder is not None:
            labels.add(self.reminder.label)
        return frozenset(labels)


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
