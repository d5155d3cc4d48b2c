"""Filing postmortems in Jira: the ``syncer.postmortem.filing.Filer`` Protocol over the connector.

The filing plan's bodies carry an action item's facts as issue-form sections of plain values;
Jira keeps those facts in fields (``connectors.jira.filer_fields``). The descriptions are
documents built from the record and rendered by the connector's renderer, never translated
from the plan's Markdown: an action item's is ``action_details`` (the evidence *expectation*
and the details, as on GitHub, never in the Evidence field, which the mapper reads as proof of
done), its incident date and severity and a link to the postmortem issue, in wiki markup on
REST v2 and Data Center and ADF on v3; the postmortem issue's is ``postmortem_document`` in
wiki markup with this deployment's mentions, sent through REST v2 also on v3 sites, where
Jira Cloud converts it to ADF. Its text is pmsync's: an edit to a description in Jira is not
reverted unless the record changes.

- find: ONE search (``labels = "incident:ID"``, only the needed fields, the ``pmsync.pm``
  entity property returned with each hit). The property is sent inside the create request,
  so an issue and its marker exist together or not at all; it holds the incident id, the
  slug, the body last filed and the handle -> account id map. The observed body is that body
  with every field-backed section replaced by what the fields say now, so a field someone
  changed in Jira is put back on the next run, and a rerun with nothing changed writes
  nothing.

Writes are never retried (the connector's rules); a create whose answer was lost is found by
its property on the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from connectors.jira.client import JiraConnector
from connectors.jira.filer_fields import (
    FIELD_SECTIONS,
    HUMAN_ATTRIBUTES,
    FilingFields,
    is_action,
)
from connectors.jira.mapper import parse_jira_datetime
from connectors.jira.renderer_document import render_adf_document, render_wiki_document
from connectors.jira.transport import jql_string
from syncer.core.actions import Action, EditFiledIssue, FileIssue
from syncer.core.document import Block, Document, Paragraph, Span
from syncer.core.errors import PermanentError, TransientError
from syncer.core.model import ItemRef, Priority
from syncer.core.policy import Policy
from syncer.core.tracker_config import JiraTracker, named_tracker
from syncer.postmortem.filing import PM_MARKER_RE, RenderDocument, due_dates, parse_sections
from syncer.postmortem.filing_model import FiledIssue, FilingLabels
from syncer.postmortem.render import action_details, postmortem_document
from syncer.postmortem.schema import Incident
from syncer.postmortem.slug import POSTMORTEM_SLUG, action_slugs

PM_PROPERTY = "pmsync.pm"
MAX_STORED_BODY = 30_000  # entity property values are limited to 32 KB


def jira_labels(tracker: JiraTracker) -> FilingLabels:
    """Severity labels from the tracker's mapping; priority lives in the priority field."""
    severity = {s: names[0] for s, names in tracker.severity_labels.items() if names}
    every = [n for names in tracker.severity_labels.values() for n in names]
    every += [p.value for p in Priority]
    return FilingLabels(severity=severity, managed=frozenset(n.lower() for n in every))


