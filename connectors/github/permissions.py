"""``pmsync check-permissions`` for GitHub: can this token read, label and comment, per repository?

A missing permission otherwise shows up as a failed write in the middle of a cycle. This asks
GitHub up front, at a cost of a few GETs per repository: the repository (its ``permissions``
block and whether issues are enabled), the token's collaborator permission when the token
belongs to a user, and one issue listing. Each answer comes with what to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from connectors.github.client import GitHubConnector
from connectors.github.session import make_auth, make_github
from connectors.github.transport import Transport
from syncer.clock import system_clock
from syncer.cursors import MemoryCursorStore
from syncer.errors import PermanentError, RateLimited, TrackerError, TransientError
from syncer.policy import Policy
from syncer.tracker import PermissionCheck
from syncer.tracker_config import GitHubTracker

READ = "read issues"
LABEL = "create labels"
TRIAGE = "apply labels and reopen"
COMMENT = "comment"
ROLE_RANK = {"none": 0, "read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}
ACCESS_FIX = (
    "fine-grained token: add {repo} with 'Issues: Read and write' and 'Metadata: Read'; "
    "classic token: the 'repo' scope; GitHub App: install it on {repo} with Issues read/write"
)


def _role(permissions: Mapping[str, Any], collaborator: str | None) -> str:
    """The strongest role the repository's permissions block or collaborator answer grants."""
    granted = [
        name for name in ("admin", "maintain", "push", "triage", "pull") if permissions.get(name)
    ]
    names = {"push": "write", "pull": "read"}
    roles = [names.get(g, g) for g in granted]
    if collaborator:
        roles.append(collaborator)
    return max(roles, key=lambda r: ROLE_RANK.get(r, 0), default="none")


def check_github(
    config: GitHubTracker,
    token: SecretStr | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> list[PermissionCheck]:
    """One check per repository and capability (read issues, create labels, triage, comment)."""
    github = make_github(config, make_auth(config, token))
    transport = Transport(github.requester, config.base_url, clock)
    login: str | None = None
    try:
        user = transport.call("GET", "/user", "who am I").data
        login = user.get("login") if isinstance(user, Mapping) else None
    except TrackerError:
        login = None  # GitHub App installation tokens have no user
    repos = list(config.repositories)
    checks: list[PermissionCheck] = []
    if config.org:
        try:
            connector = GitHubConnector(
                config, Policy(version="check-permissions"), MemoryCursorStore(), clock, token
            )
            repos = connector.repositories()
        except TrackerError as exc:
            checks.append(
                PermissionCheck(
                    config.name,
                    f"{config.org}: list repositories",
                    False,
                    str(exc),
                    "give the token read access to the organisation's repositories",
                    answered=not isinstance(exc, TransientError | RateLimited),
                )
            )
    for repo in repos:
        checks.extend(_check_repo(config, transport, repo, login))
    return checks


def _check_repo(
    config: GitHubTracker,
    transport: Transport,
    repo: str,
    login: str | None,
) -> list[PermissionCheck]:
    name = config.name
    fix = ACCESS_FIX.format(repo=repo)
    try:
        data = transport.call("GET", f"/repos/{repo}", f"read {repo}").data
    except TrackerError as exc:
        detail = (
            "repository not found or not visible to this token"
            if isinstance(exc, PermanentError) and exc.status == 404
            else str(exc)
        )
        answered = not isinstance(exc, TransientError | RateLimited)
        return [
            PermissionCheck(name, f"{repo}: {c}", False, detail, fix, answered=answered)
            for c in (READ, LABEL, TRIAGE, COMMENT)
        ]
    repo_data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    permissions = repo_data.get("permissions")
    permissions = permissions if isinstance(permissions, Mapping) else {}
    collaborator: str | None = None
    if login:
        try:
            answer = transport.call(
                "GET",
                f"/repos/{repo}/collaborators/{login}/permission",
                f"permission of {login} on {repo}",
            ).data
            if isinstance(answer, Mapping):
                role_name = answer.get("role_name")
                collaborator = role_name if role_name in ROLE_RANK else answer.get("permission")
        except TrackerError:
            collaborator = None
    role = _role(permissions, collaborator)
    issues_on = repo_data.get("has_issues", True) is not False
    try:
        transport.call(
            "GET",
            f"/repos/{repo}/issues",
            f"list issues of {repo}",
            params={"per_page": 1, "labels": config.action_label},
        )
        can_read, read_detail = issues_on, "" if issues_on else "issues are disabled"
    except TrackerError as exc:
        can_read, read_detail = False, str(exc)
    who = f"{login} has role {role}" if login else f"token role {role}"
    enable = "enable Issues in the repository settings"

    def need(capability: str, minimum: str, fix_text: str) -> PermissionCheck:
        ok = issues_on and ROLE_RANK.get(role, 0) >= ROLE_RANK[minimum]
        detail = who if issues_on else "issues are disabled"
        return PermissionCheck(name, f"{repo}: {capability}", ok, detail, "" if ok else fix_text)

    return [
        PermissionCheck(
            name,
            f"{repo}: {READ}",
            can_read,
            read_detail or who,
            "" if can_read else (fix if issues_on else enable),
        ),
        need(LABEL, "write", f"grant write (push) on {repo}: creating labels needs it; {fix}"),
        need(TRIAGE, "triage", f"grant at least triage on {repo}"),
        need(COMMENT, "read", fix if issues_on else enable),
    ]
