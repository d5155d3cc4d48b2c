"""The Jira connector through the real jira library against the emulator, Cloud and DC."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from pydantic import SecretStr

from connectors.emulators.jira import JiraFaults
from connectors.jira.client import JiraConnector
from connectors.jira.permissions import check_jira
from syncer.core.actions import AddLabels, ItemChange, Plan, PostComment
from syncer.core.apply import Applier, ApplyResult
from syncer.core.cycle import run_cycle
from syncer.core.errors import PermanentError, RateLimited, TransientError
from syncer.core.ledger import MemoryLedger
from syncer.core.messages import Markup, Mention, Message, Text
from syncer.core.model import ActionItem, EvidenceKind, ItemRef, Person, Priority, Severity, State
from tests.builders import example_policy
from tests.jira.conftest import ALICE_ID, BOB_ID, EMAIL, ERIN_ID, TOKEN, Site, record_urls

OVERDUE = "pmsync/overdue"


def _items(connector: JiraConnector, *, full: bool = False) -> dict[str, ActionItem]:
    return {i.ref.key: i for i in connector.fetch(full=full).items}


def _message(key: str, owner: Person, tier: int = 1) -> Message:
    return Message(
        marker=f"pmsync:tier:{tier}:{key}",
        parts=(
            Mention(person=owner),
            Markup(text=" this item is overdue: "),
            Text(text="[~x] {code}"),
        ),
    )


def _escalation(connector: JiraConnector, key: str, owner: Person) -> ItemChange:
    ref = ItemRef(tracker=connector.name, key=key)
    return ItemChange(
        key=str(ref),
        actions=(
            PostComment(ref=ref, message=_message(key, owner)),
            AddLabels(ref=ref, labels=(OVERDUE,)),
        ),
    )


def _apply(site: Site, connector: JiraConnector, changes: list[ItemChange]) -> ApplyResult:
    applier = Applier(
        {connector.name: connector},
        MemoryLedger(),
        site.clock,
        cycle_id=f"c-{site.clock().isoformat()}",
        policy_version="test",
    )
    return applier.execute(Plan(changes=tuple(changes)))


def _searches(site: Site) -> int:
    return sum(n for (m, path, _), n in site.requests().items() if "/search" in path)


class TestMapping:
    def test_custom_fields_people_and_status_map_to_the_model(self, site: Site) -> None:
        """Owner, sponsors, evidence, severity, incident, waiver and priority from Jira fields."""
        key = site.add_action(
            "Add a circuit breaker to checkout",
            priority="Highest",
            assignee="alice",
            duedate="2026-11-20",
            fields={
                "Evidence": "https://github.com/acme/api/pull/42",
                "Severity": "SEV-1",
                "Sponsor": "bob",
                "Executive sponsor": "erin",
                "Postmortem": "INC-2026-117",
                "Waiver": "until 2026-12-31 approved by cto: vendor fix in January",
            },
        )
        item = _items(site.connector())[key]
        assert [o.handle for o in item.owners] == [site.handle(ALICE_ID, "alice")]
        assert item.owners[0].display_name == "Alice Adams"
        assert item.sponsor is not None
        assert item.sponsor.handle == site.handle(BOB_ID, "bob")
        assert item.executive_sponsor is not None
        assert item.executive_sponsor.handle == site.handle(ERIN_ID, "erin")
        assert [(e.kind, e.url) for e in item.evidence] == [
            (EvidenceKind.PULL_REQUEST, "https://github.com/acme/api/pull/42")
        ]
        assert item.severity is Severity.SEV1
        assert item.priority is Priority.P0
        assert item.due == date(2026, 11, 20)
        assert item.incident == "INC-2026-117"
        assert item.waiver is not None
        assert item.waiver.approver == "cto"
        assert item.url == f"{site.emulator.base_url}/browse/{key}"
        assert item.data_problems == ()

    def test_a_done_issue_is_closed_with_its_resolution_kept(self, site: Site) -> None:
        """Status category done -> closed; Won't Do -> wont_do."""
        key = site.add_action("Retire the old queue", status="Done", resolution="Won't Do")
        item = _items(site.connector())[key]
        assert item.state is State.CLOSED
        assert item.resolution is not None
        assert item.resolution.value == "wont_do"
        assert item.closed_at is not None

    def test_severity_falls_back_to_labels(self, site: Site) -> None:
        """No Severity value: the sev-2 label; the labels are read as they are."""
        key = site.add_action("Alert on lag", labels=["sev-2", OVERDUE])
        item = _items(site.connector())[key]
        assert item.severity is Severity.SEV2
        assert OVERDUE in item.labels

    def test_the_search_asks_only_for_the_mapped_fields(self, site: Site) -> None:
        """No *all: the base fields plus the mapped custom field ids."""
        site.add_action("One")
        connector = site.connector()
        seen = record_urls(connector)
        connector.fetch(full=True)
        searches = [url for method, url in seen() if "/search" in url]
        assert len(searches) == 1
        assert "%2Aall" not in searches[0]
        assert "*all" not in searches[0]
        assert "customfield_" in searches[0]
        assert "summary" in searches[0]


