"""One evidence model for every tracker: what a link is, whether it was confirmed, and whether
an item's evidence meets the policy.

Why this module exists: the rules ask one question of a closed item, "is there measurable
evidence?", and the answer must not depend on which tracker the item lives in. So links are
typed here, by the policy's link rules followed by pmsync's defaults (``LinkClassifier``,
compiled once per policy), and both connectors' mappers use it. Pull-request and commit links
need more than a type: a GitHub connector must confirm them (merged? exists?). The cycle asks
``verify_evidence`` between collecting and evaluating, which routes each distinct link that a
judgement depends on to the ``EvidenceVerifier`` serving its host and records the verdicts on
the items. A link nobody can look up is *unverifiable*, which the policy decides about
(``closure.evidence.unverifiable``); a look-up that failed this cycle is never held against a
closure. ``EvidenceJudge`` turns all that into an outcome with reasons in words.

This module verifies (``links_to_verify``, ``lookup``, ``verify_evidence``); links are typed in
:mod:`syncer.core.evidence_links` and judged in :mod:`syncer.core.evidence_judge`.

Everything here is pure: no connector import, no clock (``now`` is passed in).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from syncer.core.errors import TrackerError
from syncer.core.evidence_judge import judge_for
from syncer.core.model import ActionItem, State, Verification
from syncer.core.policy import Policy
from syncer.core.tracker import EvidenceLink, EvidenceVerifier, Verdict


def links_to_verify(
    items: Sequence[ActionItem], policy: Policy, now: datetime
) -> tuple[dict[str, EvidenceLink], list[int]]:
    """The distinct links whose look-up a closure judgement depends on, and which items
    (by index) carry them.

    Only closed items inside the judging window (``closure.check_closed_within``), of a
    priority that needs evidence, not exempt by label or resolution, and not already met
    without looking anything up: open items' links are never looked up (that would cost a
    request per open item per cycle for nothing).
    """
    judge = judge_for(policy.closure.evidence)
    wanted: dict[str, EvidenceLink] = {}
    carriers: list[int] = []
    if not judge.checked:
        return wanted, carriers
    since = now - policy.closure.check_closed_within.as_timedelta()
    exempt = frozenset(policy.scope.exempt_labels)
    exempt_resolutions = frozenset(policy.closure.exempt_resolutions)
    for index, item in enumerate(items):
        if (
            item.state is not State.CLOSED
            or item.closed_at is None
            or item.closed_at < since
            or item.resolution in exempt_resolutions
            or not item.labels.isdisjoint(exempt)
        ):
            continue
        needed = judge.needs_lookup(item)
        if not needed:
            continue
        carriers.append(index)
        for e in needed:
            assert e.url is not None
            wanted.setdefault(e.url, EvidenceLink(e.url, e.kind))
    return wanted, carriers


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or url
    except ValueError:
        return url


def lookup(
    links: Iterable[EvidenceLink],
    verifiers: Sequence[EvidenceVerifier],
    resting: Collection[str] = (),
) -> dict[str, Verdict]:
    """A verdict for every link: from the verifier that serves it best, else unverifiable.

    A verifier named in ``resting`` (it hit a rate limit this cycle) is not asked: its links
    fail for this cycle and are looked up next time.
    """
    verdicts: dict[str, Verdict] = {}
    assigned: dict[int, list[EvidenceLink]] = {}
    for link in links:
        best, score = -1, 0
        for index, verifier in enumerate(verifiers):
            fit = verifier.serves(link)
            if fit > score:
                best, score = index, fit
        if best >= 0 and verifiers[best].name in resting:
            verdicts[link.url] = Verdict(
                Verification.FAILED, f"{verifiers[best].name} is rate limited; looked up next cycle"
            )
        elif best < 0:
            verdicts[link.url] = Verdict(
                Verification.UNVERIFIABLE,
                f"no tracker configured for {_host(link.url)} can check it",
            )
        else:
            assigned.setdefault(best, []).append(link)
    for index, batch in assigned.items():
        verifier = verifiers[index]
        try:
            answers = verifier.verify(batch)
        except TrackerError as exc:  # the Protocol says it does not raise; stay safe anyway
            answers = {link.url: Verdict(Verification.FAILED, str(exc)) for link in batch}
        for link in batch:
            verdicts[link.url] = answers.get(link.url) or Verdict(
                Verification.FAILED, f"{verifier.name} gave no answer"
            )
    return verdicts


def with_verdicts(item: ActionItem, verdicts: Mapping[str, Verdict]) -> ActionItem:
    """``item`` with the verdicts recorded on its evidence (the same object when none apply)."""
    if not any(e.url in verdicts for e in item.evidence if e.url):
        return item
    evidence = tuple(
        e.model_copy(
            update={
                "verification": verdicts[e.url].verification,
                "verification_note": verdicts[e.url].note,
            }
        )
        if e.url is not None and e.url in verdicts
        else e
        for e in item.evidence
    )
    return item.model_copy(update={"evidence": evidence})


@dataclass(frozen=True)
class Verified:
    """Items with their evidence looked up, and every verdict by URL (for the log line)."""

    items: list[ActionItem]
    verdicts: Mapping[str, Verdict]

    def counts(self) -> dict[str, int]:
        """Verdicts per verification outcome, e.g. {"confirmed": 3, "failed": 1}."""
        found: dict[str, int] = {}
        for verdict in self.verdicts.values():
            found[verdict.verification.value] = found.get(verdict.verification.value, 0) + 1
        return found


def verify_evidence(
    items: Sequence[ActionItem],
    policy: Policy,
    now: datetime,
    verifiers: Sequence[EvidenceVerifier],
    resting: Collection[str] = (),
) -> Verified:
    """``items`` with their judged closures' pull-request and commit links looked up.

    One look-up per distinct link per call (several items may link one pull request); the
    verifiers keep what lasts longer (ETags, merged pull requests). ``resting`` names
    verifiers not to ask this time (see ``lookup``).
    """
    out = list(items)
    wanted, carriers = links_to_verify(out, policy, now)
    if not wanted:
        return Verified(out, {})
    verdicts = lookup(wanted.values(), verifiers, resting)
    for index in carriers:
        out[index] = with_verdicts(out[index], verdicts)
    return Verified(out, verdicts)
