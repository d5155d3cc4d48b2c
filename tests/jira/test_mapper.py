"""The mapper on recorded real Jira Cloud and Data Center payloads."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from typing import Any

from connectors.jira.fields import BASE_FIELDS, FieldResolution, MappingContext, resolve_fields
from connectors.jira.mapper import map_issue, parse_severity
from syncer.core.evidence_links import classifier_for
from syncer.core.model import (
    ActionItem,
    EvidenceKind,
    Priority,
    Resolution,
    Severity,
    State,
)
from syncer.core.policy import EvidenceRule, LinkRule
from syncer.core.tracker import SkippedItem
from syncer.core.tracker_config import JiraTracker
from tests.jira.recorded import EPIC, REOPEN, TAGS, cassette_responses, json_fixture

DD_MAPPING = {
    "owner": "DefectDojo Custom User Picker Field",
    "evidence": "DefectDojo Custom URL Field",
    "severity": "DefectDojo Custom Select List (SingleChoice) Field",
    "sponsor": "customfield_10003",
    "incident": "DefectDojo Custom Short Text Field",
    "waiver": "DefectDojo Customer Paragraph Field",
}


def _cloud_fields() -> list[dict[str, Any]]:
    return cassette_responses(EPIC, "GET", "/rest/api/2/field")[0]  # type: ignore[no-any-return]


def _context(
    mapping: dict[str, str], field_list: list[dict[str, Any]], *, cloud: bool
) -> MappingContext:
    config = JiraTracker(server="https://defectdojo.atlassian.net", fields=mapping)
    resolution = resolve_fields(mapping, field_list)
    return MappingContext.build(config, resolution, cloud=cloud)


def _issue_gets(name: str) -> list[dict[str, Any]]:
    return [b for b in cassette_responses(name, "GET", "/rest/api/2/issue/") if "fields" in b]


def _mapped(raw: dict[str, Any], ctx: MappingContext) -> ActionItem:
    item = map_issue(raw, ctx)
    assert isinstance(item, ActionItem), item
    return item


class TestFieldResolution:
    def test_custom_fields_resolve_by_name_by_id_and_system_fields_by_id(self) -> None:
        """Names from the recorded Cloud field list resolve to their customfield ids."""
        result = resolve_fields({**DD_MAPPING, "due": "duedate"}, _cloud_fields())
        assert result.problems == ()
        assert {a: f.id for a, f in result.fields.items()} == {
            "owner": "customfield_10051",
            "evidence": "customfield_10050",
            "severity": "customfield_10048",
            "sponsor": "customfield_10003",
            "incident": "customfield_10049",
            "waiver": "customfield_10044",
            "due": "duedate",
        }
        assert result.fields["owner"].custom == (
            "com.atlassian.jira.plugin.system.customfieldtypes:userpicker"
        )

    def test_a_name_two_fields_share_is_reported_with_both_ids(self) -> None:
        """The real site has two fields called Impact; the mapping must say which."""
        result = resolve_fields({"severity": "Impact"}, _cloud_fields())
        assert result.fields == {}
        assert result.problems == (
            "fields.severity: 'Impact' names 2 fields; use the id: "
            "customfield_10004 or customfield_10052",
        )

    def test_missing_fields_and_unknown_attributes_are_problems_not_exceptions(self) -> None:
        """A typo in the policy is reported with a hint."""
        result = resolve_fields({"owner": "Accountable owner", "colour": "x"}, _cloud_fields())
        assert len(result.problems) == 2
        assert result.problems[0].startswith("fields.owner: no Jira field named")
        assert result.problems[1].startswith("fields.colour: unknown attribute")

    def test_requested_fields_are_the_base_fields_plus_only_the_mapped_ones(self) -> None:
        """The search never asks for *all."""
        result = resolve_fields({"evidence": "DefectDojo Custom URL Field"}, _cloud_fields())
        assert result.requested == [*BASE_FIELDS, "customfield_10050"]

    def test_data_center_field_list_resolves_by_name(self) -> None:
        """jira-ruby's recorded field list resolves too."""
        fields = json_fixture("jira-ruby-mock-responses", "field.json")
        result = resolve_fields({"incident": "Description"}, fields)
        assert result == FieldResolution(fields={"incident": result.fields["incident"]})
        assert result.fields["incident"].id == "1"


