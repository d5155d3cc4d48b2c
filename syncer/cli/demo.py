"""``pmsync demo``: pmsync on a realistic backlog in under a minute, with no token.

An entry point. It starts the GitHub and Jira emulators on 127.0.0.1 with the demo backlogs
(config/demo/*-seed.yaml), points the demo policy at them, and runs what a reliability lead
would run: one cycle through the real connectors (PyGithub and jira over HTTP), a second
cycle that must do nothing, then the weekly review published in the emulated GitHub and
written to files. Nothing is faked above the HTTP layer.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import requests
from rich.console import Console
from rich.table import Table

from syncer.cli.report import publish, write_files
from syncer.core.actions import action_tracker
from syncer.core.clock import system_clock
from syncer.core.config_loader import load_model_file
from syncer.core.cycle import CycleOutcome
from syncer.core.evaluate import Assessment, evaluate
from syncer.core.evidence_judge import judge_for, link_name
from syncer.core.exit_codes import ExitCode
from syncer.core.logging_setup import configure_logging
from syncer.core.model import Evidence, Verification
from syncer.core.policy import Policy
from syncer.report.build import build_report, report_period
from syncer.report.people import unnamed
from syncer.service.wiring import Runtime, lookup_names, runtime

if TYPE_CHECKING:
    from connectors.emulators.github import GitHubEmulator
    from connectors.emulators.jira import JiraEmulator

CONFIG = Path(__file__).resolve().parents[2] / "config"
DEMO_POLICY = CONFIG / "demo" / "pmsync.demo.yaml"
GITHUB_SEED = CONFIG / "demo" / "github-seed.yaml"
JIRA_SEED = CONFIG / "demo" / "jira-seed.yaml"
GITHUB_TOKEN = "demo-github-token"  # noqa: S105 - the emulator's own, not a secret
JIRA_EMAIL, JIRA_TOKEN = "pmsync@acme.test", "demo-jira-token"


def demo_policy(github_url: str, jira_url: str) -> Policy:
    """The demo policy, pointed at the emulators that were just started."""
    policy = load_model_file(Policy, DEMO_POLICY)
    github = [t.model_copy(update={"base_url": github_url}) for t in policy.trackers.github]
    jira = [t.model_copy(update={"server": jira_url}) for t in policy.trackers.jira]
    trackers = policy.trackers.model_copy(update={"github": github, "jira": jira})
    os.environ[policy.trackers.github[0].token_env] = GITHUB_TOKEN
    os.environ[policy.trackers.jira[0].email_env] = JIRA_EMAIL
    os.environ[policy.trackers.jira[0].token_env] = JIRA_TOKEN
    return policy.model_copy(update={"trackers": trackers})


def outcome_table(title: str, outcome: CycleOutcome) -> Table:
    """Per tracker: items, what they need, what was written."""
    table = Table(title=title)
    for column in (
        "tracker",
        "items",
        "overdue",
        "closure rejected",
        "needs owner",
        "writes",
        "already there",
        "failed",
    ):
        table.add_column(column, justify="right" if column != "tracker" else "left")
    trackers = sorted({a.item.ref.tracker for a in outcome.assessments})
    writes = Counter(action_tracker(d.action) for d in outcome.result.done if d.outcome == "done")
    skipped = Counter(
        action_tracker(d.action) for d in outcome.result.done if d.outcome == "skipped"
    )
    failed = Counter(f.change.key.split(":", 1)[0] for f in outcome.result.failed)
    for name in trackers:
        mine = [a for a in outcome.assessments if a.item.ref.tracker == name]
        rules = Counter(f.rule for a in mine for f in a.findings)
        table.add_row(
            name,
            str(len(mine)),
            str(rules["deadline.overdue"]),
            str(rules["closure.rejected"]),
            str(rules["owner.missing"] + rules["owner.multiple"] + rules["owner.inactive"]),
            str(writes[name]),
            str(skipped[name]),
            str(failed[name]),
        )
    return table


_OWNER_SECTION = re.compile(r"^###\s+Owner\s*\n+\s*@?([A-Za-z0-9][A-Za-z0-9-]*)", re.MULTILINE)


def recorded_owners(github: GitHubEmulator, jira: JiraEmulator, outcome: CycleOutcome) -> set[str]:
    """Items whose tracker records an owner (an assignee, or a login under ``### Owner``),
    read from the emulators themselves rather than through pmsync's mappers."""
    owned: set[str] = set()
    for a in outcome.assessments:
        ref = a.item.ref
        if ref.tracker == "jira":
            if jira.get_issue(ref.key).assignee is not None:
                owned.add(str(ref))
            continue
        repo, _, number = ref.key.partition("#")
        raw = github.issue(repo, int(number))
        if raw.get("assignees") or _OWNER_SECTION.search(str(raw.get("body") or "")):
            owned.add(str(ref))
    return owned


def owner_summary(
    github: GitHubEmulator, jira: JiraEmulator, outcome: CycleOutcome, console: Console
) -> bool:
    """Say what the demo found about owners; False when an owned item was called ownerless."""
    owned = recorded_owners(github, jira, outcome)
    by_rule: dict[str, list[str]] = {}
    for a in outcome.assessments:
        for finding in a.findings:
            by_rule.setdefault(finding.rule, []).append(a.item.ref.key)
    ownerless = [
        str(a.item.ref)
        for a in outcome.assessments
        if str(a.item.ref) in owned and any(f.rule == "owner.missing" for f in a.findings)
    ]
    unassigned = sorted(by_rule.get("owner.unassigned", []))
    inactive = sorted(by_rule.get("owner.inactive", []))
    if ownerless:
        console.print(
            f"[red]Owners: {len(ownerless)} item(s) whose tracker records an owner were "
            f"reported as having none: {', '.join(sorted(ownerless))}.[/red]"
        )
    else:
        console.print(
            f"[green]Owners: no owned item is reported as ownerless ({len(owned)} items record "
            "an owner in their tracker).[/green]"
        )
    console.print(
        f"Named under ### Owner but not assigned, counted as the owner: "
        f"{', '.join(unassigned) or 'none'}. Owner's account inactive (needs-owner label, the "
        f"sponsor asked, the person not mentioned): {', '.join(inactive) or 'none'}."
    )
    return not ownerless


CLOSURE_DECISIONS = {
    "closure.accepted": "accepted",
    "closure.rejected": "rejected",
    "closure.flagged": "flagged",
    "closure.pending": "pending",
}


def closure_decision(a: Assessment) -> tuple[str, str] | None:
    """(decision, why) for an item whose closure was judged, else None."""
    for finding in a.findings:
        decision = CLOSURE_DECISIONS.get(finding.rule)
        if decision is not None:
            return decision, finding.message.split(": ", 1)[-1]
    return None


def _shown(evidence: Evidence) -> str:
    """An evidence link as the closures table shows it: "pull request acme/api#12 (merged)"."""
    noun, name = link_name(evidence)
    if evidence.verification is Verification.CONFIRMED:
        return f"{noun} {name} ({'exists' if noun == 'commit' else 'merged'})"
    return f"{noun} {name}"


def closure_table(outcome: CycleOutcome, policy: Policy) -> tuple[Table, Counter[str], list[str]]:
    """The closures a cycle judged, what it decided and why; and the rejected closures whose
    evidence was verified good (the demo must show none)."""
    judge = judge_for(policy.closure.evidence)
    table = Table(title="Closures judged in cycle 1")
    for column in ("item", "priority", "decision", "why / evidence that counted"):
        table.add_column(column)
    counts: Counter[str] = Counter()
    good_but_rejected: list[str] = []
    judged = [(a, found) for a in outcome.assessments if (found := closure_decision(a))]
    order = list(CLOSURE_DECISIONS.values())[::-1]  # pending, flagged, rejected, accepted
    judged.sort(key=lambda pair: (order.index(pair[1][0]), str(pair[0].item.ref)))
    for a, (decision, reason) in judged:
        counts[decision] += 1
        why = reason
        if decision == "accepted":
            counted = [_shown(e) for e in a.item.evidence if judge.counts(e)]
            if counted:
                why = ", ".join(counted)
            elif not judge.applies(a.item):
                why = f"no evidence needed for {a.item.priority.value}"
        if decision == "rejected" and a.evidence_ok:
            good_but_rejected.append(str(a.item.ref))
        style = {"rejected": "red", "flagged": "yellow", "pending": "yellow"}.get(decision, "green")
        table.add_row(str(a.item.ref), a.item.priority.value, f"[{style}]{decision}[/{style}]", why)
    return table, counts, good_but_rejected


def run_cycles(rt: Runtime, console: Console) -> tuple[CycleOutcome, CycleOutcome]:
    from syncer.core.plan_view import print_plan, unnamed_mentions

    console.rule("[bold]Cycle 1[/bold]: fetch, evaluate, plan, apply")
    first = rt.cycle(cycle_id="demo-1", dry_run=False, full=True)
    names = lookup_names(rt.trackers, unnamed_mentions(first.plan))
    print_plan(first.plan, first.assessments, console, names)
    console.print(outcome_table("What cycle 1 did", first))
    table, counts, good_but_rejected = closure_table(first, rt.policy)
    console.print(table)
    console.print(
        f"Closures judged: {counts['accepted']} accepted, {counts['rejected']} rejected, "
        f"{counts['flagged']} flagged (evidence nobody could verify: kept closed, labelled), "
        f"{counts['pending']} pending (a look-up failed: judged again next cycle)."
    )
    if good_but_rejected:
        console.print(
            "[red]Rejected although their evidence is verified: "
            f"{', '.join(good_but_rejected)} (see the reasons above).[/red]"
        )
    else:
        console.print(
            "[green]No closure with verifiable good evidence was rejected: every pull request "
            "and commit link was checked through GitHub, whichever tracker the item is in."
            "[/green]"
        )
    console.rule("[bold]Cycle 2[/bold]: the same again (must do nothing)")
    second = rt.cycle(cycle_id="demo-2", dry_run=False)
    console.print(outcome_table("What cycle 2 did", second))
    if second.plan.is_empty() and not second.result.done:
        console.print(
            "[green]Cycle 2 planned and wrote nothing: every item is at its desired "
            "state and no escalation is posted twice.[/green]"
        )
    else:
        console.print(f"[red]Cycle 2 still planned {second.plan.write_count} writes.[/red]")
    return first, second


def run_demo(out: Path, console: Console) -> int:
    """The whole demo; returns the exit code."""
    from connectors.emulators.github import GitHubEmulator
    from connectors.emulators.jira import JiraEmulator

    configure_logging(level="WARNING")  # the tables below say what happened
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    state = out / "state.db"
    for stale in out.glob("state.db*"):
        stale.unlink()
    with (
        GitHubEmulator(token=GITHUB_TOKEN) as github,
        JiraEmulator(mode="cloud", email=JIRA_EMAIL, token=JIRA_TOKEN) as jira,
    ):
        github.load_seed(GITHUB_SEED)
        jira.load_seed(JIRA_SEED)
        console.print(
            f"GitHub emulator at {github.base_url}, Jira (Cloud) emulator at "
            f"{jira.base_url}, seeded with the demo backlog (config/demo/)."
        )
        policy = demo_policy(github.base_url, jira.base_url)
        with runtime(policy, f"sqlite:///{state}", system_clock) as rt:
            first, second = run_cycles(rt, console)
            owners_ok = owner_summary(github, jira, first, console)
            console.rule("[bold]Weekly review[/bold]")
            now = system_clock()
            start, end = report_period(policy, now)
            assessments = evaluate(second.items, policy, now)
            entries = list(rt.store.entries_between(start, end))
            wanted = unnamed(assessments, entries, start, end, policy)
            report = build_report(
                assessments,
                policy,
                now,
                entries,
                None,
                directory=lookup_names(rt.trackers, wanted),
            )
            for path in write_files(report, ["markdown", "html", "json"], out):
                console.print(f"wrote {path}")
            tracker = policy.report.tracker or rt.trackers[0].name
            for attempt in ("publish", "republish"):
                result = publish(
                    report,
                    policy,
                    rt.trackers,
                    rt.store,
                    system_clock,
                    tracker_name=tracker,
                    cycle_id=f"demo-{attempt}",
                )
                outcomes = ", ".join(f"{d.action.kind} {d.outcome}" for d in result.done)
                console.print(f"{attempt}: {outcomes or 'nothing'}")
            snapshot = github_snapshot(github.base_url, policy)
            (out / "emulated-github.json").write_text(json.dumps(snapshot, indent=1))
            requests_made = github.request_count() + sum(jira.counters.values())
    console.rule("[bold]Where to look[/bold]")
    console.print(
        f"- {out}/reliability-review-{report.header.week}.md / .html / .json: "
        "the weekly review (open the HTML in a browser)"
    )
    console.print(
        f"- {out}/emulated-github.json: the emulated GitHub issues after the demo "
        f"(labels, state); {out}/state.db: cursors and the decision ledger"
    )
    console.print(
        f"- cycle 1 wrote {first.result.writes} changes; cycle 2 wrote "
        f"{second.result.writes}; {requests_made} HTTP requests in all. "
        f"Done in {time.monotonic() - started:.1f} s."
    )
    if first.result.failed or first.fetch_errors:
        return ExitCode.TRACKER_FAILED
    return ExitCode.OK if second.plan.is_empty() and owners_ok else ExitCode.FINDINGS


def github_snapshot(base_url: str, policy: Policy) -> dict[str, list[dict[str, object]]]:
    """Every issue of the demo repositories as the GitHub API shows it after the demo."""
    headers = {"Authorization": f"token {GITHUB_TOKEN}"}
    snapshot: dict[str, list[dict[str, object]]] = {}
    with requests.Session() as session:
        for repo in policy.trackers.github[0].repositories:
            answer = session.get(
                f"{base_url}/repos/{repo}/issues",
                headers=headers,
                timeout=10,
                params={"state": "all", "per_page": "100"},
            )
            answer.raise_for_status()
            snapshot[repo] = [
                {
                    "number": i["number"],
                    "title": i["title"],
                    "state": i["state"],
                    "labels": sorted(lbl["name"] for lbl in i["labels"]),
                    "comments": i["comments"],
                }
                for i in answer.json()
            ]
    return snapshot
