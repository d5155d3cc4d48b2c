"""The ``trackers.jira`` section of the policy: site, credentials, JQL scope, field mapping.

Jira differs by deployment (Cloud account ids and REST v3, Data Center user names and v2), so
the checks that tell them apart from the configuration alone (:func:`jira_is_cloud`) live with
the model. Read by the Jira connector (``connectors/jira``); secrets are never written here.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator

from syncer.core.model import Priority, Resolution, Severity
from syncer.core.policy_base import (
    JIRA_ACCOUNT_ID,
    JIRA_USERNAME,
    FallbackMention,
    Strict,
    default_severity_labels,
)

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


def jira_is_cloud(deployment: str, server: str) -> bool | None:
    """Cloud or Data Center as far as the configuration tells (None: only /serverInfo can)."""
    if deployment != "auto":
        return deployment == "cloud"
    host = (urlsplit(server).hostname or "").lower()
    return True if host.endswith(_CLOUD_HOSTS) else None


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
        default_factory=default_severity_labels,
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
