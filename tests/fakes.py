"""An in-memory tracker that implements the Protocol and records every write.

Core tests and property tests use it instead of mocks: ``assert fake.writes == [...]``
checks behaviour, not calls. It behaves like a tracker where it matters to the core: labels
and state change as the writes say, reopening clears the closure, comments carry markers,
labels may have to be created first (``repo_labels``), and injected failures can hit any
write. ``FakeVerifier`` does the same for the ``EvidenceVerifier`` Protocol: known answers per
URL, every look-up recorded. Test code: no part of pmsync itself uses either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from syncer.core.actions import MARKDOWN, Action, AddLabels, CreateLabels
from syncer.core.messages import Message
from syncer.core.model import ActionItem, ItemRef, State, Verification
from syncer.core.tracker import EvidenceLink, FetchResult, ReportRef, Verdict


@dataclass
class FakeComment:
    ref: ItemRef
    marker: str
    text: str


@dataclass
class FakeTracker:
    """A tracker held in memory; every write moves ``updated_at`` to the clock's time."""

    name: str
    clock: Callable[[], datetime]
    items: dict[str, ActionItem] = field(default_factory=dict)
    comments: list[FakeComment] = field(default_factory=list)
    writes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    reports: dict[str, tuple[str, str]] = field(default_factory=dict)
    attachments: dict[str, dict[str, bytes]] = field(default_factory=dict)
    markup: str = MARKDOWN
    log_entries: dict[str, str] = field(default_factory=dict)
    fail_on: Callable[[str, str], Exception | None] = lambda _kind, _key: None
    marker_checks: int = 0
    repo_labels: set[str] | None = None
    """Labels that exist, when labels must be created before use (as on GitHub); None means
    any label can be put on an item as it is (as on Jira)."""

    def load(self, items: Iterable[ActionItem]) -> FakeTracker:
        for item in items:
            self.items[item.ref.key] = item
        return self

    def fetch(self, *, full: bool) -> FetchResult:
        return FetchResult(items=tuple(self.items.values()))

    def _check(self, kind: str, key: str) -> None:
        error = self.fail_on(kind, key)
        if error is not None:
            raise error

    def _touch(self, key: str, **update: object) -> None:
        update["updated_at"] = self.clock()
        self.items[key] = self.items[key].model_copy(update=update)

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        self.marker_checks += 1
        wanted = {marker, *aliases}
        return any(c.ref == ref and c.marker in wanted for c in self.comments)

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        self._check("comment", ref.key)
        self.comments.append(FakeComment(ref, message.marker, message.plain_text()))
        self.writes.append(("comment", ref.key, (message.marker,)))
        self._touch(ref.key)

    def labels_to_create(self, action: Action) -> CreateLabels | None:
        if self.repo_labels is None or not isinstance(action, AddLabels):
            return None
        missing = tuple(label for label in action.labels if label not in self.repo_labels)
        if not missing:
            return None
        scope = action.ref.key.rpartition("#")[0]
        return CreateLabels(tracker=self.name, scope=scope, labels=missing)

    def create_labels(self, action: CreateLabels) -> None:
        self._check("create_labels", action.scope)
        self.writes.append(("create_labels", action.scope, action.labels))
        if self.repo_labels is not None:
            self.repo_labels.update(action.labels)

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        self._check("add_labels", ref.key)
        self.writes.append(("add_labels", ref.key, tuple(labels)))
        self._touch(ref.key, labels=self.items[ref.key].labels | frozenset(labels))

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        self._check("remove_labels", ref.key)
        self.writes.append(("remove_labels", ref.key, tuple(labels)))
        self._touch(ref.key, labels=self.items[ref.key].labels - frozenset(labels))

    def reopen(self, ref: ItemRef) -> None:
        self._check("reopen", ref.key)
        self.writes.append(("reopen", ref.key, ()))
        self._touch(ref.key, state=State.OPEN, closed_at=None, resolution=None)

    def _pick(self, bodies: Mapping[str, str]) -> str:
        """The body in this fake's ``markup`` (Markdown unless a test says otherwise)."""
        return bodies[self.markup]

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
        """Records the body in ``markup``; attachments are kept, and a changed file is a write."""
        self._check("upsert_report", week_key)
        body = self._pick(bodies)
        files = dict(attachments or {})
        changed = self.reports.get(week_key) != (title, body) or bool(
            files and self.attachments.get(week_key) != files
        )
        if changed:
            self.writes.append(("upsert_report", week_key, (label,)))
            self.reports[week_key] = (title, body)
            if files:
                self.attachments[week_key] = files
        return ReportRef(week_key, f"fake://{self.name}/reports/{week_key}", changed)

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        self._check("upsert_log_entry", week_key)
        body = self._pick(bodies)
        changed = self.log_entries.get(week_key) != body
        if changed:
            self.writes.append(("upsert_log_entry", week_key, (log_label,)))
            self.log_entries[week_key] = body
        return ReportRef(week_key, f"fake://{self.name}/log#{week_key}", changed)


@dataclass
class FakeVerifier:
    """An evidence verifier for links on ``host``: ``answers`` by URL, the rest unverifiable.

    ``asked`` records each batch of URLs it was asked about, in order.
    """

    host: str
    answers: dict[str, Verdict] = field(default_factory=dict)
    name: str = "fake-verifier"
    asked: list[list[str]] = field(default_factory=list)

    def serves(self, link: EvidenceLink) -> int:
        return 1 if urlsplit(link.url).hostname == self.host else 0

    def verify(self, links: Sequence[EvidenceLink]) -> Mapping[str, Verdict]:
        self.asked.append([link.url for link in links])
        unknown = Verdict(Verification.UNVERIFIABLE, "GitHub answers 404")
        return {link.url: self.answers.get(link.url, unknown) for link in links}
