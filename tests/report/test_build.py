"""The report builder: weeks, sections and figures computed from items, ledger and counts."""

from datetime import UTC, date, datetime

import pytest

from syncer.core.evaluate import evaluate
from syncer.core.ledger import LedgerEntry
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
from syncer.report import (
    build_report,
    daily_counts_for,
    moment_for_week,
    parse_week,
    text,
    week_key,
)
from syncer.report.build import report_period, scheduled_week
from syncer.report.model import WeeklyReport
from tests.builders import NOW, example_policy, item, merged_pr

POLICY = example_policy()
# The review of 2026-W47 as the daemon publishes it on Monday NOW: as of the week's last instant.
LAST_WEEK = moment_for_week(POLICY, "2026-W47", NOW)


def report_of(
    items: list[ActionItem],
    entries: tuple[LedgerEntry, ...] = (),
    daily: dict[date, dict[str, int]] | None = None,
    now: datetime = NOW,
) -> WeeklyReport:
    return build_report(evaluate(items, POLICY, now), POLICY, now, entries, daily)


def entry(at: datetime, kind: str, key: str, **fields: object) -> LedgerEntry:
    return LedgerEntry(
        at=at,
        cycle_id="c1",
        tracker="github",
        item_key=key,
        kind=kind,
        rule=str(fields.pop("rule", kind)),
        policy_version="v",
        outcome=str(fields.pop("outcome", "decided")),
        inputs=dict(fields.pop("inputs", {})),  # type: ignore[call-overload]
        detail=str(fields.pop("detail", "")),
    )


def trend_items() -> list[ActionItem]:
    """A SEV-1 14 days overdue, a SEV-4 3 days overdue, a SEV-2 closed 10 days ago."""
    return [
        item("acme/api#1", severity=Severity.SEV1, age_days=30, due=date(2026, 11, 9)),
        item("acme/api#2", severity=Severity.SEV4, age_days=40, due=date(2026, 11, 20)),
        item(
            "acme/api#3",
            severity=Severity.SEV2,
            priority=Priority.P2,
            age_days=50,
            due=date(2026, 11, 1),
            closed_days_ago=10,
        ),
    ]


