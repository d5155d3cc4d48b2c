"""Operational sections of the policy: the write budget, the daemon's and the review's schedule.

They say when and how much pmsync acts, not what the rules are; ``syncer.core.policy`` assembles
them with the rules into one ``Policy``.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from syncer.core.durations import SpanField, parse_span
from syncer.core.fields import TimezoneName, Weekday
from syncer.core.policy_base import Strict

# INC-2041, INC-2026-042, PIR-7, PM-12, incident-88: a prefix, a dash, digits (more groups of
# digits allowed), not inside a longer word or number.
DEFAULT_INCIDENT_ID = r"(?<![A-Za-z0-9])(?:inc|incident|pir|pm)-\d+(?:-\d+)*(?![0-9])"


class Operations(Strict):
    """Limits on what one cycle may do."""

    max_writes_per_cycle: int = Field(
        default=50,
        ge=0,
        description="Write budget of one cycle, in write requests (removing three GitHub "
        "labels is three; a Jira comment is two: the comment and its marker index); the daemon "
        "runs one cycle per tracker; the rest is backlog for the next.",
    )
    shadow: bool = Field(default=False, description="Evaluate and report, never write.")


class Webhooks(Strict):
    """Deliveries from GitHub and Jira webhooks: a cycle for the changed items within seconds.

    Off by default. The receiver listens on its own port (``PMSYNC_WEBHOOK_HOST`` and
    ``PMSYNC_WEBHOOK_PORT``, default 127.0.0.1:9465), apart from the health port; the secrets
    come from each tracker's ``webhook_secret_env`` or ``webhook_secret_file``. Polling goes on
    at ``daemon.interval``: a delivery that never came is found by the next poll.
    """

    enabled: bool = Field(
        default=False, description="Serve the webhook paths (on every replica; the leader acts)."
    )
    github_path: str = Field(
        default="/webhooks/github",
        pattern=r"^/[A-Za-z0-9._~/-]*$",
        description="Path GitHub deliveries are POSTed to (the hook's payload URL).",
    )
    jira_path: str = Field(
        default="/webhooks/jira",
        pattern=r"^/[A-Za-z0-9._~/-]*$",
        description="Path Jira deliveries are POSTed to (the admin webhook's URL).",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest delivery accepted, bytes (larger: 413); an issue delivery is "
        "15-30 KB, GitHub caps payloads at 25 MB.",
    )
    coalesce_s: float = Field(
        default=0.5,
        ge=0,
        le=60,
        description="Shortest time between two cycles started by deliveries, seconds: what "
        "arrives meanwhile is handled together, so a burst is a few cycles.",
    )
    keep_deliveries: SpanField = Field(
        default=parse_span("7d"),
        description="How long delivery ids are kept to recognise a replay (GitHub lets a "
        "delivery be redelivered for 3 days).",
    )

    @field_validator("jira_path")
    @classmethod
    def _distinct(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("github_path"):
            raise ValueError("github_path and jira_path must differ")
        return value


class DaemonSchedule(Strict):
    """When ``pmsync daemon`` runs its jobs (one after another, never overlapping)."""

    interval: SpanField = Field(
        default=parse_span("15m"), description="Incremental sync cycle every this long."
    )
    full_resync_at: str = Field(
        default="03:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Daily full resync (ignores cursors), HH:MM in deadlines.timezone.",
    )
    lease: SpanField = Field(
        default=parse_span("30s"),
        description="Leader lease with several replicas; a standby takes over within 2 leases.",
    )
    clock_skew_allowance: SpanField = Field(
        default=parse_span("2s"),
        description="Clock skew and scheduling delay allowed between a replica, the database "
        "and the trackers; part of the lease safety margin.",
    )
    lease_safety_margin: SpanField | None = Field(
        default=None,
        description="A write is sent only while the leader's lease has this long left: at "
        "least the longest tracker request_timeout_s plus clock_skew_allowance, and shorter "
        "than lease; null = exactly that sum.",
    )

    def safety_margin_s(self, longest_timeout_s: float) -> float:
        """The margin in seconds, given the longest request timeout of the trackers."""
        if self.lease_safety_margin is not None:
            return self.lease_safety_margin.as_timedelta().total_seconds()
        return longest_timeout_s + self.clock_skew_allowance.as_timedelta().total_seconds()

    def margin_problem(self, longest_timeout_s: float) -> str | None:
        """Why the lease and its safety margin do not fit together, or None when they do."""
        lease = self.lease.as_timedelta().total_seconds()
        skew = self.clock_skew_allowance.as_timedelta().total_seconds()
        least = longest_timeout_s + skew
        margin = self.safety_margin_s(longest_timeout_s)
        if margin < least:
            return (
                f"lease_safety_margin {self.lease_safety_margin} is shorter than the longest "
                f"request timeout ({longest_timeout_s:g}s) plus clock_skew_allowance "
                f"({self.clock_skew_allowance}): raise it to at least {least:g}s"
            )
        if margin >= lease:
            return (
                f"lease {self.lease} leaves no time to write: a write needs {margin:g}s of the "
                f"lease left (longest request timeout {longest_timeout_s:g}s + "
                f"clock_skew_allowance {self.clock_skew_allowance}); make lease longer than "
                f"{margin:g}s (3 x the margin is comfortable) or lower request_timeout_s"
            )
        return None

    max_backoff: SpanField = Field(
        default=parse_span("1h"),
        description="Longest wait before retrying a failing tracker (doubles, resets on success).",
    )
    webhooks: Webhooks = Field(
        default_factory=Webhooks,
        description="Webhook deliveries: cycles for the changed items within seconds.",
    )


class ReportSchedule(Strict):
    """When the daemon publishes the weekly review (the CLI publishes whenever it is run)."""

    weekday: Weekday = Field(default="mon", description="Day of the week: mon, tue ... sun.")
    time: str = Field(
        default="09:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
        description="Local time of day, HH:MM (24 h), in `timezone`.",
    )
    timezone: TimezoneName = Field(
        default="UTC", description="IANA timezone of `time`, e.g. Europe/Berlin."
    )


ReportFormat = Literal["markdown", "html", "json", "jira_wiki", "adf", "png"]


class Report(Strict):
    """The weekly reliability review issue and the operating log (see the README)."""

    enabled: bool = Field(default=True, description="Publish the weekly review and the log.")
    tracker: str | None = Field(
        default=None,
        description="Tracker instance name to publish in; null = the first tracker configured.",
    )
    repository: str | None = Field(
        default=None,
        description="GitHub: owner/name of the repository for the review issues; "
        "null = the tracker's first repository.",
    )
    project: str | None = Field(
        default=None,
        description="Jira: project key for the review issues; null = the connector's default.",
    )
    label: str = Field(
        default="pmsync/weekly-review",
        description="Label that finds the review issues (one per ISO week).",
    )
    title: str = Field(
        default="Reliability review",
        description="Review issue title; the ISO week is appended, e.g. 'Reliability review "
        "2026-W48'.",
    )
    close_previous: bool = Field(
        default=True, description="Close the previous week's review issue, linking the new one."
    )
    log_label: str = Field(
        default="pmsync/operating-log", description="Label that finds the operating-log issue."
    )
    log_title: str = Field(
        default="Reliability operating log", description="Title of the operating-log issue."
    )
    schedule: ReportSchedule = Field(
        default_factory=ReportSchedule, description="When the daemon publishes (weekly)."
    )
    publish_missed_on_start: bool = Field(
        default=False,
        description="When the daemon starts (or a standby takes over) after this week's "
        "review moment and no review was published for the week, publish it at once. Off: "
        "wait for the next scheduled moment, so a first start publishes nothing by surprise "
        "(a restart across the moment then skips that week's review; `pmsync report --config "
        "FILE` publishes it by hand).",
    )
    formats: list[ReportFormat] = Field(
        default_factory=lambda: list[ReportFormat](["markdown", "html", "json"]),
        description="Files written by `pmsync report --out DIR`: markdown, html, json, "
        "jira_wiki, adf, png.",
    )
    max_rows: int = Field(
        default=50,
        ge=5,
        description="Most rows per table in the published issue (the files have all rows); "
        "cut further when the tracker's size limit needs it.",
    )
    incident_id_pattern: str = Field(
        default=DEFAULT_INCIDENT_ID,
        description="Regular expression finding the incident id in an item's incident "
        "reference (a URL or a key), case-insensitive; its `id` group or whole match groups "
        "the roadmap, so a postmortem URL and a key naming one incident are one row.",
    )

    @field_validator("incident_id_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value

    def incident_id(self) -> re.Pattern[str]:
        return re.compile(self.incident_id_pattern, re.IGNORECASE)
