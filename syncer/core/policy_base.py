"""What every policy section builds on: ``Strict`` models, the roles, and who a mention may name.

A tier's mentions, a tracker's fallback and the policy's deprecated fallback all name people
by GitHub handle or Jira account; the checks that say a handle is well formed, and the
``FallbackMention`` model they validate, are shared here by the tracker sections
(:mod:`syncer.core.tracker_github`, :mod:`syncer.core.tracker_jira`) and the rules sections
(``syncer.policy_*``), so neither has to import the other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from syncer.core.model import Person, Severity


class Strict(BaseModel):
    """Base for policy sections: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ROLES = ("owner", "sponsor", "executive_sponsor")
"""The people an item names: targets a tier can mention, and that a fallback stands in for."""

GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
GITHUB_TEAM = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9][\w.-]*$")
# Atlassian account ids: 24 hex digits (older accounts) or "<digits>:<uuid>" (e.g.
# 557058:f58131cb-..., 712020:...), "qm:<uuid>:<uuid>" for portal-only customers; at most 128.
JIRA_ACCOUNT_ID = re.compile(
    r"^(?:[0-9a-f]{24}|\d{1,10}:[0-9A-Za-z-]{8,}|qm:[0-9A-Za-z-]+:[0-9A-Za-z-]+)$"
)
# A Data Center user name that ``[~name]`` can carry (the Jira renderer's safe characters).
JIRA_USERNAME = re.compile(r"^[\w.+-][\w.@+-]*$")


def github_person(handle: str) -> Person:
    """``@login`` -> a user; ``@org/team`` or ``team:org/team`` -> a team."""
    if handle.startswith("team:"):
        return Person(handle=handle.removeprefix("team:"), is_team=True)
    name = handle.removeprefix("@")
    return Person(handle=name, is_team="/" in name)


def github_handle_problem(handle: str) -> str | None:
    """Why ``handle`` is no GitHub mention (``@login``, ``@org/team``, ``team:org/team``)."""
    if handle.startswith("team:"):
        if GITHUB_TEAM.match(handle.removeprefix("team:")):
            return None
        return f"{handle!r} is not a GitHub team (write team:org/team-slug or @org/team-slug)"
    if not handle.startswith("@"):
        return f"{handle!r}: write GitHub handles with their @ (@{handle}) or as team:org/team"
    name = handle[1:]
    if GITHUB_LOGIN.match(name) or GITHUB_TEAM.match(name):
        return None
    return (
        f"{handle!r} is not a GitHub login or team (letters, digits and single hyphens, "
        "at most 39; a team is @org/team-slug)"
    )


class FallbackMention(Strict):
    """Who is mentioned in place of a role (owner, sponsor, executive sponsor) that names
    nobody on an item. A plain list is shorthand for ``default``."""

    default: list[str] = Field(
        default_factory=list, description="Stands in for every role without a list of its own."
    )
    owner: list[str] | None = Field(
        default=None, description="Stands in for a missing owner; null = default."
    )
    sponsor: list[str] | None = Field(
        default=None, description="Stands in for a missing sponsor; null = default."
    )
    executive_sponsor: list[str] | None = Field(
        default=None, description="Stands in for a missing executive sponsor; null = default."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"default": data} if isinstance(data, list) else data

    def for_role(self, role: str) -> list[str]:
        """The handles standing in for ``role`` (its own list, else ``default``)."""
        own: list[str] | None = getattr(self, role, None)
        return self.default if own is None else own

    @property
    def is_set(self) -> bool:
        return bool(self.default) or any(getattr(self, role) is not None for role in ROLES)

    def handles(self) -> Iterator[tuple[str, str]]:
        """Every (key, handle) configured, for validation messages."""
        for key in ("default", *ROLES):
            for handle in getattr(self, key) or ():
                yield key, handle


def default_severity_labels() -> dict[Severity, list[str]]:
    """The labels that mean each severity on either tracker unless its section says others."""
    return {
        Severity.SEV1: ["sev-1", "sev1", "SEV-1", "severity:1"],
        Severity.SEV2: ["sev-2", "sev2", "SEV-2", "severity:2"],
        Severity.SEV3: ["sev-3", "sev3", "SEV-3", "severity:3"],
        Severity.SEV4: ["sev-4", "sev4", "SEV-4", "severity:4"],
    }
