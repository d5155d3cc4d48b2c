"""Fixtures: the GitHub emulator in-process, a shared fake clock, and connectors built on them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from connectors.emulators.github import GitHubEmulator
from connectors.github import GitHubConnector
from syncer.core.cursors import MemoryCursorStore
from syncer.core.policy import Escalation, Policy, Tier
from syncer.core.tracker_config import GitHubTracker

TOKEN = "t0ken-for-tests"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock tests move by hand; shared by the emulator and the connector."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


POLICY = Policy(
    version="test-1",
    escalation=Escalation(
        tiers=[
            Tier(name="owner", after="0d", label="pmsync/overdue"),
            Tier(name="sponsor", after="7d", label="pmsync/escalated-sponsor", mention=["sponsor"]),
        ]
    ),
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


ConnectorFactory = Callable[..., GitHubConnector]


@pytest.fixture
def make_connector(emulator: GitHubEmulator, clock: FakeClock) -> ConnectorFactory:
    """Build a connector on the emulator; keyword arguments override config fields."""

    def build(
        repositories: list[str] | None = None,
        cursors: MemoryCursorStore | None = None,
        policy: Policy = POLICY,
        **config: object,
    ) -> GitHubConnector:
        tracker = GitHubTracker.model_validate(
            {
                "name": "github",
                "base_url": emulator.base_url,
                "repositories": repositories or ["acme/api"],
                "seconds_between_writes": 0,
                "request_timeout_s": 5,
                **config,
            }
        )
        return GitHubConnector(
            tracker,
            policy,
            cursors or MemoryCursorStore(),
            clock,
            token=SecretStr(TOKEN),
            sleep=clock.sleep,
        )

    return build
