"""The domain model shared by every tracker.

Connectors map raw GitHub or Jira payloads into these frozen values and the rules only ever see
them, so a rule written once works on both trackers (jirahub's entity design). Anything the
tracker did not say, or said in a shape we cannot read, becomes an explicit ``UNKNOWN`` plus a
line in ``ActionItem.data_problems``: the rules report it instead of crashing on it.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.dataclasses import dataclass

_CONFIG = ConfigDict(extra="forbid")


class Frozen(BaseModel):
    """Base for immutable, hashable values that are few per cycle (messages, actions)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


_LABEL_SETS: dict[frozenset[str], frozenset[str]] = {}


def _shared_labels(labels: frozenset[str]) -> frozenset[str]:
    """One object per distinct label set: a backlog has few, and items are many."""
    if len(_LABEL_SETS) > 50_000:
        _LABEL_SETS.clear()
    return _LABEL_SETS.setdefault(labels, labels)


def _as_utc(moment: datetime) -> datetime:
    """Timestamps are held in UTC (naive ones are taken as UTC), whatever the tracker sent."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class Value:
    """Pydantic-style helpers for the slotted dataclasses below.

    Items are the one value pmsync holds by the hundred thousand, so they are validated
    dataclasses with ``__slots__`` (a third of a ``BaseModel``'s memory) that keep the
    ``model_*`` methods callers know.
    """

    __slots__ = ()

    def model_copy(self, *, update: dict[str, Any] | None = None) -> Self:
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]

    def model_dump(self, *, mode: Literal["json", "python"] = "python") -> dict[str, Any]:
        dumped: dict[str, Any] = _adapter(type(self)).dump_python(self, mode=mode)
        return dumped

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        validated: Self = _adapter(cls).validate_python(data)
        return validated


class Severity(StrEnum):
    """Severity of the incident an action item came from (SEV-1 is the worst)."""

    SEV1 = "SEV-1"
    SEV2 = "SEV-2"
    SEV3 = "SEV-3"
    SEV4 = "SEV-4"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """1 for SEV-1 ... 4 for SEV-4, 5 for unknown (sorts last)."""
        return 5 if self is Severity.UNKNOWN else int(self.value[-1])


class Priority(StrEnum):
    """Priority of the action item itself (P0 is the most urgent)."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        """0 for P0 ... 3 for P3, 4 for unknown (sorts last)."""
        return 4 if self is Priority.UNKNOWN else int(self.value[-1])


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Resolution(StrEnum):
    """Why a closed item was closed; ``None`` on the item while it is open."""

    DONE = "done"
    WONT_DO = "wont_do"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"


class EvidenceKind(StrEnum):
    """What an evidence link points at; decided from its URL by the policy's link rules
    (``syncer.core.evidence_links.LinkClassifier``), the same way on every tracker."""

    PULL_REQUEST = "pull_request"
    COMMIT = "commit"
    DASHBOARD = "dashboard"
    RUNBOOK = "runbook"
    TEST_RUN = "test_run"
    DOCUMENT = "document"
    OTHER = "other"


class Verification(StrEnum):
    """What pmsync learnt by looking an evidence link up (a pull request: merged? a commit:
    does it exist?). Kinds that need no look-up stay ``unchecked``."""

    UNCHECKED = "unchecked"
    """Nobody looked (yet)."""
    CONFIRMED = "confirmed"
    """The pull request is merged; the commit exists."""
    REFUTED = "refuted"
    """The pull request is not merged; the commit does not exist."""
    UNVERIFIABLE = "unverifiable"
    """Nobody can look: no connector serves the link's host, or the answer says nothing
    (a 404 that may mean "no access")."""
    FAILED = "failed"
    """The look-up failed this time (5xx, timeout, rate limit); it is tried again next cycle."""


_LEGACY_VERIFIED = {True: Verification.CONFIRMED, False: Verification.REFUTED}


def upgrade_item_json(data: Any) -> Any:
    """An item as JSON, with what older releases wrote read the current way.

    Item files written before ``Evidence.verification`` said ``verified: true/false/null``
    (``pmsync plan --items``), and older exports carry an ``escalation_tier`` that nothing
    read (an item's tier is its labels); such files keep working.
    """
    if not isinstance(data, dict):
        return data
    if "escalation_tier" in data:
        data = {k: v for k, v in data.items() if k != "escalation_tier"}
    if not isinstance(data.get("evidence"), list):
        return data
    evidence = []
    for entry in data["evidence"]:
        if isinstance(entry, dict) and "verified" in entry and "verification" not in entry:
            upgraded = {k: v for k, v in entry.items() if k != "verified"}
            upgraded["verification"] = _LEGACY_VERIFIED.get(
                entry["verified"], Verification.UNCHECKED
            )
            evidence.append(upgraded)
        else:
            evidence.append(entry)
    return {**data, "evidence": evidence}


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Person(Value):
    """Someone who can be mentioned: a GitHub login, a Jira account id or user name, a team."""

    handle: str = Field(min_length=1, description="Login, account id, user name or team slug.")
    display_name: str | None = Field(default=None, description="Human name when known.")
    is_team: bool = Field(default=False, description="True for a team handle such as org/sre.")
    active: bool | None = Field(
        default=None,
        description="False when the account is deactivated, suspended or gone; None = not known.",
    )
    assigned: bool = Field(
        default=True,
        description="False for an owner the tracker only names in text (an issue-form section).",
    )

    @property
    def accountable(self) -> bool:
        """Whether this person can be held to an item: not known to have left."""
        return self.active is not False


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Evidence(Value):
    """One piece of completion evidence attached to an item."""

    kind: EvidenceKind
    url: str | None = Field(default=None, description="The link, when the evidence is one.")
    text: str = Field(default="", description="Free text that came with it.")
    verification: Verification = Field(
        default=Verification.UNCHECKED,
        description="What looking the link up said (pull requests and commits).",
    )
    verification_note: str = Field(
        default="", description="Why it is unverifiable or the look-up failed, in words."
    )


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Waiver(Value):
    """An approved exception: no escalation until ``until`` (inclusive)."""

    until: date
    approver: str = Field(min_length=1)
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ItemRef(Value):
    """Stable identity of an item across cycles: tracker name and the tracker's own key."""

    tracker: str = Field(min_length=1, description="Tracker instance name, e.g. github.")
    key: str = Field(min_length=1, description="owner/repo#123 on GitHub, REL-42 on Jira.")

    def __str__(self) -> str:
        return f"{self.tracker}:{self.key}"


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ActionItem(Value):
    """A postmortem action item as observed in its tracker at one moment."""

    ref: ItemRef
    url: str = ""
    title: str = ""
    state: State = State.OPEN
    resolution: Resolution | None = None
    severity: Severity = Severity.UNKNOWN
    priority: Priority = Priority.UNKNOWN
    owners: tuple[Person, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    due: date | None = Field(default=None, description="The tracker's own due date, if set.")
    sponsor: Person | None = None
    executive_sponsor: Person | None = None
    incident: str | None = Field(default=None, description="Postmortem or incident reference.")
    incident_date: date | None = None
    team: str | None = Field(default=None, description="Owning team or service, for aggregates.")
    labels: Annotated[frozenset[str], AfterValidator(_shared_labels)] = frozenset()
    created_at: UtcDatetime
    updated_at: UtcDatetime
    closed_at: UtcDatetime | None = None
    waiver: Waiver | None = Field(default=None, description="A waiver recorded in the tracker.")
    data_problems: tuple[str, ...] = Field(
        default=(), description="What could not be read from the tracker, in words."
    )

    @property
    def is_open(self) -> bool:
        return self.state is State.OPEN
