"""Sync cursors and the view cache: where each source's last fetch ended, and what it said.

Connectors read and write both through the ``CursorStore`` Protocol; the state store persists
them (so every process, a scheduled ``pmsync run --once`` included, starts where the last one
ended) and an in-memory dict serves tests. A conditional list answer of 304 means "the same as
last time", so a process can only use it when it can rebuild "last time": the view cache holds
the mapped entries of each source's last answers, keyed per source and item. Losing either
only costs one full fetch: the trackers stay the truth, the cache is never more than what they
last said.

The view is saved together with the cursor that describes it, in one transaction, and the
cursor names the view it belongs to (``Cursor.view``): a fingerprint of everything the mapping
depends on (the tracker configuration, the policy, the cache format). A view saved under
another fingerprint (a changed policy, a new pmsync) is ignored, and the source is read in full.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import Protocol

from pydantic import BaseModel, TypeAdapter, ValidationError

from syncer.core.model import ActionItem
from syncer.core.policy import Policy
from syncer.core.tracker import SkippedItem

VIEW_FORMAT = 1
"""Version of the cached entries' shape; bump it when the mapping's output changes meaning, so
caches written before are read in full once instead of trusted."""


@dataclass(frozen=True)
class Cursor:
    """Position of one source (a repository, a JQL scope).

    ``since`` is the tracker's own ``updated`` time to ask from next time; ``etag`` is the
    validator of the last list answer (GitHub), sent back as ``If-None-Match``;
    ``full_sync_at`` is when the last full resync finished; ``view`` is the fingerprint of the
    view cache saved with this cursor (None: no view was saved, read the source in full).
    """

    since: datetime | None = None
    etag: str | None = None
    full_sync_at: datetime | None = None
    view: str | None = None


@dataclass(frozen=True)
class ViewEntry:
    """What the last answer said about one record of a source: the mapped item (or why it
    could not be mapped) and, where the list shows it, its comment count."""

    entry: ActionItem | SkippedItem
    comments: int | None = None


_ENTRY = TypeAdapter(ViewEntry)


def encode_entry(entry: ViewEntry) -> str:
    """One cache row's JSON text (defaults left out: about 400 bytes per GitHub item)."""
    return _ENTRY.dump_json(entry, exclude_defaults=True).decode()


def decode_entry(text: str) -> ViewEntry | None:
    """A cache row read back; None when it no longer validates (the source is then re-read)."""
    try:
        return _ENTRY.validate_json(text)
    except ValidationError:
        return None


OPERATIONAL_SECTIONS = frozenset({"version", "trackers", "operations", "daemon", "report"})
"""Policy sections no mapping reads: changing them keeps the cached views."""

OPERATIONAL_SETTINGS = frozenset(
    {
        "token_env",
        "token_file",
        "email_env",
        "app",
        "webhook_secret_env",
        "webhook_secret_file",
        "request_timeout_s",
        "seconds_between_writes",
        "notify_users",
        "look_up_owners",
        "full_resync_every",
        "postmortem_link_type",
    }
)
"""Tracker settings no mapping reads (credentials, pacing, schedules)."""


def view_fingerprint(config: BaseModel, policy: Policy) -> str:
    """A short digest of everything a source's mapping depends on: the tracker configuration,
    the policy's rule sections, the pmsync release and ``VIEW_FORMAT``."""
    try:
        release = metadata.version("postmortem-sync")
    except metadata.PackageNotFoundError:
        release = "unknown"
    digest = hashlib.sha256(f"view-format:{VIEW_FORMAT}:{release}".encode())
    settings = set(OPERATIONAL_SETTINGS & set(type(config).model_fields))
    for part in (
        config.model_dump_json(exclude=settings),
        policy.model_dump_json(exclude=set(OPERATIONAL_SECTIONS)),
    ):
        digest.update(b"\0")
        digest.update(part.encode())
    return digest.hexdigest()[:32]


class CursorStore(Protocol):
    def get_cursor(self, source: str) -> Cursor | None: ...

    def put_cursor(self, source: str, cursor: Cursor) -> None: ...

    def load_view(self, source: str) -> dict[str, str]:
        """The cached entries of ``source`` (item key -> ``encode_entry`` text)."""
        ...

    def save_view(
        self,
        source: str,
        cursor: Cursor,
        changed: Mapping[str, str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Save ``cursor`` with the view it describes, in one transaction: upsert ``changed``
        entries, drop ``removed`` keys, or with ``replace`` make ``changed`` the whole view."""
        ...


class MemoryCursorStore:
    """Cursors and views in dicts, for tests and one-shot runs without a state file."""

    def __init__(self) -> None:
        self._cursors: dict[str, Cursor] = {}
        self._views: dict[str, dict[str, str]] = {}

    def get_cursor(self, source: str) -> Cursor | None:
        return self._cursors.get(source)

    def put_cursor(self, source: str, cursor: Cursor) -> None:
        self._cursors[source] = cursor

    def load_view(self, source: str) -> dict[str, str]:
        return dict(self._views.get(source, {}))

    def save_view(
        self,
        source: str,
        cursor: Cursor,
        changed: Mapping[str, str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        view = {} if replace else self._views.setdefault(source, {})
        for key in removed:
            view.pop(key, None)
        view.update(changed)
        self._views[source] = view
        self._cursors[source] = cursor
