"""Lost answers and kills on Jira: N runs of each fault, on Cloud and Data Center, exactly once.

Why it exists: a comment POST that commits but whose answer never arrives is the case that
duplicated comments on a Jira server following Atlassian's documentation (24 lost answers left
25 copies on one issue). Each run adds one overdue item and runs a cycle with the fault armed
on every comment POST, and every earlier item is judged again in that cycle, so a marker
check that misses a comment shows up as a second copy:

* ``dropped``: the emulator applies the POST and closes the connection without answering;
* ``502``: it applies the POST and answers 502, as a gateway that lost the answer does;
* ``timeout``: it applies the POST and holds the answer longer than the client's timeout;
* ``sigkill``: a real ``pmsync run --once`` child process is killed with SIGKILL once the
  emulator says it committed the comment (a ``CommitGate`` holds the answer; no sleeps), so
  the kill lands between the POST and the marker-index PUT. The next child finds the comment.

After the runs, one fault-free cycle, then the emulator's state is compared with what the
policy wants: duplicate comments (a marker on more than one comment of an item), missing
comments (a wanted marker on no comment), labels left to change, and index entries missing.

Usage: ``python tests/soak/jira_exactly_once.py --runs 100`` (run by ``make soak``); the
short version runs in ``make test`` (``tests/jira/test_lost_answers.py``).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors.emulators.jira import JiraEmulator, JiraFaults  # noqa: E402

Mode = Literal["cloud", "datacenter"]
FAULTS = ("dropped", "502", "timeout", "sigkill")
MODES: tuple[Mode, ...] = ("cloud", "datacenter")
EMAIL = "bot@acme.test"
TOKEN = "jira-exactly-once-token"
TOKEN_ENV = "PMSYNC_PROOF_JIRA_TOKEN"
EMAIL_ENV = "PMSYNC_PROOF_JIRA_EMAIL"
ALICE = "712020:aaaaaaaa-0000-4000-8000-00000000a11c"
COMMENT_POST = ("POST", "/issue/{issueIdOrKey}/comment")
CLIENT_TIMEOUT_S = 1.0
HOLD_S = 3.0  # a slow answer comes this long after the commit, well past the client timeout
OVERDUE = "pmsync/overdue"


def policy(base_url: str, mode: Mode) -> dict[str, Any]:
    tracker: dict[str, Any] = {
        "name": "jira",
        "server": base_url,
        "deployment": mode,
        "jql": "project = REL AND labels = postmortem-action",
        "project": "REL",
        "token_env": TOKEN_ENV,
        "email_env": EMAIL_ENV,
        "fields": {"owner": "assignee", "due": "duedate", "severity": "Severity"},
        "request_timeout_s": CLIENT_TIMEOUT_S,
    }
    return {
        "version": "jira-exactly-once-1",
        "trackers": {"jira": [tracker]},
        "deadlines": {"timezone": "UTC"},
        "escalation": {
            "tiers": [
                {
                    "name": "owner",
                    "after": "0d",
                    "label": OVERDUE,
                    "mention": ["owner"],
                    "comment": "{mentions} {key} is overdue (due {due}).",
                }
            ],
            "fallback_mention": [],
        },
        "report": {"enabled": False},
        "operations": {"max_writes_per_cycle": 1000},
    }


@dataclass
class Figures:
    mode: str
    fault: str
    runs: int = 0
    answers_lost: int = 0
    kills: int = 0
    comments: int = 0
    duplicate_comments: int = 0
    missing_comments: int = 0
    label_changes_left: int = 0
    unindexed: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return (
            self.duplicate_comments == 0
            and self.missing_comments == 0
            and self.label_changes_left == 0
            and self.unindexed == 0
            and self.comments == self.runs
        )

    def line(self) -> str:
        lost = f"kills {self.kills}" if self.fault == "sigkill" else f"lost {self.answers_lost}"
        return (
            f"  {self.mode:<10} {self.fault:<8} runs {self.runs:>4}  {lost:<10} "
            f"comments {self.comments:>4}  duplicates {self.duplicate_comments}  "
            f"missing {self.missing_comments}  labels left {self.label_changes_left}  "
            f"unindexed {self.unindexed}  {self.seconds:6.1f} s  "
            f"{'PASS' if self.ok else 'FAIL'}"
        )


class Proof:
    """One emulator, one policy file and a state store for one (deployment, fault) pair."""

    def __init__(self, mode: Mode, work: Path) -> None:
        self.mode = mode
        self.work = work
        self.emulator = JiraEmulator(mode=mode, email=EMAIL, token=TOKEN)
        self.emulator.add_project("REL", "Reliability")
        self.emulator.add_user(account_id=ALICE, name="alice", display_name="Alice Adams")
        self.emulator.add_custom_field("Severity", "option", options=["SEV-1", "SEV-2"])
        self.emulator.start()
        self.policy_file = work / f"policy-{mode}.yaml"
        self.policy_file.write_text(
            yaml.safe_dump(policy(self.emulator.base_url, mode), sort_keys=False),
            encoding="utf-8",
        )
        self.state = f"sqlite:///{work / f'state-{mode}.db'}"
        self.keys: list[str] = []

    def close(self) -> None:
        self.emulator.stop()

    def add_item(self, n: int) -> str:
        due = datetime.now(UTC).date() - timedelta(days=2)
        key = self.emulator.add_issue(
            "REL",
            f"Action item {n}",
            labels=["postmortem-action"],
            assignee="alice",
            duedate=due.isoformat(),
            fields={"Severity": "SEV-2"},
            created="-20d",
            # It enters the scope now (labelled today), as an issue does: ``updated`` moves,
            # so the next ``run --once``, incremental on the stored cursor, finds it.
            updated=self.emulator.clock(),
        )
        self.keys.append(key)
        return key

    # -- in-process cycles (the lost-answer faults) -------------------------------------

    def cycle(self) -> None:
        """One cycle as a fresh process runs it: new connector, ledger and applier."""
        from pydantic import SecretStr

        from connectors.jira.client import JiraConnector
        from syncer.core.apply import Applier
        from syncer.core.clock import system_clock
        from syncer.core.config_loader import load_model_file
        from syncer.core.cursors import MemoryCursorStore
        from syncer.core.cycle import run_cycle
        from syncer.core.ledger import MemoryLedger
        from syncer.core.policy import Policy

        the_policy = load_model_file(Policy, self.policy_file)
        connector = JiraConnector(
            the_policy.trackers.jira[0],
            the_policy,
            MemoryCursorStore(),
            system_clock,
            token=SecretStr(TOKEN),
            email=EMAIL if self.mode == "cloud" else None,
            sleep=lambda _s: None,
        )
        ledger = MemoryLedger()
        applier = Applier(
            {connector.name: connector},
            ledger,
            system_clock,
            cycle_id="proof",
            policy_version=the_policy.version,
        )
        run_cycle(
            trackers=[connector],
            policy=the_policy,
            now=system_clock(),
            executor=applier,
            cycle_id="proof",
            ledger=ledger,
        )

    # -- child processes (the kill) ------------------------------------------------------

    def spawn(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, TOKEN_ENV: TOKEN, EMAIL_ENV: EMAIL if self.mode == "cloud" else ""}
        return subprocess.Popen(  # our own CLI, with arguments we built
            [
                sys.executable,
                "-m",
                "syncer.cli.main",
                "run",
                "--once",
                "--config",
                str(self.policy_file),
                "--state",
                self.state,
            ],
            stdout=subprocess.DEVNULL,
            stderr=(self.work / f"child-{self.mode}.log").open("ab"),
            env=env,
            cwd=ROOT,
        )

    def killed_run(self) -> bool:
        """A child whose comment POST commits, then SIGKILL before its answer; True if killed."""
        gate = self.emulator.gate_after_commit(*COMMENT_POST)
        child = self.spawn()
        try:
            while not gate.committed.wait(0.05):
                if child.poll() is not None:
                    return False  # finished without posting: nothing to kill
            child.send_signal(signal.SIGKILL)
            child.wait(30)
            return True
        finally:
            self.emulator.ungate(gate)
            if child.poll() is None:
                child.kill()
                child.wait(30)

    def finishing_run(self) -> int:
        child = self.spawn()
        return child.wait(120)

    # -- the verdict -----------------------------------------------------------------------

    def judge(self, figures: Figures) -> None:
        from pydantic import SecretStr

        from connectors.jira.client import MARKERS_PROPERTY, JiraConnector
        from connectors.jira.renderer import markers_in_body
        from syncer.core.actions import AddLabels, RemoveLabels, Reopen
        from syncer.core.clock import system_clock
        from syncer.core.config_loader import load_model_file
        from syncer.core.cursors import MemoryCursorStore
        from syncer.core.evaluate import evaluate
        from syncer.core.plan import plan
        from syncer.core.policy import Policy

        the_policy = load_model_file(Policy, self.policy_file)
        connector = JiraConnector(
            the_policy.trackers.jira[0],
            the_policy,
            MemoryCursorStore(),
            system_clock,
            token=SecretStr(TOKEN),
            email=EMAIL if self.mode == "cloud" else None,
        )
        assessments = evaluate(connector.fetch(full=True).items, the_policy, system_clock())
        for key in self.keys:
            counted: Counter[str] = Counter()
            for comment, props in zip(
                self.emulator.comments(key), self.emulator.comment_properties(key), strict=True
            ):
                marker = (props.get("pmsync.marker") or {}).get("marker")
                counted.update({marker} if marker else markers_in_body(comment["body"]))
                figures.comments += 1
            figures.duplicate_comments += sum(n - 1 for n in counted.values() if n > 1)
            index = (self.emulator.properties(key).get(MARKERS_PROPERTY) or {}).get("markers")
            wanted = [c.marker for a in assessments if a.item.ref.key == key for c in a.comments]
            figures.missing_comments += sum(1 for m in wanted if counted[m] == 0)
            figures.unindexed += sum(1 for m in counted if m not in (index or {}))
        final = plan(assessments, the_policy.managed_labels, budget=None)
        figures.label_changes_left = sum(
            1 for a in final.actions if isinstance(a, AddLabels | RemoveLabels | Reopen)
        )
        counters = self.emulator.counters
        figures.answers_lost = sum(
            n
            for (method, path, status), n in counters.items()
            if (method, path.split("/", 4)[-1]) == ("POST", COMMENT_POST[1].lstrip("/"))
            and status in (0, 502)
        )


def armed(fault: str) -> JiraFaults:
    only = frozenset({COMMENT_POST})
    if fault == "dropped":
        return JiraFaults(drop_after_commit_rate=1, only=only)
    if fault == "502":
        return JiraFaults(error_after_commit_rate=1, only=only)
    return JiraFaults(slow_after_commit_rate=1, timeout_hold_s=HOLD_S, only=only)


def run_fault(mode: Mode, fault: str, runs: int, work: Path) -> Figures:
    figures = Figures(mode=mode, fault=fault)
    started = time.monotonic()
    proof = Proof(mode, work)
    try:
        for n in range(runs):
            proof.add_item(n)
            if fault == "sigkill":
                figures.kills += proof.killed_run()
            else:
                proof.emulator.faults = armed(fault)
                proof.cycle()
            figures.runs += 1
        proof.emulator.faults = JiraFaults()
        if fault == "sigkill":
            code = proof.finishing_run()
            if code not in (0, 1):
                raise SystemExit(f"the last child failed with {code}; see {work}")
        else:
            proof.cycle()
        proof.judge(figures)
    finally:
        proof.close()
    figures.seconds = time.monotonic() - started
    return figures


def run_all(
    runs: int, modes: tuple[Mode, ...] = MODES, faults: tuple[str, ...] = FAULTS
) -> list[Figures]:
    with tempfile.TemporaryDirectory(prefix="pmsync-jira-once-") as tmp:
        return [run_fault(m, f, runs, Path(tmp)) for m in modes for f in faults]


def report(results: list[Figures]) -> str:
    total = sum(f.seconds for f in results)
    ok = all(f.ok for f in results)
    return "\n".join(
        [
            "jira exactly once: lost comment answers and SIGKILL after the POST",
            *(f.line() for f in results),
            f"  result: {'PASS' if ok else 'FAIL'} in {total:.0f} s",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=100, help="runs of each fault and deployment")
    parser.add_argument("--mode", choices=[*MODES, "both"], default="both")
    parser.add_argument("--fault", choices=[*FAULTS, "all"], default="all")
    args = parser.parse_args(argv)
    modes = MODES if args.mode == "both" else (args.mode,)
    faults = FAULTS if args.fault == "all" else (args.fault,)
    from syncer.core.logging_setup import configure_logging

    configure_logging(level="WARNING", stream=sys.stderr)
    results = run_all(args.runs, modes, faults)
    print(report(results))
    return 0 if all(f.ok for f in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