class TestRecordedCloudIssues:
    def test_every_recorded_issue_maps_without_problems(self) -> None:
        """All issue GETs in the DefectDojo cassettes map to items."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        bodies = _issue_gets(REOPEN) + _issue_gets(EPIC) + _issue_gets(TAGS)
        items = [_mapped(b, ctx) for b in bodies]
        assert len(items) == len(bodies) > 30
        assert all(i.data_problems == () for i in items)

    def test_an_open_backlog_issue_maps_its_identity_priority_and_times(self) -> None:
        """NTEST-3073 as first created: open, High, times converted to UTC."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        item = _mapped(_issue_gets(REOPEN)[0], ctx)
        assert item.ref.key == "NTEST-3073"
        assert item.ref.tracker == "jira"
        assert item.url == "https://defectdojo.atlassian.net/browse/NTEST-3073"
        assert item.title == "Findings in: negotiator:0.5.3"
        assert item.state is State.OPEN
        assert item.resolution is None
        assert item.priority is Priority.P1
        assert item.created_at == datetime(2025, 7, 3, 17, 36, 20, 910000, tzinfo=UTC)
        assert item.owners == ()
        assert item.severity is Severity.UNKNOWN

    def test_a_done_issue_is_closed_with_its_resolution_and_close_time(self) -> None:
        """Status category done means closed; resolution Done is kept."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        done = next(b for b in _issue_gets(REOPEN) if b["fields"]["status"]["name"] == "Done")
        item = _mapped(done, ctx)
        assert item.state is State.CLOSED
        assert item.resolution is Resolution.DONE
        assert item.priority is Priority.P3
        assert item.closed_at is not None
        assert item.closed_at.tzinfo is UTC

    def test_labels_from_the_recording_are_read_as_a_set(self) -> None:
        """Every label of the recorded issue, nothing more."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        item = _mapped(_issue_gets(TAGS)[-1], ctx)
        assert item.labels == frozenset({"tag1", "tag2", "tag3", "tag4"})

    def test_custom_field_values_in_their_real_shapes_map_to_the_model(self) -> None:
        """A recorded issue with its custom fields filled in the shapes Cloud returns."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        raw = copy.deepcopy(_issue_gets(REOPEN)[0])
        creator = raw["fields"]["creator"]
        raw["fields"].update(
            {
                "customfield_10051": creator,
                "customfield_10050": "https://github.com/acme/api/pull/42",
                "customfield_10048": {"self": "x", "value": "SEV-2", "id": "10021"},
                "customfield_10003": [creator],
                "customfield_10049": "INC-2025-117",
                "customfield_10044": "until 2025-09-01 approved by Dana Lee: vendor fix pending",
                "labels": ["pmsync/overdue", "postmortem-action"],
            }
        )
        item = _mapped(raw, ctx)
        assert [o.handle for o in item.owners] == ["712020:292a8b4c-ebd5-44be-bb94-d07c56a14dc5"]
        assert item.owners[0].display_name == creator["displayName"]
        assert [(e.kind, e.url) for e in item.evidence] == [
            (EvidenceKind.PULL_REQUEST, "https://github.com/acme/api/pull/42")
        ]
        assert item.severity is Severity.SEV2
        assert item.sponsor is not None
        assert item.sponsor.handle == creator["accountId"]
        assert item.incident == "INC-2025-117"
        assert item.waiver is not None
        assert (item.waiver.until, item.waiver.approver, item.waiver.reason) == (
            date(2025, 9, 1),
            "Dana Lee",
            "vendor fix pending",
        )
        assert item.labels == frozenset({"pmsync/overdue", "postmortem-action"})
        assert item.data_problems == ()

    def test_malformed_custom_values_become_unknown_with_problems(self) -> None:
        """Bad severity, waiver and user values are reported, never raised."""
        ctx = _context(DD_MAPPING, _cloud_fields(), cloud=True)
        raw = copy.deepcopy(_issue_gets(REOPEN)[0])
        raw["fields"].update(
            {
                "customfield_10051": "not-a-user",
                "customfield_10048": {"value": "Purple"},
                "customfield_10044": "next week maybe",
                "priority": {"name": "Urgent-ish"},
            }
        )
        item = _mapped(raw, ctx)
        assert item.severity is Severity.UNKNOWN
        assert item.priority is Priority.UNKNOWN
        assert item.owners == ()
        assert item.waiver is None
        assert len(item.data_problems) == 4
        assert any(p.startswith("priority: 'Urgent-ish'") for p in item.data_problems)


class TestRecordedDataCenterIssues:
    def test_people_are_user_names_and_times_are_utc(self) -> None:
        """jira-ruby's Server issue: assignee by name, due date, Major -> P1."""
        fields = json_fixture("jira-ruby-mock-responses", "field.json")
        ctx = _context({}, fields, cloud=False)
        item = _mapped(json_fixture("jira-ruby-mock-responses", "issue", "10002.json"), ctx)
        assert item.ref.key == "SAMPLEPROJECT-1"
        assert [o.handle for o in item.owners] == ["admin"]
        assert item.due == date(2011, 12, 14)
        assert item.priority is Priority.P1
        assert item.updated_at == datetime(2011, 12, 13, 21, 26, 6, 30000, tzinfo=UTC)

    def test_a_status_without_category_is_read_from_the_resolution_and_reported(self) -> None:
        """Old Server payloads have no statusCategory; that is said, not guessed silently."""
        ctx = _context({}, [], cloud=False)
        page = json_fixture("jira-ruby-mock-responses", "issue.json")
        items = [map_issue(i, ctx) for i in page["issues"]]
        mapped = [i for i in items if isinstance(i, ActionItem)]
        assert len(mapped) == len(page["issues"]) == 11
        assert all(i.state is State.OPEN for i in mapped)
        assert all(
            i.data_problems == ("status: no status category; open/closed read from the resolution",)
            for i in mapped
        )

    def test_go_jira_search_page_maps_closed_done_and_user_names(self) -> None:
        """go-jira's recorded search page (a Server payload with categories)."""
        ctx = _context({}, [], cloud=False)
        page = json_fixture("go-jira-mock-data", "issues_in_sprint.json")
        first = _mapped(page["issues"][0], ctx)
        assert first.ref.key == "AR-86"
        assert [o.handle for o in first.owners] == ["mister.morris"]
        assert first.state is State.OPEN
        assert first.priority is Priority.P1

    def test_jira_cli_cloud_search_page_maps_labels_and_resolution(self) -> None:
        """jira-cli's /search/jql page has bare status names: read via the resolution."""
        ctx = _context({}, [], cloud=True)
        page = json_fixture("jira-cli-testdata", "search.json")
        items = {
            i.ref.key: i
            for i in (map_issue(r, ctx) for r in page["issues"])
            if isinstance(i, ActionItem)
        }
        assert items["TEST-2"].labels == frozenset({"critical", "feature"})
        assert items["TEST-3"].state is State.CLOSED
        assert items["TEST-3"].resolution is Resolution.DONE


