"""Action items become sub-issues of their postmortem through the one applier, on the
emulator over HTTP with the real PyGithub requester: one read and one write per child,
nothing written when the child is already there, nothing twice after a lost answer."""

from __future__ import annotations

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_server import Faults
from connectors.github import GitHubConnector
from syncer.core.actions import ItemChange, LinkChild, Plan
from syncer.core.apply import ApplyResult, choose_executor
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ItemRef

from .conftest import ConnectorFactory, FakeClock

PM = ItemRef(tracker="github", key="acme/api#1")


def refs(*numbers: int) -> list[ItemRef]:
    return [ItemRef(tracker="github", key=f"acme/api#{n}") for n in numbers]


def seed(emulator: GitHubEmulator) -> None:
    emulator.add_repo("acme/api")
    for title in ("Postmortem: INC-7", "Add a breaker", "Alert on lag", "Runbook"):
        emulator.add_issue("acme/api", title, labels=["postmortem-action"])


def run(
    connector: GitHubConnector,
    clock: FakeClock,
    children: list[ItemRef],
    *,
    dry_run: bool = False,
    budget: int | None = None,
    ledger: MemoryLedger | None = None,
    fence: bool = True,
) -> ApplyResult:
    executor, _ = choose_executor(
        dry_run=dry_run,
        shadow=False,
        trackers={connector.name: connector},
        ledger=ledger or MemoryLedger(),
        clock=clock,
        cycle_id="test",
        policy_version="test",
        fence=lambda: fence,
    )
    changes = tuple(
        ItemChange(key=c.key, actions=(LinkChild(parent=PM, child=c),)) for c in children
    )
    return executor.execute(Plan(changes=changes, budget=budget))


def sub_issue_numbers(emulator: GitHubEmulator, number: int = 1) -> list[int]:
    with emulator._state.lock:
        repo = emulator._state.repo("acme", "api")
        issue = emulator._state.issue(repo, number)
        return [emulator._state.issues_by_id[i][1].number for i in issue.sub_issue_ids]


def requests_by_template(emulator: GitHubEmulator) -> dict[tuple[str, str], int]:
    counted: dict[tuple[str, str], int] = {}
    for (method, template, _), n in emulator.counters.items():
        counted[(method, template)] = counted.get((method, template), 0) + n
    return counted


ISSUE = "/repos/{owner}/{repo}/issues/{issue_number}"


class TestLinkChild:
    def test_each_child_costs_one_read_and_one_write_and_lands_under_the_parent(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The child's id is read, then one POST by id; the budget is charged one per child."""
        seed(emulator)
        connector = make_connector()
        ledger = MemoryLedger()
        emulator.reset_counters()
        result = run(connector, clock, refs(3, 2), ledger=ledger)
        assert [d.outcome for d in result.done] == ["done", "done"]
        assert result.spent == 2
        assert sub_issue_numbers(emulator) == [3, 2]
        assert requests_by_template(emulator) == {
            ("GET", ISSUE): 2,
            ("POST", f"{ISSUE}/sub_issues"): 2,
        }
        assert [(e.item_key, e.kind, e.inputs) for e in ledger.entries] == [
            ("acme/api#3", "link_child", {"parent": "acme/api#1"}),
            ("acme/api#2", "link_child", {"parent": "acme/api#1"}),
        ]
        assert connector.children(PM) == tuple(refs(3, 2))

    def test_a_child_already_under_the_parent_is_skipped_without_a_write(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """Rerunning the same link sends one GET and no POST."""
        seed(emulator)
        connector = make_connector()
        run(connector, clock, refs(2))
        emulator.reset_counters()
        result = run(connector, clock, refs(2))
        assert [d.outcome for d in result.done] == ["skipped"]
        assert result.spent == 0
        assert requests_by_template(emulator) == {("GET", ISSUE): 1}

    def test_a_lost_answer_then_a_rerun_leaves_one_link_and_sends_no_second_post(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The POST is stored but its answer never arrives; the rerun reads the parent back."""
        seed(emulator)
        connector = make_connector()
        emulator.faults = Faults(drop_after_commit_rate=1.0)
        lost = run(connector, clock, refs(2))
        emulator.faults = Faults()
        emulator.reset_counters()
        rerun = run(make_connector(), clock, refs(2))
        assert [f.transient for f in lost.failed] == [True]
        assert [d.outcome for d in rerun.done] == ["skipped"]
        assert sub_issue_numbers(emulator) == [2]
        assert ("POST", f"{ISSUE}/sub_issues") not in requests_by_template(emulator)

    def test_a_child_of_another_parent_is_refused_and_not_moved(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """pmsync never sends ``replace_parent``: the failure names the other parent."""
        seed(emulator)
        connector = make_connector()
        elsewhere = ItemRef(tracker="github", key="acme/api#4")
        executor, _ = choose_executor(
            dry_run=False,
            shadow=False,
            trackers={"github": connector},
            ledger=MemoryLedger(),
            clock=clock,
            cycle_id="t",
            policy_version="t",
        )
        executor.execute(
            Plan(
                changes=(
                    ItemChange(key="x", actions=(LinkChild(parent=elsewhere, child=refs(2)[0]),)),
                )
            )
        )
        emulator.reset_counters()
        result = run(connector, clock, refs(2))
        assert [(f.transient, "acme/api#4" in f.error) for f in result.failed] == [(False, True)]
        assert sub_issue_numbers(emulator, 4) == [2]
        assert sub_issue_numbers(emulator, 1) == []
        assert ("POST", f"{ISSUE}/sub_issues") not in requests_by_template(emulator)

    def test_dry_run_plans_and_writes_nothing(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """``DryRun`` reports the link as planned and sends no request at all."""
        seed(emulator)
        connector = make_connector()
        emulator.reset_counters()
        result = run(connector, clock, refs(2, 3), dry_run=True)
        assert [d.outcome for d in result.done] == ["planned", "planned"]
        assert sum(emulator.counters.values()) == 0

    def test_the_budget_takes_one_child_and_leaves_the_other_for_later(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """A link costs one write request (``connectors.github.costs``)."""
        seed(emulator)
        connector = make_connector()
        assert connector.write_cost(LinkChild(parent=PM, child=refs(2)[0])) == 1
        result = run(connector, clock, refs(2, 3), budget=1)
        assert [d.outcome for d in result.done] == ["done"]
        assert [d.key for d in result.backlog] == ["acme/api#3"]
        assert sub_issue_numbers(emulator) == [2]

    def test_a_lost_leadership_stops_before_anything_is_sent(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """The fence says no: the change waits, no request leaves."""
        seed(emulator)
        connector = make_connector()
        emulator.reset_counters()
        result = run(connector, clock, refs(2), fence=False)
        assert result.fenced
        assert [d.key for d in result.backlog] == ["acme/api#2"]
        assert sum(emulator.counters.values()) == 0
