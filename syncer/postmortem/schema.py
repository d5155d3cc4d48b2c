"""The incident record: what a postmortem author writes, as strict pydantic models.

The record is the single source from which pmsync renders the postmortem and files its action
items, so every field is typed, documented (the skeleton's comments are generated from these
descriptions) and closed to unknown keys. Checks that need more than one field (timeline order,
the SLO of a due date) live in ``syncer.postmortem.validate`` so that they can name the exact
key and line of the problem.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BeforeValidator, Field, field_validator

from syncer.core.fields import TimezoneName
from syncer.core.model import Priority, Severity
from syncer.core.policy_base import Strict

HANDLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
INCIDENT_ID_RE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
SLUG_RE = r"^[a-z0-9][a-z0-9-]{0,59}$"
SLO = "slo"


def _one_handle(value: Any) -> Any:
    """Accept ``alice`` or ``@alice``; reject lists and several names with a useful message."""
    if isinstance(value, list | tuple):
        raise ValueError(
            f"exactly one owner handle, got {len(value)}; pick the one accountable person "
            "(split the item if the work really has several parts)"
        )
    if not isinstance(value, str):
        return value
    handle = value.strip().removeprefix("@")
    if re.search(r"[\s,;&]", handle) or " and " in f" {value} ":
        raise ValueError(
            f"exactly one handle, got {value!r}; pick one accountable person "
            "(the others can be named in details)"
        )
    if not HANDLE_RE.match(handle):
        raise ValueError(
            f"not a handle: {value!r}; write a login, user name or account id such as alice"
        )
    return handle


def _due(value: Any) -> Any:
    """One readable error for the ``date | "slo"`` union instead of pydantic's two."""
    if value is None or isinstance(value, date) or value == SLO:
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(
        f"not a due date: {value!r}; write YYYY-MM-DD, or `slo` to take the policy's SLO "
        "for the item's priority"
    )


Handle = Annotated[str, BeforeValidator(_one_handle)]
Due = Annotated[date | Literal["slo"] | None, BeforeValidator(_due)]


class FactorType(StrEnum):
    """What kind of cause a factor is; systems thinking looks at all three."""

    TECHNICAL = "technical"
    PROCESS = "process"
    HUMAN_AND_ORGANISATIONAL = "human-and-organisational"


class ActionType(StrEnum):
    """What an action item does about the incident."""

    MITIGATE = "mitigate"
    PREVENT = "prevent"
    DETECT = "detect"
    PROCESS = "process"


class Timestamps(Strict):
    """The four milestones of the incident, each with its timezone offset."""

    started: AwareDatetime = Field(
        description="When impact began (not when it was noticed), e.g. 2026-11-03T09:12:00+01:00."
    )
    detected: AwareDatetime = Field(description="When a person or an alert first noticed it.")
    mitigated: AwareDatetime = Field(
        description="When user impact stopped, even if the fix was temporary."
    )
    resolved: AwareDatetime = Field(
        description="When the system was back to normal and the incident closed."
    )


class TimelineEvent(Strict):
    """One thing that happened, in time order."""

    time: AwareDatetime = Field(description="When it happened, with timezone offset.")
    event: str = Field(min_length=1, description="What happened, in neutral, factual words.")
    source: str = Field(
        default="",
        description="Where this is recorded: alert name, chat channel, dashboard, log query.",
    )


class Impact(Strict):
    """Who and what was affected, in numbers where they exist."""

    description: str = Field(min_length=1, description="User-visible impact in one paragraph.")
    users_affected: int | None = Field(
        default=None, ge=0, description="Number of users affected; null when unknown."
    )
    requests_affected: int | None = Field(
        default=None, ge=0, description="Number of failed or degraded requests; null if unknown."
    )
    duration_minutes: int | None = Field(
        default=None,
        ge=0,
        description="Minutes of user-visible impact; null = started to mitigated.",
    )
    error_budget_burned_percent: float | None = Field(
        default=None,
        ge=0,
        description="Share of the SLO's error budget consumed, in percent (may exceed 100).",
    )
    slo: str | None = Field(default=None, description="Which SLO the budget belongs to.")
    cost: str | None = Field(
        default=None, description="Cost if known, with its currency, e.g. 'USD 12,000 credits'."
    )


class Factor(Strict):
    """A cause of the incident, typed so that process and organisation get equal attention."""

    type: FactorType = Field(
        description="technical, process or human-and-organisational (conditions, not people)."
    )
    description: str = Field(min_length=1, description="The condition that allowed the incident.")


class Lessons(Strict):
    """Lessons learned, in three lists."""

    went_well: list[str] = Field(default_factory=list, description="What went well.")
    went_wrong: list[str] = Field(default_factory=list, description="What went wrong.")
    got_lucky: list[str] = Field(
        default_factory=list, description="Where we got lucky (a risk that did not bite)."
    )


class DocumentationUpdate(Strict):
    """A runbook, playbook or document changed because of the incident."""

    description: str = Field(min_length=1, description="What was updated and why.")
    url: str | None = Field(default=None, description="Link to the updated document.")


class ModelChange(Strict):
    """A change to the model, prompt or configuration of an AI system."""

    kind: Literal["model", "prompt", "config"] = Field(
        description="model (weights or provider version), prompt, or config (temperature, tools)."
    )
    before: str = Field(default="", description="Version or value before the change.")
    after: str = Field(default="", description="Version or value after the change.")
    changed_at: AwareDatetime | None = Field(
        default=None, description="When the change went live, with timezone."
    )
    description: str = Field(default="", description="What changed, in words.")


