"""Publishing: the writes a report makes, through the applier, and reruns that write nothing."""

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from connectors.github.renderer import GitHubDocuments
from connectors.jira.renderer_document import JiraDocuments
from syncer.cli.report import Sources, publish, register, run
from syncer.core.actions import UpsertLogEntry, UpsertReport
from syncer.core.document import Chart, Document, Paragraph, Span, Table
from syncer.core.errors import ConfigError
from syncer.core.evaluate import evaluate
from syncer.core.ledger import LedgerEntry, MemoryLedger
from syncer.core.model import Priority, Severity
from syncer.core.policy import Operations, Policy, Report
from syncer.core.tracker_config import JiraTracker, Trackers
from syncer.report import build_report, report_changes, report_tracker
from syncer.report.model import WeeklyReport
from syncer.report.publish import CHART_FILE, CHART_MISSING_NOTE, fit
from tests.builders import EXAMPLE_POLICY, NOW, REPO, example_policy, item, merged_pr
from tests.fakes import FakeTracker

POLICY = example_policy()
ITEMS = REPO / "config" / "examples" / "items.json"


FRIDAY = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 2026-W48 under way
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def sample_report(policy: Policy = POLICY) -> WeeklyReport:
    """W48 as of Friday: two actions filed on Tuesday, one of them closed on Wednesday."""
    filed = {"created_at": TUESDAY, "updated_at": TUESDAY}
    closed = TUESDAY + timedelta(days=1)
    items = [
        item(
            "acme/api#1", priority=Priority.P0, severity=Severity.SEV1, due=date(2026, 11, 5)
        ).model_copy(update=filed),
        item("acme/api#2", closed_days_ago=2, evidence=(merged_pr(),)).model_copy(
            update={**filed, "updated_at": closed, "closed_at": closed}
        ),
    ]
    return build_report(evaluate(items, policy, FRIDAY), policy, FRIDAY)


def jira_policy(version: str) -> Policy:
    jira = JiraTracker(name="jira", server="https://acme.atlassian.net", rest_api_version=version)
    return POLICY.model_copy(update={"trackers": Trackers(jira=[jira]), "report": Report()})


class RecordingRenderer:
    """A tracker's renderer as the core sees it: a markup name, a size limit, no chart drawing.

    It writes each document as its block kinds and table row counts, and keeps every document
    it was handed, so a test can see what the core asked for.
    """

    markups = ("plain",)
    published = "plain"
    attaches_charts = True

    def __init__(self, body_limit: int = 1_000_000) -> None:
        self.body_limit = body_limit
        self.documents: list[Document] = []

    def render(self, document: Document, markup: str) -> str:
        assert markup == "plain"
        self.documents.append(document)
        return (
            "\n".join(
                f"{type(b).__name__}:{len(b.rows)}" if isinstance(b, Table) else type(b).__name__
                for b in document.blocks
            )
            + "x" * sum(len(b.rows) for b in document.blocks if isinstance(b, Table)) * 100
        )


class TestRenderersHandedIn:
    """publish knows no tracker: the renderer it is handed decides markups and limits."""

    def test_bodies_come_in_the_renderers_markups_only(self) -> None:
        """A renderer with one markup gets one body for the review and one for the log."""
        renderer = RecordingRenderer()
        review, log = report_changes(sample_report(), POLICY, "github", renderer)
        upsert, entry = review.actions[0], log.actions[0]
        assert isinstance(upsert, UpsertReport)
        assert isinstance(entry, UpsertLogEntry)
        assert set(upsert.bodies) == {"plain"}
        assert set(entry.bodies) == {"plain"}
        assert [d.title for d in renderer.documents][-1] == "2026-W48 operating log"

    def test_a_body_over_the_limit_is_rendered_again_with_half_the_rows(self) -> None:
        """The core halves the rows per table until the body fits the renderer's limit."""
        asked: list[int] = []

        def build(rows: int) -> Document:
            asked.append(rows)
            return Document("t", (Table(("h",), tuple(((Span("x"),),) for _ in range(rows))),))

        body = fit(build, RecordingRenderer(body_limit=350), "plain", 20)
        assert asked == [20, 10, 5, 2]
        assert body == "Table:2" + "x" * 200

    def test_a_tracker_that_draws_no_chart_gets_the_note_or_the_attachment(self) -> None:
        """Without the PNG, the chart stands as the note saying why; with it, it names it."""
        renderer = RecordingRenderer()
        upsert = report_changes(sample_report(), POLICY, "github", renderer)[0].actions[0]
        assert isinstance(upsert, UpsertReport)
        review = renderer.documents[0]
        charts = [b for b in review.blocks if isinstance(b, Chart)]
        if upsert.attachments:
            assert [c.attachment for c in charts] == [CHART_FILE]
        else:
            assert not charts
            assert Paragraph((Span(CHART_MISSING_NOTE),), "note") in review.blocks


