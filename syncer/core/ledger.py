"""The decision ledger: every write and every closure decision, with why.

Append-only. Each entry names the rule, the policy version and the inputs that justified it,
so a reliability lead can ask "why was REL-42 reopened?" months later. The report reads it for
closure decisions and escalations of the week. The state store persists it; ``MemoryLedger``
serves tests and one-shot runs.

Both pass every entry through :func:`redacted` before keeping it: ``detail`` quotes the
tracker's error text, which may echo the credentials it was sent, and the ledger is kept for
months and read into the weekly review.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from syncer.core.redaction import redact_object


@dataclass(frozen=True)
class LedgerEntry:
    """One decision or write.

    ``kind`` is what happened: ``comment``, ``add_labels``, ``remove_labels``, ``reopen``,
    ``upsert_report``, ``upsert_log_entry`` for writes; ``closure_accepted``,
    ``closure_rejected``, ``closure_flagged`` (kept closed, its evidence unverifiable),
    ``escalated``, ``de_escalated``, ``waiver_granted``, ``waiver_lapsed`` for decisions.
    ``outcome`` is ``done``, ``skipped`` (already there), ``failed``, ``deferred`` (budget) or
    ``planned`` (dry-run/shadow).
    """

    at: datetime
    cycle_id: str
    tracker: str
    item_key: str
    kind: str
    rule: str
    policy_version: str
    outcome: str
    inputs: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    dedupe_key: str | None = None
    """Decisions that must be recorded once (a closure accepted) carry a key; a store
    ignores an entry whose key it already holds."""


def redacted(entry: LedgerEntry) -> LedgerEntry:
    """``entry`` with every registered secret removed from its text fields and inputs."""
    return redact_object(entry)


class Ledger(Protocol):
    def record(self, entries: Sequence[LedgerEntry]) -> None: ...

    def entries_between(self, start: datetime, end: datetime) -> Iterable[LedgerEntry]: ...


class MemoryLedger:
    """A list of entries; for tests and runs without a state store."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        keys = {e.dedupe_key for e in self.entries if e.dedupe_key}
        for entry in map(redacted, entries):
            if entry.dedupe_key and entry.dedupe_key in keys:
                continue
            if entry.dedupe_key:
                keys.add(entry.dedupe_key)
            self.entries.append(entry)

    def entries_between(self, start: datetime, end: datetime) -> Iterable[LedgerEntry]:
        return [e for e in self.entries if start <= e.at < end]
