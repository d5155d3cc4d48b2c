"""Blameless and quality lint for incident records.

A postmortem that names a person as the cause teaches people to hide mistakes; an action item
without a verb, a deliverable, evidence or a deadline is how action items rot. These rules are
small regular-expression predicates over sentences, each with its own id and a suggested
rewording, tested on a corpus of good and bad sentences. ``lint`` reports findings; ``lint
--strict`` exits 1 on any, and ``file`` refuses to file while any remain (unless ``--force``).
Any one can be silenced in the record itself. The rules are in
:mod:`syncer.postmortem.lint_blame` and :mod:`syncer.postmortem.lint_actions`; this module
names them, walks the record's prose and locates and silences what they find.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from syncer.postmortem.lint_actions import action_hits
from syncer.postmortem.lint_blame import blame_hits
from syncer.postmortem.record import Record
from syncer.postmortem.schema import Incident
from syncer.postmortem.source import Loc, Source, dotted

IGNORE_RE = re.compile(r"#\s*pmsync:\s*ignore\[([a-z0-9, -]+)\]")

RULES: dict[str, str] = {
    "blame-person": "a person (name, handle or role) is written as the cause of the failure",
    "blame-human-error": "'human error' (or operator/user error) used as an explanation",
    "blame-careless": "a judgement of character: careless, negligent, lazy, sloppy",
    "blame-hindsight": "hindsight about a person: 'should have known', 'should have caught'",
    "blame-fault": "fault or blame assigned: 'at fault', 'X's fault', 'to blame'",
    "action-verb": "action item title does not start with a verb",
    "action-open-ended": "open-ended action (investigate, look into) with no deliverable",
    "action-unmeasurable": "vague action (improve, reduce, ensure, 'more reliable') with no "
    "measurable outcome",
    "action-unbounded": "action with no bounded scope (all services, everywhere, as needed, "
    "ongoing)",
    "action-no-evidence": "action item does not say what evidence will prove it done",
    "action-vague-evidence": "evidence names no checkable artefact or result (a doc, a ticket, "
    "'the team agrees')",
    "action-no-deadline": "action item has no due date (write a date or `slo`)",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A located lint finding."""

    file: str
    line: int
    key: str
    rule: str
    message: str
    suggestion: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message} ({self.suggestion})"


def free_text(incident: Incident) -> Iterator[tuple[Loc, str]]:
    """Every piece of prose in the record, with its location."""
    yield ("title",), incident.title
    for key in ("summary", "trigger", "detection", "resolution"):
        yield (key,), getattr(incident, key)
    yield ("impact", "description"), incident.impact.description
    yield ("root_cause", "description"), incident.root_cause.description
    for i, factor in enumerate(incident.contributing_factors):
        yield ("contributing_factors", i, "description"), factor.description
    for i, event in enumerate(incident.timeline):
        yield ("timeline", i, "event"), event.event
    for key in ("went_well", "went_wrong", "got_lucky"):
        for i, text in enumerate(getattr(incident.lessons, key)):
            yield ("lessons", key, i), text
    for i, doc in enumerate(incident.documentation_updates):
        yield ("documentation_updates", i, "description"), doc.description
    if incident.ai is not None:
        for i, change in enumerate(incident.ai.changes):
            yield ("ai", "changes", i, "description"), change.description
        for i, safeguard in enumerate(incident.ai.missed_by):
            yield ("ai", "missed_by", i, "why_missed"), safeguard.why_missed
        if incident.ai.data_involved is not None:
            yield ("ai", "data_involved", "description"), incident.ai.data_involved.description
    for i, item in enumerate(incident.action_items):
        yield ("action_items", i, "title"), item.title
        yield ("action_items", i, "details"), item.details


def lint(record: Record) -> list[Finding]:
    """Every finding in a valid record, located and minus the silenced ones."""
    incident, source = record.incident, record.source
    handles = frozenset(
        h
        for h in (
            incident.owner,
            *(i.owner for i in incident.action_items),
            *(i.sponsor for i in incident.action_items if i.sponsor),
            *(i.executive_sponsor for i in incident.action_items if i.executive_sponsor),
        )
    )
    findings: list[Finding] = []
    for loc, text in free_text(incident):
        for hit in blame_hits(text, handles):
            line = _line_of_match(source, loc, text[hit.start : hit.end])
            findings.append(
                Finding(source.name, line, dotted(loc), hit.rule, hit.message, hit.suggestion)
            )
    for index, item in enumerate(incident.action_items):
        for field, rule, message, suggestion in action_hits(item):
            loc = ("action_items", index, field)
            line = source.line_of(loc)
            findings.append(Finding(source.name, line, dotted(loc), rule, message, suggestion))
    kept = [f for f in findings if not _silenced(f, source, incident)]
    return sorted(kept, key=lambda f: (f.line, f.rule))


def _line_of_match(source: Source, loc: Loc, phrase: str) -> int:
    """The line inside a (possibly multi-line) value where ``phrase`` starts."""
    first, last = source.value_span(loc)
    words = phrase.lower().split()
    probe = " ".join(words[:2]) if len(words) > 1 else phrase.lower()
    lines = source.lines
    for number in range(first, min(last, len(lines)) + 1):
        if probe in " ".join(lines[number - 1].lower().split()):
            return number
    return first


def _silenced(finding: Finding, source: Source, incident: Incident) -> bool:
    if f"{finding.rule}@{finding.key}" in incident.lint_ignore:
        return True
    lines = source.lines
    candidates = {finding.line}
    key_line = source.key_lines.get(_loc_of(finding.key, source))
    if key_line is not None:
        candidates.add(key_line)
    for number in candidates:
        if 1 <= number <= len(lines):
            for match in IGNORE_RE.finditer(lines[number - 1]):
                rules = {r.strip() for r in match.group(1).split(",")}
                if finding.rule in rules:
                    return True
    return False


def _loc_of(key: str, source: Source) -> Loc:
    for loc in source.key_lines:
        if dotted(loc) == key:
            return loc
    return ()