class TestReportChanges:
    def test_one_review_upsert_and_one_log_entry_for_the_week(self) -> None:
        """Label, week key, title, close_previous and the hidden marker in the GitHub body."""
        report_change, log_change = report_changes(
            sample_report(), POLICY, "github", GitHubDocuments()
        )
        (upsert,) = report_change.actions
        (entry,) = log_change.actions
        assert isinstance(upsert, UpsertReport)
        assert isinstance(entry, UpsertLogEntry)
        assert (upsert.tracker, upsert.week_key, upsert.label, upsert.title) == (
            "github",
            "2026-W48",
            "pmsync/weekly-review",
            "Reliability review 2026-W48",
        )
        assert upsert.close_previous is True
        assert list(upsert.bodies) == ["markdown"]
        assert upsert.attachments == {}
        assert upsert.bodies["markdown"].endswith("\n\n<!-- pmsync:report:2026-W48 -->")
        assert entry.bodies["markdown"].endswith("\n\n<!-- pmsync:log:2026-W48 -->")
        assert (entry.log_label, entry.log_title, entry.week_key) == (
            "pmsync/operating-log",
            "Reliability operating log",
            "2026-W48",
        )
        assert "**Closures accepted (1)**" in entry.bodies["markdown"]
        assert "**Roadmap: actions added (2)**" in entry.bodies["markdown"]

    def test_a_jira_review_carries_wiki_and_adf_bodies_and_the_chart(self) -> None:
        """Jira gets wiki markup and an ADF document (JSON text), the PNG, and the log likewise."""
        upsert, entry = (
            c.actions[0]
            for c in report_changes(sample_report(), jira_policy("2"), "jira", JiraDocuments("2"))
        )
        assert isinstance(upsert, UpsertReport)
        assert isinstance(entry, UpsertLogEntry)
        assert sorted(upsert.bodies) == sorted(entry.bodies) == ["adf", "wiki"]
        assert upsert.bodies["wiki"].startswith("h1. Reliability review 2026\\-W48")
        assert "\n!risk-trend.png!\n" in upsert.bodies["wiki"]
        document = json.loads(upsert.bodies["adf"])
        assert document["type"] == "doc"
        assert document["content"][0]["type"] == "heading"
        assert json.loads(entry.bodies["adf"])["type"] == "doc"
        assert list(upsert.attachments) == ["risk-trend.png"]
        assert upsert.attachments["risk-trend.png"].startswith(b"\x89PNG\r\n\x1a\n")

    def test_the_plan_as_json_describes_the_chart_instead_of_dumping_it(self) -> None:
        """--json output stays text: an attachment shows as its size and digest."""
        upsert = report_changes(sample_report(), jira_policy("3"), "jira", JiraDocuments("3"))[
            0
        ].actions[0]
        assert isinstance(upsert, UpsertReport)
        dumped = upsert.model_dump(mode="json")["attachments"]["risk-trend.png"]
        size = len(upsert.attachments["risk-trend.png"])
        assert dumped.startswith(f"{size} bytes, sha256 ")

    def test_the_report_tracker_is_the_configured_one_or_the_first(self) -> None:
        """report.tracker wins; without it the first configured tracker is used."""
        assert report_tracker(POLICY) == "github"
        assert report_tracker(jira_policy("2")) == "jira"
        other = POLICY.model_copy(update={"report": Report(tracker="jira-ops")})
        assert report_tracker(other) == "jira-ops"


class TestPublishThroughTheApplier:
    def test_a_second_publish_of_the_same_week_writes_nothing(self) -> None:
        """The fake tracker records a write only when a body changes: a rerun converges."""
        fake = FakeTracker("github", clock=lambda: NOW)
        ledger = MemoryLedger()
        first = publish(
            sample_report(),
            POLICY,
            [fake],
            ledger,
            lambda: NOW,
            tracker_name="github",
            cycle_id="a",
        )
        assert fake.writes == [
            ("upsert_report", "2026-W48", ("pmsync/weekly-review",)),
            ("upsert_log_entry", "2026-W48", ("pmsync/operating-log",)),
        ]
        assert [d.outcome for d in first.done] == ["done", "done"]
        publish(
            sample_report(),
            POLICY,
            [fake],
            ledger,
            lambda: NOW,
            tracker_name="github",
            cycle_id="b",
        )
        assert len(fake.writes) == 2
        assert [(e.kind, e.item_key) for e in ledger.entries][:2] == [
            ("upsert_report", "2026-W48"),
            ("upsert_log_entry", "2026-W48"),
        ]

    def test_the_write_budget_defers_the_log_entry_rather_than_dropping_it(self) -> None:
        """With one write left the review goes out and the log entry waits as backlog."""
        policy = POLICY.model_copy(update={"operations": Operations(max_writes_per_cycle=1)})
        fake = FakeTracker("github", clock=lambda: NOW)
        result = publish(
            sample_report(policy),
            policy,
            [fake],
            MemoryLedger(),
            lambda: NOW,
            tracker_name="github",
            cycle_id="a",
        )
        assert [w[0] for w in fake.writes] == ["upsert_report"]
        assert [d.key for d in result.backlog] == ["log:github:2026-W48"]


