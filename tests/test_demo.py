"""`make demo` end to end: emulators, real connectors, two cycles, the weekly review."""

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from syncer.cli.demo import run_demo


class TestDemo:
    def test_the_demo_acts_once_then_does_nothing_and_writes_the_review(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Cycle 1 writes, cycle 2 writes nothing, the review lands in files and the tracker."""
        monkeypatch.chdir(tmp_path)
        console = Console(record=True, width=120)
        assert run_demo(tmp_path / "out", console) == 0
        text = console.export_text()
        assert "Cycle 2 planned and wrote nothing" in text
        # the Jira fallback (cto's account id) reads by name in the plan table, as in the review
        assert "557058:f58131cb" not in text
        assert "@Casey Torres" in text
        assert "republish: upsert_report skipped, upsert_log_entry skipped" in text
        reviews = sorted((tmp_path / "out").glob("reliability-review-*"))
        assert [p.suffix for p in reviews] == [".html", ".json", ".md"]
        issues = json.loads((tmp_path / "out" / "emulated-github.json").read_text())
        labels = {
            f"{repo}#{i['number']}": set(i["labels"]) for repo, rows in issues.items() for i in rows
        }
        assert "pmsync/waived" in labels["acme/payments#6"]
        assert {"pmsync/overdue", "pmsync/needs-owner"} <= labels["acme/payments#1"]
        assert "pmsync/escalated-sponsor" in labels["acme/api#7"]
        assert "pmsync/closure-rejected" in labels["acme/payments#8"]
        assert "pmsync/closure-rejected" in labels["acme/api#5"]  # its pull request is not merged
        assert "pmsync/closure-rejected" not in labels["acme/api#3"]  # merged PR: accepted
        assert any("pmsync/weekly-review" in names for names in labels.values())


class TestDemoOwners:
    def test_no_owned_item_is_reported_ownerless_and_departed_owners_are_not_pinged(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The summary says so; a departed owner's item asks its sponsor, never the person,
        and frank's 404 is no warning in the demo's log (it used to be its first line)."""
        monkeypatch.chdir(tmp_path)
        console = Console(record=True, width=200)
        assert run_demo(tmp_path / "out", console) == 0
        text = console.export_text()
        log_text = capsys.readouterr().err
        assert "look up owner account frank" not in log_text
        assert "github request failed" not in log_text
        assert "Owners: no owned item is reported as ownerless" in text
        assert "counted as the owner: acme/web#6." in text
        assert "the person not mentioned): REL-27, acme/web#7." in text
        issues = json.loads((tmp_path / "out" / "emulated-github.json").read_text())
        web = {i["number"]: i for i in issues["acme/web"]}
        assert "pmsync/needs-owner" not in web[6]["labels"]  # named under ### Owner: owned
        assert {"pmsync/needs-owner", "pmsync/escalated-sponsor"} <= set(web[7]["labels"])
        assert "@frank" not in text
        assert "@5f1e0c3b7a2d4c0069ef56ab" not in text  # frank on Jira (deactivated)


class TestDemoClosures:
    def test_the_summary_says_no_closure_with_verified_evidence_was_rejected(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """REL-5 links a merged GitHub pull request from Jira: checked through GitHub and
        accepted; a GitLab merge request is flagged; the summary counts each decision."""
        monkeypatch.chdir(tmp_path)
        console = Console(record=True, width=160)
        assert run_demo(tmp_path / "out", console) == 0
        text = console.export_text()
        closures = text[text.index("Closures judged in cycle 1") :]

        def decision(ref: str) -> str:
            found = re.search(rf"│ {re.escape(ref)}\s+│ P\d\s+│ (\w+)", closures)
            assert found, ref
            return found.group(1)

        assert decision("jira:REL-5") == "accepted"
        assert decision("jira:REL-15") == "accepted"
        assert decision("jira:REL-28") == "flagged"
        assert decision("github:acme/api#5") == "rejected"
        assert "the linked pull request acme/api#15 is not merged" in text
        assert re.search(r"Closures judged: \d+ accepted, 5 rejected, 1 flagged", text)
        assert "No closure with verifiable good evidence was rejected" in text
