"""``pmsync check-permissions`` for GitHub: can this token read, label and comment, per repository?

A missing permission otherwise shows up as a failed write in the middle of a cycle. This asks
GitHub up front, at a cost of a few GETs per repository: the repository (its ``permissions``
block and whether issues are enabled), the token's collaborator permission when the token
belongs to a user, and one issue listing. Each answer comes with what to change.

Two mistakes make every one of those checks fail the same way, and are reported once instead:
a token GitHub refuses (401 on ``GET /user``) and a base URL that is not the REST API (``GET
/user`` answers 404 or a web page, and so does ``GET /``, the API root every GitHub API
serves: the usual cause is an Enterprise Server URL without its ``/api/v3``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from github import GithubException
from pydantic import SecretStr

from connectors.github.client import GitHubConnector
from connectors.github.session import make_auth, make_github
from connectors.github.transport import TRANSPORT_ERRORS, Transport, typed_error
from syncer.core.clock import system_clock
from syncer.core.cursors import MemoryCursorStore
from syncer.core.errors import PermanentError, RateLimited, TrackerError, TransientError
from syncer.core.policy import Policy
from syncer.core.tracker import PermissionCheck
from syncer.core.tracker_config import GitHubTracker

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


@dataclass(frozen=True)
class RawAnswer:
    """An answer as it came, before any decision: status, lower-case headers, parsed JSON."""

    status: int
    headers: Mapping[str, Any]
    data: Any
    is_json: bool

    @property
    def is_api_root(self) -> bool:
        """The hypermedia index GitHub serves at ``GET /`` (``meta/root`` in its OpenAPI)."""
        return (
            self.status == 200
            and isinstance(self.data, Mapping)
            and "current_user_url" in self.data
        )

    def described(self) -> str:
        if self.is_json:
            return f"HTTP {self.status}"
        html = "html" in str(self.headers.get("content-type", "")).lower()
        return f"HTTP {self.status} with {'an HTML page' if html else 'a body that is not JSON'}"


def probe(transport: Transport, url: str, what: str) -> RawAnswer:
    """GET ``url`` and return the answer whatever its status or body.

    A connection failure is a ``TransientError`` (the caller reports that the API could not be
    reached); a GitHub App whose installation token cannot be made answers like the API would.
    """
    try:
        status, headers, text = transport.requester.requestJson("GET", url)
    except GithubException as exc:  # raised while getting an App installation token
        if exc.status == 401:
            return RawAnswer(401, {}, None, True)
        raise typed_error(exc, what, transport.clock()) from None
    except TRANSPORT_ERRORS as exc:
        transport.requests[("GET", 0)] += 1
        raise TransientError(f"{what}: {type(exc).__name__}") from exc
    transport.requests[("GET", status)] += 1
    headers_lc = {k.lower(): v for k, v in headers.items()}
    try:
        return RawAnswer(status, headers_lc, json.loads(text) if text else None, True)
    except ValueError:
        return RawAnswer(status, headers_lc, None, False)


def api_root_hint(base_url: str) -> str | None:
    """Where the REST API probably is, for a base URL that is not it (None: no better guess)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host in ("github.com", "www.github.com"):
        return "https://api.github.com"
    if host == "api.github.com" or parts.path.rstrip("/").endswith("/api/v3"):
        return None
    return f"{parts.scheme}://{parts.netloc}/api/v3"


def token_refused(config: GitHubTracker, given: bool) -> PermissionCheck:
    if given:
        source = "the token"
    elif config.app is not None:
        source = (
            f"the GitHub App's credentials (app_id {config.app.app_id}, installation_id "
            f"{config.app.installation_id}, private_key_file)"
        )
    elif config.token_file is not None:
        source = f"the token in {config.token_file}"
    else:
        source = f"the token in ${config.token_env}"
    return PermissionCheck(
        config.name,
        "credentials",
        False,
        f"GitHub refused {source} (HTTP 401); nothing else was checked",
        "use a token that is current (not expired or revoked) and was made on this GitHub: "
        "a github.com token does not work on an Enterprise Server, nor the other way round",
    )


def wrong_base_url(config: GitHubTracker, user: RawAnswer, root: RawAnswer) -> PermissionCheck:
    hint = api_root_hint(config.base_url)
    return PermissionCheck(
        config.name,
        "base URL",
        False,
        f"{config.base_url} is not the GitHub REST API: GET /user answered {user.described()} "
        f"and GET / (the API root) {root.described()}; nothing else was checked",
        "set base_url to the REST API: https://api.github.com for github.com; GitHub "
        "Enterprise Server wants https://HOST/api/v3"
        + (f" (here probably {hint})" if hint else ""),
    )


def identify(
    config: GitHubTracker, transport: Transport, *, token_given: bool
) -> str | PermissionCheck | None:
    """The token's login (None for an App installation), or the one check that stops the rest.

    ``GET /user`` cannot be a 404 or a web page on a GitHub API, whatever the token; when it
    is, the API root tells a wrong base URL from a server that merely lacks ``/user``.
    """
    user = probe(transport, "/user", "who am I")
    if user.status == 401:
        return token_refused(config, token_given)
    if user.is_json and user.status == 200:
        return user.data.get("login") if isinstance(user.data, Mapping) else None
    if user.status == 404 or not user.is_json:
        root = probe(transport, "/", "the API root")
        if root.status == 401:
            return token_refused(config, token_given)
        if not root.is_api_root:
            return wrong_base_url(config, user, root)
    return None  # GitHub App installation tokens have no user (403)


def check_github(
    config: GitHubTracker,
    token: SecretStr | None = None,
    clock: Callable[[], datetime] = system_clock,
) -> list[PermissionCheck]:
    """One check per repository and capability (read issues, create labels, triage, comment).

    A refused token or a wrong base URL is one failed check instead, with its fix.
    """
    github = make_github(config, make_auth(config, token))
    transport = Transport(github.requester, config.base_url, clock)
    identity = identify(config, transport, token_given=token is not None)
    if isinstance(identity, PermissionCheck):
        return [identity]
    login = identity
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
