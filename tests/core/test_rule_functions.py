"""Each rule function of ``syncer.core.evaluate`` and ``syncer.core.closure`` on its own, at NOW.

With the example policy. ``tests/core/test_rules.py`` checks what whole assessments say;
these tests call one rule each, so each rule's contract is written down on its own.
"""

from __future__ import annotations

from datetime import date, timedelta

from syncer.core.assessment import NOTHING, Finding, LegacyMarker, Status, Verdict, combine
from syncer.core.closure import (
    counts_as_owner,
    evidence_judgement,
    judge_closure,
    owner_notes,
    owner_problem,
    owner_verdict,
    rejection,
)
from syncer.core.evaluate import (
    NO_DEADLINE,
    ON_TRACK,
    PAUSED,
    Rules,
    clock,
    data_problems,
    escalation_comment,
    is_exempt,
    is_paused,
    judged_now,
    rejection_label_kept,
    reminder_due,
    schedule_of,
    tier_reached,
    waiver_of,
)
from syncer.core.evidence_judge import EvidenceOutcome
from syncer.core.model import (
    ActionItem,
    Evidence,
    EvidenceKind,
    Person,
    Priority,
    Resolution,
    Severity,
    Verification,
    Waiver,
)
from syncer.core.policy import Escalation, OwnerRule, Tier, ViolationAction
from tests.builders import NOW, example_policy, item, merged_pr

POLICY = example_policy()
RULES = Rules(POLICY, NOW)
TODAY = date(2026, 11, 23)  # NOW in Europe/Berlin, the example policy's timezone: a Monday
ALICE, BOB = Person(handle="alice"), Person(handle="bob")
GONE = Person(handle="dana", active=False)
NAMED = Person(handle="nina", assigned=False)
GITLAB = "https://gitlab.example/acme/api/-/merge_requests/3"


def rules_with(**changes: object) -> Rules:
    return Rules(example_policy(**changes), NOW)


def closure_with(**changes: object) -> Rules:
    return rules_with(closure=POLICY.closure.model_copy(update=changes))


def owned_by(*owners: Person, **changes: object) -> ActionItem:
    return item(**changes).model_copy(update={"owners": owners})  # type: ignore[arg-type]


def closed_p1(*evidence: Evidence, **changes: object) -> ActionItem:
    return item(closed_days_ago=2, evidence=evidence, **changes)  # type: ignore[arg-type]


def unmerged() -> Evidence:
    return Evidence(
        kind=EvidenceKind.PULL_REQUEST,
        url="https://github.com/acme/api/pull/9",
        verification=Verification.REFUTED,
    )


def gitlab_mr(verification: Verification = Verification.UNVERIFIABLE) -> Evidence:
    return Evidence(kind=EvidenceKind.PULL_REQUEST, url=GITLAB, verification=verification)


class TestScope:
    def test_an_exempt_label_exempts_the_item(self) -> None:
        assert is_exempt(item(labels=frozenset({"pmsync/exempt", "team-a"})), RULES)

    def test_other_labels_do_not(self) -> None:
        assert not is_exempt(item(labels=frozenset({"team-a", "pmsync/overdue"})), RULES)

    def test_a_closure_inside_the_window_is_judged(self) -> None:
        assert judged_now(item(closed_days_ago=30), RULES)

    def test_a_closure_before_the_window_is_not(self) -> None:
        assert not judged_now(item(closed_days_ago=31), RULES)


