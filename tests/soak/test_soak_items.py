"""The soak's own items: what it adds mid-run must be visible to an incremental read.

A soak that adds an item a real tracker would stamp "updated now" but backdates it instead
tests nothing but itself: the daemon's incremental search rightly skips it, and the final
check (a full read) then reports an escalation as missing. These tests hold the soak's item
factories to what a tracker records, on both emulators, through the real connectors.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.jira import JiraEmulator
from connectors.github import GitHubConnector
from connectors.jira.client import JiraConnector
from syncer.core.config_loader import load_model_file
from syncer.core.cursors import MemoryCursorStore
from syncer.core.policy import Policy
from tests.soak.soak import (
    JIRA_EMAIL,
    JIRA_TOKEN,
    REPO,
    START,
    TOKEN,
    add_item,
    add_jira_item,
    seed_jira,
    write_policy,
)


class Clock:
    """A settable clock shared by an emulator and the connector reading it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def github(clock: Clock) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.start()
    try:
        emu.add_repo(REPO)
        for login in ("alice", "bob", "cto"):
            emu.add_user(login)
        for label in ("postmortem-action", "sev-2", "P0", "P1", "P2"):
            emu.add_label(REPO, label)
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def jira(clock: Clock) -> Iterator[JiraEmulator]:
    emu = JiraEmulator(mode="cloud", email=JIRA_EMAIL, token=JIRA_TOKEN, clock=clock)
    emu.start()
    try:
        seed_jira(emu)
        yield emu
    finally:
        emu.stop()


def soak_policy(tmp_path: Path, github: GitHubEmulator, jira: JiraEmulator) -> Policy:
    write_policy(tmp_path, github.base_url, jira.base_url, 30, "github")
    return load_model_file(Policy, tmp_path / "policy.yaml")


class TestItemsAddedMidRun:
    def test_a_jira_item_added_after_a_read_is_in_the_next_incremental_read(
        self, tmp_path: Path, clock: Clock, github: GitHubEmulator, jira: JiraEmulator
    ) -> None:
        the_policy = soak_policy(tmp_path, github, jira)
        rng = random.Random(7)
        first = add_jira_item(jira, rng, START)
        connector = JiraConnector(
            the_policy.trackers.jira[0],
            the_policy,
            MemoryCursorStore(),
            clock,
            token=SecretStr(JIRA_TOKEN),
            email=JIRA_EMAIL,
        )
        clock.now = START + timedelta(hours=2)
        jira.comment(first, "the daemon's escalation")  # a write: ``updated`` moves to now
        assert [i.ref.key for i in connector.fetch(full=True).items] == [first]

        clock.now = START + timedelta(hours=3)
        later = add_jira_item(jira, rng, clock.now)
        fetched = connector.fetch(full=False)

        assert not fetched.errors
        assert later in {i.ref.key for i in fetched.items}

    def test_a_github_item_added_after_a_read_is_in_the_next_incremental_read(
        self, tmp_path: Path, clock: Clock, github: GitHubEmulator, jira: JiraEmulator
    ) -> None:
        the_policy = soak_policy(tmp_path, github, jira)
        rng = random.Random(7)
        first = add_item(github, rng, START)
        clock.now = START + timedelta(hours=2)
        github.add_comment(REPO, first, "the daemon's escalation", created_at=clock.now)
        connector = GitHubConnector(
            the_policy.trackers.github[0],
            the_policy,
            MemoryCursorStore(),
            clock,
            token=SecretStr(TOKEN),
        )
        assert len(connector.fetch(full=True).items) == 1

        clock.now = START + timedelta(hours=3)
        later = add_item(github, rng, clock.now)
        fetched = connector.fetch(full=False)

        assert not fetched.errors
        assert f"{REPO}#{later}" in {i.ref.key for i in fetched.items}
