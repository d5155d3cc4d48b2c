"""The review names people by display name, from the items, the ledger or a lookup."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from syncer.core.evaluate import evaluate
from syncer.core.ledger import LedgerEntry
from syncer.core.model import ActionItem, ItemRef, Person, Priority, Severity
from syncer.core.policy import Trackers
from syncer.core.tracker_config import JiraTracker
from syncer.report import build_report, moment_for_week
from syncer.report.people import unnamed
from tests.builders import NOW, example_policy, item
from tests.report.renderings import render_markdown

POLICY = example_policy()
LAST_WEEK = moment_for_week(POLICY, "2026-W47", NOW)
ALICE = "712020:aaaaaaaa-0000-4000-8000-00000000a11c"
SAM = "5b10a2844c20165700ede21f"
GONE = "5b109f2e9729b51b54dc274d"


def jira_item(key: str, **changes: object) -> ActionItem:
    base = item(key, tracker="jira", priority=Priority.P1, due=date(2026, 11, 1))
    return base.model_copy(
        update={
            "ref": ItemRef(tracker="jira", key=key),
            "owners": (Person(handle=ALICE, display_name="Alice Adams"),),
            "sponsor": Person(handle=SAM, display_name="Sam Sponsor"),
            **changes,
        }
    )


def escalation(key: str, mentions: list[str], **inputs: object) -> LedgerEntry:
    return LedgerEntry(
        at=datetime(2026, 11, 18, 8, tzinfo=UTC),
        cycle_id="c1",
        tracker="jira",
        item_key=key,
        kind="comment",
        rule="escalation",
        policy_version="v",
        outcome="done",
        inputs={
            "marker": "pmsync:escalation:tier-2:due-2026-11-01",
            "mentions": mentions,
            **inputs,
        },
    )


class TestAskedByName:
    def test_people_on_the_items_are_shown_by_their_jira_display_name(self) -> None:
        """A ledger row names account ids; the items' user objects give the names."""
        items = [jira_item("REL-1")]
        entries = (escalation("REL-1", [ALICE, SAM]),)
        report = build_report(evaluate(items, POLICY, LAST_WEEK), POLICY, LAST_WEEK, entries)
        [row] = report.escalations
        assert row.asked == ("Alice Adams", "Sam Sponsor")
        assert row.asked_handles == (ALICE, SAM)
        body = render_markdown(report)
        assert "Alice Adams, Sam Sponsor" in body
        assert ALICE not in body
        assert "@Alice" not in body

    def test_the_name_recorded_with_the_comment_covers_someone_no_longer_on_the_item(
        self,
    ) -> None:
        """The sponsor was replaced since: the ledger entry recorded the name it mentioned."""
        items = [jira_item("REL-1")]
        entries = (escalation("REL-1", [ALICE, GONE], names={GONE: "Gina Gone"}),)
        report = build_report(evaluate(items, POLICY, LAST_WEEK), POLICY, LAST_WEEK, entries)
        assert report.escalations[0].asked == ("Alice Adams", "Gina Gone")

    def test_what_nothing_names_is_listed_for_a_lookup_and_the_lookup_is_used(self) -> None:
        items = [jira_item("REL-1")]
        entries = [escalation("REL-1", [ALICE, GONE])]
        assessments = evaluate(items, POLICY, LAST_WEEK)
        start, end = LAST_WEEK - timedelta(days=7), LAST_WEEK
        assert unnamed(assessments, entries, start, end) == {"jira": {GONE}}
        jira = JiraTracker(
            name="jira",
            server="https://acme.atlassian.net",
            fallback_mention=["712020:sre-lead"],
        )
        policy = POLICY.model_copy(update={"trackers": Trackers(jira=[jira])})
        assert unnamed(assessments, entries, start, end, policy) == {
            "jira": {GONE, "712020:sre-lead"}
        }
        directory = {("jira", GONE): "Gina Gone"}
        report = build_report(assessments, POLICY, LAST_WEEK, entries, directory=directory)
        assert report.escalations[0].asked == ("Alice Adams", "Gina Gone")

    def test_a_handle_nobody_can_name_is_shown_as_it_is(self) -> None:
        items = [jira_item("REL-1")]
        entries = (escalation("REL-1", [GONE]),)
        report = build_report(evaluate(items, POLICY, LAST_WEEK), POLICY, LAST_WEEK, entries)
        assert report.escalations[0].asked == (GONE,)

    def test_derived_escalations_name_people_too(self) -> None:
        """Without a ledger, the tier's people come from the item, by name."""
        overdue = jira_item(
            "REL-2", priority=Priority.P0, severity=Severity.SEV1, due=date(2026, 11, 5)
        )
        report = build_report(evaluate([overdue], POLICY, LAST_WEEK), POLICY, LAST_WEEK)
        [row] = report.escalations
        assert (row.source, row.tier) == ("derived", 3)
        assert row.asked[:2] == ("Alice Adams", "Sam Sponsor")

    def test_a_closed_item_that_was_not_reopened_is_not_reported_as_escalated(self) -> None:
        """A rejected closure pmsync could not reopen was never escalated."""
        closed = jira_item(
            "REL-3", priority=Priority.P0, severity=Severity.SEV1, due=date(2026, 11, 5)
        ).model_copy(update={"state": "closed", "closed_at": LAST_WEEK - timedelta(days=1)})
        report = build_report(evaluate([closed], POLICY, LAST_WEEK), POLICY, LAST_WEEK)
        assert report.escalations == ()
