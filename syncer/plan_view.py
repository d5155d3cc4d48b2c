"""How a plan is shown to a person (a table) or a machine (JSON).

Dry-run is "print the plan": this module is what gets printed. It is used by ``pmsync plan``,
by ``pmsync run --dry-run`` and by the demo.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from syncer.actions import AddLabels, Plan, PostComment, RemoveLabels, Reopen
from syncer.evaluate import Assessment


def describe(action: object) -> tuple[str, str]:
    """(what, detail) for one action, in words."""
    if isinstance(action, PostComment):
        return "comment", action.message.readable_text()
    if isinstance(action, AddLabels):
        return "add labels", ", ".join(action.labels)
    if isinstance(action, RemoveLabels):
        return "remove labels", ", ".join(action.labels)
    if isinstance(action, Reopen):
        return "reopen", action.reason
    kind = getattr(action, "kind", type(action).__name__)
    return str(kind), getattr(action, "title", "") or getattr(action, "week_key", "")


def plan_table(plan: Plan, assessments: Sequence[Assessment], title: str = "Plan") -> Table:
    """A rich table: one row per action, grouped by item, most urgent first."""
    status = {str(a.item.ref): a for a in assessments}
    table = Table(title=title, show_lines=False)
    for column in ("item", "priority", "status", "action", "detail"):
        table.add_column(column, overflow="fold")
    for change in plan.changes:
        a = status.get(change.key)
        for index, action in enumerate(change.actions):
            what, detail = describe(action)
            table.add_row(
                change.key if index == 0 else "",
                a.item.priority.value if a and index == 0 else "",
                a.status.value if a and index == 0 else "",
                what,
                detail,
            )
    return table


def summary_counts(assessments: Sequence[Assessment]) -> dict[str, int]:
    return dict(Counter(a.status.value for a in assessments).most_common())


def print_plan(plan: Plan, assessments: Sequence[Assessment], console: Console) -> None:
    counts = summary_counts(assessments)
    console.print(f"{len(assessments)} items: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if plan.is_empty():
        console.print("Nothing to do: every item is at its desired state.")
        return
    console.print(plan_table(plan, assessments))
    console.print(
        f"{plan.write_count} writes planned"
        + (f" (budget {plan.budget})" if plan.budget is not None else "")
        + (f"; {plan.backlog_count} writes wait for the next cycle" if plan.deferred else "")
    )


def plan_json(plan: Plan, assessments: Sequence[Assessment]) -> str:
    """The plan and every item's verdict as JSON for machines."""
    payload: dict[str, Any] = {
        "summary": summary_counts(assessments),
        "writes": plan.write_count,
        "backlog_writes": plan.backlog_count,
        "budget": plan.budget,
        "changes": [c.model_dump(mode="json") for c in plan.changes],
        "backlog": [{"key": d.key, "writes": d.cost} for d in plan.backlog_by_urgency],
        "items": [
            {
                "ref": str(a.item.ref),
                "status": a.status.value,
                "deadline": a.deadline.isoformat() if a.deadline else None,
                "deadline_source": a.deadline_source,
                "days_overdue": a.days_overdue,
                "tier": a.tier,
                "findings": [{"rule": f.rule, "message": f.message} for f in a.findings],
            }
            for a in assessments
        ],
    }
    return json.dumps(payload, indent=2)
