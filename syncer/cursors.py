"""Sync cursors: where each source's last incremental fetch ended.

Connectors read and write cursors through this Protocol; the state store persists them and an
in-memory dict serves tests. Losing them only costs one full fetch: the trackers stay the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Cursor:
    """Position of one source (a repository, a JQL scope).

    ``since`` is the tracker's own ``updated`` time to ask from next time; ``etag`` is the
    validator of the last list answer (GitHub), sent back as ``If-None-Match``;
    ``full_sync_at`` is when the last full resync finished.
    """

    since: datetime | None = None
    etag: str | None = None
    full_sync_at: datetime | None = None


class CursorStore(Protocol):
    def get_cursor(self, source: str) -> Cursor | None: ...

    def put_cursor(self, source: str, cursor: Cursor) -> None: ...


class MemoryCursorStore:
    """Cursors in a dict, for tests and one-shot runs without a state file."""

    def __init__(self) -> None:
        self._cursors: dict[str, Cursor] = {}

    def get_cursor(self, source: str) -> Cursor | None:
        return self._cursors.get(source)

    def put_cursor(self, source: str, cursor: Cursor) -> None:
        self._cursors[source] = cursor
