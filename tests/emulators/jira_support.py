"""Shared pieces of the Jira emulator tests: a settable clock, a seeded site, clients."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from jira import JIRA

from connectors.emulators.jira import JiraEmulator
from connectors.emulators.jira_state import Mode

EMAIL = "bot@acme.test"
TOKEN = "t0ken"
ALICE = "5b10ac8d82e05b22cc7d4ef5"
BOB = "5b10a2844c20165700ede21f"
FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "jira"
REPO = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 20, 10, 5, 30, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock tests move by hand."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def seed_site(emu: JiraEmulator, items: int = 7) -> None:
    """One project, two users, the demo's custom fields and ``items`` action items."""
    emu.add_project("REL", name="Reliability")
    emu.add_user(account_id=ALICE, name="alice", display_name="Alice A.", email="a@acme.test")
    emu.add_user(account_id=BOB, name="bob", display_name="Bob B.", email="b@acme.test")
    emu.add_custom_field("Evidence", "string")
    emu.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2", "SEV-3", "SEV-4"])
    emu.add_custom_field("Sponsor", "user")
    emu.add_custom_field("Postmortem", "url")
    for n in range(items):
        emu.add_issue(
            "REL",
            summary=f"Action item {n + 1}",
            description="Found in INC-2041.",
            labels=["postmortem-action"],
            priority="Highest" if n % 3 == 0 else "Medium",
            status="Done" if n % 4 == 3 else "To Do",
            assignee=ALICE if n % 2 else None,
            duedate="2026-11-10",
            fields={"Evidence": "https://runbooks.acme.test/x", "Severity": "SEV-1"},
            created=START - timedelta(days=30 - n),
            updated=START - timedelta(days=10 - n),
        )
    emu.add_issue("REL", summary="A plain bug", labels=["bug"], created=START - timedelta(days=3))


@contextmanager
def running(mode: Mode, clock: FakeClock, items: int = 7) -> Iterator[JiraEmulator]:
    """A started, seeded emulator in ``mode``; stopped on exit."""
    with JiraEmulator(mode=mode, email=EMAIL, token=TOKEN, clock=clock) as emu:
        seed_site(emu, items)
        yield emu


def cloud_client(emu: JiraEmulator, version: str = "2") -> JIRA:
    return JIRA(
        server=emu.base_url,
        basic_auth=(EMAIL, TOKEN),
        timeout=10,
        max_retries=0,
        options={"rest_api_version": version},
    )


def dc_client(emu: JiraEmulator) -> JIRA:
    return JIRA(server=emu.base_url, token_auth=TOKEN, timeout=10, max_retries=0)


def http(emu: JiraEmulator) -> requests.Session:
    """A plain session authenticated the way ``emu`` expects."""
    session = requests.Session()
    if emu.mode == "cloud":
        session.auth = (EMAIL, TOKEN)
    else:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
    return session
