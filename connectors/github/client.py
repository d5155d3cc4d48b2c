"""The GitHub ``Tracker``: one object per configuration, composing the connector's parts.

The work is split by responsibility, each in its own module: ``session`` builds the PyGithub
client (credentials, GET-only retries), ``transport`` spends requests (typed errors,
pagination, content-creation pacing), ``reads`` keeps the items current (conditional listing,
level-triggered cache), ``verify`` looks evidence links up (merged pull requests, existing
commits, for items of any tracker), ``writes`` changes items (marker check, comments, labels,
reopen), ``reports`` publishes the weekly review and log entry, ``hierarchy`` attaches
action items to their postmortem as sub-issues and ``users`` checks owners' accounts. This
module wires them together behind the ``Tracker`` and ``EvidenceVerifier``
Protocols and keeps the names other code imports from ``connectors.github.client``.

Cost per cycle: one list request per repository (more only when more than 100 items changed);
one conditional GET per distinct pull-request or commit link of a closure being judged, none
once it is known merged or existing (so one per newly closed item, as a rule); one GET per
owner login a day (is the account still there? asked by the cycle, cached in the state
store); and for writes, exactly the writes plus at most one marker check per comment.

Of the ``Policy`` the connector reads, and passes on: the view fingerprint and the evidence
link rules (``closure.evidence``), both through the reader, which hands the policy to
``mapper.map_issue``; and the escalation tiers' label names and tier names, here, as the
descriptions the writer creates those labels with.

Every request leaves through one connection whose adapter asks ``fence`` right before a write
is sent (``connectors.fencing``); content creation is paced through ``windows``, the write
windows the state store shares between processes (in memory when none is given).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime

from pydantic import SecretStr

from connectors.fencing import Fence, always_allowed
from connectors.github.costs import write_cost
from connectors.github.hierarchy import SubIssues
from connectors.github.reads import ItemReader
from connectors.github.reports import ReportPublisher
from connectors.github.session import (
    api_host,
    make_auth,
    make_connection,
    make_github,
    make_retry,
    read_token,
    web_host,
)
from connectors.github.transport import (
    TRANSPORT_ERRORS,
    Answer,
    ContentPacer,
    Transport,
    classify,
)
from connectors.github.users import UserLookups
from connectors.github.verify import EvidenceChecker
from connectors.github.writes import ItemWriter
from syncer.core.actions import (
    MARKDOWN,
    Action,
    AddLabels,
    CreateLabels,
    LinkChild,
    UpsertLogEntry,
    UpsertReport,
    body_in,
)
from syncer.core.cursors import CursorStore
from syncer.core.directory import AccountStatus
from syncer.core.messages import Message
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from syncer.core.tracker import EvidenceLink, FetchResult, ReportRef, Verdict
from syncer.core.tracker_config import GitHubTracker
from syncer.core.write_windows import MemoryWriteWindows, WriteWindows

__all__ = [
    "TRANSPORT_ERRORS",
    "Answer",
    "GitHubConnector",
    "classify",
    "make_auth",
    "make_github",
    "make_retry",
    "read_token",
    "web_host",
]


def label_descriptions(policy: Policy) -> dict[str, str]:
    """The description each escalation tier's label is created with (the last tier wins)."""
    return {tier.label: f"pmsync escalation tier: {tier.name}" for tier in policy.escalation.tiers}


