"""How a plan is shown to a person (a table) or a machine (JSON).

Dry-run is "print the plan": this module is what gets printed. It is used by ``pmsync plan``,
by ``pmsync run --dry-run`` and by the demo.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from rich.console import Console
from rich.table import Table

from syncer.core.actions import (
    Action,
    AddLabels,
    ItemChange,
    Plan,
    PostComment,
    RemoveLabels,
    Reopen,
)
from syncer.core.evaluate import Assessment
from syncer.core.messages import Mention, Message, Part
from syncer.core.model import ItemRef, Person

NARROW = 100
"""Below this many columns the table folds priority and status under the item's name."""

REF_WIDTH = 24
"""The widest an item's name may be in a narrow table before it is folded at a ``/`` or ``:``."""


Names = Mapping[tuple[str, str], str]
"""Display names an entry point looked up, by (tracker name, handle): the people a plan's
comments mention that no item names, such as a Jira Cloud fallback account id."""


def unnamed_mentions(plan: Plan) -> dict[str, set[str]]:
    """Handles the plan's comments mention without a display name, per tracker: what an
    entry point may look up (``wiring.lookup_names``) so the plan shows a person, not an id."""
    wanted: dict[str, set[str]] = {}
    for action in plan.actions:
        if isinstance(action, PostComment):
            for person in action.message.mentions:
                if person.display_name is None and not person.is_team:
                    wanted.setdefault(action.ref.tracker, set()).add(person.handle)
    return wanted


def named_message(comment: PostComment, names: Names) -> Message:
    """``comment``'s message with the looked-up display names filled into its mentions
    (handles are left as they are, so the markup and the ids for machines do not change)."""
    tracker = comment.ref.tracker

    def named(part: Part) -> Part:
        if not isinstance(part, Mention) or part.person.display_name is not None:
            return part
        name = names.get((tracker, part.person.handle))
        if name is None:
            return part
        return part.model_copy(
            update={"person": part.person.model_copy(update={"display_name": name})}
        )

    parts = tuple(named(part) for part in comment.message.parts)
    return comment.message.model_copy(update={"parts": parts})


def describe(action: object, names: Names | None = None) -> tuple[str, str]:
    """(what, detail) for one action, in words; labels one per line, so none is ever split."""
    if isinstance(action, PostComment):
        return "comment", named_message(action, names or {}).readable_text()
    if isinstance(action, AddLabels):
        return "add labels", "\n".join(action.labels)
    if isinstance(action, RemoveLabels):
        return "remove labels", "\n".join(action.labels)
    if isinstance(action, Reopen):
        return "reopen", action.reason
    kind = getattr(action, "kind", type(action).__name__)
    return str(kind), getattr(action, "title", "") or getattr(action, "week_key", "")


def fold_ref(name: str, width: int) -> str:
    """``name`` on lines of at most ``width``, broken only after a ``/`` or ``:``.

    An item's name has no spaces, so a terminal table would otherwise cut it anywhere
    (``acme/payment`` / ``s#1``); a part longer than ``width`` is left whole.
    """
    parts = re.findall(r"[^/:]+[/:]?|[/:]", name)
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > width:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def item_ref(change: ItemChange) -> ItemRef | None:
    """The item a change is for (None for the review and the log entry)."""
    ref = getattr(change.actions[0], "ref", None) if change.actions else None
    return ref if isinstance(ref, ItemRef) else None


