"""check-permissions tells, per repository, what the token may do and how to fix the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.emulators.github import GitHubEmulator
from connectors.github.permissions import check_github
from syncer.cli import main
from syncer.tracker_config import GitHubTracker
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
