"""`pmsync postmortem file` end to end through PyGithub against the GitHub emulator."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.emulators.github import GitHubEmulator
from connectors.github import GitHubConnector
from syncer.cli.main import main as pmsync_main
from syncer.core.config_loader import load_model_file
from syncer.core.cursors import MemoryCursorStore
from syncer.core.evaluate import evaluate
from syncer.core.policy import Policy
from syncer.postmortem.filing import parse_sections

from .conftest import EXAMPLE, edit, example_text
from .test_cli import run

TOKEN = "t0ken"  # the emulator's fake credential
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")
NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def emulator() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=TOKEN, clock=lambda: NOW) as emu:
        emu.add_repo("acme/api")
        for login in PEOPLE:
            emu.set_permission("acme/api", login, "write")
        yield emu


@pytest.fixture
def policy_file(tmp_path: Path, emulator: GitHubEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PMSYNC_TEST_GITHUB_TOKEN", TOKEN)
    path = tmp_path / "pmsync.yaml"
    path.write_text(
        "version: '1'\n"
        "trackers:\n"
        "  github:\n"
        f"    - base_url: {emulator.base_url}\n"
        "      repositories: [acme/api]\n"
        "      token_env: PMSYNC_TEST_GITHUB_TOKEN\n"
        "      seconds_between_writes: 0\n",
        encoding="utf-8",
    )
    return path


def writes(emulator: GitHubEmulator) -> dict[str, int]:
    return {m: emulator.request_count(m) for m in ("POST", "PATCH", "PUT", "DELETE")}


class TestFilingThroughPyGithub:
    def test_filing_creates_five_issues_and_a_rerun_writes_nothing(
        self, emulator: GitHubEmulator, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """First run: 5 issue POSTs after one list request, then the postmortem's sub-issues
        listed once and each item read and attached (4 GETs, 4 POSTs); second run: the two
        lists, no write."""
        argv = ["file", str(EXAMPLE), "--config", str(policy_file), "--today", "2026-11-04"]
        code, out, _ = run(argv, capsys)
        assert code == 0
        assert out.splitlines()[-2:] == [
            "linked under acme/api#1: 4 new, 0 already there",
            "filed: 5 created, 0 updated",
        ]
        assert writes(emulator) == {"POST": 9, "PATCH": 0, "PUT": 0, "DELETE": 0}
        assert emulator.request_count("GET") == 6

        item = emulator.issue("acme/api", 3)
        assert item["title"] == "Add an output filter rule for internal-note markers"
        assert [a["login"] for a in item["assignees"]] == ["erin"]
        assert sorted(emulator.labels_of("acme/api", 3)) == [
            "P0",
            "incident:INC-2026-042",
            "postmortem-action",
            "sev-2",
        ]
        sections = parse_sections(item["body"])
        assert sections["Due date"] == "2026-11-18"
        assert sections["Postmortem"] == emulator.issue("acme/api", 1)["html_url"]

        emulator.reset_counters()
        code, out, _ = run(argv, capsys)
        assert code == 0
        assert out.splitlines()[-2:] == [
            "linked under acme/api#1: 0 new, 4 already there",
            "filed: 0 created, 0 updated",
        ]
        assert writes(emulator) == {"POST": 0, "PATCH": 0, "PUT": 0, "DELETE": 0}
        assert emulator.request_count("GET") == 2

    def test_a_changed_record_patches_only_the_changed_issues(
        self,
        emulator: GitHubEmulator,
        policy_file: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """A new owner on one item: two PATCHes (that item, and the postmortem's table)."""
        argv = ["file", str(EXAMPLE), "--config", str(policy_file), "--today", "2026-11-04"]
        assert run(argv, capsys)[0] == 0
        changed = tmp_path / "inc.yaml"
        changed.write_text(
            edit(example_text(), "    owner: frank\n", "    owner: carol\n"), "utf-8"
        )
        emulator.reset_counters()
        argv[1] = str(changed)
        code, out, _ = run(argv, capsys)
        assert code == 0
        assert writes(emulator) == {"POST": 0, "PATCH": 2, "PUT": 0, "DELETE": 0}
        assert [a["login"] for a in emulator.issue("acme/api", 4)["assignees"]] == ["carol"]
        assert "update  alert-when-assistant-replies-contain-internal-fields" in out

    def test_dry_run_reads_once_and_writes_nothing(
        self, emulator: GitHubEmulator, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """--dry-run prints the five creates; the emulator sees one GET."""
        argv = ["file", str(EXAMPLE), "--config", str(policy_file), "--dry-run"]
        code, out, _ = run(argv, capsys)
        assert code == 0
        assert [line.split()[0] for line in out.splitlines()[:5]] == ["create"] * 5
        assert out.splitlines()[-1] == "dry run: 5 write(s) planned, nothing written"
        assert writes(emulator) == {"POST": 0, "PATCH": 0, "PUT": 0, "DELETE": 0}
        assert emulator.request_count() == 1

    def test_dry_run_lists_the_links_it_would_make(
        self, emulator: GitHubEmulator, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Before filing: each item's link once it is filed; after a sub-issue was removed
        by hand: that one link, planned, and nothing written."""
        import requests

        argv = ["file", str(EXAMPLE), "--config", str(policy_file), "--today", "2026-11-04"]
        code, out, _ = run([*argv, "--dry-run"], capsys)
        assert code == 0
        links = [line for line in out.splitlines() if line.startswith("link ")]
        assert len(links) == 4
        assert all(line.endswith(" under the postmortem issue, once filed") for line in links)

        assert run(argv, capsys)[0] == 0
        answer = requests.delete(
            f"{emulator.base_url}/repos/acme/api/issues/1/sub_issue",
            json={"sub_issue_id": emulator.issue("acme/api", 3)["id"]},
            headers={"Authorization": f"token {TOKEN}"},
            timeout=5,
        )
        assert answer.status_code == 200
        emulator.reset_counters()
        code, out, _ = run([*argv, "--dry-run"], capsys)
        assert code == 0
        assert [line for line in out.splitlines() if line.startswith("link ")] == [
            "link    acme/api#3 under acme/api#1"
        ]
        assert out.splitlines()[-1] == "dry run: 1 write(s) planned, nothing written"
        assert writes(emulator) == {"POST": 0, "PATCH": 0, "PUT": 0, "DELETE": 0}


class TestLintGate:
    """`file` refuses a record with lint findings unless --force, and says which."""

    def vague_record(self, tmp_path: Path) -> Path:
        path = tmp_path / "inc.yaml"
        text = edit(
            example_text(),
            "  - title: Write the on-call runbook for assistant misbehaviour",
            "  - title: Improve monitoring",
        )
        path.write_text(
            edit(
                text, "evidence: Runbook page linked from the on-call handbook", "evidence: a doc"
            ),
            "utf-8",
        )
        return path

    def test_a_record_with_findings_is_refused_with_exit_2_and_nothing_is_written(
        self,
        emulator: GitHubEmulator,
        policy_file: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Both findings are listed on stderr with their lines; the emulator sees no request."""
        path = self.vague_record(tmp_path)
        argv = ["file", str(path), "--config", str(policy_file), "--today", "2026-11-04"]
        code, out, err = run(argv, capsys)
        assert code == 2
        assert out == ""
        rules = [line.split(": ")[1] for line in err.splitlines()[:-1]]
        assert rules == ["action-unmeasurable", "action-vague-evidence"]
        assert err.splitlines()[-1] == (
            f"{path}: not filed: 2 lint finding(s) remain; fix them, silence one with "
            "`# pmsync: ignore[RULE]` on its line, or pass --force"
        )
        assert emulator.request_count() == 0

    def test_a_dry_run_is_refused_the_same_way(
        self,
        emulator: GitHubEmulator,
        policy_file: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """What a dry run shows is what a real run would do: here, nothing."""
        argv = ["file", str(self.vague_record(tmp_path)), "--config", str(policy_file)]
        code, _, err = run([*argv, "--dry-run"], capsys)
        assert code == 2
        assert "not filed: 2 lint finding(s)" in err

    def test_force_files_anyway_and_prints_the_findings_as_warnings(
        self,
        emulator: GitHubEmulator,
        policy_file: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--force: five issues created, each finding shown once as a warning."""
        path = self.vague_record(tmp_path)
        argv = ["file", str(path), "--config", str(policy_file), "--today", "2026-11-04"]
        code, out, err = run([*argv, "--force"], capsys)
        assert code == 0
        assert out.splitlines()[-1] == "filed: 5 created, 0 updated"
        warnings = [line for line in err.splitlines() if line.startswith("warning (--force)")]
        assert len(warnings) == 2
        assert writes(emulator)["POST"] == 5 + 4  # the issues, then the sub-issue links


class TestReadBackByPmsync:
    def test_the_connector_maps_filed_items_with_their_owners_priorities_and_deadlines(
        self, emulator: GitHubEmulator, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """What `file` wrote is what the next cycle reads: owner, priority, due, sponsors."""
        argv = ["file", str(EXAMPLE), "--config", str(policy_file), "--today", "2026-11-04"]
        assert run(argv, capsys)[0] == 0
        policy = load_model_file(Policy, policy_file)
        connector = GitHubConnector(
            policy.trackers.github[0], policy, MemoryCursorStore(), lambda: NOW
        )
        items = sorted(connector.fetch(full=True).items, key=lambda i: i.ref.key)
        read = [
            (
                i.ref.key,
                [o.handle for o in i.owners],
                i.priority.value,
                i.severity.value,
                i.due,
                i.sponsor.handle if i.sponsor else None,
                i.incident_date,
                i.data_problems,
            )
            for i in items
        ]
        assert read == [
            (
                "acme/api#2",
                ["bob"],
                "P1",
                "SEV-2",
                date(2026, 11, 20),
                "carol",
                date(2026, 11, 3),
                (),
            ),
            (
                "acme/api#3",
                ["erin"],
                "P0",
                "SEV-2",
                date(2026, 11, 18),
                "carol",
                date(2026, 11, 3),
                (),
            ),
            (
                "acme/api#4",
                ["frank"],
                "P2",
                "SEV-2",
                date(2027, 1, 3),
                "carol",
                date(2026, 11, 3),
                (),
            ),
            (
                "acme/api#5",
                ["alice"],
                "P2",
                "SEV-2",
                date(2026, 12, 15),
                None,
                date(2026, 11, 3),
                (),
            ),
        ]
        assert {i.incident for i in items} == {emulator.issue("acme/api", 1)["html_url"]}
        late = evaluate(items, policy, datetime(2026, 11, 19, 10, 0, tzinfo=UTC))
        assert [(a.item.ref.key, a.status.value) for a in late] == [
            ("acme/api#2", "on_track"),
            ("acme/api#3", "overdue"),
            ("acme/api#4", "on_track"),
            ("acme/api#5", "on_track"),
        ]

    def test_a_run_once_right_after_filing_has_nothing_to_do(
        self,
        emulator: GitHubEmulator,
        policy_file: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Freshly filed items are well-formed: `pmsync run --once` writes nothing."""
        argv = ["file", str(EXAMPLE), "--config", str(policy_file), "--today", "2026-11-04"]
        assert run(argv, capsys)[0] == 0
        emulator.reset_counters()
        state = f"sqlite:///{tmp_path / 'state.db'}"
        code = pmsync_main(
            [
                "run",
                "--once",
                "--config",
                str(policy_file),
                "--state",
                state,
                "--now",
                "2026-11-05T10:00:00+00:00",
            ]
        )
        out = capsys.readouterr().out
        assert code == 0
        assert "4 items: on_track 4" in out
        assert writes(emulator) == {"POST": 0, "PATCH": 0, "PUT": 0, "DELETE": 0}

    def test_missing_credentials_are_bad_input_and_name_the_variable(
        self,
        emulator: GitHubEmulator,
        policy_file: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """No token: exit 2 with the variable to set, and no request at all."""
        monkeypatch.delenv("PMSYNC_TEST_GITHUB_TOKEN")
        code, _, err = run(["file", str(EXAMPLE), "--config", str(policy_file)], capsys)
        assert code == 2
        assert "set the PMSYNC_TEST_GITHUB_TOKEN environment variable" in err
        assert emulator.request_count() == 0
