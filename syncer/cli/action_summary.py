"""The GitHub Action's job summary: what ``pmsync plan --json`` found, as Markdown.

The action (``action.yml``) runs the plan once, with ``--json`` so the plan is a file a later
step can read; this turns that file into the few lines a reader of the run page wants (how
many writes, which items break a rule and why) without a second read of the trackers. Issue
text in findings is escaped like every other Markdown pmsync writes.

An entry point (``python -m syncer.cli.action_summary PLAN.json`` prints it), so it may use the
GitHub connector's Markdown escaper; the action appends it to
``$GITHUB_STEP_SUMMARY`` and to the log.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connectors.github.renderer import escape
from syncer.core.document import safe_url

MAX_ROWS = 50
SCHEMA_VERSION = 1  # the plan JSON's shape this reads (syncer/schemas/plan.schema.json)


def _findings(item: Mapping[str, Any]) -> str:
    return "<br>".join(
        f"{escape(str(f.get('rule', '')))}: {escape(str(f.get('message', '')))}"
        for f in item.get("findings") or ()
    )


def _item(item: Mapping[str, Any]) -> str:
    ref = item.get("ref") or {}
    name = escape(str(ref.get("id", "")))
    url = safe_url(str(item.get("url") or ""))
    return f"[{name}]({url})" if url else name


def summary_markdown(plan: Mapping[str, Any], *, max_rows: int = MAX_ROWS) -> str:
    """The plan's counts and a table of the items with findings (at most ``max_rows``)."""
    summary: Mapping[str, Any] = plan.get("summary") or {}
    counts: Mapping[str, int] = summary.get("by_status") or {}
    items: Sequence[Mapping[str, Any]] = plan.get("items") or ()
    budget = summary.get("budget")
    waiting = summary.get("backlog_writes") or 0
    lines = [
        "### pmsync plan",
        "",
        f"**{summary.get('writes', 0)} writes planned**"
        + (f" (budget {budget} a cycle)" if budget is not None else "")
        + (f"; {waiting} more wait for the next cycle" if waiting else "")
        + ". "
        + f"{summary.get('items', len(items))} items: "
        + (", ".join(f"{escape(str(k))} {v}" for k, v in counts.items()) or "none"),
        "",
    ]
    flagged = [i for i in items if i.get("findings")]
    if not flagged:
        lines.append("No item breaks a rule.")
        return "\n".join(lines) + "\n"
    lines += ["| Item | Title | Status | Findings |", "|---|---|---|---|"]
    lines += [
        f"| {_item(i)} | {escape(str(i.get('title') or ''))} "
        f"| {escape(str(i.get('status', '')))} | {_findings(i)} |"
        for i in flagged[:max_rows]
    ]
    if len(flagged) > max_rows:
        lines += ["", f"… and {len(flagged) - max_rows} more items with findings."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m syncer.cli.action_summary PLAN.json", file=sys.stderr)
        return 2
    try:
        plan = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"{args[0]}: cannot read the plan: {exc}", file=sys.stderr)
        return 2
    if not isinstance(plan, dict) or plan.get("schema_version") != SCHEMA_VERSION:
        print(f"{args[0]}: not a pmsync plan of schema {SCHEMA_VERSION}", file=sys.stderr)
        return 2
    sys.stdout.write(summary_markdown(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main())