class TestSearch:
    def test_cloud_uses_search_jql_and_data_center_the_legacy_search(self, site: Site) -> None:
        """Each deployment's own search endpoint, through the library."""
        site.add_action("One")
        site.connector().fetch(full=True)
        paths = {path for (_, path, _) in site.requests()}
        if site.cloud:
            assert "/rest/api/2/search/jql" in paths
            assert "/rest/api/2/search" not in paths
        else:
            assert "/rest/api/2/search" in paths
            assert "/rest/api/2/search/jql" not in paths

    def test_a_cold_sync_costs_server_info_field_list_and_one_search_per_hundred(
        self, site: Site
    ) -> None:
        """250 items: 1 serverInfo + 1 field + 3 search pages, nothing else."""
        for n in range(250):
            site.add_action(f"Action {n}")
        site.reset()
        items = _items(site.connector())
        assert len(items) == 250
        total = sum(site.requests().values())
        assert total == math.ceil(250 / 100) + 2
        assert _searches(site) == 3

    def test_the_connector_counts_every_request_the_site_answered(self, site: Site) -> None:
        """Its own counts by (verb, status), serverInfo and the write included, feed metrics."""
        key = site.add_action("Overdue")
        site.reset()
        connector = site.connector()
        connector.fetch(full=True)
        _apply(site, connector, [_escalation(connector, key, Person(handle="alice"))])
        answered: Counter[tuple[str, int]] = Counter()
        for (method, _, status), n in site.requests().items():
            answered[(method, status)] += n
        assert connector.requests == answered
        assert connector.rate_limit_remaining is None

    def test_an_idle_incremental_cycle_is_one_search_request(self, site: Site) -> None:
        """After the first full fetch nothing changed: one search, same items."""
        for n in range(5):
            site.add_action(f"Action {n}", updated="-3d")
        connector = site.connector()
        first = _items(connector)
        site.clock.advance(minutes=10)
        site.reset()
        second = _items(connector)
        assert sum(site.requests().values()) == 1
        assert _searches(site) == 1
        assert second == first

    def test_incremental_cycles_ask_from_the_cursor_minus_the_overlap(self, site: Site) -> None:
        """The JQL carries updated >= cursor - overlap in minutes, UTC."""
        site.add_action("Old", updated="-3d")
        connector = site.connector()
        connector.fetch(full=False)
        cursor = site.cursors.get_cursor(connector.cursor_source)
        assert cursor is not None
        assert cursor.since == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
        assert connector.incremental_jql(cursor.since) == (
            '(project = REL AND labels = postmortem-action) AND updated >= "2026-11-20 08:58" '
            "ORDER BY updated ASC"
        )

    def test_an_update_is_seen_by_the_next_incremental_cycle_without_duplicates(
        self, site: Site
    ) -> None:
        """The changed item is replaced in the view; the others stay."""
        keep = site.add_action("Keep", updated="-3d")
        change = site.add_action("Change", updated="-3d")
        connector = site.connector()
        _items(connector)
        site.clock.advance(minutes=5)
        other = site.connector()
        other.add_labels(ItemRef(tracker="jira", key=change), ["sev-1"])
        site.reset()
        result = connector.fetch(full=False)
        keys = [i.ref.key for i in result.items]
        assert sorted(keys) == sorted([keep, change])
        by_key = {i.ref.key: i for i in result.items}
        assert by_key[change].severity is Severity.SEV1
        assert _searches(site) == 1

    def test_the_cursor_is_saved_only_after_a_successful_pass(self, site: Site) -> None:
        """A search that keeps failing leaves the cursor where it was."""
        site.add_action("One", updated="-3d")
        connector = site.connector()
        connector.fetch(full=False)
        before = site.cursors.get_cursor(connector.cursor_source)
        site.emulator.faults = JiraFaults(error_5xx_rate=1.0)
        with pytest.raises(TransientError):
            connector.fetch(full=True)
        assert site.cursors.get_cursor(connector.cursor_source) == before
        assert len(site.sleeps) == 3
        assert site.sleeps == sorted(site.sleeps)


