"""Benchmark: CPU time of the GitHub mapper on a list of 10,000 issues (the cold-sync path).

Standalone: ``.venv/bin/python tests/bench/bench_mapper.py [--items 10000] [--repeat 5]``.
It generates issue payloads shaped like the issues list answer, with issue-form bodies whose
Evidence sections hold a realistic mix of links (pull requests, commits, dashboards, CI runs,
runbooks, documents, prose, nothing), and reports the best of ``--repeat`` runs of
``map_issues``. Classifying evidence links is part of mapping: the link rules must be compiled
once per policy, not per item, and this is the figure that shows it. The Jira twin is
``bench_jira_mapper.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from connectors.github.mapper import map_issues
from syncer.core.policy import Policy
from syncer.core.tracker_config import GitHubTracker

EVIDENCE = (
    "https://github.com/acme/api/pull/{n}",
    "https://github.com/acme/api/commit/{n:040x}",
    "https://grafana.acme.example/d/slo-{n}/api-latency",
    "https://github.com/acme/api/actions/runs/{n}",
    "https://runbooks.acme.example/api/failover-{n}",
    "https://acme.atlassian.net/wiki/spaces/SRE/pages/{n}/Retro",
    "- [x] load test passed, see https://buildkite.com/acme/api/builds/{n}",
    "Verified by hand in staging",
    "_No response_",
    "https://gitlab.acme.example/acme/api/-/merge_requests/{n}",
)
BODY = """### Postmortem

https://github.com/acme/postmortems/blob/main/2026/INC-{incident}.md

### Due date

2026-12-{day:02d}

### Evidence

{evidence}

### Sponsor

@carol
"""


def issue(n: int) -> dict[str, Any]:
    """One issue as the list answer shows it."""
    closed = n % 3 == 0
    return {
        "url": f"https://api.github.com/repos/acme/api/issues/{n}",
        "repository_url": "https://api.github.com/repos/acme/api",
        "html_url": f"https://github.com/acme/api/issues/{n}",
        "number": n,
        "title": f"Action item {n}",
        "state": "closed" if closed else "open",
        "state_reason": "completed" if closed else None,
        "labels": [
            {"name": "postmortem-action"},
            {"name": ("P0", "P1", "P2", "P3")[n % 4]},
            {"name": ("sev-1", "sev-2", "sev-3")[n % 3]},
        ],
        "assignees": [{"login": ("alice", "bob", "carol")[n % 3]}],
        "milestone": None,
        "comments": n % 5,
        "created_at": "2026-10-01T09:00:00Z",
        "updated_at": "2026-11-20T09:00:00Z",
        "closed_at": "2026-11-19T09:00:00Z" if closed else None,
        "body": BODY.format(
            incident=n // 25, day=1 + n % 28, evidence=EVIDENCE[n % len(EVIDENCE)].format(n=n)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=10_000, help="issues to map")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best is reported")
    args = parser.parse_args(argv)
    raws = [issue(n) for n in range(1, args.items + 1)]
    policy = Policy(version="bench")
    config = GitHubTracker(repositories=["acme/api"])
    best = float("inf")
    for _ in range(args.repeat):
        began = time.process_time()
        items, skipped = map_issues(raws, config=config, policy=policy, repo="acme/api")
        best = min(best, time.process_time() - began)
        assert len(items) == args.items, len(items)
        assert not skipped, skipped[:3]
    links = sum(1 for i in items for e in i.evidence if e.url)
    print(
        f"map_issues: {args.items} issues ({links} evidence links) in {best:.3f} s CPU "
        f"(best of {args.repeat}), {best / args.items * 1e6:.1f} us per issue"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
