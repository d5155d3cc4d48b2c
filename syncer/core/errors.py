"""Typed errors raised at the connector boundary.

Connectors translate library exceptions into these, decided by status code and headers (never
by message text), so the applier and the daemon can decide what to do without knowing which
tracker they talk to (kopf's ``TemporaryError``/``PermanentError`` split).

A message is redacted when the error is made (``syncer.core.redaction.redact``): connectors
quote the tracker's own error text, and a tracker may echo the credentials it was sent, while
the message goes on to logs, the ledger, the console and reports.
"""

from __future__ import annotations

from datetime import datetime


def _redact(text: str) -> str:
    # Imported here: the CLI imports this module for --help, which must stay light.
    from syncer.core.redaction import redact

    return redact(text)


class TrackerError(Exception):
    """Base class for every error a connector raises; its message never holds a secret."""

    def __init__(self, message: str = "") -> None:
        super().__init__(_redact(str(message)))


class TransientError(TrackerError):
    """Worth retrying later (5xx, timeout, dropped connection)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TrackerError):
    """The tracker asked us to stop until ``reset_at``; writes stop for this cycle."""

    def __init__(self, message: str, reset_at: datetime | None, reason: str = "") -> None:
        super().__init__(message)
        self.reset_at = reset_at
        self.reason = reason


class PermanentError(TrackerError):
    """Retrying will not help (404, 403 without a limit, 422): report and move on."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransitionUnavailable(PermanentError):
    """The tracker offers no way to make this state change: no such transition, no permission.

    Decided from what the tracker answered (the transitions it lists for the item, the status
    of a refused request), never from message text. ``available`` names the transitions the
    tracker did offer, so an operator can fix the configuration; the applier falls back to
    what needs no transition (a label and a comment) instead of giving up on the item.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        *,
        wanted: str = "",
        available: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, status)
        self.wanted = wanted
        self.available = available


class LeadershipLost(Exception):
    """A write refused at the last moment: this replica may no longer write (the fence).

    Deliberately not a ``TrackerError``: nothing was sent, so the write is neither failed nor
    uncertain; the applier stops the cycle and returns what is left as backlog.
    """


class ConfigError(Exception):
    """The policy or settings are invalid; carries every problem found, already formatted."""

    def __init__(self, problems: list[str]) -> None:
        problems = [_redact(p) for p in problems]
        super().__init__("\n".join(problems))
        self.problems = problems
