"""GitHub refusing a write: the fallback for a reopen, and GitHub's own words in the log.

A fine-grained token without Issues write, or a repository whose issues were disabled, makes
GitHub answer 403 or 410 with a JSON ``message``. These tests inject exactly those answers in
the emulator and run whole cycles through the real connector and applier.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from structlog.testing import capture_logs

from connectors.emulators.github import Faults, GitHubEmulator, Refusal
from syncer.core.apply import Applier
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.exit_codes import ExitCode
from syncer.core.ledger import MemoryLedger
from syncer.core.policy import Policy
from tests.builders import example_policy
from tests.github.conftest import ConnectorFactory, FakeClock

REPO = "acme/api"
FORM = """### Postmortem

https://wiki.example.com/pm/42

### Due date

2026-11-03

### Sponsor

@bob

### Evidence

_No response_
"""
PATCH_ISSUE = Refusal("PATCH", r"^/repos/acme/api/issues/\d+$")
COMMENT = Refusal("POST", r"/issues/\d+/comments$")


def closed_without_evidence(emulator: GitHubEmulator, clock: FakeClock) -> int:
    emulator.add_repo(REPO)
    return emulator.add_issue(
        REPO,
        "Add a retry budget",
        labels=["postmortem-action", "P1", "sev-2"],
        assignees=["alice"],
        body=FORM,
        state="closed",
        state_reason="completed",
        created_at=clock() - timedelta(days=40),
        closed_at=clock() - timedelta(days=2),
    )


def overdue(emulator: GitHubEmulator, clock: FakeClock) -> int:
    emulator.add_repo(REPO)
    return emulator.add_issue(
        REPO,
        "Add a retry budget",
        labels=["postmortem-action", "P1", "sev-2"],
        assignees=["alice"],
        body=FORM,
        created_at=clock() - timedelta(days=40),
    )


def run(make_connector: ConnectorFactory, clock: FakeClock, policy: Policy) -> CycleOutcome:
    connector = make_connector([REPO], policy=policy)
    applier = Applier(
        {connector.name: connector}, MemoryLedger(), clock, cycle_id="c", policy_version="t"
    )
    return run_cycle(
        trackers=[connector], policy=policy, now=clock(), executor=applier, cycle_id="c"
    )


class TestReopenRefused:
    @pytest.mark.parametrize(
        ("status", "message"),
        [
            (403, "Resource not accessible by personal access token"),
            (410, "Issues are disabled for this repo"),
        ],
    )
    def test_a_refused_reopen_leaves_the_issue_closed_labelled_and_not_escalated(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        status: int,
        message: str,
    ) -> None:
        """403 or 410 on PATCH state: one rejection comment, the violation label, no tier."""
        number = closed_without_evidence(emulator, clock)
        emulator.faults = Faults(refusals=(Refusal("PATCH", PATCH_ISSUE.path, status, message),))
        policy = example_policy()
        outcome = run(make_connector, clock, policy)
        assert outcome.result.failed == []
        [fallback] = outcome.result.fallbacks
        assert fallback.key == f"{REPO}#{number}"
        assert message in fallback.error
        assert emulator.issue(REPO, number)["state"] == "closed"
        assert len(emulator.comments(REPO, number)) == 1
        assert set(emulator.labels_of(REPO, number)) == {
            "postmortem-action",
            "P1",
            "sev-2",
            "pmsync/closure-rejected",
        }
        clock.advance(hours=1)
        again = run(make_connector, clock, policy)
        assert len(again.result.fallbacks) == 1
        assert len(emulator.comments(REPO, number)) == 1
        assert "pmsync/overdue" not in emulator.labels_of(REPO, number)


class TestWriteRefused:
    def test_a_403_on_a_comment_is_a_failure_with_githubs_message_in_the_log(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The log line carries GitHub's message and documentation URL; the run exits 3."""
        number = overdue(emulator, clock)
        emulator.faults = Faults(refusals=(COMMENT,))
        with capture_logs() as logs:
            outcome = run(make_connector, clock, example_policy())
        [failed] = outcome.result.failed
        assert failed.action.kind == "comment"
        assert failed.error == (
            f"comment on {REPO}#{number}: HTTP 403: Resource not accessible by personal access "
            "token (https://docs.github.com/rest/issues/comments#create-an-issue-comment)"
        )
        [line] = [e for e in logs if e["event"] == "write failed; retried next cycle"]
        assert "Resource not accessible by personal access token" in line["error"]
        assert outcome.exit_code(writing=True) is ExitCode.TRACKER_FAILED
        assert emulator.labels_of(REPO, number) == ["postmortem-action", "P1", "sev-2"]
