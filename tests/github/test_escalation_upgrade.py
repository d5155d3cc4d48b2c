"""Tiers with a stable identity and mentions that reach someone, on the GitHub emulator.

The tracker state of the upgrade tests is written the way the release before tier ids wrote
it: comments whose hidden marker is ``pmsync:escalation:tier-N:due-...``, posted through the
connector's own comment path, and the tier labels of that ladder.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from connectors.emulators.github import GitHubEmulator
from syncer.core.apply import Applier
from syncer.core.cycle import run_cycle
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Markup, Mention, Message
from syncer.core.model import ItemRef, Person
from syncer.core.policy import Escalation, Policy, Tier
from tests.github.conftest import START, ConnectorFactory, FakeClock

OWNER = Tier(name="owner", after="0d", label="pmsync/overdue")
SPONSOR = Tier(
    name="sponsor", after="7d", label="pmsync/escalated-sponsor", mention=["owner", "sponsor"]
)
LEAD = Tier(name="lead", after="7d", label="pmsync/escalated-lead", mention=["@acme/leads"])
LATE_SPONSOR = Tier(
    name="sponsor", after="14d", label="pmsync/escalated-sponsor", mention=["owner", "sponsor"]
)
LEAD_MARKER = "pmsync:escalation:pmsync-escalated-lead:due-"


def body(due: str, sponsor: str | None = "@bob") -> str:
    sponsor_section = f"### Sponsor\n\n{sponsor}\n\n" if sponsor else ""
    return f"### Due date\n\n{due}\n\n{sponsor_section}### Evidence\n\n_No response_\n"


def policy_with(emulator: GitHubEmulator, *tiers: Tier, **escalation: Any) -> Policy:
    """A policy whose GitHub tracker is the emulator, with its own fallback team."""
    return Policy.model_validate(
        {
            "version": "upgrade-test",
            "trackers": {
                "github": [
                    {
                        "name": "github",
                        "base_url": emulator.base_url,
                        "repositories": ["acme/api"],
                        "fallback_mention": ["@acme/sre-leads"],
                    }
                ]
            },
            "escalation": Escalation(tiers=list(tiers), **escalation).model_dump(),
        }
    )


def cycle(make_connector: ConnectorFactory, clock: FakeClock, policy: Policy) -> None:
    """One cycle as a freshly started process runs it (a new connector, the real applier)."""
    connector = make_connector(policy=policy)
    applier = Applier(
        {"github": connector}, MemoryLedger(), clock, cycle_id="c", policy_version=policy.version
    )
    run_cycle(trackers=[connector], policy=policy, now=clock(), executor=applier, cycle_id="c")


def action(emulator: GitHubEmulator, title: str, due: str, labels: list[str], **kw: Any) -> int:
    return emulator.add_issue(
        "acme/api",
        title,
        labels=["postmortem-action", "P1", "sev-3", *labels],
        assignees=kw.pop("assignees", ["alice"]),
        body=body(due, **kw),
        created_at=START - timedelta(days=40),
    )


def written_by_the_old_release(
    emulator: GitHubEmulator, make_connector: ConnectorFactory, policy: Policy
) -> dict[str, int]:
    """Three items as the release before tier ids left them (ladder: owner, sponsor at 7d).

    ``at_sponsor``: ten days overdue, told at tier-1 and tier-2, labelled for the sponsor.
    ``died``: the same, but that release died between the tier-2 comment and its label.
    ``early``: four days overdue, told at tier-1.
    """
    emulator.add_repo("acme/api")
    numbers = {
        "at_sponsor": action(
            emulator, "Add a retry budget", "2026-11-13", ["pmsync/escalated-sponsor"]
        ),
        "died": action(emulator, "Rotate the key", "2026-11-13", ["pmsync/overdue"]),
        "early": action(emulator, "Alert on lag", "2026-11-19", ["pmsync/overdue"]),
    }
    old = make_connector(policy=policy)
    for name, tiers in (("at_sponsor", (1, 2)), ("died", (1, 2)), ("early", (1,))):
        due = "2026-11-13" if name != "early" else "2026-11-19"
        for n in tiers:
            old.post_comment(
                ItemRef(tracker="github", key=f"acme/api#{numbers[name]}"),
                Message(
                    marker=f"pmsync:escalation:tier-{n}:due-{due}",
                    parts=(Mention(person=Person(handle="alice")), Markup(text=" overdue")),
                ),
            )
    return numbers


def bodies(emulator: GitHubEmulator, number: int) -> list[str]:
    return [c["body"] for c in emulator.comments("acme/api", number)]


class TestUpgradeFromTierNumbers:
    def test_after_upgrade_with_the_same_ladder_nothing_is_posted_again(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        today = policy_with(emulator, OWNER, SPONSOR)
        numbers = written_by_the_old_release(emulator, make_connector, today)
        before = {n: len(bodies(emulator, n)) for n in numbers.values()}
        cycle(make_connector, clock, today)
        cycle(make_connector, clock, today)
        assert {n: len(bodies(emulator, n)) for n in numbers.values()} == before
        died = emulator.labels_of("acme/api", numbers["died"])
        assert ("pmsync/escalated-sponsor" in died, "pmsync/overdue" in died) == (True, False)

    def test_inserting_a_rung_later_posts_the_new_rungs_comment_exactly_once(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        today = policy_with(emulator, OWNER, SPONSOR)
        numbers = written_by_the_old_release(emulator, make_connector, today)
        cycle(make_connector, clock, today)
        inserted = policy_with(emulator, OWNER, LEAD, LATE_SPONSOR)
        cycle(make_connector, clock, inserted)
        cycle(make_connector, clock, inserted)
        clock.advance(days=3)  # "early" is now seven days overdue: the lead's turn
        cycle(make_connector, clock, inserted)
        cycle(make_connector, clock, inserted)
        for name in ("at_sponsor", "died", "early"):
            lead = [b for b in bodies(emulator, numbers[name]) if LEAD_MARKER in b]
            assert len(lead) == 1, name
            assert lead[0].startswith("@acme/leads ")
            labels = emulator.labels_of("acme/api", numbers[name])
            assert "pmsync/escalated-lead" in labels, name

    def test_with_the_legacy_order_pinned_the_sponsor_told_before_is_not_told_again(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        today = policy_with(emulator, OWNER, SPONSOR)
        numbers = written_by_the_old_release(emulator, make_connector, today)
        pinned = policy_with(
            emulator,
            OWNER,
            LEAD,
            LATE_SPONSOR,
            legacy_tier_order=["pmsync-overdue", "pmsync-escalated-sponsor"],
        )
        cycle(make_connector, clock, pinned)
        clock.advance(days=5)  # back at the sponsor tier (14 days overdue)
        cycle(make_connector, clock, pinned)
        texts = bodies(emulator, numbers["at_sponsor"])
        assert [b.split("<!-- ")[1].split(":due")[0] for b in texts] == [
            "pmsync:escalation:tier-1",
            "pmsync:escalation:tier-2",
            "pmsync:escalation:pmsync-escalated-lead",
        ]
        assert "pmsync/escalated-sponsor" in emulator.labels_of("acme/api", numbers["at_sponsor"])


class TestMentionsReachSomeone:
    def test_a_sponsor_tier_without_a_sponsor_pings_the_trackers_fallback(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        emulator.add_repo("acme/api")
        number = action(emulator, "No sponsor named", "2026-11-13", [], sponsor=None)
        cycle(make_connector, clock, policy_with(emulator, OWNER, SPONSOR))
        [comment] = bodies(emulator, number)
        assert comment.startswith("@alice @acme/sre-leads ")

    def test_the_sponsor_asked_for_an_owner_is_pinged_once_across_both_comments(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        emulator.add_repo("acme/api")
        number = action(emulator, "Nobody assigned", "2026-11-13", [], assignees=[])
        cycle(make_connector, clock, policy_with(emulator, OWNER, SPONSOR))
        needs_owner, escalation = bodies(emulator, number)
        assert needs_owner.startswith(
            "@bob this P1 action item needs exactly one accountable owner"
        )
        assert escalation.startswith("@acme/sre-leads bob ")
        assert sum(b.count("@bob") for b in (needs_owner, escalation)) == 1
