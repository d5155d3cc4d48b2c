"""Reading from Jira: the field list, incremental JQL searches and a level-triggered view cache.

Each cycle returns every item in scope as it is now (level-triggered), but pays only for what
changed: one search ``(scope) AND updated >= cursor - overlap``, the mapped fields only. The
view (the last answer per issue key, items and skipped records alike) is rebuilt from scratch
on a full read (``full_resync_every``, timed by the ``full_sync_at`` the store keeps, so the
schedule holds across processes) and is never the truth, only what the last answer said.

The view lives in the cursor store beside the cursor (``syncer.core.cursors``), so any process (a
scheduled ``pmsync run --once`` as much as the daemon) turns an idle search back into the
items it stands for. A process keeps the view in memory as long as the stored cursor is the
one it last saw; when another process moved it, the view is read back from the store first.
``read_items`` reads chosen issues for the cycles a webhook delivery asks for, and keeps the
view current with what they said.

A search that finds nothing new (nothing, or only the last changes again, which the overlap
asks for) changes nothing: the view is not copied, its newest ``updated`` is not looked for
again, the unchanged cursor and the same entries are not written back, and ``fetch`` returns
its last ``FetchResult`` (the very object, the very items; dropped whenever the view
changes), so the cycle's stages behind it (``syncer.core.idle``) compare a pointer per item, or
the list itself.

The site's field list (``SiteFields``), which the mapped fields are resolved against
(``connectors.jira.fields``), rarely changes but is not small. It is read once per process and
cached in the state store beside the view, under the view fingerprint, so an incremental run
in a new process does not ask for it again; a full read asks again, so a renamed field is
picked up at the next full resync at the latest. The list read is also handed to the library's
search helpers (``connectors.jira.adapter.prime_field_cache``), which would otherwise GET it
once more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from connectors.jira import adapter
from connectors.jira.fields import FieldResolution, MappingContext, resolve_fields
from connectors.jira.mapper import map_issue
from connectors.jira.transport import PAGE_SIZE, JiraTransport, jql_string
from syncer.core.cursors import Cursor, CursorStore, ViewEntry, decode_entry, encode_entry
from syncer.core.deliveries import same_link
from syncer.core.durations import parse_span
from syncer.core.errors import PermanentError
from syncer.core.evidence_links import LinkClassifier
from syncer.core.model import ActionItem
from syncer.core.tracker import FetchResult, SkippedItem
from syncer.core.tracker_config import JiraTracker

log = structlog.get_logger(__name__)

JQL_TIME_FORMAT = "%Y-%m-%d %H:%M"
_ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*$")
"""An issue key (project key, dash, number): nothing else reaches a JQL query."""


class SiteFields:
    """The field resolution and mapping context of one Jira configuration.

    ``fingerprint`` is the view fingerprint (``syncer.core.cursors.view_fingerprint``) the cached
    list is stored under; ``links`` classifies evidence links (the policy's link rules).
    """

    def __init__(
        self,
        http: JiraTransport,
        config: JiraTracker,
        cursors: CursorStore,
        clock: Callable[[], datetime],
        fingerprint: str,
        links: LinkClassifier,
    ) -> None:
        self.http = http
        self.config = config
        self.cursors = cursors
        self.clock = clock
        self.fingerprint = fingerprint
        self.links = links
        self._resolution: FieldResolution | None = None
        self._ctx: MappingContext | None = None
        self._read_here = False

    @property
    def source(self) -> str:
        """Where the site's field list is cached between processes (next to the view)."""
        return f"jira:{self.config.name}:fields"

    def resolve(self, *, fresh: bool = False) -> FieldResolution:
        """The configured fields resolved against the site's field list.

        The list is read once per process, and cached in the store with the view, so an
        incremental run in a new process does not ask for it again; ``fresh`` (a full read)
        reads it again unless this process already did, so a renamed field is picked up at
        the next full resync at the latest.
        """
        if self._resolution is not None and not (fresh and not self._read_here):
            return self._resolution
        jira = self.http.client()
        field_list = None if fresh else self._stored()
        if field_list is None:
            field_list = self.http.call("GET field", jira.fields, write=False)
            self._read_here = True
            self.cursors.save_view(
                self.source,
                Cursor(full_sync_at=self.clock(), view=self.fingerprint),
                {"fields": json.dumps(field_list)},
                replace=True,
            )
        adapter.prime_field_cache(jira, field_list)
        resolution = resolve_fields(self.config.fields, field_list)
        if resolution != self._resolution:
            self._ctx = None
        self._resolution = resolution
        for problem in resolution.problems:
            log.warning("jira field mapping problem", tracker=self.config.name, problem=problem)
        return resolution

    def _stored(self) -> list[dict[str, Any]] | None:
        """The field list cached by an earlier process under this fingerprint, if any."""
        cursor = self.cursors.get_cursor(self.source)
        if cursor is None or cursor.view != self.fingerprint:
            return None
        text = self.cursors.load_view(self.source).get("fields")
        try:
            value = json.loads(text) if text is not None else None
        except ValueError:
            return None
        if not isinstance(value, list):
            return None
        return [f for f in value if isinstance(f, dict)]

    def context(self) -> MappingContext:
        """What the mapper needs besides the issue, rebuilt when the resolution changed."""
        if self._ctx is None:
            resolution = self.resolve()
            self._ctx = MappingContext.build(
                self.config, resolution, cloud=self.http.cloud, links=self.links
            )
        return self._ctx


class ItemReader:
    """The items in scope of one Jira configuration, and the view cache behind them."""

    def __init__(
        self,
        http: JiraTransport,
        fields: SiteFields,
        config: JiraTracker,
        cursors: CursorStore,
        clock: Callable[[], datetime],
    ) -> None:
        self.http = http
        self.fields = fields
        self.config = config
        self.cursors = cursors
        self.clock = clock
        # The last answers per issue key (items and skipped records), and the stored cursor
        # this view matches (another process sharing the store may move it).
        self._view: dict[str, ViewEntry] | None = None
        self._seen: Cursor | None = None
        # What ``fetch`` last made of ``_view`` (and its newest ``updated``); None whenever
        # the view changed since.
        self._result: tuple[FetchResult, datetime | None] | None = None

    @property
    def cursor_source(self) -> str:
        return f"jira:{self.config.name}"

    @property
    def fingerprint(self) -> str:
        """The view fingerprint of this configuration and policy (``syncer.core.cursors``)."""
        return self.fields.fingerprint

    def incremental_jql(self, since: datetime) -> str:
        """The scope plus ``updated >= since - overlap`` (minute resolution, UTC)."""
        start = since.astimezone(UTC) - timedelta(minutes=self.config.overlap_minutes)
        return (
            f'({self.config.jql}) AND updated >= "{start.strftime(JQL_TIME_FORMAT)}" '
            "ORDER BY updated ASC"
        )

    def _current_view(self, cursor: Cursor | None) -> None:
        """Make the in-memory view the one ``cursor`` vouches for: kept when this process saw
        that cursor last, else read back from the store (none when it holds no view under
        this fingerprint, or one that no longer reads: the scope is then read in full)."""
        if self._view is not None and cursor is not None and cursor == self._seen:
            return
        self._view, self._seen, self._result = None, None, None
        if cursor is None or cursor.view != self.fingerprint:
            return
        restored: dict[str, ViewEntry] = {}
        for key, text in self.cursors.load_view(self.cursor_source).items():
            entry = decode_entry(text)
            if entry is None:
                log.warning("view cache entry unreadable; reading the scope in full", key=key)
                return
            restored[key] = entry
        self._view, self._seen = restored, cursor

    def _needs_full(self, cursor: Cursor | None, now: datetime) -> bool:
        """No view to build on, or the last full read is ``full_resync_every`` old."""
        if self._view is None or cursor is None or cursor.since is None:
            return True
        if cursor.full_sync_at is None or cursor.view != self.fingerprint:
            return True
        every = parse_span(self.config.full_resync_every).as_timedelta()
        return now - cursor.full_sync_at >= every

    def fetch(self, *, full: bool) -> FetchResult:
        """Items in scope: incremental on the stored view unless ``full`` or a resync is due.

        An idle run in a new process costs one search (``updated >=`` the stored cursor);
        the view cache turns it back into every item in scope, the field list comes from the
        store and the library client is built without asking serverInfo again
        (``JiraTransport.site_checked_before``; an explicit deployment only).
        """
        now = self.clock()
        cursor = self.cursors.get_cursor(self.cursor_source)
        self._current_view(cursor)
        incremental = not (full or self._needs_full(cursor, now))
        if incremental:
            # A cursor under this fingerprint: an earlier process checked this configuration
            # against the site. A full read asks the site again, as it reads the field list.
            self.http.site_checked_before()
        resolution = self.fields.resolve(fresh=not incremental)
        ctx = self.fields.context()
        since_before = cursor.since if cursor is not None else None
        if incremental and since_before is not None:
            jql = self.incremental_jql(since_before)
        else:
            jql = f"({self.config.jql}) ORDER BY updated ASC"
        raw_issues = self.http.search(jql, resolution.requested)
        found: dict[str, ViewEntry] = {}
        for raw in raw_issues:
            mapped = map_issue(raw, ctx)
            key = mapped.key if isinstance(mapped, SkippedItem) else mapped.ref.key
            found[key] = ViewEntry(mapped)
        # The overlap finds the last changes again: only what differs from the view changes it.
        known = self._view if incremental and self._view is not None else {}
        changed = {key: entry for key, entry in found.items() if known.get(key) != entry}
        unchanged = incremental and self._view is not None and not changed
        last = self._result if unchanged else None
        if unchanged and self._view is not None:
            view = self._view
        else:
            view = dict(self._view or {}) if incremental else {}
            view.update(changed)
        if last is not None:
            newest = last[1]
        else:
            newest = max(
                (e.entry.updated_at for e in view.values() if isinstance(e.entry, ActionItem)),
                default=None,
            )
        since = max((t for t in (newest, since_before) if t is not None), default=None)
        saved = Cursor(
            since=since,
            etag=None,
            full_sync_at=cursor.full_sync_at if incremental and cursor else now,
            view=self.fingerprint,
        )
        written = changed if incremental else view
        if not (unchanged and saved == cursor):
            self.cursors.save_view(
                self.cursor_source,
                saved,
                {key: encode_entry(entry) for key, entry in written.items()},
                replace=not incremental,
            )
        self._view, self._seen = view, saved
        log.info(
            "jira fetch",
            tracker=self.config.name,
            incremental=incremental,
            fetched=len(raw_issues),
            items=len(view),
        )
        if last is not None and last[0].errors == resolution.problems:
            return last[0]
        result = FetchResult(
            items=tuple(e.entry for e in view.values() if isinstance(e.entry, ActionItem)),
            skipped=tuple(e.entry for e in view.values() if isinstance(e.entry, SkippedItem)),
            errors=resolution.problems,
        )
        self._result = result, newest
        return result

    # -- chosen items (webhook cycles) -----------------------------------------------------

    def read_items(self, keys: Sequence[str]) -> FetchResult:
        """The issues ``keys`` as Jira shows them now, within the scope: one search
        ``(scope) AND key in (...)`` per hundred keys.

        Jira refuses a query naming an issue that does not exist or is hidden from the caller
        (400): then each key is asked alone and the refused ones count as gone. Issues that
        left the scope or are gone are dropped from the view; what was read goes into the
        view cache beside the stored cursor, which is left as it is.
        """
        wanted = sorted({k.upper() for k in keys if _ISSUE_KEY.match(k)})
        if not wanted:
            return FetchResult(items=())
        resolution = self.fields.resolve()
        ctx = self.fields.context()
        cursor = self.cursors.get_cursor(self.cursor_source)
        self._current_view(cursor)
        found: dict[str, ViewEntry] = {}
        for start in range(0, len(wanted), PAGE_SIZE):
            for raw in self._search_keys(wanted[start : start + PAGE_SIZE], resolution):
                mapped = map_issue(raw, ctx)
                key = mapped.key if isinstance(mapped, SkippedItem) else mapped.ref.key
                found[key] = ViewEntry(mapped)
        removed = [k for k in wanted if k not in found]
        if self._view is not None and cursor is not None:
            for key in removed:
                self._view.pop(key, None)
            self._view.update(found)
            self._result = None
            self.cursors.save_view(
                self.cursor_source,
                cursor,
                {key: encode_entry(entry) for key, entry in found.items()},
                removed=removed,
            )
            self._seen = cursor
        return FetchResult(
            items=tuple(e.entry for e in found.values() if isinstance(e.entry, ActionItem)),
            skipped=tuple(e.entry for e in found.values() if isinstance(e.entry, SkippedItem)),
            errors=resolution.problems,
        )

    def _search_keys(
        self, keys: Sequence[str], resolution: FieldResolution
    ) -> list[dict[str, Any]]:
        def jql(chosen: Sequence[str]) -> str:
            listed = ", ".join(jql_string(k) for k in chosen)
            return f"({self.config.jql}) AND key in ({listed})"

        try:
            return self.http.search(jql(keys), resolution.requested)
        except PermanentError as exc:
            if exc.status != 400:
                raise
        issues: list[dict[str, Any]] = []
        for key in keys:
            try:
                issues.extend(self.http.search(jql([key]), resolution.requested))
            except PermanentError as exc:
                if exc.status != 400:
                    raise
                log.info("jira issue no longer readable; dropped from the view", key=key)
        return issues

    def items_linking(self, url: str) -> list[str]:
        """Keys of the viewed items whose evidence links to ``url`` (a merged pull request)."""
        self._current_view(self.cursors.get_cursor(self.cursor_source))
        return [
            key
            for key, cached in (self._view or {}).items()
            if isinstance(cached.entry, ActionItem)
            and any(e.url is not None and same_link(e.url, url) for e in cached.entry.evidence)
        ]

    def relabelled(self, key: str, labels: Sequence[str], verb: str) -> None:
        """Keep the viewed item's labels as a label PUT (``verb`` add or remove) left them."""
        cached = self._view.get(key) if self._view is not None else None
        if self._view is not None and cached is not None and isinstance(cached.entry, ActionItem):
            item = cached.entry
            current = set(item.labels)
            current = current | set(labels) if verb == "add" else current - set(labels)
            self._view[key] = ViewEntry(item.model_copy(update={"labels": frozenset(current)}))
            self._result = None