class TestEscalation:
    def test_one_escalation_is_two_reads_one_comment_one_property_write_and_one_put(
        self, site: Site
    ) -> None:
        """Index GET and comments GET (marker absent), comment POST, index PUT, labels PUT;
        no reload GET of the issue."""
        key = site.add_action("Overdue thing", assignee="alice")
        connector = site.connector()
        connector.fetch(full=True)
        site.reset()
        owner = Person(handle=site.handle(ALICE_ID, "alice"))
        result = _apply(site, connector, [_escalation(connector, key, owner)])
        assert result.writes == 2
        assert site.requests() == {
            ("GET", "/rest/api/2/issue/{issueIdOrKey}/properties/{propertyKey}", 404): 1,
            ("GET", "/rest/api/2/issue/{issueIdOrKey}/comment", 200): 1,
            ("POST", "/rest/api/2/issue/{issueIdOrKey}/comment", 201): 1,
            ("PUT", "/rest/api/2/issue/{issueIdOrKey}/properties/{propertyKey}", 201): 1,
            ("PUT", "/rest/api/2/issue/{issueIdOrKey}", 204): 1,
        }
        assert site.emulator.labels_of(key) == ["postmortem-action", OVERDUE]
        comments = site.emulator.comments(key)
        assert len(comments) == 1
        body = comments[0]["body"]
        mention = f"[~accountid:{ALICE_ID}]" if site.cloud else "[~alice]"
        escaped = key.replace("-", "\\-")
        line = f"{{color:#97a0af}}pmsync:tier:1:{escaped}{{color}}"
        assert body == f"{mention} this item is overdue: \\[\\~x\\] \\{{code\\}}\n\n{line}"
        markers = site.emulator.properties(key)["pmsync.markers"]["markers"]
        assert list(markers) == [f"pmsync:tier:1:{key}"]
        assert site.emulator.comment_properties(key) == [
            {"pmsync.marker": {"marker": f"pmsync:tier:1:{key}"}}
        ]

    def test_a_second_run_finds_the_marker_and_writes_nothing(self, site: Site) -> None:
        """The marker property makes the comment idempotent across runs."""
        key = site.add_action("Overdue thing", assignee="alice")
        owner = Person(handle=site.handle(ALICE_ID, "alice"))
        first = site.connector()
        _apply(site, first, [_escalation(first, key, owner)])
        site.reset()
        again = site.connector()
        result = _apply(site, again, [_escalation(again, key, owner)])
        assert result.count("skipped") == 1
        assert len(site.emulator.comments(key)) == 1

    def test_a_comment_committed_then_dropped_is_not_posted_again(self, site: Site) -> None:
        """Commit-then-drop on the POST: the rerun ends with exactly one comment."""
        key = site.add_action("Overdue thing", assignee="alice")
        owner = Person(handle=site.handle(ALICE_ID, "alice"))
        connector = site.connector()
        connector.fetch(full=True)
        site.emulator.faults = JiraFaults(drop_after_commit_rate=1.0)
        first = _apply(site, connector, [_escalation(connector, key, owner)])
        assert len(first.failed) == 1
        assert len(site.emulator.comments(key)) == 1
        site.emulator.faults = JiraFaults()
        for runner in (connector, site.connector()):
            _apply(site, runner, [_escalation(runner, key, owner)])
        assert len(site.emulator.comments(key)) == 1
        assert site.emulator.labels_of(key) == ["postmortem-action", OVERDUE]

    def test_remove_labels_is_one_put_with_remove_verbs(self, site: Site) -> None:
        """De-escalation removes only pmsync's label."""
        key = site.add_action("Was overdue", labels=[OVERDUE, "team-x"])
        connector = site.connector()
        site.reset()
        connector.remove_labels(ItemRef(tracker="jira", key=key), [OVERDUE])
        assert site.emulator.labels_of(key) == ["postmortem-action", "team-x"]
        assert [(m, n) for (m, _, _), n in site.requests().items() if m != "GET"] == [("PUT", 1)]

    def test_reopen_uses_the_transition_named_in_the_config(self, site: Site) -> None:
        """Done -> To Do through 'Reopen'; an unknown name is a PermanentError with a hint."""
        key = site.add_action("Closed too early", status="Done")
        connector = site.connector()
        connector.reopen(ItemRef(tracker="jira", key=key))
        assert site.emulator.issue(key)["fields"]["status"]["name"] == "To Do"
        wrong = site.connector(reopen_transition="Resurrect")
        site.emulator.add_issue("REL", "Other", status="Done", labels=["postmortem-action"])
        with pytest.raises(PermanentError, match="no transition named 'Resurrect'"):
            wrong.reopen(ItemRef(tracker="jira", key="REL-2"))


