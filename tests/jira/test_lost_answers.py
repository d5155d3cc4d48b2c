"""Lost comment answers and kills on Jira, short: a few runs of each fault, both deployments.

The long version (100 runs each) is ``tests/soak/jira_exactly_once.py``, run by ``make soak``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak.jira_exactly_once import FAULTS, Mode, run_fault

RUNS = 3


class TestLostAnswers:
    """Every comment POST commits and its answer is lost or its process killed."""

    @pytest.mark.parametrize("fault", FAULTS)
    @pytest.mark.parametrize("mode", ["cloud", "datacenter"])
    def test_each_item_ends_with_exactly_its_one_comment(
        self, mode: Mode, fault: str, tmp_path: Path
    ) -> None:
        """0 duplicate comments, 0 missing, labels converged, every marker indexed."""
        figures = run_fault(mode, fault, RUNS, tmp_path)
        assert figures.runs == RUNS
        if fault == "sigkill":
            assert figures.kills == RUNS
        else:
            assert figures.answers_lost == RUNS
        assert figures.comments == RUNS
        assert figures.duplicate_comments == 0
        assert figures.missing_comments == 0
        assert figures.label_changes_left == 0
        assert figures.unindexed == 0
