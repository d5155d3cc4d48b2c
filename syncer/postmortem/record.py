"""Loading an incident record: parse, validate the schema, then check the story holds.

Every command (render, lint, file) loads through here, so a record that one command accepts
the others accept too, and every problem is reported at once as ``FILE:LINE: key: problem``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from syncer.core.policy import Policy
from syncer.postmortem.schema import Incident
from syncer.postmortem.skeleton import placeholders
from syncer.postmortem.source import Problem, Source, SourceError, parse, read, validate_model
from syncer.postmortem.validate import check


@dataclass(frozen=True)
class Record:
    """A valid incident and the source it came from (for line numbers)."""

    incident: Incident
    source: Source


def load_source(source: Source, policy: Policy | None = None, today: date | None = None) -> Record:
    """Validate a parsed source; raise ``SourceError`` with every problem found."""
    problems = [
        source.problem(loc, f"placeholder {text} not filled in")
        for loc, text in placeholders(source.data)
    ]
    flagged = {p.key for p in problems}
    try:
        incident = validate_model(source, Incident)
    except SourceError as exc:
        problems += [p for p in exc.problems if p.key not in flagged]
        raise SourceError(sorted(problems, key=lambda p: p.line)) from None
    problems += check(incident, source, policy, today)
    if problems:
        raise SourceError(sorted(problems, key=lambda p: p.line))
    return Record(incident, source)


def load_file(path: Path, policy: Policy | None = None, today: date | None = None) -> Record:
    """Read, parse and validate an incident file."""
    return load_source(read(path), policy, today)


def load_text(
    text: str, name: str = "<incident>", policy: Policy | None = None, today: date | None = None
) -> Record:
    """Parse and validate incident YAML given as text (tests, stdin)."""
    return load_source(parse(text, name), policy, today)


__all__ = ["Problem", "Record", "SourceError", "load_file", "load_source", "load_text"]
