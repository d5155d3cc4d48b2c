"""The prevention roadmap groups by incident: one row per incident however items refer to it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from syncer.core.config_loader import load_model_file
from syncer.core.errors import ConfigError
from syncer.core.evaluate import evaluate
from syncer.core.model import ActionItem
from syncer.core.policy import Policy
from syncer.core.policy_operations import DEFAULT_INCIDENT_ID
from syncer.report import build_report
from syncer.report.render_html import render_html
from syncer.report.roadmap import NO_INCIDENT, incident_group
from tests.builders import NOW, example_policy, item
from tests.report.renderings import render_markdown, render_wiki

POLICY = example_policy()
DEFAULT = re.compile(DEFAULT_INCIDENT_ID, re.IGNORECASE)
GITHUB_PM = "https://github.com/acme/postmortems/blob/main/2026/INC-2041-checkout-outage.md"
WIKI_PM = "https://wiki.acme.test/postmortems/2026/INC-2041-checkout-outage"


def on(key: str, incident: str | None, due: date = date(2026, 12, 10)) -> ActionItem:
    return item(key, due=due).model_copy(update={"incident": incident})


class TestIncidentGroup:
    @pytest.mark.parametrize(
        "reference",
        [GITHUB_PM, WIKI_PM, "INC-2041", "inc-2041", " INC-2041 ", f"{WIKI_PM}/"],
    )
    def test_a_url_and_a_key_naming_one_incident_are_one_group(self, reference: str) -> None:
        assert incident_group(reference, DEFAULT) == ("INC-2041", "INC-2041")

    def test_ids_with_several_numbers_keep_them_all(self) -> None:
        """The postmortem tool's ids (INC-2026-042) are not cut at the first dash."""
        assert incident_group("https://x.test/pm/INC-2026-042-db.md", DEFAULT)[0] == "INC-2026-042"
        assert incident_group("INC-2026-041", DEFAULT)[0] == "INC-2026-041"

    def test_a_jira_browse_url_groups_with_its_key(self) -> None:
        assert incident_group("https://acme.atlassian.net/browse/OPS-77", DEFAULT)[0] == "OPS-77"
        assert incident_group("OPS-77", DEFAULT)[0] == "ops-77"  # text: by itself
        assert incident_group("https://acme.atlassian.net/browse/ops-77/", DEFAULT)[0] == "OPS-77"

    def test_other_references_group_by_themselves_without_noise(self) -> None:
        """Host case and a trailing slash do not split a group; the label is kept as given."""
        a = incident_group("https://Docs.Example.test/d/abc/", DEFAULT)
        b = incident_group("https://docs.example.test/d/abc", DEFAULT)
        assert a[0] == b[0] == "https://docs.example.test/d/abc"
        assert a[1] == "https://Docs.Example.test/d/abc/"

    def test_severity_words_and_host_names_are_not_taken_for_ids(self) -> None:
        assert incident_group("https://pm-2.example.test/sev-1-outage", DEFAULT)[0] == (
            "https://pm-2.example.test/sev-1-outage"
        )

    def test_no_reference_is_the_no_incident_group(self) -> None:
        assert incident_group(None, DEFAULT) == (NO_INCIDENT, NO_INCIDENT)
        assert incident_group("  ", DEFAULT) == (NO_INCIDENT, NO_INCIDENT)

    def test_a_pattern_with_an_id_group_names_the_group_by_it(self) -> None:
        custom = re.compile(r"postmortems/(?P<id>\d{4}-\d{2}-[a-z]+)", re.IGNORECASE)
        assert incident_group("https://w.test/postmortems/2026-11-payments", custom)[0] == (
            "2026-11-PAYMENTS"
        )


class TestRoadmapRows:
    def report(self, items: list[ActionItem]):  # type: ignore[no-untyped-def]
        return build_report(evaluate(items, POLICY, NOW), POLICY, NOW)

    def test_one_incident_referenced_three_ways_is_one_row_with_its_links(self) -> None:
        items = [
            on("acme/api#1", GITHUB_PM, date(2026, 11, 1)),
            on("acme/api#2", WIKI_PM),
            on("acme/api#3", "INC-2041"),
            on("acme/api#4", "INC-2047"),
        ]
        report = self.report(items)
        rows = [(g.incident, g.open, g.overdue, g.references) for g in report.roadmap_by_incident]
        assert rows == [
            ("INC-2041", 3, 1, (GITHUB_PM, WIKI_PM)),
            ("INC-2047", 1, 0, ()),
        ]
        assert [m.incidents for m in report.roadmap_by_month] == [1, 2]

    def test_the_row_links_each_postmortem_by_its_host_in_every_format(self) -> None:
        report = self.report([on("acme/api#1", GITHUB_PM), on("acme/api#2", WIKI_PM)])
        markdown = render_markdown(report)
        assert f"| INC-2041 ([github.com]({GITHUB_PM}), [wiki.acme.test]({WIKI_PM})) |" in markdown
        html = render_html(report)
        assert "<td>INC-2041 (<a" in html
        assert f'<a href="{GITHUB_PM}">github.com</a>' in html
        wiki = render_wiki(report)
        assert "wiki.acme.test" in wiki

    def test_a_row_whose_only_reference_is_a_url_links_that_url(self) -> None:
        doc = "https://docs.example.test/d/abc"
        report = self.report([on("acme/api#1", doc)])
        assert f"| [{doc}]({doc}) |" in render_markdown(report)

    def test_the_policy_can_name_its_own_incident_ids(self) -> None:
        policy = POLICY.model_copy(
            update={
                "report": POLICY.report.model_copy(
                    update={"incident_id_pattern": r"postmortems/(?P<id>\d{4}-\d{2}-[a-z]+)"}
                )
            }
        )
        items = [
            on("acme/api#1", "https://w.test/postmortems/2026-11-payments"),
            on("acme/api#2", "https://v.test/postmortems/2026-11-payments/timeline"),
        ]
        report = build_report(evaluate(items, policy, NOW), policy, NOW)
        assert [(g.incident, g.open) for g in report.roadmap_by_incident] == [
            ("2026-11-PAYMENTS", 2)
        ]

    def test_a_pattern_that_is_not_a_regular_expression_is_a_config_error(
        self, tmp_path: Path
    ) -> None:
        bad = tmp_path / "policy.yaml"
        bad.write_text("version: '1'\nreport:\n  incident_id_pattern: 'INC-(\\d+'\n")
        with pytest.raises(ConfigError) as caught:
            load_model_file(Policy, bad)
        [problem] = caught.value.problems
        assert problem.startswith(f"{bad}:3:3: report.incident_id_pattern: ")
        assert "not a regular expression" in problem