class TestWeeks:
    def test_week_key_is_the_iso_week(self) -> None:
        """Monday 2026-11-23 and Sunday 2026-11-29 are both in 2026-W48."""
        assert week_key(date(2026, 11, 23)) == "2026-W48"
        assert week_key(date(2026, 11, 29)) == "2026-W48"
        assert week_key(date(2027, 1, 1)) == "2026-W53"

    def test_parse_week_gives_the_monday_and_rejects_other_text(self) -> None:
        """A week key parses to its Monday; a malformed or impossible one is a ValueError."""
        assert parse_week("2026-W48") == date(2026, 11, 23)
        with pytest.raises(ValueError, match="ISO week"):
            parse_week("2026-48")
        with pytest.raises(ValueError, match="does not exist"):
            parse_week("2025-W53")

    def test_a_past_week_is_built_as_of_its_last_instant(self) -> None:
        """--week 2026-W47 is built at Sunday 2026-11-22 23:59:59.999999 Berlin."""
        assert moment_for_week(POLICY, "2026-W47", NOW) == LAST_WEEK
        assert datetime(2026, 11, 22, 22, 59, 59, 999999, tzinfo=UTC) == LAST_WEEK
        assert moment_for_week(POLICY, "2026-W48", NOW) == NOW
        with pytest.raises(ValueError, match="not started"):
            moment_for_week(POLICY, "2026-W49", NOW)

    def test_the_period_is_the_titled_week_from_monday_up_to_now(self) -> None:
        """Built on Wednesday, the W48 review covers Monday 00:00 Berlin to the minute."""
        wednesday = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
        assert report_period(POLICY, wednesday) == (
            datetime(2026, 11, 22, 23, 0, tzinfo=UTC),
            wednesday,
        )
        header = report_of([], now=wednesday).header
        assert (header.title, header.period_start, header.period_end) == (
            "Reliability review 2026-W48",
            date(2026, 11, 23),
            date(2026, 11, 25),
        )

    def test_a_past_weeks_period_is_the_whole_week(self) -> None:
        """Monday 00:00 to the next Monday 00:00, local time."""
        assert report_period(POLICY, LAST_WEEK) == (
            datetime(2026, 11, 15, 23, 0, tzinfo=UTC),
            LAST_WEEK,
        )
        assert report_period(POLICY, NOW, "2026-W47") == (
            datetime(2026, 11, 15, 23, 0, tzinfo=UTC),
            datetime(2026, 11, 22, 23, 0, tzinfo=UTC),
        )

    def test_the_scheduled_review_is_of_the_week_that_ended(self) -> None:
        """Monday 09:00 publishes last week; so does Friday: every week once, complete."""
        assert scheduled_week(POLICY, NOW) == "2026-W47"
        assert scheduled_week(POLICY, datetime(2026, 11, 27, 15, tzinfo=UTC)) == "2026-W47"
        assert scheduled_week(POLICY, datetime(2026, 11, 29, 22, 30, tzinfo=UTC)) == "2026-W47"
        assert scheduled_week(POLICY, datetime(2026, 11, 29, 23, 30, tzinfo=UTC)) == "2026-W48"

    def test_an_escalation_reached_today_or_on_the_last_sunday_is_in_the_review(self) -> None:
        """Derived tiers count on the period's last day too: today, or a past week's Sunday."""
        wednesday = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
        due_tuesday = item("acme/api#1", priority=Priority.P1, due=date(2026, 11, 24))
        rows = report_of([due_tuesday], now=wednesday).escalations
        assert [(r.key, r.tier, r.day) for r in rows] == [("acme/api#1", 1, date(2026, 11, 25))]
        due_saturday = item("acme/api#2", priority=Priority.P1, due=date(2026, 11, 21))
        rows = report_of([due_saturday], now=LAST_WEEK).escalations
        assert [(r.key, r.day) for r in rows] == [("acme/api#2", date(2026, 11, 22))]

    def test_a_closure_judged_today_shows_the_day_it_was_closed(self) -> None:
        """A first run judges a closure from last week: listed this week, dated when closed."""
        wednesday = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
        decided = entry(
            datetime(2026, 11, 25, 14, 30, tzinfo=UTC),
            "closure_accepted",
            "acme/api#4",
            inputs={"closed_at": "2026-11-19T16:00:00+00:00"},
        )
        [decision] = report_of([], (decided,), now=wednesday).decisions
        assert (decision.key, decision.day) == ("acme/api#4", date(2026, 11, 19))

    def test_decisions_taken_today_are_in_this_weeks_review(self) -> None:
        """A closure rejected an hour ago counts: the review reads right the same day."""
        wednesday = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)
        entries = (
            entry(datetime(2026, 11, 25, 14, 30, tzinfo=UTC), "closure_rejected", "acme/api#4"),
            entry(datetime(2026, 11, 22, 22, 30, tzinfo=UTC), "closure_rejected", "acme/api#5"),
        )
        report = report_of([], entries, now=wednesday)
        assert [(d.key, d.day) for d in report.decisions] == [("acme/api#4", date(2026, 11, 25))]
        assert not report.notes

    def test_building_for_another_week_than_nows_is_refused(self) -> None:
        """The caller must build a past week at moment_for_week, not at today's now."""
        with pytest.raises(ValueError, match="not 2026-W47"):
            build_report([], POLICY, NOW, week="2026-W47")


class TestHeaderAndOpenActions:
    def test_header_names_week_period_scope_and_policy_version(self) -> None:
        """The header says what the review covers."""
        header = report_of([], now=LAST_WEEK).header
        assert header.week == "2026-W47"
        assert header.title == "Reliability review 2026-W47"
        assert (header.period_start, header.period_end) == (date(2026, 11, 16), date(2026, 11, 22))
        assert header.policy_version == POLICY.version
        assert [(t.name, t.kind, t.where) for t in header.scope] == [
            ("github", "github", ("acme/api", "acme/web", "acme/platform"))
        ]

    def test_only_open_sev1_and_sev2_are_listed_most_severe_and_most_overdue_first(self) -> None:
        """SEV-3 and closed items stay out; SEV-1 before SEV-2, then P0 before P1, then lateness."""
        items = [
            item("acme/api#1", severity=Severity.SEV2, due=date(2026, 11, 1)),
            item("acme/api#2", severity=Severity.SEV2, due=date(2026, 11, 20)),
            item("acme/api#3", severity=Severity.SEV1, priority=Priority.P2),
            item("acme/api#4", severity=Severity.SEV3),
            item("acme/api#5", severity=Severity.SEV1, closed_days_ago=60),
        ]
        rows = report_of(items).open_critical
        assert [(r.key, r.days_overdue) for r in rows] == [
            ("acme/api#3", 0),
            ("acme/api#1", 22),
            ("acme/api#2", 3),
        ]

    def test_a_row_carries_owner_evidence_tier_and_waiver(self) -> None:
        """Everything the meeting needs about one action is on its row."""
        waived = item(
            "acme/api#7",
            severity=Severity.SEV1,
            priority=Priority.P0,
            due=date(2026, 11, 1),
            owners=("alice",),
            evidence=(merged_pr(),),
            waiver=Waiver(until=date(2026, 12, 31), approver="cto"),
        )
        late = item(
            "acme/api#8", severity=Severity.SEV1, priority=Priority.P0, due=date(2026, 11, 1)
        )
        first, second = report_of([waived, late]).open_critical
        assert (first.key, first.owners, first.evidence, first.tier, first.hold) == (
            "acme/api#7",
            ("alice",),
            "measurable",
            0,
            "waived until 2026-12-31 (cto)",
        )
        assert (second.key, second.evidence, second.evidence_required) == (
            "acme/api#8",
            "missing",
            True,
        )
        assert (second.tier, second.tier_name, second.days_overdue) == (3, "executive sponsor", 22)


