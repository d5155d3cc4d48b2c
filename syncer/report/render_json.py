"""The weekly review as JSON for dashboards: the report model itself, with a schema tag.

Dashboards read numbers, so nothing is escaped or cut here; every row of every section is in
the file. ``schema`` changes only when a field changes meaning.
"""

from __future__ import annotations

import json
from typing import Any

from syncer.report.model import WeeklyReport

SCHEMA = "pmsync.weekly-report/1"


def report_dict(report: WeeklyReport) -> dict[str, Any]:
    data: dict[str, Any] = {"schema": SCHEMA, **report.model_dump(mode="json")}
    data["kpis"] = [
        {**k, "delta": kpi.delta} for k, kpi in zip(data["kpis"], report.kpis, strict=True)
    ]
    return data


def render_json(report: WeeklyReport) -> str:
    return json.dumps(report_dict(report), indent=2, ensure_ascii=False) + "\n"