class GitHubConnector:
    """The ``Tracker`` (and ``EvidenceVerifier``) for one GitHub (github.com or Enterprise
    Server) configuration."""

    def __init__(
        self,
        config: GitHubTracker,
        policy: Policy,
        cursors: CursorStore,
        clock: Callable[[], datetime],
        token: SecretStr | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        report_repository: str | None = None,
        fence: Fence = always_allowed,
        windows: WriteWindows | None = None,
    ) -> None:
        self.config = config
        self.policy = policy
        self.cursors = cursors
        self.clock = clock
        # Writes are spaced here, on the injected clock, ahead of the fence: PyGithub's own
        # spacing would sleep after the fence was asked.
        self.github = make_github(config, make_auth(config, token), seconds_between_writes=0)
        self.http = Transport(
            self.github.requester,
            config.base_url,
            clock,
            connection=make_connection(config, fence),
            write_spacing_s=config.seconds_between_writes,
            sleep=sleep,
        )
        known_labels: dict[str, set[str]] = {}
        self.reader = ItemReader(self.http, config, policy, cursors, clock, known_labels)
        self.evidence = EvidenceChecker(self.http, config)
        pacer = ContentPacer(
            api_host(config.base_url), windows or MemoryWriteWindows(), clock, sleep
        )
        self.writer = ItemWriter(
            self.http, pacer, self.reader, config.name, label_descriptions(policy), known_labels
        )
        self.publisher = ReportPublisher(
            self.http, self.writer, self.reader.repositories, config.name, report_repository
        )
        self.sub_issues = SubIssues(self.http, pacer, self.writer)
        self.users = UserLookups(self.http)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def requests(self) -> Counter[tuple[str, int]]:
        """Requests made so far, per (verb, status); status 0 when none came back."""
        return self.http.requests

    @property
    def write_requests(self) -> int:
        """Write requests sent so far, answered or not (``syncer.core.tracker.PricesWrites``)."""
        return sum(n for (verb, _), n in self.http.requests.items() if verb != "GET")

    def write_cost(self, action: Action) -> int:
        """Write requests ``action`` takes here (``connectors.github.costs``)."""
        return write_cost(action)

    @property
    def rate_limit_remaining(self) -> int | None:
        """The primary rate limit left, as of the last answer that said."""
        return self.http.rate_limit_remaining

    # -- reads --------------------------------------------------------------------------

    def repositories(self) -> list[str]:
        return self.reader.repositories()

    def fetch(self, *, full: bool) -> FetchResult:
        return self.reader.fetch(full=full)

    def read_items(self, keys: Sequence[str]) -> FetchResult:
        """Chosen issues now, one GET each (``syncer.core.tracker.ReadsItems``)."""
        return self.reader.read_items(keys)

    def items_linking(self, url: str) -> list[str]:
        return self.reader.items_linking(url)

    def read_cost(self, keys: Collection[str]) -> tuple[int, int]:
        """One GET per issue, against one list request per repository (a fetch)."""
        return len(set(keys)), len(self.reader.repositories())

    def look_up_users(self, handles: Sequence[str]) -> Mapping[str, AccountStatus]:
        """Owner accounts, one GET each (``syncer.core.directory.UserDirectory``); none when
        ``look_up_owners`` is off."""
        if not self.config.look_up_owners:
            return {}
        return self.users.look_up(handles)

    # -- evidence -----------------------------------------------------------------------

    def serves(self, link: EvidenceLink) -> int:
        return self.evidence.serves(link)

    def verify(self, links: Sequence[EvidenceLink]) -> Mapping[str, Verdict]:
        return self.evidence.verify(links)

    # -- writes -------------------------------------------------------------------------

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        return self.writer.has_marker(ref, marker, aliases)

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        self.writer.post_comment(ref, message)

    def ensure_labels(self, repo: str, labels: Sequence[str]) -> None:
        self.writer.ensure_labels(repo, labels)

    def labels_to_create(self, action: Action) -> CreateLabels | None:
        """Repository labels ``action`` needs that do not exist yet (``CreatesLabels``)."""
        if isinstance(action, AddLabels):
            repo, _ = self.writer.split(action.ref)
            wanted: Sequence[str] = action.labels
        elif isinstance(action, UpsertReport):
            repo, wanted = self.publisher.report_repo(), [action.label]
        elif isinstance(action, UpsertLogEntry):
            repo, wanted = self.publisher.report_repo(), [action.log_label]
        else:
            return None
        missing = self.writer.missing_labels(repo, wanted)
        if not missing:
            return None
        return CreateLabels(
            tracker=self.name, scope=repo, labels=tuple(missing), reason=action.reason
        )

    def create_labels(self, action: CreateLabels) -> None:
        self.writer.create_labels(action.scope, action.labels)

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        self.writer.add_labels(ref, labels)

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        self.writer.remove_labels(ref, labels)

    def reopen(self, ref: ItemRef) -> None:
        self.writer.reopen(ref)

    # -- postmortems as parents (``LinksChildren``) -----------------------------------

    def children(self, parent: ItemRef) -> tuple[ItemRef, ...]:
        """The parent's sub-issues (``connectors.github.hierarchy``)."""
        return self.sub_issues.children(parent)

    def link_child(self, action: LinkChild) -> bool:
        """Attach the child as a sub-issue unless it already is one of the parent."""
        return self.sub_issues.link_child(action)

    # -- weekly report and operating log ------------------------------------------------

    def report_repo(self) -> str:
        return self.publisher.report_repo()

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
        """Publishes ``bodies["markdown"]``. ``attachments`` are ignored: GitHub's REST API has
        no issue attachments, and the Markdown body already carries the trend as a Mermaid
        chart, which GitHub renders."""
        return self.publisher.upsert_report(
            week_key=week_key,
            label=label,
            title=title,
            body=body_in(bodies, MARKDOWN, tracker=self.name),
            close_previous=close_previous,
        )

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        return self.publisher.upsert_log_entry(
            log_label=log_label,
            log_title=log_title,
            week_key=week_key,
            body=body_in(bodies, MARKDOWN, tracker=self.name),
        )