class TestTrend:
    def test_twelve_weeks_are_rebuilt_from_timestamps_on_the_first_report(self) -> None:
        """Creation, closure and deadlines alone give every past week's figures."""
        trend = report_of(trend_items()).trend
        assert [p.week for p in trend] == [f"2026-W{w}" for w in range(37, 49)]
        assert [p.open_sev12 for p in trend] == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 1, 1]
        assert [p.overdue for p in trend] == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2]
        assert [p.risk_score for p in trend] == [0, 0, 0, 0, 0, 0, 0, 0, 2, 16, 28, 57.5]
        assert [p.source for p in trend] == ["reconstructed"] * 11 + ["live"]

    def test_week_over_week_deltas_compare_consecutive_points(self) -> None:
        """The first point has no delta; the last compares W48 with W47."""
        trend = report_of(trend_items()).trend
        assert trend[0].delta_risk_score is None
        assert (trend[-1].delta_risk_score, trend[-1].delta_overdue) == (29.5, 1)

    def test_recorded_daily_counts_replace_the_rebuilt_figures_of_their_day(self) -> None:
        """A day the state store measured shows the measured figures."""
        daily = {
            date(2026, 11, 16): {
                "open_sev12": 5,
                "overdue": 4,
                "overdue_sev12": 3,
                "risk_score_x2": 101,
            }
        }
        trend = report_of(trend_items(), daily=daily).trend
        w47 = trend[-2]
        assert (w47.open_sev12, w47.overdue, w47.risk_score, w47.source) == (5, 4, 50.5, "measured")
        assert trend[-1].delta_open_sev12 == 1 - 5

    def test_daily_counts_for_records_what_the_trend_reads_back(self) -> None:
        """The daemon's daily figures equal the live trend point of the same day."""
        assessments = evaluate(trend_items(), POLICY, NOW)
        counts = daily_counts_for(assessments, date(2026, 11, 23))
        assert counts == {
            "open": 2,
            "open_sev12": 1,
            "overdue": 2,
            "overdue_sev12": 1,
            "risk_score_x2": 115,
            "open_one_owner": 2,
            "overdue_sev1": 1,
            "overdue_sev2": 0,
            "overdue_sev3": 0,
            "overdue_sev4": 1,
            "overdue_unknown": 0,
        }


