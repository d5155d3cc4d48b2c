"""The soak test, short: 60 cycles with faults and SIGKILLs must end with nothing wrong."""

from __future__ import annotations

from tests.soak.soak import parse, run


class TestShortSoak:
    """A shortened ``make soak`` that runs inside ``make test``."""

    def test_sixty_cycles_with_faults_and_kills_leave_no_duplicates_and_converge(self) -> None:
        """0 duplicate comments, 0 missing escalations, labels converged, no lost review."""
        figures = run(parse(["--cycles", "60", "--kill-window", "1", "--items", "30"]))
        assert figures.cycles == 60
        assert figures.kills >= 3
        assert figures.faults_5xx > 0
        assert figures.faults_429 > 0
        assert figures.faults_dropped > 0
        assert figures.comments > 0
        assert figures.weeks_due >= 6
        assert figures.duplicate_comments == 0
        assert figures.missing_escalations == 0
        assert figures.label_changes_left == 0
        assert figures.lost_report_updates == 0