def plan_table(
    plan: Plan,
    assessments: Sequence[Assessment],
    title: str = "Plan",
    width: int = 160,
    names: Names | None = None,
) -> Table:
    """A rich table: one row per action, grouped by item, most urgent first.

    Made for the terminal it is printed on (``width`` columns): no word is ever broken, an
    item's name folds at ``/`` and ``:``, labels stand one per line, and below ``NARROW``
    columns priority and status go under the item's name so the text keeps its room. When
    every item is on one tracker the title names it and the rows give the keys alone.
    """
    status = {str(a.item.ref): a for a in assessments}
    refs = {change.key: item_ref(change) for change in plan.changes}
    trackers = {ref.tracker for ref in refs.values() if ref is not None}
    one_tracker = next(iter(trackers)) if len(trackers) == 1 else None
    narrow = width < NARROW
    table = Table(title=f"{title} ({one_tracker})" if one_tracker else title)
    table.add_column("item", no_wrap=True)
    if not narrow:
        table.add_column("priority", no_wrap=True)
        table.add_column("status", no_wrap=True)
    table.add_column("action", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for number, change in enumerate(plan.changes):
        if number:
            table.add_section()
        a = status.get(change.key)
        ref = refs[change.key]
        name = ref.key if ref is not None and one_tracker else change.key
        for index, action in enumerate(change.actions):
            what, detail = describe(action, names)
            first = index == 0
            if narrow:
                verdict = f"\n{a.item.priority.value} {a.status.value}" if a else ""
                cells = [fold_ref(name, REF_WIDTH) + verdict if first else ""]
            else:
                cells = [
                    name if first else "",
                    a.item.priority.value if a and first else "",
                    a.status.value if a and first else "",
                ]
            table.add_row(*cells, what, detail)
    return table


def summary_counts(assessments: Sequence[Assessment]) -> dict[str, int]:
    return dict(Counter(a.status.value for a in assessments).most_common())


def counts_line(assessments: Sequence[Assessment], width: int) -> str:
    """``25 items: on_track 9, overdue 6, ...`` wrapped to ``width``, never inside a pair."""
    pairs = [
        f"{status}\N{NO-BREAK SPACE}{count}"
        for status, count in summary_counts(assessments).items()
    ]
    lines = textwrap.wrap(f"{len(assessments)} items: " + ", ".join(pairs), width)
    return "\n".join(lines).replace("\N{NO-BREAK SPACE}", " ")


def print_plan(
    plan: Plan, assessments: Sequence[Assessment], console: Console, names: Names | None = None
) -> None:
    console.print(counts_line(assessments, console.width), highlight=False)
    if plan.is_empty():
        console.print("Nothing to do: every item is at its desired state.")
        return
    console.print(plan_table(plan, assessments, width=console.width, names=names))
    console.print(
        f"{plan.write_count} writes planned"
        + (f" (budget {plan.budget})" if plan.budget is not None else "")
        + (f"; {plan.backlog_count} writes wait for the next cycle" if plan.deferred else "")
    )


SCHEMA_VERSION = 1
"""Version of the ``plan --json`` shape (``syncer/schemas/plan.schema.json``, docs/plan-json.md).

Raised only when a field is removed, renamed or changes meaning; fields may be added within a
version, so a consumer should ignore the fields it does not know.
"""


class RenderedComment(NamedTuple):
    """A comment as the tracker would receive it: its markup and the body in that markup."""

    format: Literal["markdown", "wiki", "adf"]
    body: str | dict[str, Any]


CommentRenderer = Callable[[PostComment], RenderedComment | None]
"""The tracker's rendering of a comment, or None where the markup is not known."""


def ref_json(ref: ItemRef) -> dict[str, str]:
    """The one shape of a ref everywhere in the JSON: its parts and its ``tracker:key`` id."""
    return {"tracker": ref.tracker, "key": ref.key, "id": str(ref)}


def person_json(person: Person) -> dict[str, Any]:
    return {
        "handle": person.handle,
        "display_name": person.display_name,
        "is_team": person.is_team,
        "active": person.active,
        "assigned": person.assigned,
    }


def action_json(
    action: Action, render: CommentRenderer, names: Names | None = None
) -> dict[str, Any]:
    """One action; a comment with its plain text, mentions and the tracker's markup."""
    if isinstance(action, PostComment):
        rendered = render(action)
        message = named_message(action, names or {})
        return {
            "kind": action.kind,
            "ref": ref_json(action.ref),
            "reason": action.reason,
            "marker": message.marker,
            "text": message.readable_text(),
            "markup": rendered._asdict() if rendered is not None else None,
            "mentions": [
                {**person_json(part.person), "notify": part.notify}
                for part in message.parts
                if isinstance(part, Mention)
            ],
            "escalation": action.escalation.model_dump(mode="json") if action.escalation else None,
        }
    if isinstance(action, AddLabels | RemoveLabels):
        return {
            "kind": action.kind,
            "ref": ref_json(action.ref),
            "reason": action.reason,
            "labels": list(action.labels),
        }
    if isinstance(action, Reopen):
        return {"kind": action.kind, "ref": ref_json(action.ref), "reason": action.reason}
    dumped: dict[str, Any] = action.model_dump(mode="json")
    return dumped


def item_json(a: Assessment) -> dict[str, Any]:
    """An item as the tracker shows it, and the rules' verdict on it."""
    item = a.item
    return {
        "ref": ref_json(item.ref),
        "url": item.url,
        "title": item.title,
        "state": item.state.value,
        "resolution": item.resolution.value if item.resolution else None,
        "priority": item.priority.value,
        "severity": item.severity.value,
        "owners": [person_json(owner) for owner in item.owners],
        "incident": item.incident,
        "team": item.team,
        "labels": sorted(item.labels),
        "status": a.status.value,
        "deadline": a.deadline.isoformat() if a.deadline else None,
        "deadline_source": a.deadline_source,
        "days_overdue": a.days_overdue,
        "tier": a.tier,
        "findings": [{"rule": f.rule, "message": f.message} for f in a.findings],
    }


def plan_json(
    plan: Plan,
    assessments: Sequence[Assessment],
    *,
    evaluated_at: datetime,
    policy_version: str,
    pmsync_version: str,
    render: CommentRenderer = lambda comment: None,
    names: Names | None = None,
) -> str:
    """The plan and every item's verdict as JSON for machines, in the shape of schema 1."""
    refs = {str(a.item.ref): a.item.ref for a in assessments}

    def change_ref(key: str) -> dict[str, str] | None:
        ref = refs.get(key)
        return ref_json(ref) if ref is not None else None

    payload: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "pmsync_version": pmsync_version,
        "policy_version": policy_version,
        "evaluated_at": evaluated_at.isoformat(),
        "summary": {
            "items": len(assessments),
            "by_status": summary_counts(assessments),
            "writes": plan.write_count,
            "budget": plan.budget,
            "backlog_writes": plan.backlog_count,
        },
        "changes": [
            {
                "key": change.key,
                "ref": change_ref(change.key),
                "writes": change.cost,
                "actions": [action_json(action, render, names) for action in change.actions],
            }
            for change in plan.changes
        ],
        "backlog": [
            {"key": d.key, "ref": change_ref(d.key), "writes": d.cost}
            for d in plan.backlog_by_urgency
        ],
        "items": [item_json(a) for a in assessments],
    }
    return json.dumps(payload, indent=2)
