"""The write budget is spent in requests: on the Jira emulator, spent equals writes received.

One run removes three labels and adds two (one PUT each way), posts a comment (its POST and
the marker index PUT) and publishes the weekly review (the issue, the trend chart, the report
property) and the log entry (the log issue, the comment, its index). The budget the applier
charged is compared with the emulator's own count of write requests answered 2xx; reads Jira
takes as a POST (``comment/list``) are not writes on either side.
"""

from __future__ import annotations

from collections import Counter

from syncer.core.actions import AddLabels, ItemChange, Plan, PostComment, RemoveLabels
from syncer.core.apply import ApplyResult, choose_executor
from syncer.core.evaluate import evaluate
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Message, Text
from syncer.core.model import ItemRef, Priority, Severity
from syncer.core.policy import Policy, Report
from syncer.core.tracker import Tracker
from syncer.core.tracker_config import Trackers
from syncer.report import build_report, report_changes
from syncer.service.wiring import document_renderer
from tests.builders import NOW, example_policy, item
from tests.jira.conftest import Site

OLD_LABELS = ("pmsync-overdue", "pmsync-due-soon", "pmsync-escalated-sponsor")
NEW_LABELS = ("pmsync-escalated-executive", "pmsync-needs-owner")


def write_requests(counters: Counter[tuple[str, str, int]]) -> int:
    """Requests that change something, as the emulator answered them (non-GET, 2xx)."""
    return sum(
        n
        for (method, template, status), n in counters.items()
        if method != "GET" and 200 <= status < 300 and not template.endswith("/comment/list")
    )


def report_policy(site: Site) -> Policy:
    return example_policy().model_copy(
        update={"trackers": Trackers(jira=[site.config()]), "report": Report()}
    )


def run(tracker: Tracker, site: Site, changes: list[ItemChange], budget: int) -> ApplyResult:
    executor, _ = choose_executor(
        dry_run=False,
        shadow=False,
        trackers={tracker.name: tracker},
        ledger=MemoryLedger(),
        clock=site.clock,
        cycle_id="budget",
        policy_version="test",
    )
    return executor.execute(Plan(changes=tuple(changes), budget=budget))


class TestBudgetInRequests:
    def test_budget_spent_equals_the_write_requests_the_emulator_answered(self, site: Site) -> None:
        """Labels both ways, a comment, the review with its chart and the log entry: every
        write request is charged, and nothing else."""
        key = site.add_action("Rotate keys", labels=list(OLD_LABELS))
        policy = report_policy(site)
        connector = site.connector(policy)
        ref = ItemRef(tracker="jira", key=key)
        comment = PostComment(
            ref=ref, message=Message(marker="pmsync:test:budget", parts=(Text(text="Overdue."),))
        )
        items = [item("REL-900", tracker="jira", priority=Priority.P0, severity=Severity.SEV1)]
        report = build_report(evaluate(items, policy, NOW), policy, NOW)
        changes = [
            ItemChange(
                key=key,
                actions=(
                    comment,
                    RemoveLabels(ref=ref, labels=OLD_LABELS),
                    AddLabels(ref=ref, labels=NEW_LABELS),
                ),
            ),
            *report_changes(report, policy, "jira", document_renderer(policy, "jira")),
        ]
        site.reset()

        result = run(connector, site, changes, budget=50)

        assert [f.error for f in result.failed] == []
        assert result.backlog == []
        assert result.spent == write_requests(site.requests())
        # 2 for the comment + 2 label PUTs; the review: issue, chart upload, property; the
        # log: its issue, the comment and the index.
        assert result.spent == 10
        assert sorted(site.emulator.labels_of(key)) == sorted(["postmortem-action", *NEW_LABELS])

    def test_a_review_whose_requests_exceed_the_budget_waits_and_sends_nothing(
        self, site: Site
    ) -> None:
        """A review with its chart is stated at five requests: a budget of three defers it."""
        policy = report_policy(site)
        connector = site.connector(policy)
        items = [item("REL-900", tracker="jira", priority=Priority.P0, severity=Severity.SEV1)]
        report = build_report(evaluate(items, policy, NOW), policy, NOW)
        review, _log = report_changes(report, policy, "jira", document_renderer(policy, "jira"))
        site.reset()

        result = run(connector, site, [review], budget=3)

        assert [d.key for d in result.backlog] == [review.key]
        assert (result.spent, write_requests(site.requests())) == (0, 0)


class TestIsWrite:
    """Which requests the Jira connector counts as writes, whichever form the path has."""

    def test_a_read_sent_as_post_is_not_a_write_with_or_without_its_prefix(self) -> None:
        from connectors.jira.costs import is_write
        from connectors.jira.transport import READS_SENT_AS_POST

        # The session hook sees URL paths; an unanswered request only its "VERB path" name.
        assert not is_write("POST", "/rest/api/3/comment/list", READS_SENT_AS_POST)
        assert not is_write("POST", "comment/list", READS_SENT_AS_POST)
        assert is_write("POST", "issue/REL-4/comment", READS_SENT_AS_POST)
        assert is_write("PUT", "/rest/api/2/issue/REL-4", READS_SENT_AS_POST)
        assert not is_write("GET", "/rest/api/2/issue/REL-4", READS_SENT_AS_POST)
