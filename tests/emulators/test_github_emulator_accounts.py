"""Deleted and suspended accounts in the GitHub emulator, held to what GitHub documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_seed import SeedError
from tests.emulators.conftest import FakeClock, OpenApi

USER = "/users/{username}"


class TestGitHubDotCom:
    def test_a_user_has_exactly_the_documented_public_user_shape(
        self, emu: GitHubEmulator, http: requests.Session, openapi: OpenApi
    ) -> None:
        """api.github.com's public-user forbids extra properties: no suspended_at there."""
        emu.add_user("alice", name="Alice")
        body = http.get(f"{emu.base_url}/users/alice").json()
        assert "suspended_at" not in body
        assert openapi.errors("GET", USER, 200, body) == []

    def test_a_deleted_account_answers_404_and_is_unassigned(
        self, emu: GitHubEmulator, http: requests.Session, openapi: OpenApi
    ) -> None:
        """The documented not-found answer; issues it was assigned to no longer list it."""
        emu.add_repo("acme/api")
        number = emu.add_issue("acme/api", "Item", assignees=["dana"], user="dana")
        emu.delete_user("dana")
        response = http.get(f"{emu.base_url}/users/dana")
        assert response.status_code == 404
        assert openapi.errors("GET", USER, 404, response.json()) == []
        issue = emu.issue("acme/api", number)
        assert issue["assignees"] == []
        assert issue["user"]["login"] == "ghost"

    def test_suspension_is_refused_outside_enterprise_server(self, emu: GitHubEmulator) -> None:
        """github.com documents no suspended accounts on the users API."""
        with pytest.raises(ValueError, match="Enterprise Server"):
            emu.suspend_user("alice")


class TestEnterpriseServer:
    def test_users_carry_suspended_at_null_or_the_time(
        self, emu: GitHubEmulator, http: requests.Session, clock: FakeClock, openapi: OpenApi
    ) -> None:
        """GHES sends suspended_at on every user; the rest is still the documented shape."""
        emu.enterprise_server = True
        emu.add_user("alice")
        emu.add_user("erin")
        emu.suspend_user("erin", clock() - timedelta(days=2))
        alice = http.get(f"{emu.base_url}/users/alice").json()
        erin = http.get(f"{emu.base_url}/users/erin").json()
        assert alice["suspended_at"] is None
        assert erin["suspended_at"] == (clock() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rest = {k: v for k, v in erin.items() if k != "suspended_at"}
        assert openapi.errors("GET", USER, 200, rest) == []

    def test_an_unsuspended_account_is_active_again(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        emu.enterprise_server = True
        emu.suspend_user("erin")
        emu.unsuspend_user("erin")
        assert http.get(f"{emu.base_url}/users/erin").json()["suspended_at"] is None


class TestSeeds:
    def test_a_seed_marks_users_deleted_and_suspended(
        self, emu: GitHubEmulator, http: requests.Session
    ) -> None:
        """enterprise_server, suspended (a date) and deleted, as the seed format documents."""
        emu.load_seed(
            {
                "enterprise_server": True,
                "users": [
                    {"login": "erin", "suspended": "-3d"},
                    {"login": "frank", "deleted": True},
                ],
            }
        )
        assert http.get(f"{emu.base_url}/users/erin").json()["suspended_at"] is not None
        assert http.get(f"{emu.base_url}/users/frank").status_code == 404

    def test_a_suspended_user_needs_enterprise_server(self, emu: GitHubEmulator) -> None:
        """The seed error names the key and the fix."""
        with pytest.raises(SeedError, match=r"users\[0\].suspended: .*enterprise_server"):
            emu.load_seed({"users": [{"login": "erin", "suspended": "-3d"}]})

    def test_a_deleted_user_cannot_be_assigned_in_a_seed(self, emu: GitHubEmulator) -> None:
        """A deleted account is assigned nowhere; the seed says where it went wrong."""
        seed = {
            "users": [{"login": "frank", "deleted": True}],
            "repos": [{"name": "acme/api", "issues": [{"title": "X", "assignees": ["frank"]}]}],
        }
        with pytest.raises(
            SeedError, match=r"repos\[0\]\.issues\[0\]: .*frank is a deleted account"
        ):
            emu.load_seed(seed)
