"""The weekly review and operating log published to the Jira emulator through the applier.

REST v3 gets a real ADF document (headings, tables), v2 and Data Center wiki markup that shows
the trend chart attached as ``risk-trend.png``; a rerun with the same report writes nothing,
and a changed chart replaces the attachment instead of piling up copies.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from syncer.cli.report import publish
from syncer.core.actions import UpsertReport
from syncer.core.apply import ApplyResult
from syncer.core.evaluate import evaluate
from syncer.core.ledger import MemoryLedger
from syncer.core.model import Priority, Severity
from syncer.core.policy import Policy, Report
from syncer.core.tracker_config import Trackers
from syncer.report import build_report, report_changes
from syncer.report.model import WeeklyReport
from syncer.service.wiring import document_renderer
from tests.builders import NOW, example_policy, item, merged_pr
from tests.jira.conftest import Site


def policy_for(site: Site, version: str) -> Policy:
    tracker = site.config(rest_api_version=version)
    return example_policy().model_copy(
        update={"trackers": Trackers(jira=[tracker]), "report": Report()}
    )


def weekly(policy: Policy, overdue_days: int = 18) -> WeeklyReport:
    items = [
        item(
            "REL-900",
            priority=Priority.P0,
            severity=Severity.SEV1,
            due=date.fromordinal(NOW.date().toordinal() - overdue_days),
        ),
        item("REL-901", closed_days_ago=2, evidence=(merged_pr(),)),
    ]
    return build_report(evaluate(items, policy, NOW), policy, NOW)


def publish_to(site: Site, policy: Policy, report: WeeklyReport) -> ApplyResult:
    connector = site.connector(policy, rest_api_version=policy.trackers.jira[0].rest_api_version)
    result = publish(
        report, policy, [connector], MemoryLedger(), site.clock, tracker_name="jira", cycle_id="t"
    )
    assert [f.error for f in result.failed] == []
    return result


def review_key(site: Site) -> str:
    (key,) = [i.key for i in site.emulator.issues.values() if "pmsync/weekly-review" in i.labels]
    return key


def log_key(site: Site) -> str:
    (key,) = [i.key for i in site.emulator.issues.values() if "pmsync/operating-log" in i.labels]
    return key


def writes(site: Site) -> dict[tuple[str, str], int]:
    return {(m, p): n for (m, p, _), n in site.requests().items() if m != "GET"}


class TestAdfOnRestV3:
    def test_the_review_description_is_an_adf_document_not_json_text(
        self, cloud_site: Site
    ) -> None:
        """Headings and tables arrive as ADF nodes; no paragraph holds the document as text."""
        policy = policy_for(cloud_site, "3")
        publish_to(cloud_site, policy, weekly(policy))
        description: Any = cloud_site.emulator.get_issue(review_key(cloud_site)).description
        assert isinstance(description, dict)
        kinds = [node["type"] for node in description["content"]]
        assert kinds[0] == "heading"
        assert "table" in kinds
        texts = [
            part.get("text", "")
            for node in description["content"]
            for part in node.get("content", [])
        ]
        assert not any(t.startswith('{"type"') for t in texts)
        assert description["content"][0]["content"][0]["text"] == "Reliability review 2026-W48"

    def test_the_log_comment_is_an_adf_document(self, cloud_site: Site) -> None:
        """The operating-log entry is posted as ADF too."""
        policy = policy_for(cloud_site, "3")
        publish_to(cloud_site, policy, weekly(policy))
        (comment,) = cloud_site.emulator.get_issue(log_key(cloud_site)).comments
        assert isinstance(comment.body, dict)
        assert comment.body["content"][0]["type"] == "heading"

    def test_the_chart_is_named_in_the_document_and_attached(self, cloud_site: Site) -> None:
        """ADF cannot embed a REST upload by name, so it points at the attachment."""
        policy = policy_for(cloud_site, "3")
        publish_to(cloud_site, policy, weekly(policy))
        key = review_key(cloud_site)
        assert "risk-trend.png, attached to this issue." in json.dumps(
            cloud_site.emulator.get_issue(key).description
        )
        ((name, data),) = cloud_site.emulator.attachments_of(key)
        assert name == "risk-trend.png"
        assert data.startswith(b"\x89PNG\r\n\x1a\n")


class TestWikiAndChart:
    def test_the_wiki_description_shows_the_attached_chart(self, site: Site) -> None:
        """REST v2 (Cloud) and Data Center: wiki markup with !risk-trend.png! and the PNG."""
        policy = policy_for(site, "2")
        report = weekly(policy)
        publish_to(site, policy, report)
        key = review_key(site)
        description = site.emulator.get_issue(key).description
        assert isinstance(description, str)
        assert description.startswith("h1. Reliability review 2026\\-W48")
        assert "\n!risk-trend.png!\n" in description
        (upsert, *_) = report_changes(report, policy, "jira", document_renderer(policy, "jira"))[
            0
        ].actions
        assert isinstance(upsert, UpsertReport)
        assert site.emulator.attachments_of(key) == [
            ("risk-trend.png", upsert.attachments["risk-trend.png"])
        ]
        (listed,) = site.emulator.issue(key)["fields"]["attachment"]
        assert (listed["filename"], listed["mimeType"]) == ("risk-trend.png", "image/png")
        assert listed["size"] == len(upsert.attachments["risk-trend.png"])
        digest = hashlib.sha256(upsert.attachments["risk-trend.png"]).hexdigest()
        assert site.emulator.properties(key)["pmsync.report"]["files"] == {"risk-trend.png": digest}

    def test_a_rerun_with_the_same_report_writes_nothing(self, site: Site) -> None:
        """Same week, same data: one search per upsert, no edit, no upload, no comment edit."""
        policy = policy_for(site, "2")
        publish_to(site, policy, weekly(policy))
        site.reset()
        again = publish_to(site, policy, weekly(policy))
        assert writes(site) == {}
        assert [d.outcome for d in again.done] == ["skipped", "skipped"]
        assert len(site.emulator.attachments_of(review_key(site))) == 1

    def test_a_changed_chart_replaces_the_attachment(self, site: Site) -> None:
        """New numbers: the description is edited, the PNG uploaded once and the old one deleted."""
        policy = policy_for(site, "2")
        publish_to(site, policy, weekly(policy))
        site.reset()
        changed = weekly(policy, overdue_days=40)
        publish_to(site, policy, changed)
        counted = writes(site)
        assert counted[("POST", "/rest/api/2/issue/{issueIdOrKey}/attachments")] == 1
        assert counted[("DELETE", "/rest/api/2/attachment/{id}")] == 1
        assert counted[("PUT", "/rest/api/2/issue/{issueIdOrKey}")] == 1
        (upsert, *_) = report_changes(changed, policy, "jira", document_renderer(policy, "jira"))[
            0
        ].actions
        assert isinstance(upsert, UpsertReport)
        assert site.emulator.attachments_of(review_key(site)) == [
            ("risk-trend.png", upsert.attachments["risk-trend.png"])
        ]

    def test_two_copies_left_by_a_dead_run_are_reduced_to_one(self, site: Site) -> None:
        """Upload-then-delete interrupted leaves two files of one name; the next run cleans up."""
        policy = policy_for(site, "2")
        report = weekly(policy)
        publish_to(site, policy, report)
        key = review_key(site)
        (upsert, *_) = report_changes(report, policy, "jira", document_renderer(policy, "jira"))[
            0
        ].actions
        assert isinstance(upsert, UpsertReport)
        connector = site.connector(policy)
        connector.http.attach(key, "risk-trend.png", upsert.attachments["risk-trend.png"])
        assert len(site.emulator.attachments_of(key)) == 2
        publish_to(site, policy, report)
        assert site.emulator.attachments_of(key) == [
            ("risk-trend.png", upsert.attachments["risk-trend.png"])
        ]
