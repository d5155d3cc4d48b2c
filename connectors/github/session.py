"""The PyGithub client pmsync talks through: credentials, retry policy and write pacing.

Everything decided once per configuration lives here, apart from the requests themselves
(``connectors.github.transport``): where the token comes from (given, a file, an environment
variable, or a GitHub App installation), which failures urllib3 may retry (a GET only, never a
write: a retried POST is a duplicate comment), and the client's page size, timeout and spacing
of writes. The connector, the postmortem filer and ``check-permissions`` all build their client
with these functions, so they share one set of rules.

Every credential is handed to the log redactor as it is read or minted: the token, the App's
private key, each App JWT and each installation token obtained at run time (they are fetched
lazily and refreshed hourly, so no command could have registered them beforehand).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import urllib3
from github import Auth, Github
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass
from pydantic import SecretStr
from urllib3.util.retry import Retry

from connectors.fencing import Fence, fence_session
from connectors.github.transport import Connection
from syncer.core.errors import ConfigError
from syncer.core.redaction import register_secret
from syncer.core.secrets import GITHUB_BASIC_USER, pem_parts
from syncer.core.tracker_config import GitHubTracker

PER_PAGE = 100
SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = (502, 503, 504)


class GetOnlyRetry(Retry):
    """urllib3 retry that never repeats a write, whatever went wrong.

    urllib3 retries connection errors for every method; a POST whose connection broke after
    the server stored it would be posted twice. Here only GET/HEAD are retried, and only on
    502/503/504 and connection errors, with exponential backoff.
    """

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if method is not None and method.upper() not in SAFE_METHODS:
            if error is not None:
                raise error
            raise urllib3.exceptions.MaxRetryError(_pool, url or "", None)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def make_retry() -> Retry:
    """At most two retries of a GET on 502/503/504 or a broken connection; never a write."""
    return GetOnlyRetry(
        total=2,
        connect=2,
        read=2,
        status=2,
        other=0,
        allowed_methods=SAFE_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.25,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


class RedactedAppAuth(Auth.AppAuth):
    """PyGithub's App auth, registering each JWT it signs with the redactor."""

    def create_jwt(self, expiration: int | None = None) -> str:
        jwt = super().create_jwt(expiration)
        register_secret(jwt)
        return jwt

    def get_installation_auth(
        self,
        installation_id: int,
        token_permissions: dict[str, str] | None = None,
        requester: Any = None,
    ) -> Auth.AppInstallationAuth:
        return RedactedInstallationAuth(self, installation_id, token_permissions, requester)


class RedactedInstallationAuth(Auth.AppInstallationAuth):
    """PyGithub's installation auth, registering each installation token as it arrives."""

    def _get_installation_authorization(self) -> Any:
        authorization = super()._get_installation_authorization()
        register_secret(authorization.token, users=(GITHUB_BASIC_USER,))
        return authorization


def read_token(config: GitHubTracker, token: SecretStr | None = None) -> SecretStr | None:
    """The token (given, else ``config.token_file``, else ``config.token_env``), registered
    with the redactor."""
    found = _find_token(config, token)
    if found is not None:
        register_secret(found.get_secret_value(), users=(GITHUB_BASIC_USER,))
    return found


def _find_token(config: GitHubTracker, token: SecretStr | None) -> SecretStr | None:
    if token is not None:
        return token
    if config.token_file is not None:
        try:
            text = config.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [f"trackers.github[{config.name}].token_file: cannot read: {exc.strerror}"]
            ) from None
        return SecretStr(text) if text else None
    value = os.environ.get(config.token_env, "").strip()
    return SecretStr(value) if value else None


def make_auth(config: GitHubTracker, token: SecretStr | None = None) -> Auth.Auth:
    """PyGithub auth: a GitHub App installation when configured, else a token."""
    if config.app is not None and token is None:
        try:
            key = config.app.private_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                [
                    f"trackers.github[{config.name}].app.private_key_file: cannot read "
                    f"{config.app.private_key_file}: {exc.strerror}"
                ]
            ) from None
        for part in pem_parts(key):
            register_secret(part)
        app = RedactedAppAuth(config.app.app_id, key)
        return app.get_installation_auth(config.app.installation_id)
    secret = read_token(config, token)
    if secret is None:
        raise ConfigError(
            [
                f"trackers.github[{config.name}]: no credentials; set the {config.token_env} "
                "environment variable, token_file, or app (app_id, private_key_file, "
                "installation_id)"
            ]
        )
    return Auth.Token(secret.get_secret_value())


def web_host(base_url: str) -> str:
    """Where issues and pull requests are shown: github.com for api.github.com (X for api.X,
    GitHub Enterprise Cloud with data residency), else the host (https://HOST/api/v3)."""
    host = (urlsplit(base_url).hostname or "").lower()
    return host.removeprefix("api.")


def api_host(base_url: str) -> str:
    """The API host (with its port when one is given): the key of its shared write windows."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def make_github(
    config: GitHubTracker, auth: Auth.Auth, *, seconds_between_writes: float | None = None
) -> Github:
    """The PyGithub client, configured for pmsync: no blind retries, no per-read pacing.

    Writes are spaced ``config.seconds_between_writes`` apart by PyGithub unless
    ``seconds_between_writes`` says otherwise (the connector passes 0 and spaces them itself,
    on its injected clock, ahead of the fence).
    """
    spacing = (
        config.seconds_between_writes if seconds_between_writes is None else seconds_between_writes
    )
    return Github(
        base_url=config.base_url.rstrip("/"),
        auth=auth,
        per_page=PER_PAGE,
        timeout=config.effective_timeout_s,  # PyGithub insists on whole seconds
        retry=make_retry(),
        seconds_between_requests=0,
        seconds_between_writes=spacing,
        lazy=True,
    )


def make_connection(config: GitHubTracker, fence: Fence) -> Connection:
    """The HTTP connection every request of the connector goes through, fenced.

    PyGithub's ``Requester`` takes a connection per request (``cnx``, a public parameter of
    ``requestJson``); this one is built like PyGithub's own (same retry policy, timeout and
    host) but its ``requests`` session sends through a ``FencedAdapter``, so each write asks
    ``fence`` right before it leaves, after every pause.
    """
    parts = urlsplit(config.base_url)
    secure = parts.scheme == "https"
    connection_class = HTTPSRequestsConnectionClass if secure else HTTPRequestsConnectionClass
    retry = make_retry()
    connection = connection_class(
        parts.hostname or "",
        parts.port,
        retry=retry,
        timeout=config.effective_timeout_s,
    )
    fence_session(connection.session, fence, max_retries=retry)
    return connection
