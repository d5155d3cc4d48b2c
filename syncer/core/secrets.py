"""The values a pmsync process must never show, handed to the redactor before its first request.

The policy never holds a secret; it names where each one is (an environment variable or a
file). Every command that may talk to a tracker or a database (``run``, ``plan``, ``report``,
``daemon`` and its reloads, ``check-permissions``, ``postmortem``) calls
:func:`register_configured_secrets` right after loading the policy, so a tracker that echoes
a token in an error body, a header or a URL is redacted on the very first request, in logs,
errors, the ledger, reports and on the console. Registration is by value, so a token of any
shape is covered, with the forms it takes on the way out (``secret_forms``: HTTP Basic
``base64(user:token)``, URL-encoded, escaped...).

Values minted at run time (GitHub App installation tokens and JWTs) are registered by the
connector that obtains them (``connectors.github.session``); the connectors also register
what they read themselves, a second line for code that builds a connector without a command.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from syncer.core.policy import Policy
from syncer.core.redaction import register_secret
from syncer.core.tracker_config import GitHubTracker, JiraTracker

GITHUB_BASIC_USER = "x-access-token"
"""The user name GitHub documents for a token sent as HTTP Basic (git over HTTPS)."""


@dataclass(frozen=True)
class Secret:
    """One value to redact, with the user names it may be sent with in HTTP Basic."""

    value: str
    users: tuple[str, ...] = ()


def _read(path: Path) -> str:
    """A secret file's text, or "" when it cannot be read (its reader reports that)."""
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return path.read_text(encoding="utf-8").strip()
    return ""


def pem_parts(key: str) -> list[str]:
    """A PEM key whole and each line of its base64 body, so a partial echo is caught too."""
    lines = [line.strip() for line in key.strip().splitlines()]
    body = [line for line in lines if line and not line.startswith("-----")]
    return [key.strip(), "".join(body), *body]


def database_password(url: str | None) -> str:
    """The password in a database URL (``postgresql://user:PASSWORD@host/db``), or ""."""
    if not url:
        return ""
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
        return unquote(password) if password else ""
    return ""


def _webhook_secret(env: str, file: Path | None) -> str:
    """A tracker's webhook secret: its file wins over its variable, as the receiver reads it
    (``syncer.service.webhooks.read_webhook_secret``)."""
    value = _read(file) if file is not None else ""
    return value or os.environ.get(env, "").strip()


def configured_secrets(policy: Policy, *, state_url: str | None = None) -> Iterator[Secret]:
    """Every secret the policy points at that is set here (tracker tokens, the App key, the
    webhook secrets), and the state store's password."""
    trackers: list[GitHubTracker | JiraTracker] = [*policy.trackers.github, *policy.trackers.jira]
    for tracker in trackers:
        hook = _webhook_secret(tracker.webhook_secret_env, tracker.webhook_secret_file)
        if hook:
            yield Secret(hook)
    for github in policy.trackers.github:
        token = _read(github.token_file) if github.token_file else ""
        token = token or os.environ.get(github.token_env, "").strip()
        if token:
            yield Secret(token, (GITHUB_BASIC_USER,))
        if github.app is not None:
            key = _read(github.app.private_key_file)
            if key:
                yield from (Secret(part) for part in pem_parts(key))
    for jira in policy.trackers.jira:
        token = _read(jira.token_file) if jira.token_file else ""
        token = token or os.environ.get(jira.token_env, "").strip()
        email = os.environ.get(jira.email_env, "").strip()
        if token:
            yield Secret(token, (email,) if email else ())
    for url in (state_url, os.environ.get("PMSYNC_STATE_URL")):
        password = database_password(url)
        if password:
            yield Secret(password)


def register_configured_secrets(policy: Policy, *, state_url: str | None = None) -> None:
    """Hand every configured secret (and its derived forms) to the process-wide redactor."""
    for secret in configured_secrets(policy, state_url=state_url):
        register_secret(secret.value, users=secret.users)
