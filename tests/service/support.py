"""Helpers for the service tests: a policy on an emulator, overdue items, daemon subprocesses.

The daemon tests start real ``pmsync daemon`` processes, so they wait on real time by polling
(bounded by a deadline) rather than on an injected clock: what they prove is the behaviour of
the process (signals, ports, leases), which only exists in real time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import yaml

from connectors.emulators.github import GitHubEmulator
from syncer.state import LeaderLease, StateStore

TOKEN = "ghp_service-test-token-7d1e"
TOKEN_ENV = "PMSYNC_TEST_GITHUB_TOKEN"
REPO = "acme/api"
LABELS = ("postmortem-action", "sev-1", "sev-2", "sev-3", "P0", "P1", "P2", "P3")
PMSYNC = Path(sys.executable).with_name("pmsync")
LEASE_S = 4
"""The service tests' lease, seconds: short so that failovers are quick."""


def free_port() -> int:
    """A port nobody listens on now (the daemon cannot report the one the OS would pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def policy_dict(base_url: str, *, version: str = "svc-1", interval: str = "2s") -> dict[str, Any]:
    """A small policy: one GitHub tracker on the emulator, one escalation tier, short timers."""
    return {
        "version": version,
        "trackers": {
            "github": [
                {
                    "name": "github",
                    "base_url": base_url,
                    "repositories": [REPO],
                    "action_label": "postmortem-action",
                    "token_env": TOKEN_ENV,
                    "seconds_between_writes": 0,
                    "request_timeout_s": 2,
                }
            ]
        },
        "deadlines": {"timezone": "UTC"},
        "escalation": {
            "tiers": [
                {
                    "name": "owner",
                    "after": "0d",
                    "label": "pmsync/overdue",
                    "mention": ["owner"],
                    "comment": "{mentions} {key} is overdue (due {due}).",
                }
            ]
        },
        "report": {"enabled": False},
        # A write needs timeout (2 s) + skew allowance (1 s) of the lease left: 3 of 4 s.
        "daemon": {
            "interval": interval,
            "lease": f"{LEASE_S}s",
            "clock_skew_allowance": "1s",
            "max_backoff": "10s",
        },
    }


def write_policy(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def issue_body(owner: str, due: date) -> str:
    return (
        "### Postmortem\n\nhttps://example.invalid/INC-1.md\n\n"
        f"### Owner\n\n@{owner}\n\n### Due date\n\n{due.isoformat()}\n\n"
        "### Evidence\n\n_No response_\n"
    )


def seed_repo(emu: GitHubEmulator, repo: str = REPO) -> None:
    emu.add_repo(repo)
    for login in ("alice", "bob"):
        emu.add_user(login)
    for name in LABELS:
        emu.add_label(repo, name)


def add_overdue(emu: GitHubEmulator, n: int, *, repo: str = REPO, days_late: int = 3) -> list[int]:
    """``n`` open P1 items whose deadline passed ``days_late`` days ago (emulator time)."""
    due = emu.now().date() - timedelta(days=days_late)
    return [
        emu.add_issue(
            repo,
            f"Overdue action {i}",
            body=issue_body("alice", due),
            labels=["postmortem-action", "sev-2", "P1"],
            assignees=["alice"],
            created_at=emu.now() - timedelta(days=40),
        )
        for i in range(n)
    ]


def comment_pairs(emu: GitHubEmulator, repo: str, numbers: list[int]) -> Counter[tuple[int, str]]:
    """How many comments each (issue, hidden marker) pair has."""
    from syncer.core.messages import markers_in

    pairs: Counter[tuple[int, str]] = Counter()
    for number in numbers:
        for comment in emu.comments(repo, number):
            for marker in markers_in(str(comment.get("body") or "")):
                pairs[(number, marker)] += 1
    return pairs


@dataclass
class DaemonProcess:
    """A ``pmsync daemon`` subprocess with its log file and health port."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._log.close()


def start_daemon(
    policy: Path,
    state_url: str,
    log_path: Path,
    *,
    replica_id: str = "A",
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> DaemonProcess:
    port = port or free_port()
    env = {
        **os.environ,
        TOKEN_ENV: TOKEN,
        "PMSYNC_STATE_URL": state_url,
        "PMSYNC_HEALTH_PORT": str(port),
        "PMSYNC_REPLICA_ID": replica_id,
        "PMSYNC_LOG_LEVEL": "INFO",
        **(extra_env or {}),
    }
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [str(PMSYNC), "daemon", "--config", str(policy)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    return DaemonProcess(proc, port, log_path, log)


def holder(store: StateStore) -> str | None:
    """Who the lease row names, if its lease has not run out (by the database's clock)."""
    state = LeaderLease(store, holder_id="observer", lease_seconds=LEASE_S).state()
    if state is None or state.expires_at <= store.database_now():
        return None
    return state.holder


def role(proc: DaemonProcess) -> str:
    """The role /readyz reports ("role is leader" in its role check)."""
    _, body = proc.get("/readyz")
    detail = str(json.loads(body)["checks"]["role"]["detail"])
    return detail.removeprefix("role is ")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until true; the seconds it took, or AssertionError after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            if condition():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
