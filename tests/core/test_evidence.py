"""One evidence model: links typed by the policy's rules, verified where they can be, judged."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncer.cli.main import main
from syncer.core.apply import Applier
from syncer.core.cycle import run_cycle
from syncer.core.errors import TransientError
from syncer.core.evaluate import Assessment, Status, evaluate
from syncer.core.evidence import verify_evidence
from syncer.core.evidence_judge import EvidenceJudge, EvidenceOutcome, judge_for
from syncer.core.evidence_links import (
    DEFAULT_LINK_RULES,
    LinkClassifier,
    classifier_for,
    default_classifier,
)
from syncer.core.ledger import MemoryLedger
from syncer.core.model import Evidence, EvidenceKind, Priority, Resolution, Verification
from syncer.core.policy import (
    Closure,
    EvidenceRule,
    LinkRule,
    Policy,
    Unverifiable,
    ViolationAction,
)
from syncer.core.tracker import EvidenceLink, Verdict
from tests.builders import NOW, example_policy, item
from tests.fakes import FakeTracker, FakeVerifier

K = EvidenceKind
PR = "https://github.com/acme/api/pull/12"
COMMIT = "https://github.com/acme/web/commit/3f9c2ab7d1e04c5b8a6f0e2d9c1b7a4e5f6d8c0b"
GITLAB_MR = "https://gitlab.com/acme/api/-/merge_requests/3"
DASHBOARD = "https://grafana.acme.io/d/abc/latency"
UNVERIFIED = "pmsync/evidence-unverified"
REJECTED = "pmsync/closure-rejected"


def link(
    url: str, kind: EvidenceKind, verification: Verification = Verification.UNCHECKED
) -> Evidence:
    return Evidence(kind=kind, url=url, verification=verification, verification_note="")


def with_evidence(policy: Policy, **changes: object) -> Policy:
    """``policy`` with its closure.evidence rule changed."""
    closure = policy.closure
    evidence = EvidenceRule.model_validate({**closure.evidence.model_dump(), **changes})
    return policy.model_copy(update={"closure": closure.model_copy(update={"evidence": evidence})})


def assess(one: object, policy: Policy | None = None) -> Assessment:
    return evaluate([one], policy or example_policy(), NOW)[0]  # type: ignore[list-item]


def rules(a: Assessment) -> list[str]:
    return [f.rule for f in a.findings]


class TestClassifier:
    @pytest.mark.parametrize(
        ("url", "kind"),
        [
            # the two URLs the old classifiers of the two connectors disagreed on
            (GITLAB_MR, K.PULL_REQUEST),
            ("https://grafana.acme.test/d/abc/payments-runbook", K.DASHBOARD),
            # GitHub and GitHub Enterprise Server
            (PR, K.PULL_REQUEST),
            ("https://github.com/acme/api/pull/42/files#diff-1", K.PULL_REQUEST),
            ("https://ghe.acme.io/acme/api/pull/7", K.PULL_REQUEST),
            (COMMIT, K.COMMIT),
            ("https://github.com/acme/api/pull/42/commits/0123abcdef", K.COMMIT),
            ("https://github.com/acme/api/actions/runs/123456", K.TEST_RUN),
            ("https://github.com/acme/api/actions/runs/123456/job/789", K.TEST_RUN),
            ("https://github.com/acme/api/issues/12", K.OTHER),
            ("https://github.com/acme/postmortems/blob/main/2026/INC-1.md", K.DOCUMENT),
            # GitLab, Bitbucket, Gerrit
            ("https://gitlab.acme.io/group/sub/api/-/commit/0123abcd", K.COMMIT),
            ("https://gitlab.com/acme/api/-/pipelines/991", K.TEST_RUN),
            ("https://gitlab.com/acme/api/-/jobs/4242", K.TEST_RUN),
            ("https://bitbucket.org/acme/api/pull-requests/5", K.PULL_REQUEST),
            ("https://review.acme.io/c/api/+/4242", K.PULL_REQUEST),
            # CI
            ("https://jenkins.acme.io/job/api/88/", K.TEST_RUN),
            ("https://ci.acme.io/job/folder/job/api/88/console", K.TEST_RUN),
            ("https://buildkite.com/acme/api/builds/77", K.TEST_RUN),
            ("https://app.circleci.com/pipelines/github/acme/api/12/workflows/x", K.TEST_RUN),
            # dashboards
            (DASHBOARD, K.DASHBOARD),
            ("https://acme.grafana.net/explore?left=x", K.DASHBOARD),
            ("https://app.datadoghq.com/dashboard/abc-123/api", K.DASHBOARD),
            ("https://app.datadoghq.eu/monitors/42", K.DASHBOARD),
            ("https://kibana.acme.io/app/discover#/view/1", K.DASHBOARD),
            ("https://logs.acme.io/app/dashboards#/view/1", K.DASHBOARD),
            ("https://one.newrelic.com/dashboards/abc", K.DASHBOARD),
            ("https://ui.honeycomb.io/acme/board/xyz", K.DASHBOARD),
            # runbooks and documents
            ("https://runbooks.acme.test/payments/provider-failover", K.RUNBOOK),
            ("https://wiki.acme.io/runbooks/db-failover", K.RUNBOOK),
            ("https://acme.atlassian.net/wiki/spaces/SRE/pages/1/DB+Runbook", K.RUNBOOK),
            ("https://acme.atlassian.net/wiki/spaces/SRE/pages/1/Retro", K.DOCUMENT),
            ("https://confluence.acme.io/display/SRE/Retro", K.DOCUMENT),
            ("https://docs.google.com/document/d/1abc/edit", K.DOCUMENT),
            ("https://www.notion.so/acme/Retro-123", K.DOCUMENT),
            ("https://docs.acme.io/architecture", K.DOCUMENT),
            # anything else, and what is not a URL at all
            ("https://example.com/something", K.OTHER),
            ("http://[::1", K.OTHER),
            ("", K.OTHER),
        ],
    )
    def test_the_default_rules_type_links_of_the_tools_teams_use(
        self, url: str, kind: EvidenceKind
    ) -> None:
        """Each URL gets the kind a reliability lead would give it, on every tracker."""
        assert default_classifier().kind(url) is kind

    def test_a_teams_own_rules_come_before_the_defaults(self) -> None:
        """Their Grafana "runbook" boards are runbooks, their status page is a dashboard."""
        rule = EvidenceRule(
            links=[
                LinkRule(host=r"^grafana\.acme\.test$", path="runbook", kind=K.RUNBOOK),
                LinkRule(host=r"^status\.acme\.io$", kind=K.DASHBOARD),
                LinkRule(host=r"^gitlab\.com$", kind=K.OTHER),
            ]
        )
        links = LinkClassifier.for_rule(rule)
        assert links.kind("https://grafana.acme.test/d/abc/payments-runbook") is K.RUNBOOK
        assert links.kind("https://grafana.acme.test/d/abc/latency") is K.DASHBOARD
        assert links.kind("https://status.acme.io/checkout") is K.DASHBOARD
        assert links.kind(GITLAB_MR) is K.OTHER
        assert links.kind(PR) is K.PULL_REQUEST

    def test_without_the_defaults_only_the_teams_rules_apply(self) -> None:
        """default_links: false leaves a GitHub pull request untyped unless a rule says."""
        rule = EvidenceRule(links=[LinkRule(path=r"/d/", kind=K.DASHBOARD)], default_links=False)
        links = LinkClassifier.for_rule(rule)
        assert (links.kind(DASHBOARD), links.kind(PR)) == (K.DASHBOARD, K.OTHER)

    def test_the_rules_are_compiled_once_per_policy(self) -> None:
        """Mappers ask per item and get the same compiled classifier; another policy its own."""
        policy = example_policy()
        first = classifier_for(policy.closure.evidence)
        assert classifier_for(policy.closure.evidence) is first
        assert classifier_for(EvidenceRule()) is not first

    def test_every_default_rule_has_a_tool_and_a_pattern(self) -> None:
        """The README table lists them; none is a catch-all."""
        assert all(d.tool and (d.rule.host or d.rule.path) for d in DEFAULT_LINK_RULES)

    @given(st.text(max_size=200))
    def test_classifying_any_text_never_raises(self, text: str) -> None:
        """Whatever an issue says, classifying it gives a kind."""
        assert isinstance(default_classifier().kind(text), EvidenceKind)

    @given(
        st.sampled_from(["http://", "https://", "ftp://", "", "//"]),
        st.text(max_size=60),
        st.text(max_size=80),
    )
    def test_classifying_url_shaped_text_never_raises(
        self, scheme: str, host: str, path: str
    ) -> None:
        """Brackets, ports, unicode and control characters in hosts or paths included."""
        assert isinstance(default_classifier().kind(f"{scheme}{host}/{path}"), EvidenceKind)


BAD_RULES = """\
version: "1"
closure:
  evidence:
    links:
      - host: 'grafana\\.acme\\.test'
        kind: dashboard
      - path: '/d/(unclosed'
        kind: dashboard
      - kind: runbook
