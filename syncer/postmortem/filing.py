"""Filing a postmortem: the issues a record asks for, diffed against the issues already filed.

Planning is pure: from a valid incident, the policy and what the tracker holds now, it returns
``Create`` and ``Update`` steps. Each filed issue carries a hidden marker
``<!-- pmsync:pm:INCIDENT:SLUG -->`` so that a rerun finds it, updates only what changed and
creates nothing twice. Action-item bodies use the GitHub issue-form sections (``### Owner``,
``### Due date``...) that the connector maps back, so the rest of pmsync governs the items from
the first minute; their text and the postmortem are documents that a connector renders. The
tracker side is a small ``Filer`` Protocol; the steps are ``FileIssue`` and ``EditFiledIssue``
actions through the one applier (``syncer.postmortem.filing_apply``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from syncer.core.document import Document, Mention, Paragraph
from syncer.core.messages import html_marker
from syncer.core.policy import Policy
from syncer.core.tracker_config import GitHubTracker
from syncer.postmortem.filing_model import (
    Create,
    FiledIssue,
    FilingLabels,
    IssueSpec,
    Step,
    Unchanged,
    Update,
)
from syncer.postmortem.render import action_details, postmortem_document
from syncer.postmortem.schema import ActionItemSpec, Incident
from syncer.postmortem.slug import POSTMORTEM_SLUG, action_slugs, marker
from syncer.postmortem.validate import clock_start, resolve_due

NO_RESPONSE = "_No response_"
# Issue-form sections of an action item, in the order of the shipped form
# (config/github/ISSUE_TEMPLATE/postmortem-action.yml); the GitHub mapper reads them back.
SECTIONS = (
    "Owner",
    "Postmortem",
    "Incident date",
    "Severity",
    "Priority",
    "Due date",
    "Sponsor",
    "Executive sponsor",
    "Evidence",
    "Waiver",
    "Details",
)
# Written by people after filing (proof links, approved waivers): a rerun keeps what is there.
HUMAN_SECTIONS = ("Evidence", "Waiver")
PENDING_POSTMORTEM = "(the postmortem issue, filed in the same run)"
MAX_TITLE = 256
_SECTION_RE = re.compile(r"^### (.+?)\s*$", re.MULTILINE)
# A filing marker: groups (the marker, its incident id, its slug).
PM_MARKER_RE = re.compile(r"<!--\s*(pmsync:pm:([A-Za-z0-9._-]+):([a-z0-9-]+))\s*-->")
# The Markdown an issue-form body holds (GitHub's issue forms are the filing format): the
# filer's ``render_form``, which its connector or entry point provides.
RenderDocument = Callable[[Document], str]


def slug_of(incident_id: str, body: str) -> str | None:
    """The slug in a body's filing marker for this incident, if any."""
    for _marker, found_id, slug in PM_MARKER_RE.findall(body):
        if found_id == incident_id:
            return str(slug)
    return None


def parse_sections(body: str) -> dict[str, str]:
    """Issue-form sections of a body: heading -> value (``""`` for ``_No response_``)."""
    parts = _SECTION_RE.split(body)
    sections: dict[str, str] = {}
    for heading, value in zip(parts[1::2], parts[2::2], strict=False):
        text = re.sub(r"<!--.*?-->", "", value, flags=re.DOTALL).strip()
        sections[heading.strip()] = "" if text == NO_RESPONSE else text
    return sections


def issue_form(marker_text: str, values: Mapping[str, str]) -> str:
    """An issue-form body: the hidden marker, then every section in form order, its value as
    given (``_No response_`` when empty). The Jira filer rebuilds observed bodies with it."""
    sections = [f"### {h}\n\n{values.get(h, '').strip() or NO_RESPONSE}" for h in SECTIONS]
    return "\n\n".join([html_marker(marker_text), *sections]) + "\n"


def mention_value(handle: str | None, render: RenderDocument) -> str:
    """A person's issue-form section (``Owner``, ``Sponsor``...): their mention, or nothing."""
    if not handle:
        return ""
    return render(Document(handle, (Paragraph((Mention(handle),)),))).strip()


def action_body(
    incident: Incident,
    item: ActionItemSpec,
    slug: str,
    *,
    due: date | None,
    incident_date: date,
    postmortem_url: str,
    observed: FiledIssue | None = None,
    render: RenderDocument,
) -> str:
    """The issue body of one action item, in issue-form sections, with its marker on top.

    The evidence *expectation* goes under Details, not under Evidence: the mapper reads every
    URL under Evidence as proof of done, and an expectation that names a dashboard must not
    count as that dashboard being shown.
    """
    kept = parse_sections(observed.body) if observed is not None else {}
    values = {
        "Owner": mention_value(item.owner, render),
        "Postmortem": postmortem_url,
        "Incident date": incident_date.isoformat(),
        "Severity": incident.severity.value,
        "Priority": item.priority.value,
        "Due date": due.isoformat() if due else "",
        "Sponsor": mention_value(item.sponsor, render),
        "Executive sponsor": mention_value(item.executive_sponsor, render),
        "Details": render(action_details(incident, item)).strip(),
    }
    for heading in HUMAN_SECTIONS:
        values[heading] = kept.get(heading, "")
    return issue_form(marker(incident.id, slug), values)


