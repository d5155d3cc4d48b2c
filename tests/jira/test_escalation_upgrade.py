"""Tiers with a stable identity and mentions that reach someone, on Jira Cloud and Data Center.

The upgrade tests start from issues as the release before tier ids left them: comments
carrying ``pmsync:escalation:tier-N:due-...`` in their ``pmsync.marker`` property and in the
issue's marker index (posted through the connector's own comment path), and that ladder's
labels.
"""

from __future__ import annotations

from typing import Any

from syncer.core.apply import Applier
from syncer.core.cycle import run_cycle
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Markup, Mention, Message
from syncer.core.model import ItemRef, Person
from syncer.core.policy import Escalation, Policy, Tier
from tests.jira.conftest import ALICE_ID, BOB_ID, Site

LEAD_ID = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077"
OWNER = Tier(name="owner", after="0d", label="pmsync-overdue", id="owner")
SPONSOR = Tier(
    name="sponsor", after="7d", label="pmsync-escalated-sponsor", mention=["owner", "sponsor"]
)
LEAD = Tier(name="lead", after="7d", label="pmsync-escalated-lead", mention=["owner"])
LATE_SPONSOR = Tier(
    name="sponsor", after="14d", label="pmsync-escalated-sponsor", mention=["owner", "sponsor"]
)


def fallback(site: Site) -> str:
    """The SRE lead as this deployment mentions people: account id or user name."""
    return site.handle(LEAD_ID, "sre-lead")


def policy_with(site: Site, *tiers: Tier) -> Policy:
    site.emulator.add_user(account_id=LEAD_ID, name="sre-lead", display_name="Sam Lead")
    tracker = site.config(fallback_mention=[fallback(site)])
    return Policy.model_validate(
        {
            "version": "upgrade-test",
            "trackers": {"jira": [tracker.model_dump(mode="json")]},
            "escalation": Escalation(tiers=list(tiers)).model_dump(),
        }
    )


def cycle(site: Site, policy: Policy) -> None:
    """One cycle as a freshly started process runs it (a new connector, the real applier)."""
    connector = site.connector(policy, fallback_mention=[fallback(site)])
    applier = Applier(
        {"jira": connector}, MemoryLedger(), site.clock, cycle_id="c", policy_version="v"
    )
    run_cycle(trackers=[connector], policy=policy, now=site.clock(), executor=applier, cycle_id="c")


def action(site: Site, labels: list[str], **changes: Any) -> str:
    fields = {"Severity": "SEV-3", "Sponsor": "bob", **changes.pop("fields", {})}
    return site.add_action(
        "Add a retry budget",
        priority="High",
        assignee=changes.pop("assignee", "alice"),
        duedate="2026-11-13",
        fields={k: v for k, v in fields.items() if v is not None},
        created="-40d",
        labels=labels,
    )


def bodies(site: Site, key: str) -> list[str]:
    return [str(c["body"]) for c in site.emulator.comments(key)]


def markers(site: Site, key: str) -> list[str]:
    return [p["pmsync.marker"]["marker"] for p in site.emulator.comment_properties(key)]


class TestUpgradeFromTierNumbers:
    def test_same_ladder_posts_nothing_again_and_an_inserted_rung_posts_once(
        self, site: Site
    ) -> None:
        """Ten days overdue, told at tier-1 and tier-2 (one of them never labelled): after
        the upgrade nothing repeats; a rung inserted later is told exactly once."""
        today = policy_with(site, OWNER, SPONSOR)
        at_sponsor = action(site, ["pmsync-escalated-sponsor"])
        died = action(site, ["pmsync-overdue"])
        old = site.connector(today)
        for key in (at_sponsor, died):
            for n in (1, 2):
                old.post_comment(
                    ItemRef(tracker="jira", key=key),
                    Message(
                        marker=f"pmsync:escalation:tier-{n}:due-2026-11-13",
                        parts=(
                            Mention(person=Person(handle=site.handle(ALICE_ID, "alice"))),
                            Markup(text=" overdue"),
                        ),
                    ),
                )
        cycle(site, today)
        cycle(site, today)
        assert [len(bodies(site, k)) for k in (at_sponsor, died)] == [2, 2]
        assert "pmsync-escalated-sponsor" in site.emulator.labels_of(died)

        inserted = Policy.model_validate(
            {**today.model_dump(), "escalation": Escalation(tiers=[OWNER, LEAD, LATE_SPONSOR])}
        )
        cycle(site, inserted)
        cycle(site, inserted)
        for key in (at_sponsor, died):
            assert markers(site, key) == [
                "pmsync:escalation:tier-1:due-2026-11-13",
                "pmsync:escalation:tier-2:due-2026-11-13",
                "pmsync:escalation:pmsync-escalated-lead:due-2026-11-13",
            ]
            assert "pmsync-escalated-lead" in site.emulator.labels_of(key)


class TestMentionsReachSomeone:
    def test_a_sponsor_tier_without_a_sponsor_mentions_the_fallback_as_this_jira_does(
        self, site: Site
    ) -> None:
        """Cloud: [~accountid:<account id>]; Data Center: [~user name]."""
        key = action(site, [], fields={"Sponsor": None})
        cycle(site, policy_with(site, OWNER, SPONSOR))
        [comment] = bodies(site, key)
        alice = site.handle(ALICE_ID, "alice")
        if site.cloud:
            assert comment.startswith(f"[~accountid:{alice}] [~accountid:{LEAD_ID}] ")
        else:
            assert comment.startswith("[~alice] [~sre-lead] ")

    def test_the_sponsor_asked_for_an_owner_is_pinged_once_across_both_comments(
        self, site: Site
    ) -> None:
        key = action(site, [], assignee=None)
        cycle(site, policy_with(site, OWNER, SPONSOR))
        needs_owner, escalation = bodies(site, key)
        bob = f"[~accountid:{BOB_ID}]" if site.cloud else "[~bob]"
        assert needs_owner.startswith(f"{bob} this P1 action item needs")
        assert bob not in escalation
        assert "Bob Brown" in escalation
