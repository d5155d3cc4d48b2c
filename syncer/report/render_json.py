"""The weekly review as JSON for dashboards: the report model itself, with a schema tag.

Dashboards read numbers, so nothing is escaped or cut here; every row of every section is in
the file. ``schema`` changes only when a field changes meaning.
"""

from __future__ import annotations

from syncer.report.model import WeeklyReport

SCHEMA = "pmsync.weekly-report/1"


def render_json(report: WeeklyReport) -> str:
    """The model as indented JSON, ``schema`` first (pydantic's serializer, for speed)."""
    body = report.model_dump_json(indent=2)
    return '{\n  "schema": "' + SCHEMA + '",' + body[1:] + "\n"
