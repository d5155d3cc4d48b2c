"""Filing through the one applier, on the GitHub emulator: ledger, fence, lost answers, dry run.

A filing interrupted (leadership lost after two issues; the postmortem's answer lost after it
was created) and run again files every issue exactly once: the rerun finds what was filed by
its markers, and the ledger records one filing per issue. A dry run writes nothing and
records nothing, through the same code path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_model import ApiError
from connectors.github.filer import GitHubFiler, filer_from_policy
from syncer.core.ledger import MemoryLedger
from syncer.core.policy import Policy
from syncer.core.tracker_config import GitHubTracker, Trackers
from syncer.postmortem.filing import slug_of
from syncer.postmortem.filing_apply import FilingResult, file_incident
from syncer.postmortem.filing_model import FilingLabels, Unchanged
from syncer.postmortem.record import Record

from .conftest import TODAY
from .test_github_filing import NOW, PEOPLE, TOKEN

INCIDENT = "INC-2026-042"


@pytest.fixture
def emulator() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(token=TOKEN, clock=lambda: NOW) as emu:
        emu.add_repo("acme/api")
        for login in PEOPLE:
            emu.set_permission("acme/api", login, "write")
        yield emu


@pytest.fixture
def github_policy(
    emulator: GitHubEmulator, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> Policy:
    monkeypatch.setenv("PMSYNC_TEST_GITHUB_TOKEN", TOKEN)
    tracker = GitHubTracker(
        base_url=emulator.base_url,
        repositories=["acme/api"],
        token_env="PMSYNC_TEST_GITHUB_TOKEN",
        seconds_between_writes=0,
    )
    return policy.model_copy(update={"trackers": Trackers(github=[tracker])})


def filer(policy: Policy) -> GitHubFiler:
    return filer_from_policy(policy)[0]


def file_once(
    record: Record,
    policy: Policy,
    ledger: MemoryLedger,
    *,
    fence: Callable[[], bool] = lambda: True,
    dry_run: bool = False,
) -> FilingResult:
    return file_incident(
        filer(policy),
        record.incident,
        policy,
        TODAY,
        FilingLabels.for_tracker(policy.trackers.github[0]),
        tracker="github",
        ledger=ledger,
        fence=fence,
        dry_run=dry_run,
        clock=lambda: NOW,
    )


def slugs_filed(emulator: GitHubEmulator) -> Counter[str]:
    """How many issues in the repository carry each filing marker of the incident."""
    found: Counter[str] = Counter()
    number = 1
    while True:
        try:
            body = emulator.issue("acme/api", number)["body"] or ""
        except ApiError:  # 404: past the last issue
            return found
        slug = slug_of(INCIDENT, body)
        if slug is not None:
            found[slug] += 1
        number += 1


def allow(writes: int) -> Callable[[], bool]:
    """A leader fence that holds for ``writes`` writes, then is lost."""
    asked = iter(range(writes + 1))
    return lambda: next(asked, writes) < writes


def write_requests(emulator: GitHubEmulator) -> int:
    return sum(n for (m, _, s), n in emulator.counters.items() if m != "GET" and 200 <= s < 300)


class TestInterruptedFiling:
    def test_leadership_lost_after_two_issues_then_a_rerun_files_each_issue_once(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """Two issues filed, three wait; the rerun files those three and nothing twice."""
        ledger = MemoryLedger()
        first = file_once(record, github_policy, ledger, fence=allow(2))
        assert (first.created, first.waiting) == (2, 3)
        assert sum(slugs_filed(emulator).values()) == 2

        second = file_once(record, github_policy, ledger)
        assert (second.created, second.updated, second.waiting) == (3, 0, 0)
        filed = slugs_filed(emulator)
        assert filed == Counter(dict.fromkeys(filed, 1))
        assert len(filed) == 5
        done = Counter(
            e.item_key for e in ledger.entries if e.outcome == "done" and e.kind == "file_issue"
        )
        assert done == Counter({f"{INCIDENT}:{slug}": 1 for slug in filed})
        links = Counter(e.item_key for e in ledger.entries if e.kind == "link_child")
        assert links == Counter({f"acme/api#{n}": 1 for n in (2, 3, 4, 5)})

    def test_a_postmortem_whose_answer_was_lost_is_found_not_filed_again(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """The create reached GitHub but its answer did not: the run fails, the items wait;
        the rerun finds the postmortem by its marker and files only the four items."""
        ledger = MemoryLedger()
        emulator.faults = replace(emulator.faults, drop_after_commit_rate=1.0)
        first = file_once(record, github_policy, ledger)
        assert [f.action.kind for f in first.failed] == ["file_issue"]
        assert (first.created, first.waiting) == (0, 4)
        assert sum(slugs_filed(emulator).values()) == 1

        emulator.faults = replace(emulator.faults, drop_after_commit_rate=0.0)
        second = file_once(record, github_policy, ledger)
        assert isinstance(second.steps[0], Unchanged)
        assert (second.created, second.failed) == (4, [])
        filed = slugs_filed(emulator)
        assert filed == Counter(dict.fromkeys(filed, 1))
        assert len(filed) == 5
        outcomes = Counter((e.item_key, e.outcome) for e in ledger.entries)
        assert outcomes[(f"{INCIDENT}:postmortem", "failed")] == 1
        assert outcomes[(f"{INCIDENT}:postmortem", "done")] == 0

    def test_the_budget_spent_on_a_filing_equals_the_write_requests_received(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """Five issue POSTs and four sub-issue POSTs, nine charged."""
        emulator.reset_counters()
        result = file_once(record, github_policy, MemoryLedger())
        assert result.spent == write_requests(emulator) == 9

    def test_a_budget_smaller_than_the_filing_leaves_the_rest_for_the_rerun(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        operations = github_policy.operations.model_copy(update={"max_writes_per_cycle": 3})
        policy = github_policy.model_copy(update={"operations": operations})
        result = file_once(record, policy, MemoryLedger())
        # two issues wait, and the links of the two items filed (no budget left for them)
        assert (result.created, result.waiting, result.spent) == (3, 4, 3)
        assert write_requests(emulator) == 3


class TestDryRun:
    def test_a_dry_run_plans_every_issue_and_writes_and_records_nothing(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """The DryRun executor: five planned, no write request, no ledger entry."""
        ledger = MemoryLedger()
        emulator.reset_counters()
        result = file_once(record, github_policy, ledger, dry_run=True)
        assert (result.planned, result.created, result.spent) == (5, 0, 0)
        assert write_requests(emulator) == 0
        assert emulator.request_count("GET") == 1
        assert ledger.entries == []


class TestLedgerOfTheStateStore:
    def test_postmortem_file_with_state_records_each_filing_in_its_ledger(
        self,
        emulator: GitHubEmulator,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Five 'done' file_issue rows after the first run; the rerun writes and adds none."""
        from syncer.state import StateStore

        from .conftest import EXAMPLE
        from .test_cli import run as run_cli

        monkeypatch.setenv("PMSYNC_TEST_GITHUB_TOKEN", TOKEN)
        config = tmp_path / "pmsync.yaml"
        config.write_text(
            "version: '1'\ntrackers:\n  github:\n"
            f"    - base_url: {emulator.base_url}\n      repositories: [acme/api]\n"
            "      token_env: PMSYNC_TEST_GITHUB_TOKEN\n      seconds_between_writes: 0\n",
            encoding="utf-8",
        )
        state = f"sqlite:///{tmp_path / 'state.db'}"
        argv = ["file", str(EXAMPLE), "--config", str(config), "--today", "2026-11-04"]
        assert run_cli([*argv, "--state", state], capsys)[0] == 0
        assert run_cli([*argv, "--state", state], capsys)[0] == 0

        store = StateStore.open(state)
        try:
            rows = store.entries_between(
                datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
            )
        finally:
            store.close()
        assert Counter((e.kind, e.outcome) for e in rows) == Counter(
            {("file_issue", "done"): 5, ("link_child", "done"): 4}
        )
        assert {e.tracker for e in rows} == {"github"}