def postmortem_body(
    incident: Incident, due_dates: Sequence[date | None], render: RenderDocument
) -> str:
    """The postmortem issue: the rendered document under its marker."""
    document = render(postmortem_document(incident, due_dates))
    return html_marker(marker(incident.id, POSTMORTEM_SLUG)) + "\n\n" + document


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().splitlines())


def diff(
    spec: IssueSpec, observed: FiledIssue | None, labels: FilingLabels, incident_id: str
) -> Step:
    """What to do so that the tracker holds ``spec``: create, update the difference, or nothing."""
    if observed is None:
        return Create(spec)
    title = spec.title if spec.title != observed.title else None
    body = spec.body if _normal(spec.body) != _normal(observed.body) else None
    kept = {lbl for lbl in observed.labels if not labels.is_managed(lbl, incident_id)}
    wanted = frozenset(kept | spec.labels)
    new_labels = wanted if wanted != observed.labels else None
    assignees = spec.assignees if frozenset(spec.assignees) != observed.assignees else None
    update = Update(spec.slug, observed.key, observed.url, title, body, new_labels, assignees)
    if not update.changed:
        return Unchanged(spec.slug, observed.key, observed.url)
    return update


def incident_day(incident: Incident, policy: Policy) -> date:
    """The incident's date in the policy's timezone (the core counts SLOs from it)."""
    return incident.timestamps.started.astimezone(ZoneInfo(policy.deadlines.timezone)).date()


def due_dates(
    incident: Incident, policy: Policy, filed: dict[str, FiledIssue], today: date
) -> list[date | None]:
    """The concrete due date of each action item; ``slo`` counts from the item's creation."""
    out = []
    for item, slug in zip(incident.action_items, action_slugs(incident), strict=True):
        created = filed[slug].created if slug in filed else None
        start = clock_start(incident, policy, created or today)
        out.append(resolve_due(item, incident, policy, start))
    return out


def plan_postmortem(
    incident: Incident,
    policy: Policy,
    filed: dict[str, FiledIssue],
    today: date,
    labels: FilingLabels,
    render: RenderDocument,
) -> Step:
    """The step for the postmortem issue itself."""
    wanted = {labels.postmortem, labels.incident(incident.id)}
    wanted.add(labels.severity.get(incident.severity, incident.severity.value))
    spec = IssueSpec(
        slug=POSTMORTEM_SLUG,
        title=f"Postmortem: {incident.title} ({incident.id})"[:MAX_TITLE],
        body=postmortem_body(incident, due_dates(incident, policy, filed, today), render),
        labels=frozenset(wanted),
        assignees=(incident.owner,),
    )
    return diff(spec, filed.get(POSTMORTEM_SLUG), labels, incident.id)


def plan_actions(
    incident: Incident,
    policy: Policy,
    filed: dict[str, FiledIssue],
    today: date,
    labels: FilingLabels,
    *,
    postmortem_url: str,
    render: RenderDocument,
) -> list[Step]:
    """One step per action item, in record order."""
    steps: list[Step] = []
    dues = due_dates(incident, policy, filed, today)
    slugs = action_slugs(incident)
    for item, slug, due in zip(incident.action_items, slugs, dues, strict=True):
        observed = filed.get(slug)
        wanted = {
            labels.action,
            labels.incident(incident.id),
            labels.severity.get(incident.severity, incident.severity.value),
            labels.priority.get(item.priority, item.priority.value),
        }
        spec = IssueSpec(
            slug=slug,
            title=item.title.strip()[:MAX_TITLE],
            body=action_body(
                incident,
                item,
                slug,
                due=due,
                incident_date=incident_day(incident, policy),
                postmortem_url=postmortem_url,
                observed=observed,
                render=render,
            ),
            labels=frozenset(wanted),
            assignees=(item.owner,),
        )
        steps.append(diff(spec, observed, labels, incident.id))
    return steps


def plan_filing(
    incident: Incident,
    policy: Policy,
    filed: dict[str, FiledIssue],
    today: date,
    labels: FilingLabels | None = None,
    *,
    render: RenderDocument,
) -> list[Step]:
    """Every step, postmortem issue first (dry-run shows this plan)."""
    labels = labels or FilingLabels.for_tracker(first_github(policy))
    pm = filed.get(POSTMORTEM_SLUG)
    url = pm.url if pm is not None else PENDING_POSTMORTEM
    return [
        plan_postmortem(incident, policy, filed, today, labels, render),
        *plan_actions(incident, policy, filed, today, labels, postmortem_url=url, render=render),
    ]


def orphans(incident: Incident, filed: dict[str, FiledIssue]) -> list[FiledIssue]:
    """Filed action issues whose item is no longer in the record (reported, never closed)."""
    known = {POSTMORTEM_SLUG, *action_slugs(incident)}
    return [issue for slug, issue in sorted(filed.items()) if slug not in known]


def first_github(policy: Policy) -> GitHubTracker | None:
    return policy.trackers.github[0] if policy.trackers.github else None


def describe(step: Step) -> str:
    """One line per step for dry-run and run output."""
    if isinstance(step, Create):
        spec = step.spec
        due = parse_sections(spec.body).get("Due date", "")
        extra = f", due {due}" if due else ""
        return (
            f"create  {spec.slug}: {spec.title!r} labels={','.join(sorted(spec.labels))} "
            f"assignee={','.join(spec.assignees)}{extra}"
        )
    if isinstance(step, Update):
        return f"update  {step.slug} ({step.url}): {', '.join(step.changed)}"
    return f"ok      {step.slug} ({step.url})"
