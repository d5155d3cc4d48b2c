"""The Jira ``Tracker``: one object per configuration, composing the connector's parts.

The work is split by responsibility as in the GitHub connector, each in its own module:
``session`` reads the credentials and builds the ``jira`` library client (timeout, no library
retries, Cloud or Data Center auth), ``adapter`` is the one place the library is bypassed (and
says why), ``transport`` spends requests (typed errors, GET retries, counting, searches),
``fields`` resolves the configured field names to the site's ids (no I/O), ``reads`` reads
the field list and keeps the items current (incremental JQL, level-triggered view cache),
``writes`` changes items (marker check, comments, labels, transitions), ``reports`` publishes
the weekly review, its attachments and the log entry, ``hierarchy`` links action items to
their postmortem (``postmortem_link_type``) and ``users`` looks display names up.
This module wires them together behind the ``Tracker`` Protocol and keeps the names other
code imports from ``connectors.jira.client``.

Of the ``Policy`` the connector reads three things, here and only here, and hands each part
the value it needs: the view fingerprint (a digest of the policy's rule sections, so a rule
change invalidates the cached view; ``syncer.core.cursors.view_fingerprint``), the evidence link
rules (``closure.evidence``, for the mapper) and ``report.project`` (where the review and log
issues are created). ``policy`` stays an attribute for the postmortem filer, which computes
due dates from the whole policy.

Cost per cycle: one search (more only past 100 changed issues), the field list and
serverInfo once per process at most (neither in an incremental run on a stored view of an
explicit deployment, ``connectors.jira.reads``); for writes, exactly the writes plus the
marker check per comment (``connectors.jira.markers``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from pydantic import SecretStr

from connectors.fencing import Fence, always_allowed
from connectors.jira.costs import write_cost
from connectors.jira.hierarchy import IssueLinks
from connectors.jira.markers import (
    COMMENT_PROPERTY,
    MARKERS_PROPERTY,
    CommentMarkers,
    marker_property,
)
from connectors.jira.reads import ItemReader, SiteFields
from connectors.jira.reports import REPORT_PROPERTY, ReportPublisher
from connectors.jira.session import open_jira, read_credentials
from connectors.jira.transport import PAGE_SIZE, JiraTransport, jql_string
from connectors.jira.users import NameLookups
from connectors.jira.writes import ItemWriter
from syncer.core.actions import Action, LinkChild
from syncer.core.cursors import CursorStore, view_fingerprint
from syncer.core.evidence_links import classifier_for
from syncer.core.messages import Message
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from syncer.core.tracker import FetchResult, ReportRef
from syncer.core.tracker_config import JiraTracker

__all__ = [
    "COMMENT_PROPERTY",
    "MARKERS_PROPERTY",
    "REPORT_PROPERTY",
    "JiraConnector",
    "jql_string",
    "marker_property",
    "open_jira",
    "read_credentials",
]


class JiraConnector:
    """One Jira Cloud or Data Center source, behind the ``Tracker`` Protocol."""

    def __init__(
        self,
        config: JiraTracker,
        policy: Policy,
        cursors: CursorStore,
        clock: Callable[[], datetime],
        token: SecretStr | None = None,
        email: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        fence: Fence = always_allowed,
    ) -> None:
        self.config = config
        self.policy = policy
        self.cursors = cursors
        self.clock = clock
        token, email = read_credentials(config, token, email)
        self.http = JiraTransport(config, token, email, clock, sleep, fence)
        self.fields = SiteFields(
            self.http,
            config,
            cursors,
            clock,
            fingerprint=view_fingerprint(config, policy),
            links=classifier_for(policy.closure.evidence),
        )
        self.reader = ItemReader(self.http, self.fields, config, cursors, clock)
        self.marks = CommentMarkers(self.http, clock, config.name)
        self.writer = ItemWriter(self.http, self.marks, self.reader, config)
        self.publisher = ReportPublisher(
            self.http, self.writer, self.marks, config, report_project=policy.report.project
        )
        self.users = NameLookups(self.http, clock)
        self.links = IssueLinks(self.http, config.postmortem_link_type, config.name)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def cursor_source(self) -> str:
        return self.reader.cursor_source

    @property
    def fingerprint(self) -> str:
        """The view fingerprint of this configuration and policy (``syncer.core.cursors``)."""
        return self.reader.fingerprint

    @property
    def requests(self) -> Counter[tuple[str, int]]:
        """Requests made so far, per (verb, status); status 0 when none came back."""
        return self.http.requests

    @property
    def write_requests(self) -> int:
        """Write requests sent so far, answered or not (``syncer.core.tracker.PricesWrites``)."""
        return self.http.write_requests

    def write_cost(self, action: Action) -> int:
        """Write requests ``action`` takes here (``connectors.jira.costs``)."""
        return write_cost(action)

    @property
    def rate_limit_remaining(self) -> int | None:
        """Always None: Jira says only when a limit is near (``X-RateLimit-NearLimit``)."""
        return None

    # -- reads --------------------------------------------------------------------------

    def incremental_jql(self, since: datetime) -> str:
        return self.reader.incremental_jql(since)

    def fetch(self, *, full: bool) -> FetchResult:
        return self.reader.fetch(full=full)

    def read_items(self, keys: Sequence[str]) -> FetchResult:
        """Chosen issues now, one search per hundred keys (``syncer.core.tracker.ReadsItems``)."""
        return self.reader.read_items(keys)

    def read_cost(self, keys: Collection[str]) -> tuple[int, int]:
        """One search per hundred keys, against one incremental search (a fetch)."""
        return -(-len(set(keys)) // PAGE_SIZE), 1

    def items_linking(self, url: str) -> list[str]:
        return self.reader.items_linking(url)

    def display_names(self, handles: Collection[str]) -> dict[str, str]:
        return self.users.display_names(handles)

    # -- writes -------------------------------------------------------------------------

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        return self.writer.has_marker(ref, marker, aliases)

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        self.writer.post_comment(ref, message)

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        self.writer.add_labels(ref, labels)

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        self.writer.remove_labels(ref, labels)

    def reopen(self, ref: ItemRef) -> None:
        self.writer.reopen(ref)

    # -- postmortems as parents (``LinksChildren``) -----------------------------------

    def children(self, parent: ItemRef) -> tuple[ItemRef, ...]:
        """Issues linked from the parent (``connectors.jira.hierarchy``)."""
        return self.links.children(parent)

    def link_child(self, action: LinkChild) -> bool:
        """Link the child from the parent unless the child already shows that link."""
        return self.links.link_child(action)

    # -- weekly report and operating log ------------------------------------------------

    def upsert_report(
        self,
        *,
        week_key: str,
        label: str,
        title: str,
        bodies: Mapping[str, str],
        close_previous: bool,
        attachments: Mapping[str, bytes] | None = None,
    ) -> ReportRef:
        return self.publisher.upsert_report(
            week_key=week_key,
            label=label,
            title=title,
            bodies=bodies,
            close_previous=close_previous,
            attachments=attachments,
        )

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        return self.publisher.upsert_log_entry(
            log_label=log_label, log_title=log_title, week_key=week_key, bodies=bodies
        )