class JiraFiler:
    """Files and finds postmortem issues in the tracker's ``project``."""

    def __init__(
        self,
        connector: JiraConnector,
        labels: FilingLabels,
        today: Callable[[], date],
        incident: Incident,
        policy: Policy | None = None,
        *,
        render_form: RenderDocument,
    ) -> None:
        """``render_form`` writes the issue-form Markdown that filing plans in (GitHub's issue
        forms are the filing format; the entry point hands in the GitHub connector's renderer,
        which this connector may not import): the sections are read back into Jira fields."""
        self.connector = connector
        self.config = connector.config
        self.labels = labels
        self.today = today
        self.incident = incident
        self.policy = policy or connector.policy
        self._found: dict[str, FiledIssue] = {}
        self._raw: dict[str, Mapping[str, Any]] = {}
        self._state: dict[str, dict[str, Any]] = {}
        self.render_form = render_form
        self.facts = FilingFields(connector, render_form)

    # -- plumbing ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def hierarchy(self) -> JiraConnector:
        """The connector links the filed items from the postmortem (``LinksFiledIssues``)."""
        return self.connector

    def item_ref(self, issue: FiledIssue) -> ItemRef:
        return ItemRef(tracker=self.connector.name, key=issue.key)

    def write_cost(self, action: Action) -> int:
        """Write requests of a filing (``syncer.core.tracker.PricesWrites``): one POST to create
        (and the postmortem's description PUT through v2 on a v3 site); an edit is the
        fields PUT, that description PUT and the ``pmsync.pm`` property PUT at most."""
        via_v2 = int(self.config.rest_api_version == "3")
        if isinstance(action, FileIssue):
            return 1 + (via_v2 if action.slug == POSTMORTEM_SLUG else 0)
        if isinstance(action, EditFiledIssue):
            return 2 + (via_v2 if action.slug == POSTMORTEM_SLUG else 0)
        return 1

    @property
    def write_requests(self) -> int:
        return self.connector.write_requests

    @property
    def cloud(self) -> bool:
        return self.facts.cloud

    # -- reading ----------------------------------------------------------------------

    def _search_fields(self) -> list[str]:
        ids = self.facts.field_ids()
        wanted = ["summary", "labels", "assignee", "duedate", "priority", "created", "description"]
        wanted += [ids[a] for a in FIELD_SECTIONS.values() if a in ids and ids[a] not in wanted]
        return wanted

    def find_filed(self, incident_id: str) -> dict[str, FiledIssue]:
        """ONE search by the incident label; the slug comes from the ``pmsync.pm`` property."""
        jql = f"labels = {jql_string(self.labels.incident(incident_id))}"
        if self.config.project:
            jql = f"project = {jql_string(self.config.project)} AND {jql}"
        hits = self.connector.http.search(
            f"{jql} ORDER BY created ASC", self._search_fields(), properties=PM_PROPERTY
        )
        found: dict[str, FiledIssue] = {}
        for hit in hits:
            value = self.connector.http.property_of(hit, PM_PROPERTY) or {}
            slug = value.get("slug")
            if value.get("incident") != incident_id or not isinstance(slug, str) or slug in found:
                continue
            key = str(hit.get("key"))
            self._raw[key] = hit.get("fields") or {}
            self._state[key] = dict(value)
            people = value.get("people") if isinstance(value.get("people"), dict) else {}
            self.facts.accounts.update(people or {})
            found[slug] = self._observed(key)
        self._found = found
        return dict(found)

    def _observed(self, key: str) -> FiledIssue:
        fields = self._raw[key]
        state = self._state[key]
        people: Mapping[str, str] = state.get("people") or {}
        body = str(state.get("body") or "")
        if is_action(body):
            body = self.facts.patched(body, fields, people)
        created = parse_jira_datetime(fields.get("created"))
        owner = self.facts.handle(fields.get("assignee"), people)
        return FiledIssue(
            key=key,
            url=self.connector.http.browse(key),
            title=str(fields.get("summary") or ""),
            body=body,
            labels=frozenset(str(lbl) for lbl in fields.get("labels") or ()),
            assignees=frozenset({owner} if owner else ()),
            created=created.date() if created is not None else None,
        )

    # -- writing ----------------------------------------------------------------------

    def _description(self, body: str) -> tuple[str | dict[str, Any], str | None]:
        """The description and the REST version to send it with (None: the configured one).

        Both are documents built from the record, not read back from the filing body: the
        postmortem in wiki markup with this deployment's mentions; an action item's details
        (as on GitHub), its incident date and severity, and a link to the postmortem issue.
        """
        if not is_action(body):
            via = "2" if self.config.rest_api_version == "3" else None
            dues = due_dates(self.incident, self.policy, self._found, self.today())
            postmortem = postmortem_document(self.incident, dues)
            return render_wiki_document(postmortem, self.facts.mention), via
        document = self._action_document(body)
        if self.config.rest_api_version == "3":
            return render_adf_document(document), None
        return render_wiki_document(document, self.facts.mention).rstrip(), None

    def _action_document(self, body: str) -> Document:
        marker = PM_MARKER_RE.search(body)
        slug = marker.group(3) if marker else ""
        items = dict(zip(action_slugs(self.incident), self.incident.action_items, strict=True))
        sections = parse_sections(body)
        blocks: list[Block] = []
        if slug in items:
            blocks += action_details(self.incident, items[slug]).blocks
        for label in ("Incident date", "Severity"):
            if sections.get(label):
                blocks.append(Paragraph((Span(f"{label}: {sections[label]}"),)))
        url = sections.get("Postmortem", "")
        if url.startswith(("http://", "https://")):
            blocks.append(Paragraph((Span("Postmortem", url),)))
        return Document(slug, tuple(blocks))

    def _state_for(self, body: str) -> dict[str, Any]:
        marker = PM_MARKER_RE.search(body)
        if marker is None:
            raise PermanentError("filing body without its pmsync:pm marker", None)
        stored = body if len(body) <= MAX_STORED_BODY else ""
        people = {h: a for h, a in self.facts.accounts.items() if h in body or a in body}
        return {
            "incident": marker.group(2),
            "slug": marker.group(3),
            "body": stored,
            "people": people if self.cloud else {},
        }

    def create_issue(
        self, title: str, body: str, labels: Sequence[str], assignees: Sequence[str]
    ) -> FiledIssue:
        """One POST with every field and the ``pmsync.pm`` property (then the description
        through v2 for a postmortem document on a v3 site)."""
        description, version = self._description(body)
        fields: dict[str, Any] = {
            "project": {"key": self.connector.publisher.project()},
            "issuetype": {"name": self.config.report_issue_type},
            "summary": title,
            "labels": list(labels),
            **{k: v for k, v in self.facts.section_fields(body).items() if v is not None},
        }
        if assignees:
            fields["assignee"] = self.facts.user(assignees[0])
        if version is None:
            fields["description"] = description
        state = self._state_for(body)
        created = self.connector.http.request(
            "POST",
            "issue",
            body={"fields": fields, "properties": [{"key": PM_PROPERTY, "value": state}]},
        )
        key = created.get("key") if isinstance(created, dict) else None
        if not isinstance(key, str):
            raise TransientError("POST issue: answer without a key")
        if version is not None:
            self.connector.http.request(
                "PUT",
                f"issue/{key}",
                body={"fields": {"description": description}},
                version=version,
            )
        self._state[key] = state
        self._raw[key] = {}
        return FiledIssue(
            key=key,
            url=self.connector.http.browse(key),
            title=title,
            body=body,
            labels=frozenset(labels),
            assignees=frozenset(assignees[:1]),
            created=self.today(),
        )

    def _body_changes(
        self, key: str, state: Mapping[str, Any], body: str
    ) -> tuple[dict[str, Any], Any]:
        """Fields whose section changed, and a description to send through v2 (or None)."""
        fields: dict[str, Any] = {}
        wiki_description: Any = None
        live = self._raw.get(key, {})
        people: Mapping[str, str] = state.get("people") or {}
        observed = str(state.get("body") or "")
        if is_action(observed):
            observed = self.facts.patched(observed, live, people)
        old = parse_sections(observed)
        new = parse_sections(body)
        wanted = self.facts.section_fields(body)
        ids = self.facts.field_ids()
        for heading, attribute in FIELD_SECTIONS.items():
            fid = "priority" if attribute == "priority" else ids.get(attribute)
            if attribute == "due":
                fid = ids.get("due", "duedate")
            if attribute == "owner":
                fid = self.facts.owner_field()  # the assignee itself follows ``assignees``
            if attribute in HUMAN_ATTRIBUTES or fid is None:
                continue
            if old.get(heading, "") != new.get(heading, "") and fid in wanted:
                fields[fid] = wanted[fid]
        stored = str(state.get("body") or "")
        if _description_source(stored) != _description_source(body) or not stored:
            description, version = self._description(body)
            if version is None:
                fields["description"] = description
            else:
                wiki_description = description
        return fields, wiki_description

    def update_issue(
        self,
        key: str,
        *,
        title: str | None = None,
        body: str | None = None,
        labels: Sequence[str] | None = None,
        assignees: Sequence[str] | None = None,
    ) -> FiledIssue:
        """One PUT of the fields that differ (and the property when the body changed)."""
        state = self._state.get(key, {})
        before = self._observed(key)
        fields: dict[str, Any] = {}
        wiki_description: Any = None
        if title is not None:
            fields["summary"] = title
        if labels is not None:
            fields["labels"] = list(labels)
        if assignees is not None:
            fields["assignee"] = self.facts.user(assignees[0]) if assignees else None
        if body is not None:
            more, wiki_description = self._body_changes(key, state, body)
            fields.update(more)
        if fields:
            self.connector.writer.edit(key, {"fields": fields})
        if wiki_description is not None:
            self.connector.http.request(
                "PUT",
                f"issue/{key}",
                body={"fields": {"description": wiki_description}},
                version="2",
            )
        if body is not None:
            self._state[key] = self._state_for(body)
            self.connector.http.request(
                "PUT", f"issue/{key}/properties/{PM_PROPERTY}", body=self._state[key]
            )
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = title
        if body is not None:
            changes["body"] = body
        if labels is not None:
            changes["labels"] = frozenset(labels)
        if assignees is not None:
            changes["assignees"] = frozenset(assignees[:1])
        return replace(before, **changes)