class TestLimits:
    def test_an_hourly_quota_stops_writes_and_the_next_hour_finishes_the_backlog(
        self, site: Site
    ) -> None:
        """429 jira-quota-tenant-based: RateLimited until the top of the hour, no duplicates."""
        keys = [site.add_action(f"Overdue {n}", assignee="alice") for n in range(4)]
        owner = Person(handle=site.handle(ALICE_ID, "alice"))
        connector = site.connector()
        connector.fetch(full=True)
        changes = [_escalation(connector, k, owner) for k in keys]
        site.emulator.exhaust_hourly_quota()
        first = _apply(site, connector, changes)
        assert first.writes == 0
        assert first.rate_limited == {"jira": datetime(2026, 11, 23, 10, 0, tzinfo=UTC)}
        assert len(first.backlog) == 4
        assert all(site.emulator.comments(k) == [] for k in keys)
        site.clock.advance(hours=1, minutes=1)
        second = _apply(site, connector, [deferred.build() for deferred in first.backlog])
        assert second.writes == 8
        assert second.rate_limited == {}
        assert [len(site.emulator.comments(k)) for k in keys] == [1, 1, 1, 1]
        assert all(OVERDUE in site.emulator.labels_of(k) for k in keys)

    def test_a_burst_limit_on_a_read_is_retried_after_retry_after(self, site: Site) -> None:
        """jira-burst-based on GETs: TransientError retried with the server's wait."""
        site.add_action("One")
        connector = site.connector()
        connector.fetch(full=True)
        site.emulator.faults = JiraFaults(
            rate_429_rate=1.0, rate_429_reason="jira-burst-based", retry_after_s=7
        )
        with pytest.raises(TransientError, match="throttled"):
            connector.fetch(full=True)
        assert site.sleeps == [7.0, 7.0, 7.0]

    def test_a_burst_limit_on_a_write_stops_writes_briefly(self, site: Site) -> None:
        """jira-per-issue-on-write on a PUT: RateLimited a few seconds ahead, not retried."""
        key = site.add_action("One")
        connector = site.connector()
        connector.fetch(full=True)
        site.emulator.faults = JiraFaults(
            rate_429_rate=1.0, rate_429_reason="jira-per-issue-on-write", retry_after_s=3
        )
        with pytest.raises(RateLimited) as caught:
            connector.add_labels(ItemRef(tracker="jira", key=key), [OVERDUE])
        assert caught.value.reset_at == datetime(2026, 11, 23, 9, 0, 3, tzinfo=UTC)
        assert caught.value.reason == "jira-per-issue-on-write"
        assert site.sleeps == []

    def test_bad_credentials_are_permanent_and_never_echo_the_token(self, site: Site) -> None:
        """401: PermanentError whose text has no credential in it."""
        bad = JiraConnector(
            site.config(),
            site.connector().policy,
            site.cursors,
            site.clock,
            token=SecretStr("wrong-token-123"),
            email="bot@acme.test" if site.cloud else None,
            sleep=site.sleeps.append,
        )
        with pytest.raises(PermanentError) as caught:
            bad.fetch(full=True)
        assert caught.value.status == 401
        assert "wrong-token-123" not in str(caught.value)
        assert "Authorization" not in str(caught.value)