class TestUnmappable:
    def test_an_issue_without_key_or_times_is_skipped_with_a_reason(self) -> None:
        """No identity or timestamps: a SkippedItem, not an exception."""
        ctx = _context({}, [], cloud=True)
        assert map_issue({"id": "1"}, ctx) == SkippedItem(
            key="1", problem="issue without key or fields"
        )
        skipped = map_issue({"key": "A-1", "fields": {"summary": "x"}}, ctx)
        assert skipped == SkippedItem(
            key="A-1", problem="issue without readable created/updated times"
        )


class TestSeverityAndEvidence:
    def test_severity_text_in_common_spellings_parses(self) -> None:
        """SEV-1, Sev 2, severity:3, a bare 4 and words."""
        assert [parse_severity(t) for t in ("SEV-1", "Sev 2", "severity:3", "4", "Critical")] == [
            Severity.SEV1,
            Severity.SEV2,
            Severity.SEV3,
            Severity.SEV4,
            Severity.SEV1,
        ]
        assert parse_severity("Purple") is None

    def test_severity_labels_are_used_when_no_field_is_mapped_and_the_worst_wins(self) -> None:
        """sev-1 and sev-3 both present: SEV-1, with a problem noted."""
        ctx = _context({}, _cloud_fields(), cloud=True)
        raw = copy.deepcopy(_issue_gets(REOPEN)[0])
        raw["fields"]["labels"] = ["sev-3", "SEV-1"]
        item = _mapped(raw, ctx)
        assert item.severity is Severity.SEV1
        assert item.data_problems == (
            "severity: labels name more than one severity; the worst is used",
        )

    def test_evidence_text_with_several_links_is_typed_per_link(self) -> None:
        """A text field with a commit, a Grafana board, a runbook and a CI run."""
        ctx = _context(
            {"evidence": "DefectDojo Customer Paragraph Field"}, _cloud_fields(), cloud=True
        )
        raw = copy.deepcopy(_issue_gets(REOPEN)[0])
        raw["fields"]["customfield_10044"] = (
            "Fixed in https://github.com/acme/api/commit/0123abcd, see "
            "[board|https://grafana.acme.io/d/abc/latency] and "
            "https://wiki.acme.io/runbooks/db-failover; CI: "
            "https://github.com/acme/api/actions/runs/991.\nDesign: https://docs.google.com/document/d/x"
        )
        item = _mapped(raw, ctx)
        assert [e.kind for e in item.evidence] == [
            EvidenceKind.COMMIT,
            EvidenceKind.DASHBOARD,
            EvidenceKind.RUNBOOK,
            EvidenceKind.TEST_RUN,
            EvidenceKind.DOCUMENT,
        ]
        assert item.evidence[3].url == "https://github.com/acme/api/actions/runs/991"

    def test_links_are_typed_like_on_github_by_the_policys_rules(self) -> None:
        """A GitLab MR is a pull request and a Grafana "runbook" board a dashboard, as on
        GitHub; the policy's own rule comes first."""
        mapping = {"evidence": "DefectDojo Customer Paragraph Field"}
        config = JiraTracker(server="https://defectdojo.atlassian.net", fields=mapping)
        rule = EvidenceRule(links=[LinkRule(host=r"^status\.acme\.io$", kind="dashboard")])
        ctx = MappingContext.build(
            config,
            resolve_fields(mapping, _cloud_fields()),
            cloud=True,
            links=classifier_for(rule),
        )
        raw = copy.deepcopy(_issue_gets(REOPEN)[0])
        raw["fields"]["customfield_10044"] = (
            "https://gitlab.com/acme/api/-/merge_requests/3 "
            "https://grafana.acme.io/d/abc/payments-runbook https://status.acme.io/checkout"
        )
        assert [e.kind for e in _mapped(raw, ctx).evidence] == [
            EvidenceKind.PULL_REQUEST,
            EvidenceKind.DASHBOARD,
            EvidenceKind.DASHBOARD,
        ]

    def test_evidence_in_an_adf_paragraph_field_is_read_from_link_marks(self) -> None:
        """REST v3 returns paragraph fields as ADF; links live in marks."""
        ctx = _context(
            {"evidence": "DefectDojo Customer Paragraph Field"}, _cloud_fields(), cloud=True
        )
        raw = copy.deepcopy(_issue_gets(REOPEN)[0])
        raw["fields"]["customfield_10044"] = {
            "type": "doc",
            "version": 1,
            "content": [
                {
                    "type": "paragraph",
                    "content": [
                        {
                            "type": "text",
                            "text": "the PR",
                            "marks": [
                                {"type": "link", "attrs": {"href": "https://github.com/a/b/pull/7"}}
                            ],
                        }
                    ],
                }
            ],
        }
        item = _mapped(raw, ctx)
        assert [(e.kind, e.url) for e in item.evidence] == [
            (EvidenceKind.PULL_REQUEST, "https://github.com/a/b/pull/7")
        ]
