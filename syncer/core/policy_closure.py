"""The ``closure`` section of the policy: what a closed item must show, and what happens if not.

Owners per priority, evidence links and how they are typed (``LinkRule``) and verified
(``EvidenceRule``), and the violation's label, comment or reopen. ``syncer.core.closure`` and
``syncer.core.evidence`` read it; ``syncer.core.policy`` assembles it into the ``Policy``.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from syncer.core.durations import SpanField, parse_span
from syncer.core.model import EvidenceKind, Priority, Resolution
from syncer.core.policy_base import Strict
from syncer.core.policy_values import MentionTarget, check_template


class OwnerRule(StrEnum):
    EXACTLY_ONE = "exactly_one"
    AT_LEAST_ONE = "at_least_one"
    ANY = "any"


class ViolationAction(StrEnum):
    REOPEN = "reopen"
    LABEL = "label"
    COMMENT = "comment"


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