class TestOwnerRule:
    def test_any_owner_count_keeps_the_any_rule(self) -> None:
        assert owner_problem((), OwnerRule.ANY, count_unassigned=True) is None

    def test_exactly_one_wants_one(self) -> None:
        assert owner_problem((ALICE,), OwnerRule.EXACTLY_ONE, count_unassigned=True) is None
        assert owner_problem((ALICE, BOB), OwnerRule.EXACTLY_ONE, True) == Finding(
            "owner.multiple", "exactly one accountable owner (it has 2)"
        )

    def test_at_least_one_takes_two(self) -> None:
        assert owner_problem((ALICE, BOB), OwnerRule.AT_LEAST_ONE, True) is None

    def test_nobody_is_a_missing_owner(self) -> None:
        assert owner_problem((), OwnerRule.AT_LEAST_ONE, True) == Finding(
            "owner.missing", "an accountable owner (it has none)"
        )

    def test_an_inactive_account_is_no_owner_and_is_named(self) -> None:
        assert owner_problem((GONE,), OwnerRule.EXACTLY_ONE, True) == Finding(
            "owner.inactive",
            "exactly one accountable owner (the owner's account is inactive: dana)",
        )

    def test_a_named_owner_counts_only_when_the_policy_says_so(self) -> None:
        assert owner_problem((NAMED,), OwnerRule.EXACTLY_ONE, count_unassigned=True) is None
        assert owner_problem((NAMED,), OwnerRule.EXACTLY_ONE, count_unassigned=False) == (
            Finding(
                "owner.missing",
                "exactly one accountable owner "
                "(it has none: named as owner but not assigned: nina)",
            )
        )

    def test_an_owner_of_unknown_activity_counts(self) -> None:
        assert counts_as_owner(Person(handle="x", active=None), count_unassigned=False)
        assert not counts_as_owner(GONE, count_unassigned=True)

    def test_owners_counted_though_only_named_are_noted(self) -> None:
        assert owner_notes((ALICE, NAMED), count_unassigned=True) == (
            Finding("owner.unassigned", "named as owner but not assigned: nina"),
        )
        assert owner_notes((ALICE, NAMED), count_unassigned=False) == ()

    def test_an_owner_problem_asks_for_an_owner_once_by_label_and_comment(self) -> None:
        verdict = owner_verdict(owned_by(priority=Priority.P0), RULES)
        [comment] = verdict.comments
        assert (verdict.labels, [f.rule for f in verdict.findings]) == (
            {"pmsync/needs-owner"},
            ["owner.missing"],
        )
        assert (comment.marker, comment.anchor, comment.targets, comment.first_known_only) == (
            "pmsync:owner.missing",
            "pmsync/needs-owner",
            ("sponsor", "executive_sponsor"),
            True,
        )
        assert comment.extra == (("reason", "exactly one accountable owner (it has none)"),)

    def test_a_kept_owner_rule_says_nothing(self) -> None:
        assert owner_verdict(owned_by(ALICE), RULES) is NOTHING


class TestDataProblems:
    def test_good_data_says_nothing(self) -> None:
        assert data_problems(item(), RULES) is NOTHING

    def test_what_could_not_be_read_and_unknowns_are_triaged(self) -> None:
        odd = item(
            priority=Priority.UNKNOWN,
            severity=Severity.UNKNOWN,
            data_problems=("due date 'soon' is not a date",),
        )
        assert data_problems(odd, RULES) == Verdict(
            findings=(
                Finding("data.problem", "due date 'soon' is not a date"),
                Finding("data.unknown_priority", "priority is unknown"),
                Finding("data.unknown_severity", "incident severity is unknown"),
            ),
            labels=frozenset({"pmsync/needs-triage"}),
        )

    def test_without_a_triage_label_the_findings_alone(self) -> None:
        verdict = data_problems(item(severity=Severity.UNKNOWN), closure_with(triage_label=None))
        assert (verdict.labels, len(verdict.findings)) == (frozenset(), 1)


class TestRejectionLabel:
    def test_it_stays_on_an_open_item(self) -> None:
        labelled = item(labels=frozenset({"pmsync/closure-rejected"}))
        assert rejection_label_kept(labelled, RULES).labels == {"pmsync/closure-rejected"}

    def test_an_item_without_it_gets_none(self) -> None:
        assert rejection_label_kept(item(), RULES) is NOTHING


class TestWaiver:
    def test_a_waiver_in_the_policy_wins_over_the_trackers(self) -> None:
        tracker = Waiver(until=date(2026, 12, 1), approver="lead")
        assert waiver_of(item("acme/api#7", waiver=tracker), RULES) == Waiver(
            until=date(2026, 12, 31),
            approver="cto",
            reason="vendor fix scheduled for the January release",
        )

    def test_the_trackers_waiver_otherwise(self) -> None:
        tracker = Waiver(until=date(2026, 12, 1), approver="lead")
        assert waiver_of(item("acme/api#8", waiver=tracker), RULES) == tracker

    def test_no_waiver_is_none(self) -> None:
        assert waiver_of(item("acme/api#8"), RULES) is None


