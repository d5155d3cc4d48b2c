"""An incident record as a postmortem document (``syncer.core.document``), with no markup.

One function builds the document from the record, so every renderer (GitHub Markdown, Jira
wiki) carries the same sections in the same order; only escaping and syntax differ, and those
are the connectors'. Durations (time to detect, mitigate, resolve) are computed here from the
milestones, never typed by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from syncer.core.document import (
    Block,
    Bullets,
    Cell,
    Document,
    Heading,
    Inline,
    Mention,
    Paragraph,
    Prose,
    Span,
    Table,
    plain,
)
from syncer.postmortem.schema import SLO, ActionItemSpec, FactorType, Incident

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


def postmortem_document(
    incident: Incident, due_dates: Sequence[date | None] | None = None
) -> Document:
    """The whole postmortem. ``due_dates`` (one per action item) replaces ``slo`` with dates."""
    doc = _Sections(incident, due_dates)
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
    title = f"Postmortem: {incident.title} ({incident.id})"
    return Document(title, tuple(block for section in sections for block in section()))


def action_details(incident: Incident, item: ActionItemSpec) -> Document:
    """What an action item is for: its incident and type, how we will know it is done, and
    the record's details (every tracker's description of the item starts with it)."""
    evidence = item.evidence.strip() and item.evidence
    blocks: list[Paragraph | Prose] = [
        Paragraph((Span(f"Action item of {incident.id}: {item.type.value}."),)),
        Paragraph((Span("How we will know it is done: " + (evidence or "not stated yet.")),)),
    ]
    if item.details.strip():
        blocks.append(Prose(item.details))
    return Document(item.title, tuple(blocks))


def fact(label: str, *value: Inline) -> tuple[Inline, ...]:
    """``label: value`` with the label in bold, as one list item."""
    return (Span(label, strong=True), Span(": "), *value)


class _Sections:
    """One method per section; each returns its blocks in order."""

    def __init__(self, incident: Incident, due_dates: Sequence[date | None] | None) -> None:
        self.incident = incident
        self.due_dates = due_dates
        self.zone = ZoneInfo(incident.timezone)
        self.stamps = incident.timestamps

    def when(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M %Z")

    def since_start(self, moment: datetime) -> Cell:
        return plain("T+" + human_duration(moment - self.stamps.started))

    def header(self) -> list[Block]:
        incident, stamps = self.incident, self.stamps
        span = f" ({self.when(stamps.started)} to {self.when(stamps.resolved)})"
        facts = (
            fact("Severity", Span(incident.severity.value)),
            fact("Services", Span(", ".join(incident.services))),
            fact("Postmortem owner", Mention(incident.owner)),
            fact("Duration", Span(human_duration(stamps.resolved - stamps.started) + span)),
        )
        return [
            Heading(1, f"Postmortem: {incident.title} ({incident.id})"),
            Bullets(facts),
            Heading(2, "Summary"),
            Prose(incident.summary),
        ]

    def impact(self) -> list[Block]:
        impact, stamps = self.incident.impact, self.stamps
        minutes = impact.duration_minutes
        if minutes is None:
            minutes = int((stamps.mitigated - stamps.started).total_seconds() // 60)
        numbers = [fact("User-visible impact", Span(human_duration(timedelta(minutes=minutes))))]
        if impact.users_affected is not None:
            numbers.append(fact("Users affected", Span(f"{impact.users_affected:,}")))
        if impact.requests_affected is not None:
            numbers.append(fact("Requests affected", Span(f"{impact.requests_affected:,}")))
        if impact.error_budget_burned_percent is not None:
            slo = f" of {impact.slo}" if impact.slo else ""
            burned = f"{impact.error_budget_burned_percent:g}%"
            numbers.append(fact("Error budget burned", Span(burned + slo)))
        if impact.cost:
            numbers.append(fact("Cost", Span(impact.cost)))
        return [Heading(2, "Impact"), Prose(impact.description), Bullets(tuple(numbers))]

    def timeline(self) -> list[Block]:
        stamps = self.stamps
        measures = Table(
            ("Measure", "Span", "Duration"),
            tuple(
                (plain(name), plain(span), plain(human_duration(d)))
                for name, span, d in key_durations(self.incident)
            ),
        )
        rows: list[tuple[datetime, int, tuple[Cell, ...]]] = []
        for order, name in enumerate(("started", "detected", "mitigated", "resolved")):
            moment = getattr(stamps, name)
            label: Cell = (Span(f"Incident {name}", strong=True),)
            cells: tuple[Cell, ...] = (
                plain(self.when(moment)),
                self.since_start(moment),
                label,
                plain(""),
            )
            rows.append((moment, order * 2, cells))
        for index, event in enumerate(self.incident.timeline):
            cells = (
                plain(self.when(event.time)),
                self.since_start(event.time),
                plain(event.event),
                plain(event.source),
            )
            rows.append((event.time, 1 + index * 2, cells))
        rows.sort(key=lambda row: (row[0], row[1]))
        events = Table(("Time", "Since start", "Event", "Source"), tuple(r[2] for r in rows))
        return [Heading(2, "Timeline"), measures, events]

    def narrative(self) -> list[Block]:
        incident = self.incident
        return [
            Heading(2, "Trigger"),
            Prose(incident.trigger),
            Heading(2, "Detection"),
            Prose(incident.detection),
            Heading(2, "Resolution"),
            Prose(incident.resolution),
        ]

    def causes(self) -> list[Block]:
        incident = self.incident
        root = incident.root_cause
        out: list[Block] = [
            Heading(2, "Root cause analysis"),
            Paragraph(fact(FACTOR_TITLES[root.type], Span(root.description))),
        ]
        if incident.contributing_factors:
            out.append(Heading(3, "Contributing factors"))
            for factor_type, title in FACTOR_TITLES.items():
                texts = tuple(
                    plain(f.description)
                    for f in incident.contributing_factors
                    if f.type is factor_type
                )
                if texts:
                    out += [Heading(4, title), Bullets(texts)]
        return out

    def ai(self) -> list[Block]:
        ai = self.incident.ai
        if ai is None:
            return []
        out: list[Block] = [
            Heading(2, "AI system involved"),
            Bullets((fact("Model", Span(ai.model)), fact("Provider", Span(ai.provider)))),
        ]
        if ai.changes:
            rows = tuple(
                (
                    plain(c.kind),
                    plain(c.before),
                    plain(c.after),
                    plain(self.when(c.changed_at) if c.changed_at else ""),
                    plain(c.description),
                )
                for c in ai.changes
            )
            out += [
                Heading(3, "Model, prompt and configuration changes"),
                Table(("Kind", "Before", "After", "Live since", "What changed"), rows),
            ]
        if ai.missed_by:
            missed = tuple(
                (plain(s.name), plain(s.kind), plain(s.why_missed)) for s in ai.missed_by
            )
            out += [
                Heading(3, "Guardrails and evaluations that missed it"),
                Table(("Safeguard", "Kind", "Why it missed"), missed),
            ]
        if ai.data_involved is not None:
            data = ai.data_involved
            lines = [plain(data.description)]
            if data.datasets:
                lines.append(fact("Datasets", Span(", ".join(data.datasets))))
            lines.append(fact("Personal data", Span("yes" if data.personal_data else "no")))
            out += [Heading(3, "Data involved"), Bullets(tuple(lines))]
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

    def actions(self) -> list[Block]:
        if not self.incident.action_items:
            return [Heading(2, "Action items"), Prose("None recorded.")]
        rows = tuple(
            (
                plain(item.title),
                plain(item.type.value),
                (Mention(item.owner),),
                plain(item.priority.value),
                plain(self.due_text(index)),
                plain(item.evidence or "not stated"),
            )
            for index, item in enumerate(self.incident.action_items)
        )
        header = ("Action", "Type", "Owner", "Priority", "Due", "Evidence of done")
        return [Heading(2, "Action items"), Table(header, rows)]

    def lessons(self) -> list[Block]:
        lessons = self.incident.lessons
        out: list[Block] = [Heading(2, "Lessons learned")]
        for title, items in (
            ("What went well", lessons.went_well),
            ("What went wrong", lessons.went_wrong),
            ("Where we got lucky", lessons.got_lucky),
        ):
            out.append(Heading(3, title))
            out.append(
                Bullets(tuple(plain(i) for i in items)) if items else Prose("Nothing recorded.")
            )
        return out

    def documentation(self) -> list[Block]:
        docs = self.incident.documentation_updates
        if not docs:
            return [Heading(2, "Documentation updates"), Prose("None.")]
        items = tuple((Span(d.description, d.url or None),) for d in docs)
        return [Heading(2, "Documentation updates"), Bullets(items)]
