"""A leader frozen inside its write path never writes after the standby took over.

The short version of ``tests/soak/fence_pause.py`` (50 trials in ``make soak``): real
daemons on one PostgreSQL schema, the leader SIGSTOPped for longer than its lease at a random
point of its paced writes, resumed once the standby has written.
"""

from __future__ import annotations

import pytest

from tests.soak.fence_pause import ITEMS_PER_TRIAL, run

pytestmark = pytest.mark.postgres


class TestFrozenLeader:
    def test_three_frozen_leaders_send_no_stale_write_and_no_duplicate(
        self, postgres_url: str
    ) -> None:
        """0 stale writes, 0 duplicate comments, every item escalated; the fence refused the
        resumed leader's next write at least once (the stop landed before a send)."""
        figures = run(trials=3, postgres=postgres_url)
        assert len(figures.trials) == 3
        assert all(t.stopped_s >= 4 for t in figures.trials)
        assert figures.stale_writes == 0
        assert figures.duplicate_comments == 0
        assert figures.comments == figures.items == 3 * ITEMS_PER_TRIAL
        assert any(t.refused_after_resume for t in figures.trials)
