"""The weekly reliability review: build it (pure), render it, publish it through the applier.

``build_report`` turns assessments, the policy, ``now`` and the ledger into a ``WeeklyReport``;
``render_*`` modules format it; ``report_changes`` makes the writes that publish it.
"""

from syncer.report.build import (
    build_report,
    daily_counts_for,
    moment_for_week,
    parse_week,
    report_period,
    week_key,
)
from syncer.report.model import RISK_WEIGHTS, WeeklyReport
from syncer.report.publish import (
    log_bodies,
    log_body,
    report_bodies,
    report_body,
    report_changes,
    report_tracker,
)

__all__ = [
    "RISK_WEIGHTS",
    "WeeklyReport",
    "build_report",
    "daily_counts_for",
    "log_bodies",
    "log_body",
    "moment_for_week",
    "parse_week",
    "report_bodies",
    "report_body",
    "report_changes",
    "report_period",
    "report_tracker",
    "week_key",
]
