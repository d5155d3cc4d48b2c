"""One line of ``pmsync check-permissions`` output, shared by the GitHub and Jira checks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PermissionCheck:
    """Whether the credentials can do one thing pmsync needs in one place, and how to fix it."""

    tracker: str
    scope: str
    capability: str
    ok: bool
    detail: str = ""
    fix: str = ""
