"""Deactivated users in the Jira emulator: ``active`` on every user object, as UserDetails says."""

from __future__ import annotations

import pytest

from connectors.emulators.jira import JiraEmulator
from tests.emulators.jira_support import EMAIL, TOKEN, FakeClock, http


@pytest.mark.parametrize("mode", ["cloud", "datacenter"])
class TestDeactivatedUsers:
    def test_a_seeded_inactive_assignee_comes_with_active_false(self, mode: str) -> None:
        """The issue's own assignee object says active: false; no user request needed."""
        with JiraEmulator(mode=mode, email=EMAIL, token=TOKEN, clock=FakeClock()) as emu:
            emu.load_seed(
                {
                    "projects": [{"key": "REL", "name": "Reliability"}],
                    "users": [
                        {"account_id": "acc-alice", "name": "alice"},
                        {"account_id": "acc-frank", "name": "frank", "active": False},
                    ],
                    "issues": [
                        {"project": "REL", "summary": "A", "assignee": "frank"},
                        {"project": "REL", "summary": "B", "assignee": "alice"},
                    ],
                }
            )
            with http(emu) as session:
                frank = session.get(f"{emu.base_url}/rest/api/2/issue/REL-1", timeout=10)
                alice = session.get(f"{emu.base_url}/rest/api/2/issue/REL-2", timeout=10)
        assert frank.json()["fields"]["assignee"]["active"] is False
        assert alice.json()["fields"]["assignee"]["active"] is True
