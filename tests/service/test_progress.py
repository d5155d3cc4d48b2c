"""``run --once`` draws a progress bar on a terminal, and nothing of it elsewhere."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from connectors.emulators.github import GitHubEmulator
from syncer.config_loader import load_model_file
from syncer.policy import Policy
from syncer.wiring import run_once
from tests.service.support import (
    TOKEN,
    TOKEN_ENV,
    add_overdue,
    policy_dict,
    seed_repo,
    write_policy,
)


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Policy]:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    emu = GitHubEmulator(token=TOKEN)
    emu.start()
    seed_repo(emu)
    add_overdue(emu, 25)
    try:
        path = write_policy(tmp_path / "policy.yaml", policy_dict(emu.base_url))
        yield load_model_file(Policy, path)
    finally:
        emu.stop()


def run(policy: Policy, tmp_path: Path, console: Console) -> int:
    outcome = run_once(
        policy,
        now=datetime.now(UTC),
        state_url=f"sqlite:///{tmp_path / 'state.db'}",
        dry_run=False,
        cycle_id="progress",
        console=console,
    )
    return outcome.result.writes


class TestProgressBar:
    """The bar shows fetching per tracker and writes applied out of those planned."""

    def test_a_terminal_shows_fetch_and_apply_progress(
        self, policy: Policy, tmp_path: Path
    ) -> None:
        """On a (fake) terminal the output holds the fetch line and 50/50 writes applied."""
        screen = io.StringIO()
        writes = run(policy, tmp_path, Console(file=screen, force_terminal=True, width=120))
        shown = screen.getvalue()
        assert writes == 50  # 25 comments + 25 labels
        assert "fetched github" in shown
        assert "applying" in shown
        assert "50/50" in shown
        assert "25/25" in shown  # the items fetched

    def test_no_bar_when_the_output_is_not_a_terminal(self, policy: Policy, tmp_path: Path) -> None:
        """Piped output carries the plan and the summary, no bar."""
        screen = io.StringIO()
        writes = run(policy, tmp_path, Console(file=screen, force_terminal=False, width=120))
        shown = screen.getvalue()
        assert writes == 50
        assert "applying" not in shown
        assert "fetched github" not in shown
        assert "50 writes done" in shown
