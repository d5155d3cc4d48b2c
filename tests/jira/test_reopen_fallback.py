"""A rejected closure Jira cannot reopen: labelled, commented, never escalated as open.

Many Jira workflows have no "Reopen" transition out of Done, and some accounts may not
transition at all. These tests run whole cycles through the real connector, ``Applier`` and
``run_cycle`` against such a site and check what the issue looks like afterwards.
"""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from connectors.jira.client import JiraConnector
from syncer.core.apply import Applier
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.errors import TransitionUnavailable
from syncer.core.exit_codes import ExitCode
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from tests.builders import example_policy
from tests.jira.conftest import Site

REJECTED = "pmsync/closure-rejected"
TIER_LABELS = {"pmsync/overdue", "pmsync/escalated-sponsor", "pmsync/escalated-executive"}
# A common simplified workflow: work can be finished, never reopened.
NO_REOPEN = [
    ("11", "Start Progress", ("To Do",), "In Progress"),
    ("31", "Done", ("To Do", "In Progress"), "Done"),
]


def _closed_overdue(site: Site) -> str:
    """A P1 closed two days ago without evidence, twenty days past its due date."""
    return site.add_action(
        "Add a retry budget",
        priority="High",
        status="Done",
        assignee="alice",
        duedate="2026-11-03",
        created="-40d",
        resolutiondate="-2d",
        fields={"Severity": "SEV-2", "Sponsor": "bob", "Executive sponsor": "erin"},
    )


def _cycle(site: Site, connector: JiraConnector, policy: Policy, name: str) -> CycleOutcome:
    ledger = MemoryLedger()
    applier = Applier(
        {connector.name: connector}, ledger, site.clock, cycle_id=name, policy_version="t"
    )
    return run_cycle(
        trackers=[connector],
        policy=policy,
        now=site.clock(),
        executor=applier,
        cycle_id=name,
        ledger=ledger,
    )


def _status(site: Site, key: str) -> str:
    return str(site.emulator.issue(key)["fields"]["status"]["name"])


class TestWorkflowWithoutReopen:
    def test_the_closure_is_labelled_and_commented_once_and_never_escalated(
        self, site: Site
    ) -> None:
        """Cloud and Data Center: one rejection comment, the violation label, still Done."""
        site.emulator.set_workflow(NO_REOPEN)
        key = _closed_overdue(site)
        policy = example_policy()
        with capture_logs() as logs:
            first = _cycle(site, site.connector(policy), policy, "c1")
        assert first.result.failed == []
        assert _status(site, key) == "Done"
        [comment] = site.emulator.comments(key)
        assert "closed without meeting the closure criteria" in str(comment["body"])
        labels = set(site.emulator.labels_of(key))
        assert REJECTED in labels
        assert not labels & TIER_LABELS
        [fallback] = first.result.fallbacks
        assert (fallback.key, fallback.wanted, fallback.available) == (key, "Reopen", ())
        warnings = [e for e in logs if e["event"].startswith("cannot reopen")]
        assert len(warnings) == 1
        assert warnings[0]["items"] == [key]
        assert first.exit_code(writing=True) is ExitCode.OK

        for name in ("c2", "c3"):
            site.clock.advance(hours=1)
            again = _cycle(site, site.connector(policy), policy, name)
            assert [(d.action.kind, d.outcome) for d in again.result.done] == [
                ("comment", "skipped"),
                ("reopen", "fallback"),
            ]
        assert len(site.emulator.comments(key)) == 1
        assert not set(site.emulator.labels_of(key)) & TIER_LABELS
        assert _status(site, key) == "Done"

    def test_the_transitions_the_site_offers_are_named(self, site: Site) -> None:
        """From In Progress only "Done" is offered: the warning and the error say so."""
        site.emulator.set_workflow(NO_REOPEN)
        key = site.add_action("Half done", status="In Progress")
        connector = site.connector()
        with pytest.raises(TransitionUnavailable) as caught:
            connector.reopen(ItemRef(tracker="jira", key=key))
        assert caught.value.available == ("Done",)
        assert "available: Done" in str(caught.value)

    def test_tier_labels_from_before_the_closure_are_removed(self, site: Site) -> None:
        """Left closed, the item carries what label mode gives: no escalation labels."""
        site.emulator.set_workflow(NO_REOPEN)
        key = _closed_overdue(site)
        site.emulator.get_issue(key).labels.append("pmsync/escalated-sponsor")
        policy = example_policy()
        _cycle(site, site.connector(policy), policy, "c1")
        assert set(site.emulator.labels_of(key)) == {"postmortem-action", REJECTED}


class TestNoTransitionPermission:
    def test_an_account_that_may_not_transition_falls_back_to_the_label(self, site: Site) -> None:
        """Without Transition Issues Jira lists no transition: the same fallback."""
        site.emulator.revoke_permission("TRANSITION_ISSUES")
        key = _closed_overdue(site)
        policy = example_policy()
        outcome = _cycle(site, site.connector(policy), policy, "c1")
        assert outcome.result.failed == []
        assert len(outcome.result.fallbacks) == 1
        assert _status(site, key) == "Done"
        assert REJECTED in site.emulator.labels_of(key)
        assert len(site.emulator.comments(key)) == 1

    def test_a_refused_transition_post_is_typed_by_its_status(self, site: Site) -> None:
        """Jira answers 400 to a transition the account may not run (its OpenAPI says so)."""
        key = _closed_overdue(site)
        connector = site.connector()
        connector.http.client()
        offered = connector.http.request("GET", f"issue/{key}/transitions")
        assert [t["name"] for t in offered["transitions"]] == ["Reopen"]
        site.emulator.revoke_permission("TRANSITION_ISSUES")
        original = connector.http.request

        def listed_anyway(method: str, path: str, **kwargs: object) -> object:
            if method == "GET" and path.endswith("/transitions"):
                return offered  # the list read before the permission was taken away
            return original(method, path, **kwargs)  # type: ignore[arg-type]

        connector.http.request = listed_anyway  # type: ignore[method-assign]
        with pytest.raises(TransitionUnavailable) as caught:
            connector.reopen(ItemRef(tracker="jira", key=key))
        assert caught.value.status == 400
        assert "You do not have permission to transition this issue." in str(caught.value)
