"""The one Protocol every connector implements, and what a fetch returns.

The core depends on this Protocol only; GitHub, Jira and the in-memory fake all satisfy it.
Connectors keep I/O behind it and do their own mapping and rendering (mapper / client /
renderer), so nothing tracker-specific leaks into the rules. ``EvidenceVerifier`` is a second,
optional capability: a connector that can confirm evidence links (the GitHub connector:
is this pull request merged, does this commit exist?) for items of any tracker.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from syncer.core.actions import Action, CreateLabels, EditFiledIssue, FileIssue, LinkChild
from syncer.core.messages import Message
from syncer.core.model import ActionItem, EvidenceKind, ItemRef, Verification


@dataclass(frozen=True)
class SkippedItem:
    """A tracker record that could not be mapped at all; logged, never fatal."""

    key: str
    problem: str


@dataclass(frozen=True)
class FetchResult:
    """Items in scope as the tracker shows them now, plus what was skipped or failed."""

    items: tuple[ActionItem, ...]
    skipped: tuple[SkippedItem, ...] = ()
    errors: tuple[str, ...] = field(default=())
    complete: bool = True


@dataclass(frozen=True)
class ReportRef:
    """Where a published report or log entry lives."""

    key: str
    url: str
    changed: bool = True
    """False when the tracker already showed exactly this (nothing was written)."""


@dataclass(frozen=True)
class PermissionCheck:
    """One thing ``pmsync check-permissions`` verified on a tracker, and how to fix it."""

    tracker: str
    check: str
    ok: bool
    detail: str = ""
    fix: str = ""
    answered: bool = True
    """False when the tracker could not be asked (no answer, 5xx, a rate limit): the check
    neither passed nor failed, and ``check-permissions`` exits 3 rather than 1."""


@runtime_checkable
class Tracker(Protocol):
    """What the applier and the cycle need from a tracker."""

    @property
    def name(self) -> str:
        """Tracker instance name; equals ``ItemRef.tracker`` of its items."""
        ...

    def fetch(self, *, full: bool) -> FetchResult:
        """Items in scope. ``full`` ignores incremental cursors (daily resync)."""
        ...

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        """Whether a comment carrying ``marker``, or any of ``aliases`` (the markers an
        earlier release wrote for the same comment), is already on the item."""
        ...

    def post_comment(self, ref: ItemRef, message: Message) -> None: ...

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None: ...

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None: ...

    def reopen(self, ref: ItemRef) -> None: ...

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
        """Create or update the review issue for ``week_key``, found by label and key first.

        ``bodies`` is the review per markup (``markdown``, ``wiki``, ``adf``): the tracker
        publishes the one it renders. ``attachments`` (file name -> bytes) go beside the body
        where the tracker shows them (the trend chart PNG on Jira); unchanged files are not
        uploaded again, and trackers that show the chart otherwise ignore them.
        """
        ...

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        """Create or edit the operating-log comment for ``week_key`` (body per markup)."""
        ...


@runtime_checkable
class ReadsItems(Protocol):
    """A tracker that can read chosen items now, for the cycle a webhook delivery asks for.

    ``read_items`` returns those of ``keys`` that are in scope as the tracker shows them now
    (one GET per GitHub issue, one JQL search per hundred Jira keys) and keeps the tracker's
    view cache current with them; an item that left the scope or is gone is dropped from the
    view and absent from the result. ``items_linking`` names the items of the view whose
    evidence links to ``url``.
    """

    @property
    def name(self) -> str: ...

    def read_items(self, keys: Sequence[str]) -> FetchResult: ...

    def items_linking(self, url: str) -> list[str]: ...

    def read_cost(self, keys: Collection[str]) -> tuple[int, int]:
        """Requests to read ``keys`` with ``read_items``, and those of an incremental fetch
        when nothing else changed: the cycle takes the cheaper."""
        ...


@dataclass(frozen=True)
class EvidenceLink:
    """A link to look up: its URL and the kind the policy's link rules gave it."""

    url: str
    kind: EvidenceKind


@dataclass(frozen=True)
class Verdict:
    """What looking one link up said, and why in words when it is not a plain yes or no."""

    verification: Verification
    note: str = ""


NO_SUCH_PULL_REQUEST = "does not exist"
"""The note of a refuted pull request that is not there at all (its repository is readable),
worded to follow its name: "the linked pull request acme/api#99 does not exist"."""


