"""The command line: plan from an items file, JSON output, exit codes, help and start-up."""

import argparse
import json
import subprocess
import sys
from importlib import metadata

import pytest

from syncer.cli.commands import has_violations
from syncer.cli.main import LAZY_COMMANDS, build_parser, main
from syncer.core.assessment import Finding
from syncer.core.evaluate import evaluate
from tests.builders import EXAMPLE_POLICY, NOW, REPO, example_policy, item

ITEMS = REPO / "config" / "examples" / "items.json"
AT = "2026-11-23T09:00:00+00:00"


class TestPlanFromItemsFile:
    def test_the_reference_items_get_exactly_the_expected_actions(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Overdue P0 without owner, closed without evidence, waived, paused, healthy."""
        assert (
            main(
                [
                    "plan",
                    "--items",
                    str(ITEMS),
                    "--config",
                    str(EXAMPLE_POLICY),
                    "--now",
                    AT,
                    "--json",
                ]
            )
            == 0
        )
        out = json.loads(capsys.readouterr().out)
        actions = [
            (c["key"], a["kind"], a.get("labels")) for c in out["changes"] for a in c["actions"]
        ]
        assert actions == [
            ("github:acme/api#1", "comment", None),
            ("github:acme/api#1", "comment", None),
            (
                "github:acme/api#1",
                "add_labels",
                ["pmsync/escalated-executive", "pmsync/needs-owner"],
            ),
            ("github:acme/api#7", "add_labels", ["pmsync/waived"]),
            ("github:acme/api#2", "comment", None),
            ("github:acme/api#2", "reopen", None),
            ("github:acme/api#2", "add_labels", ["pmsync/closure-rejected"]),
        ]
        status = {i["ref"]["id"]: i["status"] for i in out["items"]}
        assert status["github:acme/api#3"] == "closed_accepted"
        assert status["github:acme/web#4"] == "paused"
        assert status["github:acme/web#5"] == "on_track"

    def test_the_table_names_every_item_that_changes(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert (
            main(["plan", "--items", str(ITEMS), "--config", str(EXAMPLE_POLICY), "--now", AT]) == 0
        )
        out = capsys.readouterr().out
        assert "Plan (github)" in out  # one tracker: named in the title, rows give keys
        assert "acme/api#1" in out
        assert "reopen" in out
        assert "7 writes planned" in out

    def test_fail_on_violations_exits_1_for_ci(self) -> None:
        args = [
            "plan",
            "--items",
            str(ITEMS),
            "--config",
            str(EXAMPLE_POLICY),
            "--now",
            AT,
            "--json",
        ]
        assert main([*args, "--fail-on-violations"]) == 1

    def test_informational_findings_are_not_violations(self) -> None:
        """Named-but-unassigned owners and failed evidence look-ups do not fail a CI run."""
        quiet = item("acme/api#1", owners=())
        for rule in ("owner.unassigned", "evidence.check_failed"):
            finding = Finding(rule, "said for information")
            assessment = evaluate([quiet], example_policy(), NOW)[0]._replace(findings=(finding,))
            assert not has_violations([assessment]), rule
        missing = Finding("owner.missing", "an accountable owner (it has none)")
        assessment = evaluate([quiet], example_policy(), NOW)[0]._replace(findings=(missing,))
        assert has_violations([assessment])

    def test_a_malformed_item_is_skipped_with_its_index_and_the_rest_is_planned(
        self, tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
    ) -> None:
        data = json.loads(ITEMS.read_text())
        data["items"].insert(0, {"ref": {"tracker": "github"}, "created_at": "yesterday"})
        broken = tmp_path / "items.json"  # type: ignore[operator]
        broken.write_text(json.dumps(data))
        assert (
            main(["plan", "--items", str(broken), "--config", str(EXAMPLE_POLICY), "--now", AT])
            == 0
        )
        captured = capsys.readouterr()
        assert "items[0] skipped" in captured.err
        assert "acme/api#1" in captured.out

    def test_an_items_file_of_an_older_release_still_reads_verified_as_confirmed(
        self, tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """`verified: true` (before `verification`) keeps a merged pull request accepted."""
        text = ITEMS.read_text().replace('"verification": "confirmed"', '"verified": true')
        old = tmp_path / "old-items.json"  # type: ignore[operator]
        old.write_text(text)
        args = ["plan", "--items", str(old), "--config", str(EXAMPLE_POLICY), "--now", AT]
        assert main([*args, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        status = {i["ref"]["id"]: i["status"] for i in out["items"]}
        assert '"verified": true' in text
        assert status["github:acme/api#3"] == "closed_accepted"

    def test_an_items_file_with_the_old_escalation_tier_field_is_read_without_it(
        self, tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Files of releases that exported `escalation_tier` plan every item as before."""
        data = json.loads(ITEMS.read_text())
        for entry in data["items"]:
            entry["escalation_tier"] = 0
        old = tmp_path / "old-items.json"  # type: ignore[operator]
        old.write_text(json.dumps(data))
        args = ["plan", "--items", str(old), "--config", str(EXAMPLE_POLICY), "--now", AT]
        assert main([*args, "--json"]) == 0
        captured = capsys.readouterr()
        assert "skipped" not in captured.err
        assert len(json.loads(captured.out)["items"]) == len(data["items"])

    def test_an_unreadable_items_file_is_bad_input(self, tmp_path: pytest.TempPathFactory) -> None:
        assert main(["plan", "--items", str(tmp_path), "--config", str(EXAMPLE_POLICY)]) == 2


class TestHelp:
    def test_help_explains_every_command(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            main(["--help"])
        out = capsys.readouterr().out
        for command in ("check-config", "plan", "run"):
            assert command in out

    def test_version_prints_the_installed_package_version(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``pmsync --version`` says the package's version on stdout and exits 0."""
        with pytest.raises(SystemExit) as exited:
            main(["--version"])
        assert exited.value.code == 0
        assert capsys.readouterr().out == f"pmsync {metadata.version('postmortem-sync')}\n"

    def test_every_lazy_command_is_listed_with_the_help_its_module_registers(self) -> None:
        """The one-line help kept in cli.py for --help is the one the module itself gives."""
        commands = next(
            a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)
        )
        registered = {choice.dest: choice.help for choice in commands._choices_actions}
        assert {name: registered[name] for name in LAZY_COMMANDS} == {
            name: command.help for name, command in LAZY_COMMANDS.items()
        }

    def test_a_lazy_command_gets_its_module_s_full_parser(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``pmsync report --help`` shows the report's own options, not a placeholder."""
        with pytest.raises(SystemExit):
            main(["report", "--help"])
        out = capsys.readouterr().out
        assert "--week" in out
        assert "--dry-run" in out


HEAVY_LIBRARIES = (
    "alembic",
    "github",
    "jira",
    "matplotlib",
    "pydantic",
    "requests",
    "rich",
    "prometheus_client",
    "sqlalchemy",
    "structlog",
    "yaml",
)


class TestStartUp:
    @pytest.mark.parametrize("option", ["--help", "--version"])
    def test_help_and_version_import_no_heavy_library(self, option: str) -> None:
        """``pmsync --help`` and ``--version`` cost argparse, not pydantic, rich, SQLAlchemy,
        prometheus-client or the tracker clients (``--version`` went through service.metrics and
        cost six times ``--help``).

        Checked in a fresh interpreter through ``sys.modules`` (the time it takes is a
        benchmark: tests/bench/bench_startup.py).
        """
        script = (
            "import sys\n"
            "from syncer.cli.main import main\n"
            "try:\n"
            f"    main([{option!r}])\n"
            "except SystemExit:\n"
            "    pass\n"
            "print(' '.join({name.split('.')[0] for name in sys.modules}), file=sys.stderr)\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True
        )
        loaded = set(result.stderr.split())
        assert "argparse" in loaded
        assert sorted(loaded.intersection(HEAVY_LIBRARIES)) == []


class TestPlanNames:
    def test_mentions_show_the_display_name_not_the_account_id(
        self,
        tmp_path: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """A Jira owner known by account id reads as the person's name in the plan."""
        monkeypatch.setenv("COLUMNS", "250")  # one table row per line
        overdue = {
            "ref": {"tracker": "jira", "key": "REL-13"},
            "title": "Document the deploy freeze policy",
            "priority": "P3",
            "severity": "SEV-2",
            "owners": [{"handle": "5e7a3c1f2b9d4e0012ab34cd", "display_name": "Erin Eze"}],
            "due": "2026-11-16",
            "created_at": "2026-10-01T09:00:00Z",
            "updated_at": "2026-10-01T09:00:00Z",
        }
        items = tmp_path / "items.json"  # type: ignore[operator]
        items.write_text(json.dumps([overdue]))
        assert (
            main(["plan", "--items", str(items), "--config", str(EXAMPLE_POLICY), "--now", AT]) == 0
        )
        printed = " ".join(capsys.readouterr().out.split())
        assert "@Erin Eze REL-13 is 7 days overdue" in printed
        assert "5e7a3c1f2b9d4e0012ab34cd" not in printed