"""


class TestPolicyRules:
    def test_a_bad_pattern_and_an_empty_rule_are_check_config_errors_with_file_line_and_key(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Both are caught at load, each named by file, line and dotted key."""
        bad = tmp_path / "rules.yaml"
        bad.write_text(BAD_RULES)
        assert main(["check-config", str(bad)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert lines[0].startswith(
            f"{bad}:7:9: closure.evidence.links[1].path: not a regular expression: "
            "missing ), unterminated subpattern at position 3"
        )
        assert "single quotes" in lines[0]
        assert lines[1] == (
            f"{bad}:9:9: closure.evidence.links[2]: a link rule needs a host or a path "
            "pattern (or both)"
        )


def judge(*evidence: Evidence, **rule: object) -> tuple[EvidenceOutcome, list[str]]:
    found = EvidenceJudge(EvidenceRule.model_validate(rule)).judge(
        item(closed_days_ago=2, priority=Priority.P0, evidence=evidence)
    )
    return found.outcome, [r.message for r in found.reasons]


class TestJudge:
    def test_a_merged_pull_request_meets_the_rule(self) -> None:
        assert judge(link(PR, K.PULL_REQUEST, Verification.CONFIRMED)) == (
            EvidenceOutcome.MET,
            [],
        )

    def test_an_unmerged_pull_request_is_named_in_the_reason(self) -> None:
        assert judge(link(PR, K.PULL_REQUEST, Verification.REFUTED)) == (
            EvidenceOutcome.NOT_MET,
            ["the linked pull request acme/api#12 is not merged"],
        )

    def test_a_commit_that_does_not_exist_is_named_in_the_reason(self) -> None:
        assert judge(link(COMMIT, K.COMMIT, Verification.REFUTED)) == (
            EvidenceOutcome.NOT_MET,
            ["the linked commit acme/web@3f9c2ab does not exist"],
        )

    def test_no_measurable_link_says_which_kinds_count_and_what_it_has(self) -> None:
        runbook = link("https://runbooks.acme.test/x", K.RUNBOOK)
        assert judge(runbook) == (
            EvidenceOutcome.NOT_MET,
            [
                "no link of a measurable kind (pull request, commit, dashboard, test run); "
                "it links only a runbook"
            ],
        )

    def test_a_link_nobody_could_check_is_unverifiable_not_refuted(self) -> None:
        mr = Evidence(
            kind=K.PULL_REQUEST,
            url=GITLAB_MR,
            verification=Verification.UNVERIFIABLE,
            verification_note="no tracker configured for gitlab.com can check it",
        )
        assert judge(mr) == (
            EvidenceOutcome.UNVERIFIABLE,
            [
                "the linked merge request acme/api!3 cannot be verified "
                "(no tracker configured for gitlab.com can check it)"
            ],
        )

    def test_a_failed_look_up_leaves_the_judgement_pending_even_beside_a_refuted_link(
        self,
    ) -> None:
        """The failed one may be the good one: nothing is decided until someone could look."""
        failed = Evidence(
            kind=K.COMMIT,
            url=COMMIT,
            verification=Verification.FAILED,
            verification_note="HTTP 502",
        )
        outcome, reasons = judge(link(PR, K.PULL_REQUEST, Verification.REFUTED), failed)
        assert outcome is EvidenceOutcome.PENDING
        assert reasons == [
            "the linked commit acme/web@3f9c2ab could not be checked this cycle (HTTP 502)"
        ]

    def test_two_links_needed_one_good_says_how_many_count(self) -> None:
        assert judge(link(DASHBOARD, K.DASHBOARD), min_links=2) == (
            EvidenceOutcome.NOT_MET,
            ["2 links of a measurable kind (pull request, commit, dashboard, test run); 1 counts"],
        )

    def test_unchecked_pull_requests_count_when_the_policy_does_not_ask_for_merged(self) -> None:
        assert judge(link(PR, K.PULL_REQUEST), pull_requests_must_be_merged=False)[0] is (
            EvidenceOutcome.MET
        )


def closed_p0(*evidence: Evidence, **extra: object) -> object:
    return item("acme/api#9", priority=Priority.P0, closed_days_ago=2, evidence=evidence, **extra)


class TestClosureDecisions:
    def test_evidence_nobody_can_verify_is_flagged_by_default_not_rejected(self) -> None:
        """Kept closed, labelled, no comment, no reopen."""
        a = assess(closed_p0(link(GITLAB_MR, K.PULL_REQUEST, Verification.UNVERIFIABLE)))
        assert (a.status, a.reopen, a.comments) == (Status.CLOSED_FLAGGED, False, ())
        assert a.desired_labels == {UNVERIFIED}
        assert rules(a) == ["evidence.unverifiable", "closure.flagged"]

    def test_the_policy_may_accept_or_reject_unverifiable_evidence_instead(self) -> None:
        unverifiable = closed_p0(link(GITLAB_MR, K.PULL_REQUEST, Verification.UNVERIFIABLE))
        accepted = assess(unverifiable, with_evidence(example_policy(), unverifiable="accept"))
        rejected = assess(unverifiable, with_evidence(example_policy(), unverifiable="reject"))
        assert (accepted.status, accepted.desired_labels) == (Status.CLOSED_ACCEPTED, set())
        assert rejected.reopen
        assert "cannot be verified" in rejected.comments[0].message_for(rejected).plain_text()

    def test_a_failed_look_up_changes_nothing_and_posts_nothing(self) -> None:
        """Whatever labels the closure has stay; the item is judged again next cycle."""
        failed = link(PR, K.PULL_REQUEST, Verification.FAILED)
        closure = example_policy().closure.model_copy(
            update={"on_violation": ViolationAction.LABEL}
        )
        policy = example_policy().model_copy(update={"closure": closure})
        a = assess(closed_p0(failed, labels=frozenset({REJECTED, UNVERIFIED})), policy)
        assert (a.status, a.reopen, a.comments) == (Status.CLOSED_PENDING, False, ())
        assert a.desired_labels == {REJECTED, UNVERIFIED}
        assert "closure.rejected" not in rules(a)

    def test_the_rejection_comment_names_the_unmerged_pull_request(self) -> None:
        a = assess(closed_p0(link(PR, K.PULL_REQUEST, Verification.REFUTED)))
        text = a.comments[0].message_for(a).plain_text()
        assert a.reopen
        assert "the linked pull request acme/api#12 is not merged" in text
        assert "closure.rejected" in rules(a)
        assert "evidence.not_merged" in rules(a)

    def test_an_owner_problem_still_rejects_while_the_evidence_is_pending(self) -> None:
        """The owner rule is known broken; the reason given is the owner, not the evidence."""
        a = assess(closed_p0(link(PR, K.PULL_REQUEST, Verification.FAILED), owners=()))
        reason = next(f.message for f in a.findings if f.rule == "closure.rejected")
        assert a.reopen
        assert "owner" in reason
        assert "pull request" not in reason

    def test_the_flag_goes_once_the_link_is_verified(self) -> None:
        """The managed label is removed when the merge is confirmed."""
        merged = closed_p0(
            link(PR, K.PULL_REQUEST, Verification.CONFIRMED), labels=frozenset({UNVERIFIED})
        )
        a = assess(merged)
        assert (a.status, a.desired_labels) == (Status.CLOSED_ACCEPTED, frozenset())
        assert UNVERIFIED in example_policy().managed_labels

    def test_each_answer_about_the_only_pull_request_has_its_own_decision(self) -> None:
        """Only a merge accepts; not merged reopens; no answer flags; a failed look-up waits."""
        decided = {v: assess(closed_p0(link(PR, K.PULL_REQUEST, v))) for v in Verification}
        assert {v: (a.status, a.reopen, a.evidence_ok) for v, a in decided.items()} == {
            Verification.CONFIRMED: (Status.CLOSED_ACCEPTED, False, True),
            Verification.REFUTED: (Status.ON_TRACK, True, False),
            Verification.UNVERIFIABLE: (Status.CLOSED_FLAGGED, False, None),
            Verification.UNCHECKED: (Status.CLOSED_FLAGGED, False, None),
            Verification.FAILED: (Status.CLOSED_PENDING, False, None),
        }


class TestVerifyStep:
    def test_a_verdict_the_item_already_carries_is_kept_but_a_failed_one_is_asked_again(
        self,
    ) -> None:
        """Connectors map links unchecked; an items file or a view may carry a verdict."""
        judge = judge_for(EvidenceRule())
        carried = {v: Evidence(kind=K.PULL_REQUEST, url=PR, verification=v) for v in Verification}
        asked = {
            v
            for v, e in carried.items()
            if judge.needs_lookup(
                item("a#1", priority=Priority.P0, closed_days_ago=2, evidence=(e,))
            )
        }
        assert asked == {Verification.UNCHECKED, Verification.FAILED}

    def test_only_judged_closures_are_looked_up_and_each_link_once(self) -> None:
        """Open items, old closures, P2s, won't-dos and items met by a dashboard cost nothing."""
        verifier = FakeVerifier(
            "github.com",
            answers={PR: Verdict(Verification.CONFIRMED), COMMIT: Verdict(Verification.REFUTED)},
        )
        pr = link(PR, K.PULL_REQUEST)
        items = [
            item("a#1", priority=Priority.P0, closed_days_ago=2, evidence=(pr,)),
            item(
                "a#2",
                priority=Priority.P1,
                closed_days_ago=3,
                evidence=(pr, link(COMMIT, K.COMMIT)),
            ),
            item("a#3", priority=Priority.P0, evidence=(pr,)),  # open
            item("a#4", priority=Priority.P0, closed_days_ago=90, evidence=(pr,)),  # old
            item("a#5", priority=Priority.P2, closed_days_ago=2, evidence=(pr,)),  # no need
            item(
                "a#6",
                priority=Priority.P0,
                closed_days_ago=2,
                resolution=Resolution.WONT_DO,
                evidence=(pr,),
            ),
            item(
                "a#7",
                priority=Priority.P0,
                closed_days_ago=2,
                evidence=(link(DASHBOARD, K.DASHBOARD), link(COMMIT, K.COMMIT)),
            ),
        ]
        verified = verify_evidence(items, example_policy(), NOW, [verifier])
        assert verifier.asked == [[PR, COMMIT]]
        checks = {i.ref.key: [e.verification for e in i.evidence] for i in verified.items}
        assert checks["a#1"] == [Verification.CONFIRMED]
        assert checks["a#2"] == [Verification.CONFIRMED, Verification.REFUTED]
        for untouched in ("a#3", "a#4", "a#5", "a#6"):
            assert checks[untouched] == [Verification.UNCHECKED]
        assert checks["a#7"] == [Verification.UNCHECKED, Verification.UNCHECKED]
        assert verified.counts() == {"confirmed": 1, "refuted": 1}

    def test_a_link_no_verifier_serves_is_unverifiable_with_the_host_named(self) -> None:
        verifier = FakeVerifier("github.com")
        one = item(
            priority=Priority.P0, closed_days_ago=1, evidence=(link(GITLAB_MR, K.PULL_REQUEST),)
        )
        verified = verify_evidence([one], example_policy(), NOW, [verifier])
        evidence = verified.items[0].evidence[0]
        assert verifier.asked == []
        assert (evidence.verification, evidence.verification_note) == (
            Verification.UNVERIFIABLE,
            "no tracker configured for gitlab.com can check it",
        )

    def test_the_best_fitting_verifier_is_asked(self) -> None:
        """Of two verifiers for one host, the one that scores the link higher answers."""

        class Scored(FakeVerifier):
            def serves(self, link: EvidenceLink) -> int:
                return 2 * super().serves(link)

        loose = FakeVerifier("github.com", {PR: Verdict(Verification.REFUTED)}, name="loose")
        close = Scored("github.com", {PR: Verdict(Verification.CONFIRMED)}, name="close")
        one = item(priority=Priority.P0, closed_days_ago=1, evidence=(link(PR, K.PULL_REQUEST),))
        verified = verify_evidence([one], example_policy(), NOW, [loose, close])
        assert (loose.asked, close.asked) == ([], [[PR]])
        assert verified.items[0].evidence[0].verification is Verification.CONFIRMED

    def test_a_verifier_that_raises_makes_its_links_failed_not_the_cycle(self) -> None:
        class Broken(FakeVerifier):
            def verify(self, links: object) -> dict[str, Verdict]:  # type: ignore[override]
                raise TransientError("check: HTTP 502")

        one = item(priority=Priority.P0, closed_days_ago=1, evidence=(link(PR, K.PULL_REQUEST),))
        verified = verify_evidence([one], example_policy(), NOW, [Broken("github.com")])
        assert verified.items[0].evidence[0].verification is Verification.FAILED


class TestCycleWithAVerifier:
    def test_a_merged_pull_request_is_accepted_and_an_unmerged_one_reopened_with_its_name(
        self,
    ) -> None:
        """Through the fake tracker and verifier: one write set, for the unmerged one only."""
        merged = "https://github.com/acme/api/pull/1"
        unmerged = "https://github.com/acme/api/pull/2"
        policy = example_policy()
        tracker = FakeTracker("github", lambda: NOW).load(
            [
                item(
                    "acme/x#1",
                    priority=Priority.P0,
                    closed_days_ago=1,
                    evidence=(link(merged, K.PULL_REQUEST),),
                ),
                item(
                    "acme/x#2",
                    priority=Priority.P0,
                    closed_days_ago=1,
                    evidence=(link(unmerged, K.PULL_REQUEST),),
                ),
            ]
        )
        verifier = FakeVerifier(
            "github.com",
            {merged: Verdict(Verification.CONFIRMED), unmerged: Verdict(Verification.REFUTED)},
        )
        ledger = MemoryLedger()
        outcome = run_cycle(
            trackers=[tracker],
            policy=policy,
            now=NOW,
            executor=Applier(
                {"github": tracker}, ledger, lambda: NOW, cycle_id="c1", policy_version="t"
            ),
            cycle_id="c1",
            ledger=ledger,
            verifiers=[verifier],
        )
        assert {w[1] for w in tracker.writes} == {"acme/x#2"}
        assert ("reopen", "acme/x#2", ()) in tracker.writes
        assert "the linked pull request acme/api#2 is not merged" in tracker.comments[0].text
        decided = {(e.item_key, e.kind) for e in ledger.entries if e.kind.startswith("closure")}
        assert decided == {("acme/x#1", "closure_accepted"), ("acme/x#2", "closure_rejected")}
        assert outcome.items[0].evidence[0].verification is Verification.CONFIRMED

    def test_without_any_verifier_a_pull_request_closure_is_flagged_not_reopened(self) -> None:
        policy = example_policy()
        tracker = FakeTracker("github", lambda: NOW).load(
            [
                item(
                    "acme/x#1",
                    priority=Priority.P0,
                    closed_days_ago=1,
                    evidence=(link(PR, K.PULL_REQUEST),),
                )
            ]
        )
        run_cycle(
            trackers=[tracker],
            policy=policy,
            now=NOW,
            executor=Applier(
                {"github": tracker}, MemoryLedger(), lambda: NOW, cycle_id="c1", policy_version="t"
            ),
            cycle_id="c1",
        )
        assert tracker.writes == [("add_labels", "acme/x#1", (UNVERIFIED,))]


def test_policy_models_reject_an_unknown_unverifiable_value() -> None:
    """accept, flag or reject only."""
    with pytest.raises(ValueError, match="accept"):
        Closure(evidence=EvidenceRule(unverifiable="ignore"))  # type: ignore[arg-type]
    assert EvidenceRule().unverifiable is Unverifiable.FLAG