class TestAdf:
    def test_v3_comments_are_adf_with_an_account_id_mention_node(self, cloud_site: Site) -> None:
        """rest_api_version 3: the comment body is ADF; issue text stays a text node."""
        key = cloud_site.add_action("Overdue", assignee="alice")
        connector = cloud_site.connector(rest_api_version="3")
        connector.post_comment(
            ItemRef(tracker="jira", key=key), _message(key, Person(handle=ALICE_ID))
        )
        body = cloud_site.emulator.comments(key)[0]["body"]
        assert body["type"] == "doc"
        paragraph = body["content"][0]["content"]
        assert paragraph[0] == {
            "type": "mention",
            "attrs": {"id": ALICE_ID, "text": f"@{ALICE_ID}"},
        }
        assert paragraph[2] == {"type": "text", "text": "[~x] {code}"}
        assert connector.has_marker(ItemRef(tracker="jira", key=key), f"pmsync:tier:1:{key}")


class TestFullResync:
    def test_a_full_fetch_drops_items_that_left_the_scope(self, site: Site) -> None:
        """Incremental cycles cannot see an item leave the JQL; the full one does."""
        stay = site.add_action("Stay", updated="-3d")
        leave = site.add_action("Leave", updated="-3d")
        connector = site.connector()
        assert set(_items(connector)) == {stay, leave}
        connector.remove_labels(ItemRef(tracker="jira", key=leave), ["postmortem-action"])
        assert set(_items(connector, full=True)) == {stay}