class TestDecisionsAndEscalations:
    def test_ledger_decisions_of_the_period_are_listed_by_kind(self) -> None:
        """Accepted with evidence, rejected with why and the reopen, waivers with approver."""
        in_period = datetime(2026, 11, 18, 10, tzinfo=UTC)
        entries = (
            entry(
                in_period,
                "closure_accepted",
                "acme/api#9",
                inputs={"evidence": ["https://github.com/acme/api/pull/12"]},
            ),
            entry(in_period, "closure_rejected", "acme/api#10", detail="closed without an owner"),
            entry(in_period, "reopen", "acme/api#10", outcome="done"),
            entry(
                in_period,
                "waiver_granted",
                "acme/api#11",
                detail="waived until 2026-12-31 by cto",
                inputs={"approver": "cto"},
            ),
            entry(datetime(2026, 11, 10, tzinfo=UTC), "closure_accepted", "acme/api#12"),
        )
        decisions = report_of([], entries, now=LAST_WEEK).decisions
        assert [(d.kind, d.key) for d in decisions] == [
            ("closure_accepted", "acme/api#9"),
            ("closure_rejected", "acme/api#10"),
            ("waiver_granted", "acme/api#11"),
        ]
        accepted, rejected, waiver = decisions
        assert accepted.evidence == ("https://github.com/acme/api/pull/12",)
        assert (rejected.detail, rejected.reopened) == ("closed without an owner", True)
        assert (waiver.approver, waiver.until) == ("cto", date(2026, 12, 31))

    def test_without_a_ledger_this_weeks_closures_come_from_the_items(self) -> None:
        """A P1 closed two days ago without evidence is a rejected, reopened closure."""
        closed = item("acme/api#4", priority=Priority.P1, closed_days_ago=2)
        accepted = item(
            "acme/api#5", priority=Priority.P1, closed_days_ago=3, evidence=(merged_pr(),)
        )
        lapsed = item(
            "acme/api#6",
            due=date(2026, 11, 1),
            waiver=Waiver(until=date(2026, 11, 18), approver="cto"),
        )
        report = report_of([closed, accepted, lapsed], now=LAST_WEEK)
        assert [(d.kind, d.key, d.day, d.reopened) for d in report.decisions] == [
            ("closure_accepted", "acme/api#5", date(2026, 11, 20), False),
            ("closure_rejected", "acme/api#4", date(2026, 11, 21), True),
            ("waiver_lapsed", "acme/api#6", date(2026, 11, 19), False),
        ]
        assert report.notes
        assert "No ledger entries" in report.notes[0]

    def test_a_closure_kept_but_flagged_is_its_own_decision(self) -> None:
        """Unverifiable evidence under ``unverifiable: flag`` is listed apart, with the reason."""
        gitlab = Evidence(
            kind=EvidenceKind.PULL_REQUEST,
            url="https://gitlab.com/acme/api/-/merge_requests/7",
            verification=Verification.UNVERIFIABLE,
            verification_note="no GitHub connector for gitlab.com",
        )
        flagged = item("acme/api#7", priority=Priority.P1, closed_days_ago=2, evidence=(gitlab,))
        from_items = report_of([flagged], now=LAST_WEEK).decisions
        assert [(d.kind, d.key) for d in from_items] == [("closure_flagged", "acme/api#7")]
        in_period = datetime(2026, 11, 18, 10, tzinfo=UTC)
        logged = entry(in_period, "closure_flagged", "acme/api#8", detail="closure kept: why")
        (decision,) = report_of([], (logged,), now=LAST_WEEK).decisions
        assert (decision.kind, decision.detail) == ("closure_flagged", "closure kept: why")
        assert text.decision_cells(decision)[-1] == "closure kept: why"

    def test_escalations_come_from_ledger_comments_and_else_from_deadlines(self) -> None:
        """A logged tier-2 comment names who was asked; an unlogged tier 3 is derived."""
        logged = item("acme/api#1", priority=Priority.P1, due=date(2026, 11, 1))
        derived = item(
            "acme/api#2", priority=Priority.P0, severity=Severity.SEV1, due=date(2026, 11, 5)
        )
        entries = (
            entry(
                datetime(2026, 11, 18, 8, tzinfo=UTC),
                "comment",
                "acme/api#1",
                rule="escalation",
                outcome="done",
                inputs={
                    "marker": "pmsync:escalation:tier-2:due-2026-11-01",
                    "mentions": ["alice", "sam"],
                },
            ),
        )
        rows = report_of([logged, derived], entries, now=LAST_WEEK).escalations
        assert [(r.key, r.tier, r.tier_name, r.asked, r.day, r.source) for r in rows] == [
            ("acme/api#1", 2, "sponsor", ("alice", "sam"), date(2026, 11, 18), "ledger"),
            (
                "acme/api#2",
                3,
                "executive sponsor",
                ("alice", "sam", "erin"),
                date(2026, 11, 19),
                "derived",
            ),
        ]

    def test_the_tier_of_a_ledger_row_is_read_from_its_structured_inputs(self) -> None:
        """The review takes tier id and name as recorded, whatever the marker says, and
        places the row at that tier's position in the ladder of today."""
        logged = item("acme/api#1", priority=Priority.P1, due=date(2026, 11, 1))
        entries = (
            entry(
                datetime(2026, 11, 18, 8, tzinfo=UTC),
                "comment",
                "acme/api#1",
                rule="escalation",
                outcome="done",
                inputs={
                    "marker": "pmsync:escalation:tier-1:due-2026-11-01",
                    "mentions": ["alice", "sam"],
                    "tier_id": "sponsor",
                    "tier_name": "sponsor (old name)",
                    "due": "2026-11-01",
                },
            ),
        )
        [row] = report_of([logged], entries, now=LAST_WEEK).escalations
        assert (row.tier, row.tier_id, row.tier_name, row.source) == (
            2,
            "sponsor",
            "sponsor (old name)",
            "ledger",
        )

    def test_an_old_ledger_row_without_a_tier_is_read_through_the_legacy_tier_order(
        self,
    ) -> None:
        """A row written before tier ids names tier-N; the pinned legacy order says which."""
        ladder = POLICY.escalation.model_copy(
            update={"legacy_tier_order": ["owner", "executive", "sponsor"]}
        )
        policy = POLICY.model_copy(update={"escalation": ladder})
        logged = item("acme/api#1", priority=Priority.P1, due=date(2026, 11, 1))
        entries = (
            entry(
                datetime(2026, 11, 18, 8, tzinfo=UTC),
                "comment",
                "acme/api#1",
                rule="escalation",
                outcome="done",
                inputs={"marker": "pmsync:escalation:tier-3:due-2026-11-01", "mentions": ["sam"]},
            ),
        )
        report = build_report(
            evaluate([logged], policy, LAST_WEEK), policy, LAST_WEEK, entries, None
        )
        assert [(r.tier, r.tier_id, r.tier_name) for r in report.escalations] == [
            (2, "sponsor", "sponsor")
        ]


