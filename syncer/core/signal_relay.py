"""Signals handled on a thread of their own, so that a handler can never deadlock the process.

Why: CPython runs a Python signal handler in the main thread, between two bytecodes of whatever
that thread was doing, possibly while it holds a lock that is not reentrant: a
``threading.Event``'s condition (the daemon's loop waits on and clears its wake event every
tick) or structlog's write lock (the daemon logs a line per request at DEBUG). A handler that
sets the same event or writes a log line then waits for a lock its own thread holds, forever:
the process outlives its SIGTERM until it is killed. A loop like the daemon's (wait, clear,
log) hung in 1 to 3 of 200 SIGTERMs so handled; one full test suite in four met it.

How: ``signal.set_wakeup_fd`` makes CPython's C-level handler write the signal's number to a
pipe, which is async-signal-safe and takes no lock; the Python-level handler does nothing; a
daemon thread reads the pipe and calls ``on_signal`` there. On that thread, a lock the main
thread holds is only waited for until the main thread lets it go.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from types import FrameType, TracebackType


def _nothing(_signum: int, _frame: FrameType | None) -> None:
    """The Python-level handler: the relay thread does the work (see the module docstring)."""


class SignalRelay:
    """While open, each of ``signals`` calls ``on_signal(signum)`` on the relay's own thread.

    Open it from the main thread (``signal.set_wakeup_fd`` and ``signal.signal`` require it);
    closing restores the handlers and the wakeup fd that were there before.
    """

    def __init__(self, signals: Iterable[signal.Signals], on_signal: Callable[[int], None]):
        self.signals = tuple(signals)
        self.on_signal = on_signal
        self._previous_handlers: dict[signal.Signals, object] = {}
        self._previous_fd = -1
        self._read_fd = self._write_fd = -1
        self._thread: threading.Thread | None = None

    def __enter__(self) -> SignalRelay:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)  # set_wakeup_fd requires it
        self._previous_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        for sig in self.signals:
            self._previous_handlers[sig] = signal.signal(sig, _nothing)
        self._thread = threading.Thread(target=self._relay, name="signal-relay", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]  # what signal.signal returned
        signal.set_wakeup_fd(self._previous_fd)
        os.close(self._write_fd)  # the relay's read sees end of file and the thread ends
        if self._thread is not None:
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                # Still inside a slow callback: leave its pipe open rather than let its next
                # read meet a closed descriptor, or one the process has reused meanwhile.
                return
        os.close(self._read_fd)

    def _relay(self) -> None:
        wanted = {int(sig) for sig in self.signals}
        while chunk := os.read(self._read_fd, 64):
            for signum in chunk:
                # The wakeup fd carries every signal with a Python handler, not only ours.
                if signum in wanted:
                    self._deliver(signum)

    def _deliver(self, signum: int) -> None:
        """One call; one that raises is reported and the relay goes on to the next signal."""
        try:
            self.on_signal(signum)
        except Exception:  # a lost relay thread would lose every later signal
            sys.excepthook(*sys.exc_info())
