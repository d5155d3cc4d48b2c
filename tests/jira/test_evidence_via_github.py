"""A Jira item's GitHub evidence is checked through the GitHub connector, on both emulators.

Jira keeps the link, GitHub knows whether it is merged: the cycle asks the GitHub connector
configured for the link's host (here the GitHub emulator standing in for github.com through
``web_url``), so REL-5-like closures with a merged pull request are accepted, and nothing is
rejected because pmsync could not look.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from pydantic import SecretStr

from connectors.emulators.github import Faults, GitHubEmulator
from connectors.github import GitHubConnector
from connectors.jira.client import JiraConnector
from syncer.core.apply import Applier
from syncer.core.cursors import MemoryCursorStore
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.evaluate import Status
from syncer.core.ledger import MemoryLedger
from syncer.core.model import Verification
from syncer.core.policy import Policy, ViolationAction
from syncer.core.tracker_config import GitHubTracker
from tests.builders import example_policy
from tests.jira.conftest import Site

GITHUB_TOKEN = "gh-emulator-token"
PULLS = ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}")
UNVERIFIED = "pmsync/evidence-unverified"
REJECTED = "pmsync/closure-rejected"


@pytest.fixture
def github(cloud_site: Site) -> Iterator[GitHubEmulator]:
    """A GitHub emulator on the Jira site's clock, with acme/api and two pull requests."""
    emulator = GitHubEmulator(token=GITHUB_TOKEN, clock=cloud_site.clock)
    emulator.add_repo("acme/api")
    emulator.add_pull("acme/api", number=12, merged=True, title="Roll back on p99 regressions")
    emulator.add_pull("acme/api", number=15, merged=False, title="WIP: cert expiry exporter")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@dataclass
class Setup:
    """A Jira connector to act on, a GitHub connector to verify with, and a ledger."""

    site: Site
    github: GitHubEmulator
    policy: Policy
    jira: JiraConnector
    verifier: GitHubConnector
    ledger: MemoryLedger = field(default_factory=MemoryLedger)
    cycles: int = 0

    def closed(self, summary: str, evidence: str, **fields: str) -> str:
        """A P0 closed yesterday, owned by alice, sponsored by bob, with one evidence link."""
        return self.site.add_action(
            summary,
            priority="Highest",
            status="Done",
            assignee="alice",
            created="-10d",
            updated="-1d",
            fields={"Severity": "SEV-1", "Sponsor": "bob", "Evidence": evidence, **fields},
        )

    def cycle(self) -> CycleOutcome:
        self.cycles += 1
        cycle_id = f"c{self.cycles}"
        applier = Applier(
            {self.jira.name: self.jira},
            self.ledger,
            self.site.clock,
            cycle_id=cycle_id,
            policy_version=self.policy.version,
        )
        outcome = run_cycle(
            trackers=[self.jira],
            policy=self.policy,
            now=self.site.clock(),
            executor=applier,
            cycle_id=cycle_id,
            ledger=self.ledger,
            verifiers=[self.verifier],
        )
        assert outcome.fetch_errors == {}
        assert outcome.result.failed == []
        return outcome

    def status(self, outcome: CycleOutcome, key: str) -> Status:
        return next(a.status for a in outcome.assessments if a.item.ref.key == key)

    def decisions(self) -> set[tuple[str, str]]:
        return {(e.item_key, e.kind) for e in self.ledger.entries if e.kind.startswith("closure")}


def make_setup(site: Site, github: GitHubEmulator, policy: Policy | None = None) -> Setup:
    policy = policy or example_policy()
    verifier = GitHubConnector(
        GitHubTracker(
            name="github",
            base_url=github.base_url,
            web_url="https://github.com",  # the emulator stands in for github.com
            repositories=["acme/api"],
            seconds_between_writes=0,
        ),
        policy,
        MemoryCursorStore(),
        site.clock,
        token=SecretStr(GITHUB_TOKEN),
        sleep=lambda _s: None,
    )
    return Setup(site, github, policy, site.connector(policy), verifier)


def labelled_policy() -> Policy:
    """on_violation: label, so a rejected closure stays closed and is judged every cycle."""
    policy = example_policy()
    closure = policy.closure.model_copy(update={"on_violation": ViolationAction.LABEL})
    return policy.model_copy(update={"closure": closure})


