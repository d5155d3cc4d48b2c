"""A signal that lands while the loop holds a lock is still handled, and the loop still ends.

The daemon's loop waits on and clears an Event every tick and logs a line per request at DEBUG.
A Python-level handler that set that Event or logged could deadlock on the lock the loop held
when the signal landed (see ``syncer.core.signal_relay``); the relay handles it on its own thread.
"""

from __future__ import annotations

import io
import os
import random
import signal
import threading

import pytest
import structlog

from syncer.core.signal_relay import SignalRelay

ROUNDS = 200


def logger_writing_to(file: io.StringIO) -> structlog.BoundLogger:
    """A logger with its own processors: tests before this one configure structlog globally."""
    return structlog.wrap_logger(
        structlog.PrintLogger(file),
        processors=[structlog.processors.KeyValueRenderer()],
        wrapper_class=structlog.BoundLogger,
    )


def busy_loop_until_signalled(rng: random.Random) -> int:
    """One round: the daemon's loop shape, signalled at a random moment; the calls relayed."""
    wake, stop = threading.Event(), threading.Event()
    log = logger_writing_to(io.StringIO())
    relayed: list[int] = []

    def on_signal(signum: int) -> None:
        log.info("stopping", signal=signum)  # takes the logger's write lock
        relayed.append(signum)
        stop.set()
        wake.set()  # takes the event's condition lock

    delay = rng.uniform(0, 0.005)
    sender = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGUSR1))
    with SignalRelay([signal.SIGUSR1], on_signal):
        sender.start()
        try:
            while not stop.is_set():
                log.debug("request", method="GET", path="/repos/acme/api/issues")
                wake.wait(0.0001)
                wake.clear()
        finally:
            sender.cancel()  # a loop that failed must not leave a signal for after the relay
            sender.join()
    return len(relayed)


class SignalsWhileWriting(io.StringIO):
    """A log file whose first write sends the signal: it lands while the write lock is held."""

    sent = False

    def write(self, text: str) -> int:
        if not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGUSR1)
        return super().write(text)


@pytest.mark.timeout(60)
def test_a_signal_landing_inside_a_locked_log_write_is_handled() -> None:
    """With a plain handler that logs, this hangs every time; the relay handles it."""
    log = logger_writing_to(SignalsWhileWriting())
    handled = threading.Event()

    def on_signal(_signum: int) -> None:
        log.info("stopping")  # waits for the write lock the main thread holds, then writes
        handled.set()

    with SignalRelay([signal.SIGUSR1], on_signal):
        log.info("request", method="GET")
        assert handled.wait(10)


@pytest.mark.timeout(120)
def test_every_signal_is_handled_and_the_loop_ends() -> None:
    rng = random.Random(20261204)
    handled = [busy_loop_until_signalled(rng) for _ in range(ROUNDS)]
    assert handled == [1] * ROUNDS


def test_closing_restores_the_handler_and_wakeup_fd() -> None:
    before_handler = signal.getsignal(signal.SIGUSR2)
    before_fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before_fd)
    with SignalRelay([signal.SIGUSR2], lambda _signum: None):
        assert signal.getsignal(signal.SIGUSR2) is not before_handler
    assert signal.getsignal(signal.SIGUSR2) is before_handler
    assert signal.set_wakeup_fd(before_fd) == before_fd


def test_signals_it_was_not_given_are_not_relayed() -> None:
    seen: list[int] = []
    got_usr1, got_usr2 = threading.Event(), threading.Event()

    def on_signal(signum: int) -> None:
        seen.append(signum)
        got_usr1.set()

    previous = signal.signal(signal.SIGUSR2, lambda _s, _f: got_usr2.set())
    try:
        with SignalRelay([signal.SIGUSR1], on_signal):
            os.kill(os.getpid(), signal.SIGUSR2)  # its number reaches the wakeup fd too
            assert got_usr2.wait(5)
            os.kill(os.getpid(), signal.SIGUSR1)
            assert got_usr1.wait(5)
        assert seen == [signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR2, previous)
