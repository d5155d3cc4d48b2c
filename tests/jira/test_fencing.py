"""The Jira connector asks the fence right before each write request leaves."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from connectors.jira.client import JiraConnector
from syncer.core.errors import LeadershipLost
from syncer.core.model import ItemRef
from tests.builders import example_policy
from tests.jira.conftest import EMAIL, TOKEN, Site

OVERDUE = "pmsync/overdue"


class Gate:
    """A fence the test opens and closes; counts how often it was asked."""

    def __init__(self, open_: bool = True) -> None:
        self.open = open_
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.open


def fenced(site: Site, gate: Gate) -> JiraConnector:
    return JiraConnector(
        site.config(),
        example_policy(),
        site.cursors,
        site.clock,
        token=SecretStr(TOKEN),
        email=EMAIL if site.cloud else None,
        sleep=site.sleeps.append,
        fence=gate,
    )


class TestTheFence:
    def test_a_refused_write_is_never_sent_and_reads_go_through(self, site: Site) -> None:
        """Fence closed: the fetch works (reads are not fenced), the label PUT raises
        LeadershipLost and the emulator sees no write."""
        key = site.add_action("Overdue")
        gate = Gate(open_=False)
        connector = fenced(site, gate)
        assert [i.ref.key for i in connector.fetch(full=True).items] == [key]
        site.reset()
        with pytest.raises(LeadershipLost, match=f"PUT /rest/api/2/issue/{key}"):
            connector.add_labels(ItemRef(tracker="jira", key=key), [OVERDUE])
        assert [m for (m, _, _) in site.requests() if m != "GET"] == []
        assert site.emulator.labels_of(key) == ["postmortem-action"]
        assert gate.asked == 1

    def test_an_open_fence_is_asked_once_per_write(self, site: Site) -> None:
        """One label edit = one PUT = one question."""
        key = site.add_action("Overdue")
        gate = Gate()
        connector = fenced(site, gate)
        connector.fetch(full=True)
        asked_while_reading = gate.asked
        connector.add_labels(ItemRef(tracker="jira", key=key), [OVERDUE])
        assert (asked_while_reading, gate.asked) == (0, 1)
        assert site.emulator.labels_of(key) == ["postmortem-action", OVERDUE]
