"""Credentials come from the argument, a file or the environment, and errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.jira.session import read_credentials
from syncer.core.errors import ConfigError
from syncer.core.tracker_config import JiraTracker


def _config(**changes: object) -> JiraTracker:
    return JiraTracker.model_validate({"server": "https://acme.atlassian.net", **changes})


class TestReadCredentials:
    def test_a_token_file_wins_over_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """token_file is read (and stripped) before token_env."""
        token_file = tmp_path / "jira-token"
        token_file.write_text("from-file\n")
        monkeypatch.setenv("JIRA_API_TOKEN", "from-env")
        monkeypatch.setenv("JIRA_EMAIL", "bot@acme.test")
        token, email = read_credentials(_config(token_file=token_file), None, None)
        assert token.get_secret_value() == "from-file"
        assert email == "bot@acme.test"

    def test_the_named_environment_variables_are_used(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """token_env and email_env name the variables."""
        monkeypatch.setenv("REL_JIRA_PAT", "pat-123")
        monkeypatch.delenv("JIRA_EMAIL", raising=False)
        token, email = read_credentials(
            _config(token_env="REL_JIRA_PAT", deployment="datacenter"), None, None
        )
        assert token.get_secret_value() == "pat-123"
        assert email is None

    def test_arguments_win_over_everything(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Explicit token and email are used as given."""
        monkeypatch.setenv("JIRA_API_TOKEN", "from-env")
        token, email = read_credentials(_config(), SecretStr("arg"), "me@acme.test")
        assert (token.get_secret_value(), email) == ("arg", "me@acme.test")

    def test_a_missing_token_names_the_variable_and_the_fix(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """No token anywhere: ConfigError naming JIRA_API_TOKEN and token_file."""
        monkeypatch.delenv("JIRA_API_TOKEN", raising=False)
        with pytest.raises(ConfigError) as caught:
            read_credentials(_config(), None, None)
        assert caught.value.problems == [
            "trackers.jira[jira]: no token; set JIRA_API_TOKEN or token_file (an API token on "
            "Cloud, a personal access token on Data Center)"
        ]

    def test_cloud_without_an_email_is_a_config_error(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Cloud basic auth needs the account email."""
        monkeypatch.delenv("JIRA_EMAIL", raising=False)
        with pytest.raises(ConfigError, match="set JIRA_EMAIL"):
            read_credentials(_config(deployment="cloud"), SecretStr("t-secret"), None)

    def test_an_unreadable_token_file_is_a_config_error(self, tmp_path: Path) -> None:
        """The path and the fix are in the message, the token never is."""
        with pytest.raises(ConfigError, match="token_file: cannot read"):
            read_credentials(_config(token_file=tmp_path / "absent"), None, "x@acme.test")
