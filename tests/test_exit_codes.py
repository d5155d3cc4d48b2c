"""Exit codes CI can rely on, through ``main()`` against the emulators.

0 done, 1 findings asked to fail on, 2 bad input, 3 a write failed or a tracker could not be
read, 4 work left for later (budget, rate limit); 2 before 3 before 1 before 4 before 0.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.github import Faults, GitHubEmulator, Refusal
from connectors.emulators.jira import JiraEmulator
from syncer.cli.main import main
from syncer.core.exit_codes import ExitCode, worst
from tests.builders import EXAMPLE_POLICY
from tests.builders import REPO as CHECKOUT
from tests.service.support import (
    REPO,
    TOKEN,
    TOKEN_ENV,
    add_overdue,
    policy_dict,
    seed_repo,
    write_policy,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ITEMS = CHECKOUT / "config" / "examples" / "items.json"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubEmulator]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    emu = GitHubEmulator(token=TOKEN, clock=Clock())
    emu.start()
    seed_repo(emu)
    try:
        yield emu
    finally:
        emu.stop()


def policy_file(tmp_path: Path, emu: GitHubEmulator, **changes: Any) -> str:
    data = policy_dict(emu.base_url)
    data.update(changes)
    return str(write_policy(tmp_path / "policy.yaml", data))


def run_once(tmp_path: Path, policy: str, *extra: str) -> int:
    state = f"sqlite:///{tmp_path / 'state.db'}"
    return main(
        ["run", "--once", "--config", policy, "--state", state, "--now", NOW.isoformat(), *extra]
    )


class TestRunOnce:
    def test_a_cycle_that_did_everything_exits_0(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        add_overdue(github, 2)
        assert run_once(tmp_path, policy_file(tmp_path, github)) == ExitCode.OK

    def test_a_refused_comment_exits_3_and_the_log_has_githubs_message(
        self, github: GitHubEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """403 on the comment POST: not 0, and the message is more than ``HTTP 403``."""
        add_overdue(github, 1)
        github.faults = Faults(refusals=(Refusal("POST", r"/issues/\d+/comments$"),))
        assert run_once(tmp_path, policy_file(tmp_path, github)) == ExitCode.TRACKER_FAILED
        captured = capsys.readouterr()
        lines = [json.loads(line) for line in captured.err.splitlines() if line.startswith("{")]
        [failed] = [e for e in lines if e["event"] == "write failed; retried next cycle"]
        assert failed["error"].endswith(
            "HTTP 403: Resource not accessible by personal access token "
            "(https://docs.github.com/rest/issues/comments#create-an-issue-comment)"
        )
        printed = " ".join(captured.out.split())  # the console wraps long lines
        assert "HTTP 403: Resource not accessible by personal access token" in printed

    def test_work_cut_by_the_budget_exits_4(self, github: GitHubEmulator, tmp_path: Path) -> None:
        add_overdue(github, 3)
        policy = policy_file(tmp_path, github, operations={"max_writes_per_cycle": 2})
        assert run_once(tmp_path, policy) == ExitCode.WORK_LEFT

    def test_a_dry_run_leaves_no_work_behind_and_exits_0(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        add_overdue(github, 3)
        policy = policy_file(tmp_path, github, operations={"max_writes_per_cycle": 2})
        assert run_once(tmp_path, policy, "--dry-run") == ExitCode.OK

    def test_a_rate_limited_tracker_exits_4(self, github: GitHubEmulator, tmp_path: Path) -> None:
        add_overdue(github, 1)
        github.faults = Faults(rate_429_rate=1.0)
        assert run_once(tmp_path, policy_file(tmp_path, github)) == ExitCode.WORK_LEFT

    def test_a_tracker_that_cannot_be_read_exits_3(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        add_overdue(github, 1)
        github.faults = Faults(error_5xx_rate=1.0)
        assert run_once(tmp_path, policy_file(tmp_path, github)) == ExitCode.TRACKER_FAILED

    def test_a_failure_outranks_violations_and_violations_outrank_work_left(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        add_overdue(github, 3)
        policy = policy_file(tmp_path, github, operations={"max_writes_per_cycle": 2})
        assert run_once(tmp_path, policy, "--fail-on-violations") == ExitCode.FINDINGS
        github.faults = Faults(refusals=(Refusal("POST", r"/issues/\d+/comments$"),))
        assert run_once(tmp_path, policy, "--fail-on-violations") == ExitCode.TRACKER_FAILED


class TestJiraRunOnce:
    def test_a_closure_that_cannot_be_reopened_is_reported_once_and_exits_0(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The fallback did its job: exit 0, with the transition problem in the output."""
        monkeypatch.setenv("JIRA_EMAIL", "bot@acme.test")
        monkeypatch.setenv("JIRA_API_TOKEN", "t0ken")
        with JiraEmulator(mode="cloud", email="bot@acme.test", token="t0ken") as jira:
            jira.add_project("REL", "Reliability")
            jira.set_workflow([("31", "Done", ("To Do", "In Progress"), "Done")])
            for n in range(2):
                jira.add_issue(
                    "REL",
                    f"Closed too early {n}",
                    labels=["postmortem-action"],
                    priority="High",
                    status="Done",
                    created="-20d",
                    resolutiondate="-1d",
                )
            data = {
                "version": "t",
                "trackers": {
                    "jira": [
                        {
                            "name": "jira",
                            "server": jira.base_url,
                            "deployment": "cloud",
                            "jql": "project = REL AND labels = postmortem-action",
                            "fields": {"owner": "assignee", "due": "duedate"},
                        }
                    ]
                },
                "report": {"enabled": False},
            }
            policy = str(write_policy(tmp_path / "policy.yaml", data))
            code = run_once(tmp_path, policy)
            out = capsys.readouterr()
            assert code == ExitCode.OK
            assert jira.labels_of("REL-1") == ["postmortem-action", "pmsync/closure-rejected"]
        lines = [json.loads(line) for line in out.err.splitlines() if line.startswith("{")]
        warnings = [e for e in lines if e["event"].startswith("cannot reopen")]
        assert [w["items"] for w in warnings] == [["REL-1", "REL-2"]]
        assert "jira: could not reopen 2 rejected closure(s) (REL-1, REL-2)" in out.out