class TestRoadmapAndKpis:
    def test_open_actions_are_grouped_by_incident_due_month_and_team(self) -> None:
        """Groups count open actions; nobody is ranked, only incidents and teams aggregate."""
        items = [
            item("acme/api#1", due=date(2026, 11, 1)).model_copy(
                update={"incident": "INC-2", "team": "payments"}
            ),
            item("acme/api#2", due=date(2026, 12, 10)).model_copy(update={"team": "payments"}),
            item("acme/api#3", due=date(2027, 1, 5), severity=Severity.SEV3),
            item("acme/api#4", closed_days_ago=1, evidence=(merged_pr(),)),
        ]
        report = report_of(items)
        assert [
            (g.incident, g.open, g.overdue, g.next_due) for g in report.roadmap_by_incident
        ] == [
            ("INC-2", 1, 1, date(2026, 11, 1)),
            ("INC-1", 2, 0, date(2026, 12, 10)),
        ]
        assert [(m.month, m.open, m.sev12) for m in report.roadmap_by_month] == [
            ("overdue", 1, 1),
            ("2026-12", 1, 1),
            ("2027-01", 1, 0),
        ]
        assert [(t.team, t.open, t.risk_score) for t in report.by_team] == [
            ("(no team recorded)", 1, 0),
            ("payments", 2, 44.0),
        ]

    def test_kpis_have_this_and_last_weeks_values(self) -> None:
        """On-time rate, ages, owner and evidence shares, time to close, overdue by severity."""
        items = [
            item(
                "acme/api#1",
                age_days=20,
                closed_days_ago=2,
                due=date(2026, 11, 30),
                evidence=(merged_pr(),),
            ),
            item(
                "acme/api#2",
                age_days=40,
                closed_days_ago=4,
                due=date(2026, 11, 10),
                evidence=(merged_pr(),),
            ),
            item("acme/api#3", age_days=30, closed_days_ago=3, resolution=Resolution.WONT_DO),
            item("acme/api#4", age_days=10, owners=("alice", "bob"), priority=Priority.P2),
            item("acme/api#5", age_days=20, due=date(2026, 11, 20)),
        ]
        kpis = {k.name: (k.value, k.previous) for k in report_of(items).kpis}
        assert kpis["on_time_rate"] == (50.0, None)
        assert kpis["median_time_to_close"] == (27.0, None)
        assert kpis["evidence_share"] == (100.0, None)
        # Open now: #4 (10 d), #5 (20 d); a week ago all five (13, 33, 23, 3, 13 d).
        assert kpis["median_open_age"] == (15.0, 13.0)
        assert kpis["one_owner_share"] == (50.0, 80.0)
        assert kpis["overdue.SEV-2"] == (1.0, 1.0)
