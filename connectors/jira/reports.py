"""Publishing on Jira: the weekly review issue, its attachments, and the operating log.

Both are found before they are written, so reruns and restarts edit instead of doubling: the
review issue by its label and the week in its ``pmsync.report`` entity property, the log issue
by its label, and the week's log comment through the marker index (``pmsync.markers``,
``connectors.jira.markers``). Each records a digest of what was sent, so unchanged text costs
no write and an unchanged attachment no upload.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.jira.markers import MARKERS_PROPERTY, CommentMarkers
from connectors.jira.renderer import AdfNode, publish_document, text_document, with_marker_line
from connectors.jira.transport import JiraTransport, jql_string
from connectors.jira.writes import ItemWriter
from syncer.core.errors import PermanentError, TransientError
from syncer.core.tracker import ReportRef
from syncer.core.tracker_config import JiraTracker

REPORT_PROPERTY = "pmsync.report"


class ReportPublisher:
    """The review issue and log entries of one Jira configuration, in one project.

    ``report_project`` is the policy's ``report.project``; without it, the tracker's own
    ``project`` is used.
    """

    def __init__(
        self,
        http: JiraTransport,
        writer: ItemWriter,
        marks: CommentMarkers,
        config: JiraTracker,
        report_project: str | None = None,
    ) -> None:
        self.http = http
        self.writer = writer
        self.marks = marks
        self.config = config
        self.report_project = report_project

    def project(self) -> str:
        """Where review and log issues are created: ``report.project``, else ``project``."""
        project = self.report_project or self.config.project
        if not project:
            raise PermanentError(
                f"trackers.jira[{self.config.name}].project is not set; name the project in "
                "which pmsync creates review and log issues (or set report.project)",
                None,
            )
        return project

    def _by_label(
        self, label: str, order: str, prop: str, extra: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        jql = (
            f"project = {jql_string(self.project())} AND labels = {jql_string(label)} "
            f"ORDER BY created {order}"
        )
        fields = ["summary", "status", "labels", *extra]
        return self.http.search(jql, fields, properties=prop)[:50]

    def _create_issue(self, summary: str, label: str, description: str | AdfNode) -> str:
        fields = {
            "project": {"key": self.project()},
            "issuetype": {"name": self.config.report_issue_type},
            "summary": summary,
            "labels": [label],
            "description": description,
        }
        created = self.http.request("POST", "issue", body={"fields": fields})
        key = created.get("key") if isinstance(created, dict) else None
        if not isinstance(key, str):
            raise TransientError("POST issue: answer without a key")
        return key

    def _sync_attachments(
        self,
        key: str,
        files: Mapping[str, bytes],
        recorded: Mapping[str, Any],
        present: Sequence[Mapping[str, Any]],
    ) -> tuple[dict[str, str], bool]:
        """Upload each file whose bytes changed, then delete the older copies of that name.

        Jira keeps every upload, a second file of the same name included, so replacing is
        upload-then-delete: a run that dies in between leaves two copies, which the next run
        sees and cleans up. A file is unchanged when the report property recorded its sha256
        and exactly one attachment of that name and size is on the issue.
        """
        digests: dict[str, str] = {}
        uploaded = False
        for name, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            digests[name] = digest
            same_name = [a for a in present if a.get("filename") == name]
            if (
                recorded.get(name) == digest
                and len(same_name) == 1
                and same_name[0].get("size") == len(data)
            ):
                continue
            self.http.attach(key, name, data)
            uploaded = True
            for old in same_name:
                self.http.request("DELETE", f"attachment/{old.get('id')}")
        return digests, uploaded

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
        """Find the review issue by label and its ``pmsync.report`` week; edit or create.

        Publishes ``bodies["wiki"]`` on REST v2 and Data Center, ``bodies["adf"]`` as an ADF
        document on v3. The ``pmsync.report`` property records the week, a digest of the
        title and description sent, and the sha256 of each attachment, so a rerun with the
        same report edits nothing and uploads nothing (search + property come in one request).
        """
        self.http.client()
        description = publish_document(
            bodies, api_version=self.config.rest_api_version, tracker=self.config.name
        )
        digest = hashlib.sha256(
            json.dumps([title, description], sort_keys=True).encode("utf-8")
        ).hexdigest()
        found: str | None = None
        state: dict[str, Any] = {}
        present: list[Mapping[str, Any]] = []
        previous: list[str] = []
        for issue in self._by_label(label, "DESC", REPORT_PROPERTY, ("attachment",)):
            key = str(issue.get("key"))
            fields = issue.get("fields") or {}
            status = fields.get("status") or {}
            done = (status.get("statusCategory") or {}).get("key") == "done"
            if found is not None and done:
                continue
            value = self.http.property_of(issue, REPORT_PROPERTY)
            week = value.get("week") if value else None
            if week is None and found is None and fields.get("summary") == title:
                week = week_key  # found by title: the property is written below
            if week == week_key and found is None:
                found = key
                state = dict(value or {})
                present = [a for a in fields.get("attachment") or () if isinstance(a, Mapping)]
            elif not done and week != week_key:
                previous.append(key)
        changed = found is None or state.get("digest") != digest
        if found is None:
            found = self._create_issue(title, label, description)
        elif changed:
            self.writer.edit(found, {"fields": {"summary": title, "description": description}})
        files = dict(attachments or {})
        recorded = state.get("files") if isinstance(state.get("files"), dict) else {}
        digests, uploaded = self._sync_attachments(found, files, recorded or {}, present)
        wanted = {"week": week_key, "digest": digest, "files": {**(recorded or {}), **digests}}
        if wanted != state:
            self.http.request("PUT", f"issue/{found}/properties/{REPORT_PROPERTY}", body=wanted)
        if close_previous:
            for key in previous:
                self.writer.transition(key, self.config.close_transition)
        changed = changed or uploaded or bool(close_previous and previous)
        return ReportRef(key=found, url=self.http.browse(found), changed=changed)

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        """One comment per week on the log issue, found through the marker property.

        The index entry of the week's comment records a digest of the body sent, so a rerun
        with the same entry writes nothing; a changed entry is one comment PUT.
        """
        self.http.client()
        candidates = self._by_label(log_label, "ASC", MARKERS_PROPERTY)
        if candidates:
            key = str(candidates[0].get("key"))
            value = self.http.property_of(candidates[0], MARKERS_PROPERTY) or {}
            markers = value.get("markers")
            self.marks.index[key] = dict(markers) if isinstance(markers, dict) else {}
        else:
            intro = text_document(
                "Reliability operating log: one comment per week, written by pmsync.",
                api_version=self.config.rest_api_version,
            )
            key = self._create_issue(log_title, log_label, intro)
            self.marks.index[key] = {}
        marker = f"pmsync:log:{week_key}"
        document = publish_document(
            bodies, api_version=self.config.rest_api_version, tracker=self.config.name
        )
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        changed = not candidates
        entry = self.marks.index[key].get(marker)
        if entry is None and candidates and marker in self.marks.scan(key):
            # A run died between posting this week's entry and indexing it: repair, then edit.
            self.marks.write_index(key, dict(self.marks.index[key]))
            entry = self.marks.index[key][marker]
        if isinstance(entry, dict) and entry.get("comment"):
            comment_id = str(entry["comment"])
            if entry.get("digest") != digest:
                changed = True
                edited = {"body": with_marker_line(document, marker)}
                self.http.request("PUT", f"issue/{key}/comment/{comment_id}", body=edited)
                self.marks.save(key, marker, comment_id, digest)
        else:
            changed = True
            comment_id = self.marks.post(key, marker, document)
            self.marks.save(key, marker, comment_id, digest)
        url = f"{self.http.browse(key)}?focusedCommentId={comment_id}"
        return ReportRef(key=key, url=url, changed=changed)
