"""The GitHub connector asks the fence right before a write leaves, after every pause."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import pytest
from github.Requester import HTTPSRequestsConnectionClass
from pydantic import SecretStr

from connectors.emulators.github import Faults, GitHubEmulator
from connectors.fencing import FencedAdapter
from connectors.github import GitHubConnector
from connectors.github.session import GetOnlyRetry, make_connection
from syncer.core.actions import AddLabels, CreateLabels
from syncer.core.cursors import MemoryCursorStore
from syncer.core.errors import LeadershipLost
from syncer.core.messages import Markup, Message
from syncer.core.tracker import CreatesLabels
from syncer.core.tracker_config import GitHubTracker
from syncer.core.write_windows import MemoryWriteWindows, Reservation, WindowLimit
from tests.github.conftest import POLICY, TOKEN, FakeClock
from tests.github.test_client import ref, seed


class Gate:
    """A fence the test opens and closes; counts how often it was asked."""

    def __init__(self) -> None:
        self.open = True
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.open


def connector(
    emulator: GitHubEmulator,
    clock: FakeClock,
    fence: Callable[[], bool],
    *,
    sleep: Callable[[float], None] | None = None,
    spacing: float = 0,
    windows: MemoryWriteWindows | None = None,
) -> GitHubConnector:
    config = GitHubTracker(
        name="github",
        base_url=emulator.base_url,
        repositories=["acme/api"],
        seconds_between_writes=spacing,
        request_timeout_s=5,
    )
    return GitHubConnector(
        config,
        POLICY,
        MemoryCursorStore(),
        clock,
        token=SecretStr(TOKEN),
        sleep=sleep or clock.sleep,
        fence=fence,
        windows=windows,
    )


class RecordingWindows(MemoryWriteWindows):
    """Memory windows that also list every reservation granted, by host."""

    def __init__(self) -> None:
        super().__init__()
        self.granted: list[tuple[str, datetime]] = []

    def reserve_write(self, host: str, now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
        verdict = super().reserve_write(host, now, limits)
        if verdict.granted:
            self.granted.append((host, now))
        return verdict


def comment(n: int) -> Message:
    return Message(marker=f"pmsync:n:{n}", parts=(Markup(text=f"note {n}"),))


def posts(emulator: GitHubEmulator) -> int:
    return sum(1 for r in emulator.request_log() if r.method == "POST")


class TestTheFence:
    def test_a_refused_write_is_never_sent(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Fence closed: the comment raises LeadershipLost and the emulator sees no POST."""
        seed(emulator, "acme/api", 1, clock)
        gate = Gate()
        gate.open = False
        gh = connector(emulator, clock, gate)
        with pytest.raises(LeadershipLost, match="POST /repos/acme/api/issues/1/comments"):
            gh.post_comment(ref("acme/api#1"), comment(1))
        assert posts(emulator) == 0
        assert emulator.comments("acme/api", 1) == []

    def test_reads_do_not_ask_the_fence(self, emulator: GitHubEmulator, clock: FakeClock) -> None:
        """A standby's (or a fenced leader's) reads go through; only writes are checked."""
        seed(emulator, "acme/api", 3, clock)
        gate = Gate()
        gate.open = False
        fetched = connector(emulator, clock, gate).fetch(full=True)
        assert len(fetched.items) == 3
        assert gate.asked == 0

    def test_the_fence_is_asked_after_the_spacing_between_writes(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Leadership is lost while the connector waits out the 1 s between writes: the
        second write, asked after the pause, is not sent."""
        seed(emulator, "acme/api", 1, clock)
        gate = Gate()

        def paused(seconds: float) -> None:
            clock.sleep(seconds)
            gate.open = False  # a standby took over while this replica slept

        gh = connector(emulator, clock, gate, sleep=paused, spacing=1.0)
        gh.post_comment(ref("acme/api#1"), comment(1))
        with pytest.raises(LeadershipLost):
            gh.add_labels(ref("acme/api#1"), ["P1"])
        assert clock.slept == [1.0]
        assert [r.method for r in emulator.request_log() if r.method != "GET"] == ["POST"]

    def test_the_fence_is_asked_after_the_content_pacers_wait(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """The 81st comment of a minute waits 60 s; leadership ends meanwhile: not sent."""
        seed(emulator, "acme/api", 1, clock)
        emulator.faults = Faults(secondary_limit=False)
        gate = Gate()

        def paused(seconds: float) -> None:
            clock.sleep(seconds)
            gate.open = False

        gh = connector(emulator, clock, gate, sleep=paused)
        for n in range(80):
            gh.post_comment(ref("acme/api#1"), comment(n))
        with pytest.raises(LeadershipLost):
            gh.post_comment(ref("acme/api#1"), comment(80))
        assert clock.slept == [60.0]
        assert len(emulator.comments("acme/api", 1)) == 80

    def test_each_write_request_asks_the_fence_once(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Comment, label: two writes, two questions (the marker check is a read)."""
        seed(emulator, "acme/api", 1, clock)
        emulator.add_label("acme/api", "pmsync/overdue")
        gate = Gate()
        gh = connector(emulator, clock, gate)
        gh.post_comment(ref("acme/api#1"), comment(1))
        gh.add_labels(ref("acme/api#1"), ["pmsync/overdue"])
        assert gate.asked == 2


class TestLabelsToCreate:
    """Which repository labels a write needs first, asked by the applier."""

    def test_missing_labels_are_named_and_created_as_one_write_each(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Two labels missing, one present: CreateLabels for the two, two POSTs, then none."""
        seed(emulator, "acme/api", 1, clock)
        gh = connector(emulator, clock, Gate())
        assert isinstance(gh, CreatesLabels)
        action = AddLabels(ref=ref("acme/api#1"), labels=("P1", "pmsync/overdue", "pmsync/x"))
        needed = gh.labels_to_create(action)
        assert needed == CreateLabels(
            tracker="github", scope="acme/api", labels=("pmsync/overdue", "pmsync/x")
        )
        gh.create_labels(needed)
        created = [r.template for r in emulator.request_log() if r.method == "POST"]
        assert created == ["/repos/{owner}/{repo}/labels"] * 2
        assert gh.labels_to_create(action) is None
        colours = {lbl["name"]: lbl["color"] for lbl in emulator.repo_labels("acme/api")}
        assert colours["pmsync/overdue"] == "d93f0b"

    def test_label_creation_is_content_in_the_shared_windows(
        self, emulator: GitHubEmulator, clock: FakeClock
    ) -> None:
        """Each label created takes a place in the host's content windows."""
        seed(emulator, "acme/api", 1, clock)
        windows = RecordingWindows()
        gh = connector(emulator, clock, Gate(), windows=windows)
        gh.create_labels(CreateLabels(tracker="github", scope="acme/api", labels=("a", "b")))
        host = emulator.base_url.removeprefix("http://")
        assert windows.granted == [(host, clock()), (host, clock())]


class TestTheConnection:
    def test_an_https_api_gets_a_fenced_https_connection_with_the_get_only_retry(self) -> None:
        """GitHub Enterprise over https: host, port 443, and the fenced adapter on both schemes."""
        config = GitHubTracker(base_url="https://ghe.example.com/api/v3", request_timeout_s=2.5)
        connection = make_connection(config, Gate())
        assert isinstance(connection, HTTPSRequestsConnectionClass)
        assert (connection.host, connection.port, connection.timeout) == ("ghe.example.com", 443, 3)
        for url in ("https://ghe.example.com/api/v3", "http://ghe.example.com"):
            adapter = connection.session.get_adapter(url)
            assert isinstance(adapter, FencedAdapter)
            assert isinstance(adapter.max_retries, GetOnlyRetry)