class TestPlanItems:
    def write(self, tmp_path: Path, data: object) -> str:
        path = tmp_path / "items.json"
        path.write_text(json.dumps(data))
        return str(path)

    def test_a_file_where_every_item_is_invalid_is_bad_input(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        items = self.write(tmp_path, {"items": [{"ref": {"tracker": "github"}}, {"title": 3}]})
        code = main(["plan", "--items", items, "--config", str(EXAMPLE_POLICY)])
        assert code == ExitCode.BAD_INPUT
        assert "no valid item: all 2 entries are invalid" in capsys.readouterr().err

    def test_an_empty_list_is_bad_input(self, tmp_path: Path) -> None:
        items = self.write(tmp_path, [])
        assert main(["plan", "--items", items, "--config", str(EXAMPLE_POLICY)]) == 2

    def test_bad_input_outranks_fail_on_violations(self, tmp_path: Path) -> None:
        items = self.write(tmp_path, [{"nope": True}])
        args = ["plan", "--items", items, "--config", str(EXAMPLE_POLICY), "--fail-on-violations"]
        assert main(args) == ExitCode.BAD_INPUT

    def test_violations_exit_1_only_when_asked(self) -> None:
        args = [
            "plan",
            "--items",
            str(ITEMS),
            "--config",
            str(EXAMPLE_POLICY),
            "--now",
            NOW.isoformat(),
        ]
        assert main(args) == ExitCode.OK
        assert main([*args, "--fail-on-violations"]) == ExitCode.FINDINGS


class TestOtherCommands:
    def test_a_refused_review_issue_exits_3(self, github: GitHubEmulator, tmp_path: Path) -> None:
        add_overdue(github, 1)
        policy = policy_file(tmp_path, github, report={"enabled": True})
        github.faults = Faults(refusals=(Refusal("POST", r"^/repos/acme/api/issues$"),))
        state = f"sqlite:///{tmp_path / 'state.db'}"
        args = ["report", "--config", policy, "--state", state, "--now", NOW.isoformat()]
        assert main(args) == ExitCode.TRACKER_FAILED

    def test_a_review_waiting_for_budget_exits_4(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        policy = policy_file(
            tmp_path, github, report={"enabled": True}, operations={"max_writes_per_cycle": 1}
        )
        state = f"sqlite:///{tmp_path / 'state.db'}"
        args = ["report", "--config", policy, "--state", state, "--now", NOW.isoformat()]
        assert main(args) == ExitCode.WORK_LEFT

    def test_check_permissions_on_an_unanswering_tracker_exits_3(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        github.faults = Faults(error_5xx_rate=1.0)
        args = ["check-permissions", "--config", policy_file(tmp_path, github)]
        assert main(args) == ExitCode.TRACKER_FAILED

    def test_check_permissions_with_a_missing_permission_exits_1(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        github.set_permission(REPO, "pmsync-bot", "read")
        args = ["check-permissions", "--config", policy_file(tmp_path, github)]
        assert main(args) == ExitCode.FINDINGS


class TestDocumented:
    def test_help_lists_every_exit_code_and_the_precedence(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        with pytest.raises(SystemExit):
            main(["--help"])
        out = capsys.readouterr().out
        for line in ("0  done", "1  findings", "2  bad input", "3  a write failed", "4  work left"):
            assert line in out
        assert "2 before 3 before 1 before 4 before 0" in out

    def test_the_readme_documents_the_same_codes(self) -> None:
        readme = (CHECKOUT / "README.md").read_text(encoding="utf-8")
        commands = readme[readme.index("## Commands") : readme.index("## Architecture")]
        for code in ExitCode:
            assert f"**{code.value}**" in commands
        assert "2 before 3 before 1 before 4 before 0" in commands

    @pytest.mark.parametrize(
        ("codes", "wins"),
        [((), 0), ((0, 4), 4), ((4, 1), 1), ((1, 3, 4), 3), ((3, 2), 2), ((0, 0), 0)],
    )
    def test_the_most_serious_code_wins(self, codes: tuple[int, ...], wins: int) -> None:
        assert worst(*codes) == wins
