"""The daemon's jobs in-process, on an injected clock: weekly review, daily counts, placement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from structlog.testing import capture_logs

from connectors.emulators.github import GitHubEmulator
from connectors.emulators.github_model import ApiError
from syncer.service.daemon import Daemon
from syncer.service.daemon_timing import Backoff, last_local, next_local
from syncer.service.settings import Settings
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


def log_issues(emu: GitHubEmulator) -> list[str]:
    """Titles of the operating-log issues in the repository."""
    titles = []
    number = 1
    while True:
        try:
            issue = emu.issue(REPO, number)
        except ApiError:
            break
        if "pmsync/operating-log" in emu.labels_of(REPO, number):
            titles.append(str(issue["title"]))
        number += 1
    return titles


def set_policy(daemon: Daemon, **report: object) -> None:
    """Replace the daemon's policy with one whose report section has ``report`` changed."""
    changed = daemon.policy.report.model_copy(update=report)
    daemon.policy = daemon.policy.model_copy(update={"report": changed})


def _is_review(emu: GitHubEmulator, number: int) -> bool:
    try:
        return "pmsync/weekly-review" in emu.labels_of(REPO, number)
    except ApiError:
        return False


class TestTakeover:
    """A new leader escalates and records the day's counts; a missed review only on request."""

    def test_a_first_start_after_the_review_moment_publishes_nothing_by_surprise(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """Monday 10:00, review due at 09:00, nothing in the ledger: no review, no log issue."""
        numbers = add_overdue(emulator, 2)
        daemon.renew_lease()
        assert daemon.leader
        assert len(comment_pairs(emulator, REPO, numbers)) == 2
        assert review_issues(emulator) == []
        assert log_issues(emulator) == []
        assert daemon.report_pending is None
        day = clock().astimezone(BERLIN).date()
        counts = daemon.store.daily_counts(day, day)[day]
        assert counts["overdue"] == 2
        assert counts["open"] == 2

    def test_with_publish_missed_on_start_a_new_leader_publishes_the_missed_review(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """After Monday 09:00 with no review in the ledger, taking over publishes the review of
        the week that just ended."""
        set_policy(daemon, publish_missed_on_start=True)
        add_overdue(emulator, 2)
        daemon.renew_lease()
        assert review_issues(emulator) == ["Reliability review 2026-W47"]
        assert log_issues(emulator) == ["Reliability operating log"]
        assert daemon.report_pending is None

    def test_the_next_scheduled_moment_publishes_as_usual(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """With the default, the review comes from the weekly job, not from starting."""
        add_overdue(emulator, 1)
        daemon.renew_lease()
        clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 Berlin
        daemon.weekly_review_job()
        assert review_issues(emulator) == ["Reliability review 2026-W48"]

    def test_the_weekly_job_publishes_once_per_week_and_reruns_change_nothing(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """Running the job again the same week updates the same issue, never a second one."""
        add_overdue(emulator, 1)
        daemon.renew_lease()
        daemon.weekly_review_job()
        daemon.weekly_review_job()
        clock.now += timedelta(days=7)
        daemon.weekly_review_job()
        assert review_issues(emulator) == [
            "Reliability review 2026-W47",
            "Reliability review 2026-W48",
        ]

    def test_the_monday_review_counts_the_decisions_of_the_week_before(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """Escalated on Wednesday of W48, the review published on Monday of W49 says so."""
        add_overdue(emulator, 1)
        clock.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # Wednesday of W48
        daemon.renew_lease()
        daemon.sync_job(full=True)
        clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday of W49, 09:00 Berlin
        daemon.weekly_review_job()
        assert review_issues(emulator) == ["Reliability review 2026-W48"]
        number = next(n for n in range(1, 10) if _is_review(emulator, n))
        body = str(emulator.issue(REPO, number)["body"])
        assert "2026-11-23 to 2026-11-29" in body
        assert "## Escalations this week (1)" in body
        assert "(derived)" not in body

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


class TestRateLimitWait:
    """An exhausted primary quota is waited out until its reset, not doubled and retried."""

    def test_the_tracker_is_left_alone_until_the_reset_then_syncs_again(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """Reset in 40 min: no request before it (the backoff alone would retry in 2 s), a
        clean cycle after it; the wait ends in the metrics and /readyz."""
        add_overdue(emulator, 1)
        daemon.renew_lease()
        reset = clock.now + timedelta(minutes=40)
        emulator.set_rate_limit(remaining=0, reset_at=reset)
        clock.now += timedelta(seconds=2)
        daemon.sync_job(full=False)
        assert daemon.backoff.not_before["github"] == reset
        assert daemon.backoff.failures.get("github") is None
        assert (
            daemon.metrics.registry.get_sample_value(
                "pmsync_rate_limit_wait_until_timestamp_seconds", {"tracker": "github"}
            )
            == reset.timestamp()
        )
        sent = emulator.request_count()
        for minutes in (1, 10, 39):
            clock.now = reset - timedelta(minutes=40 - minutes)
            daemon.sync_job(full=False)
        assert emulator.request_count() == sent
        clock.now = reset + timedelta(seconds=1)
        daemon.sync_job(full=False)
        assert emulator.request_count() > sent
        assert daemon.backoff.not_before.get("github") is None
        assert daemon.health.readiness().warnings == []
        assert (
            daemon.metrics.registry.get_sample_value(
                "pmsync_rate_limit_wait_until_timestamp_seconds", {"tracker": "github"}
            )
            == 0.0
        )

    def test_the_reset_time_is_said_in_words_in_the_log_and_readyz(
        self, daemon: Daemon, emulator: GitHubEmulator, clock: Clock
    ) -> None:
        """Both name the reason, the UTC reset time and how long that is from now."""
        daemon.renew_lease()
        emulator.set_rate_limit(remaining=0, reset_at=clock.now + timedelta(minutes=17))
        with capture_logs() as logs:
            daemon.sync_job(full=False)
        waits = [e for e in logs if e.get("reason") == "primary" and "reset_at" in e]
        assert [e["event"] for e in waits] == [
            "primary rate limit exhausted; waiting until it resets at 2026-11-23 09:17:00 UTC "
            "(in 17 minutes)"
        ]
        assert waits[0]["reset_at"] == "2026-11-23T09:17:00+00:00"
        check = next(c for c in daemon.health.readiness().checks if c.name == "rate_limits")
        assert check.warn
        assert check.detail == (
            "github: primary rate limit exhausted; resets at 2026-11-23 09:17:00 UTC "
            "(in 17 minutes)"
        )


class TestBackoff:
    """Failures double the delay; a known reset replaces it."""

    START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def backoff(self) -> Backoff:
        return Backoff(timedelta(minutes=15), timedelta(hours=1))

    def test_failures_double_up_to_the_ceiling_and_reset_on_success(self) -> None:
        """15, 30, 60, 60 minutes; a success clears it."""
        backoff = self.backoff()
        delays = [backoff.failed("github", self.START) for _ in range(4)]
        assert delays == [timedelta(minutes=m) for m in (15, 30, 60, 60)]
        backoff.succeeded("github")
        assert backoff.allowed("github", self.START)

    def test_a_known_reset_is_waited_for_without_counting_a_failure(self) -> None:
        """Reset in 50 min: not allowed at 49, allowed at 50; the doubling did not move."""
        backoff = self.backoff()
        backoff.failed("github", self.START)
        reset = self.START + timedelta(minutes=50)
        wait = backoff.rate_limited("github", self.START, reset, "primary")
        assert wait.until == reset.timestamp()
        assert wait.known_reset
        assert backoff.failures["github"] == 1
        assert not backoff.allowed("github", reset - timedelta(minutes=1))
        assert backoff.allowed("github", reset)

    def test_a_reset_already_past_allows_the_next_cycle(self) -> None:
        """A stale header never makes pmsync wait."""
        backoff = self.backoff()
        backoff.rate_limited("github", self.START, self.START - timedelta(minutes=5), "primary")
        assert backoff.allowed("github", self.START)

    def test_a_reset_beyond_an_hour_and_the_ceiling_is_capped(self) -> None:
        """A reset a day away (clock or header trouble) waits max(ceiling, 1 h) at most."""
        backoff = Backoff(timedelta(minutes=1), timedelta(minutes=10))
        wait = backoff.rate_limited("jira", self.START, self.START + timedelta(days=1), "quota")
        assert wait.until == (self.START + timedelta(hours=1)).timestamp()

    def test_without_a_reset_time_the_backoff_doubles_as_for_a_failure(self) -> None:
        """No reset known: the retry time is the doubled delay, and says it is a guess."""
        backoff = self.backoff()
        first = backoff.rate_limited("jira", self.START, None, "")
        second = backoff.rate_limited("jira", self.START, None, "")
        assert first.until == (self.START + timedelta(minutes=15)).timestamp()
        assert second.until == (self.START + timedelta(minutes=30)).timestamp()
        assert not second.known_reset


class TestReload:
    """A reload's outcome reaches the metrics and /readyz; a failed one keeps the policy."""

    def test_a_failed_reload_keeps_the_policy_and_says_so_until_a_good_one(
        self, daemon: Daemon, emulator: GitHubEmulator
    ) -> None:
        """Failure: counter, flag, warning, same version. Then success clears the flag."""
        good = daemon.policy_path.read_text(encoding="utf-8")
        daemon.policy_path.write_text("version: broken\ndaemon: {interval: 15x}\n", "utf-8")
        daemon.reload()
        value = daemon.metrics.registry.get_sample_value
        assert daemon.policy.version == "svc-1"
        assert value("pmsync_policy_reloads_total", {"outcome": "failure"}) == 1.0
        assert value("pmsync_policy_reload_failed", {}) == 1.0
        assert value("pmsync_policy_info", {"version": "svc-1"}) == 1.0
        failure = daemon.health.reload_failure
        assert failure is not None
        assert any("daemon.interval" in p for p in failure.problems)
        daemon.policy_path.write_text(good.replace("svc-1", "svc-2"), encoding="utf-8")
        daemon.reload()
        assert value("pmsync_policy_reloads_total", {"outcome": "success"}) == 1.0
        assert value("pmsync_policy_reload_failed", {}) == 0.0
        assert value("pmsync_policy_info", {"version": "svc-2"}) == 1.0
        assert value("pmsync_policy_info", {"version": "svc-1"}) is None
        assert daemon.health.reload_failure is None
