"""Scheduled ``pmsync run --once`` processes sharing one state store pay only for what changed.

Each run is a separate ``pmsync`` process, as a cron job or CI schedule starts it; the only
thing they share is the state store. The emulators count every request they answer, so these
tests assert request counts (never times): an idle run costs one conditional list request per
GitHub repository, all 304 and free of quota, and one Jira search; the items it evaluates come
from the view cache the earlier run left in the store.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.jira import JiraEmulator
from syncer.state import StateStore
from tests.service.support import (
    PMSYNC,
    TOKEN,
    TOKEN_ENV,
    issue_body,
    policy_dict,
    seed_repo,
    write_policy,
)

REPOS = ("acme/api", "acme/web", "acme/db")
LIST = ("GET", "/repos/{owner}/{repo}/issues")
FOLLOW_UP = ("GET", "/repositories/{repository_id}/issues")
JIRA_EMAIL, JIRA_TOKEN = "bot@acme.test", "jira-idle-run-token"
JIRA_ENV = {"PMSYNC_TEST_JIRA_EMAIL": JIRA_EMAIL, "PMSYNC_TEST_JIRA_TOKEN": JIRA_TOKEN}


def run_once(
    policy: Path,
    state_url: str,
    *extra: str,
    env: dict[str, str] | None = None,
    exit_code: int = 0,
) -> subprocess.CompletedProcess[str]:
    """One ``pmsync run --once`` process; fails the test with its output on another exit."""
    done = subprocess.run(
        [str(PMSYNC), "run", "--once", "--config", str(policy), "--state", state_url, *extra],
        env={**os.environ, TOKEN_ENV: TOKEN, "PMSYNC_LOG_LEVEL": "WARNING", **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == exit_code, done.stdout + done.stderr
    return done


def lists(counters: Counter[tuple[str, str, int]]) -> Counter[int]:
    """Issue-list requests (first and follow-up pages) by status."""
    found: Counter[int] = Counter()
    for (method, path, status), n in counters.items():
        if (method, path) in (LIST, FOLLOW_UP):
            found[status] += n
    return found


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubEmulator]:
    """Three repositories of compliant items (owner, due in two weeks), a second apart: a run
    writes nothing; the first one holds 130 items, so its full read takes two pages."""
    emu = GitHubEmulator(token=TOKEN)
    emu.start()
    due = date.today() + timedelta(days=14)
    for index, repo in enumerate(REPOS):
        seed_repo(emu, repo)
        for n in range(130 if index == 0 else 20):
            emu.add_issue(
                repo,
                f"Action {n}",
                body=issue_body("alice", due),
                labels=["postmortem-action", "sev-2", "P2"],
                assignees=["alice"],
                created_at=emu.now() - timedelta(days=3, seconds=200 - n),
            )
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def github_policy(github: GitHubEmulator, tmp_path: Path) -> Path:
    data = policy_dict(github.base_url)
    data["trackers"]["github"][0]["repositories"] = list(REPOS)
    return write_policy(tmp_path / "policy.yaml", data)


def state_of(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'state.db'}"


class TestIdleRunOnceOnGitHub:
    """One conditional request per repository, all 304, no quota: the cache does the rest."""

    def test_an_idle_run_is_one_304_per_repository_and_spends_no_quota(
        self, github: GitHubEmulator, github_policy: Path, tmp_path: Path
    ) -> None:
        """The second process sends three requests in all, each answered 304."""
        run_once(github_policy, state_of(tmp_path))
        assert lists(github.counters) == Counter({200: 4})  # 2 pages + 1 + 1: a full read
        github.reset_counters()
        quota = github.rate_limit_remaining
        run_once(github_policy, state_of(tmp_path))
        assert github.counters == Counter({(*LIST, 304): len(REPOS)})
        assert github.rate_limit_remaining == quota

    def test_the_idle_run_evaluates_every_item_from_the_cache(
        self, github: GitHubEmulator, github_policy: Path, tmp_path: Path
    ) -> None:
        """Three weeks later nothing changed in the tracker, yet the items came due: all 304,
        and the run plans the escalation of all 170 items the cache holds (24 within the
        write budget, which the creation of the overdue label shares; exit 4 for the rest)."""
        run_once(github_policy, state_of(tmp_path))
        github.reset_counters()
        later = datetime.now(UTC) + timedelta(days=21)
        done = run_once(
            github_policy,
            state_of(tmp_path),
            "--now",
            later.isoformat(),
            env={"COLUMNS": "250"},  # the summary on one line
            exit_code=4,
        )
        assert lists(github.counters) == Counter({304: len(REPOS)})
        assert (
            "49 writes done (1 creating repository labels), 0 already there; 0 failed; "
            "292 writes wait for the next cycle"
        ) in done.stdout
        escalated = [
            (repo, n)
            for repo, total in zip(REPOS, (130, 20, 20), strict=True)
            for n in range(1, total + 1)
            if "pmsync/overdue" in github.labels_of(repo, n)
        ]
        # The write budget (50 a cycle: 1 label creation, then 2 writes an escalation) caps
        # what one run does.
        assert len(escalated) == 24

    def test_a_change_costs_the_first_page_of_its_repository_only(
        self, github: GitHubEmulator, github_policy: Path, tmp_path: Path
    ) -> None:
        """A comment on one issue: that repository answers 200 (one page), the others 304."""
        run_once(github_policy, state_of(tmp_path))
        github.add_comment(REPOS[0], 7, "Looking into it", user="alice")
        github.reset_counters()
        run_once(github_policy, state_of(tmp_path))
        assert lists(github.counters) == Counter({304: 2, 200: 1})

    def test_a_full_resync_is_due_when_the_last_one_in_the_store_is_a_day_old(
        self, github: GitHubEmulator, github_policy: Path, tmp_path: Path
    ) -> None:
        """The schedule lives in the store: a day-old full read makes this run read in full,
        and the run after it is idle again."""
        run_once(github_policy, state_of(tmp_path))
        with StateStore.open(state_of(tmp_path)) as store:
            for repo in REPOS:
                source = f"github:github:{repo}"
                cursor = store.get_cursor(source)
                assert cursor is not None
                assert cursor.full_sync_at is not None
                aged = cursor.full_sync_at - timedelta(days=1, minutes=1)
                store.put_cursor(source, type(cursor)(**{**vars(cursor), "full_sync_at": aged}))
        github.reset_counters()
        run_once(github_policy, state_of(tmp_path))
        assert lists(github.counters) == Counter({200: 4})
        github.reset_counters()
        run_once(github_policy, state_of(tmp_path))
        assert lists(github.counters) == Counter({304: len(REPOS)})

    def test_run_once_full_reads_every_repository_in_full(
        self, github: GitHubEmulator, github_policy: Path, tmp_path: Path
    ) -> None:
        """``--full`` asks for the resync by hand: no ETag is sent, every page is read."""
        run_once(github_policy, state_of(tmp_path))
        github.reset_counters()
        run_once(github_policy, state_of(tmp_path), "--full")
        assert lists(github.counters) == Counter({200: 4})

    def test_a_changed_policy_reads_in_full_once(
        self, github: GitHubEmulator, github_policy: Path, tmp_path: Path
    ) -> None:
        """The cached items were mapped under the old rules: a new escalation ladder makes
        the next run read everything, not trust them."""
        run_once(github_policy, state_of(tmp_path))
        data: dict[str, Any] = policy_dict(github.base_url)
        data["trackers"]["github"][0]["repositories"] = list(REPOS)
        data["escalation"]["tiers"][0]["label"] = "pmsync/late"
        changed = write_policy(tmp_path / "changed.yaml", data)
        github.reset_counters()
        run_once(changed, state_of(tmp_path))
        assert lists(github.counters) == Counter({200: 4})


@pytest.fixture(params=["cloud", "datacenter"])
def jira(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    """A Cloud or Data Center site with 150 compliant items (two search pages on a full
    read)."""
    emu = JiraEmulator(mode=request.param, email=JIRA_EMAIL, token=JIRA_TOKEN)
    emu.add_project("REL", "Reliability")
    emu.add_user(account_id="712020:alice", name="alice", display_name="Alice")
    due = date.today() + timedelta(days=14)
    for n in range(150):
        emu.add_issue(
            "REL",
            f"Action {n}",
            labels=["postmortem-action", "sev-2"],
            assignee="alice",
            duedate=due,
            updated=f"-{1 + n % 5}d",
        )
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def jira_policy(emu: JiraEmulator, tmp_path: Path, deployment: str | None = None) -> Path:
    data = policy_dict("http://unused.invalid")
    data["trackers"] = {
        "jira": [
            {
                "name": "jira",
                "server": emu.base_url,
                "deployment": deployment or emu.mode,
                "jql": "project = REL AND labels = postmortem-action",
                "email_env": "PMSYNC_TEST_JIRA_EMAIL",
                "token_env": "PMSYNC_TEST_JIRA_TOKEN",
                "fields": {"owner": "assignee", "due": "duedate"},
                "request_timeout_s": 5,
            }
        ]
    }
    # A write needs timeout (5 s) + skew allowance (1 s) of the lease left: a lease of 20 s.
    data["daemon"]["lease"] = "20s"
    return write_policy(tmp_path / "jira.yaml", data)


def jira_requests(emu: JiraEmulator) -> Counter[tuple[str, str, int]]:
    return Counter({k: v for k, v in emu.counters.items() if v})


class TestIdleRunOnceOnJira:
    """One search with the stored cursor; the field list, the items and the site's
    deployment come from the store."""

    def test_an_idle_run_is_one_search(self, jira: JiraEmulator, tmp_path: Path) -> None:
        """The cold run asks serverInfo (the configured deployment checked against the
        site), reads the field list and two pages; the idle one sends the incremental search
        and nothing else: no serverInfo, no write."""
        search = "/rest/api/2/search/jql" if jira.mode == "cloud" else "/rest/api/2/search"
        policy = jira_policy(jira, tmp_path)
        run_once(policy, state_of(tmp_path), env=JIRA_ENV)
        cold = jira_requests(jira)
        assert cold[("GET", "/rest/api/2/serverInfo", 200)] == 1
        assert cold[("GET", "/rest/api/2/field", 200)] == 1
        assert cold[("GET", search, 200)] == 2
        jira.reset_counters()
        run_once(policy, state_of(tmp_path), env=JIRA_ENV)
        assert jira_requests(jira) == Counter({("GET", search, 200): 1})

    def test_a_changed_deployment_or_a_fresh_store_asks_the_site_again(
        self, jira: JiraEmulator, tmp_path: Path
    ) -> None:
        """``deployment: auto`` is another configuration (and only the site can say), a new
        state store knows nothing: both ask serverInfo; a contradicting deployment is
        refused though the store holds the right one's view (the emulator answers the other
        deployment's auth scheme 401)."""
        run_once(jira_policy(jira, tmp_path), state_of(tmp_path), env=JIRA_ENV)
        for deployment, state in (
            ("auto", state_of(tmp_path)),
            (jira.mode, f"sqlite:///{tmp_path / 'fresh.db'}"),
        ):
            # ``auto`` takes basic auth when an email is set: Data Center's PAT goes alone.
            dc_auto = deployment == "auto" and jira.mode == "datacenter"
            env = {"PMSYNC_TEST_JIRA_TOKEN": JIRA_TOKEN} if dc_auto else JIRA_ENV
            jira.reset_counters()
            run_once(jira_policy(jira, tmp_path, deployment), state, env=env)
            assert jira_requests(jira)[("GET", "/rest/api/2/serverInfo", 200)] == 1
        jira.reset_counters()
        other = "datacenter" if jira.mode == "cloud" else "cloud"
        done = run_once(
            jira_policy(jira, tmp_path, other), state_of(tmp_path), env=JIRA_ENV, exit_code=3
        )
        assert set(jira_requests(jira)) == {("GET", "/rest/api/2/serverInfo", 401)}
        assert "jira: could not be read: GET serverInfo: HTTP 401" in done.stdout
