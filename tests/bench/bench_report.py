"""Benchmark: build and render the weekly review over 10,000 items and a year of ledger.

Goal (issue 5): <= 1 s CPU (``time.process_time``; these machines are shared, so wall time
is printed too) for build + what a publish needs: the issue body cut to GitHub's limit, the
log entry, and the default files (full Markdown, HTML, JSON). Full-length Jira files and the
PNG are timed apart (Jira only). Evaluation is not included: the daemon has the assessments
from its cycle already. The ledger is a year of generated entries (~100,000), all passed in:
the report filters the week itself. Run: ``.venv/bin/python tests/bench/bench_report.py``.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from connectors.github.renderer import GitHubDocuments
from syncer.core.actions import UpsertReport
from syncer.core.config_loader import load_model_file
from syncer.core.evaluate import evaluate
from syncer.core.ledger import LedgerEntry
from syncer.core.model import (
    ActionItem,
    Evidence,
    EvidenceKind,
    ItemRef,
    Person,
    Priority,
    Resolution,
    Severity,
    State,
    Verification,
)
from syncer.core.policy import Policy
from syncer.report import build_report, report_changes
from syncer.report.render_html import render_html
from syncer.report.render_json import render_json
from tests.report.renderings import render_adf_json, render_markdown, render_wiki

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
POLICY_FILE = Path(__file__).resolve().parents[2] / "config" / "pmsync.example.yaml"
GOAL_S = 1.0


def generate_items(n: int, seed: int = 11) -> list[ActionItem]:
    rng = random.Random(seed)
    people = [Person(handle=f"eng{i}") for i in range(300)]
    incidents = [f"INC-2026-{i:03d}" for i in range(400)]
    teams = [f"team-{i}" for i in range(25)]
    pr = Evidence(
        kind=EvidenceKind.PULL_REQUEST,
        url="https://github.com/acme/api/pull/1",
        verification=Verification.CONFIRMED,
    )
    items = []
    for i in range(n):
        created = NOW - timedelta(days=rng.randint(0, 400), hours=rng.randint(0, 23))
        closed = created + timedelta(days=rng.randint(1, 90)) if rng.random() < 0.6 else None
        if closed is not None and closed > NOW:
            closed = None
        items.append(
            ActionItem(
                ref=ItemRef(tracker="github", key=f"acme/api#{i}"),
                url=f"https://github.com/acme/api/issues/{i}",
                title=f"Action {i}: harden the | payment path @team `x`",
                state=State.CLOSED if closed else State.OPEN,
                resolution=Resolution.DONE if closed else None,
                severity=rng.choice(list(Severity)),
                priority=rng.choice(list(Priority)),
                owners=(rng.choice(people),) if rng.random() < 0.9 else (),
                evidence=(pr,) if rng.random() < 0.5 else (),
                due=(created + timedelta(days=rng.randint(7, 90))).date()
                if rng.random() < 0.5
                else None,
                incident=rng.choice(incidents),
                team=rng.choice(teams),
                created_at=created,
                updated_at=closed or created,
                closed_at=closed,
            )
        )
    return items


def generate_ledger(
    items: list[ActionItem], per_day: int = 280, seed: int = 5
) -> list[LedgerEntry]:
    """A year of writes and decisions: comments, labels, closures, waivers."""
    rng = random.Random(seed)
    kinds = [
        "comment",
        "add_labels",
        "remove_labels",
        "closure_accepted",
        "closure_rejected",
        "waiver_granted",
        "reopen",
    ]
    entries = []
    for day in range(365, 0, -1):
        for n in range(per_day):
            target = rng.choice(items)
            kind = rng.choice(kinds)
            tier = rng.randint(1, 3)
            entries.append(
                LedgerEntry(
                    at=NOW - timedelta(days=day, minutes=n),
                    cycle_id=f"c{day}",
                    tracker="github",
                    item_key=target.ref.key,
                    kind=kind,
                    rule="escalation" if kind == "comment" else kind,
                    policy_version="v1",
                    outcome="done" if kind in ("comment", "reopen") else "decided",
                    inputs={
                        "marker": f"pmsync:escalation:tier-{tier}:due-2026-11-01",
                        "mentions": [o.handle for o in target.owners],
                        "evidence": ["https://github.com/acme/api/pull/1"],
                    },
                    detail="waived until 2026-12-31 by cto" if kind.startswith("waiver") else "",
                )
            )
    return entries


def main() -> None:
    policy = load_model_file(Policy, POLICY_FILE)
    items = generate_items(10_000)
    ledger = generate_ledger(items)
    assessments = evaluate(items, policy, NOW)
    daily = {
        (NOW - timedelta(days=d)).date(): {
            "open_sev12": 900,
            "overdue": 700,
            "risk_score_x2": 90_000,
        }
        for d in range(0, 84, 2)
    }
    cpu_started, started = time.process_time(), time.perf_counter()
    report = build_report(assessments, policy, NOW, ledger, daily)
    built = time.perf_counter()
    # The issue body (capped) + log entry, with the renderer the GitHub connector hands in.
    changes = report_changes(report, policy, "github", GitHubDocuments())
    files = [render_markdown(report), render_html(report), render_json(report)]
    done, cpu = time.perf_counter(), time.process_time() - cpu_started
    jira = [render_wiki(report), render_adf_json(report)]
    jira_s = time.perf_counter() - done
    png_s = None
    try:
        from syncer.report.render_png import render_png

        png_started = time.perf_counter()
        render_png(report)
        png_s = time.perf_counter() - png_started
    except ImportError:
        pass
    total = cpu
    print(
        f"items={len(items)} ledger_entries={len(ledger)} "
        f"open_sev12_rows={len(report.open_critical)} decisions={len(report.decisions)} "
        f"escalations={len(report.escalations)}"
    )
    body = changes[0].actions[0]
    assert isinstance(body, UpsertReport)
    print(
        f"build={built - started:.3f}s publish+files(md,html,json)={done - built:.3f}s "
        f"wall={done - started:.3f}s cpu={cpu:.3f}s (goal: cpu <= {GOAL_S:.1f}s); "
        f"issue body {len(body.bodies['markdown'])} chars, files {sum(map(len, files))} chars"
    )
    print(
        f"extra, full-length Jira files (wiki + ADF, all rows)={jira_s:.3f}s "
        f"({sum(map(len, jira))} chars)"
    )
    if png_s is not None:
        print(f"png={png_s:.3f}s (Jira attachment; includes importing matplotlib)")
    print("PASS" if total <= GOAL_S else "FAIL")


if __name__ == "__main__":
    main()
