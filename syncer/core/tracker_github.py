"""The ``trackers.github`` section of the policy: repositories, credentials, labels, owners.

Read by the GitHub connector (``connectors/github``) and validated with the rest of the policy
by ``check-config``; the core never imports a tracker library. Secrets are never written here:
the file names the environment variable or the file that holds them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from syncer.core.model import Priority, Severity
from syncer.core.policy_base import (
    FallbackMention,
    Strict,
    default_severity_labels,
    github_handle_problem,
)

OwnerSource = Literal["assignees", "section"]


class GitHubApp(Strict):
    """Authenticate as a GitHub App installation instead of a token."""

    app_id: int = Field(description="The App's numeric id.")
    private_key_file: Path = Field(description="PEM file with the App's private key.")
    installation_id: int = Field(description="Installation id on the organisation.")


def _default_priority_labels() -> dict[Priority, list[str]]:
    return {
        Priority.P0: ["P0", "p0", "priority:p0"],
        Priority.P1: ["P1", "p1", "priority:p1"],
        Priority.P2: ["P2", "p2", "priority:p2"],
        Priority.P3: ["P3", "p3", "priority:p3"],
    }


def _default_owner_sources() -> list[OwnerSource]:
    return ["assignees", "section"]


class GitHubTracker(Strict):
    """One GitHub (github.com or Enterprise Server) source of action items."""

    name: str = Field(default="github", description="Instance name used in item refs and logs.")
    base_url: str = Field(
        default="https://api.github.com",
        description="API root: https://api.github.com or https://HOST/api/v3 for GHES.",
    )
    web_url: str | None = Field(
        default=None,
        description="Where this GitHub shows pull requests, when base_url does not say "
        "(a proxy, or an emulator standing in for github.com); null = derived from base_url. "
        "Pull-request and commit links on this host are verified through this connector.",
    )
    repositories: list[str] = Field(
        default_factory=list, description="owner/name of each repository to watch."
    )
    org: str | None = Field(
        default=None, description="Watch every repository of this organisation instead."
    )
    action_label: str = Field(
        default="postmortem-action", description="Label that marks an issue as an action item."
    )
    token_env: str = Field(
        default="GITHUB_TOKEN", description="Environment variable holding the token."
    )
    token_file: Path | None = Field(
        default=None, description="File holding the token (wins over token_env when set)."
    )
    webhook_secret_env: str = Field(
        default="GITHUB_WEBHOOK_SECRET",
        description="Environment variable holding the secret of the GitHub webhook "
        "(daemon.webhooks); deliveries are verified with it.",
    )
    webhook_secret_file: Path | None = Field(
        default=None, description="File holding the webhook secret (wins over the variable)."
    )
    app: GitHubApp | None = Field(default=None, description="GitHub App auth, instead of a token.")
    severity_labels: dict[Severity, list[str]] = Field(
        default_factory=default_severity_labels,
        description="Labels that mean each severity (case-insensitive).",
    )
    priority_labels: dict[Priority, list[str]] = Field(
        default_factory=_default_priority_labels,
        description="Labels that mean each priority (case-insensitive).",
    )
    owner_sources: list[OwnerSource] = Field(
        default_factory=_default_owner_sources,
        min_length=1,
        description="Where owners come from, in order; the first that names anyone wins: "
        "assignees, or section (the issue form's ### Owner).",
    )
    look_up_owners: bool = Field(
        default=True,
        description="Check owners' accounts once a day (GET /users/{login}): a login that is "
        "gone (404) or suspended is an inactive owner.",
    )
    request_timeout_s: float = Field(default=15.0, gt=0, description="Per-request timeout, s.")
    seconds_between_writes: float = Field(
        default=1.0, ge=0, description="Pause between writes (GitHub asks for >= 1 s)."
    )
    full_resync_every: str = Field(
        default="1d",
        description="How often a fetch ignores the ETags and reads every repository in full "
        "(drops issues that left the scope); timed from the last full read recorded in the "
        "state store, so it holds across processes.",
    )
    fallback_mention: FallbackMention = Field(
        default_factory=FallbackMention,
        description="Who stands in for a role that names nobody on an item: @login or "
        "@org/team (also team:org/team); a list, or per role (see below).",
    )

    @field_validator("fallback_mention")
    @classmethod
    def _github_handles(cls, value: FallbackMention) -> FallbackMention:
        for key, handle in value.handles():
            problem = github_handle_problem(handle)
            if problem is not None:
                raise ValueError(f"{key}: {problem}")
        return value

    @field_validator("owner_sources")
    @classmethod
    def _distinct_sources(cls, value: list[OwnerSource]) -> list[OwnerSource]:
        if len(set(value)) != len(value):
            raise ValueError("list each owner source once")
        return value

    @property
    def effective_timeout_s(self) -> int:
        """The timeout PyGithub really applies: whole seconds, at least one."""
        return max(1, math.ceil(self.request_timeout_s))