def _description_source(body: str) -> object:
    """What a description is rendered from: the whole body, or an action item's text parts."""
    if not is_action(body):
        return body
    sections = parse_sections(body)
    return tuple(
        sections.get(h, "") for h in ("Details", "Incident date", "Severity", "Postmortem")
    )


def select_jira(policy_trackers: Sequence[JiraTracker], name: str | None) -> JiraTracker:
    """The named Jira tracker, or the first one."""
    return named_tracker(policy_trackers, name, "trackers.jira")


def jira_filer_from_policy(
    policy: Policy,
    tracker_name: str | None,
    incident: Incident,
    today: Callable[[], date],
    clock: Callable[[], Any],
    *,
    render_form: RenderDocument,
) -> tuple[JiraFiler, FilingLabels]:
    """The filer for the policy's Jira tracker (the first one by default)."""
    from syncer.core.cursors import MemoryCursorStore

    tracker = select_jira(policy.trackers.jira, tracker_name)
    if not tracker.project:
        raise LookupError(
            f"trackers.jira[{tracker.name}].project: not set; name the project to file in"
        )
    labels = jira_labels(tracker)
    connector = JiraConnector(tracker, policy, MemoryCursorStore(), clock)
    return JiraFiler(connector, labels, today, incident, policy, render_form=render_form), labels