@runtime_checkable
class EvidenceVerifier(Protocol):
    """Something that can confirm evidence links, whichever tracker the item lives in.

    The cycle calls it between collecting items and evaluating them, once per cycle with every
    distinct link that a judgement depends on; the verifier owns its caching (ETags, answers
    that cannot change) and its cost.
    """

    @property
    def name(self) -> str: ...

    def serves(self, link: EvidenceLink) -> int:
        """How well this verifier can look ``link`` up: 0 = not at all; higher = a better fit
        (the same host, and an organisation or repository it is configured for)."""
        ...

    def verify(self, links: Sequence[EvidenceLink]) -> Mapping[str, Verdict]:
        """A verdict per link URL. Never raises for a failed look-up: that is a
        ``Verification.FAILED`` verdict, tried again next cycle."""
        ...


@runtime_checkable
class CountsRequests(Protocol):
    """A tracker that counts its HTTP traffic (the GitHub and Jira connectors do).

    The daemon turns these running totals into ``pmsync_tracker_requests_total`` and
    ``pmsync_rate_limit_remaining`` after every cycle.
    """

    @property
    def name(self) -> str: ...

    @property
    def requests(self) -> Mapping[tuple[str, int], int]:
        """Requests sent so far, per (verb, HTTP status); status 0 when no answer came."""
        ...

    @property
    def rate_limit_remaining(self) -> int | None:
        """Requests left in the current rate-limit window as last reported, or None."""
        ...


@runtime_checkable
class NamesPeople(Protocol):
    """A tracker whose handles are not names people read (Jira account ids), and that can
    look up the display names (the weekly review calls it for the few it does not know)."""

    @property
    def name(self) -> str: ...

    def display_names(self, handles: Collection[str]) -> Mapping[str, str]:
        """Display names by handle; a handle nobody answers for is left out."""
        ...


@runtime_checkable
class CreatesLabels(Protocol):
    """A tracker whose labels must exist before they are used (GitHub repository labels).

    The applier asks :meth:`labels_to_create` before each change and executes the answer as
    a ``CreateLabels`` write of its own, counted against the budget. Trackers whose labels are
    free-form (Jira) do not implement this.
    """

    def labels_to_create(self, action: Action) -> CreateLabels | None:
        """The labels ``action`` will need that do not exist yet (reads at most), or None."""
        ...

    def create_labels(self, action: CreateLabels) -> None:
        """Create ``action.labels`` in ``action.scope``."""
        ...


@runtime_checkable
class PricesWrites(Protocol):
    """A tracker that states what a write costs in requests and counts the writes it sends.

    The write budget is spent in requests, not actions: removing three GitHub labels is three
    DELETEs, publishing a Jira review is an edit, an upload, a property and a transition. The
    applier reserves :meth:`write_cost` before a change (a change that does not fit waits) and
    charges what :attr:`write_requests` says was sent, so the budget spent equals the write
    requests the tracker received. Trackers that do not implement it cost one per action.
    """

    def write_cost(self, action: Action) -> int:
        """Write requests ``action`` takes at most as far as can be known beforehand (reads,
        such as a marker check, are not counted)."""
        ...

    @property
    def write_requests(self) -> int:
        """Write requests sent so far (answered or not; never a read sent as a POST)."""
        ...


@runtime_checkable
class FilesIssues(Protocol):
    """Where the applier files postmortems (``FileIssue``, ``EditFiledIssue``).

    Built per incident by ``syncer.postmortem.filing`` over a connector's filer and handed to
    the executor beside the trackers, so filing gets the budget, the fence, the ledger and
    dry-run of every other write.
    """

    def file_issue(self, action: FileIssue) -> None: ...

    def edit_filed_issue(self, action: EditFiledIssue) -> None: ...


@runtime_checkable
class LinksChildren(Protocol):
    """A tracker that can make one issue the parent of others: a postmortem of its action
    items (GitHub: sub-issues; Jira: issue links of a configured type).

    ``link_child`` is idempotent on the tracker's own state: it reads whether ``child`` is
    already there before it writes, so a rerun after an answer that never came back (the
    link made, the answer lost) sends no second write.
    """

    @property
    def name(self) -> str: ...

    def children(self, parent: ItemRef) -> tuple[ItemRef, ...]:
        """The children ``parent`` has now, as the tracker shows them (reads only)."""
        ...

    def link_child(self, action: LinkChild) -> bool:
        """Attach ``action.child`` under ``action.parent``; False when it already was (no
        write sent). A child that has another parent where the tracker allows only one
        (GitHub) is a ``PermanentError``: pmsync never moves an item between parents."""
        ...
