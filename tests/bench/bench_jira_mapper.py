"""Benchmark: CPU time of the Jira mapper on 10,000 issues (the cold-sync path).

Standalone: ``.venv/bin/python tests/bench/bench_jira_mapper.py [--items 10000] [--repeat 5]
[--mode cloud|datacenter]``. The GitHub twin is ``bench_mapper.py``. It seeds the in-process
Jira emulator with the fields a reliability team sets up (as ``tests/jira/conftest.py`` does:
Evidence URL, Severity option, Sponsor and Executive sponsor users, Postmortem and Waiver
text) and N action items with a realistic mix: owners, priorities, statuses and resolutions,
due dates, severities by field or by label, sponsors, waivers, and evidence links of every
kind. The raw issues are read once through the connector's own search (so they are exactly
what the Jira REST API answers for the mapped fields); then ``map_issue`` over all of them is
timed, and the best of ``--repeat`` runs is reported. Link classification is part of mapping,
as on GitHub.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from pydantic import SecretStr

from connectors.emulators.jira import JiraEmulator
from connectors.jira.client import JiraConnector
from connectors.jira.mapper import map_issue
from syncer.core.cursors import MemoryCursorStore
from syncer.core.model import ActionItem
from syncer.core.policy import Policy
from syncer.core.tracker_config import JiraTracker

EMAIL, TOKEN = "bot@acme.test", "bench-token"
JQL = "project = REL AND labels = postmortem-action"
PEOPLE = (
    ("712020:aaaaaaaa-0000-4000-8000-00000000a11c", "alice", "Alice Adams"),
    ("712020:bbbbbbbb-0000-4000-8000-000000000b0b", "bob", "Bob Brown"),
    ("712020:cccccccc-0000-4000-8000-00000000ca01", "carol", "Carol Chen"),
    ("712020:eeeeeeee-0000-4000-8000-00000000e21e", "erin", "Erin Exec"),
)
EVIDENCE = (
    "https://github.com/acme/api/pull/{n}",
    "https://github.com/acme/api/commit/{n:040x}",
    "https://grafana.acme.example/d/slo-{n}/api-latency",
    "https://github.com/acme/api/actions/runs/{n}",
    "https://runbooks.acme.example/api/failover-{n}",
    "https://acme.atlassian.net/wiki/spaces/SRE/pages/{n}/Retro",
    "https://buildkite.com/acme/api/builds/{n}",
    None,
    "https://gitlab.acme.example/acme/api/-/merge_requests/{n}",
    "https://acme.atlassian.net/browse/REL-{n}",
)
PRIORITIES = ("Highest", "High", "Medium", "Low")
RESOLUTIONS = ("Done", "Done", "Won't Do", "Duplicate")
SEVERITIES = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
CONFIG_FIELDS = {
    "owner": "assignee",
    "due": "duedate",
    "evidence": "Evidence",
    "sponsor": "Sponsor",
    "executive_sponsor": "Executive sponsor",
    "severity": "Severity",
    "incident": "Postmortem",
    "waiver": "Waiver",
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def seed(emulator: JiraEmulator, n: int) -> None:
    """The site's people and fields, then ``n`` action items of every common shape."""
    emulator.add_project("REL", "Reliability")
    for account_id, name, display in PEOPLE:
        emulator.add_user(account_id=account_id, name=name, display_name=display)
    emulator.add_custom_field("Evidence", "url")
    emulator.add_custom_field("Severity", "option", options=list(SEVERITIES))
    emulator.add_custom_field("Sponsor", "user")
    emulator.add_custom_field("Executive sponsor", "user")
    emulator.add_custom_field("Postmortem", "string")
    emulator.add_custom_field("Waiver", "string")
    for i in range(1, n + 1):
        closed = i % 3 == 0
        evidence = EVIDENCE[i % len(EVIDENCE)]
        fields: dict[str, Any] = {
            "Postmortem": f"https://acme.atlassian.net/wiki/spaces/SRE/pages/{i // 25}/INC",
            "Evidence": evidence.format(n=i) if evidence else None,
            "Sponsor": PEOPLE[i // 2 % 3][1] if i % 2 == 0 else None,
            "Executive sponsor": "erin" if i % 7 == 0 else None,
            "Waiver": f"until 2026-12-{1 + i % 28:02d} approved by erin: capacity"
            if i % 20 == 0
            else None,
        }
        labels = ["postmortem-action"]
        if i % 5 == 4:
            labels.append(SEVERITIES[i % 4].lower())  # severity by label, not by field
        else:
            fields["Severity"] = SEVERITIES[i % 4]
        emulator.add_issue(
            "REL",
            f"Action item {i}",
            labels=labels,
            priority=PRIORITIES[i % 4],
            status="Done" if closed else ("In Progress" if i % 3 == 1 else "To Do"),
            resolution=RESOLUTIONS[i % 4] if closed else None,
            assignee=PEOPLE[i % 3][1] if i % 11 else None,
            duedate=f"2026-12-{1 + i % 28:02d}" if i % 4 else None,
            created="2026-10-01T09:00:00.000+0000",
            updated=f"-{1 + i % 300}h",
            fields=fields,
            announce=False,
        )


def raw_issues(mode: Literal["cloud", "datacenter"], n: int) -> tuple[list[Any], Any]:
    """``n`` raw issues as the connector's search receives them, and its mapping context."""
    clock = Clock()
    emulator = JiraEmulator(mode=mode, email=EMAIL, token=TOKEN, clock=clock)
    seed(emulator, n)
    emulator.start()
    try:
        config = JiraTracker(
            name="jira",
            server=emulator.base_url,
            deployment=mode,
            jql=JQL,
            project="REL",
            fields=CONFIG_FIELDS,
        )
        connector = JiraConnector(
            config,
            Policy(version="bench"),
            MemoryCursorStore(),
            clock,
            token=SecretStr(TOKEN),
            email=EMAIL if mode == "cloud" else None,
        )
        resolution = connector.fields.resolve()
        assert not resolution.problems, resolution.problems
        raws = connector.http.search(JQL, resolution.requested)
        return raws, connector.fields.context()
    finally:
        emulator.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=10_000, help="issues to map")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best is reported")
    parser.add_argument("--mode", choices=("cloud", "datacenter"), default="cloud")
    args = parser.parse_args(argv)
    raws, ctx = raw_issues(args.mode, args.items)
    assert len(raws) == args.items, len(raws)
    best = float("inf")
    for _ in range(args.repeat):
        began = time.process_time()
        mapped = [map_issue(raw, ctx) for raw in raws]
        best = min(best, time.process_time() - began)
    items = [m for m in mapped if isinstance(m, ActionItem)]
    assert len(items) == args.items, [m for m in mapped if not isinstance(m, ActionItem)][:3]
    links = sum(1 for i in items for e in i.evidence if e.url)
    print(
        f"jira map_issue ({args.mode}): {args.items} issues ({links} evidence links) in "
        f"{best:.3f} s CPU (best of {args.repeat}), {best / args.items * 1e6:.1f} us per issue"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
