"""``pmsync check-permissions``: ask each tracker, before any cycle, whether pmsync may do its job.

Wired into ``syncer/cli/main.py`` through ``register``. It reads the policy file, resolves each
tracker's credentials the way the daemon does, and prints one line per check
with the fix for every failure. Exit codes (``syncer.core.exit_codes``): 0 when everything is
allowed, 1 when something is not, 2 for a bad policy file or missing credentials, 3 when a
tracker could not be asked at all (no answer, 5xx, rate limited).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from syncer.core.errors import ConfigError, RateLimited, TrackerError, TransientError
from syncer.core.exit_codes import ExitCode, worst
from syncer.core.policy import Policy
from syncer.core.secrets import register_configured_secrets
from syncer.core.tracker import PermissionCheck

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = ExitCode.OK, ExitCode.FINDINGS, ExitCode.BAD_INPUT


def collect_checks(policy: Policy) -> list[PermissionCheck]:
    """Every check for every configured tracker; a tracker that cannot be asked is one failure."""
    from connectors.github.permissions import check_github
    from connectors.jira.permissions import check_jira

    checks: list[PermissionCheck] = []
    for github in policy.trackers.github:
        try:
            checks.extend(check_github(github))
        except TrackerError as exc:
            checks.append(
                PermissionCheck(
                    github.name,
                    "reach the API",
                    False,
                    str(exc),
                    "check base_url, the network and the token",
                    answered=not isinstance(exc, TransientError | RateLimited),
                )
            )
    target = policy.report_target() if policy.report.enabled else None
    for jira in policy.trackers.jira:
        checks.extend(
            check_jira(
                jira,
                None,
                None,
                publishes_reports=jira.name == target,
                report_project=policy.report.project or jira.project,
            )
        )
    return checks


def cmd_check_permissions(args: argparse.Namespace) -> int:
    from syncer.core.config_loader import load_model_file

    try:
        policy = load_model_file(Policy, Path(args.config))
        register_configured_secrets(policy)
        checks = collect_checks(policy)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        table = Table(title="pmsync check-permissions")
        for column in ("tracker", "check", "ok", "detail", "fix"):
            table.add_column(column)
        for c in checks:
            table.add_row(c.tracker, c.check, "yes" if c.ok else "NO", c.detail, c.fix)
        Console().print(table)
    return exit_code(checks)


def exit_code(checks: list[PermissionCheck]) -> ExitCode:
    """3 when a tracker could not be asked, 1 when something is not allowed, else 0."""
    return worst(
        ExitCode.TRACKER_FAILED if any(not c.answered for c in checks) else ExitCode.OK,
        ExitCode.FINDINGS if not checks or not all(c.ok for c in checks) else ExitCode.OK,
    )


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "check-permissions",
        help="check that the credentials can read items, create labels and comment (exit 1 if not)",
    )
    parser.add_argument("--config", required=True, help="policy YAML file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=cmd_check_permissions)
