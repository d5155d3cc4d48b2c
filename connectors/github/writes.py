"""Writes to action items on GitHub: the marker check, comments, labels and reopening.

A write costs exactly its request, plus at most one marker check per comment: the check is
free when this process posted the marker itself or when the last list answer said the issue
has no comments. A content-creating POST whose outcome is unknown (it failed, but may have
reached the server) makes the next marker check read the comments instead of trusting that
count. Writes are never retried: a retried POST is a duplicate comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from connectors.github.reads import ItemReader
from connectors.github.renderer import render_message
from connectors.github.session import PER_PAGE
from connectors.github.transport import Answer, ContentPacer, Transport
from syncer.core.errors import PermanentError, TrackerError, TransitionUnavailable
from syncer.core.messages import Message, markers_in
from syncer.core.model import ItemRef

_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LABEL_COLOURS = {"escalat": "b60205", "overdue": "d93f0b", "due-soon": "fbca04"}


@dataclass
class CommentScan:
    """Markers seen in an issue's comments up to ``until`` (GitHub's own timestamp)."""

    until: str | None = None
    markers: set[str] = field(default_factory=set)


class ItemWriter:
    """Comments, labels and reopenings on the issues of one GitHub configuration.

    ``known_labels`` is shared with the reader (see ``ItemReader``); labels listed or created
    here are added to it. ``label_descriptions`` are the descriptions labels are created with
    (the escalation tiers' labels); any other label is "Managed by pmsync".
    """

    def __init__(
        self,
        http: Transport,
        pacer: ContentPacer,
        reader: ItemReader,
        name: str,
        label_descriptions: Mapping[str, str],
        known_labels: dict[str, set[str]],
    ) -> None:
        self.http = http
        self.pacer = pacer
        self.reader = reader
        self.name = name
        self.label_descriptions = label_descriptions
        self.known_labels = known_labels
        self._labels_listed: set[str] = set()
        self._scans: dict[str, CommentScan] = {}
        self._posted: dict[str, set[str]] = {}
        self._uncertain: set[str] = set()

    def split(self, ref: ItemRef) -> tuple[str, int]:
        """``owner/repo`` and issue number of ``ref``; PermanentError if it is not ours."""
        repo, _, number = ref.key.rpartition("#")
        if ref.tracker != self.name or not _REPO_NAME.match(repo) or not number.isdigit():
            raise PermanentError(f"{ref} is not an issue of GitHub tracker {self.name}")
        return repo, int(number)

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        """Whether a comment carrying ``marker`` or one of ``aliases`` is on the issue (0 or 1
        request, usually).

        Free when we posted it ourselves in this process, or when the last list answer said
        the issue has no comments; otherwise one GET of the comments updated since the last
        scan (the first scan in a process reads them all, 100 per request).
        """
        repo, number = self.split(ref)
        wanted = {marker, *aliases}
        if not wanted.isdisjoint(self._posted.get(ref.key, set())):
            return True
        cached = self.reader.cached(repo, number)
        if cached is not None and cached.comments == 0 and ref.key not in self._uncertain:
            return False
        scan = self._scans.setdefault(ref.key, CommentScan())
        params: dict[str, Any] = {"per_page": PER_PAGE}
        if scan.until is not None:
            params["since"] = scan.until
        rows = self.http.get_all(
            f"/repos/{repo}/issues/{number}/comments", f"read comments of {ref.key}", params
        )
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            body = row.get("body")
            if isinstance(body, str):
                scan.markers |= markers_in(body)
            stamp = row.get("updated_at")
            if isinstance(stamp, str) and (scan.until is None or stamp > scan.until):
                scan.until = stamp
        self._uncertain.discard(ref.key)
        return not wanted.isdisjoint(scan.markers)

    def create(self, url: str, what: str, body: Any, key: str | None = None) -> Answer:
        """A content-creating POST (issue or comment), paced and never retried.

        When it fails, the issue ``key`` (if given) may have the content anyway: its next
        marker check reads the comments.
        """
        self.pacer.reserve()
        try:
            return self.http.call("POST", url, what, body=body)
        except TrackerError:
            if key is not None:
                self._uncertain.add(key)
            raise

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        repo, number = self.split(ref)
        self.create(
            f"/repos/{repo}/issues/{number}/comments",
            f"comment on {ref.key}",
            {"body": render_message(message)},
            key=ref.key,
        )
        self._posted.setdefault(ref.key, set()).add(message.marker)

    def _label_spec(self, name: str) -> dict[str, str]:
        colour = next((c for k, c in _LABEL_COLOURS.items() if k in name.lower()), "5319e7")
        description = self.label_descriptions.get(name, "Managed by pmsync")
        return {"name": name, "color": colour, "description": description[:100]}

    def missing_labels(self, repo: str, labels: Sequence[str]) -> list[str]:
        """The labels of ``labels`` that ``repo`` does not have yet (reads, never writes).

        The repository's labels are listed once per process (100 per request); labels seen
        or created since are remembered.
        """
        known = self.known_labels.setdefault(repo, set())
        if all(label.casefold() in known for label in labels):
            return []
        if repo not in self._labels_listed:
            rows = self.http.get_all(
                f"/repos/{repo}/labels", f"list labels of {repo}", {"per_page": PER_PAGE}
            )
            known.update(
                r["name"].casefold()
                for r in rows
                if isinstance(r, Mapping) and isinstance(r.get("name"), str)
            )
            self._labels_listed.add(repo)
        missing: list[str] = []
        for label in labels:
            if label.casefold() not in known and label not in missing:
                missing.append(label)
        return missing

    def create_labels(self, repo: str, labels: Sequence[str]) -> None:
        """Create repository labels with a colour and description, one paced POST each.

        A label is content: each creation is reserved in the content windows first.
        """
        known = self.known_labels.setdefault(repo, set())
        for label in labels:
            if label.casefold() in known:
                continue
            self.pacer.reserve()
            try:
                self.http.call(
                    "POST",
                    f"/repos/{repo}/labels",
                    f"create label {label!r} in {repo}",
                    body=self._label_spec(label),
                )
            except PermanentError as exc:
                if exc.status != 422:  # 422: created meanwhile by someone else
                    raise
            known.add(label.casefold())

    def ensure_labels(self, repo: str, labels: Sequence[str]) -> None:
        """Create the repository labels that do not exist yet, with a colour and description.

        The applier usually did this already as a budgeted ``CreateLabels`` write; this is
        the safety net for callers that did not (then it costs nothing but a cache lookup).
        """
        self.create_labels(repo, self.missing_labels(repo, labels))

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        repo, number = self.split(ref)
        self.ensure_labels(repo, labels)
        self.http.call(
            "POST",
            f"/repos/{repo}/issues/{number}/labels",
            f"label {ref.key}",
            body={"labels": list(labels)},
        )

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        repo, number = self.split(ref)
        for label in labels:
            try:
                self.http.call(
                    "DELETE",
                    f"/repos/{repo}/issues/{number}/labels/{quote(label, safe='')}",
                    f"unlabel {ref.key}",
                )
            except PermanentError as exc:
                if exc.status != 404:  # 404: the label is not on the issue, which is the goal
                    raise

    def reopen(self, ref: ItemRef) -> None:
        """PATCH the state open. GitHub answers 403 when the token may not edit the issue
        (a limit is told apart by its headers before this) and 410 when the repository's
        issues are disabled: reopening is impossible there, ``TransitionUnavailable``."""
        repo, number = self.split(ref)
        try:
            self.http.call(
                "PATCH",
                f"/repos/{repo}/issues/{number}",
                f"reopen {ref.key}",
                body={"state": "open", "state_reason": "reopened"},
            )
        except PermanentError as exc:
            if exc.status not in (403, 410):
                raise
            raise TransitionUnavailable(
                f"{exc}; give the token write access to the issues of {repo} (or set "
                "closure.on_violation: label)",
                exc.status,
                wanted="reopen",
            ) from None
