"""check-permissions tells, per repository, what the token may do and how to fix the rest."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.emulators.github import GitHubEmulator
from connectors.github.permissions import api_root_hint, check_github
from syncer.cli.main import main
from syncer.core.tracker_config import GitHubTracker
from tests.emulators.conftest import rsa_key_pair
from tests.github.conftest import TOKEN, FakeClock


def config(emulator: GitHubEmulator, *repos: str) -> GitHubTracker:
    return GitHubTracker(base_url=emulator.base_url, repositories=list(repos))


class TestCheckGitHub:
    def test_an_admin_token_may_do_everything(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Four capabilities, all allowed, no fix needed."""
        emulator.add_repo("acme/api")
        checks = check_github(config(emulator, "acme/api"), SecretStr(TOKEN), clock)
        assert [(c.check, c.ok, c.fix) for c in checks] == [
            ("acme/api: read issues", True, ""),
            ("acme/api: create labels", True, ""),
            ("acme/api: apply labels and reopen", True, ""),
            ("acme/api: comment", True, ""),
        ]

    def test_a_read_only_token_cannot_create_labels_and_is_told_why(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Read access reads and comments; labels and reopening need more, with a fix."""
        emulator.add_repo("acme/api")
        emulator.set_permission("acme/api", emulator.login, "read")
        checks = {
            c.check.removeprefix("acme/api: "): c
            for c in check_github(config(emulator, "acme/api"), SecretStr(TOKEN), clock)
        }
        assert checks["read issues"].ok
        assert checks["comment"].ok
        assert not checks["create labels"].ok
        assert checks["create labels"].fix.startswith("grant write (push) on acme/api")
        assert not checks["apply labels and reopen"].ok
        assert checks["apply labels and reopen"].detail == "pmsync-bot has role read"

    def test_an_invisible_repository_fails_every_check_with_the_access_fix(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """404 on the repository: nothing is possible there."""
        checks = check_github(config(emulator, "acme/secret"), SecretStr(TOKEN), clock)
        assert len(checks) == 4
        assert not any(c.ok for c in checks)
        assert {c.detail for c in checks} == {"repository not found or not visible to this token"}
        assert "Issues: Read and write" in checks[0].fix


class WebPages(BaseHTTPRequestHandler):
    """A web server's answer to every path: an HTML page, as GHES's web UI gives at /user."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the answers, not the access log."""


@pytest.fixture
def web_ui() -> Iterator[str]:
    """The URL of a local web server that is not an API (a GHES host without /api/v3)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), WebPages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class TestMistakesThatFailEveryCheck:
    def test_a_refused_token_is_one_row_saying_so(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """A 401 is not repeated per repository and capability: one row, the token's source."""
        for repo in ("acme/api", "acme/web", "acme/platform"):
            emulator.add_repo(repo)
        tracker = GitHubTracker(
            base_url=emulator.base_url,
            repositories=["acme/api", "acme/web", "acme/platform"],
            token_env="PMSYNC_TEST_GH_TOKEN",
        )
        checks = check_github(tracker, SecretStr("expired-token"), clock)
        assert [(c.check, c.ok) for c in checks] == [("credentials", False)]
        assert checks[0].detail == "GitHub refused the token (HTTP 401); nothing else was checked"
        assert "not expired or revoked" in checks[0].fix

    def test_the_refusal_names_where_the_token_came_from(
        self, emulator: GitHubEmulator, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Read from the environment: the row names the variable to fix."""
        emulator.add_repo("acme/api")
        monkeypatch.setenv("PMSYNC_TEST_GH_TOKEN", "expired-token")
        tracker = GitHubTracker(
            base_url=emulator.base_url, repositories=["acme/api"], token_env="PMSYNC_TEST_GH_TOKEN"
        )
        (check,) = check_github(tracker, None, clock)
        assert check.detail.startswith("GitHub refused the token in $PMSYNC_TEST_GH_TOKEN")

    def test_a_github_app_whose_key_is_refused_is_one_row_naming_the_app(
        self, emulator: GitHubEmulator, clock: FakeClock, tmp_path: Path
    ) -> None:
        """The installation token cannot be made: the App's ids and key are what to check."""
        _, public = rsa_key_pair()
        other_private, _ = rsa_key_pair()
        emulator.add_app(42, installation_id=7, public_key=public)
        emulator.add_repo("acme/api")
        pem = tmp_path / "app.pem"
        pem.write_bytes(other_private)
        tracker = GitHubTracker.model_validate(
            {
                "base_url": emulator.base_url,
                "repositories": ["acme/api"],
                "app": {"app_id": 42, "private_key_file": str(pem), "installation_id": 7},
            }
        )
        (check,) = check_github(tracker, None, clock)
        assert (check.check, check.ok) == ("credentials", False)
        assert check.detail.startswith(
            "GitHub refused the GitHub App's credentials (app_id 42, installation_id 7"
        )

    def test_a_base_url_that_answers_404_everywhere_is_one_wrong_base_url_row(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """/user and the API root both 404: the base URL is wrong, not the repositories."""
        emulator.add_repo("acme/api")
        tracker = GitHubTracker(
            base_url=f"{emulator.base_url}/api/v3", repositories=["acme/api", "acme/web"]
        )
        checks = check_github(tracker, SecretStr(TOKEN), clock)
        assert [(c.check, c.ok) for c in checks] == [("base URL", False)]
        assert checks[0].detail == (
            f"{emulator.base_url}/api/v3 is not the GitHub REST API: GET /user answered HTTP 404 "
            "and GET / (the API root) HTTP 404; nothing else was checked"
        )
        assert "GitHub Enterprise Server wants https://HOST/api/v3" in checks[0].fix

    def test_a_web_server_s_html_pages_are_a_wrong_base_url_with_the_likely_one(
        self, web_ui: str, clock: FakeClock
    ) -> None:
        """A GHES host without /api/v3 serves its web UI; the fix names HOST/api/v3."""
        tracker = GitHubTracker(base_url=web_ui, repositories=["acme/api"])
        (check,) = check_github(tracker, SecretStr(TOKEN), clock)
        assert (check.check, check.ok) == ("base URL", False)
        assert "GET /user answered HTTP 200 with an HTML page" in check.detail
        assert check.fix.endswith(f"(here probably {web_ui}/api/v3)")

    def test_a_right_base_url_with_missing_repositories_still_checks_each(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """/user answers: the base URL is right, so a 404 really is a missing repository."""
        checks = check_github(config(emulator, "acme/gone", "acme/moved"), SecretStr(TOKEN), clock)
        assert len(checks) == 8
        assert {c.detail for c in checks} == {"repository not found or not visible to this token"}


class TestApiRootHint:
    @pytest.mark.parametrize(
        ("base_url", "hint"),
        [
            ("https://github.com", "https://api.github.com"),
            ("https://ghe.acme.com", "https://ghe.acme.com/api/v3"),
            ("https://ghe.acme.com:8443/", "https://ghe.acme.com:8443/api/v3"),
            ("https://ghe.acme.com/api/v3", None),
            ("https://api.github.com", None),
        ],
    )
    def test_the_likely_api_url_is_guessed_from_the_host(
        self, base_url: str, hint: str | None
    ) -> None:
        """github.com means api.github.com; another host without /api/v3 gets it appended."""
        assert api_root_hint(base_url) == hint


class TestCommand:
    def test_the_command_exits_1_when_a_check_fails_and_prints_json(
        self,
        emulator: GitHubEmulator,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Exit 1 with a failing check; --json lists every check."""
        emulator.add_repo("acme/api")
        monkeypatch.setenv("PMSYNC_TEST_GH_TOKEN", TOKEN)
        policy = tmp_path / "policy.yaml"
        policy.write_text(
            "version: t\n"
            "trackers:\n"
            "  github:\n"
            f"    - base_url: {emulator.base_url}\n"
            "      token_env: PMSYNC_TEST_GH_TOKEN\n"
            "      repositories: [acme/api, acme/missing]\n",
            encoding="utf-8",
        )
        assert main(["check-permissions", "--config", str(policy), "--json"]) == 1
        # stdout is the JSON alone: the 404's warning went to stderr, as a log line.
        captured = capsys.readouterr()
        rows = json.loads(captured.out)
        assert "acme/missing" in captured.err
        assert [(r["check"].split(":")[0], r["ok"]) for r in rows] == [("acme/api", True)] * 4 + [
            ("acme/missing", False)
        ] * 4

    def test_a_refused_token_prints_one_row_in_the_table(
        self,
        emulator: GitHubEmulator,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The table a person reads: one failed row instead of twelve identical HTTP 401s."""
        for repo in ("acme/api", "acme/web", "acme/platform"):
            emulator.add_repo(repo)
        monkeypatch.setenv("PMSYNC_TEST_GH_TOKEN", "revoked")
        monkeypatch.setenv("COLUMNS", "160")
        policy = tmp_path / "policy.yaml"
        policy.write_text(
            "version: t\n"
            "trackers:\n"
            "  github:\n"
            f"    - base_url: {emulator.base_url}\n"
            "      token_env: PMSYNC_TEST_GH_TOKEN\n"
            "      repositories: [acme/api, acme/web, acme/platform]\n",
            encoding="utf-8",
        )
        assert main(["check-permissions", "--config", str(policy)]) == 1
        out = capsys.readouterr().out
        assert out.count("│ github") == 1
        assert "HTTP 401" in out
        assert "$PMSYNC_TEST_GH_TOKEN" in out
