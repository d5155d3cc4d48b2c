"""Tiers keep their identity: markers, the ledger and legacy ``tier-N`` markers, on the fake."""

from datetime import date, datetime, timedelta

from syncer.core.apply import Applier
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ActionItem, Priority, Severity
from syncer.core.policy import Escalation, Policy, Tier
from tests.builders import NOW, example_policy, item
from tests.fakes import FakeComment, FakeTracker

DUE = date(2026, 11, 13)  # NOW is 2026-11-23: ten days overdue
OWNER = Tier(name="owner", after="0d", label="pmsync/overdue")
SPONSOR = Tier(
    name="sponsor", after="7d", label="pmsync/escalated-sponsor", mention=["owner", "sponsor"]
)
LEAD = Tier(name="lead", after="7d", label="pmsync/escalated-lead", mention=["@acme/leads"])
LATE_SPONSOR = Tier(
    name="sponsor", after="14d", label="pmsync/escalated-sponsor", mention=["owner", "sponsor"]
)


def ladder(*tiers: Tier, legacy: list[str] | None = None) -> Policy:
    """The example policy with this ladder (ids from the labels, as in today's files)."""
    return example_policy(escalation=Escalation(tiers=list(tiers), legacy_tier_order=legacy))


TODAY = ladder(OWNER, SPONSOR)
INSERTED = ladder(OWNER, LEAD, LATE_SPONSOR)


def overdue(labels: set[str]) -> ActionItem:
    return item(
        "acme/api#1",
        priority=Priority.P1,
        severity=Severity.SEV3,
        due=DUE,
        labels=frozenset({"postmortem-action", *labels}),
    )


def written_today(labels: set[str], *tiers: int) -> FakeTracker:
    """Tracker state as the release before tier ids left it: ``tier-N`` markers, labels."""
    fake = FakeTracker("github", clock=lambda: NOW).load([overdue(labels)])
    ref = fake.items["acme/api#1"].ref
    for n in tiers:
        fake.comments.append(FakeComment(ref, f"pmsync:escalation:tier-{n}:due-{DUE}", "..."))
    return fake


def cycle(fake: FakeTracker, policy: Policy, now: datetime = NOW) -> CycleOutcome:
    ledger = MemoryLedger()
    applier = Applier({fake.name: fake}, ledger, lambda: now, cycle_id="c", policy_version="v")
    return run_cycle(
        trackers=[fake], policy=policy, now=now, executor=applier, cycle_id="c", ledger=ledger
    )


def posted(fake: FakeTracker) -> list[str]:
    return [marker for kind, _, (marker, *_) in fake.writes if kind == "comment"]


class TestMarkers:
    def test_an_escalation_marker_names_the_tier_id_not_its_position(self) -> None:
        fake = written_today(set())
        cycle(fake, TODAY)
        assert posted(fake) == [f"pmsync:escalation:pmsync-escalated-sponsor:due-{DUE}"]

    def test_the_ledger_records_tier_id_name_and_due_date_as_structured_inputs(self) -> None:
        fake, ledger = written_today(set()), MemoryLedger()
        applier = Applier({fake.name: fake}, ledger, lambda: NOW, cycle_id="c", policy_version="v")
        run_cycle(trackers=[fake], policy=TODAY, now=NOW, executor=applier, cycle_id="c")
        [comment] = [e for e in ledger.entries if e.kind == "comment"]
        assert {k: comment.inputs[k] for k in ("tier_id", "tier_name", "due")} == {
            "tier_id": "pmsync-escalated-sponsor",
            "tier_name": "sponsor",
            "due": "2026-11-13",
        }


class TestLegacyMarkers:
    def test_after_upgrade_with_the_same_ladder_nothing_is_posted_again(self) -> None:
        fake = written_today({"pmsync/escalated-sponsor"}, 1, 2)
        assert cycle(fake, TODAY).plan.is_empty()
        assert fake.writes == []

    def test_a_legacy_comment_whose_label_was_never_written_is_not_posted_again(self) -> None:
        """The old release died between the tier-2 comment and its label."""
        fake = written_today({"pmsync/overdue"}, 1, 2)
        outcome = cycle(fake, TODAY)
        assert outcome.result.count("skipped") == 1
        assert posted(fake) == []
        assert fake.items["acme/api#1"].labels == {"postmortem-action", "pmsync/escalated-sponsor"}

    def test_inserting_a_rung_later_posts_the_new_rungs_comment_exactly_once(self) -> None:
        """tier-2 was the sponsor's comment; the lead now at place 2 has not been told."""
        fake = written_today({"pmsync/escalated-sponsor"}, 1, 2)
        cycle(fake, TODAY)
        cycle(fake, INSERTED)
        cycle(fake, INSERTED)
        assert posted(fake) == [f"pmsync:escalation:pmsync-escalated-lead:due-{DUE}"]
        assert fake.items["acme/api#1"].labels == {"postmortem-action", "pmsync/escalated-lead"}

    def test_an_item_reaching_an_inserted_rung_later_is_told_once(self) -> None:
        """Three days overdue at upgrade (tier-1 only); the lead's day comes after the insert."""
        fake = written_today({"pmsync/overdue"}, 1)
        early = NOW - timedelta(days=7)
        cycle(fake, TODAY, early)
        cycle(fake, INSERTED, early)
        cycle(fake, INSERTED)
        cycle(fake, INSERTED)
        assert posted(fake) == [f"pmsync:escalation:pmsync-escalated-lead:due-{DUE}"]

    def test_a_pinned_legacy_order_keeps_tier_2_the_sponsors_after_an_insert(self) -> None:
        """Back at the sponsor tier, the sponsor told before the upgrade is not told again."""
        pinned = ladder(
            OWNER, LEAD, LATE_SPONSOR, legacy=["pmsync-overdue", "pmsync-escalated-sponsor"]
        )
        fake = written_today({"pmsync/escalated-sponsor"}, 1, 2)
        cycle(fake, pinned)
        cycle(fake, pinned, NOW + timedelta(days=5))
        assert posted(fake) == [f"pmsync:escalation:pmsync-escalated-lead:due-{DUE}"]
        assert "pmsync/escalated-sponsor" in fake.items["acme/api#1"].labels
