"""The GitHub mapper turns raw issue payloads into action items without ever raising."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.github.issue_form import SECTION_LABELS, parse_sections
from connectors.github.mapper import is_pull_request, map_issue, map_issues
from syncer.core.model import (
    ActionItem,
    EvidenceKind,
    Person,
    Priority,
    Resolution,
    Severity,
    State,
)
from syncer.core.policy import Closure, Escalation, EvidenceRule, LinkRule, Policy, Tier
from syncer.core.tracker import SkippedItem
from syncer.core.tracker_config import GitHubTracker
from tests.github.recorded import issue_payloads

FORM = Path(__file__).resolve().parents[2] / "config/github/ISSUE_TEMPLATE/postmortem-action.yml"
CONFIG = GitHubTracker(name="gh", repositories=["acme/payments"])
POLICY = Policy(
    version="test",
    escalation=Escalation(
        tiers=[
            Tier(name="owner", after="0d", label="pmsync/overdue"),
            Tier(name="sponsor", after="7d", label="pmsync/escalated-sponsor"),
        ]
    ),
)


def form_body(**values: str) -> str:
    """An issue body as GitHub renders the shipped form, with ``_No response_`` for blanks."""
    out = []
    for key, labels in SECTION_LABELS.items():
        out.append(f"### {labels[0]}\n\n{values.get(key, '_No response_')}\n")
    return "\n".join(out)


def issue(**overrides: Any) -> dict[str, Any]:
    """A modern issue payload in the shape of the recorded octokit fixtures."""
    raw: dict[str, Any] = {
        "url": "https://api.github.com/repos/acme/payments/issues/7",
        "repository_url": "https://api.github.com/repos/acme/payments",
        "html_url": "https://github.com/acme/payments/issues/7",
        "number": 7,
        "title": "Add a circuit breaker to the card gateway",
        "labels": [{"name": "postmortem-action"}, {"name": "SEV-1"}, {"name": "p0"}],
        "state": "open",
        "assignee": {"login": "alice"},
        "assignees": [{"login": "alice"}],
        "milestone": {"title": "Q4", "due_on": "2026-12-01T08:00:00Z"},
        "comments": 2,
        "created_at": "2026-11-02T10:00:00Z",
        "updated_at": "2026-11-20T09:30:00Z",
        "closed_at": None,
        "state_reason": None,
        "body": form_body(
            postmortem="https://wiki.example.com/pm/2026-11-01",
            incident_date="2026-11-01",
            team="payments",
            sponsor="@bob",
            executive_sponsor="@carol",
            evidence="https://github.com/acme/payments/pull/12\n- grafana https://grafana.example.com/d/x",
        ),
    }
    raw.update(overrides)
    return raw


def mapped(raw: Any) -> ActionItem:
    result = map_issue(raw, config=CONFIG, policy=POLICY)
    assert isinstance(result, ActionItem), result
    return result


class TestRecordedPayloads:
    def test_every_recorded_issue_maps_or_is_skipped_without_raising(self) -> None:
        """All issue objects in the PyGithub replay data and octokit fixtures go through."""
        payloads = issue_payloads()
        assert len(payloads) > 150
        results = [map_issue(raw, config=CONFIG, policy=POLICY) for _, raw in payloads]
        items = [r for r in results if isinstance(r, ActionItem)]
        skipped = [r for r in results if isinstance(r, SkippedItem)]
        assert len(items) + len(skipped) == len(payloads)
        assert {s.problem for s in skipped} == {"a pull request, not an issue"}
        assert len(skipped) == sum(is_pull_request(raw) for _, raw in payloads)

    def test_recorded_items_keep_repository_number_and_owners(self) -> None:
        """Keys come from repository_url; assignees (or the pre-2016 assignee) become owners."""
        payloads = issue_payloads()
        for source, raw in payloads:
            result = map_issue(raw, config=CONFIG, policy=POLICY)
            if isinstance(result, SkippedItem):
                continue
            assert result.ref.key.endswith(f"#{raw['number']}"), source
            people = raw["assignees"] if "assignees" in raw else [raw.get("assignee")]
            logins = [a["login"] for a in people if a]
            assert [o.handle for o in result.owners] == logins, source
            assert result.title == raw["title"]

    def test_recorded_milestone_due_dates_become_item_due_dates(self) -> None:
        """The recorded milestones carry due_on; the item's due date is its date part."""
        with_due = [
            raw
            for _, raw in issue_payloads()
            if isinstance(raw.get("milestone"), dict)
            and raw["milestone"].get("due_on")
            and not is_pull_request(raw)
        ]
        assert with_due
        for raw in with_due:
            assert mapped(raw).due == date.fromisoformat(raw["milestone"]["due_on"][:10])

    def test_recorded_state_reasons_map_to_resolutions(self) -> None:
        """not_planned is wont-do; completed and the pre-2022 null are done."""
        seen = {}
        for _, raw in issue_payloads():
            if raw.get("state") == "closed" and not is_pull_request(raw):
                seen[raw.get("state_reason")] = mapped(raw).resolution
        assert seen["not_planned"] is Resolution.WONT_DO
        assert seen["completed"] is Resolution.DONE
        assert seen[None] is Resolution.DONE

    def test_old_payloads_with_null_pull_request_urls_are_issues(self) -> None:
        """Before 2014 every issue carried pull_request with null URLs."""
        old = [raw for _, raw in issue_payloads() if raw.get("pull_request") is not None]
        nulls = [r for r in old if not r["pull_request"].get("html_url")]
        assert nulls
        assert all(not is_pull_request(r) for r in nulls)


