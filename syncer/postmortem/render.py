"""Rendering an incident record as a postmortem document, in Markdown or Jira wiki markup.

One function builds the document from the record through the ``Markup`` interface, so both
targets carry the same sections in the same order; only escaping and syntax differ. Durations
(time to detect, mitigate, resolve) are computed here from the milestones, never typed by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from syncer.postmortem.markup import Markup
from syncer.postmortem.schema import SLO, FactorType, Incident

FACTOR_TITLES = {
    FactorType.TECHNICAL: "Technical",
    FactorType.PROCESS: "Process",
    FactorType.HUMAN_AND_ORGANISATIONAL: "Human and organisational",
}


def human_duration(delta: timedelta) -> str:
    """``timedelta(hours=1, minutes=5)`` -> ``1h 05m``; days shown when over 24 h."""
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h {mins:02d}m"
    if hours:
        return f"{sign}{hours}h {mins:02d}m"
    return f"{sign}{mins}m"


def key_durations(incident: Incident) -> list[tuple[str, str, timedelta]]:
    """Time to detect / mitigate / resolve, each measured from the start of impact."""
    stamps = incident.timestamps
    return [
        ("Time to detect", "started → detected", stamps.detected - stamps.started),
        ("Time to mitigate", "started → mitigated", stamps.mitigated - stamps.started),
        ("Time to resolve", "started → resolved", stamps.resolved - stamps.started),
    ]


def render(
    incident: Incident, markup: Markup, due_dates: Sequence[date | None] | None = None
) -> str:
    """The whole postmortem. ``due_dates`` (one per action item) replaces ``slo`` with dates."""
    doc = _Document(incident, markup, due_dates)
    sections = (
        doc.header,
        doc.impact,
        doc.timeline,
        doc.narrative,
        doc.causes,
        doc.ai,
        doc.actions,
        doc.lessons,
        doc.documentation,
    )
    return "\n\n".join(part for section in sections for part in section() if part) + "\n"


class _Document:
    """One method per section; each returns its blocks in order."""

    def __init__(
        self, incident: Incident, markup: Markup, due_dates: Sequence[date | None] | None
    ) -> None:
        self.incident = incident
        self.m = markup
        self.due_dates = due_dates
        self.zone = ZoneInfo(incident.timezone)
        self.stamps = incident.timestamps

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def since_start(self, moment: datetime) -> str:
        return self.m.cell("T+" + human_duration(moment - self.stamps.started))

    def header(self) -> list[str]:
        m, incident, stamps = self.m, self.incident, self.stamps
        facts = [
            f"{m.strong('Severity')}: {m.cell(incident.severity.value)}",
            f"{m.strong('Services')}: {m.cell(', '.join(incident.services))}",
            f"{m.strong('Postmortem owner')}: {m.mention(incident.owner)}",
            f"{m.strong('Duration')}: {human_duration(stamps.resolved - stamps.started)} "
            f"({m.cell(self.when(stamps.started))} to {m.cell(self.when(stamps.resolved))})",
        ]
        return [
            m.heading(1, f"Postmortem: {incident.title} ({incident.id})"),
            m.bullets(facts),
            m.heading(2, "Summary"),
            m.text(incident.summary),
        ]

    def impact(self) -> list[str]:
        m, impact, stamps = self.m, self.incident.impact, self.stamps
        minutes = impact.duration_minutes
        if minutes is None:
            minutes = int((stamps.mitigated - stamps.started).total_seconds() // 60)
        numbers = [
            f"{m.strong('User-visible impact')}: {human_duration(timedelta(minutes=minutes))}"
        ]
        if impact.users_affected is not None:
            numbers.append(f"{m.strong('Users affected')}: {impact.users_affected:,}")
        if impact.requests_affected is not None:
            numbers.append(f"{m.strong('Requests affected')}: {impact.requests_affected:,}")
        if impact.error_budget_burned_percent is not None:
            slo = f" of {m.cell(impact.slo)}" if impact.slo else ""
            burned = f"{impact.error_budget_burned_percent:g}%"
            numbers.append(f"{m.strong('Error budget burned')}: {m.cell(burned)}{slo}")
        if impact.cost:
            numbers.append(f"{m.strong('Cost')}: {m.cell(impact.cost)}")
        return [m.heading(2, "Impact"), m.text(impact.description), m.bullets(numbers)]

    def timeline(self) -> list[str]:
        m, stamps = self.m, self.stamps
        measures = m.table(
            ["Measure", "Span", "Duration"],
            [
                [m.cell(name), m.cell(span), m.cell(human_duration(d))]
                for name, span, d in key_durations(self.incident)
            ],
        )
        rows: list[tuple[datetime, int, list[str]]] = []
        for order, name in enumerate(("started", "detected", "mitigated", "resolved")):
            moment = getattr(stamps, name)
            label = m.strong(m.cell(f"Incident {name}"))
            cells = [m.cell(self.when(moment)), self.since_start(moment), label, " "]
            rows.append((moment, order * 2, cells))
        for index, event in enumerate(self.incident.timeline):
            cells = [
                m.cell(self.when(event.time)),
                self.since_start(event.time),
                m.cell(event.event),
                m.cell(event.source),
            ]
            rows.append((event.time, 1 + index * 2, cells))
        rows.sort(key=lambda row: (row[0], row[1]))
        events = m.table(["Time", "Since start", "Event", "Source"], [r[2] for r in rows])
        return [m.heading(2, "Timeline"), measures, events]

    def narrative(self) -> list[str]:
        m, incident = self.m, self.incident
        return [
            m.heading(2, "Trigger"),
            m.text(incident.trigger),
            m.heading(2, "Detection"),
            m.text(incident.detection),
            m.heading(2, "Resolution"),
            m.text(incident.resolution),
        ]

    def causes(self) -> list[str]:
        m, incident = self.m, self.incident
        root = incident.root_cause
        out = [
            m.heading(2, "Root cause analysis"),
            f"{m.strong(m.cell(FACTOR_TITLES[root.type]))}: {m.text(root.description)}",
        ]
        if incident.contributing_factors:
            out.append(m.heading(3, "Contributing factors"))
            for factor_type, title in FACTOR_TITLES.items():
                texts = [
                    m.cell(f.description)
                    for f in incident.contributing_factors
                    if f.type is factor_type
                ]
                if texts:
                    out += [m.heading(4, title), m.bullets(texts)]
        return out

    def ai(self) -> list[str]:
        m, ai = self.m, self.incident.ai
        if ai is None:
            return []
        out = [
            m.heading(2, "AI system involved"),
            m.bullets(
                [
                    f"{m.strong('Model')}: {m.cell(ai.model)}",
                    f"{m.strong('Provider')}: {m.cell(ai.provider)}",
                ]
            ),
        ]
        if ai.changes:
            rows = [
                [
                    m.cell(c.kind),
                    m.cell(c.before),
                    m.cell(c.after),
                    m.cell(self.when(c.changed_at)) if c.changed_at else " ",
                    m.cell(c.description),
                ]
                for c in ai.changes
            ]
            out += [
                m.heading(3, "Model, prompt and configuration changes"),
                m.table(["Kind", "Before", "After", "Live since", "What changed"], rows),
            ]
        if ai.missed_by:
            rows = [[m.cell(s.name), m.cell(s.kind), m.cell(s.why_missed)] for s in ai.missed_by]
            out += [
                m.heading(3, "Guardrails and evaluations that missed it"),
                m.table(["Safeguard", "Kind", "Why it missed"], rows),
            ]
        if ai.data_involved is not None:
            data = ai.data_involved
            lines = [m.cell(data.description)]
            if data.datasets:
                lines.append(f"{m.strong('Datasets')}: {m.cell(', '.join(data.datasets))}")
            lines.append(f"{m.strong('Personal data')}: {'yes' if data.personal_data else 'no'}")
            out += [m.heading(3, "Data involved"), m.bullets(lines)]
        return out

    def due_text(self, index: int) -> str:
        item = self.incident.action_items[index]
        due = self.due_dates[index] if self.due_dates is not None else None
        if due is not None:
            return due.isoformat()
        if item.due == SLO:
            return f"{item.priority.value} SLO"
        if isinstance(item.due, date):
            return item.due.isoformat()
        return "not set"

    def actions(self) -> list[str]:
        m = self.m
        if not self.incident.action_items:
            return [m.heading(2, "Action items"), m.text("None recorded.")]
        rows = [
            [
                m.cell(item.title),
                m.cell(item.type.value),
                m.mention(item.owner),
                m.cell(item.priority.value),
                m.cell(self.due_text(index)),
                m.cell(item.evidence or "not stated"),
            ]
            for index, item in enumerate(self.incident.action_items)
        ]
        header = ["Action", "Type", "Owner", "Priority", "Due", "Evidence of done"]
        return [m.heading(2, "Action items"), m.table(header, rows)]

    def lessons(self) -> list[str]:
        m, lessons = self.m, self.incident.lessons
        out = [m.heading(2, "Lessons learned")]
        for title, items in (
            ("What went well", lessons.went_well),
            ("What went wrong", lessons.went_wrong),
            ("Where we got lucky", lessons.got_lucky),
        ):
            out.append(m.heading(3, title))
            out.append(
                m.bullets([m.cell(i) for i in items]) if items else m.text("Nothing recorded.")
            )
        return out

    def documentation(self) -> list[str]:
        m, docs = self.m, self.incident.documentation_updates
        if not docs:
            return [m.heading(2, "Documentation updates"), m.text("None.")]
        items = [m.link(d.description, d.url) if d.url else m.cell(d.description) for d in docs]
        return [m.heading(2, "Documentation updates"), m.bullets(items)]
