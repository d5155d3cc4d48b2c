"""The Jira emulator's JQL subset: what it accepts, how it matches, and what it rejects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from connectors.emulators.jira import JiraEmulator
from connectors.emulators.jira_jql import Evaluator, JqlError, parse, run
from tests.emulators.jira_support import ALICE, BOB, FakeClock

NOW = datetime(2026, 11, 20, 10, 5, 30, tzinfo=UTC)


@pytest.fixture
def site() -> JiraEmulator:
    """REL-1..REL-6 and OPS-1 with a spread of statuses, priorities, labels and owners."""
    emu = JiraEmulator(clock=FakeClock(NOW))
    emu.add_project("REL", "Reliability")
    emu.add_project("OPS", "Operations")
    emu.add_user(account_id=ALICE, name="alice")
    emu.add_user(account_id=BOB, name="bob")
    specs = [
        ("REL", "To Do", "Highest", ["postmortem-action"], None, "2026-11-20T10:05:10"),
        (
            "REL",
            "In Progress",
            "High",
            ["postmortem-action", "blocked-external"],
            ALICE,
            "2026-11-20T10:04:59",
        ),
        ("REL", "Done", "Medium", ["postmortem-action"], BOB, "2026-11-19T08:00:00"),
        ("REL", "Done", "Low", [], ALICE, "2026-11-01T00:00:00"),
        ("REL", "To Do", "Lowest", ["Postmortem-Action"], None, "2026-10-01T00:00:00"),
        ("REL", "To Do", "High", ["other"], BOB, "2026-11-20T10:00:00"),
        ("OPS", "To Do", "Highest", ["postmortem-action"], None, "2026-11-20T09:00:00"),
    ]
    for n, (project, status, priority, labels, who, updated) in enumerate(specs):
        emu.add_issue(
            project,
            summary=f"item {n}",
            status=status,
            priority=priority,
            labels=labels,
            assignee=who,
            resolution="Won't Do" if n == 3 else None,
            created=datetime(2026, 9, 1, tzinfo=UTC),
            updated=updated + "+00:00",
            duedate=date(2026, 11, 10 + n),
        )
    return emu


def keys(site: JiraEmulator, jql: str, mode: str = "cloud") -> list[str]:
    me = ALICE if mode == "cloud" else "alice"
    projects = {p.key for p in site.projects.values()} | {p.id for p in site.projects.values()}
    evaluator = Evaluator(mode, NOW, me, projects)  # type: ignore[arg-type]
    return [i.key for i in run(parse(jql), list(site.issues.values()), evaluator)]


class TestMatching:
    """Clauses select the issues Jira would select."""

    def test_scope_query_with_project_and_label(self, site: JiraEmulator) -> None:
        """Labels match case-insensitively; default order is key descending."""
        assert keys(site, "project = REL AND labels = postmortem-action") == [
            "REL-5",
            "REL-3",
            "REL-2",
            "REL-1",
        ]

    def test_in_not_in_and_parentheses(self, site: JiraEmulator) -> None:
        """IN, NOT IN, OR and grouping combine as in JQL."""
        jql = 'project in (REL, OPS) AND (priority = Highest OR status = "In Progress")'
        assert keys(site, jql) == ["REL-2", "REL-1", "OPS-1"]
        assert keys(site, "project = REL AND status not in (Done, 'To Do')") == ["REL-2"]

    def test_status_category_and_resolution(self, site: JiraEmulator) -> None:
        """statusCategory groups statuses; resolution = Unresolved and EMPTY mean open."""
        assert keys(site, "project = REL AND statusCategory = Done") == ["REL-4", "REL-3"]
        assert keys(site, "project = REL AND statusCategory != Done") == [
            "REL-6",
            "REL-5",
            "REL-2",
            "REL-1",
        ]
        assert keys(site, "project = REL AND resolution = Unresolved") == keys(
            site, "project = REL AND resolution is EMPTY"
        )
        assert keys(site, 'project = REL AND resolution = "Won\'t Do"') == ["REL-4"]

    def test_assignee_empty_and_current_user(self, site: JiraEmulator) -> None:
        """assignee is EMPTY, = accountId, = currentUser(); != never matches empty fields."""
        assert keys(site, "project = REL AND assignee is EMPTY") == ["REL-5", "REL-1"]
        assert keys(site, f"project = REL AND assignee = {ALICE}") == ["REL-4", "REL-2"]
        assert keys(site, "project = REL AND assignee = currentUser()") == ["REL-4", "REL-2"]
        assert keys(site, f"project = REL AND assignee != {ALICE}") == ["REL-6", "REL-3"]

    def test_assignee_by_name_on_data_center(self, site: JiraEmulator) -> None:
        """Data Center names users by user name."""
        assert keys(site, "project = REL AND assignee = bob", mode="datacenter") == [
            "REL-6",
            "REL-3",
        ]

    def test_not_negates_a_group(self, site: JiraEmulator) -> None:
        """NOT (a OR b) keeps the rest."""
        assert keys(site, "project = REL AND NOT (labels = other OR labels is EMPTY)") == [
            "REL-5",
            "REL-3",
            "REL-2",
            "REL-1",
        ]


class TestDates:
    """updated/created/due comparisons at minute resolution."""

    def test_updated_since_a_minute_includes_the_whole_minute(self, site: JiraEmulator) -> None:
        """10:05:10 matches >= 10:05 and = 10:05, not > 10:05; 10:04:59 matches < 10:05."""
        assert keys(site, 'project = REL AND updated >= "2026-11-20 10:05"') == ["REL-1"]
        assert keys(site, 'project = REL AND updated > "2026-11-20 10:05"') == []
        assert keys(site, 'project = REL AND updated = "2026/11/20 10:05"') == ["REL-1"]
        assert "REL-2" in keys(site, 'project = REL AND updated < "2026-11-20 10:05"')

    def test_relative_periods_count_from_now(self, site: JiraEmulator) -> None:
        """-1m from 10:05:30 is 10:04, so 10:04:59 and 10:05:10 match."""
        assert keys(site, "project = REL AND updated >= -1m") == ["REL-2", "REL-1"]
        assert keys(site, 'project = REL AND updated >= "-1d"') == ["REL-6", "REL-2", "REL-1"]
        assert len(keys(site, "project = REL AND created <= -2w")) == 6

    def test_due_date_comparisons(self, site: JiraEmulator) -> None:
        """due < a date compares calendar days."""
        assert keys(site, 'project = REL AND due < "2026-11-12"') == ["REL-2", "REL-1"]

    def test_bad_date_is_rejected(self, site: JiraEmulator) -> None:
        """A value that is neither a date nor a period is a 400."""
        with pytest.raises(JqlError, match="invalid"):
            keys(site, 'project = REL AND updated >= "yesterday"')


class TestOrdering:
    """ORDER BY with several keys."""

    def test_order_by_priority_desc_then_key(self, site: JiraEmulator) -> None:
        """Priority DESC puts Highest first."""
        found = keys(site, "project = REL ORDER BY priority DESC, key ASC")
        assert found == ["REL-1", "REL-2", "REL-6", "REL-3", "REL-4", "REL-5"]

    def test_order_by_updated_asc(self, site: JiraEmulator) -> None:
        """Oldest update first."""
        assert keys(site, "project = REL ORDER BY updated ASC")[:2] == ["REL-5", "REL-4"]


class TestRejections:
    """Everything outside the subset is a 400 with Jira's message, never a silent mismatch."""

    @pytest.mark.parametrize(
        ("jql", "message"),
        [
            ('project = REL AND summary ~ "db"', "Error in the JQL Query"),
            ("project = REL AND sprint in openSprints()", "Error in the JQL Query"),
            ("project = REL AND cf[10050] is EMPTY", "Error in the JQL Query"),
            ("project = REL AND", "Error in the JQL Query: Expecting a field name but got 'EOF'"),
            ("project = REL labels = x", "Expecting either 'OR' or 'AND'"),
            ("project REL", "Expecting operator"),
            ("project = REL AND labels is x", "only supports the EMPTY"),
            ("project = REL AND (labels = x", "Expecting ')'"),
            ("project = REL ORDER BY rank", "Not able to sort"),
            ("project = REL AND priority > High", "Error in the JQL Query"),
            ("project = REL AND labels = a%b", "reserved JQL character"),
            ("bogus = 1", "Field 'bogus' does not exist"),
            ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
            ("project = REL AND status = Closed", "does not exist for the field 'status'"),
            ("project = REL AND assignee = now()", "Unable to find JQL function 'now()'"),
        ],
    )
    def test_unsupported_or_invalid_query_is_rejected(
        self, site: JiraEmulator, jql: str, message: str
    ) -> None:
        """The error text names the problem as Jira does."""
        with pytest.raises(JqlError) as caught:
            keys(site, jql)
        assert message in str(caught.value)

    def test_keywords_are_case_insensitive_and_strings_unescape(self) -> None:
        """and/OR/order by in any case; escaped quotes inside strings."""
        query = parse('project = REL and labels = "a\\"b" order by updated desc')
        assert query.order == (("updated", True),)
        assert query.where is not None


class TestIdentifiers:
    """Values may name things by id as well as by name, as in Jira."""

    def test_ids_and_keys_work_for_status_priority_category_and_project(
        self, site: JiraEmulator
    ) -> None:
        """priority = 1 is Highest, statusCategory = indeterminate is In Progress."""
        assert keys(site, "project = REL AND priority = 1") == keys(
            site, "project = REL AND priority = Highest"
        )
        assert keys(site, "project = REL AND statusCategory = indeterminate") == ["REL-2"]
        assert keys(site, "project = REL AND statusCategory = 4") == ["REL-2"]
        assert keys(site, "project = REL AND status = 10001") == ["REL-4", "REL-3"]
        assert keys(site, "project = 10000 AND resolution = 10001") == ["REL-4"]
