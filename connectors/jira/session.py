"""The ``jira.JIRA`` client pmsync talks through: credentials, auth and what is switched off.

Everything decided once per configuration lives here, apart from the requests themselves
(``connectors.jira.transport``): where the token and the Cloud account email come from, which
auth the deployment takes (basic auth with the email on Cloud, a bearer personal access token
on Data Center), and what the library would otherwise do by default and must not:

- no timeout: every request gets ``config.request_timeout_s``;
- ``ResilientSession`` retries every method, POST included, so a comment whose answer was
  lost is posted twice: ``max_retries=0`` (GETs are retried by the transport instead);
- ``check_update`` asks PyPI for a newer release at start-up: off;
- ``get_server_info`` asks ``serverInfo`` on construction, so that pmsync checks the configured
  deployment against the site (``deployment_of``): kept, except for a client of an explicit
  deployment that an earlier process already checked against this very site
  (``connectors.jira.transport.JiraTransport.site_checked_before``).

The connector, the postmortem filer and ``check-permissions`` all build their client with
these functions, so they share one set of rules. The token (and the email as a user name) is
handed to the log redactor as it is read.
"""

from __future__ import annotations

import os
from typing import Any

from jira import JIRA
from pydantic import SecretStr

from syncer.core.errors import ConfigError, PermanentError
from syncer.core.redaction import register_secret
from syncer.core.tracker_config import JiraTracker


def read_credentials(
    config: JiraTracker, token: SecretStr | None, email: str | None
) -> tuple[SecretStr, str | None]:
    """The token (argument, then ``token_file``, then ``token_env``) and the Cloud email."""
    if token is None and config.token_file is not None:
        try:
            token = SecretStr(config.token_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(
                [
                    f"trackers.jira[{config.name}].token_file: cannot read "
                    f"{config.token_file} ({exc.strerror}); fix the path or its permissions"
                ]
            ) from None
    if token is None and os.environ.get(config.token_env):
        token = SecretStr(os.environ[config.token_env])
    if token is None or not token.get_secret_value():
        raise ConfigError(
            [
                f"trackers.jira[{config.name}]: no token; set {config.token_env} or token_file "
                "(an API token on Cloud, a personal access token on Data Center)"
            ]
        )
    if email is None:
        email = os.environ.get(config.email_env) or None
    register_secret(token.get_secret_value(), users=(email,) if email else ())
    if config.deployment == "cloud" and not email:
        raise ConfigError(
            [
                f"trackers.jira[{config.name}]: Cloud needs the account email with the API "
                f"token; set {config.email_env}"
            ]
        )
    return token, email


def open_jira(
    config: JiraTracker, token: SecretStr, email: str | None, *, ask_server_info: bool = True
) -> JIRA:
    """A ``jira.JIRA`` with a timeout, no library retries and Cloud or DC auth.

    ``ask_server_info=False`` builds it without a request, for an explicit deployment checked
    against the site before. The library then knows the site only from ``deploymentType``,
    set here from the configuration as ``serverInfo`` would have set it: its Cloud-only
    helpers (``enhanced_search_issues`` is ``@cloud_api``) return None unless it says Cloud.
    Its version stays (0, 0, 0), which none of the calls pmsync makes through it (the two
    searches, ``fields``; everything else goes through its session) reads. With
    ``deployment: auto`` only the site can say, so it is always asked.
    """
    if not ask_server_info and config.deployment == "auto":
        raise ValueError("deployment: auto needs serverInfo to tell Cloud from Data Center")
    options = {"rest_api_version": config.rest_api_version, "check_update": False}
    common: dict[str, Any] = {
        "server": config.server.rstrip("/"),
        "options": options,
        "timeout": config.request_timeout_s,
        "max_retries": 0,
        "get_server_info": ask_server_info,
    }
    use_basic = config.deployment == "cloud" or (config.deployment == "auto" and email)
    if use_basic:
        jira = JIRA(basic_auth=(email or "", token.get_secret_value()), **common)
    else:
        jira = JIRA(token_auth=token.get_secret_value(), **common)
    if not ask_server_info:
        jira.deploymentType = "Cloud" if config.deployment == "cloud" else "Server"
    return jira


def deployment_of(config: JiraTracker, jira: JIRA) -> bool:
    """Whether the site ``jira`` reached is Cloud, checked against the configuration.

    A configured deployment that the site contradicts, or REST v3 (ADF) on Data Center, is a
    setting to fix, not a failure to retry.
    """
    server_cloud = jira.deploymentType == "Cloud"
    if config.deployment != "auto" and server_cloud != (config.deployment == "cloud"):
        actual = "Cloud" if server_cloud else "Data Center/Server"
        raise PermanentError(
            f"{config.server} is {actual} but trackers.jira[{config.name}]."
            f"deployment is {config.deployment}; fix the deployment setting"
        )
    if config.rest_api_version == "3" and not server_cloud:
        raise PermanentError(
            "REST v3 (ADF) exists on Cloud only; set rest_api_version: '2' for Data Center"
        )
    return server_cloud
