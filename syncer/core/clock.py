"""The one place pmsync reads the system clock.

Everything else receives ``now`` or a clock callable from an entry point (the CLI, the
daemon, the demo), so tests and the soak run on an injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime


def system_clock() -> datetime:
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)