def args_for(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pmsync")
    register(parser.add_subparsers())
    return parser.parse_args(["report", "--config", str(EXAMPLE_POLICY), *argv])


class TestCommand:
    def test_dry_run_writes_the_files_and_publishes_nothing(self, tmp_path: Path) -> None:
        """Markdown, HTML and JSON land in --out; the would-be writes are printed."""
        console = Console(record=True, width=200)
        code = run(
            args_for(
                "--items",
                str(ITEMS),
                "--now",
                "2026-11-23T09:00:00Z",
                "--dry-run",
                "--out",
                str(tmp_path),
            ),
            console,
            console,
            clock=lambda: NOW,
        )
        assert code == 0
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "reliability-review-2026-W48.html",
            "reliability-review-2026-W48.json",
            "reliability-review-2026-W48.md",
        ]
        printed = console.export_text()
        assert "dry run: would upsert_report 2026-W48 in github" in printed
        assert "dry run: would upsert_log_entry 2026-W48 in github" in printed

    def test_a_past_week_is_built_as_of_its_end(self, tmp_path: Path) -> None:
        """--week 2026-W47 names the files W47 and covers W47: 2026-11-16 to 2026-11-22."""
        console = Console(record=True, width=200)
        run(
            args_for(
                "--items", str(ITEMS), "--week", "2026-W47", "--dry-run", "--out", str(tmp_path)
            ),
            console,
            console,
            clock=lambda: NOW,
        )
        data = json.loads((tmp_path / "reliability-review-2026-W47.json").read_text())
        assert (data["header"]["period_start"], data["header"]["period_end"]) == (
            "2026-11-16",
            "2026-11-22",
        )

    def test_a_malformed_week_is_bad_input(self) -> None:
        """--week 47 is a ConfigError, which pmsync turns into exit code 2."""
        with pytest.raises(ConfigError, match="--week"):
            run(
                args_for("--items", str(ITEMS), "--week", "47", "--dry-run"),
                Console(),
                Console(),
                clock=lambda: NOW,
            )

    def test_publishing_twice_in_the_same_week_changes_nothing_the_second_time(self) -> None:
        """The command publishes through the applier; the rerun finds nothing to change."""
        fake = FakeTracker("github", clock=lambda: NOW)
        ledger = MemoryLedger()

        @contextmanager
        def connect(
            _policy: Policy, _state: str | None, _trackers: bool, _store: bool
        ) -> Iterator[Sources]:
            yield Sources(trackers=[fake], ledger=ledger)

        later = datetime(2026, 11, 23, 15, 30, tzinfo=NOW.tzinfo)
        for moment in (NOW, later):
            code = run(
                args_for("--items", str(ITEMS)),
                Console(),
                Console(),
                clock=lambda moment=moment: moment,
                connect=connect,
            )
            assert code == 0
        assert [w[0] for w in fake.writes] == ["upsert_report", "upsert_log_entry"]


class TestWithTheStateStore:
    def test_the_command_reads_the_ledger_and_daily_counts_from_the_store(
        self, tmp_path: Path
    ) -> None:
        """A decision in the store's ledger and a measured day show up in the files."""
        from syncer.state import StateStore

        url = f"sqlite:///{(tmp_path / 'state.db').as_posix()}"
        store = StateStore.open(url)
        try:
            store.record(
                [
                    LedgerEntry(
                        at=datetime(2026, 11, 18, 10, tzinfo=NOW.tzinfo),
                        cycle_id="c1",
                        tracker="github",
                        item_key="acme/api#42",
                        kind="waiver_granted",
                        rule="waiver.active",
                        policy_version="v",
                        outcome="decided",
                        inputs={"approver": "cto"},
                        detail="waived until 2026-12-31 by cto",
                        dedupe_key="waiver_granted:github:acme/api#42:2026-12-31",
                    )
                ]
            )
            store.record_daily_counts(
                date(2026, 11, 15), {"open_sev12": 7, "overdue": 5, "risk_score_x2": 300}
            )
        finally:
            store.close()
        console = Console(record=True, width=200)
        code = run(
            args_for(
                "--items",
                str(ITEMS),
                "--week",
                "last",
                "--dry-run",
                "--out",
                str(tmp_path),
                "--state",
                url,
            ),
            console,
            console,
            clock=lambda: NOW,
        )
        assert code == 0
        data = json.loads((tmp_path / "reliability-review-2026-W47.json").read_text())
        assert [(d["kind"], d["key"], d["approver"]) for d in data["decisions"]][-1] == (
            "waiver_granted",
            "acme/api#42",
            "cto",
        )
        w46 = data["trend"][-2]  # the week before, as of its Sunday
        assert (w46["week"], w46["open_sev12"], w46["risk_score"], w46["source"]) == (
            "2026-W46",
            7,
            150.0,
            "measured",
        )
