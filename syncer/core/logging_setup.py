"""Log configuration for every pmsync process: structured, correlated and free of secrets.

pmsync runs unattended for months, so its logs are what operators read when something goes
wrong. This module makes every line structured (JSON when stderr is not a terminal, a readable
console layout when it is), routes the standard library's ``logging`` through the same chain so
PyGithub, jira, urllib3 and friends are formatted and redacted like our own lines, and lets the
daemon tag every line of a cycle with ``cycle_id`` and ``tracker`` through contextvars.

Secrets are removed by :mod:`syncer.core.redaction`, whose processor runs in this chain after
exceptions have been rendered to text and just before the renderer.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

import structlog
from structlog.typing import Processor

from syncer.core.redaction import REDACTOR, Redactor

if TYPE_CHECKING:
    from rich.console import Console


def new_cycle_id() -> str:
    """A short random id that tells one cycle's lines from another's."""
    return uuid.uuid4().hex[:12]


@contextlib.contextmanager
def bind_cycle(cycle_id: str | None = None) -> Iterator[str]:
    """Tag every log line in the block with ``cycle_id`` (a new one when not given)."""
    value = cycle_id or new_cycle_id()
    with structlog.contextvars.bound_contextvars(cycle_id=value):
        yield value


@contextlib.contextmanager
def bind_tracker(name: str) -> Iterator[str]:
    """Tag every log line in the block with the tracker instance being worked on."""
    with structlog.contextvars.bound_contextvars(tracker=name):
        yield name


def _shared_processors() -> list[Processor]:
    """Steps that both our own events and stdlib records go through before rendering."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        # Exceptions become text here, so the redactor sees the traceback before any renderer.
        structlog.processors.format_exc_info,
    ]


class _PmsyncHandler(logging.StreamHandler[TextIO]):
    """The root handler installed by :func:`configure_logging` (found again on reconfigure)."""


def configure_logging(
    *,
    level: int | str = "INFO",
    stream: TextIO | None = None,
    json_output: bool | None = None,
    redactor: Redactor = REDACTOR,
) -> None:
    """Configure structlog and stdlib logging for this process; safe to call again.

    ``json_output`` defaults to "stream is not a terminal". ``stream`` defaults to stderr.
    """
    out = stream if stream is not None else sys.stderr
    if json_output is None:
        isatty = getattr(out, "isatty", None)
        json_output = not (callable(isatty) and isatty())
    renderer: Processor
    if json_output:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=_wants_colour(out), exception_formatter=structlog.dev.plain_traceback
        )

    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redactor,
            renderer,
        ],
    )
    handler = _PmsyncHandler(out)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _PmsyncHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached, so a reload (SIGHUP) or a test can reconfigure loggers already handed out.
        cache_logger_on_first_use=False,
    )


class _ConsoleStream(io.TextIOBase):
    """A text stream that prints each complete line through a rich ``Console``."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        from rich.text import Text

        *lines, self._pending = (self._pending + text).split("\n")
        for line in lines:
            self._console.print(Text.from_ansi(line), soft_wrap=True, highlight=False)
        return len(text)

    def isatty(self) -> bool:
        return True


@contextlib.contextmanager
def logs_through(console: Console) -> Iterator[None]:
    """In the block, log lines bound for the terminal are printed by ``console``.

    A live display (the progress bar of ``run --once``) redraws itself in place; a log line
    written straight to the same terminal lands in the middle of the bar and is torn by its
    next refresh. Printed through the console that owns the display, the line goes above
    it and the bar is drawn again below. Lines going to a file or a pipe are left alone.
    """
    root = logging.getLogger()
    swapped: list[tuple[_PmsyncHandler, TextIO]] = []
    for handler in root.handlers:
        if isinstance(handler, _PmsyncHandler) and _is_terminal(handler.stream):
            previous = handler.setStream(_ConsoleStream(console))  # type: ignore[arg-type]
            if previous is not None:
                swapped.append((handler, previous))
    try:
        yield
    finally:
        for handler, previous in swapped:
            handler.setStream(previous)


def _is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal; a closed stream (a test's old capture) is not."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(callable(isatty) and isatty())
    except (ValueError, OSError):
        return False


def _wants_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(callable(isatty) and isatty())


def install_excepthooks() -> None:
    """Send uncaught exceptions (main thread and others) through the redacting log chain.

    Python's default hooks print tracebacks straight to stderr, where a token in an exception
    message would escape redaction.
    """
    log = get_logger("pmsync.uncaught")

    def main_hook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None:
            return
        log.error(
            "uncaught exception in thread",
            thread=getattr(args.thread, "name", None),
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )

    sys.excepthook = main_hook
    threading.excepthook = thread_hook


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """A bound logger for ``name`` (a module's ``__name__``), typed for mypy."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