class TestReports:
    def test_the_weekly_review_is_created_once_then_edited_in_place(self, site: Site) -> None:
        """Found by label and the pmsync.report week property; next week closes the previous."""
        connector = site.connector()
        first = connector.upsert_report(
            week_key="2026-W48",
            label="pmsync-review",
            title="Review W48",
            bodies={"wiki": "v1"},
            close_previous=True,
        )
        again = connector.upsert_report(
            week_key="2026-W48",
            label="pmsync-review",
            title="Review W48",
            bodies={"wiki": "v2"},
            close_previous=True,
        )
        assert again.key == first.key
        assert site.emulator.issue(first.key)["fields"]["description"] == "v2"
        assert site.emulator.properties(first.key)["pmsync.report"]["week"] == "2026-W48"
        following = site.connector().upsert_report(
            week_key="2026-W49",
            label="pmsync-review",
            title="Review W49",
            bodies={"wiki": "w49"},
            close_previous=True,
        )
        assert following.key != first.key
        assert site.emulator.issue(first.key)["fields"]["status"]["name"] == "Done"
        assert site.emulator.issue(following.key)["fields"]["labels"] == ["pmsync-review"]
        assert following.url == f"{site.emulator.base_url}/browse/{following.key}"

    def test_the_review_goes_to_report_project_when_the_policy_names_one(self, site: Site) -> None:
        """``report.project`` wins over the tracker's ``project`` (it used to be ignored)."""
        site.emulator.add_project("OPS", "Operations")
        policy = example_policy().model_copy(
            update={"report": example_policy().report.model_copy(update={"project": "OPS"})}
        )
        created = site.connector(policy, project=None).upsert_report(
            week_key="2026-W48",
            label="pmsync-review",
            title="Review W48",
            bodies={"wiki": "v1"},
            close_previous=True,
        )
        assert created.key.startswith("OPS-")

    def test_the_log_entry_for_a_week_is_one_comment_edited_never_reposted(
        self, site: Site
    ) -> None:
        """The log issue's per-week comment is found through the marker property."""
        connector = site.connector()
        first = connector.upsert_log_entry(
            log_label="pmsync-log",
            log_title="pmsync operating log",
            week_key="2026-W48",
            bodies={"wiki": "week 48: 3 escalations"},
        )
        site.reset()
        site.connector().upsert_log_entry(
            log_label="pmsync-log",
            log_title="pmsync operating log",
            week_key="2026-W48",
            bodies={"wiki": "week 48: 4 escalations"},
        )
        writes = {(m, p): n for (m, p, _), n in site.requests().items() if m != "GET"}
        assert writes == {
            ("PUT", "/rest/api/2/issue/{issueIdOrKey}/comment/{id}"): 1,
            ("PUT", "/rest/api/2/issue/{issueIdOrKey}/properties/{propertyKey}"): 1,
        }
        property_reads = sum(
            n for (m, p, _), n in site.requests().items() if m == "GET" and "properties" in p
        )
        assert property_reads == (0 if site.cloud else 1)
        comments = site.emulator.comments(first.key)
        line = "{color:#97a0af}pmsync:log:2026\\-W48{color}"
        assert [c["body"] for c in comments] == [f"week 48: 4 escalations\n\n{line}"]
        connector.upsert_log_entry(
            log_label="pmsync-log",
            log_title="pmsync operating log",
            week_key="2026-W49",
            bodies={"wiki": "week 49: quiet"},
        )
        assert len(site.emulator.comments(first.key)) == 2
        assert site.emulator.issue(first.key)["fields"]["summary"] == "pmsync operating log"


class TestPermissions:
    def test_every_check_passes_with_full_rights_and_resolvable_fields(self, site: Site) -> None:
        """Connect, four permissions and each mapped field."""
        checks = check_jira(site.config(), SecretStr(TOKEN), EMAIL if site.cloud else None)
        assert [c.check for c in checks if not c.ok] == []
        assert [c.check for c in checks][:5] == [
            "connect",
            "BROWSE_PROJECTS",
            "EDIT_ISSUES",
            "ADD_COMMENTS",
            "TRANSITION_ISSUES",
        ]
        assert "field evidence" in [c.check for c in checks]

    def test_a_missing_permission_and_a_misspelt_field_fail_with_fixes(self, site: Site) -> None:
        """EDIT_ISSUES revoked and 'Evidense' unknown: two failures, each with a hint."""
        site.emulator.revoke_permission("EDIT_ISSUES")
        config = site.config(fields={"owner": "assignee", "evidence": "Evidense"})
        checks = check_jira(config, SecretStr(TOKEN), EMAIL if site.cloud else None)
        failed = {c.check: c for c in checks if not c.ok}
        assert set(failed) == {"EDIT_ISSUES", "field evidence"}
        assert failed["EDIT_ISSUES"].fix == "grant 'Edit issues' in the project's permission scheme"
        assert "no Jira field named" in failed["field evidence"].detail

    def test_the_tracker_the_review_goes_to_is_asked_what_publishing_needs(
        self, site: Site
    ) -> None:
        """Create issues, edit own comments, attach the chart: asked in the review's project."""
        site.emulator.revoke_permission("CREATE_ATTACHMENTS")
        checks = check_jira(
            site.config(),
            SecretStr(TOKEN),
            EMAIL if site.cloud else None,
            publishes_reports=True,
            report_project="REL",
        )
        rows = {c.check: c for c in checks}
        assert [rows[k].ok for k in ("CREATE_ISSUES", "EDIT_OWN_COMMENTS")] == [True, True]
        assert rows["CREATE_ATTACHMENTS"].ok is False
        assert rows["CREATE_ATTACHMENTS"].detail == (
            "cannot attach the risk-trend chart to the weekly review in project REL"
        )

    def test_a_review_without_a_project_to_go_to_is_one_failed_row(self, site: Site) -> None:
        checks = check_jira(
            site.config(project=None),
            SecretStr(TOKEN),
            EMAIL if site.cloud else None,
            publishes_reports=True,
            report_project=None,
        )
        failed = [(c.check, c.fix) for c in checks if not c.ok]
        assert failed == [
            ("report project", "set project: KEY in the Jira tracker settings (or report.project)")
        ]

    def test_a_tracker_the_review_does_not_go_to_is_not_asked_about_publishing(
        self, site: Site
    ) -> None:
        checks = check_jira(site.config(), SecretStr(TOKEN), EMAIL if site.cloud else None)
        assert not {"CREATE_ISSUES", "report project"} & {c.check for c in checks}

    def test_a_wrong_token_fails_the_connect_check(self, site: Site) -> None:
        """401 at serverInfo is reported, not raised."""
        checks = check_jira(site.config(), SecretStr("nope"), EMAIL if site.cloud else None)
        assert [(c.check, c.ok) for c in checks] == [("connect", False)]
        assert "HTTP 401" in checks[0].detail


