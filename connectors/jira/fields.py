"""The site's field list, resolved against the configured field names, and what maps issues.

The policy names fields by name or id (``connectors.jira.mapper.resolve_fields``); the ids
come from ``GET /field``, a list that rarely changes but is not small. It is read once per
process and cached in the state store beside the view, under the view fingerprint, so an
incremental run in a new process does not ask for it again; a full read asks again, so a
renamed field is picked up at the next full resync at the latest. The list read is also handed
to the library's search helpers (``connectors.jira.adapter.prime_field_cache``), which would
otherwise GET it once more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from connectors.jira import adapter
from connectors.jira.mapper import FieldResolution, MappingContext, resolve_fields
from connectors.jira.transport import JiraTransport
from syncer.cursors import Cursor, CursorStore
from syncer.evidence import LinkClassifier
from syncer.tracker_config import JiraTracker

log = structlog.get_logger(__name__)


class SiteFields:
    """The field resolution and mapping context of one Jira configuration.

    ``fingerprint`` is the view fingerprint (``syncer.cursors.view_fingerprint``) the cached
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
