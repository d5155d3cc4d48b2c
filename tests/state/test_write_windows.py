"""Write windows: one rule, applied in memory and in the state store shared by processes."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from syncer.core.write_windows import MemoryWriteWindows, WindowLimit, decide
from syncer.state import StateStore

MINUTE = WindowLimit("3 per minute", timedelta(minutes=1), 3)
HOUR = WindowLimit("5 per hour", timedelta(hours=1), 5)
LIMITS = (MINUTE, HOUR)
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class TestTheRule:
    """``decide``: room in every window, or the fullest long window and when it opens."""

    def test_room_in_every_window_is_granted(self) -> None:
        """Two writes this minute and four this hour: one more fits."""
        assert decide([at(-3000), at(-2000), at(-30), at(-10)], at(0), LIMITS).granted

    def test_a_full_minute_says_when_its_oldest_write_leaves(self) -> None:
        """Three writes at -50, -20, -10 s: room again at +10 s."""
        verdict = decide([at(-50), at(-20), at(-10)], at(0), LIMITS)
        assert (verdict.granted, verdict.limit, verdict.retry_at) == (False, MINUTE, at(10))

    def test_a_full_hour_is_reported_before_a_full_minute(self) -> None:
        """Both full: the caller must stop for the hour, not wait a minute."""
        verdict = decide([at(-3590), at(-3000), at(-50), at(-20), at(-10)], at(0), LIMITS)
        assert (verdict.limit, verdict.retry_at) == (HOUR, at(10))

    def test_a_write_exactly_one_window_old_no_longer_counts(self) -> None:
        """Windows are half-open: a write 60 s ago has left the minute."""
        assert decide([at(-60), at(-20), at(-10)], at(0), LIMITS).granted


class TestInMemory:
    def test_a_refused_reservation_records_nothing(self) -> None:
        """Refusals do not fill the window further."""
        windows = MemoryWriteWindows()
        grants = [windows.reserve_write("h", at(i), LIMITS).granted for i in range(5)]
        assert grants == [True, True, True, False, False]
        assert windows.reserve_write("h", at(60), LIMITS).granted

    def test_hosts_have_windows_of_their_own(self) -> None:
        """A full api.github.com leaves a GitHub Enterprise host untouched."""
        windows = MemoryWriteWindows()
        for i in range(3):
            windows.reserve_write("api.github.com", at(i), LIMITS)
        assert not windows.reserve_write("api.github.com", at(4), LIMITS).granted
        assert windows.reserve_write("ghe.example.com", at(4), LIMITS).granted


class TestInTheStateStore:
    """Reservations are shared by every handle on the database, and never oversold."""

    def test_two_processes_worth_of_handles_share_one_window(self, store_url: str) -> None:
        """Two stores opened on one database: the second sees the first's writes."""
        first, second = StateStore.open(store_url), StateStore.open(store_url)
        try:
            assert [first.reserve_write("h", at(i), LIMITS).granted for i in range(3)] == [
                True,
                True,
                True,
            ]
            refused = second.reserve_write("h", at(5), LIMITS)
            assert (refused.granted, refused.retry_at) == (False, at(60))
            assert second.reserve_write("h", at(60), LIMITS).granted
        finally:
            first.close()
            second.close()

    def test_rows_older_than_the_longest_window_are_deleted(self, store: StateStore) -> None:
        """The table holds at most an hour per host."""
        for i in range(4):
            store.reserve_write("h", at(i * 120), LIMITS)
        store.reserve_write("h", at(3 * 3600), LIMITS)
        with store.engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT COUNT(*) FROM write_window").scalar_one()
        assert count == 1

    def test_concurrent_reservations_never_exceed_the_limit(self, store_url: str) -> None:
        """Eight threads on their own store handles ask 40 times each at one instant:
        exactly the limit is granted (the per-host lock serialises them)."""
        limits = (WindowLimit("25 per hour", timedelta(hours=1), 25),)
        stores = [StateStore.open(store_url) for _ in range(8)]
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                grants = list(
                    pool.map(
                        lambda s: sum(s.reserve_write("h", T0, limits).granted for _ in range(40)),
                        stores,
                    )
                )
        finally:
            for opened in stores:
                opened.close()
        assert sum(grants) == 25

    def test_separate_processes_share_the_windows(self, store_url: str) -> None:
        """Three real processes reserve 4 each against a limit of 5: 5 granted in all."""
        StateStore.open(store_url).close()
        script = (
            "import sys; from datetime import datetime, timedelta, UTC\n"
            "from syncer.state import StateStore\n"
            "from syncer.core.write_windows import WindowLimit\n"
            "s = StateStore.open(sys.argv[1])\n"
            "lim = (WindowLimit('5 per hour', timedelta(hours=1), 5),)\n"
            "now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)\n"
            "print(sum(s.reserve_write('h', now, lim).granted for _ in range(4)))\n"
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, store_url],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        granted = [int(p.communicate(timeout=60)[0]) for p in procs]
        assert sum(granted) == 5
