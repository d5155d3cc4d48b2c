"""The soak test, short: 40 cycles on GitHub and Jira Cloud with faults and SIGKILLs."""

from __future__ import annotations

import pytest

from tests.soak.soak import TRACKERS, parse, run


class TestShortSoak:
    """A shortened ``make soak`` that runs inside ``make test``."""

    # Some 50 real daemon lives, each a new Python process: on a 2-core machine with a load
    # average of 7.5 (suites and benchmarks beside it) this took 634 s, against about a
    # minute when quiet; the limit is there to catch a hang, not to time the soak.
    @pytest.mark.timeout(1200)
    def test_forty_cycles_with_faults_and_kills_leave_no_duplicates_and_converge(self) -> None:
        """Per tracker: 0 duplicate comments, 0 missing escalations, labels converged; no
        lost review, and reviews published on both trackers."""
        figures = run(parse(["--cycles", "40", "--kill-window", "1", "--items", "20"]))
        assert figures.cycles == 40
        assert figures.kills >= 3
        assert figures.weeks_due >= 6
        assert figures.lost_report_updates == 0
        for name in TRACKERS:
            tracker = figures.trackers[name]
            assert tracker.faults_5xx > 0, name
            assert tracker.faults_429 > 0, name
            assert tracker.faults_dropped > 0, name
            assert tracker.comments > 0, name
            assert tracker.reviews_published > 0, name
            assert tracker.duplicate_comments == 0, name
            assert tracker.missing_escalations == 0, name
            assert tracker.label_changes_left == 0, name
