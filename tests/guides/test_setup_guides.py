"""The setup guides work end to end: each is followed literally against a pmsync emulator.

``docs/setup-github.md`` and ``docs/setup-jira.md`` are run block by block (see
``tests/guides/guide.py`` for how a guide is read); the emulators are started the way the
guides' readers start them, ``pmsync emulate github|jira --seed ...``, with the small seeds
beside this file. Only the documented placeholders are replaced: the API address, and the
secrets a reader pastes into ``read``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.components import CURL, CURL_INSTALL, require_tool
from tests.guides.guide import (
    Guide,
    GuideFailure,
    GuideRun,
    Session,
    Transcript,
    base_environment,
)
from tests.guides.trackers import GitHubView, JiraView, emulator, jira_people

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
GITHUB_GUIDE = ROOT / "docs" / "setup-github.md"
GITHUB_SEED = HERE / "github-seed.yaml"
GITHUB_API = "https://api.github.com"
TOKEN = "github_pat_guide-test-0123456789"
JIRA_GUIDE = ROOT / "docs" / "setup-jira.md"
JIRA_SEED = HERE / "jira-seed.yaml"
JIRA_SITE = "https://acme.atlassian.net"
JIRA_SERVER = "https://jira.acme.example"
JIRA_EMAIL = "pmsync-bot@acme.example"
JIRA_TOKEN = "ATATT-guide-test-0123456789"
NO_REOPEN = [
    {"id": "11", "name": "Start Progress", "from": ["To Do"], "to": "In Progress"},
    {"id": "31", "name": "Done", "from": ["To Do", "In Progress"], "to": "Done"},
]


@pytest.fixture(autouse=True)
def _curl() -> None:
    """The guides create labels and look up fields with curl, as their readers do."""
    require_tool(*CURL, install=CURL_INSTALL)


def follow_github(tmp_path: Path, text: str | None = None) -> Transcript:
    """Follow the GitHub guide (or ``text`` in its place) against a fresh emulator."""
    guide = Guide.read(GITHUB_GUIDE, text)
    with emulator("github", "--seed", str(GITHUB_SEED), "--token", TOKEN) as url:
        work = tmp_path / "work"
        work.mkdir()
        session = Session(
            cwd=work,
            env=base_environment(tmp_path / "home", [Path(sys.executable).parent]),
            answers={"GITHUB_TOKEN": TOKEN},
        )
        view = GitHubView(url, TOKEN, ["acme/payments"])
        return GuideRun(guide, session, view, {GITHUB_API: url}).run()


def follow_jira(tmp_path: Path, scenario: str = "default", text: str | None = None) -> Transcript:
    """Follow the Jira guide on Cloud (``default``, ``no-reopen``) or ``datacenter``."""
    seed = JIRA_SEED
    if scenario == "no-reopen":
        data = yaml.safe_load(JIRA_SEED.read_text(encoding="utf-8"))
        seed = tmp_path / "jira-seed-no-reopen.yaml"
        seed.write_text(yaml.safe_dump({**data, "workflow": NO_REOPEN}), encoding="utf-8")
    cloud = scenario != "datacenter"
    mode = ["--mode", "cloud", "--email", JIRA_EMAIL] if cloud else ["--mode", "datacenter"]
    guide = Guide.read(JIRA_GUIDE, text)
    with emulator("jira", "--seed", str(seed), "--token", JIRA_TOKEN, *mode) as url:
        work = tmp_path / "work"
        work.mkdir()
        session = Session(
            cwd=work,
            env=base_environment(tmp_path / "home", [Path(sys.executable).parent]),
            answers={"JIRA_EMAIL": JIRA_EMAIL, "JIRA_API_TOKEN": JIRA_TOKEN},
        )
        view = JiraView(url, cloud, JIRA_EMAIL, JIRA_TOKEN, "REL", jira_people(JIRA_SEED))
        places = {JIRA_SITE: url, JIRA_SERVER: url}
        run = GuideRun(guide, session, view, places, scenario, check_claims=scenario != "no-reopen")
        return run.run()


class TestGitHubGuide:
    """docs/setup-github.md, followed from the token to the first live cycle."""

    def test_every_step_does_what_the_guide_says(self, tmp_path: Path) -> None:
        """Commands exit as said, policies pass, shadow writes nothing, live writes the table."""
        transcript = follow_github(tmp_path)
        ran = [text for _, text, _ in transcript.commands]
        assert "pmsync check-config pmsync.yaml" in ran
        assert "pmsync check-permissions --config pmsync.yaml" in ran
        assert ran.count("pmsync run --once --config pmsync.yaml") == 3
        assert transcript.checks == [
            "acme/payments: apply labels and reopen",
            "acme/payments: comment",
            "acme/payments: create labels",
            "acme/payments: read issues",
        ]
        assert len(transcript.writes_checked) == 1
        assert len(transcript.unchanged) >= 4


JIRA_CHECKS = [
    "ADD_COMMENTS",
    "BROWSE_PROJECTS",
    "CREATE_ATTACHMENTS",
    "CREATE_ISSUES",
    "EDIT_ISSUES",
    "EDIT_OWN_COMMENTS",
    "TRANSITION_ISSUES",
    "connect",
    "field due",
    "field evidence",
    "field executive_sponsor",
    "field incident",
    "field owner",
    "field severity",
    "field sponsor",
]


class TestJiraGuide:
    """docs/setup-jira.md, followed on Cloud, on Data Center and on a workflow without Reopen."""

    def test_every_step_does_what_the_guide_says_on_cloud(self, tmp_path: Path) -> None:
        """Cloud: e-mail and API token, account-id mentions, the field and transition look-ups."""
        transcript = follow_jira(tmp_path)
        ran = [text for _, text, _ in transcript.commands]
        assert sum("curl" in text for text in ran) == 3
        assert ran.count("pmsync run --once --config pmsync.yaml") == 3
        assert transcript.checks == JIRA_CHECKS
        assert len(transcript.writes_checked) == 1
        assert "7 writes done, 0 already there; 0 failed; 0 writes wait for the next cycle" in (
            transcript.claims
        )
        assert [name for _, name in transcript.policies].count("pmsync.yaml") == 2

    def test_every_step_does_what_the_guide_says_on_data_center(self, tmp_path: Path) -> None:
        """Data Center: the PAT as a bearer token, the server edit, user-name mentions."""
        transcript = follow_jira(tmp_path, "datacenter")
        ran = [text for _, text, _ in transcript.commands]
        assert not any("curl" in text for text in ran)
        saved = [name for _, name in transcript.policies if name == "pmsync.yaml"]
        assert (len(saved), transcript.checks) == (3, JIRA_CHECKS)  # the file, DC and live edits
        assert len(transcript.writes_checked) == 1

    def test_a_workflow_without_reopen_gets_the_label_and_comment_the_guide_shows(
        self, tmp_path: Path
    ) -> None:
        """The fallback table of step 8 holds where Done has no way back."""
        transcript = follow_jira(tmp_path, "no-reopen")
        assert len(transcript.writes_checked) == 1
        assert transcript.unchanged[-1] == transcript.commands[-1][0]


def mutated(path: Path, old: str, new: str) -> str:
    """The guide's text with its first ``old`` replaced, as a careless edit would leave it."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is no longer in {path.name}: update this test"
    return text.replace(old, new, 1)


