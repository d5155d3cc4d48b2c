"""pmsync without its extras: what works, and the one line that says what to install.

Each test runs ``pmsync`` in a fresh interpreter whose import system refuses matplotlib and
psycopg (``tests/packaging/blocked.py``), against emulators this test started, so what it
proves is what a plain ``pip install postmortem-sync`` gives a user.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.emulators.github import GitHubEmulator
from connectors.jira.renderer_document import JiraDocuments
from syncer.core.extras import CHARTS, POSTGRES, MissingExtra, available, require
from syncer.report.publish import CHART_MISSING_NOTE, report_bodies
from tests.jira.conftest import EMAIL, Site
from tests.jira.conftest import TOKEN as JIRA_TOKEN
from tests.packaging.support import REPO, run_blocked
from tests.report.test_publish import jira_policy, sample_report
from tests.service.support import TOKEN, TOKEN_ENV, add_overdue, policy_dict, seed_repo

ITEMS = REPO / "config" / "examples" / "items.json"
NOW = "2026-11-23T09:00:00+00:00"
POSTGRES_LINE = (
    "a PostgreSQL state store (PMSYNC_STATE_URL or --state) needs psycopg, which is not "
    "installed: pip install 'postmortem-sync[postgres]'"
)


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN)
    emu.start()
    seed_repo(emu)
    try:
        yield emu
    finally:
        emu.stop()


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


class TestWithoutChartsOrPostgres:
    """A plain install plans, runs and reports on SQLite without ever touching either."""

    def test_plan_and_run_import_neither_matplotlib_nor_psycopg(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        """Neither is imported, or even asked for, by a plan and a cycle against GitHub."""
        numbers = add_overdue(github, 2)
        policy = write_yaml(tmp_path / "pmsync.yaml", policy_dict(github.base_url))
        state = f"sqlite:///{tmp_path / 'state.db'}"
        env = {TOKEN_ENV: TOKEN}
        plan = run_blocked(
            tmp_path, ["plan", "--config", str(policy), "--state", state, "--json"], env=env
        )
        assert (plan.code, plan.refused, plan.imported) == (0, [], [])
        assert json.loads(plan.stdout)["summary"]["writes"] == 4  # a comment and a label per item
        run = run_blocked(
            tmp_path, ["run", "--once", "--config", str(policy), "--state", state], env=env
        )
        assert (run.code, run.refused, run.imported) == (0, [], [])
        assert all("pmsync/overdue" in github.labels_of("acme/api", n) for n in numbers)

    def test_a_github_review_needs_no_chart_support(self, tmp_path: Path) -> None:
        """GitHub shows the Mermaid chart: the review files are written without matplotlib."""
        policy = write_yaml(
            tmp_path / "pmsync.yaml",
            {"version": "t-1", "report": {"formats": ["markdown", "html", "json"]}},
        )
        out = tmp_path / "out"
        args = ["report", "--config", str(policy), "--items", str(ITEMS), "--now", NOW]
        result = run_blocked(tmp_path, [*args, "--dry-run", "--out", str(out)])
        assert (result.code, result.refused, result.imported) == (0, [], [])
        assert sorted(p.suffix for p in out.iterdir()) == [".html", ".json", ".md"]


class TestJiraReviewWithoutCharts:
    """The Jira review is published all the same: trend table, a note, no attachment."""

    def test_the_review_is_published_with_the_note_and_no_attachment(
        self, site: Site, tmp_path: Path
    ) -> None:
        """Wiki markup (Cloud v2, Data Center): the note where the chart stood; a warning."""
        tracker = site.config(rest_api_version="2").model_dump(mode="json", exclude_none=True)
        tracker["token_env"] = "PMSYNC_TEST_JIRA_TOKEN"
        policy = write_yaml(
            tmp_path / "pmsync.yaml",
            {"version": "t-1", "trackers": {"jira": [tracker]}, "report": {"enabled": True}},
        )
        env = {"PMSYNC_TEST_JIRA_TOKEN": JIRA_TOKEN, "JIRA_EMAIL": EMAIL}
        args = ["report", "--config", str(policy), "--items", str(ITEMS), "--now", NOW]
        result = run_blocked(tmp_path, args, env=env)
        assert result.code == 0, result.stderr
        assert result.refused == ["matplotlib"]
        (review,) = [i for i in site.emulator.issues.values() if "pmsync/weekly-review" in i.labels]
        description = str(site.emulator.get_issue(review.key).description)
        assert "The trend chart is not attached" in description
        assert "postmortem\\-sync\\[charts\\]" in description  # escaped for wiki markup
        assert "!risk-trend.png!" not in description
        assert "||Week||" in description  # the trend table is there
        assert site.emulator.attachments_of(review.key) == []
        (warning,) = [
            e for e in result.log_events() if e.get("event", "").startswith("weekly review")
        ]
        assert warning["level"] == "warning"
        assert CHARTS.install in str(warning["reason"])

    def test_a_dry_run_says_the_chart_is_missing(self, cloud_site: Site, tmp_path: Path) -> None:
        """What would be published names the missing extra instead of an attachment."""
        tracker = cloud_site.config(rest_api_version="3").model_dump(mode="json", exclude_none=True)
        policy = write_yaml(
            tmp_path / "pmsync.yaml", {"version": "t-1", "trackers": {"jira": [tracker]}}
        )
        args = ["report", "--config", str(policy), "--items", str(ITEMS), "--now", NOW]
        result = run_blocked(tmp_path, [*args, "--dry-run"])
        assert result.code == 0, result.stderr
        assert f"no trend chart ({CHARTS.install})" in " ".join(result.stdout.split())


class TestMissingExtraMessages:
    """Asking for a part that is not installed: exit 2 and one line naming the pip command."""

    def test_a_png_report_format_without_matplotlib(self, tmp_path: Path) -> None:
        """report.formats: png fails before reading anything, in one line."""
        policy = write_yaml(
            tmp_path / "pmsync.yaml", {"version": "t-1", "report": {"formats": ["json", "png"]}}
        )
        out = tmp_path / "out"
        args = ["report", "--config", str(policy), "--items", str(ITEMS), "--now", NOW]
        result = run_blocked(tmp_path, [*args, "--dry-run", "--out", str(out)])
        assert result.code == 2
        assert result.problem_lines() == [
            "report.formats: png needs matplotlib, which is not installed: "
            "pip install 'postmortem-sync[charts]'"
        ]
        assert not out.exists()

    @pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
    def test_a_postgresql_state_url_without_psycopg(
        self, github: GitHubEmulator, tmp_path: Path, scheme: str
    ) -> None:
        """plan --state postgresql://... says what to install, and never shows the password."""
        policy = write_yaml(tmp_path / "pmsync.yaml", policy_dict(github.base_url))
        url = f"{scheme}://pmsync:hunter2@127.0.0.1:5432/test"
        result = run_blocked(
            tmp_path, ["plan", "--config", str(policy), "--state", url], env={TOKEN_ENV: TOKEN}
        )
        assert result.code == 2
        assert result.problem_lines() == [POSTGRES_LINE]
        assert "hunter2" not in result.stderr + result.stdout

    def test_the_daemon_with_a_postgresql_url_without_psycopg(
        self, github: GitHubEmulator, tmp_path: Path
    ) -> None:
        """PMSYNC_STATE_URL on PostgreSQL stops the daemon at start with the same line."""
        policy = write_yaml(tmp_path / "pmsync.yaml", policy_dict(github.base_url))
        env = {
            TOKEN_ENV: TOKEN,
            "PMSYNC_STATE_URL": "postgresql://pmsync:hunter2@127.0.0.1:5432/test",
            "PMSYNC_HEALTH_PORT": "0",
        }
        result = run_blocked(tmp_path, ["daemon", "--config", str(policy)], env=env, timeout=60)
        assert result.code == 2
        assert result.problem_lines() == [POSTGRES_LINE]
        assert "hunter2" not in result.stderr

    def test_another_postgresql_driver_that_is_missing(self, tmp_path: Path) -> None:
        """postgresql+psycopg2:// without psycopg2: the driver is named, with the hint."""
        policy = write_yaml(tmp_path / "pmsync.yaml", {"version": "t-1"})
        url = "postgresql+psycopg2://pmsync:hunter2@127.0.0.1:5432/test"
        result = run_blocked(
            tmp_path,
            ["report", "--config", str(policy), "--state", url, "--items", str(ITEMS)],
            block=("psycopg2",),
        )
        assert result.code == 2
        assert result.problem_lines() == [
            "state store URL: the psycopg2 driver is not installed (hint: "
            "postgresql+psycopg://USER@HOST:PORT/DB with pip install 'postmortem-sync[postgres]')"
        ]