class TestClock:
    OVERDUE = item(priority=Priority.P1, severity=Severity.SEV3, age_days=40)  # 10 days

    def test_an_active_waiver_stops_it_and_labels_the_item(self) -> None:
        waiver = Waiver(until=TODAY, approver="cto")
        standing = clock(self.OVERDUE, RULES, waiver, date(2026, 11, 13))
        assert (standing.status, standing.tier, standing.verdict) == (
            Status.WAIVED,
            0,
            Verdict(
                findings=(Finding("waiver.active", "waived until 2026-11-23 by cto"),),
                labels=frozenset({"pmsync/waived"}),
            ),
        )

    def test_a_pause_label_pauses_an_item_and_other_labels_do_not(self) -> None:
        assert is_paused(item(labels=frozenset({"blocked-external"})), RULES)
        assert not is_paused(item(labels=frozenset({"pmsync/overdue", "team-a"})), RULES)

    def test_a_pause_label_stops_it(self) -> None:
        paused = item(labels=frozenset({"blocked-external"}), age_days=40)
        assert clock(paused, RULES, None, date(2026, 11, 13)) is PAUSED

    def test_otherwise_the_schedule_of_the_deadline_speaks(self) -> None:
        assert clock(self.OVERDUE, RULES, None, date(2026, 11, 13)) is RULES.schedule(
            Priority.P1, date(2026, 11, 13)
        )

    def test_a_lapsed_waiver_is_reported_first_and_escalation_resumes(self) -> None:
        lapsed = Waiver(until=TODAY - timedelta(days=1), approver="cto")
        standing = clock(self.OVERDUE, RULES, lapsed, date(2026, 11, 13))
        assert (standing.status, standing.tier) == (Status.OVERDUE, 2)
        assert [f.rule for f in standing.verdict.findings] == ["waiver.lapsed", "deadline.overdue"]


class TestSchedule:
    def test_well_before_the_deadline_an_item_is_on_track(self) -> None:
        assert schedule_of(Priority.P1, TODAY + timedelta(days=10), RULES) is ON_TRACK

    def test_within_the_reminder_it_is_due_soon_with_one_reminder(self) -> None:
        standing = schedule_of(Priority.P1, date(2026, 11, 25), RULES)
        [comment] = standing.verdict.comments
        assert (standing.status, standing.verdict.labels) == (Status.DUE_SOON, {"pmsync/due-soon"})
        assert (comment.marker, comment.anchor, comment.rule) == (
            "pmsync:reminder:due-2026-11-25",
            "pmsync/due-soon",
            "reminder",
        )

    def test_without_a_reminder_it_stays_on_track_until_due(self) -> None:
        quiet = rules_with(escalation=POLICY.escalation.model_copy(update={"reminder": None}))
        assert schedule_of(Priority.P1, TODAY, quiet) is ON_TRACK

    def test_past_the_deadline_it_is_overdue_at_its_tier(self) -> None:
        standing = schedule_of(Priority.P1, date(2026, 11, 13), RULES)
        assert (standing.status, standing.tier, standing.verdict.labels) == (
            Status.OVERDUE,
            2,
            {"pmsync/escalated-sponsor"},
        )
        assert standing.verdict.findings == (
            Finding("deadline.overdue", "10 days overdue (due 2026-11-13)"),
        )
        assert [c.marker for c in standing.verdict.comments] == [
            "pmsync:escalation:sponsor:due-2026-11-13"
        ]

    def test_overdue_below_the_first_tier_is_reported_without_escalation(self) -> None:
        later = Tier(name="owner", after="3d", label="pmsync/overdue")
        ladder = rules_with(escalation=Escalation(tiers=[later]))
        standing = schedule_of(Priority.P1, TODAY - timedelta(days=2), ladder)
        assert (standing.status, standing.tier, standing.verdict.labels) == (
            Status.OVERDUE,
            0,
            frozenset(),
        )
        assert standing.verdict.comments == ()

    def test_items_of_one_priority_and_deadline_share_one_schedule(self) -> None:
        rules = Rules(POLICY, NOW)
        first = rules.schedule(Priority.P1, date(2026, 11, 13))
        assert rules.schedule(Priority.P1, date(2026, 11, 13)) is first
        assert rules.schedule(Priority.P1, None) is NO_DEADLINE


