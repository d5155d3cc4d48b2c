"""People by name: Jira display names on items, in the plan, and looked up once when missing."""

from __future__ import annotations

from syncer.core.evaluate import evaluate
from syncer.core.plan import plan
from syncer.core.plan_view import describe, unnamed_mentions
from syncer.service.wiring import lookup_names
from tests.builders import example_policy
from tests.jira.conftest import ALICE_ID, BOB_ID, Site
from tests.jira.test_escalation_upgrade import (
    LEAD_ID,
    OWNER,
    SPONSOR,
    action,
    fallback,
    policy_with,
)

USER_PATH = "/rest/api/2/user"


def _user_lookups(site: Site) -> int:
    return sum(n for (m, path, _), n in site.requests().items() if m == "GET" and path == USER_PATH)


class TestDisplayNames:
    def test_the_plan_shows_who_is_mentioned_by_name(self, site: Site) -> None:
        """Cloud and Data Center: the comment mentions Alice Adams, not her account id."""
        site.add_action(
            "Late",
            priority="High",
            assignee="alice",
            duedate="2026-11-10",
            fields={"Severity": "SEV-2"},
        )
        policy = example_policy()
        items = site.connector(policy).fetch(full=True).items
        assert items[0].owners[0].display_name == "Alice Adams"
        the_plan = plan(evaluate(items, policy, site.clock()), policy.managed_labels)
        comments = [describe(a)[1] for a in the_plan.actions if a.kind == "comment"]
        assert comments
        assert comments[0].startswith("@Alice Adams ")
        assert ALICE_ID not in comments[0]

    def test_a_fallback_account_in_the_plan_reads_as_its_name(self, site: Site) -> None:
        """No item names the tracker's fallback (an account id on Cloud): the entry points look
        it up once, as for the review, and the plan shows "Sam Lead", not the id."""
        action(site, [], fields={"Sponsor": None})
        policy = policy_with(site, OWNER, SPONSOR)
        connector = site.connector(policy, fallback_mention=[fallback(site)])
        items = connector.fetch(full=True).items
        the_plan = plan(evaluate(items, policy, site.clock()), policy.managed_labels)
        wanted = unnamed_mentions(the_plan)
        assert wanted == {"jira": {fallback(site)}}
        site.reset()
        names = lookup_names([connector], wanted)
        assert _user_lookups(site) == 1
        comments = [a for a in the_plan.actions if a.kind == "comment"]
        shown = [describe(a, names)[1] for a in comments]
        assert shown[-1].startswith("@Alice Adams @Sam Lead ")
        assert all(LEAD_ID not in text and "sre-lead" not in text for text in shown)
        # without the look-up the id (Cloud) or user name (Data Center) is all there is
        assert fallback(site) in describe(comments[-1])[1]

    def test_a_missing_name_is_looked_up_once_and_remembered(self, site: Site) -> None:
        """One GET /user per handle; asking again in the same day costs nothing."""
        connector = site.connector()
        handle = site.handle(BOB_ID, "bob")
        site.reset()
        assert connector.display_names([handle, handle]) == {handle: "Bob Brown"}
        assert connector.display_names([handle]) == {handle: "Bob Brown"}
        assert _user_lookups(site) == 1
        site.clock.advance(days=1)
        connector.display_names([handle])
        assert _user_lookups(site) == 2

    def test_someone_jira_does_not_know_stays_unnamed_and_is_not_asked_again(
        self, site: Site
    ) -> None:
        connector = site.connector()
        site.reset()
        assert connector.display_names(["sre-lead"]) == {}
        assert connector.display_names(["sre-lead"]) == {}
        assert _user_lookups(site) == 1

    def test_the_entry_points_lookup_goes_to_the_tracker_that_knows_the_handle(
        self, site: Site
    ) -> None:
        connector = site.connector()
        handle = site.handle(ALICE_ID, "alice")
        found = lookup_names([connector], {"jira": {handle}, "github": {"carol"}})
        assert found == {("jira", handle): "Alice Adams"}