def sub_issue_numbers(emulator: GitHubEmulator) -> list[int]:
    """The postmortem's (issue 1) sub-issues as GitHub lists them."""
    import requests

    answer = requests.get(
        f"{emulator.base_url}/repos/acme/api/issues/1/sub_issues",
        headers={"Authorization": f"token {TOKEN}"},
        timeout=5,
    )
    return [row["number"] for row in answer.json()]


def with_budget(policy: Policy, writes: int) -> Policy:
    operations = policy.operations.model_copy(update={"max_writes_per_cycle": writes})
    return policy.model_copy(update={"operations": operations})


class TestActionItemsBecomeSubIssues:
    def test_the_first_run_files_and_links_each_item_and_a_rerun_writes_nothing(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """First run: 5 issues and 4 sub-issues in 15 requests (1 list, 5 POSTs, 1 sub-issue
        list, then a GET and a POST per item); rerun: the two lists, nothing written."""
        emulator.reset_counters()
        first = file_once(record, github_policy, MemoryLedger())
        assert (first.created, first.linked, first.waiting) == (5, 4, 0)
        assert first.postmortem is not None
        assert first.postmortem.key == "acme/api#1"
        assert sum(emulator.counters.values()) == 15
        assert sub_issue_numbers(emulator) == [2, 3, 4, 5]

        emulator.reset_counters()
        second = file_once(record, github_policy, MemoryLedger())
        assert (second.created, second.updated, second.linked, second.waiting) == (0, 0, 0, 0)
        assert [ref.key for ref in second.links_already] == [f"acme/api#{n}" for n in (2, 3, 4, 5)]
        assert write_requests(emulator) == 0
        assert sum(emulator.counters.values()) == emulator.request_count("GET") == 2

    def test_a_budget_cut_mid_links_leaves_the_rest_for_a_rerun_that_links_each_once(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """Budget 7: five issues and two links, two links wait; the rerun makes those two."""
        ledger = MemoryLedger()
        first = file_once(record, with_budget(github_policy, 7), ledger)
        assert (first.created, first.linked, first.waiting, first.spent) == (5, 2, 2, 7)
        assert sub_issue_numbers(emulator) == [2, 3]

        second = file_once(record, with_budget(github_policy, 7), ledger)
        assert (second.created, second.linked, second.waiting, second.spent) == (0, 2, 0, 2)
        assert len(second.links_already) == 2
        assert sub_issue_numbers(emulator) == [2, 3, 4, 5]
        links = Counter(e.item_key for e in ledger.entries if e.kind == "link_child")
        assert links == Counter({f"acme/api#{n}": 1 for n in (2, 3, 4, 5)})

    def test_a_dry_run_lists_the_links_it_would_make_and_writes_nothing(
        self, emulator: GitHubEmulator, github_policy: Policy, record: Record
    ) -> None:
        """Before filing: four links once the items are filed; after a cut run: the two
        missing links as planned ``LinkChild`` actions, no write, no ledger row."""
        before = file_once(record, github_policy, MemoryLedger(), dry_run=True)
        assert len(before.links_after_filing) == 4
        assert before.links_planned == []

        file_once(record, with_budget(github_policy, 7), MemoryLedger())
        ledger = MemoryLedger()
        emulator.reset_counters()
        after = file_once(record, github_policy, ledger, dry_run=True)
        assert [ref.key for ref in after.links_planned] == ["acme/api#4", "acme/api#5"]
        assert (after.links_after_filing, after.planned, after.linked) == ((), 2, 0)
        assert write_requests(emulator) == 0
        assert ledger.entries == []
        assert sub_issue_numbers(emulator) == [2, 3]
