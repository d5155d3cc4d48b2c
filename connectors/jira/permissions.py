"""``pmsync check-permissions`` for Jira: can this token do what pmsync will ask of it?

Asks ``/mypermissions`` for the four project permissions pmsync uses on action items (and,
in the tracker the weekly review is published in, the three publishing needs) and resolves
every mapped field against the field list, so a missing right or a misspelt field name shows
up before the first cycle, each with what to change (jirahub's check-permissions habit).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from jira import JIRA
from pydantic import SecretStr

from connectors.jira.errors import translate
from connectors.jira.fields import resolve_fields
from connectors.jira.session import open_jira, read_credentials
from syncer.core.clock import system_clock
from syncer.core.errors import ConfigError, RateLimited, TransientError
from syncer.core.tracker import PermissionCheck
from syncer.core.tracker_config import JiraTracker

PERMISSIONS = {
    "BROWSE_PROJECTS": (
        "read the action items",
        "grant 'Browse projects' in the project's permission scheme",
    ),
    "EDIT_ISSUES": (
        "add and remove escalation labels",
        "grant 'Edit issues' in the project's permission scheme",
    ),
    "ADD_COMMENTS": (
        "post escalation comments",
        "grant 'Add comments' in the project's permission scheme",
    ),
    "TRANSITION_ISSUES": (
        "reopen items closed without evidence",
        "grant 'Transition issues' and make the reopen transition available from Done",
    ),
}

REPORT_PERMISSIONS = {
    "CREATE_ISSUES": (
        "create the weekly review and operating-log issues",
        "grant 'Create issues' in the permission scheme of the project the review goes to",
    ),
    "EDIT_OWN_COMMENTS": (
        "update its own operating-log comment when a week's review is published again",
        "grant 'Edit own comments' in the permission scheme of the project the review goes to",
    ),
    "CREATE_ATTACHMENTS": (
        "attach the risk-trend chart to the weekly review",
        "grant 'Create attachments' in the permission scheme of the project the review goes to",
    ),
}
"""Asked only of the tracker the weekly review is published in, in the review's project."""

_PROJECT_RE = re.compile(r"\bproject\s*(?:=|in\s*\()\s*\"?([A-Za-z][A-Za-z0-9_]*)", re.IGNORECASE)


def project_of(config: JiraTracker) -> str | None:
    """The project to check rights in: ``config.project`` or the first one in the JQL."""
    if config.project:
        return config.project
    match = _PROJECT_RE.search(config.jql)
    return match.group(1).upper() if match else None


def check_jira(
    config: JiraTracker,
    token: SecretStr | None,
    email: str | None,
    *,
    clock: Callable[[], datetime] = system_clock,
    publishes_reports: bool = False,
    report_project: str | None = None,
) -> list[PermissionCheck]:
    """Each permission pmsync needs and each mapped field, as pass/fail with a fix.

    When the weekly review is published in this tracker (``publishes_reports``), also what
    publishing needs in ``report_project``: creating issues, editing its own comments and
    attaching the chart.
    """
    name = config.name
    try:
        secret, mail = read_credentials(config, token, email)
    except ConfigError as exc:
        return [PermissionCheck(name, "credentials", False, exc.problems[0], exc.problems[0])]
    try:
        jira = open_jira(config, secret, mail)
    except Exception as exc:
        error = translate(exc, what="GET serverInfo", write=False, now=clock())
        if error is None:
            raise
        return [
            PermissionCheck(
                name,
                "connect",
                False,
                str(error),
                "check the server URL, the token and (Cloud) the account email",
                answered=not isinstance(error, TransientError | RateLimited),
            )
        ]
    checks = [
        PermissionCheck(
            name,
            "connect",
            True,
            f"{config.server} ({jira.deploymentType or 'Server/Data Center'})",
        )
    ]
    checks.extend(_permission_checks(jira, config, clock, project_of(config), PERMISSIONS))
    if publishes_reports and report_project:
        checks.extend(_permission_checks(jira, config, clock, report_project, REPORT_PERMISSIONS))
    elif publishes_reports:
        checks.append(
            PermissionCheck(
                name,
                "report project",
                False,
                "the weekly review is published in this tracker, but no project is named "
                "to create it in",
                "set project: KEY in the Jira tracker settings (or report.project)",
            )
        )
    checks.extend(_field_checks(jira, config, clock))
    return checks


def _permission_checks(
    jira: JIRA,
    config: JiraTracker,
    clock: Callable[[], datetime],
    project: str | None,
    wanted: dict[str, tuple[str, str]],
) -> list[PermissionCheck]:
    try:
        answer: dict[str, Any] = jira.my_permissions(
            projectKey=project, permissions=",".join(wanted)
        )
    except Exception as exc:
        error = translate(exc, what="GET mypermissions", write=False, now=clock())
        if error is None:
            raise
        return [
            PermissionCheck(
                config.name,
                "permissions",
                False,
                str(error),
                "retry later",
                answered=not isinstance(error, TransientError | RateLimited),
            )
        ]
    granted = answer.get("permissions") or {}
    where = f"project {project}" if project else "any project (set project: to be precise)"
    checks = []
    for key, (why, fix) in wanted.items():
        entry = granted.get(key) or {}
        ok = bool(entry.get("havePermission"))
        checks.append(
            PermissionCheck(
                config.name,
                key,
                ok,
                f"{'can' if ok else 'cannot'} {why} in {where}",
                "" if ok else fix,
            )
        )
    return checks


def _field_checks(
    jira: JIRA, config: JiraTracker, clock: Callable[[], datetime]
) -> list[PermissionCheck]:
    try:
        field_list: list[dict[str, Any]] = jira.fields()
    except Exception as exc:
        error = translate(exc, what="GET field", write=False, now=clock())
        if error is None:
            raise
        return [
            PermissionCheck(
                config.name,
                "fields",
                False,
                str(error),
                "retry later",
                answered=not isinstance(error, TransientError | RateLimited),
            )
        ]
    resolution = resolve_fields(config.fields, field_list)
    checks = [
        PermissionCheck(
            config.name, f"field {attribute}", True, f"{config.fields[attribute]!r} -> {info.id}"
        )
        for attribute, info in resolution.fields.items()
    ]
    checks.extend(
        PermissionCheck(
            config.name,
            f"field {problem.split(':', 1)[0].removeprefix('fields.')}",
            False,
            problem,
            "fix the name under fields: in the Jira tracker settings, or use the field id",
        )
        for problem in resolution.problems
    )
    return checks