class TestTiers:
    def test_the_last_tier_whose_after_has_passed_is_reached(self) -> None:
        assert [
            tier_reached(Priority.P0, TODAY - timedelta(days=d), RULES) for d in (1, 7, 13, 14)
        ] == [1, 2, 2, 3]

    def test_a_tier_for_other_priorities_is_skipped(self) -> None:
        assert tier_reached(Priority.P1, TODAY - timedelta(days=40), RULES) == 2

    def test_business_day_tiers_count_business_days(self) -> None:
        tiers = [
            Tier(name="owner", after="0d", label="pmsync/overdue"),
            Tier(name="lead", after="5bd", label="pmsync/escalated-lead"),
        ]
        ladder = rules_with(escalation=Escalation(tiers=tiers))
        # Due Monday 16 Nov, today (Monday 23) is 5 business days later; due Tuesday 17, 4.
        assert tier_reached(Priority.P1, date(2026, 11, 16), ladder) == 2
        assert tier_reached(Priority.P1, date(2026, 11, 17), ladder) == 1

    def test_the_reminder_is_due_within_its_before(self) -> None:
        # before: 3bd. As shipped, a business-day ``before`` is counted in calendar days.
        assert [reminder_due(days, RULES) for days in (-4, -3, 0)] == [False, True, True]

    def test_the_escalation_comment_names_its_tier_by_id_and_records_the_step(self) -> None:
        sponsor = POLICY.escalation.tiers[1]
        comment = escalation_comment(2, sponsor, date(2026, 11, 13), RULES)
        assert (comment.marker, comment.anchor, comment.targets, comment.extra) == (
            "pmsync:escalation:sponsor:due-2026-11-13",
            "pmsync/escalated-sponsor",
            ("owner", "sponsor"),
            (("tier", "sponsor"),),
        )
        assert comment.escalation is not None
        assert (comment.escalation.tier_id, comment.escalation.due) == (
            "sponsor",
            date(2026, 11, 13),
        )

    def test_a_tier_n_marker_of_old_counts_unless_a_later_tiers_label_says_otherwise(
        self,
    ) -> None:
        sponsor = POLICY.escalation.tiers[1]
        comment = escalation_comment(2, sponsor, date(2026, 11, 13), RULES)
        assert comment.legacy == LegacyMarker(
            marker="pmsync:escalation:tier-2:due-2026-11-13",
            unless_labelled=frozenset({"pmsync/escalated-executive"}),
        )

    def test_a_pinned_legacy_order_needs_no_label_and_may_know_no_such_tier(self) -> None:
        pinned = rules_with(
            escalation=POLICY.escalation.model_copy(update={"legacy_tier_order": ["sponsor"]})
        )
        owner, sponsor = POLICY.escalation.tiers[:2]
        assert escalation_comment(2, sponsor, TODAY, pinned).legacy == LegacyMarker(
            marker=f"pmsync:escalation:tier-1:due-{TODAY}", unless_labelled=frozenset()
        )
        assert escalation_comment(1, owner, TODAY, pinned).legacy is None


class TestEvidence:
    def test_a_merged_pull_request_meets_the_rule(self) -> None:
        assert evidence_judgement(closed_p1(merged_pr()), RULES).outcome is EvidenceOutcome.MET

    def test_unverifiable_evidence_is_what_the_policy_says(self) -> None:
        closed = closed_p1(gitlab_mr())
        reject = POLICY.closure.evidence.model_copy(update={"unverifiable": "reject"})
        assert evidence_judgement(closed, RULES).outcome is EvidenceOutcome.UNVERIFIABLE
        judged = evidence_judgement(closed, closure_with(evidence=reject))
        assert (judged.outcome, [r.rule for r in judged.reasons]) == (
            EvidenceOutcome.NOT_MET,
            ["evidence.unverifiable"],
        )


