"""Each rule, alone: deadlines, owners, evidence, escalation, waivers, pauses, exemptions."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from syncer.core.durations import parse_span
from syncer.core.evaluate import Assessment, Status, evaluate
from syncer.core.model import (
    ActionItem,
    Evidence,
    EvidenceKind,
    Priority,
    Resolution,
    Severity,
    Verification,
    Waiver,
)
from syncer.core.plan import plan
from syncer.core.policy import Deadlines, Policy
from tests.builders import NOW, example_policy, item, merged_pr

POLICY = example_policy()


def assess(one: ActionItem, policy: Policy = POLICY) -> Assessment:
    return evaluate([one], policy, NOW)[0]


def rules(a: Assessment) -> list[str]:
    return [f.rule for f in a.findings]


class TestDeadlines:
    def test_the_priority_slo_counts_from_creation(self) -> None:
        a = assess(item(priority=Priority.P2, severity=Severity.SEV3, age_days=10))
        assert (a.deadline, a.deadline_source) == (
            (NOW - timedelta(days=10)).date() + timedelta(days=60),
            "priority_slo",
        )

    def test_with_both_slos_the_strictest_wins(self) -> None:
        # P1 = 30d, SEV-1 = 15d: the severity SLO is earlier.
        a = assess(item(priority=Priority.P1, severity=Severity.SEV1, age_days=1))
        assert a.deadline_source == "severity_slo"
        assert a.deadline == date(2026, 11, 22) + timedelta(days=15)

    def test_the_trackers_own_due_date_wins(self) -> None:
        a = assess(item(due=date(2027, 3, 1)))
        assert (a.deadline, a.deadline_source) == (date(2027, 3, 1), "tracker")

    def test_business_days_skip_weekends_and_holidays(self) -> None:
        rules_ = Deadlines(
            by_priority={Priority.P1: parse_span("3bd")}, holidays=[date(2026, 11, 24)]
        )
        policy = POLICY.model_copy(update={"deadlines": rules_})
        # Created Friday 2026-11-20: Mon 23, (Tue 24 holiday), Wed 25, Thu 26.
        a = assess(item(priority=Priority.P1, severity=Severity.SEV4, age_days=3), policy)
        assert a.deadline == date(2026, 11, 26)

    def test_counting_from_the_incident_date_uses_it_when_known(self) -> None:
        rules_ = POLICY.deadlines.model_copy(update={"count_from": "incident"})
        policy = POLICY.model_copy(update={"deadlines": rules_})
        a = assess(
            item(priority=Priority.P0, severity=Severity.SEV3, incident_date=date(2026, 11, 1)),
            policy,
        )
        assert a.deadline == date(2026, 11, 15)


class TestOwners:
    def test_an_open_p0_without_owner_needs_one_and_its_sponsor_is_asked(self) -> None:
        a = assess(item(priority=Priority.P0, owners=(), age_days=1))
        assert "owner.missing" in rules(a)
        assert "pmsync/needs-owner" in a.desired_labels
        [comment] = [c for c in a.comments if c.rule == "owner.missing"]
        assert [p.handle for p in comment.message_for(a).mentions] == ["sam"]

    def test_two_owners_break_the_exactly_one_rule_for_p1(self) -> None:
        assert "owner.multiple" in rules(assess(item(owners=("alice", "bob"))))

    def test_two_owners_are_fine_for_p2(self) -> None:
        a = assess(item(priority=Priority.P2, owners=("alice", "bob")))
        assert a.findings == ()
        assert a.desired_labels == frozenset()


class TestClosure:
    def test_closed_without_evidence_is_reopened_with_a_comment_and_a_label(self) -> None:
        a = assess(item(closed_days_ago=2))
        assert a.reopen
        assert "closure.rejected" in rules(a)
        assert "pmsync/closure-rejected" in a.desired_labels
        assert any(c.marker.startswith("pmsync:closure-rejected:") for c in a.comments)

    def test_closed_with_a_merged_pull_request_is_accepted(self) -> None:
        a = assess(item(closed_days_ago=2, evidence=(merged_pr(),)))
        assert (a.status, a.reopen, a.evidence_ok) == (Status.CLOSED_ACCEPTED, False, True)

    def test_an_unmerged_pull_request_is_not_evidence(self) -> None:
        pr = Evidence(
            kind=EvidenceKind.PULL_REQUEST,
            url="https://x/pull/1",
            verification=Verification.REFUTED,
        )
        assert assess(item(closed_days_ago=2, evidence=(pr,))).reopen

    def test_a_runbook_link_is_not_measurable_evidence(self) -> None:
        runbook = Evidence(kind=EvidenceKind.RUNBOOK, url="https://wiki/runbook")
        assert assess(item(closed_days_ago=2, evidence=(runbook,))).reopen

    def test_wont_do_closures_need_no_evidence(self) -> None:
        a = assess(item(closed_days_ago=2, resolution=Resolution.WONT_DO))
        assert a.status is Status.CLOSED_EXEMPT
        assert not a.comments

    def test_closures_older_than_the_window_are_not_judged_again(self) -> None:
        assert assess(item(closed_days_ago=45)).status is Status.CLOSED_UNJUDGED

    def test_label_mode_keeps_the_item_closed_and_labels_it(self) -> None:
        closure = POLICY.closure.model_copy(update={"on_violation": "label"})
        a = assess(item(closed_days_ago=2), POLICY.model_copy(update={"closure": closure}))
        assert (a.status, a.reopen) == (Status.CLOSED_REJECTED, False)
        assert a.desired_labels == {"pmsync/closure-rejected"}

    def test_the_rejection_label_stays_on_a_reopened_item_until_a_closure_is_accepted(self) -> None:
        still_open = assess(item(labels=frozenset({"pmsync/closure-rejected"})))
        assert "pmsync/closure-rejected" in still_open.desired_labels
        accepted = assess(
            item(
                closed_days_ago=1,
                evidence=(merged_pr(),),
                labels=frozenset({"pmsync/closure-rejected"}),
            )
        )
        assert accepted.desired_labels == frozenset()


class TestEscalation:
    def test_a_p0_overdue_by_20_days_reaches_the_executive_sponsor(self) -> None:
        a = assess(item(priority=Priority.P0, severity=Severity.SEV3, age_days=34))
        assert (a.status, a.days_overdue, a.tier) == (Status.OVERDUE, 20, 3)
        assert a.desired_labels == {"pmsync/escalated-executive"}
        [comment] = a.comments
        assert [p.handle for p in comment.message_for(a).mentions] == ["alice", "sam", "erin"]
        assert comment.anchor == "pmsync/escalated-executive"

    def test_the_executive_tier_is_for_p0_only(self) -> None:
        a = assess(item(priority=Priority.P1, severity=Severity.SEV3, age_days=60))
        assert a.tier == 2

    def test_one_day_overdue_is_tier_one_for_the_owner(self) -> None:
        a = assess(item(priority=Priority.P1, severity=Severity.SEV3, age_days=31))
        assert (a.tier, [p.handle for p in a.comments[0].mentions_for(a.item)]) == (1, ["alice"])

    def test_a_tier_with_nobody_known_mentions_the_fallback_team(self) -> None:
        a = assess(
            item(priority=Priority.P1, severity=Severity.SEV3, age_days=45, owners=(), sponsor=None)
        )
        escalation = next(c for c in a.comments if c.rule == "escalation")
        assert [(p.handle, p.is_team) for p in escalation.message_for(a).mentions] == [
            ("acme/sre-leads", True)
        ]

    def test_a_reminder_comes_before_the_due_date(self) -> None:
        a = assess(item(due=NOW.date() + timedelta(days=2)))
        assert a.status is Status.DUE_SOON
        assert a.desired_labels == {"pmsync/due-soon"}

    def test_an_item_no_longer_overdue_is_de_escalated_without_a_comment(self) -> None:
        moved = item(
            due=NOW.date() + timedelta(days=20),
            labels=frozenset({"pmsync/overdue", "pmsync/escalated-sponsor"}),
        )
        the_plan = plan(evaluate([moved], POLICY, NOW), POLICY.managed_labels)
        [change] = the_plan.changes
        assert [a.kind for a in change.actions] == ["remove_labels"]

    def test_an_item_already_at_its_tier_yields_no_action(self) -> None:
        there = item(
            priority=Priority.P0,
            severity=Severity.SEV3,
            age_days=34,
            labels=frozenset({"pmsync/escalated-executive"}),
        )
        assert plan(evaluate([there], POLICY, NOW), POLICY.managed_labels).is_empty()

    def test_the_escalation_marker_names_the_tier_id_and_the_deadline(self) -> None:
        a = assess(item(priority=Priority.P1, severity=Severity.SEV3, age_days=40))
        assert a.comments[0].message_for(a).marker == f"pmsync:escalation:sponsor:due-{a.deadline}"


class TestWaiversPausesExemptions:
    def test_a_waiver_in_the_policy_stops_escalation_and_labels_the_item(self) -> None:
        a = assess(item("acme/api#7", age_days=80, labels=frozenset({"pmsync/overdue"})))
        assert (a.status, a.tier) == (Status.WAIVED, 0)
        assert a.desired_labels == {"pmsync/waived"}

    def test_a_lapsed_waiver_lets_escalation_resume_and_is_reported(self) -> None:
        lapsed = Waiver(until=date(2026, 11, 1), approver="cto")
        a = assess(
            item(
                age_days=80,
                severity=Severity.SEV3,
                waiver=lapsed,
                labels=frozenset({"pmsync/waived"}),
            )
        )
        assert a.status is Status.OVERDUE
        assert "waiver.lapsed" in rules(a)
        assert "pmsync/waived" not in a.desired_labels

    def test_a_paused_item_is_reported_but_not_escalated(self) -> None:
        a = assess(item(age_days=80, labels=frozenset({"blocked-external", "pmsync/overdue"})))
        assert (a.status, a.desired_labels) == (Status.PAUSED, frozenset())

    def test_an_exempt_item_loses_pmsyncs_labels_and_nothing_else(self) -> None:
        exempt = item(age_days=80, labels=frozenset({"pmsync/exempt", "pmsync/overdue", "team-a"}))
        [change] = plan(evaluate([exempt], POLICY, NOW), POLICY.managed_labels).changes
        assert [(a.kind, getattr(a, "labels", ())) for a in change.actions] == [
            ("remove_labels", ("pmsync/overdue",))
        ]


class TestUnknowns:
    def test_unknown_priority_and_severity_are_reported_and_triaged_not_fatal(self) -> None:
        a = assess(
            item(
                priority=Priority.UNKNOWN,
                severity=Severity.UNKNOWN,
                data_problems=("due date 'soon' is not a date",),
            )
        )
        assert {"data.unknown_priority", "data.unknown_severity", "data.problem"} <= set(rules(a))
        assert "pmsync/needs-triage" in a.desired_labels
        assert a.deadline_source == "default_slo"


class TestLocalDays:
    def test_local_days_are_exact_around_a_dst_change_and_midnight(self) -> None:
        """Europe/Berlin leaves summer time on 2026-10-25 at 01:00 UTC."""
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        from syncer.core.deadlines import DeadlineCalendar

        calendar = DeadlineCalendar(
            POLICY.deadlines.model_copy(update={"timezone": "Europe/Berlin"})
        )
        berlin = ZoneInfo("Europe/Berlin")
        moments = [
            datetime(2026, 10, 24, 21, 59, tzinfo=UTC),  # 23:59 CEST
            datetime(2026, 10, 24, 22, 0, tzinfo=UTC),  # 00:00 CEST, next day
            datetime(2026, 10, 25, 0, 59, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 0, tzinfo=UTC),  # back to CET
            datetime(2026, 10, 25, 22, 59, tzinfo=UTC),  # 23:59 CET
            datetime(2026, 10, 25, 23, 0, tzinfo=UTC),  # 00:00 CET, next day
            datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # into CEST
        ]
        assert [calendar.local_date(m) for m in moments] == [
            m.astimezone(berlin).date() for m in moments
        ]

    @given(
        moment=st.datetimes(datetime(1890, 1, 1), datetime(2060, 1, 1), timezones=st.just(UTC)),
        zone=st.sampled_from(
            ["America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Chatham"]
        ),
    )
    @settings(max_examples=300, deadline=None)
    def test_local_days_match_the_zone_database_anywhere(self, moment: datetime, zone: str) -> None:
        """Half-hour DST, 45-minute offsets and pre-1900 offsets in seconds included."""
        from syncer.core.deadlines import DeadlineCalendar

        calendar = DeadlineCalendar(POLICY.deadlines.model_copy(update={"timezone": zone}))
        assert calendar.local_date(moment) == moment.astimezone(ZoneInfo(zone)).date()
