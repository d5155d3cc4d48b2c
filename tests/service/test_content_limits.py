"""GitHub's content limits hold across processes: a cron of ``run --once`` stays under them.

GitHub allows at most 80 content-creating requests a minute and 500 an hour. Each
``run --once`` is a new process with nothing in memory; the windows live in the state store,
so a cron that runs it every minute must still never pass either limit. The emulator's own
secondary limit is switched off here, so only pmsync's pacing can keep the counts down.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from connectors.emulators.github import Faults, GitHubEmulator, LoggedRequest
from connectors.github.session import api_host
from connectors.github.transport import CONTENT_LIMITS
from syncer.core.config_loader import load_model_file
from syncer.core.policy import Policy
from syncer.service.wiring import run_once
from syncer.state import StateStore
from tests.service.support import (
    PMSYNC,
    REPO,
    TOKEN,
    TOKEN_ENV,
    add_overdue,
    policy_dict,
    seed_repo,
    write_policy,
)

CONTENT_TEMPLATES = {
    "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    "/repos/{owner}/{repo}/issues",
    "/repos/{owner}/{repo}/labels",
}


class Clock:
    """The emulator's clock, moved by the test: one minute per cron run."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def content_writes(log: list[LoggedRequest]) -> list[datetime]:
    """When each content-creating POST reached the emulator (whatever its answer)."""
    return [r.at for r in log if r.method == "POST" and r.template in CONTENT_TEMPLATES]


def most_in_any_window(stamps: list[datetime], span: timedelta) -> int:
    """The largest number of ``stamps`` inside any half-open window of length ``span``."""
    ordered = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(ordered):
        while ordered[start] <= stamp - span:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def emulator(clock: Clock) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.start()
    seed_repo(emu)
    emu.faults = Faults(secondary_limit=False)
    try:
        yield emu
    finally:
        emu.stop()


class TestCronOfRunOnce:
    """``run --once`` every minute, each a fresh process state, sharing one state file."""

    def test_seventy_minutes_of_cron_never_pass_500_an_hour_or_80_a_minute(
        self,
        emulator: GitHubEmulator,
        clock: Clock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """540 overdue items, 75 comments wanted per run: the first hour gets exactly 500
        content writes, the rest waits until the window slides, and no 60-minute (or
        1-minute) window of the emulator's clock ever holds more than 500 (80)."""
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        add_overdue(emulator, 540)
        data = policy_dict(emulator.base_url)
        data["operations"] = {"max_writes_per_cycle": 150}
        policy = load_model_file(Policy, write_policy(tmp_path / "policy.yaml", data))
        state = f"sqlite:///{tmp_path / 'state.db'}"
        console = Console(file=open(os.devnull, "w"), width=120)  # noqa: SIM115 - closed below
        try:
            for minute in range(70):
                run_once(
                    policy,
                    now=clock(),
                    state_url=state,
                    dry_run=False,
                    cycle_id=f"cron-{minute}",
                    console=console,
                    clock=clock,
                )
                clock.now += timedelta(minutes=1)
        finally:
            console.file.close()
        stamps = content_writes(emulator.request_log())
        start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        first_hour = [t for t in stamps if t < start + timedelta(hours=1)]
        assert len(first_hour) == 500
        assert most_in_any_window(stamps, timedelta(hours=1)) == 500
        assert most_in_any_window(stamps, timedelta(minutes=1)) <= 80
        assert len(stamps) > 500  # the window slid and writing resumed after the hour

    def test_a_real_run_once_process_sees_the_hour_other_processes_used(
        self, tmp_path: Path
    ) -> None:
        """With 500 content writes already reserved this hour in the shared store (by other
        processes), a real ``pmsync run --once`` posts no comment and reports the limit."""
        emu = GitHubEmulator(token=TOKEN)
        emu.start()
        try:
            seed_repo(emu)
            emu.faults = Faults(secondary_limit=False)
            numbers = add_overdue(emu, 3)
            policy = write_policy(tmp_path / "policy.yaml", policy_dict(emu.base_url))
            state = f"sqlite:///{tmp_path / 'state.db'}"
            store = StateStore.open(state)
            now = datetime.now(UTC)
            host = api_host(emu.base_url)
            granted = sum(
                store.reserve_write(host, now - timedelta(minutes=30), CONTENT_LIMITS).granted
                for _ in range(80)
            ) + sum(
                store.reserve_write(
                    host, now - timedelta(minutes=20 - i // 80), CONTENT_LIMITS
                ).granted
                for i in range(420)
            )
            store.close()
            assert granted == 500
            done = subprocess.run(
                [str(PMSYNC), "run", "--once", "--config", str(policy), "--state", state],
                env={**os.environ, TOKEN_ENV: TOKEN},
                check=False,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert "content-hour" in done.stderr, done.stderr[-2000:]
            assert all(emu.comments(REPO, n) == [] for n in numbers)
            assert content_writes(emu.request_log()) == []
        finally:
            emu.stop()
