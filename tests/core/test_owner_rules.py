"""Owner rules on people who are only named, or whose accounts are inactive."""

from __future__ import annotations

from datetime import date

from syncer.core.evaluate import Assessment, Status, evaluate
from syncer.core.model import ActionItem, Person, Priority
from syncer.core.policy import Policy
from tests.builders import NOW, example_policy, item, merged_pr

POLICY = example_policy()
DEPARTED = Person(handle="dana", active=False)
NAMED = Person(handle="dana", assigned=False)


def assess(one: ActionItem, policy: Policy = POLICY) -> Assessment:
    return evaluate([one], policy, NOW)[0]


def owned_by(*people: Person, **changes: object) -> ActionItem:
    return item(**changes).model_copy(update={"owners": people})  # type: ignore[arg-type]


def rules(a: Assessment) -> list[str]:
    return [f.rule for f in a.findings]


def strict() -> Policy:
    closure = POLICY.closure.model_copy(update={"count_unassigned_owners": False})
    return POLICY.model_copy(update={"closure": closure})


class TestNamedButNotAssigned:
    def test_a_named_owner_counts_by_default_and_is_noted(self) -> None:
        """Default: the Owner section's person is the owner; owner.unassigned says so."""
        a = assess(owned_by(NAMED, priority=Priority.P0))
        assert rules(a) == ["owner.unassigned"]
        assert a.findings[0].message == "named as owner but not assigned: dana"
        assert a.desired_labels == frozenset()
        assert a.comments == ()

    def test_the_note_escalates_nothing_on_an_overdue_item(self) -> None:
        """Overdue: the usual escalation to the named owner, nothing more for the note."""
        a = assess(owned_by(NAMED, due=date(2026, 11, 20)))
        assert "owner.unassigned" in rules(a)
        assert "pmsync/needs-owner" not in a.desired_labels
        [comment] = a.comments
        assert comment.rule == "escalation"
        assert [p.handle for p in comment.message_for(a).mentions] == ["dana"]

    def test_with_the_setting_off_a_named_owner_is_no_owner(self) -> None:
        """count_unassigned_owners: false: only assignees count, and the reason says why."""
        a = assess(owned_by(NAMED, priority=Priority.P0), strict())
        assert rules(a) == ["owner.missing"]
        assert a.findings[0].message == (
            "exactly one accountable owner (it has none: named as owner but not assigned: dana)"
        )
        assert "pmsync/needs-owner" in a.desired_labels

    def test_a_closure_with_only_a_named_owner_is_accepted_by_default(self) -> None:
        """The named owner counts for the closure as well."""
        a = assess(owned_by(NAMED, closed_days_ago=2, evidence=(merged_pr(),)))
        assert a.status is Status.CLOSED_ACCEPTED


class TestInactiveOwner:
    def test_an_inactive_owner_is_no_accountable_owner(self) -> None:
        """owner.inactive: the needs-owner label, and the sponsor is asked."""
        a = assess(owned_by(DEPARTED, priority=Priority.P0))
        assert rules(a) == ["owner.inactive"]
        assert a.findings[0].message == (
            "exactly one accountable owner (the owner's account is inactive: dana)"
        )
        assert "pmsync/needs-owner" in a.desired_labels
        [comment] = a.comments
        assert comment.rule == "owner.inactive"
        mentioned = [p.handle for p in comment.message_for(a).mentions]
        assert "sam" in mentioned
        assert "dana" not in mentioned

    def test_the_departed_owner_is_not_mentioned_by_the_escalation(self) -> None:
        """The overdue comment goes to the other people of the tier, or the fallback."""
        a = assess(owned_by(DEPARTED, due=date(2026, 11, 1)))  # 22 days overdue
        [escalation] = [c for c in a.comments if c.rule == "escalation"]
        mentioned = [p.handle for p in escalation.message_for(a).mentions]
        # The P1 sponsor tier mentions owner and sponsor: the owner role names nobody active,
        # so its fallback stands in for it.
        assert mentioned == ["acme/sre-leads", "sam"]

    def test_the_departed_owner_is_not_the_reminders_target(self) -> None:
        """The reminder (mention: [owner]) falls back instead of pinging a departed person."""
        a = assess(owned_by(DEPARTED, due=date(2026, 11, 25)))
        [reminder] = [c for c in a.comments if c.rule == "reminder"]
        mentioned = [p.handle for p in reminder.message_for(a).mentions]
        assert mentioned == ["acme/sre-leads"]
        assert reminder.values_for(a)["owner"] == ""

    def test_a_closure_owned_by_an_inactive_account_is_rejected_with_that_reason(self) -> None:
        """The rejection comment says the owner's account is inactive and pings the sponsor."""
        a = assess(owned_by(DEPARTED, closed_days_ago=2, evidence=(merged_pr(),)))
        assert a.reopen
        [rejected] = [f for f in a.findings if f.rule == "closure.rejected"]
        assert "the owner's account is inactive: dana" in rejected.message
        [comment] = [c for c in a.comments if c.rule == "closure"]
        assert "the owner's account is inactive" in comment.values_for(a)["reason"]
        mentioned = [p.handle for p in comment.message_for(a).mentions]
        assert "sam" in mentioned
        assert "dana" not in mentioned

    def test_several_inactive_owners_are_named_together(self) -> None:
        """Plural, with every login."""
        frank = Person(handle="frank", active=False)
        a = assess(owned_by(DEPARTED, frank, priority=Priority.P2))
        assert a.findings[0].message == (
            "an accountable owner (the owners' accounts are inactive: dana, frank)"
        )

    def test_an_active_co_owner_keeps_the_item_owned(self) -> None:
        """Exactly one accountable owner remains: no owner problem."""
        a = assess(owned_by(DEPARTED, Person(handle="alice")))
        assert a.findings == ()

    def test_an_owner_whose_account_is_not_known_counts(self) -> None:
        """active None (not looked up, or the look-up failed) is never 'inactive'."""
        a = assess(owned_by(Person(handle="dana", active=None)))
        assert a.findings == ()