class TestIssueForm:
    def test_the_shipped_form_has_every_section_the_mapper_reads(self) -> None:
        """Each SECTION_LABELS key is a form field id whose label is the first alias."""
        form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
        fields = {f["id"]: f["attributes"]["label"] for f in form["body"] if "id" in f}
        assert {k: v[0] for k, v in SECTION_LABELS.items()} == fields
        assert form["labels"] == [CONFIG.action_label]

    def test_dropdown_options_are_values_the_mapper_understands(self) -> None:
        """Every severity and priority option maps to a known value."""
        form = yaml.safe_load(FORM.read_text(encoding="utf-8"))
        options = {
            f["id"]: f["attributes"]["options"]
            for f in form["body"]
            if "id" in f and f["type"] == "dropdown"
        }
        for option in options["severity"]:
            raw = issue(labels=[], body=form_body(severity=option))
            assert mapped(raw).severity.value == option
        for option in options["priority"]:
            raw = issue(labels=[], body=form_body(priority=option))
            assert mapped(raw).priority.value == option


class TestFields:
    def test_a_complete_form_issue_maps_every_field(self) -> None:
        """Labels, assignees, sections and timestamps all land in the item."""
        item = mapped(issue())
        assert item.ref.key == "acme/payments#7"
        assert item.ref.tracker == "gh"
        assert item.severity is Severity.SEV1
        assert item.priority is Priority.P0
        assert item.owners == (Person(handle="alice"),)
        assert item.sponsor == Person(handle="bob")
        assert item.executive_sponsor == Person(handle="carol")
        assert item.incident == "https://wiki.example.com/pm/2026-11-01"
        assert item.incident_date == date(2026, 11, 1)
        assert item.team == "payments"
        assert item.due == date(2026, 12, 1)
        assert [(e.kind, e.url) for e in item.evidence] == [
            (EvidenceKind.PULL_REQUEST, "https://github.com/acme/payments/pull/12"),
            (EvidenceKind.DASHBOARD, "https://grafana.example.com/d/x"),
        ]
        assert item.evidence[1].text == "grafana"
        assert item.created_at == datetime(2026, 11, 2, 10, tzinfo=UTC)
        assert item.state is State.OPEN
        assert item.resolution is None
        assert item.data_problems == ()

    def test_the_form_due_date_wins_over_the_milestone(self) -> None:
        """A due date written in the form is the item's own due date."""
        assert mapped(issue(body=form_body(due_date="2026-11-15"))).due == date(2026, 11, 15)

    def test_a_malformed_due_date_falls_back_to_the_milestone_and_says_so(self) -> None:
        """The milestone is used and the problem is recorded."""
        item = mapped(issue(body=form_body(due_date="next friday")))
        assert item.due == date(2026, 12, 1)
        assert item.data_problems == (
            "due date 'next friday' is not YYYY-MM-DD; milestone due date used",
        )

    def test_severity_labels_match_case_insensitively(self) -> None:
        """sev1 and Sev-1 both mean SEV-1."""
        assert mapped(issue(labels=[{"name": "Sev1"}])).severity is Severity.SEV1
        assert mapped(issue(labels=[{"name": "PRIORITY:P2"}])).priority is Priority.P2

    def test_conflicting_severity_labels_are_unknown_with_a_problem(self) -> None:
        """Two severities on one issue cannot both be right."""
        item = mapped(issue(labels=[{"name": "sev-1"}, {"name": "sev-3"}]))
        assert item.severity is Severity.UNKNOWN
        assert item.data_problems == (
            "conflicting severity labels (SEV-1, SEV-3); severity unknown",
        )

    def test_a_severity_label_wins_over_the_form_dropdown(self) -> None:
        """Labels are what teams change later; the dropdown is the initial value."""
        raw = issue(labels=[{"name": "sev-2"}], body=form_body(severity="SEV-4"))
        assert mapped(raw).severity is Severity.SEV2

    def test_closed_issues_map_state_reason_to_resolution(self) -> None:
        """completed, not_planned and duplicate each have their resolution."""
        closed = {"state": "closed", "closed_at": "2026-11-21T00:00:00Z"}
        assert mapped(issue(**closed, state_reason="completed")).resolution is Resolution.DONE
        assert mapped(issue(**closed, state_reason="not_planned")).resolution is Resolution.WONT_DO
        assert mapped(issue(**closed, state_reason="duplicate")).resolution is Resolution.DUPLICATE
        odd = mapped(issue(**closed, state_reason="archived"))
        assert odd.resolution is Resolution.UNKNOWN
        assert odd.closed_at == datetime(2026, 11, 21, tzinfo=UTC)

    def test_a_waiver_in_the_form_is_read(self) -> None:
        """until DATE approved by @x: reason."""
        raw = issue(
            body=form_body(waiver="until 2026-12-31 approved by @carol: vendor fix pending")
        )
        waiver = mapped(raw).waiver
        assert waiver is not None
        assert (waiver.until, waiver.approver, waiver.reason) == (
            date(2026, 12, 31),
            "carol",
            "vendor fix pending",
        )

    def test_a_malformed_waiver_is_ignored_with_a_problem(self) -> None:
        """A waiver nobody can parse does not stop escalation."""
        item = mapped(issue(body=form_body(waiver="approved by my manager")))
        assert item.waiver is None
        assert item.data_problems == (
            "waiver not understood; write: until YYYY-MM-DD approved by @login: reason",
        )

    def test_a_team_sponsor_is_a_team_person(self) -> None:
        """@org/team is a team handle."""
        item = mapped(issue(body=form_body(sponsor="@acme/sre")))
        assert item.sponsor == Person(handle="acme/sre", is_team=True)

    def test_crlf_bodies_and_html_comments_are_read(self) -> None:
        """Bodies edited in the browser use CRLF; comments inside a section are dropped."""
        body = "### Sponsor\r\n\r\n<!-- who pays -->@dave\r\n\r\n### Team\r\n\r\nsre\r\n"
        item = mapped(issue(body=body))
        assert (item.sponsor, item.team) == (Person(handle="dave"), "sre")

    def test_no_response_sections_are_empty(self) -> None:
        """The issue form writes _No response_ for blank fields."""
        assert parse_sections(form_body()) == dict.fromkeys(SECTION_LABELS, "")