class TestClosure:
    def test_an_exempt_resolution_needs_nothing(self) -> None:
        judged = judge_closure(closed_p1(resolution=Resolution.WONT_DO), RULES)
        assert (judged.status, judged.verdict, judged.evidence_ok) == (
            Status.CLOSED_EXEMPT,
            NOTHING,
            None,
        )

    def test_good_evidence_and_an_owner_are_accepted(self) -> None:
        judged = judge_closure(closed_p1(merged_pr()), RULES)
        assert (judged.status, judged.verdict.findings, judged.evidence_ok) == (
            Status.CLOSED_ACCEPTED,
            (Finding("closure.accepted", "closure criteria met"),),
            True,
        )

    def test_missing_evidence_is_rejected_with_its_reasons_first(self) -> None:
        judged = judge_closure(closed_p1(unmerged()), RULES)
        assert judged.status is Status.CLOSED_REJECTED
        assert judged.evidence_ok is False
        assert [f.rule for f in judged.verdict.findings] == [
            "evidence.not_merged",
            "closure.rejected",
        ]
        assert judged.verdict.labels == {"pmsync/closure-rejected"}

    def test_an_owner_problem_rejects_for_the_owner_alone_while_evidence_is_pending(
        self,
    ) -> None:
        pending = Evidence(
            kind=EvidenceKind.PULL_REQUEST,
            url="https://github.com/acme/api/pull/9",
            verification=Verification.FAILED,
        )
        judged = judge_closure(closed_p1(pending, owners=()), RULES)
        assert (judged.status, judged.evidence_ok) == (Status.CLOSED_REJECTED, None)
        assert judged.verdict.findings == (
            Finding(
                "closure.rejected",
                "closure criteria not met: exactly one accountable owner (it has none)",
            ),
        )

    def test_a_failed_look_up_leaves_the_closure_labels_as_they_are(self) -> None:
        failed = gitlab_mr(Verification.FAILED)
        labelled = frozenset({"pmsync/evidence-unverified", "team-a"})
        judged = judge_closure(closed_p1(failed, labels=labelled), RULES)
        assert (judged.status, judged.verdict.labels) == (
            Status.CLOSED_PENDING,
            {"pmsync/evidence-unverified"},
        )
        assert judged.verdict.findings[-1].rule == "closure.pending"

    def test_unverifiable_evidence_is_flagged_or_accepted(self) -> None:
        closed = closed_p1(gitlab_mr())
        accept = POLICY.closure.evidence.model_copy(update={"unverifiable": "accept"})
        flagged = judge_closure(closed, RULES)
        accepted = judge_closure(closed, closure_with(evidence=accept))
        assert (flagged.status, flagged.verdict.labels) == (
            Status.CLOSED_FLAGGED,
            {"pmsync/evidence-unverified"},
        )
        assert (accepted.status, accepted.verdict.labels, accepted.evidence_ok) == (
            Status.CLOSED_ACCEPTED,
            frozenset(),
            None,
        )
        assert accepted.verdict.findings[-1].message.startswith(
            "closure criteria met; accepted unverified: "
        )

    def test_a_rejection_is_anchored_as_its_mode_says(self) -> None:
        closed = closed_p1()
        problems = (Finding("owner.missing", "an owner"),)
        by_mode = {
            mode: rejection(closed, closure_with(on_violation=mode), problems)
            for mode in ViolationAction
        }
        assert {mode: (v.labels, v.comments[0].anchor) for mode, v in by_mode.items()} == {
            ViolationAction.REOPEN: ({"pmsync/closure-rejected"}, None),
            ViolationAction.LABEL: ({"pmsync/closure-rejected"}, "pmsync/closure-rejected"),
            ViolationAction.COMMENT: (frozenset(), None),
        }
        stamp = (NOW - timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ")
        reopen = by_mode[ViolationAction.REOPEN].comments[0]
        assert reopen.marker == f"pmsync:closure-rejected:{stamp}"


class TestCombine:
    def test_findings_and_comments_keep_the_order_given_and_labels_unite(self) -> None:
        first = owner_verdict(owned_by(priority=Priority.P0), RULES)
        second = schedule_of(Priority.P0, date(2026, 11, 13), RULES).verdict
        both = combine(first, NOTHING, second)
        assert [f.rule for f in both.findings] == ["owner.missing", "deadline.overdue"]
        assert [c.rule for c in both.comments] == ["owner.missing", "escalation"]
        assert both.labels == first.labels | second.labels

    def test_one_verdict_is_itself_and_none_is_nothing(self) -> None:
        only = Verdict(labels=frozenset({"x"}))
        assert combine(NOTHING, only, NOTHING) is only
        assert combine(NOTHING, NOTHING) is NOTHING
