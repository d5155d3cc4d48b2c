"""The daemon's jobs in-process, on an injected clock: weekly review, daily counts, placement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_model import ApiError
from syncer.daemon import Daemon, last_local, next_local
from syncer.settings import Settings
from tests.service.support import (
    REPO,
    TOKEN,
    TOKEN_ENV,
    add_overdue,
    comment_pairs,
    policy_dict,
    seed_repo,
    write_policy,
)

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_10_BERLIN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 CET


class Clock:
    """A clock the test moves by hand, shared by the emulator and the daemon."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class TestPlacement:
    """Local schedule times become the right UTC moments, across DST changes."""

    def test_next_local_follows_the_dst_change(self) -> None:
        """Monday 09:00 Berlin is 08:00 UTC in winter and 07:00 UTC in summer."""
        winter = next_local(datetime(2026, 11, 20, tzinfo=UTC), 0, "09:00", BERLIN)
        summer = next_local(datetime(2026, 3, 27, tzinfo=UTC), 0, "09:00", BERLIN)
        assert winter.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        assert summer.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)

    def test_last_local_is_the_latest_moment_not_after_now(self) -> None:
        """Just after Monday 09:00 the last review moment is that Monday 09:00."""
        moment = last_local(MONDAY_10_BERLIN, 0, "09:00", BERLIN)
        assert moment.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
        before = last_local(MONDAY_10_BERLIN - timedelta(hours=2), 0, "09:00", BERLIN)
        assert before.astimezone(UTC) == datetime(2026, 11, 16, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_10_BERLIN)


@pytest.fixture
def emulator(clock: Clock) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.start()
    seed_repo(emu)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def daemon(
    emulator: GitHubEmulator, clock: Clock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Daemon]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    data = policy_dict(emulator.base_url)
    data["deadlines"]["timezone"] = "Europe/Berlin"
    data["report"] = {
        "enabled": True,
        "schedule": {"weekday": "mon", "time": "09:00", "timezone": "Europe/Berlin"},
    }
    policy = write_policy(tmp_path / "policy.yaml", data)
    settings = Settings(health_port=0, replica_id="jobs")
    made = Daemon(policy, settings, clock=clock, state_url=f"sqlite:///{tmp_path / 's.db'}")
    try:
        yield made
    finally:
        made.store.close()


def review_issues(emu: GitHubEmulator) -> list[str]:
    """Titles of the weekly review issues in the repository."""
    titles = []
    number = 1
    while True:
        try:
            issue = emu.issue(REPO, number)
        except ApiError:
            break
        if "pmsync/weekly-review" in emu.labels_of(REPO, number):
            titles.append(str(issue["title"]))
        number += 1
    return titles


class TestTakeover:
    """A new leader escalates, publishes a missed review and records the day's counts."""

    def test_a_new_leader_publishes_the_missed_review_and_records_counts(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """After Monday 09:00 with no review in the ledger, taking over publishes it."""
        numbers = add_overdue(emulator, 2)
        daemon.renew_lease()
        assert daemon.leader
        assert len(comment_pairs(emulator, REPO, numbers)) == 2
        assert review_issues(emulator) == ["Reliability review 2026-W48"]
        assert daemon.report_pending is None
        day = clock().astimezone(BERLIN).date()
        counts = daemon.store.daily_counts(day, day)[day]
        assert counts["overdue"] == 2
        assert counts["open"] == 2

    def test_the_weekly_job_publishes_once_per_week_and_reruns_change_nothing(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """Running the job again the same week updates the same issue, never a second one."""
        add_overdue(emulator, 1)
        daemon.renew_lease()
        daemon.weekly_review_job()
        clock.now += timedelta(days=7)
        daemon.weekly_review_job()
        assert review_issues(emulator) == [
            "Reliability review 2026-W48",
            "Reliability review 2026-W49",
        ]

    def test_the_daily_job_records_the_local_day(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """At 23:30 UTC on Monday it is already Tuesday in Berlin: Tuesday's row is written."""
        add_overdue(emulator, 1)
        daemon.renew_lease()
        clock.now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
        daemon.daily_counts_job()
        tuesday = datetime(2026, 11, 24).date()
        assert daemon.store.daily_counts(tuesday, tuesday)[tuesday]["overdue"] == 1