class TestBadData:
    @pytest.mark.parametrize(
        ("raw", "problem"),
        [
            ("not a dict", "payload is not a JSON object"),
            ({"title": "x"}, "issue has no number"),
            (
                {"number": 3, "repository_url": "https://api.github.com/repos/a/b"},
                "issue has neither created_at nor updated_at",
            ),
        ],
    )
    def test_unmappable_records_are_skipped_with_the_reason(self, raw: Any, problem: str) -> None:
        """No number or no timestamps at all: skipped, not raised."""
        result = map_issue(raw, config=CONFIG, policy=POLICY)
        assert isinstance(result, SkippedItem)
        assert result.problem == problem

    def test_malformed_parts_become_unknown_with_problems(self) -> None:
        """Wrong types in labels, assignees, state and title are reported, not fatal."""
        raw = issue(
            labels="sev-1",
            assignees=[{"id": 1}],
            state="weird",
            title=None,
            milestone={"due_on": "soon"},
            body=form_body(sponsor="a manager"),
        )
        item = mapped(raw)
        assert item.severity is Severity.UNKNOWN
        assert item.owners == ()
        assert item.state is State.OPEN
        assert item.due is None
        assert item.sponsor is None
        assert set(item.data_problems) == {
            "labels are not a list; ignored",
            "an assignee without a login was ignored",
            "state 'weird' not understood; treated as open",
            "issue has no title",
            "milestone due_on 'soon' is not a timestamp",
            "sponsor 'a manager' is not a GitHub @login or @org/team",
        }

    def test_arbitrary_corruption_never_raises(self) -> None:
        """Every top-level field replaced by junk still yields an item or a skip."""
        base = issue()
        for key in base:
            junk: Any
            for junk in (None, 5, "x", [], {}, [1, None]):
                raw = copy.deepcopy(base)
                raw[key] = junk
                result = map_issue(raw, config=CONFIG, policy=POLICY)
                assert isinstance(result, ActionItem | SkippedItem)

    def test_pull_requests_in_the_list_are_dropped(self) -> None:
        """A modern pull request in the issues list is not an item and not a skip."""
        pr = issue(
            number=8, pull_request={"url": "https://api.github.com/repos/acme/payments/pulls/8"}
        )
        items, skipped = map_issues([issue(), pr], config=CONFIG, policy=POLICY)
        assert [i.ref.key for i in items] == ["acme/payments#7"]
        assert skipped == []


