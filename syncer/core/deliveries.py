"""Webhook deliveries as pmsync keeps them: what changed, where, and whether it was handled.

A delivery says "these items changed" (or "this pull request merged"); the daemon answers with
a cycle for those items only, through the same applier, budget, fence and ledger as a poll.
Deliveries are queued in the state store, keyed by the tracker's own delivery id, so that:

- a replay (GitHub's "Redeliver", a Jira retry, an attacker resending a captured request)
  finds its id and does nothing, also after a restart;
- any replica may receive one, and the leader's loop handles it (a standby only queues);
- a burst is handled as one cycle per tracker for everything queued since the last one.

Nothing here is the truth: a delivery only makes the daemon look sooner. A lost one is found
by the next poll, and what a cycle does is decided by reading the items, never by trusting
the payload. ``MemoryDeliveryQueue`` serves tests.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Target:
    """What a delivery asks to look at: one item of one tracker, or every item (of any
    tracker) whose evidence links to ``evidence_url`` (a pull request that merged)."""

    tracker: str | None = None
    key: str | None = None
    evidence_url: str | None = None

    def to_json(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Target:
        def text(name: str) -> str | None:
            found = value.get(name)
            return found if isinstance(found, str) else None

        return cls(tracker=text("tracker"), key=text("key"), evidence_url=text("evidence_url"))


@dataclass(frozen=True)
class Delivery:
    """One accepted delivery: its id (namespaced by source), event, targets, arrival time."""

    delivery_id: str
    source: str
    event: str
    targets: tuple[Target, ...]
    received_at: datetime


Outcome = Literal["queued", "duplicate", "ignored", "unauthorized", "too_large", "malformed"]


@dataclass(frozen=True)
class Reading:
    """What a source made of one request: a delivery to queue, or why not."""

    outcome: Outcome
    detail: str = ""
    delivery: Delivery | None = None


def accepted(delivery: Delivery) -> Reading:
    return Reading("queued", delivery.event, delivery)


def ignored(detail: str) -> Reading:
    return Reading("ignored", detail)


def unauthorized(detail: str) -> Reading:
    return Reading("unauthorized", detail)


def malformed(detail: str) -> Reading:
    return Reading("malformed", detail)


def signers(secrets: Mapping[str, str], body: bytes, signature: str | None) -> list[str]:
    """The names whose secret signed ``body`` as ``sha256=<hex HMAC-SHA256>`` (GitHub's
    ``X-Hub-Signature-256``, Jira's ``X-Hub-Signature``), each compared in constant time over
    the raw bytes received, before anything is parsed."""
    if not signature:
        return []
    offered = signature.strip().encode("utf-8", "replace")
    found = []
    for name, secret in secrets.items():
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(offered, f"sha256={digest}".encode()):
            found.append(name)
    return found


def same_link(a: str, b: str) -> bool:
    """Whether two URLs name the same page: scheme and host case-insensitive, no trailing
    slash, query or fragment (``.../pull/12/`` is ``.../pull/12``)."""
    return _link_key(a) == _link_key(b)


def _link_key(url: str) -> tuple[str, str, str] | None:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/").lower()


class DeliveryQueue(Protocol):
    """Where deliveries wait for the leader (the state store; a dict in tests)."""

    def queue_delivery(self, delivery: Delivery) -> bool:
        """Queue ``delivery``; False when its id is already known (a replay)."""
        ...

    def pending_deliveries(self, limit: int) -> list[Delivery]:
        """Up to ``limit`` deliveries not handled yet, oldest first."""
        ...

    def finish_deliveries(self, ids: Collection[str], at: datetime) -> None:
        """Mark these handled (their ids stay known, so a replay still does nothing)."""
        ...

    def forget_deliveries(self, before: datetime) -> int:
        """Drop deliveries received before ``before``; how many."""
        ...


@dataclass
class MemoryDeliveryQueue:
    """Deliveries in a dict, for tests."""

    known: dict[str, Delivery] = field(default_factory=dict)
    done: dict[str, datetime] = field(default_factory=dict)

    def queue_delivery(self, delivery: Delivery) -> bool:
        if delivery.delivery_id in self.known:
            return False
        self.known[delivery.delivery_id] = delivery
        return True

    def pending_deliveries(self, limit: int) -> list[Delivery]:
        waiting = [d for i, d in self.known.items() if i not in self.done]
        return sorted(waiting, key=lambda d: d.received_at)[:limit]

    def finish_deliveries(self, ids: Collection[str], at: datetime) -> None:
        for delivery_id in ids:
            self.done[delivery_id] = at

    def forget_deliveries(self, before: datetime) -> int:
        old = [i for i, d in self.known.items() if d.received_at < before]
        for delivery_id in old:
            self.known.pop(delivery_id)
            self.done.pop(delivery_id, None)
        return len(old)


def keys_by_tracker(
    deliveries: Iterable[Delivery], linking: Mapping[str, Callable[[str], Iterable[str]]]
) -> dict[str, set[str]]:
    """The item keys each tracker must read for ``deliveries``, coalesced.

    ``linking`` maps tracker names to a function ``url -> keys`` of the items in its view
    whose evidence links to ``url`` (``ReadsItems.items_linking``): a merged pull request
    re-judges every item that links to it, whichever tracker holds it.
    """
    wanted: dict[str, set[str]] = {}
    for delivery in deliveries:
        for target in delivery.targets:
            if target.key is not None and target.tracker is not None:
                wanted.setdefault(target.tracker, set()).add(target.key)
            elif target.evidence_url is not None:
                for name, items_linking in linking.items():
                    found = set(items_linking(target.evidence_url))
                    if found:
                        wanted.setdefault(name, set()).update(found)
    return wanted
