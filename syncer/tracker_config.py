"""Tracker sections of the policy file: where the items live and how fields map.

These are plain pydantic models so that ``check-config`` validates them with the rest of the
policy; the connectors read them but the core never imports a tracker library. Secrets are
never written here: the file names the environment variable or the file that holds them.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from syncer.model import Person, Priority, Resolution, Severity

TrackerT = TypeVar("TrackerT", "GitHubTracker", "JiraTracker")
OwnerSource = Literal["assignees", "section"]


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
_CLOUD_HOSTS = (".atlassian.net", ".jira.com", ".jira-dev.com")
JIRA_FIELD_ATTRIBUTES = frozenset(
    {
        "owner",
        "due",
        "evidence",
        "sponsor",
        "executive_sponsor",
        "severity",
        "incident",
        "incident_date",
        "team",
        "waiver",
    }
)
"""The item attributes a Jira tracker's ``fields`` can map to a Jira field name or id."""


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


def jira_is_cloud(deployment: str, server: str) -> bool | None:
    """Cloud or Data Center as far as the configuration tells (None: only /serverInfo can)."""
    if deployment != "auto":
        return deployment == "cloud"
    host = (urlsplit(server).hostname or "").lower()
    return True if host.endswith(_CLOUD_HOSTS) else None


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
        default_factory=_default_severity_labels,
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
    webhook_secret_env: str = Field(
        default="JIRA_WEBHOOK_SECRET",
        description="Environment variable holding the secret of the Jira admin webhook "
        "(daemon.webhooks); deliveries are verified with it.",
    )
    webhook_secret_file: Path | None = Field(
        default=None, description="File holding the webhook secret (wins over the variable)."
    )
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
        description="Model attribute -> Jira field name or id (resolved once via /field); "
        "owner: assignee or a user-picker field such as Owner.",
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
    postmortem_link_type: str = Field(
        default="Relates",
        min_length=1,
        description="Issue link type (its name, as in Settings > Issues > Issue linking) "
        "that makes an action item a child of its postmortem; the postmortem is the link's "
        "outward (from) issue. Relates exists on every site; a site may have its own, such "
        "as a Parent/Child type.",
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
    full_resync_every: str = Field(
        default="1d",
        description="How often a fetch ignores the cursor and reads the whole scope (finds "
        "deleted issues and issues that left it); timed from the last full read recorded in "
        "the state store, so it holds across processes.",
    )
    fallback_mention: FallbackMention = Field(
        default_factory=FallbackMention,
        description="Who stands in for a role that names nobody on an item: account ids on "
        "Cloud (5b10ac8d82e05b22cc7d4ef5, 557058:...), user names on Data Center; a list, "
        "or per role (see below).",
    )

    @field_validator("fields")
    @classmethod
    def _known_attributes(cls, value: dict[str, str]) -> dict[str, str]:
        for attribute in value:
            if attribute not in JIRA_FIELD_ATTRIBUTES:
                close = difflib.get_close_matches(attribute, JIRA_FIELD_ATTRIBUTES, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                known = ", ".join(sorted(JIRA_FIELD_ATTRIBUTES))
                raise ValueError(
                    f"{attribute!r} is not an item attribute ({hint}known: {known}); the "
                    "Jira field's name or id goes on the right of the colon"
                )
        return value

    @field_validator("rest_api_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        """``rest_api_version: 3`` is how YAML users write it; the model keeps "3"."""
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("rest_api_version")
    @classmethod
    def _v3_is_cloud_only(cls, value: str, info: ValidationInfo) -> str:
        if value == "3" and info.data.get("deployment") == "datacenter":
            raise ValueError(
                "Jira Data Center serves REST API version 2 only (version 3 and its ADF "
                "comments are Jira Cloud's); use 2"
            )
        return value

    @field_validator("fallback_mention")
    @classmethod
    def _jira_people(cls, value: FallbackMention, info: ValidationInfo) -> FallbackMention:
        if not value.is_set or "server" not in info.data or "deployment" not in info.data:
            return value
        cloud = jira_is_cloud(info.data["deployment"], info.data["server"])
        if cloud is None:
            raise ValueError(
                "set `deployment: cloud` or `deployment: datacenter` so the fallback can be "
                "checked (Cloud mentions account ids, Data Center user names)"
            )
        for key, handle in value.handles():
            if cloud and not (len(handle) <= 128 and JIRA_ACCOUNT_ID.match(handle)):
                raise ValueError(
                    f"{key}: {handle!r} is not a Jira Cloud account id (like "
                    "5b10ac8d82e05b22cc7d4ef5 or 557058:f58131cb-b67d-43c7-b30d-6b58d40bd077; "
                    "a user's id is in their profile URL)"
                )
            if not cloud and not JIRA_USERNAME.match(handle):
                hint = "without the @" if handle.startswith("@") else "letters, digits, . _ - @ +"
                raise ValueError(f"{key}: {handle!r} is not a Jira Data Center user name ({hint})")
        return value

    @property
    def effective_timeout_s(self) -> float:
        """The timeout each request gets (the ``jira`` library takes it as it is)."""
        return self.request_timeout_s


class Trackers(Strict):
    """Every tracker instance pmsync reads and writes."""

    github: list[GitHubTracker] = Field(default_factory=list, description="GitHub sources.")
    jira: list[JiraTracker] = Field(default_factory=list, description="Jira sources.")

    @property
    def longest_timeout_s(self) -> float:
        """The longest request timeout of any tracker (0 when none is configured)."""
        timeouts = [t.effective_timeout_s for t in self.github] + [
            t.effective_timeout_s for t in self.jira
        ]
        return float(max(timeouts, default=0))


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
