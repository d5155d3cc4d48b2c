"""`pmsync postmortem file` writes the owner where the connector reads it back, on both trackers.

GitHub: the filed action item is assigned to its owner and names them under ``### Owner``, so
every ``owner_sources`` order reads the same owner, assigned. Jira: the assignee, and the
policy's own owner field when ``fields.owner`` names one (a user picker called Owner).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.jira import JiraEmulator
from connectors.github import GitHubConnector
from connectors.jira.client import JiraConnector
from syncer.core.config_loader import load_model_file
from syncer.core.cursors import MemoryCursorStore
from syncer.core.model import ActionItem, Person
from syncer.core.policy import Policy

from .conftest import EXAMPLE, edit, example_text
from .test_cli import run

NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)
PEOPLE = ("alice", "bob", "carol", "dave", "erin", "frank")
GITHUB_TOKEN = "t0ken"  # the emulator's fake credential
EMAIL, JIRA_TOKEN = "bot@acme.test", "emulator-token-not-a-secret"
ACTION = "Add an output filter rule for internal-note markers"  # owner: erin


def account(name: str) -> str:
    return f"712020:{name:0>8}-0000-4000-8000-000000000000"


def file_argv(policy: Path, record: Path = EXAMPLE) -> list[str]:
    return ["file", str(record), "--config", str(policy), "--today", "2026-11-04"]


class TestGitHub:
    @pytest.fixture
    def emulator(self) -> Iterator[GitHubEmulator]:
        with GitHubEmulator(token=GITHUB_TOKEN, clock=lambda: NOW) as emu:
            emu.add_repo("acme/api")
            for login in PEOPLE:
                emu.set_permission("acme/api", login, "write")
            yield emu

    def policy_file(self, tmp_path: Path, emulator: GitHubEmulator, sources: str) -> Path:
        path = tmp_path / f"pmsync-{sources.replace(', ', '-')}.yaml"
        path.write_text(
            "version: '1'\n"
            "trackers:\n"
            "  github:\n"
            f"    - base_url: {emulator.base_url}\n"
            "      repositories: [acme/api]\n"
            "      token_env: PMSYNC_TEST_GITHUB_TOKEN\n"
            "      seconds_between_writes: 0\n"
            f"      owner_sources: [{sources}]\n",
            encoding="utf-8",
        )
        return path

    @pytest.mark.parametrize("sources", ["assignees", "section", "assignees, section"])
    def test_every_owner_source_reads_the_filed_owner_back_assigned(
        self,
        sources: str,
        emulator: GitHubEmulator,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Filed once; whichever source the policy reads, the owner is erin, assigned."""
        monkeypatch.setenv("PMSYNC_TEST_GITHUB_TOKEN", GITHUB_TOKEN)
        policy_file = self.policy_file(tmp_path, emulator, sources)
        assert run(file_argv(policy_file), capsys)[0] == 0
        policy = load_model_file(Policy, policy_file)
        connector = GitHubConnector(
            policy.trackers.github[0], policy, MemoryCursorStore(), lambda: NOW
        )
        items = {i.title: i for i in connector.fetch(full=True).items}
        assert items[ACTION].owners == (Person(handle="erin", assigned=True),)


class TestJiraOwnerField:
    @pytest.fixture
    def emulator(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[JiraEmulator]:
        monkeypatch.setenv("PMSYNC_TEST_JIRA_TOKEN", JIRA_TOKEN)
        monkeypatch.setenv("PMSYNC_TEST_JIRA_EMAIL", EMAIL)
        with JiraEmulator(mode="cloud", email=EMAIL, token=JIRA_TOKEN, clock=lambda: NOW) as emu:
            emu.add_project("REL", "Reliability")
            for name in PEOPLE:
                emu.add_user(account_id=account(name), name=name, email=f"{name}@acme.test")
            for name in ("Owner", "Sponsor", "Executive sponsor"):
                emu.add_custom_field(name, "user")
            emu.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2", "SEV-3"])
            emu.add_custom_field("Postmortem", "url")
            yield emu

    @pytest.fixture
    def policy_file(self, tmp_path: Path, emulator: JiraEmulator) -> Path:
        path = tmp_path / "pmsync.yaml"
        path.write_text(
            "version: '1'\n"
            "trackers:\n"
            "  jira:\n"
            "    - name: jira\n"
            f"      server: {emulator.base_url}\n"
            "      deployment: cloud\n"
            "      jql: project = REL AND labels = postmortem-action\n"
            "      project: REL\n"
            "      token_env: PMSYNC_TEST_JIRA_TOKEN\n"
            "      email_env: PMSYNC_TEST_JIRA_EMAIL\n"
            "      fields: {owner: Owner, due: duedate, sponsor: Sponsor,"
            " executive_sponsor: Executive sponsor, severity: Severity, incident: Postmortem}\n",
            encoding="utf-8",
        )
        return path

    def mapped(self, policy_file: Path) -> dict[str, ActionItem]:
        policy = load_model_file(Policy, policy_file)
        connector = JiraConnector(
            policy.trackers.jira[0],
            policy,
            MemoryCursorStore(),
            lambda: NOW,
            email=EMAIL,
        )
        return {i.title: i for i in connector.fetch(full=True).items}

    def test_the_owner_goes_into_the_owner_field_and_the_assignee(
        self, emulator: JiraEmulator, policy_file: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The mapper reads fields.owner (Owner), so the filer writes it; a rerun writes nothing."""
        assert run(file_argv(policy_file), capsys)[0] == 0
        fields = emulator.issue("REL-3")["fields"]
        assert fields[emulator.field_id("Owner")]["accountId"] == account("erin")
        assert fields["assignee"]["accountId"] == account("erin")
        assert [o.handle for o in self.mapped(policy_file)[ACTION].owners] == [account("erin")]
        emulator.reset_counters()
        code, out, _ = run(file_argv(policy_file), capsys)
        assert (code, out.splitlines()[-1]) == (0, "filed: 0 created, 0 updated")
        assert not [k for k, n in emulator.counters.items() if n and k[0] != "GET"]

    def test_a_new_owner_in_the_record_is_written_to_the_owner_field(
        self,
        emulator: JiraEmulator,
        policy_file: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """The Owner field follows the record, like the assignee."""
        assert run(file_argv(policy_file), capsys)[0] == 0
        record = tmp_path / "inc.yaml"
        record.write_text(edit(example_text(), "    owner: frank\n", "    owner: carol\n"), "utf-8")
        assert run(file_argv(policy_file, record), capsys)[0] == 0
        changed = [i for i in self.mapped(policy_file).values() if i.owners]
        assert account("carol") in {o.handle for i in changed for o in i.owners}
        assert account("frank") not in {o.handle for i in changed for o in i.owners}