class TestExtrasModule:
    """The one table of extras and its messages."""

    def test_the_message_names_the_part_the_module_and_the_command(self) -> None:
        """One line: what needed it, which module is missing, the quoted pip command."""
        error = MissingExtra(POSTGRES, "a PostgreSQL state store")
        assert error.problems == [
            "a PostgreSQL state store needs psycopg, which is not installed: "
            "pip install 'postmortem-sync[postgres]'"
        ]

    def test_installed_extras_are_available_here(self) -> None:
        """The test environment has both (the dev extra pulls them in), so require passes."""
        assert available(CHARTS)
        assert available(POSTGRES)
        require(CHARTS, "the tests")
        require(POSTGRES, "the tests")

    def test_the_chart_note_names_the_extra(self) -> None:
        """The note a Jira review carries without the chart says what to install."""
        assert "postmortem-sync[charts]" in CHART_MISSING_NOTE
        assert "\n" not in CHART_MISSING_NOTE


class TestChartNoteRendering:
    """Where the chart would stand, each Jira markup says why it is not there."""

    def test_the_adf_body_carries_the_note_as_an_emphasised_paragraph(self) -> None:
        """ADF (REST v3): an em-marked paragraph with the note's exact text, no attachment."""
        policy = jira_policy("3")
        bodies = report_bodies(
            sample_report(policy),
            policy,
            "jira",
            chart=None,
            chart_note=CHART_MISSING_NOTE,
            renderer=JiraDocuments("3"),
        )
        document = json.loads(bodies["adf"])
        notes = [
            node["content"][0]
            for node in document["content"]
            if node["type"] == "paragraph"
            and node["content"]
            and node["content"][0]["text"] == CHART_MISSING_NOTE
        ]
        assert notes == [{"type": "text", "text": CHART_MISSING_NOTE, "marks": [{"type": "em"}]}]
        assert "attached to this issue" not in bodies["adf"]

    def test_with_the_chart_attached_there_is_no_note(self) -> None:
        """The note replaces the chart only when there is no attachment."""
        policy = jira_policy("2")
        bodies = report_bodies(
            sample_report(policy),
            policy,
            "jira",
            chart="risk-trend.png",
            chart_note=CHART_MISSING_NOTE,
            renderer=JiraDocuments("2"),
        )
        assert "\n!risk-trend.png!\n" in bodies["wiki"]
        assert "trend chart is not attached" not in bodies["wiki"]
