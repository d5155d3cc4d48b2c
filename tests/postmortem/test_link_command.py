"""`pmsync postmortem link` on both emulators, through the real clients over HTTP: items
become children of the postmortem, a rerun writes nothing, a dry run only reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.jira import JiraEmulator

from .test_cli import run

TOKEN, EMAIL = "emulator-token-not-a-secret", "bot@acme.test"
NOW = datetime(2026, 11, 4, 10, 0, tzinfo=UTC)


def write_requests(counters: dict[tuple[str, str, int], int]) -> int:
    return sum(n for (method, _, _), n in counters.items() if method != "GET")


@pytest.fixture
def github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[GitHubEmulator, Path]]:
    """A repository with a postmortem (#1) and three items (#2-#4), and a policy for it."""
    with GitHubEmulator(token=TOKEN, clock=lambda: NOW) as emu:
        emu.add_repo("acme/api")
        for title in ("Postmortem: INC-7", "Add a breaker", "Alert on lag", "Runbook"):
            emu.add_issue("acme/api", title)
        monkeypatch.setenv("PMSYNC_TEST_GITHUB_TOKEN", TOKEN)
        path = tmp_path / "pmsync.yaml"
        path.write_text(
            "version: '1'\n"
            "trackers:\n"
            "  github:\n"
            f"    - base_url: {emu.base_url}\n"
            "      repositories: [acme/api]\n"
            "      token_env: PMSYNC_TEST_GITHUB_TOKEN\n"
            "      seconds_between_writes: 0\n",
            encoding="utf-8",
        )
        yield emu, path


def sub_issues(emu: GitHubEmulator) -> list[int]:
    return [row["number"] for row in _list(emu)]


def _list(emu: GitHubEmulator) -> list[dict[str, object]]:
    import requests

    answer = requests.get(
        f"{emu.base_url}/repos/acme/api/issues/1/sub_issues",
        headers={"Authorization": f"token {TOKEN}"},
        timeout=5,
    )
    rows: list[dict[str, object]] = answer.json()
    return rows


def link_argv(config: Path, *refs: str, extra: tuple[str, ...] = ()) -> list[str]:
    postmortem, *items = refs
    return ["link", "--config", str(config), "--postmortem", postmortem, *items, *extra]


class TestLinkOnGitHub:
    def test_items_become_sub_issues_and_a_rerun_writes_nothing(
        self, github: tuple[GitHubEmulator, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Two POSTs the first time; the rerun lists the children and stops."""
        emu, config = github
        code, out, err = run(link_argv(config, "acme/api#1", "acme/api#2", "acme/api#3"), capsys)
        assert (code, err) == (0, "")
        assert out.splitlines() == [
            "linked   acme/api#2 under acme/api#1",
            "linked   acme/api#3 under acme/api#1",
            "linked: 2 new, 0 already there",
        ]
        assert sub_issues(emu) == [2, 3]
        assert write_requests(emu.counters) == 2
        emu.reset_counters()
        code, out, _ = run(link_argv(config, "acme/api#1", "acme/api#2", "acme/api#4"), capsys)
        assert code == 0
        assert out.splitlines() == [
            "already  acme/api#2 is a child of acme/api#1",
            "linked   acme/api#4 under acme/api#1",
            "linked: 1 new, 1 already there",
        ]
        assert write_requests(emu.counters) == 1
        assert sub_issues(emu) == [2, 3, 4]

    def test_dry_run_reads_the_children_and_writes_nothing(
        self, github: tuple[GitHubEmulator, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """One GET of the sub-issue list; the plan is printed."""
        emu, config = github
        code, out, _ = run(
            link_argv(config, "acme/api#1", "acme/api#2", extra=("--dry-run",)), capsys
        )
        assert code == 0
        assert out.splitlines() == [
            "plan     acme/api#2 under acme/api#1",
            "dry run: 1 link(s) planned, nothing written",
        ]
        assert emu.request_count() == 1
        assert sub_issues(emu) == []

    def test_the_write_budget_leaves_the_rest_for_a_rerun_with_exit_4(
        self,
        github: tuple[GitHubEmulator, Path],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """``operations.max_writes_per_cycle: 1``: one link now, the other waits."""
        emu, config = github
        config.write_text(
            config.read_text(encoding="utf-8") + "operations: {max_writes_per_cycle: 1}\n",
            encoding="utf-8",
        )
        code, out, _ = run(link_argv(config, "acme/api#1", "acme/api#2", "acme/api#3"), capsys)
        assert code == 4
        assert "waiting  acme/api#3: write budget, rate limit or leadership; rerun later" in out
        assert sub_issues(emu) == [2]

    def test_an_item_under_another_parent_fails_with_exit_3_and_stays_there(
        self, github: tuple[GitHubEmulator, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """pmsync never moves a sub-issue: the error names the parent it has."""
        emu, config = github
        run(link_argv(config, "acme/api#4", "acme/api#2"), capsys)
        code, _, err = run(link_argv(config, "acme/api#1", "acme/api#2"), capsys)
        assert code == 3
        assert "acme/api#2 is already a sub-issue of acme/api#4" in err
        assert sub_issues(emu) == []

    @pytest.mark.parametrize(
        "refs",
        [("acme/api#1", "REL-2"), ("acme/api#1", "acme/api#1"), ("acme/api", "acme/api#2")],
        ids=["a Jira key", "the postmortem itself", "no number"],
    )
    def test_bad_references_are_bad_input_and_nothing_is_written(
        self,
        github: tuple[GitHubEmulator, Path],
        capsys: pytest.CaptureFixture[str],
        refs: tuple[str, str],
    ) -> None:
        """Exit 2 with the reason, before any request."""
        emu, config = github
        code, _, err = run(link_argv(config, *refs), capsys)
        assert code == 2
        assert refs[1] in err or refs[0] in err
        assert emu.request_count() == 0

    def test_each_link_is_recorded_in_the_state_store_ledger(
        self,
        github: tuple[GitHubEmulator, Path],
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """``--state``: the ledger keeps one ``link_child`` line per link, with its parent."""
        from syncer.state import StateStore

        _, config = github
        state = f"sqlite:///{tmp_path / 'state.db'}"
        code, _, _ = run(
            link_argv(config, "acme/api#1", "acme/api#2", extra=("--state", state)), capsys
        )
        store = StateStore.open(state)
        try:
            entries = list(
                store.entries_between(
                    datetime(2000, 1, 1, tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
                )
            )
        finally:
            store.close()
        assert code == 0
        assert [(e.kind, e.item_key, e.inputs, e.outcome) for e in entries] == [
            ("link_child", "acme/api#2", {"parent": "acme/api#1"}, "done")
        ]


@pytest.fixture(params=["cloud", "datacenter"])
def jira(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[JiraEmulator, Path]]:
    """A project with a postmortem (REL-1) and three items, and a policy for it."""
    mode = request.param
    with JiraEmulator(mode=mode, email=EMAIL, token=TOKEN, clock=lambda: NOW) as emu:
        emu.add_project("REL", "Reliability")
        for title in ("Postmortem: INC-7", "Add a breaker", "Alert on lag", "Runbook"):
            emu.add_issue("REL", title, labels=["postmortem-action"])
        monkeypatch.setenv("PMSYNC_TEST_JIRA_TOKEN", TOKEN)
        monkeypatch.setenv("PMSYNC_TEST_JIRA_EMAIL", EMAIL)
        path = tmp_path / "pmsync.yaml"
        path.write_text(
            "version: '1'\n"
            "trackers:\n"
            "  jira:\n"
            "    - name: jira\n"
            f"      server: {emu.base_url}\n"
            f"      deployment: {mode}\n"
            "      jql: project = REL AND labels = postmortem-action\n"
            "      token_env: PMSYNC_TEST_JIRA_TOKEN\n"
            "      email_env: PMSYNC_TEST_JIRA_EMAIL\n",
            encoding="utf-8",
        )
        yield emu, path


class TestLinkOnJira:
    def test_items_are_linked_from_the_postmortem_and_a_rerun_writes_nothing(
        self, jira: tuple[JiraEmulator, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Relates links with the postmortem as the outward issue; keys read case-blind."""
        emu, config = jira
        code, out, err = run(link_argv(config, "REL-1", "rel-2", "REL-3"), capsys)
        assert (code, err) == (0, "")
        assert out.splitlines()[-1] == "linked: 2 new, 0 already there"
        assert emu.links_of("REL-1") == [
            ("Relates", "REL-2", "REL-1"),
            ("Relates", "REL-3", "REL-1"),
        ]
        emu.reset_counters()
        code, out, _ = run(link_argv(config, "REL-1", "REL-2", "REL-3"), capsys)
        assert code == 0
        assert out.splitlines()[-1] == "linked: 0 new, 2 already there"
        assert write_requests(emu.counters) == 0

    def test_dry_run_writes_nothing(
        self, jira: tuple[JiraEmulator, Path], capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The plan is printed; no link is made."""
        emu, config = jira
        code, out, _ = run(link_argv(config, "REL-1", "REL-2", extra=("--dry-run",)), capsys)
        assert code == 0
        assert out.splitlines() == [
            "plan     REL-2 under REL-1",
            "dry run: 1 link(s) planned, nothing written",
        ]
        assert write_requests(emu.counters) == 0
        assert emu.links_of("REL-1") == []
