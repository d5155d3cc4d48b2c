"""Typed errors by status and headers, a retry that never repeats writes, and credentials."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import urllib3
from github import Auth
from pydantic import SecretStr

from connectors.github.client import classify, make_auth, make_retry, read_token, web_host
from connectors.github.verify import web_origins
from syncer.core.errors import ConfigError, PermanentError, RateLimited, TransientError
from syncer.core.tracker_config import GitHubTracker

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class TestClassify:
    def test_success_and_not_modified_are_not_errors(self) -> None:
        """2xx and 304 pass."""
        assert classify(200, {}, NOW, "x") is None
        assert classify(304, {}, NOW, "x") is None

    @pytest.mark.parametrize("status", [403, 429])
    def test_an_exhausted_primary_limit_is_rate_limited_until_reset(self, status: int) -> None:
        """x-ratelimit-remaining 0 wins, with reset_at from x-ratelimit-reset."""
        reset = int((NOW + timedelta(minutes=30)).timestamp())
        error = classify(
            status, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}, NOW, "x"
        )
        assert isinstance(error, RateLimited)
        assert error.reset_at == NOW + timedelta(minutes=30)
        assert error.reason == "primary"

    @pytest.mark.parametrize("status", [403, 429])
    def test_retry_after_is_a_secondary_limit(self, status: int) -> None:
        """retry-after gives reset_at = now + seconds."""
        error = classify(status, {"retry-after": "120", "x-ratelimit-remaining": "4000"}, NOW, "x")
        assert isinstance(error, RateLimited)
        assert error.reset_at == NOW + timedelta(seconds=120)
        assert error.reason == "secondary"

    def test_a_bare_429_waits_a_minute(self) -> None:
        """GitHub asks to wait at least 60 s when it says nothing else."""
        error = classify(429, {}, NOW, "x")
        assert isinstance(error, RateLimited)
        assert error.reset_at == NOW + timedelta(seconds=60)

    @pytest.mark.parametrize("status", [401, 403, 404, 410, 422])
    def test_client_errors_without_limit_headers_are_permanent(self, status: int) -> None:
        """No limit headers: retrying will not help."""
        error = classify(status, {"x-ratelimit-remaining": "4999"}, NOW, "list issues of a/b")
        assert isinstance(error, PermanentError)
        assert (error.status, str(error)) == (status, f"list issues of a/b: HTTP {status}")

    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_server_errors_are_transient(self, status: int) -> None:
        """5xx is worth retrying next cycle."""
        error = classify(status, {"retry-after": "5"}, NOW, "x")
        assert isinstance(error, TransientError)
        assert error.retry_after == 5


class TestRetry:
    def test_a_failed_post_is_never_retried(self) -> None:
        """Even a connection error on POST is raised at once."""
        retry = make_retry()
        boom = urllib3.exceptions.ProtocolError("connection dropped")
        with pytest.raises(urllib3.exceptions.ProtocolError):
            retry.increment(method="POST", url="/x", error=boom)
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            retry.increment(method="PATCH", url="/x")

    def test_a_get_is_retried_at_most_twice_on_gateway_errors(self) -> None:
        """Only 502/503/504 on GET, two times, with backoff."""
        retry = make_retry()
        assert retry.is_retry("GET", 502)
        assert retry.is_retry("GET", 504)
        assert not retry.is_retry("GET", 500)
        assert not retry.is_retry("POST", 502)
        assert not retry.is_retry("DELETE", 503)
        once = retry.increment(method="GET", url="/x")
        twice = once.increment(method="GET", url="/x")
        with pytest.raises(urllib3.exceptions.MaxRetryError):
            twice.increment(method="GET", url="/x")


class TestCredentials:
    def test_the_token_file_wins_over_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """token_file is read and stripped; the env var is the fallback."""
        monkeypatch.setenv("GH_TEST_TOKEN", "from-env")
        token_file = tmp_path / "token"
        token_file.write_text("from-file\n", encoding="utf-8")
        with_file = GitHubTracker(token_env="GH_TEST_TOKEN", token_file=token_file)
        assert read_token(with_file) == SecretStr("from-file")
        assert read_token(GitHubTracker(token_env="GH_TEST_TOKEN")) == SecretStr("from-env")

    def test_no_credentials_is_a_config_error_naming_the_fix(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The message says which variable or key to set."""
        monkeypatch.delenv("GH_ABSENT_TOKEN", raising=False)
        with pytest.raises(ConfigError) as caught:
            make_auth(GitHubTracker(name="prod", token_env="GH_ABSENT_TOKEN"))
        assert caught.value.problems == [
            "trackers.github[prod]: no credentials; set the GH_ABSENT_TOKEN environment "
            "variable, token_file, or app (app_id, private_key_file, installation_id)"
        ]

    def test_a_token_is_never_shown_in_its_repr(self) -> None:
        """SecretStr and PyGithub's auth both mask it."""
        auth = make_auth(GitHubTracker(), SecretStr("ghp_supersecret"))
        assert isinstance(auth, Auth.Token)
        assert "ghp_supersecret" not in repr(SecretStr("ghp_supersecret"))
        headers = {"Authorization": "token ghp_supersecret"}
        auth.mask_authentication(headers)
        assert "ghp_supersecret" not in str(headers)

    def test_github_app_auth_is_used_when_configured(self, tmp_path: Path) -> None:
        """app_id, private key file and installation id give an installation auth."""
        pytest.importorskip("cryptography")
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = tmp_path / "app.pem"
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        config = GitHubTracker.model_validate(
            {"app": {"app_id": 12, "private_key_file": str(pem), "installation_id": 34}}
        )
        auth = make_auth(config)
        assert isinstance(auth, Auth.AppInstallationAuth)
        assert auth.installation_id == 34

    def test_web_host_of_github_com_and_enterprise(self) -> None:
        """api.github.com shows pages on github.com; GHES on its own host."""
        assert web_host("https://api.github.com") == "github.com"
        assert web_host("https://ghe.acme.io/api/v3") == "ghe.acme.io"

    def test_evidence_links_are_served_on_the_web_host_the_base_url_implies(self) -> None:
        """github.com for api.github.com, HOST for GHES, X for GHE.com's api.X; plus web_url."""

        def origins(**config: str) -> set[tuple[str, int | None]]:
            return web_origins(GitHubTracker.model_validate(config))

        assert origins() == {("github.com", 443)}
        assert origins(base_url="https://ghe.acme.io/api/v3") == {("ghe.acme.io", 443)}
        assert origins(base_url="https://api.acme.ghe.com") == {("acme.ghe.com", 443)}
        assert origins(base_url="http://127.0.0.1:8099/api/v3", web_url="https://github.com") == {
            ("127.0.0.1", 8099),
            ("github.com", 443),
        }
