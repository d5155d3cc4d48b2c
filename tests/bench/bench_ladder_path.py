"""Measurement: how many pmsync functions the escalation ladder passes through, YAML to POST.

Issue 13.5 asks that following the ladder from the policy file to the posted comment should
pass through about 20 functions. This script follows it for one escalation of one item: it
loads a policy whose ladder is written in YAML, points it at the GitHub emulator (one issue
ten days overdue: the sponsor tier), and runs one cycle through the real connector and the
applier, with ``sys.setprofile`` on from the policy load until the connector POSTs the
escalation comment.

A pmsync function (in ``syncer/`` or ``connectors/``, emulators aside) is counted as on the
ladder's path when the ladder's data goes through it: one of its arguments (``self``
included), its local variables when it returns, or its return value is, or holds within a
few levels, a ``Tier``, the ``Escalation``, an ``EscalationStep``, a tier's comment template
or an escalation marker (so the raw YAML mapping of a tier, a tier's verdict, the desired
comment, the ``PostComment``, the rendered ``Message``). The whole ``Policy`` is not
followed into, nor an object built around it (the evaluator's tables, a connector): they
are passed nearly everywhere, and a function that merely could read the ladder is not on
its path. Comprehensions count as part of their function. Every other pmsync function
called in that window is counted too, for context.

Run: ``.venv/bin/python tests/bench/bench_ladder_path.py [--list]``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import yaml
from pydantic import BaseModel, SecretStr

from connectors.emulators.github import GitHubEmulator
from connectors.github import GitHubConnector
from syncer.core.actions import EscalationStep
from syncer.core.apply import Applier
from syncer.core.config_loader import load_model_file
from syncer.core.cursors import MemoryCursorStore
from syncer.core.cycle import run_cycle
from syncer.core.ledger import MemoryLedger
from syncer.core.policy import Escalation, Policy, Tier

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TOKEN = "t0ken-for-the-ladder-path"  # the emulator's own
LADDER_YAML = """\
version: ladder-path
trackers:
  github:
    - name: github
      base_url: {base_url}
      repositories: [acme/api]
      token_env: PMSYNC_LADDER_TOKEN
      seconds_between_writes: 0
      look_up_owners: false
escalation:
  tiers:
    - id: owner
      name: owner
      after: 0d
      label: pmsync/overdue
      mention: [owner]
      comment: "{{mentions}} {{key}} is overdue (due {{due}})."
    - id: sponsor
      name: sponsor
      after: 7d
      label: pmsync/escalated-sponsor
      mention: [owner, sponsor]
      comment: "{{mentions}} {{key}} is {{days_overdue}} days overdue; escalating to the sponsor."
"""
OUR_CODE = (str(REPO / "syncer"), str(REPO / "connectors"))
EMULATORS = str(REPO / "connectors" / "emulators")


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        yield from value
    elif isinstance(value, BaseModel):
        yield from value.__dict__.values()
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield getattr(value, f.name, None)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        yield from vars(value).values()


class Ladder:
    """What counts as the ladder's data (see the module docstring)."""

    def __init__(self, policy_text: str) -> None:
        raw = yaml.safe_load(policy_text)
        self.templates = {t["comment"] for t in raw["escalation"]["tiers"]}

    def holds(self, value: Any, depth: int = 4, seen: set[int] | None = None) -> bool:
        if isinstance(value, Tier | Escalation | EscalationStep):
            return True
        if isinstance(value, str):
            return value in self.templates or value.startswith("pmsync:escalation:")
        if depth == 0 or isinstance(value, Policy | int | float | bytes | type(None)):
            return False
        if isinstance(getattr(value, "policy", None), Policy):
            return False  # built around the whole policy: the rules' tables, a connector
        seen = set() if seen is None else seen
        if id(value) in seen:
            return False
        seen.add(id(value))
        for count, child in enumerate(_children(value)):
            if count > 64:
                break
            if self.holds(child, depth - 1, seen):
                return True
        return False


COMPREHENSIONS = ("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>")


def ours(frame: FrameType) -> bool:
    """A function of pmsync's own (a comprehension is part of the function it is in)."""
    code = frame.f_code
    return (
        code.co_filename.startswith(OUR_CODE)
        and not code.co_filename.startswith(EMULATORS)
        and code.co_name not in COMPREHENSIONS
    )


def name_of(frame: FrameType) -> str:
    module = Path(frame.f_code.co_filename).relative_to(REPO).with_suffix("")
    return f"{'.'.join(module.parts)}:{frame.f_code.co_qualname}"


def main() -> None:
    emulator = GitHubEmulator(token=TOKEN, clock=lambda: NOW)
    emulator.start()
    try:
        emulator.add_repo("acme/api")
        emulator.add_issue(
            "acme/api",
            "Add a circuit breaker to the payments client",
            labels=["postmortem-action", "P1", "sev-3"],
            assignees=["alice"],
            body="### Due date\n\n2026-11-13\n\n### Sponsor\n\n@bob\n",
            created_at=NOW - timedelta(days=40),
        )
        text = LADDER_YAML.format(base_url=emulator.base_url)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pmsync.yaml"
            path.write_text(text)
            on_path, called = follow(path, Ladder(text))
    finally:
        emulator.stop()
    print(
        f"ladder path (YAML to the escalation comment's POST): {len(on_path)} pmsync functions "
        f"carry the ladder's data, of {len(called)} pmsync functions called in that window"
    )
    if "--list" in sys.argv:
        for name in sorted(on_path):
            print(f"  {name}")


def follow(path: Path, ladder: Ladder) -> tuple[set[str], set[str]]:
    """Functions on the ladder's path and all functions called, until the comment's POST."""
    os.environ["PMSYNC_LADDER_TOKEN"] = TOKEN
    on_path: set[str] = set()
    called: set[str] = set()
    done = False

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal done
        if done or event not in ("call", "return") or not ours(frame):
            return
        name = name_of(frame)
        called.add(name)
        posting = event == "call" and frame.f_code.co_qualname == "ItemWriter.create"
        if posting and "/comments" in str(frame.f_locals.get("url", "")):
            on_path.add(name)
            done = True
            # The callers still running hold the ladder's data they handed down.
            caller = frame.f_back
            while caller is not None:
                if ours(caller) and any(ladder.holds(v) for v in caller.f_locals.values()):
                    on_path.add(name_of(caller))
                caller = caller.f_back
            return
        if name in on_path:
            return
        values = list(frame.f_locals.values())
        if event == "return":
            values.append(arg)
        if any(ladder.holds(v) for v in values):
            on_path.add(name)

    sys.setprofile(profile)
    try:
        policy = load_model_file(Policy, path)
        tracker = policy.trackers.github[0]
        connector = GitHubConnector(
            tracker, policy, MemoryCursorStore(), lambda: NOW, token=SecretStr(TOKEN)
        )
        applier = Applier(
            {"github": connector},
            MemoryLedger(),
            lambda: NOW,
            cycle_id="c",
            policy_version=policy.version,
        )
        run_cycle(trackers=[connector], policy=policy, now=NOW, executor=applier, cycle_id="c")
    finally:
        sys.setprofile(None)
    if not done:
        raise SystemExit("the cycle posted no escalation comment: nothing was followed")
    return on_path, called


if __name__ == "__main__":
    main()
