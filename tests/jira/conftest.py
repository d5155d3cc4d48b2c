"""A seeded Jira emulator per test (Cloud or Data Center) and a connector pointed at it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.emulators.jira import JiraEmulator
from connectors.jira.client import JiraConnector
from syncer.core.cursors import MemoryCursorStore
from syncer.core.policy import Policy
from syncer.core.tracker_config import JiraTracker
from tests.builders import example_policy

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EMAIL = "bot@acme.test"
TOKEN = "emulator-token-not-a-secret"
ALICE_ID = "712020:aaaaaaaa-0000-4000-8000-00000000a11c"
BOB_ID = "712020:bbbbbbbb-0000-4000-8000-000000000b0b"
ERIN_ID = "712020:eeeeeeee-0000-4000-8000-00000000e21e"


class FakeClock:
    """A settable clock shared by the emulator and the connector."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    """An emulated Jira with the people and fields a reliability team would set up."""

    emulator: JiraEmulator
    clock: FakeClock
    mode: str
    cursors: MemoryCursorStore = field(default_factory=MemoryCursorStore)
    sleeps: list[float] = field(default_factory=list)

    @property
    def cloud(self) -> bool:
        return self.mode == "cloud"

    def handle(self, account_id: str, name: str) -> str:
        """How this deployment names a person: account id on Cloud, user name on DC."""
        return account_id if self.cloud else name

    def config(self, **changes: Any) -> JiraTracker:
        base: dict[str, Any] = {
            "name": "jira",
            "server": self.emulator.base_url,
            "deployment": self.mode,
            "jql": "project = REL AND labels = postmortem-action",
            "project": "REL",
            "fields": {
                "owner": "assignee",
                "due": "duedate",
                "evidence": "Evidence",
                "sponsor": "Sponsor",
                "executive_sponsor": "Executive sponsor",
                "severity": "Severity",
                "incident": "Postmortem",
                "waiver": "Waiver",
            },
        }
        base.update(changes)
        return JiraTracker(**base)

    def connector(self, policy: Policy | None = None, **changes: Any) -> JiraConnector:
        return JiraConnector(
            self.config(**changes),
            policy or example_policy(),
            self.cursors,
            self.clock,
            token=SecretStr(TOKEN),
            email=EMAIL if self.cloud else None,
            sleep=self.sleeps.append,
        )

    def add_action(self, summary: str, **kwargs: Any) -> str:
        labels = ["postmortem-action", *kwargs.pop("labels", [])]
        return self.emulator.add_issue("REL", summary, labels=labels, **kwargs)

    def requests(self) -> Counter[tuple[str, str, int]]:
        """Requests since the last ``reset``, keyed by (method, path template, status)."""
        return Counter({k: v for k, v in self.emulator.counters.items() if v})

    def reset(self) -> None:
        self.emulator.reset_counters()


def _seed(emulator: JiraEmulator) -> None:
    emulator.add_project("REL", "Reliability")
    emulator.add_user(account_id=ALICE_ID, name="alice", display_name="Alice Adams")
    emulator.add_user(account_id=BOB_ID, name="bob", display_name="Bob Brown")
    emulator.add_user(account_id=ERIN_ID, name="erin", display_name="Erin Exec")
    emulator.add_custom_field("Evidence", "url")
    emulator.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2", "SEV-3", "SEV-4"])
    emulator.add_custom_field("Sponsor", "user")
    emulator.add_custom_field("Executive sponsor", "user")
    emulator.add_custom_field("Postmortem", "string")
    emulator.add_custom_field("Waiver", "string")


@pytest.fixture(params=["cloud", "datacenter"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """A started emulator in each deployment mode, seeded with users and custom fields."""
    clock = FakeClock()
    emulator = JiraEmulator(mode=request.param, email=EMAIL, token=TOKEN, clock=clock)
    _seed(emulator)
    emulator.start()
    try:
        yield Site(emulator=emulator, clock=clock, mode=request.param)
    finally:
        emulator.stop()


@pytest.fixture
def cloud_site() -> Iterator[Site]:
    """A started Cloud emulator only (ADF, hourly quotas)."""
    clock = FakeClock()
    emulator = JiraEmulator(mode="cloud", email=EMAIL, token=TOKEN, clock=clock)
    _seed(emulator)
    emulator.start()
    try:
        yield Site(emulator=emulator, clock=clock, mode="cloud")
    finally:
        emulator.stop()


RequestLog = list[tuple[str, str]]


def record_urls(connector: JiraConnector) -> Callable[[], RequestLog]:
    """Observe the URLs the library sends (a response hook on its own session)."""
    seen: RequestLog = []
    session = connector.http.client()._session

    def hook(response: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((response.request.method, response.request.url))
        return response

    session.hooks["response"].append(hook)
    return lambda: seen
