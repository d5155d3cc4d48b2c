"""Tracker sections of the policy file: where the items live and how fields map.

These are plain pydantic models so that ``check-config`` validates them with the rest of the
policy; the connectors read them but the core never imports a tracker library. Secrets are
never written here: the file names the environment variable or the file that holds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from syncer.model import Priority, Resolution, Severity

TrackerT = TypeVar("TrackerT", "GitHubTracker", "JiraTracker")


class Strict(BaseModel):
    """Base for policy sections: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GitHubApp(Strict):
    """Authenticate as a GitHub App installation instead of a token."""

    app_id: int = Field(description="The App's numeric id.")
    private_key_file: Path = Field(description="PEM file with the App's private key.")
    installation_id: int = Field(description="Installation id on the organisation.")


def _default_severity_labels() -> dict[Severity, list[str]]:
    return {
        Severity.SEV1: ["sev-1", "sev1", "SEV-1", "severity:1"],
        Severity.SEV2: ["sev-2", "sev2", "SEV-2", "severity:2"],
        Severity.SEV3: ["sev-3", "sev3", "SEV-3", "severity:3"],
        Severity.SEV4: ["sev-4", "sev4", "SEV-4", "severity:4"],
    }


def _default_priority_labels() -> dict[Priority, list[str]]:
    return {
        Priority.P0: ["P0", "p0", "priority:p0"],
        Priority.P1: ["P1", "p1", "priority:p1"],
        Priority.P2: ["P2", "p2", "priority:p2"],
        Priority.P3: ["P3", "p3", "priority:p3"],
    }


class GitHubTracker(Strict):
    """One GitHub (github.com or Enterprise Server) source of action items."""

    name: str = Field(default="github", description="Instance name used in item refs and logs.")
    base_url: str = Field(
        default="https://api.github.com",
        description="API root: https://api.github.com or https://HOST/api/v3 for GHES.",
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
    app: GitHubApp | None = Field(default=None, description="GitHub App auth, instead of a token.")
    severity_labels: dict[Severity, list[str]] = Field(
        default_factory=_default_severity_labels,
        description="Labels that mean each severity (case-insensitive).",
    )
    priority_labels: dict[Priority, list[str]] = Field(
        default_factory=_default_priority_labels,
        description="Labels that mean each priority (case-insensitive).",
    )
    request_timeout_s: float = Field(default=15.0, gt=0, description="Per-request timeout, s.")
    seconds_between_writes: float = Field(
        default=1.0, ge=0, description="Pause between writes (GitHub asks for >= 1 s)."
    )
    full_resync_every: str = Field(default="1d", description="How often to ignore cursors.")


class JiraTracker(Strict):
    """One Jira Cloud or Data Center source of action items."""

    name: str = Field(default="jira", description="Instance name used in item refs and logs.")
    server: str = Field(description="Site URL, e.g. https://acme.atlassian.net.")
    deployment: Literal["cloud", "datacenter", "auto"] = Field(
        default="auto", description="Cloud or Data Center; auto reads /serverInfo."
    )
    jql: str = Field(
        default="labels = postmortem-action",
        description="Scope query, e.g. project = REL AND labels = postmortem-action.",
    )
    email_env: str = Field(default="JIRA_EMAIL", description="Env var with the Cloud user email.")
    token_env: str = Field(
        default="JIRA_API_TOKEN", description="Env var with the API token (Cloud) or PAT (DC)."
    )
    token_file: Path | None = Field(default=None, description="File holding the token instead.")
    fields: dict[str, str] = Field(
        default_factory=lambda: {
            "owner": "assignee",
            "due": "duedate",
            "evidence": "Evidence",
            "sponsor": "Sponsor",
            "executive_sponsor": "Executive sponsor",
            "severity": "Severity",
            "incident": "Postmortem",
        },
        description="Model attribute -> Jira field name or id (resolved once via /field).",
    )
    priority_map: dict[str, Priority] = Field(
        default_factory=lambda: {
            "Blocker": Priority.P0,
            "Highest": Priority.P0,
            "Critical": Priority.P0,
            "High": Priority.P1,
            "Major": Priority.P1,
            "Medium": Priority.P2,
            "Minor": Priority.P3,
            "Low": Priority.P3,
            "Lowest": Priority.P3,
            "Trivial": Priority.P3,
        },
        description="Jira priority name -> P0..P3.",
    )
    reopen_transition: str = Field(
        default="Reopen", description="Name of the transition that reopens an item."
    )
    close_transition: str = Field(
        default="Done",
        description="Name of the transition that closes last week's review issue.",
    )
    severity_labels: dict[Severity, list[str]] = Field(
        default_factory=_default_severity_labels,
        description="Labels that mean each severity when no severity field is set "
        "(case-insensitive).",
    )
    resolution_map: dict[str, Resolution] = Field(
        default_factory=lambda: {
            "Done": Resolution.DONE,
            "Fixed": Resolution.DONE,
            "Resolved": Resolution.DONE,
            "Complete": Resolution.DONE,
            "Won't Do": Resolution.WONT_DO,
            "Won't Fix": Resolution.WONT_DO,
            "Declined": Resolution.WONT_DO,
            "Duplicate": Resolution.DUPLICATE,
        },
        description="Jira resolution name -> done, wont_do or duplicate (case-insensitive); "
        "other names read as unknown.",
    )
    project: str | None = Field(
        default=None,
        description="Project key where pmsync creates the weekly review and log issues "
        "(needed only when reports are published to Jira).",
    )
    report_issue_type: str = Field(
        default="Task", description="Issue type of the review and log issues pmsync creates."
    )
    notify_users: bool = Field(
        default=True,
        description="Send Jira notifications for pmsync's label edits; false needs project "
        "admin rights (Jira answers 403 otherwise).",
    )
    rest_api_version: Literal["2", "3"] = Field(
        default="2", description="2 = wiki markup comments, 3 = ADF comments."
    )
    request_timeout_s: float = Field(default=15.0, gt=0, description="Per-request timeout, s.")
    overlap_minutes: int = Field(
        default=2, ge=1, description="Overlap for `updated >=` (JQL has minute resolution)."
    )


class Trackers(Strict):
    """Every tracker instance pmsync reads and writes."""

    github: list[GitHubTracker] = Field(default_factory=list, description="GitHub sources.")
    jira: list[JiraTracker] = Field(default_factory=list, description="Jira sources.")


def named_tracker(trackers: Sequence[TrackerT], name: str | None, section: str) -> TrackerT:
    """The tracker called ``name`` in ``trackers``, or the first one; LookupError with the
    known names otherwise (``section`` names the policy key, e.g. trackers.github)."""
    if not trackers:
        raise LookupError(f"{section}: no tracker configured")
    if name is None:
        return trackers[0]
    for tracker in trackers:
        if tracker.name == name:
            return tracker
    known = ", ".join(t.name for t in trackers)
    raise LookupError(f"{section}: no tracker named {name!r} (known: {known})")
