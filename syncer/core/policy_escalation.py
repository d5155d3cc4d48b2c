"""The ``escalation`` section of the policy: the optional reminder and the ladder of tiers.

Each tier's id is its identity in markers, the ledger and the report, so the checks that keep
ids unique and ``after`` increasing, and the mapping of pre-id ``tier-N`` markers
(``legacy_tier_order``), live with the ladder they protect.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from syncer.core.durations import SpanField
from syncer.core.model import Priority
from syncer.core.policy_base import Strict, github_handle_problem
from syncer.core.policy_values import MentionTarget, TierId, check_template, tier_slug


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