def line_after(path: Path, marker: str) -> int:
    """The number of the line after the first one holding ``marker`` (a directive's block)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line) + 1


def failure_of(follow: Callable[[], Transcript]) -> str:
    with pytest.raises(GuideFailure) as caught:
        follow()
    return str(caught.value)


class TestTheGuidesCannotRot:
    """An edit that makes a guide wrong makes its test fail, naming the line."""

    def test_a_renamed_command_fails_where_the_guide_runs_it(self, tmp_path: Path) -> None:
        text = mutated(
            GITHUB_GUIDE, "pmsync check-config pmsync.yaml", "pmsync check-cfg pmsync.yaml"
        )
        message = failure_of(lambda: follow_github(tmp_path, text))
        line = line_after(GITHUB_GUIDE, "Check it:") + 2
        assert message.startswith(
            f"setup-github.md:{line}: `pmsync check-cfg pmsync.yaml` exited 2, the guide says 0"
        )
        assert "invalid choice: 'check-cfg'" in message

    def test_a_misspelt_policy_key_fails_at_its_yaml_block(self, tmp_path: Path) -> None:
        text = mutated(GITHUB_GUIDE, "  max_writes_per_cycle: 50", "  max_write_per_cycle: 50")
        message = failure_of(lambda: follow_github(tmp_path, text))
        line = line_after(GITHUB_GUIDE, "<!-- guide-test: file pmsync.yaml -->")
        assert message.startswith(
            f"setup-github.md:{line}: the policy it shows does not pass check-config:"
        )
        assert "operations.max_write_per_cycle: unknown key" in message
        assert "did you mean 'max_writes_per_cycle'?" in message

    def test_a_misspelt_jira_field_attribute_fails_at_its_yaml_block(self, tmp_path: Path) -> None:
        text = mutated(JIRA_GUIDE, "        severity: Severity", "        sevrity: Severity")
        message = failure_of(lambda: follow_jira(tmp_path, text=text))
        line = line_after(JIRA_GUIDE, "<!-- guide-test: file pmsync.yaml -->")
        assert message.startswith(f"setup-jira.md:{line}: the policy it shows does not pass")
        assert "did you mean 'severity'?" in message

    def test_a_writes_table_naming_a_label_pmsync_does_not_add_fails(self, tmp_path: Path) -> None:
        text = mutated(GITHUB_GUIDE, "label `pmsync/needs-owner`", "label `pmsync/no-owner`")
        message = failure_of(lambda: follow_github(tmp_path, text))
        line = line_after(GITHUB_GUIDE, "<!-- guide-test: writes -->")
        assert message.startswith(f"setup-github.md:{line}: the tracker does not show what")
        assert (
            "acme/payments#2: labels added ['pmsync/needs-owner'], removed []; the table says "
            "added ['pmsync/no-owner']"
        ) in message

    def test_a_step_that_writes_while_the_guide_says_shadow_mode_fails(
        self, tmp_path: Path
    ) -> None:
        """The shadow check itself is watched: a labelling curl slipped into step 6 is caught."""
        writes = (
            '```sh\ncurl -sS -o /dev/null -X POST -H "Authorization: Bearer $GITHUB_TOKEN" '
            'https://api.github.com/repos/acme/payments/issues/5/labels -d \'{"labels": ["P3"]}\''
            "\n```\n\n## 6. Check the permissions"
        )
        text = mutated(GITHUB_GUIDE, "## 6. Check the permissions", writes)
        message = failure_of(lambda: follow_github(tmp_path, text))
        assert "wrote to the tracker in shadow mode or where the guide says it writes nothing" in (
            message
        )
        assert "acme/payments#5: changed (labels ['P2', 'postmortem-action', 'sev-3'] -> " in (
            message
        )

    def test_a_checks_table_missing_a_row_check_permissions_prints_fails(
        self, tmp_path: Path
    ) -> None:
        text = mutated(JIRA_GUIDE, "| `CREATE_ATTACHMENTS` |", "| `CREATE_ATTACHMENT` |")
        message = failure_of(lambda: follow_jira(tmp_path, text=text))
        line = line_after(JIRA_GUIDE, "<!-- guide-test: checks -->")
        assert message.startswith(f"setup-jira.md:{line}: check-permissions prints rows")
        assert (
            "check-permissions prints rows ['CREATE_ATTACHMENTS'] the table does not explain, "
            "and the table explains ['CREATE_ATTACHMENT'] it does not print"
        ) in message
