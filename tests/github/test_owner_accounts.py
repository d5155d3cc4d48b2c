"""Inactive GitHub owners end to end: the emulator, the real connector, the cycle, the store.

A login that answers 404 (deleted) or is suspended (Enterprise Server) is no accountable
owner: the item gets the needs-owner label, the sponsor is asked, and no comment mentions the
departed person. Each login is looked up at most once a day, the answer kept in the state store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from connectors.emulators.github import Faults, GitHubEmulator
from connectors.github import GitHubConnector
from syncer.core.apply import Applier
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.directory import AccountStatus
from syncer.core.ledger import MemoryLedger
from syncer.core.policy import Escalation, Policy, Reminder, Tier
from syncer.state import StateStore
from tests.github.conftest import START, TOKEN, ConnectorFactory, FakeClock

USERS = "/users/{username}"
POLICY = Policy(
    version="owners-1",
    escalation=Escalation(
        reminder=Reminder(before="3d"),
        tiers=[
            Tier(name="owner", after="0d", label="pmsync/overdue"),
            Tier(
                name="sponsor",
                after="7d",
                label="pmsync/escalated-sponsor",
                mention=["owner", "sponsor"],
            ),
        ],
        fallback_mention=["@sre-lead"],
    ),
)


def body(*, owner: str, due: str, evidence: str = "_No response_") -> str:
    return (
        f"### Owner\n\n{owner}\n\n### Postmortem\n\nINC-7\n\n### Due date\n\n{due}\n\n"
        f"### Sponsor\n\n@bob\n\n### Evidence\n\n{evidence}\n"
    )


def add_item(
    emulator: GitHubEmulator, title: str, *, owner: str, due: str, assignees: list[str], **kw: str
) -> int:
    return emulator.add_issue(
        "acme/api",
        title,
        labels=["postmortem-action", "P1", "sev-2"],
        assignees=assignees,
        body=body(owner=owner, due=due, evidence=kw.get("evidence", "_No response_")),
        created_at=START - timedelta(days=20),
        state=kw.get("state", "open"),
        closed_at=START - timedelta(days=2) if kw.get("state") == "closed" else None,
    )


class Cycles:
    """Cycles of one connector through the real applier, owner answers in a state store."""

    def __init__(self, connector: GitHubConnector, clock: FakeClock, store: StateStore) -> None:
        self.connector = connector
        self.clock = clock
        self.store = store
        self.count = 0

    def run(self) -> CycleOutcome:
        self.count += 1
        cycle_id = f"c{self.count}"
        applier = Applier(
            {"github": self.connector},
            MemoryLedger(),
            self.clock,
            cycle_id=cycle_id,
            policy_version=POLICY.version,
        )
        outcome = run_cycle(
            trackers=[self.connector],
            policy=POLICY,
            now=self.clock(),
            executor=applier,
            cycle_id=cycle_id,
            lookups=self.store,
        )
        assert outcome.fetch_errors == {}
        assert outcome.result.failed == []
        return outcome


@pytest.fixture(autouse=True)
def repository(emulator: GitHubEmulator) -> None:
    emulator.add_repo("acme/api")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore.open(path=tmp_path / "state.db")
    try:
        yield opened
    finally:
        opened.close()


def user_requests(emulator: GitHubEmulator) -> dict[int, int]:
    return {s: n for (m, path, s), n in emulator.counters.items() if path == USERS and n}


def bodies(emulator: GitHubEmulator, number: int) -> list[str]:
    return [str(c["body"]) for c in emulator.comments("acme/api", number)]


class TestDeletedAccount:
    def test_an_owner_whose_login_answers_404_is_escalated_to_the_sponsor_only(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Owner section names @dana, whose account is gone: needs-owner, @bob asked."""
        emulator.add_user("dana")
        number = add_item(emulator, "Add a breaker", owner="@dana", due="2026-11-13", assignees=[])
        emulator.delete_user("dana")
        Cycles(make_connector(policy=POLICY), clock, store).run()
        labels = emulator.labels_of("acme/api", number)
        assert {"pmsync/needs-owner", "pmsync/escalated-sponsor"} <= set(labels)
        comments = bodies(emulator, number)
        assert len(comments) == 2
        assert sum("@bob" in text for text in comments) == 1  # pinged once per item
        assert not any("@dana" in text for text in comments)
        [asked] = [t for t in comments if "needs" in t]
        assert "account is inactive: dana" in asked
        assert user_requests(emulator) == {404: 1}

    def test_a_closure_owned_by_a_deleted_account_is_reopened_with_that_reason(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Good evidence, but the only owner has left: the reason says the account is inactive."""
        emulator.add_pull("acme/api", number=12, merged=True)
        evidence = f"{emulator.base_url}/acme/api/pull/12"
        emulator.add_user("dana")
        number = add_item(
            emulator,
            "Fix the timeout",
            owner="@dana",
            due="2026-12-20",
            assignees=[],
            state="closed",
            evidence=evidence,
        )
        emulator.delete_user("dana")
        Cycles(make_connector(policy=POLICY), clock, store).run()
        assert emulator.issue("acme/api", number)["state"] == "open"
        comments = bodies(emulator, number)
        [rejection] = [t for t in comments if "closure criteria" in t]
        assert not any("@dana" in text for text in comments)
        assert "account is inactive" in rejection
        assert "evidence" not in rejection.split("criteria:", 1)[1].split(".")[0]
        assert "@dana" not in rejection
        assert "@bob" in rejection


class TestSuspendedAccount:
    def test_a_suspended_assignee_on_enterprise_server_is_no_owner(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """GHES sends suspended_at: the suspended assignee is not mentioned, the sponsor is."""
        emulator.enterprise_server = True
        number = add_item(
            emulator, "Rotate keys", owner="@erin", due="2026-11-13", assignees=["erin"]
        )
        emulator.suspend_user("erin", START - timedelta(days=3))
        Cycles(make_connector(policy=POLICY), clock, store).run()
        assert "pmsync/needs-owner" in emulator.labels_of("acme/api", number)
        comments = bodies(emulator, number)
        assert len(comments) == 2
        assert sum("@bob" in text for text in comments) == 1  # pinged once per item
        assert not any("@erin" in text for text in comments)
        assert user_requests(emulator) == {200: 1}

    def test_the_reminder_skips_a_suspended_owner_and_falls_back(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Due in two days, owner suspended: the reminder goes to the fallback, not to @erin."""
        emulator.enterprise_server = True
        number = add_item(
            emulator, "Rotate keys", owner="@erin", due="2026-11-25", assignees=["erin"]
        )
        emulator.suspend_user("erin")
        Cycles(make_connector(policy=POLICY), clock, store).run()
        comments = bodies(emulator, number)
        [reminder] = [t for t in comments if "reminder" in t]
        assert "@sre-lead" in reminder
        assert not any("@erin" in text for text in comments)

    def test_an_active_owner_is_reminded_as_before(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Control: an active, assigned owner gets the reminder and no owner comment."""
        emulator.enterprise_server = True
        number = add_item(
            emulator, "Rotate keys", owner="@alice", due="2026-11-25", assignees=["alice"]
        )
        Cycles(make_connector(policy=POLICY), clock, store).run()
        [reminder] = bodies(emulator, number)
        assert "@alice" in reminder
        assert "pmsync/needs-owner" not in emulator.labels_of("acme/api", number)


class TestLookupCost:
    def test_each_login_is_looked_up_once_a_day(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Cycle 1: one GET per distinct login; same day: none; the next day: one per login."""
        for n in range(3):
            add_item(emulator, f"Item {n}", owner="@alice", due="2026-12-20", assignees=["alice"])
        emulator.add_user("dana")
        add_item(emulator, "Item 3", owner="@dana", due="2026-12-20", assignees=[])
        emulator.delete_user("dana")
        cycles = Cycles(make_connector(policy=POLICY), clock, store)
        emulator.reset_counters()
        cycles.run()
        assert user_requests(emulator) == {200: 1, 404: 1}
        for _ in range(2):
            clock.advance(minutes=15)
            emulator.reset_counters()
            cycles.run()
            assert user_requests(emulator) == {}
        # The last one was idle: its whole cost is the repository's conditional list, a 304.
        assert emulator.counters == {("GET", "/repos/{owner}/{repo}/issues", 304): 1}
        clock.advance(days=1)
        emulator.reset_counters()
        cycles.run()
        assert user_requests(emulator) == {200: 1, 404: 1}

    def test_a_restarted_daemon_asks_nothing_again_the_same_day(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        tmp_path: Path,
    ) -> None:
        """The answers are in the state store, not in the process."""
        add_item(emulator, "Item", owner="@alice", due="2026-12-20", assignees=["alice"])
        with StateStore.open(path=tmp_path / "s.db") as first:
            Cycles(make_connector(policy=POLICY), clock, first).run()
        emulator.reset_counters()
        clock.advance(hours=1)
        with StateStore.open(path=tmp_path / "s.db") as second:
            Cycles(make_connector(policy=POLICY), clock, second).run()
        assert user_requests(emulator) == {}

    def test_owners_of_long_closed_items_are_not_looked_up(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Only items that matter: a closure outside the judging window costs nothing."""
        emulator.add_issue(
            "acme/api",
            "Old",
            labels=["postmortem-action", "P1"],
            assignees=["carol"],
            body=body(owner="@carol", due="2026-08-01"),
            created_at=START - timedelta(days=200),
            state="closed",
            closed_at=START - timedelta(days=90),
        )
        Cycles(make_connector(policy=POLICY), clock, store).run()
        assert user_requests(emulator) == {}


class TestConnectorLookups:
    def test_404_suspended_and_active_are_told_apart(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """One GET each, read as not found, suspended and active."""
        emulator.enterprise_server = True
        emulator.add_user("alice")
        emulator.add_user("erin")
        emulator.suspend_user("erin")
        found = make_connector().look_up_users(["alice", "erin", "nobody"])
        assert found == {
            "alice": AccountStatus(active=True),
            "erin": AccountStatus(active=False, detail="suspended"),
            "nobody": AccountStatus(active=False, detail="not found"),
        }
        assert sum(user_requests(emulator).values()) == 3

    def test_a_deleted_account_is_logged_as_an_answer_at_info_never_as_a_warning(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """The 404 is how GitHub says the owner left, not a failure for an operator to chase:
        one INFO line with the transport's usual (redacted) fields, no warning."""
        emulator.add_user("dana")
        emulator.delete_user("dana")
        with capture_logs() as logs:
            found = make_connector().look_up_users(["dana"])
        assert found == {"dana": AccountStatus(active=False, detail="not found")}
        assert logs == [
            {
                "event": "github request answered as its caller expects",
                "verb": "GET",
                "what": "look up owner account dana",
                "status": 404,
                "message": "Not Found (https://docs.github.com/rest/users/users#get-a-user)",
                "log_level": "info",
            }
        ]
        assert TOKEN not in repr(logs)

    def test_a_server_error_is_no_answer_never_inactive(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """A 5xx leaves the login out: it stays 'not known'."""
        emulator.add_user("alice")
        connector = make_connector()
        emulator.faults = Faults(error_5xx_rate=1.0)
        assert connector.look_up_users(["alice"]) == {}

    def test_a_rate_limit_stops_the_look_ups_for_the_cycle(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        """With the primary limit spent, one request is refused and no more are sent."""
        connector = make_connector()
        emulator.set_rate_limit(limit=5000, remaining=0, reset_at=clock() + timedelta(hours=1))
        emulator.reset_counters()
        assert connector.look_up_users(["alice", "bob", "carol"]) == {}
        assert emulator.request_count() == 1

    def test_look_ups_can_be_switched_off(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory
    ) -> None:
        """look_up_owners: false sends nothing."""
        assert make_connector(look_up_owners=False).look_up_users(["alice"]) == {}
        assert emulator.request_count() == 0