class TestEvidence:
    def test_links_are_typed_by_the_core_classifier_the_same_as_on_jira(self) -> None:
        """A GitLab merge request is a pull request here too, a Grafana 'runbook' a dashboard."""
        body = form_body(
            evidence="https://gitlab.com/acme/api/-/merge_requests/3\n"
            "https://grafana.acme.io/d/abc/payments-runbook\n"
            "Load test passed"
        )
        item = mapped(issue(body=body))
        assert [(e.kind, e.url) for e in item.evidence] == [
            (EvidenceKind.PULL_REQUEST, "https://gitlab.com/acme/api/-/merge_requests/3"),
            (EvidenceKind.DASHBOARD, "https://grafana.acme.io/d/abc/payments-runbook"),
            (EvidenceKind.OTHER, None),
        ]

    def test_the_policys_own_link_rules_come_before_the_defaults(self) -> None:
        """A team's status page typed as a dashboard by its rule; the rest as before."""
        rule = EvidenceRule(links=[LinkRule(host=r"^status\.acme\.io$", kind="dashboard")])
        policy = POLICY.model_copy(update={"closure": Closure(evidence=rule)})
        body = form_body(
            evidence="https://status.acme.io/checkout\nhttps://github.com/acme/api/pull/5"
        )
        item = map_issue(issue(body=body), config=CONFIG, policy=policy)
        assert isinstance(item, ActionItem)
        assert [e.kind for e in item.evidence] == [
            EvidenceKind.DASHBOARD,
            EvidenceKind.PULL_REQUEST,
        ]
