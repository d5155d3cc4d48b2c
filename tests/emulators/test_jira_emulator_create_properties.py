"""Entity properties sent inside ``POST /issue`` are stored with the new issue, atomically."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.emulators.jira import JiraEmulator
from connectors.emulators.jira_state import Mode
from tests.emulators.jira_support import FakeClock, http, running


@pytest.fixture(params=["cloud", "datacenter"])
def emu(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    mode: Mode = request.param
    with running(mode, FakeClock(), items=0) as emulator:
        yield emulator


def create(emu: JiraEmulator, **extra: object) -> tuple[int, dict[str, object]]:
    body = {"fields": {"project": {"key": "REL"}, "issuetype": {"name": "Task"}, "summary": "x"}}
    response = http(emu).post(
        f"{emu.base_url}/rest/api/2/issue", json={**body, **extra}, timeout=10
    )
    return response.status_code, response.json()


class TestCreateWithProperties:
    def test_properties_in_the_create_request_are_on_the_new_issue(self, emu: JiraEmulator) -> None:
        """IssueUpdateDetails.properties: readable right after the 201."""
        status, answer = create(
            emu, properties=[{"key": "pmsync.pm", "value": {"incident": "INC-1", "slug": "a"}}]
        )
        assert status == 201
        assert emu.properties(str(answer["key"])) == {
            "pmsync.pm": {"incident": "INC-1", "slug": "a"}
        }

    def test_malformed_properties_create_nothing(self, emu: JiraEmulator) -> None:
        """A 400 and no issue: the issue and its marker exist together or not at all."""
        before = set(emu.issues)
        status, answer = create(emu, properties={"pmsync.pm": 1})
        assert status == 400
        assert answer["errorMessages"] == ["properties: expected a list of {key, value} objects"]
        assert set(emu.issues) == before