class MissedSafeguard(Strict):
    """A guardrail, evaluation or monitor that should have caught the problem and did not."""

    name: str = Field(min_length=1, description="Name of the guardrail, eval suite or monitor.")
    kind: Literal["guardrail", "evaluation", "monitor"] = Field(
        description="guardrail (runtime filter), evaluation (offline test set) or monitor."
    )
    why_missed: str = Field(default="", description="Why it did not fire (coverage, threshold).")


class DataInvolved(Strict):
    """The data the AI system saw or produced during the incident."""

    description: str = Field(min_length=1, description="Which data, in words.")
    datasets: list[str] = Field(
        default_factory=list, description="Names of datasets, indexes or stores involved."
    )
    personal_data: bool = Field(
        default=False, description="True when personal data was exposed or processed wrongly."
    )


class AIIncident(Strict):
    """Fields that apply when the incident involves an AI or ML system."""

    model: str = Field(min_length=1, description="Model name and version, e.g. gpt-4o-2024-08-06.")
    provider: str = Field(min_length=1, description="Who serves the model, e.g. self-hosted.")
    changes: list[ModelChange] = Field(
        default_factory=list, description="Model, prompt or config changes near the incident."
    )
    missed_by: list[MissedSafeguard] = Field(
        default_factory=list, description="Guardrails or evaluations that missed it."
    )
    data_involved: DataInvolved | None = Field(
        default=None, description="Data involved; null when none beyond normal traffic."
    )


class ActionItemSpec(Strict):
    """An action item as written in the postmortem, before it is filed."""

    title: str = Field(
        min_length=1, description="Starts with a verb and names a deliverable: 'Add ...'."
    )
    slug: str | None = Field(
        default=None,
        pattern=SLUG_RE,
        description="Stable key of the filed issue; default derived from the title. Set it "
        "to the filed slug before renaming a filed item, so the same issue is updated.",
    )
    type: ActionType = Field(description="mitigate, prevent, detect or process.")
    owner: Handle = Field(description="Exactly one accountable handle (login or account id).")
    priority: Priority = Field(description="P0 (most urgent) to P3.")
    due: Due = Field(
        default=None,
        description="YYYY-MM-DD within the policy's SLO, or `slo` to take the SLO deadline.",
    )
    evidence: str = Field(
        default="",
        description="What will prove it done: a merged PR, a dashboard, a test run.",
    )
    sponsor: Handle | None = Field(
        default=None, description="Who unblocks the owner and is told when it slips."
    )
    executive_sponsor: Handle | None = Field(
        default=None, description="Executive told when a P0 item is badly overdue; optional."
    )
    details: str = Field(default="", description="Context for whoever picks the item up.")

    @field_validator("priority")
    @classmethod
    def _known_priority(cls, value: Priority) -> Priority:
        if value is Priority.UNKNOWN:
            raise ValueError("choose P0, P1, P2 or P3")
        return value


class Incident(Strict):
    """The whole incident record."""

    id: str = Field(
        pattern=INCIDENT_ID_RE,
        description="Stable incident id, e.g. INC-2026-042 (letters, digits, . _ -).",
    )
    title: str = Field(min_length=1, description="One line naming the user-visible failure.")
    severity: Severity = Field(description="SEV-1 (worst) to SEV-4.")
    services: list[str] = Field(min_length=1, description="Services or components affected.")
    owner: Handle = Field(description="Handle of the person who owns this postmortem.")
    timezone: TimezoneName = Field(
        default="UTC", description="IANA timezone used to display times, e.g. Europe/Berlin."
    )
    summary: str = Field(min_length=1, description="Three to five sentences: what, impact, fix.")
    timestamps: Timestamps = Field(description="Started, detected, mitigated, resolved.")
    impact: Impact = Field(description="Who and what was affected.")
    trigger: str = Field(min_length=1, description="The event that set the failure off.")
    detection: str = Field(
        min_length=1, description="How it was noticed, and how it could be sooner."
    )
    resolution: str = Field(min_length=1, description="What stopped the impact and what fixed it.")
    root_cause: Factor = Field(description="The underlying condition, typed.")
    contributing_factors: list[Factor] = Field(
        default_factory=list, description="Other conditions that made it worse or likelier."
    )
    timeline: list[TimelineEvent] = Field(
        default_factory=list, description="Events in time order, inside started..resolved."
    )
    lessons: Lessons = Field(default_factory=Lessons, description="Lessons learned.")
    documentation_updates: list[DocumentationUpdate] = Field(
        default_factory=list, description="Runbooks and documents updated."
    )
    ai: AIIncident | None = Field(
        default=None, description="AI-incident fields; null when no AI system was involved."
    )
    action_items: list[ActionItemSpec] = Field(
        default_factory=list, description="What we will do, one accountable owner each."
    )
    lint_ignore: list[str] = Field(
        default_factory=list,
        description="Lint findings to silence, as rule-id@dotted.key "
        "(e.g. blame-fault@contributing_factors[0].description).",
    )

    @field_validator("severity")
    @classmethod
    def _known_severity(cls, value: Severity) -> Severity:
        if value is Severity.UNKNOWN:
            raise ValueError("choose SEV-1, SEV-2, SEV-3 or SEV-4")
        return value

    @field_validator("lint_ignore")
    @classmethod
    def _ignore_shape(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not re.match(r"^[a-z][a-z0-9-]*@\S+$", entry):
                raise ValueError(
                    f"not a lint ignore entry: {entry!r}; write rule-id@dotted.key, "
                    "e.g. blame-fault@root_cause.description"
                )
        return value
