"""The store's caches: sync cursors with their view cache, known markers, owner look-ups.

Each is only a cache of what a tracker holds (deleting them costs a full fetch, a marker
check per item, a look-up per owner), which is why they sit together and apart from the
history (:mod:`syncer.state.history_tables`), which records what pmsync decided.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from syncer.core.cursors import Cursor
from syncer.core.directory import AccountStatus
from syncer.state.engine import StoreCore, chunks
from syncer.state.schema import KnownMarker, SyncCursor, UserLookup, ViewEntryRow


class CacheTables(StoreCore):
    """Implements ``syncer.core.cursors.CursorStore`` and ``syncer.core.directory.LookupCache``, and
    the marker cache the writers check before they list an item's comments."""

    # Cursors -------------------------------------------------------------------------------

    def get_cursor(self, source: str) -> Cursor | None:
        """The saved cursor of ``source``, or None if it was never saved (a full fetch)."""
        with self.transaction() as session:
            row = session.get(SyncCursor, source)
            if row is None:
                return None
            return Cursor(
                since=row.since, etag=row.etag, full_sync_at=row.full_sync_at, view=row.view
            )

    def put_cursor(self, source: str, cursor: Cursor) -> None:
        """Save ``cursor`` as the position of ``source``, replacing what was there."""
        with self.transaction() as session:
            self._put_cursor(session, source, cursor)

    def _put_cursor(self, session: Session, source: str, cursor: Cursor) -> None:
        values = {
            "source": source,
            "since": cursor.since,
            "etag": cursor.etag,
            "full_sync_at": cursor.full_sync_at,
            "view": cursor.view,
        }
        changed = ("since", "etag", "full_sync_at", "view")
        if self.dialect == "postgresql":
            pg = postgresql.insert(SyncCursor).values(values)
            session.execute(
                pg.on_conflict_do_update(
                    index_elements=[SyncCursor.source],
                    set_={name: pg.excluded[name] for name in changed},
                )
            )
        else:
            lite = sqlite.insert(SyncCursor).values(values)
            session.execute(
                lite.on_conflict_do_update(
                    index_elements=[SyncCursor.source],
                    set_={name: lite.excluded[name] for name in changed},
                )
            )

    # View cache ----------------------------------------------------------------------------

    def load_view(self, source: str) -> dict[str, str]:
        """The cached entries of ``source``: item key -> JSON text (``syncer.core.cursors``)."""
        query = select(ViewEntryRow.item_key, ViewEntryRow.entry).where(
            ViewEntryRow.source == source
        )
        with self.transaction() as session:
            return {str(key): str(entry) for key, entry in session.execute(query)}

    def save_view(
        self,
        source: str,
        cursor: Cursor,
        changed: Mapping[str, str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Save ``cursor`` and the view it describes in one transaction (see ``CursorStore``).

        Either both are saved or neither, so a cursor never vouches (by its ETag) for a view
        the store does not hold.
        """
        rows = [
            {"source": source, "item_key": key, "entry": entry}
            for key, entry in sorted(changed.items())
        ]
        with self.transaction() as session:
            if replace:
                session.execute(delete(ViewEntryRow).where(ViewEntryRow.source == source))
            elif removed or rows:
                gone = set(removed) | set(changed)
                for chunk in chunks(sorted(gone), 500):
                    session.execute(
                        delete(ViewEntryRow).where(
                            ViewEntryRow.source == source, ViewEntryRow.item_key.in_(chunk)
                        )
                    )
            if rows:
                session.execute(insert(ViewEntryRow), rows)
            self._put_cursor(session, source, cursor)

    def view_sizes(self) -> dict[str, tuple[int, int]]:
        """Per source: (entries, bytes of their JSON text), to say what the cache costs."""
        query = select(
            ViewEntryRow.source, func.count(), func.sum(func.length(ViewEntryRow.entry))
        ).group_by(ViewEntryRow.source)
        with self.transaction() as session:
            return {src: (int(n), int(size or 0)) for src, n, size in session.execute(query)}

    # Known markers -------------------------------------------------------------------------

    def known_markers(self, tracker: str) -> set[tuple[str, str]]:
        """``(item_key, marker)`` pairs of ``tracker`` known to be posted (a cache only)."""
        query = select(KnownMarker.item_key, KnownMarker.marker).where(
            KnownMarker.tracker == tracker
        )
        with self.transaction() as session:
            return {(key, marker) for key, marker in session.execute(query)}

    def count_markers(self, tracker: str) -> int:
        """How many markers of ``tracker`` are known: markers are only ever added, so an
        unchanged count is an unchanged set (one cheap query instead of reading them all)."""
        query = select(func.count()).select_from(KnownMarker).where(KnownMarker.tracker == tracker)
        with self.transaction() as session:
            return int(session.scalar(query) or 0)

    def remember_markers(self, tracker: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Remember that these ``(item_key, marker)`` comments are posted on ``tracker``."""
        rows = [
            {"tracker": tracker, "item_key": key, "marker": marker}
            for key, marker in sorted(set(pairs))
        ]
        if not rows:
            return
        with self.transaction() as session:
            if self.dialect == "postgresql":
                session.execute(postgresql.insert(KnownMarker).on_conflict_do_nothing(), rows)
            else:
                session.execute(sqlite.insert(KnownMarker).on_conflict_do_nothing(), rows)

    # Owner-account lookups ------------------------------------------------------------------

    def user_lookups(
        self, tracker: str, handles: Iterable[str], day: date
    ) -> dict[str, AccountStatus]:
        """Answers recorded on ``day`` for these handles, by case-folded handle."""
        wanted = sorted({h.casefold() for h in handles})
        if not wanted:
            return {}
        query = select(UserLookup).where(
            UserLookup.tracker == tracker,
            UserLookup.checked_on == day,
            UserLookup.handle.in_(wanted),
        )
        with self.transaction() as session:
            return {
                row.handle: AccountStatus(active=row.active, detail=row.detail)
                for row in session.scalars(query)
            }

    def remember_user_lookups(
        self, tracker: str, found: Mapping[str, AccountStatus], day: date, at: datetime
    ) -> None:
        """Record the answers given on ``day``, replacing any older answer per handle."""
        rows = [
            {
                "tracker": tracker,
                "handle": handle.casefold(),
                "active": status.active,
                "detail": status.detail,
                "checked_on": day,
                "checked_at": at,
            }
            for handle, status in sorted(found.items())
        ]
        if not rows:
            return
        changed = ("active", "detail", "checked_on", "checked_at")
        keys = [UserLookup.tracker, UserLookup.handle]
        with self.transaction() as session:
            if self.dialect == "postgresql":
                pg = postgresql.insert(UserLookup)
                set_pg = {name: pg.excluded[name] for name in changed}
                session.execute(pg.on_conflict_do_update(index_elements=keys, set_=set_pg), rows)
            else:
                lite = sqlite.insert(UserLookup)
                set_lite = {name: lite.excluded[name] for name in changed}
                session.execute(
                    lite.on_conflict_do_update(index_elements=keys, set_=set_lite), rows
                )
