"""Whether pmsync already posted a comment on a Jira issue, read through documented endpoints only.

Exactly once needs a true answer to "is this comment there?" even when the comment's POST
committed and its answer was lost (a dropped connection, a gateway's 502, an answer slower than
the timeout) or the process died before recording it. Each comment pmsync posts carries its
marker twice, both in the one ``addComment`` request, so they exist together or not at all:

- the comment entity property ``pmsync.marker`` = ``{"marker": ...}`` (the Comment schema's
  ``properties``: "A list of comment properties. Optional on create and update.");
- a visible last line holding the marker in light grey (``renderer.with_marker_line``).

An index of markers lives in the issue entity property ``pmsync.markers`` (``{"markers":
{marker: {"comment": id, "at": iso[, "digest": sha256]}}}``), written after the comment.

A marker check uses only operations Atlassian documents (Jira Cloud platform OpenAPI, operation
ids below; no Data Center description was at hand to check them against, so every step has a
fallback that needs less of the site):

1. ``getIssueProperty`` ``GET issue/{key}/properties/pmsync.markers``: the index. A hit ends
   the check; that is every rerun after a run that finished.
2. ``getComments`` ``GET issue/{key}/comment?orderBy=-created&maxResults=50&startAt=N``, newest
   first, back to the index's newest entry minus an hour of clock skew (every comment when there
   is no index). No ``expand`` is sent: its documentation accepts ``renderedBody`` only, so this
   list says nothing about properties.
3. Candidates are the comments in that window that are not in the index and were written by
   pmsync's own account (``getCurrentUser`` ``GET myself``, once per connector, unless an
   indexed comment or a POST answer showed the account first). Such a comment is left by a run
   that lost an answer or died between the POST and the index PUT; there is usually none, so a
   normal escalation pays nothing more.
4. Candidates are read with ``getCommentsByIds`` ``POST comment/list?expand=properties`` (up to
   1,000 ids a request); the property names the marker. A site that answers 404 there is read
   with ``getCommentProperty`` ``GET comment/{id}/properties/pmsync.marker``, one per candidate.
5. A candidate returned without its property is judged by its marker line, and a warning says
   so once: the site dropped or hid the property.

Why the visible line, although Jira shows it to everyone (it has no hidden text): the property
alone leaves pmsync blind wherever comment properties do not come back (a site, app or proxy
that drops them), and there every lost answer is a duplicate, the very failure this module
prevents. The line alone is weaker the other way: people paste comments between issues, and a
marker names a tier and a due date, not the issue, so a pasted line would suppress a real
escalation. Together, with the line trusted on pmsync's own comments only, each covers the
other's gap: a line edited away is still found by the property, a dropped property by the line.
It costs one short grey line per comment; the mapper never reads comments (activity is the
issue's ``updated``), so the line changes no judgement.

What is left: a comment older than the window (pmsync's clock and the site's more than an hour
apart), a comment posted under a previous account of the token before its index PUT, or both
marks removed by hand, would be posted again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from connectors.jira.mapper import parse_jira_datetime
from connectors.jira.renderer import AdfNode, markers_in_body, with_marker_line
from syncer.core.errors import PermanentError, TrackerError, TransientError

log = structlog.get_logger(__name__)

MARKERS_PROPERTY = "pmsync.markers"
COMMENT_PROPERTY = "pmsync.marker"
SCAN_PAGE = 50
IDS_PER_LIST = 1000
CLOCK_SKEW = timedelta(hours=1)
MAX_MARKERS = 200


class Requests(Protocol):
    """The connector's one REST call (``JiraTransport.request``)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
    ) -> Any: ...


def marker_property(marker: str) -> dict[str, Any]:
    """The comment entity property that carries ``marker`` (sent with the comment)."""
    return {"key": COMMENT_PROPERTY, "value": {"marker": marker}}


def comment_marker(comment: Mapping[str, Any]) -> str | None:
    """The marker in a comment's ``properties`` (as ``expand=properties`` returns them)."""
    for prop in comment.get("properties") or ():
        if isinstance(prop, dict) and prop.get("key") == COMMENT_PROPERTY:
            value = prop.get("value")
            marker = value.get("marker") if isinstance(value, dict) else None
            return marker if isinstance(marker, str) else None
    return None


def user_id(user: object) -> str | None:
    """How the deployment identifies a user: ``accountId`` on Cloud, else ``key``, else ``name``."""
    if not isinstance(user, Mapping):
        return None
    for name in ("accountId", "key", "name"):
        value = user.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


