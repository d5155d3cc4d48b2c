"""Writes to action items on Jira: the marker check, comments, labels and transitions.

Idempotency (``connectors.jira.markers``): every comment pmsync posts carries its marker as the
comment entity property ``pmsync.marker`` and as a visible grey last line, both sent in the
same ``POST /comment`` request, so the comment and its marker are stored together or not at
all. An index of the markers lives in the issue entity property ``pmsync.markers``, read only
for items about to be written. Write order per item is comment (with its marker), then index
PUT, then labels. A marker missing from the index is looked for on the issue's recent comments
through documented endpoints only (the comment list, then ``POST /comment/list`` with
``expand=properties`` for pmsync's own unindexed comments); a comment POST whose answer is lost
(timeout, dropped connection, 5xx) is never resent but found that way. With this, a process
dying at any point converges on exactly one comment.

Labels are edited with one PUT of ``update`` verbs, with no read first and no reload after
(the library's ``Issue.update()`` would GET the issue again).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.jira.markers import CommentMarkers
from connectors.jira.reads import ItemReader
from connectors.jira.renderer import AdfNode, render_comment
from connectors.jira.transport import JiraTransport
from syncer.core.errors import PermanentError, TransitionUnavailable
from syncer.core.messages import Message
from syncer.core.model import ItemRef
from syncer.core.tracker_config import JiraTracker


class ItemWriter:
    """Comments, labels and transitions on the issues of one Jira configuration.

    Label edits are applied to the reader's view too, so the next cycle in this process sees
    them without reading the issue again.
    """

    def __init__(
        self,
        http: JiraTransport,
        marks: CommentMarkers,
        reader: ItemReader,
        config: JiraTracker,
    ) -> None:
        self.http = http
        self.marks = marks
        self.reader = reader
        self.config = config

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        """Whether pmsync already posted ``marker`` (or one of ``aliases``, the markers an
        earlier release wrote for the same comment) on the item (``CommentMarkers.has``).

        One property GET when the index has it. Otherwise one comments GET more (per 50
        comments back to the index's newest entry) and, only for pmsync's own comments missing
        from the index, one ``POST comment/list``: such a comment, left by a run that died or
        lost the answer before the index PUT, repairs the index (one PUT) and counts as posted.
        """
        return self.marks.has(ref.key, marker, aliases)

    def _comment_body(self, message: Message) -> str | AdfNode:
        self.http.client()
        return render_comment(
            message, cloud=self.http.cloud, api_version=self.config.rest_api_version
        )

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        """Comment (marker in the same request), then record the marker in the index."""
        body = self._comment_body(message)
        comment_id = self.marks.post(ref.key, message.marker, body)
        self.marks.save(ref.key, message.marker, comment_id)

    def edit(self, key: str, body: dict[str, Any]) -> None:
        """One ``PUT issue/{key}``, notifying watchers only when ``notify_users`` says so."""
        params = None if self.config.notify_users else {"notifyUsers": "false"}
        self.http.request("PUT", f"issue/{key}", params=params, body=body)

    def _labels(self, ref: ItemRef, labels: Sequence[str], verb: str) -> None:
        if not labels:
            return
        self.edit(ref.key, {"update": {"labels": [{verb: label} for label in labels]}})
        self.reader.relabelled(ref.key, labels, verb)

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        """One PUT with ``add`` verbs; no read first, no reload after."""
        self._labels(ref, labels, "add")

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        """One PUT with ``remove`` verbs."""
        self._labels(ref, labels, "remove")

    def transition(self, key: str, name: str) -> None:
        """Move ``key`` through the transition called ``name`` (or leading to that status).

        Jira lists only the transitions the caller may perform from the issue's current
        status (none at all without the Transition Issues permission) and answers 400 to one
        it refuses (no permission, a required screen field); its OpenAPI documents both for
        ``/issue/{key}/transitions``. Either way the change is impossible as configured:
        ``TransitionUnavailable``, naming the transitions Jira did offer.
        """
        raw = self.http.request("GET", f"issue/{key}/transitions")
        transitions = raw.get("transitions") if isinstance(raw, dict) else None
        offered = [t for t in transitions or [] if isinstance(t, dict)]
        available = tuple(str(t.get("name", "")) for t in offered)
        wanted = name.lower()
        for transition in offered:
            names = {str(transition.get("name", ""))}
            target = transition.get("to")
            if isinstance(target, dict):
                names.add(str(target.get("name", "")))
            if wanted not in {n.lower() for n in names}:
                continue
            try:
                self.http.request(
                    "POST",
                    f"issue/{key}/transitions",
                    body={"transition": {"id": str(transition.get("id"))}},
                )
            except PermanentError as exc:
                if exc.status not in (400, 403):
                    raise
                raise TransitionUnavailable(
                    f"{key}: Jira refused the transition {name!r} ({exc})",
                    exc.status,
                    wanted=name,
                    available=available,
                ) from None
            return
        raise TransitionUnavailable(
            f"{key}: no transition named {name!r} (available: {', '.join(available) or 'none'});"
            " set the transition name in the Jira tracker settings or give pmsync's account the"
            " Transition Issues permission",
            None,
            wanted=name,
            available=available,
        )

    def reopen(self, ref: ItemRef) -> None:
        """Through the transition named ``config.reopen_transition``."""
        self.transition(ref.key, self.config.reopen_transition)
