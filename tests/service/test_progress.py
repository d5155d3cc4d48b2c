"""``run --once`` draws a progress bar on a terminal, and nothing of it elsewhere."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog
from rich.console import Console

from connectors.emulators.github import GitHubEmulator
from syncer.core.config_loader import load_model_file
from syncer.core.logging_setup import configure_logging, logs_through
from syncer.core.policy import Policy
from syncer.service.wiring import run_once
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
    emu.add_label("acme/api", "pmsync/overdue")  # no label to create: 50 writes fill the budget
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


class Terminal(io.StringIO):
    """One terminal for both streams, as on a desk: the bar on stdout, log lines on stderr."""

    def isatty(self) -> bool:
        super().isatty()  # raises on a closed stream, as a real terminal's file does
        return True


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    """A terminal that the process's log lines are written to, in the console layout."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    screen = Terminal()
    configure_logging(level="INFO", stream=screen)
    try:
        yield screen
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        structlog.reset_defaults()


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def screen_lines(output: str) -> list[str]:
    """The pieces of text a terminal shows between line feeds and carriage returns."""
    return [piece for piece in re.split(r"[\r\n]", ANSI.sub("", output)) if piece.strip()]


class TestLogsAndTheBar:
    """Log lines go above the bar, whole, and never into it."""

    def test_a_log_line_while_the_bar_is_drawn_is_printed_above_it_not_into_it(
        self, policy: Policy, tmp_path: Path, terminal: Terminal
    ) -> None:
        """The connector's 'repository synced' line stands alone; no line mixes it with the bar."""
        run(policy, tmp_path, Console(file=terminal, force_terminal=True, width=160))
        lines = screen_lines(terminal.getvalue())
        synced = [line for line in lines if "repository synced" in line]
        assert synced
        assert [line for line in synced if "fetching" in line or "━" in line] == []
        assert all("repo=acme/api" in line for line in synced)

    def test_afterwards_log_lines_go_to_the_terminal_directly_again(
        self, terminal: Terminal
    ) -> None:
        """The console only borrows the log stream while its display is live."""
        console = Console(file=io.StringIO(), force_terminal=True, width=80)
        with logs_through(console):
            structlog.get_logger("t").info("during")
        structlog.get_logger("t").info("after")
        assert "during" in console.file.getvalue()  # type: ignore[attr-defined]
        assert "after" in terminal.getvalue()
        assert "during" not in terminal.getvalue()

    def test_log_lines_bound_for_a_file_are_left_alone(self, tmp_path: Path) -> None:
        """``run --once 2> log`` keeps every line in the file, none on the screen."""
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        file = io.StringIO()  # not a terminal
        configure_logging(level="INFO", stream=file, json_output=True)
        try:
            console = Console(file=io.StringIO(), force_terminal=True, width=80)
            with logs_through(console):
                structlog.get_logger("t").info("to the file")
        finally:
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)
            structlog.reset_defaults()
        assert "to the file" in file.getvalue()
        assert "to the file" not in console.file.getvalue()  # type: ignore[attr-defined]

    def test_a_handler_left_on_a_closed_stream_is_passed_over(self) -> None:
        """A stream closed under the handler (an old capture) is not a terminal, not an error."""
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        closed = Terminal()
        configure_logging(level="INFO", stream=closed)
        closed.close()
        (ours,) = [h for h in root.handlers if h not in handlers]
        try:
            with logs_through(Console(file=io.StringIO(), force_terminal=True, width=80)):
                assert ours.stream is closed  # type: ignore[attr-defined]
        finally:
            for handler in list(root.handlers):
                if handler not in handlers:
                    root.removeHandler(handler)
            root.setLevel(level)
            structlog.reset_defaults()