class TestJiraClosuresWithGitHubEvidence:
    def test_a_merged_pull_request_is_accepted_and_nothing_is_written(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """The REL-5 case: one GET to GitHub, merged, accepted, no comment, no reopen."""
        setup = make_setup(cloud_site, github)
        key = setup.closed("Roll back on p99", "https://github.com/acme/api/pull/12")
        outcome = setup.cycle()
        assert setup.status(outcome, key) is Status.CLOSED_ACCEPTED
        assert outcome.result.writes == 0
        assert cloud_site.emulator.comments(key) == []
        assert setup.decisions() == {(key, "closure_accepted")}
        assert github.counters == {(*PULLS, 200): 1}

    def test_an_unmerged_pull_request_is_rejected_with_its_name_in_the_comment(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """Reopened, labelled, and the comment says which pull request is not merged."""
        setup = make_setup(cloud_site, github)
        key = setup.closed("Cert expiry exporter", "https://github.com/acme/api/pull/15")
        setup.cycle()
        (comment,) = cloud_site.emulator.comments(key)
        shown = comment["body"].replace("\\#", "#")  # wiki markup escapes the #
        assert "the linked pull request acme/api#15 is not merged" in shown
        assert REJECTED in cloud_site.emulator.labels_of(key)
        assert cloud_site.emulator.issue(key)["fields"]["status"]["name"] != "Done"
        assert setup.decisions() == {(key, "closure_rejected")}

    def test_a_gitlab_merge_request_is_flagged_not_rejected(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """Nobody can verify it: kept closed with the unverified label, no comment, no GitHub
        request; the second cycle writes nothing."""
        setup = make_setup(cloud_site, github)
        key = setup.closed("Pipeline gate", "https://gitlab.com/acme/api/-/merge_requests/3")
        outcome = setup.cycle()
        assert setup.status(outcome, key) is Status.CLOSED_FLAGGED
        assert cloud_site.emulator.labels_of(key) == ["postmortem-action", UNVERIFIED]
        assert cloud_site.emulator.comments(key) == []
        assert cloud_site.emulator.issue(key)["fields"]["status"]["name"] == "Done"
        assert setup.decisions() == {(key, "closure_flagged")}
        assert github.request_count() == 0
        cloud_site.clock.advance(minutes=15)
        assert setup.cycle().result.writes == 0

    def test_a_502_from_github_while_checking_reopens_nothing_and_the_next_cycle_accepts(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """A failed look-up is no verdict: the item is left alone, then judged once GitHub
        answers."""
        setup = make_setup(cloud_site, github)
        key = setup.closed("Roll back on p99", "https://github.com/acme/api/pull/12")
        github.faults = Faults(error_5xx_rate=1.0)
        outcome = setup.cycle()
        assert setup.status(outcome, key) is Status.CLOSED_PENDING
        assert outcome.result.writes == 0
        assert cloud_site.emulator.issue(key)["fields"]["status"]["name"] == "Done"
        assert setup.decisions() == set()
        github.faults = Faults()
        cloud_site.clock.advance(minutes=15)
        again = setup.cycle()
        assert setup.status(again, key) is Status.CLOSED_ACCEPTED
        assert again.result.writes == 0
        assert setup.decisions() == {(key, "closure_accepted")}

    def test_one_request_per_distinct_link_however_many_items_link_it(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """Three items link pull request 12 (one twice), one links 15: two GETs in all."""
        setup = make_setup(cloud_site, github)
        merged = "https://github.com/acme/api/pull/12"
        keys = [setup.closed(f"Part {n}", merged) for n in range(3)]
        keys.append(setup.closed("Both", f"{merged} and [again|{merged}/files]"))
        setup.closed("Other", "https://github.com/acme/api/pull/15")
        outcome = setup.cycle()
        assert github.counters == {(*PULLS, 200): 2}
        assert {setup.status(outcome, k) for k in keys} == {Status.CLOSED_ACCEPTED}

    def test_a_second_cycle_checks_conditionally_and_a_merged_pull_request_not_at_all(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """The unmerged one is asked again with its ETag (304, no quota); the merged one is
        final. Once merged, the rejection label goes."""
        setup = make_setup(cloud_site, github, labelled_policy())
        open_pr = setup.closed("Exporter", "https://github.com/acme/api/pull/15")
        setup.closed("Roll back", "https://github.com/acme/api/pull/12")
        setup.cycle()
        assert REJECTED in cloud_site.emulator.labels_of(open_pr)
        github.reset_counters()
        quota = github.rate_limit_remaining
        cloud_site.clock.advance(minutes=15)
        second = setup.cycle()
        assert github.counters == {(*PULLS, 304): 1}
        assert github.rate_limit_remaining == quota
        assert second.result.writes == 0
        github.merge_pull("acme/api", 15)
        cloud_site.clock.advance(minutes=15)
        third = setup.cycle()
        assert setup.status(third, open_pr) is Status.CLOSED_ACCEPTED
        assert REJECTED not in cloud_site.emulator.labels_of(open_pr)

    def test_open_items_and_old_closures_cost_no_github_request(
        self, cloud_site: Site, github: GitHubEmulator
    ) -> None:
        """Only closures inside check_closed_within are judged, so only their links checked."""
        setup = make_setup(cloud_site, github)
        cloud_site.add_action(
            "Still open",
            priority="Highest",
            assignee="alice",
            duedate="2026-12-30",
            fields={"Severity": "SEV-1", "Evidence": "https://github.com/acme/api/pull/12"},
        )
        cloud_site.add_action(
            "Closed long ago",
            priority="Highest",
            status="Done",
            assignee="alice",
            created="-90d",
            updated="-60d",
            fields={"Severity": "SEV-1", "Evidence": "https://github.com/acme/api/pull/15"},
        )
        setup.cycle()
        assert github.request_count() == 0
        outcome = setup.cycle()
        assert {e.verification for i in outcome.items for e in i.evidence} == {
            Verification.UNCHECKED
        }


def test_the_closure_window_is_what_limits_look_ups() -> None:
    """The example policy judges closures of the last 30 days (the tests above rely on it)."""
    assert example_policy().closure.check_closed_within.as_timedelta() == timedelta(days=30)
