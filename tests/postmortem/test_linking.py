"""Linking items to their postmortem: the plan is a diff against the children the tracker
shows, and the applier refuses a tracker that cannot have parents."""

from __future__ import annotations

import pytest

from syncer.core.actions import ItemChange, LinkChild, Plan
from syncer.core.apply import Applier, ledger_entry
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ItemRef
from syncer.postmortem.linking import LinkRequestError, link_items, plan_links
from tests.builders import NOW, example_policy
from tests.fakes import FakeTracker

PM = ItemRef(tracker="github", key="acme/api#1")


def ref(number: int, tracker: str = "github") -> ItemRef:
    return ItemRef(tracker=tracker, key=f"acme/api#{number}")


class TestPlanLinks:
    def test_only_children_not_yet_linked_are_planned_in_the_order_given(self) -> None:
        """#3 is linked already; #2 repeated is planned once; each link is its own change."""
        plan = plan_links(PM, [ref(4), ref(3), ref(2), ref(2)], linked=[ref(3)], budget=10)
        assert plan.budget == 10
        assert [c.actions for c in plan.changes] == [
            (LinkChild(parent=PM, child=ref(4)),),
            (LinkChild(parent=PM, child=ref(2)),),
        ]

    def test_a_rerun_after_every_link_plans_nothing(self) -> None:
        """Keys compare case-insensitively, as GitHub and Jira read them."""
        linked = [ItemRef(tracker="github", key="ACME/api#2")]
        assert plan_links(PM, [ref(2)], linked=linked, budget=None).is_empty()

    @pytest.mark.parametrize(
        "child", [ref(1), ref(2, tracker="jira")], ids=["the postmortem", "another tracker"]
    )
    def test_a_child_that_cannot_be_linked_is_refused_before_any_plan(self, child: ItemRef) -> None:
        """The postmortem itself, or an item of another tracker, is bad input."""
        with pytest.raises(LinkRequestError):
            plan_links(PM, [ref(3), child], linked=[], budget=None)


class TestApplierAndLedger:
    def test_a_tracker_without_parents_fails_the_link_and_link_items_refuses_it(self) -> None:
        """The in-memory tracker has no ``children``: the applier records a permanent failure."""
        tracker = FakeTracker("github", lambda: NOW)
        applier = Applier(
            {"github": tracker}, MemoryLedger(), lambda: NOW, cycle_id="c", policy_version="v"
        )
        change = ItemChange(key="acme/api#2", actions=(LinkChild(parent=PM, child=ref(2)),))
        result = applier.execute(Plan(changes=(change,)))
        assert [(f.transient, "cannot link" in f.error) for f in result.failed] == [(False, True)]
        with pytest.raises(LinkRequestError):
            link_items(tracker, PM, [ref(2)], example_policy(), dry_run=True, clock=lambda: NOW)

    def test_the_ledger_names_the_child_and_its_parent(self) -> None:
        """One line per link, keyed by the child."""
        entry = ledger_entry(LinkChild(parent=PM, child=ref(2)), "done", "", NOW, "c", "v")
        assert (entry.tracker, entry.item_key, entry.kind, entry.inputs, entry.rule) == (
            "github",
            "acme/api#2",
            "link_child",
            {"parent": "acme/api#1"},
            "postmortem link",
        )
