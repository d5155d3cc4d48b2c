"""Action items are linked from their postmortem through the one applier, on the emulator
(Cloud and Data Center) over HTTP with the real ``jira`` client's session: one read and one
write per child, none when the link is there, none twice after a lost answer."""

from __future__ import annotations

from connectors.emulators.jira import JiraFaults
from connectors.jira.client import JiraConnector
from syncer.core.actions import ItemChange, LinkChild, Plan
from syncer.core.apply import ApplyResult, choose_executor
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ItemRef

from .conftest import Site

LINK = "/issueLink"  # as JiraFaults.only names a route
COUNTED_LINK = "/rest/api/2/issueLink"  # as the emulator's counters do
ISSUE = "/rest/api/2/issue/{issueIdOrKey}"


def ref(key: str) -> ItemRef:
    return ItemRef(tracker="jira", key=key)


def seed(site: Site) -> tuple[str, list[str]]:
    """A postmortem issue and three action items; their keys."""
    pm = site.emulator.add_issue("REL", "Postmortem: INC-7", labels=["postmortem"])
    items = [site.add_action(title) for title in ("Add a breaker", "Alert on lag", "Runbook")]
    return pm, items


def run(
    connector: JiraConnector,
    site: Site,
    parent: str,
    children: list[str],
    *,
    dry_run: bool = False,
    budget: int | None = None,
) -> ApplyResult:
    executor, _ = choose_executor(
        dry_run=dry_run,
        shadow=False,
        trackers={connector.name: connector},
        ledger=MemoryLedger(),
        clock=site.clock,
        cycle_id="test",
        policy_version="test",
    )
    changes = tuple(
        ItemChange(key=c, actions=(LinkChild(parent=ref(parent), child=ref(c)),)) for c in children
    )
    return executor.execute(Plan(changes=changes, budget=budget))


def by_route(site: Site) -> dict[tuple[str, str], int]:
    counted: dict[tuple[str, str], int] = {}
    for (method, template, _), n in site.requests().items():
        counted[(method, template)] = counted.get((method, template), 0) + n
    return counted


class TestLinkChild:
    def test_each_child_costs_one_read_and_one_write_and_links_from_the_postmortem(
        self, site: Site
    ) -> None:
        """The postmortem is the outward (from) issue of a Relates link to each item."""
        pm, items = seed(site)
        connector = site.connector()
        connector.http.client()
        site.reset()
        result = run(connector, site, pm, items[:2])
        assert [d.outcome for d in result.done] == ["done", "done"]
        assert result.spent == 2
        assert site.emulator.links_of(pm) == [
            ("Relates", items[0], pm),
            ("Relates", items[1], pm),
        ]
        assert by_route(site) == {("GET", ISSUE): 2, ("POST", COUNTED_LINK): 2}
        assert connector.children(ref(pm)) == (ref(items[0]), ref(items[1]))

    def test_an_existing_link_is_skipped_without_a_write(self, site: Site) -> None:
        """A link someone made already (here, in the other direction of a symmetric type)
        counts: one GET, no POST."""
        pm, items = seed(site)
        site.emulator.link_issues("Relates", inward=pm, outward=items[0])
        connector = site.connector()
        connector.http.client()
        site.reset()
        result = run(connector, site, pm, items[:1])
        assert [d.outcome for d in result.done] == ["skipped"]
        assert by_route(site) == {("GET", ISSUE): 1}

    def test_a_lost_answer_then_a_rerun_sends_no_second_link(self, site: Site) -> None:
        """The link is stored but the answer never comes; the rerun reads it and stops."""
        pm, items = seed(site)
        site.emulator.faults = JiraFaults(
            drop_after_commit_rate=1.0, only=frozenset({("POST", LINK)})
        )
        lost = run(site.connector(), site, pm, items[:1])
        site.emulator.faults = JiraFaults()
        connector = site.connector()
        connector.http.client()
        site.reset()
        rerun = run(connector, site, pm, items[:1])
        assert [f.transient for f in lost.failed] == [True]
        assert [d.outcome for d in rerun.done] == ["skipped"]
        assert site.emulator.links_of(items[0]) == [("Relates", items[0], pm)]
        assert ("POST", COUNTED_LINK) not in by_route(site)

    def test_a_configured_link_type_is_used_and_a_missing_one_fails_permanently(
        self, site: Site
    ) -> None:
        """``postmortem_link_type`` names the type; one the site lacks is Jira's 404."""
        pm, items = seed(site)
        site.emulator.add_link_type("Parent/Child", "is child of", "is parent of")
        linked = run(site.connector(postmortem_link_type="Parent/Child"), site, pm, items[:1])
        missing = run(site.connector(postmortem_link_type="Causes"), site, pm, items[1:2])
        assert [d.outcome for d in linked.done] == ["done"]
        assert site.emulator.links_of(items[0]) == [("Parent/Child", items[0], pm)]
        assert [f.transient for f in missing.failed] == [False]
        assert site.emulator.links_of(items[1]) == []

    def test_an_asymmetric_type_counts_only_links_from_the_postmortem(self, site: Site) -> None:
        """For Blocks-like types direction matters: an item linking *to* the postmortem is
        not its child, so the child link is still made."""
        pm, items = seed(site)
        site.emulator.add_link_type("Parent/Child", "is child of", "is parent of")
        site.emulator.link_issues("Parent/Child", inward=pm, outward=items[0])
        connector = site.connector(postmortem_link_type="Parent/Child")
        assert connector.children(ref(pm)) == ()
        result = run(connector, site, pm, items[:1])
        assert [d.outcome for d in result.done] == ["done"]
        assert connector.children(ref(pm)) == (ref(items[0]),)

    def test_dry_run_sends_nothing_and_the_budget_defers_the_rest(self, site: Site) -> None:
        """A link costs one write request (``connectors.jira.costs``)."""
        pm, items = seed(site)
        connector = site.connector()
        assert connector.write_cost(LinkChild(parent=ref(pm), child=ref(items[0]))) == 1
        site.reset()
        planned = run(connector, site, pm, items, dry_run=True)
        assert [d.outcome for d in planned.done] == ["planned"] * 3
        assert site.requests() == {}
        cut = run(connector, site, pm, items, budget=2)
        assert [d.key for d in cut.backlog] == [items[2]]
        assert len(site.emulator.links_of(pm)) == 2

    def test_without_the_link_permission_the_write_is_a_permanent_error(self, site: Site) -> None:
        """Jira answers 404 without *Link issues*; the applier records a failure."""
        pm, items = seed(site)
        site.emulator.permissions.discard("LINK_ISSUES")
        result = run(site.connector(), site, pm, items[:1])
        assert [f.transient for f in result.failed] == [False]
        assert "permission to link issues" in result.failed[0].error
