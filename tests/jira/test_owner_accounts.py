"""A deactivated Jira owner end to end: Jira says ``active: false``, pmsync asks the sponsor.

No user request is made: the flag comes with the issue's own user objects.
"""

from __future__ import annotations

from syncer.core.apply import Applier
from syncer.core.cycle import run_cycle
from syncer.core.ledger import MemoryLedger
from tests.builders import example_policy
from tests.jira.conftest import BOB_ID, Site

FRANK_ID = "712020:ffffffff-0000-4000-8000-00000000f4a7"


def mention(site: Site, account_id: str, name: str) -> str:
    return f"[~accountid:{account_id}]" if site.cloud else f"[~{name}]"


def run(site: Site) -> None:
    policy = example_policy()
    connector = site.connector(policy)
    applier = Applier(
        {connector.name: connector},
        MemoryLedger(),
        site.clock,
        cycle_id="c1",
        policy_version=policy.version,
    )
    outcome = run_cycle(
        trackers=[connector], policy=policy, now=site.clock(), executor=applier, cycle_id="c1"
    )
    assert outcome.fetch_errors == {}
    assert outcome.result.failed == []


class TestDeactivatedOwner:
    def test_a_deactivated_assignee_is_no_owner_and_is_never_mentioned(self, site: Site) -> None:
        """needs-owner label, the sponsor asked, frank not mentioned, no user look-up."""
        site.emulator.add_user(account_id=FRANK_ID, name="frank", active=False)
        key = site.add_action(
            "Add a retry budget",
            priority="High",
            assignee="frank",
            duedate="2026-11-10",
            fields={"Severity": "SEV-2", "Sponsor": "bob"},
            created="-40d",
        )
        site.reset()
        run(site)
        labels = site.emulator.labels_of(key)
        assert "pmsync/needs-owner" in labels
        assert "pmsync/escalated-sponsor" in labels
        comments = [str(c["body"]) for c in site.emulator.comments(key)]
        assert len(comments) == 2
        bob = mention(site, BOB_ID, "bob")
        assert sum(bob in text for text in comments) == 1  # pinged once per item
        frank = mention(site, FRANK_ID, "frank")
        assert not any(frank in text for text in comments)
        [asked] = [t for t in comments if "needs" in t]
        assert "account is inactive" in asked
        assert not [k for k in site.requests() if "/user" in k[1]]

    def test_a_closure_by_a_deactivated_owner_is_rejected_for_that_reason(self, site: Site) -> None:
        """The rejection comment says the owner's account is inactive."""
        site.emulator.add_user(account_id=FRANK_ID, name="frank", active=False)
        key = site.add_action(
            "Fix the timeout",
            priority="High",
            status="Done",
            assignee="frank",
            fields={
                "Severity": "SEV-2",
                "Sponsor": "bob",
                "Evidence": "https://grafana.acme.test/d/checkout",
            },
            created="-20d",
            updated="-2d",
        )
        run(site)
        comments = [str(c["body"]) for c in site.emulator.comments(key)]
        [rejection] = [t for t in comments if "closure criteria" in t]
        assert "the owner's account is inactive" in rejection
        assert mention(site, FRANK_ID, "frank") not in rejection