class TestCycle:
    def test_a_full_cycle_escalates_overdue_items_once_and_then_converges(self, site: Site) -> None:
        """run_cycle with the real applier: writes on the first cycle, none on the second."""
        overdue = site.add_action(
            "Add a retry budget",
            priority="High",
            assignee="alice",
            duedate="2026-11-10",
            fields={"Severity": "SEV-2", "Sponsor": "bob", "Executive sponsor": "erin"},
            created="-40d",
        )
        fresh = site.add_action(
            "Document the failover",
            priority="Medium",
            assignee="alice",
            duedate="2027-02-01",
            fields={"Severity": "SEV-3", "Sponsor": "bob"},
            created="-2d",
        )
        policy = example_policy()
        connector = site.connector(policy)
        ledger = MemoryLedger()

        def cycle(n: int) -> ApplyResult:
            applier = Applier(
                {connector.name: connector},
                ledger,
                site.clock,
                cycle_id=f"c{n}",
                policy_version=policy.version,
            )
            outcome = run_cycle(
                trackers=[connector],
                policy=policy,
                now=site.clock(),
                executor=applier,
                cycle_id=f"c{n}",
                ledger=ledger,
            )
            assert outcome.fetch_errors == {}
            return outcome.result

        first = cycle(1)
        assert first.writes > 0
        assert first.failed == []
        labels = site.emulator.labels_of(overdue)
        assert "pmsync/escalated-sponsor" in labels
        assert site.emulator.labels_of(fresh) == ["postmortem-action"]
        comments = site.emulator.comments(overdue)
        assert len(comments) >= 1
        bob = f"[~accountid:{BOB_ID}]" if site.cloud else "[~bob]"
        assert any(bob in c["body"] for c in comments)
        site.clock.advance(minutes=30)
        site.reset()
        second = cycle(2)
        assert second.writes == 0
        assert len(site.emulator.comments(overdue)) == len(comments)
        assert _searches(site) == 1
        assert sum(site.requests().values()) == 1


class TestNotifications:
    def test_label_edits_can_be_silenced_where_pmsync_has_admin_rights(self, site: Site) -> None:
        """notify_users: false sends notifyUsers=false on the label PUT."""
        key = site.add_action("Quiet")
        site.connector(notify_users=False).add_labels(ItemRef(tracker="jira", key=key), [OVERDUE])
        site.connector().add_labels(ItemRef(tracker="jira", key=key), ["pmsync/due-soon"])
        assert site.emulator.notify_log == [(key, False), (key, True)]
