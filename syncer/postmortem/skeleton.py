"""The commented skeleton written by ``pmsync postmortem new``.

The values are placeholders written here; the comments come from the schema's field
descriptions, so the skeleton explains every field and cannot drift from the models. Each
placeholder is ``<<kind>>`` (text, handle, datetime, ...): an unfilled one is a validation error,
so a half-edited skeleton is never filed.
"""

from __future__ import annotations

import json
import re
import textwrap
import typing
from typing import Any

from pydantic import BaseModel

from syncer.postmortem.schema import Incident
from syncer.postmortem.source import unwrap

PLACEHOLDER_RE = re.compile(r"<<[a-z-]+>>")

HEADER = """\
# Incident record for pmsync (`pmsync postmortem new`).
# Replace every <<...>> placeholder, then:
#   pmsync postmortem lint FILE              blameless and quality lint (warnings)
#   pmsync postmortem render FILE            the postmortem in Markdown (--format jira)
#   pmsync postmortem file FILE --config POLICY --dry-run   what would be filed
# Times need a timezone offset (Z, +01:00). Write causes as conditions of the system,
# not as what a person did: the lint suggests rewordings.
# Silence one lint finding: put `# pmsync: ignore[RULE-ID]` at the end of the line it
# points at, or add RULE-ID@dotted.key to lint_ignore at the end of this file.
"""

ACTION = {
    "title": "<<verb-first-title>>",
    "slug": None,
    "type": "prevent",
    "owner": "<<handle>>",
    "priority": "P1",
    "due": "slo",
    "evidence": "<<text>>",
    "sponsor": "<<handle>>",
    "executive_sponsor": None,
    "details": "",
}

VALUES: dict[str, Any] = {
    "id": "<<incident-id>>",
    "title": "<<text>>",
    "severity": "SEV-2",
    "services": ["<<service>>"],
    "owner": "<<handle>>",
    "timezone": "UTC",
    "summary": "<<text>>",
    "timestamps": {
        "started": "<<datetime>>",
        "detected": "<<datetime>>",
        "mitigated": "<<datetime>>",
        "resolved": "<<datetime>>",
    },
    "impact": {
        "description": "<<text>>",
        "users_affected": None,
        "requests_affected": None,
        "duration_minutes": None,
        "error_budget_burned_percent": None,
        "slo": None,
        "cost": None,
    },
    "trigger": "<<text>>",
    "detection": "<<text>>",
    "resolution": "<<text>>",
    "root_cause": {"type": "technical", "description": "<<text>>"},
    "contributing_factors": [{"type": "process", "description": "<<text>>"}],
    "timeline": [
        {"time": "<<datetime>>", "event": "<<text>>", "source": "<<text>>"},
    ],
    "lessons": {
        "went_well": ["<<text>>"],
        "went_wrong": ["<<text>>"],
        "got_lucky": ["<<text>>"],
    },
    "documentation_updates": [{"description": "<<text>>", "url": None}],
    "ai": {
        "model": "<<text>>",
        "provider": "<<text>>",
        "changes": [
            {
                "kind": "prompt",
                "before": "<<text>>",
                "after": "<<text>>",
                "changed_at": None,
                "description": "<<text>>",
            }
        ],
        "missed_by": [{"name": "<<text>>", "kind": "evaluation", "why_missed": "<<text>>"}],
        "data_involved": {"description": "<<text>>", "datasets": [], "personal_data": False},
    },
    "action_items": [ACTION],
    "lint_ignore": [],
}

NOTES = {
    "ai": "Delete this block (or write `ai: null`) when no AI or ML system was involved.",
    "action_items": "Copy the block for each item. Exactly one owner per item.",
}


def skeleton(incident_id: str | None = None) -> str:
    """The commented YAML skeleton, with ``incident_id`` filled in when given."""
    values = dict(VALUES)
    if incident_id is not None:
        values["id"] = incident_id
    out = [HEADER]
    _emit(Incident, values, 0, out)
    return "\n".join(out) + "\n"


def _comment(text: str, pad: str) -> list[str]:
    return [
        pad + "# " + line
        for line in textwrap.wrap(text, width=96 - len(pad), break_on_hyphens=False)
    ]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ._/-]*", value):
        return value if value not in {"null", "true", "false", "yes", "no"} else json.dumps(value)
    return json.dumps(value)


def _emit(model: type[BaseModel], values: dict[str, Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for name, info in model.model_fields.items():
        value = values[name]
        out.extend(_comment(info.description or "", pad))
        if name in NOTES:
            out.extend(_comment(NOTES[name], pad))
        sub = unwrap(info.annotation)
        if isinstance(value, dict):
            out.append(f"{pad}{name}:")
            _emit(sub, value, indent + 2, out)
        elif isinstance(value, list) and value:
            out.append(f"{pad}{name}:")
            item_type = typing.get_args(sub)[0]
            for item in value:
                if isinstance(item, dict):
                    lines: list[str] = []
                    _emit(item_type, item, indent + 4, lines)
                    first = next(
                        i for i, line in enumerate(lines) if not line.lstrip().startswith("#")
                    )
                    lines[first] = f"{pad}  - " + lines[first].lstrip()
                    out.extend(lines)
                else:
                    out.append(f"{pad}  - {_scalar(item)}")
        elif isinstance(value, list):
            out.append(f"{pad}{name}: []")
        else:
            out.append(f"{pad}{name}: {_scalar(value)}")


def placeholders(
    data: Any, loc: tuple[str | int, ...] = ()
) -> list[tuple[tuple[str | int, ...], str]]:
    """Every unfilled ``<<placeholder>>`` in parsed YAML, with its location."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            found += placeholders(value, (*loc, str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += placeholders(value, (*loc, index))
    elif isinstance(data, str):
        found += [(loc, match) for match in PLACEHOLDER_RE.findall(data)]
    return found
