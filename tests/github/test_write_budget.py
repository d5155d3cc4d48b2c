"""The write budget is spent in requests: on the GitHub emulator, spent equals writes received.

One run removes three labels (three DELETEs), adds two labels the repository lacks (two label
POSTs, then one POST on the issue), posts a comment, publishes the weekly review and the log
entry, and files a postmortem with its four action items. The budget the applier charged is
compared with the emulator's own count of write requests answered 2xx, not with anything the
connector says about itself.
"""

from __future__ import annotations

from pathlib import Path

from connectors.emulators.github import GitHubEmulator
from connectors.github import GitHubConnector
from connectors.github.filer import GitHubFiler
from connectors.github.renderer import GitHubDocuments
from syncer.core.actions import AddLabels, ItemChange, Plan, PostComment, RemoveLabels
from syncer.core.apply import ApplyResult, choose_executor
from syncer.core.evaluate import evaluate
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Message, Text
from syncer.core.model import ItemRef, Priority, Severity
from syncer.core.policy import Policy, Report
from syncer.core.tracker import Tracker
from syncer.postmortem.filing_apply import FilingResult, file_incident
from syncer.postmortem.filing_model import FilingLabels
from syncer.postmortem.record import load_file
from syncer.report import build_report, report_changes
from tests.builders import NOW, example_policy, item

from .conftest import ConnectorFactory, FakeClock

INCIDENT = Path(__file__).parents[1] / "postmortem" / "data" / "incident.yaml"
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")  # the record's owners and sponsors
OLD_LABELS = ("pmsync/overdue", "pmsync/due-soon", "pmsync/escalated-sponsor")
NEW_LABELS = ("pmsync/escalated-executive", "pmsync/needs-owner")


def write_requests(emulator: GitHubEmulator) -> int:
    """Requests that change something, as the emulator answered them (non-GET, 2xx)."""
    return sum(n for (m, _, s), n in emulator.counters.items() if m != "GET" and 200 <= s < 300)


def report_policy() -> Policy:
    return example_policy().model_copy(update={"report": Report()})


def item_changes(ref: ItemRef) -> ItemChange:
    comment = PostComment(
        ref=ref, message=Message(marker="pmsync:test:budget", parts=(Text(text="Overdue."),))
    )
    return ItemChange(
        key=ref.key,
        actions=(
            comment,
            RemoveLabels(ref=ref, labels=OLD_LABELS),
            AddLabels(ref=ref, labels=NEW_LABELS),
        ),
    )


def review_changes(policy: Policy) -> list[ItemChange]:
    items = [item("acme/api#900", priority=Priority.P0, severity=Severity.SEV1)]
    report = build_report(evaluate(items, policy, NOW), policy, NOW)
    return report_changes(report, policy, "github", GitHubDocuments())


def file_postmortem(connector: GitHubConnector, policy: Policy) -> FilingResult:
    """The example postmortem filed in acme/api through the connector's transport."""
    today = NOW.date()
    record = load_file(INCIDENT, policy, today)
    labels = FilingLabels.for_tracker()
    filer = GitHubFiler(connector, "acme/api", labels)
    return file_incident(filer, record.incident, policy, today, labels, tracker="github")


def run(tracker: Tracker, clock: FakeClock, changes: list[ItemChange], budget: int) -> ApplyResult:
    executor, _ = choose_executor(
        dry_run=False,
        shadow=False,
        trackers={tracker.name: tracker},
        ledger=MemoryLedger(),
        clock=clock,
        cycle_id="budget",
        policy_version="test",
    )
    return executor.execute(Plan(changes=tuple(changes), budget=budget))


class TestBudgetInRequests:
    def test_budget_spent_equals_the_write_requests_the_emulator_answered(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Labels removed one DELETE each, labels created, a comment, the review and the log:
        every write request is charged, and nothing else."""
        emulator.add_repo("acme/api")
        for login in PEOPLE:
            emulator.set_permission("acme/api", login, "write")
        number = emulator.add_issue("acme/api", "Rotate keys", labels=["postmortem-action"])
        for label in OLD_LABELS:
            emulator.add_label("acme/api", label)
        emulator.edit_issue("acme/api", number, "alice", labels=["postmortem-action", *OLD_LABELS])
        policy = report_policy()
        connector = make_connector(policy=policy)
        ref = ItemRef(tracker="github", key=f"acme/api#{number}")
        emulator.reset_counters()

        changes = [item_changes(ref), *review_changes(policy)]
        result = run(connector, clock, changes, budget=50)
        filing = file_postmortem(connector, policy)

        assert [f.error for f in [*result.failed, *filing.failed]] == []
        assert result.backlog == []
        assert result.spent + filing.spent == write_requests(emulator)
        # 1 comment + 3 DELETEs + 2 label POSTs + 1 label POST on the issue; the review: its
        # label and the issue; the log: its label, the log issue and the week's comment.
        assert result.spent == 12
        assert len([a for c in changes for a in c.actions]) == 5
        # The postmortem and its four action items: one POST each; each item attached as a
        # sub-issue of the postmortem: one POST each.
        assert (filing.spent, filing.created, filing.linked) == (9, 5, 4)
        assert sorted(emulator.labels_of("acme/api", number)) == sorted(
            ["postmortem-action", *NEW_LABELS]
        )

    def test_a_change_whose_requests_exceed_the_budget_waits_and_sends_nothing(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Removing three labels is three requests: a budget of two defers it whole."""
        emulator.add_repo("acme/api")
        for label in OLD_LABELS:
            emulator.add_label("acme/api", label)
        number = emulator.add_issue("acme/api", "Rotate keys", labels=list(OLD_LABELS))
        connector = make_connector()
        ref = ItemRef(tracker="github", key=f"acme/api#{number}")
        emulator.reset_counters()

        change = ItemChange(key=ref.key, actions=(RemoveLabels(ref=ref, labels=OLD_LABELS),))
        result = run(connector, clock, [change], budget=2)

        assert [d.key for d in result.backlog] == [ref.key]
        assert (result.spent, write_requests(emulator)) == (0, 0)
        assert sorted(emulator.labels_of("acme/api", number)) == sorted(OLD_LABELS)

    def test_a_dry_run_of_the_review_plans_both_writes_and_sends_none(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """``pmsync report --dry-run`` publishes through the DryRun executor: planned, unsent."""
        from syncer.cli.report import publish

        emulator.add_repo("acme/api")
        policy = report_policy()
        connector = make_connector(policy=policy)
        items = [item("acme/api#900", priority=Priority.P0, severity=Severity.SEV1)]
        report = build_report(evaluate(items, policy, NOW), policy, NOW)
        ledger = MemoryLedger()
        emulator.reset_counters()

        result = publish(
            report,
            policy,
            [connector],
            ledger,
            clock,
            tracker_name="github",
            cycle_id="d",
            dry_run=True,
        )

        assert [(d.action.kind, d.outcome) for d in result.done] == [
            ("upsert_report", "planned"),
            ("upsert_log_entry", "planned"),
        ]
        assert (result.spent, write_requests(emulator), emulator.request_count()) == (0, 0, 0)
        assert ledger.entries == []