class CommentMarkers:
    """The marker index of each issue pmsync writes to, and the check behind it."""

    def __init__(self, http: Requests, clock: Callable[[], datetime], tracker: str) -> None:
        self._http = http
        self._clock = clock
        self._tracker = tracker
        self.index: dict[str, dict[str, Any]] = {}
        self.me: str | None = None
        self._no_comment_list = False
        self._warned: set[str] = set()

    # -- the index ------------------------------------------------------------------------

    def read_index(self, key: str, *, refresh: bool) -> dict[str, Any]:
        """The issue's index (cached; ``refresh`` reads it again with one GET)."""
        if refresh or key not in self.index:
            value: Any = None
            try:
                raw = self._http.request("GET", f"issue/{key}/properties/{MARKERS_PROPERTY}")
                value = raw.get("value") if isinstance(raw, Mapping) else None
            except PermanentError as exc:
                if exc.status != 404:
                    raise
            markers = value.get("markers") if isinstance(value, Mapping) else None
            self.index[key] = dict(markers) if isinstance(markers, Mapping) else {}
        return self.index[key]

    def write_index(self, key: str, markers: dict[str, Any]) -> None:
        """PUT the whole index (oldest entries dropped beyond ``MAX_MARKERS``)."""
        if len(markers) > MAX_MARKERS:
            oldest = sorted(markers, key=lambda m: str(markers[m].get("at", "")))
            for stale in oldest[: len(markers) - MAX_MARKERS]:
                markers.pop(stale)
        self._http.request(
            "PUT", f"issue/{key}/properties/{MARKERS_PROPERTY}", body={"markers": markers}
        )
        self.index[key] = markers

    def save(self, key: str, marker: str, comment_id: str, digest: str | None = None) -> None:
        """Record ``marker`` (and every unindexed marker a scan found) in the index."""
        markers = dict(self.read_index(key, refresh=False))
        markers[marker] = {"comment": comment_id, "at": self._clock().isoformat()}
        if digest is not None:
            markers[marker]["digest"] = digest
        self.write_index(key, markers)

    def cutoff(self, key: str) -> datetime | None:
        """How far back a scan reads: the index's newest entry minus a clock-skew margin.

        Every POST is preceded by a scan (or an index hit) and every scan records all the
        unindexed markers it found, so an unindexed pmsync comment is never older than the
        index's newest entry. None (no index yet) means every comment.
        """
        stamps: list[datetime] = []
        for entry in self.read_index(key, refresh=False).values():
            at = parse_jira_datetime(entry.get("at")) if isinstance(entry, Mapping) else None
            if at is not None:
                stamps.append(at)
        return max(stamps) - CLOCK_SKEW if stamps else None

    # -- the check ------------------------------------------------------------------------

    def has(self, key: str, marker: str, aliases: Sequence[str] = ()) -> bool:
        """Whether ``marker`` (or one of ``aliases``) is posted on ``key``; a marker found on
        a comment but missing from the index is recorded there (one PUT) before answering."""
        wanted = {marker, *aliases}
        if not wanted.isdisjoint(self.read_index(key, refresh=True)):
            return True
        if wanted.isdisjoint(self.scan(key)):
            return False
        self.write_index(key, dict(self.index[key]))
        return True

    def scan(self, key: str) -> dict[str, dict[str, str]]:
        """Markers on pmsync's comments in the scan window that the index lacks.

        What is found is merged into the cached index; the caller writes it.
        """
        known = self.read_index(key, refresh=False)
        indexed = {str(e.get("comment")) for e in known.values() if isinstance(e, Mapping)}
        cutoff = self.cutoff(key)
        recent: list[Mapping[str, Any]] = []
        start = 0
        while True:
            raw = self._http.request(
                "GET",
                f"issue/{key}/comment",
                params={"orderBy": "-created", "maxResults": str(SCAN_PAGE), "startAt": str(start)},
            )
            page = raw.get("comments") if isinstance(raw, Mapping) else None
            comments = [c for c in page or [] if isinstance(c, Mapping)]
            oldest: datetime | None = None
            for comment in comments:
                created = parse_jira_datetime(comment.get("created"))
                oldest = created if created is not None else oldest
                if str(comment.get("id")) in indexed:
                    self.me = self.me or user_id(comment.get("author"))
                elif cutoff is None or created is None or created >= cutoff:
                    recent.append(comment)
            start += len(comments)
            total = raw.get("total") if isinstance(raw, Mapping) else None
            if not comments or not isinstance(total, int) or start >= total:
                break
            if cutoff is not None and oldest is not None and oldest < cutoff:
                break
        found: dict[str, dict[str, str]] = {}
        for comment, marker in self._identify(recent):
            if marker not in known and marker not in found:
                created = parse_jira_datetime(comment.get("created"))
                at = (created or self._clock()).isoformat()
                found[marker] = {"comment": str(comment.get("id")), "at": at}
        if found:
            log.info(
                "jira markers found on comments but missing from the index",
                key=key,
                markers=sorted(found),
            )
            self.index[key] = {**known, **found}
        return found

    def _whoami(self) -> str | None:
        if self.me is None:
            self.me = user_id(self._http.request("GET", "myself"))
        return self.me

    def _identify(
        self, comments: Sequence[Mapping[str, Any]]
    ) -> list[tuple[Mapping[str, Any], str]]:
        """(comment, marker) for each of pmsync's comments among ``comments``."""
        if not comments:
            return []
        me = self._whoami()
        # Without a known account every comment is a candidate; only properties decide then.
        mine = [c for c in comments if me is None or user_id(c.get("author")) == me]
        if not mine:
            return []
        by_property = self._properties(mine)
        out: list[tuple[Mapping[str, Any], str]] = []
        for comment in mine:
            marker = by_property.get(str(comment.get("id")))
            if marker is not None:
                out.append((comment, marker))
                continue
            lines = markers_in_body(comment.get("body")) if me is not None else set()
            if lines:
                self._warn_once(
                    "line",
                    "jira returned pmsync's comment without its pmsync.marker property; its "
                    "visible marker line identified it",
                    comment=str(comment.get("id")),
                )
            out.extend((comment, line) for line in sorted(lines))
        return out

    def _properties(self, comments: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """Comment id -> marker, from each comment's ``pmsync.marker`` property."""
        ids = [str(c.get("id")) for c in comments]
        if not self._no_comment_list:
            try:
                return self._properties_by_list([int(i) for i in ids if i.isdigit()])
            except PermanentError as exc:
                if exc.status != 404:
                    raise
                self._no_comment_list = True
                self._warn_once(
                    "list",
                    "jira answered 404 to POST comment/list; reading comment properties one "
                    "comment at a time",
                )
        out: dict[str, str] = {}
        for cid in ids:
            try:
                raw = self._http.request("GET", f"comment/{cid}/properties/{COMMENT_PROPERTY}")
            except PermanentError as exc:
                if exc.status == 404:
                    continue
                raise
            marker = comment_marker({"properties": [raw]})
            if marker is not None:
                out[cid] = marker
        return out

    def _properties_by_list(self, ids: Sequence[int]) -> dict[str, str]:
        out: dict[str, str] = {}
        for batch in _batches(ids, IDS_PER_LIST):
            raw = self._http.request(
                "POST", "comment/list", params={"expand": "properties"}, body={"ids": batch}
            )
            values = raw.get("values") if isinstance(raw, Mapping) else None
            for comment in values or ():
                if not isinstance(comment, Mapping):
                    continue
                if "properties" not in comment:
                    self._warn_once(
                        "expand",
                        "jira answered POST comment/list?expand=properties without properties",
                    )
                marker = comment_marker(comment)
                if marker is not None:
                    out[str(comment.get("id"))] = marker
        return out

    def _warn_once(self, what: str, event: str, **fields: str) -> None:
        if what not in self._warned:
            self._warned.add(what)
            log.warning(event, tracker=self._tracker, **fields)

    # -- posting --------------------------------------------------------------------------

    def post(self, key: str, marker: str, body: str | AdfNode) -> str:
        """POST a comment that carries its marker (property and line), exactly once.

        An unknown outcome (timeout, dropped connection, 5xx) is never resent: the comments
        are scanned and, when one of pmsync's carries the marker, its id is returned.
        """
        payload = {"body": with_marker_line(body, marker), "properties": [marker_property(marker)]}
        try:
            created = self._http.request("POST", f"issue/{key}/comment", body=payload)
        except TransientError:
            try:
                found = self.scan(key).get(marker)
            except TrackerError:
                found = None
            if found is None:
                raise
            log.info("comment POST answer lost but the comment exists", key=key, marker=marker)
            return found["comment"]
        if not isinstance(created, Mapping):
            return ""
        self.me = self.me or user_id(created.get("author"))
        return str(created.get("id"))
