"""Whether an item's evidence meets the policy: the ``EvidenceJudge`` and its outcome in words.

The closure rule, the weekly review and ``links_to_verify`` ask the same questions of an
item's links (which count, which still need a look-up, is the rule met?), so one judge per
policy answers them all, built once and shared (:func:`judge_for`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlsplit

from syncer.core.assessment import Finding
from syncer.core.evidence_links import SHA
from syncer.core.model import ActionItem, Evidence, EvidenceKind, Verification
from syncer.core.policy_closure import EvidenceRule
from syncer.core.tracker import NO_SUCH_PULL_REQUEST

_JUDGES: dict[int, tuple[EvidenceRule, EvidenceJudge]] = {}


class EvidenceOutcome(StrEnum):
    MET = "met"
    """Enough links count (checked where the policy asks for it)."""
    UNVERIFIABLE = "unverifiable"
    """Enough only if links nobody could check are good: the policy's ``unverifiable`` says."""
    PENDING = "pending"
    """Enough only if links whose check failed this cycle are good: judged next cycle."""
    NOT_MET = "not_met"
    """Not enough, whatever the unchecked links say."""


class EvidenceJudgement(NamedTuple):
    outcome: EvidenceOutcome
    reasons: tuple[Finding, ...]
    """Each a clause that reads after "closure criteria not met: "."""


_MET = EvidenceJudgement(EvidenceOutcome.MET, ())
_GITHUB_PULL = re.compile(r"^/([^/]+)/([^/]+)/pull/(\d+)")
_GITHUB_COMMIT = re.compile(rf"^/([^/]+)/([^/]+)/(?:pull/\d+/commits|commit)/({SHA})", re.I)
_GITLAB_MR = re.compile(r"^/(.+?)/-/merge_requests/(\d+)")
_GITLAB_COMMIT = re.compile(rf"^/(.+?)/-/commits?/({SHA})", re.I)


def link_name(evidence: Evidence) -> tuple[str, str]:
    """(what it is, a short name) for messages: ("pull request", "acme/api#12")."""
    url = evidence.url or ""
    try:
        path = urlsplit(url).path
    except ValueError:
        path = ""
    if evidence.kind is EvidenceKind.PULL_REQUEST:
        if m := _GITHUB_PULL.match(path):
            return "pull request", f"{m.group(1)}/{m.group(2)}#{m.group(3)}"
        if m := _GITLAB_MR.match(path):
            return "merge request", f"{m.group(1)}!{m.group(2)}"
        return "pull request", url
    if evidence.kind is EvidenceKind.COMMIT:
        if m := _GITHUB_COMMIT.match(path) or _GITLAB_COMMIT.match(path):
            *repo, sha = m.groups()
            return "commit", f"{'/'.join(repo)}@{sha[:7]}"
        return "commit", url
    return evidence.kind.value.replace("_", " "), url


_A_LINK_OF = {
    EvidenceKind.PULL_REQUEST: "a pull request",
    EvidenceKind.COMMIT: "a commit",
    EvidenceKind.DASHBOARD: "a dashboard",
    EvidenceKind.RUNBOOK: "a runbook",
    EvidenceKind.TEST_RUN: "a test run",
    EvidenceKind.DOCUMENT: "a document",
    EvidenceKind.OTHER: "an unrecognised page",
}


def _listing(kinds: Sequence[EvidenceKind]) -> str:
    """ "a runbook", "a runbook and a document"."""
    items = [_A_LINK_OF[k] for k in dict.fromkeys(kinds)]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class EvidenceJudge:
    """The evidence rule of one policy, ready to judge items (built once per evaluation)."""

    def __init__(self, rule: EvidenceRule) -> None:
        self.rule = rule
        self.required_for = frozenset(rule.required_for)
        self.measurable = frozenset(rule.measurable_kinds)
        checked = set()
        if rule.pull_requests_must_be_merged:
            checked.add(EvidenceKind.PULL_REQUEST)
        if rule.commits_must_exist:
            checked.add(EvidenceKind.COMMIT)
        self.checked = frozenset(checked) & self.measurable
        self.min_links = rule.min_links
        self.kinds_text = ", ".join(k.value.replace("_", " ") for k in rule.measurable_kinds)

    def applies(self, item: ActionItem) -> bool:
        """Whether the item's priority needs evidence at all."""
        return item.priority in self.required_for

    def counts(self, evidence: Evidence) -> bool:
        """Whether one link counts as measurable evidence as things stand."""
        kind = evidence.kind
        if kind not in self.measurable:
            return False
        return kind not in self.checked or evidence.verification is Verification.CONFIRMED

    def good(self, item: ActionItem) -> int:
        """How many of the item's links count as measurable evidence."""
        return sum(1 for e in item.evidence if self.counts(e))

    def met(self, item: ActionItem) -> bool:
        """The fast question: does the evidence rule hold outright? (Asked of every closure
        inside the judging window each cycle, so ``counts`` is inlined.)"""
        if item.priority not in self.required_for:
            return True
        measurable, checked = self.measurable, self.checked
        good = 0
        for e in item.evidence:
            kind = e.kind
            if kind in measurable and (
                kind not in checked or e.verification is Verification.CONFIRMED
            ):
                good += 1
        return good >= self.min_links

    def needs_lookup(self, item: ActionItem) -> list[Evidence]:
        """Links of ``item`` whose look-up could change its judgement (none when it is met
        without them). Connectors map links unchecked; a verdict the item already carries
        (an items file, a view built this cycle) is kept, except a failed look-up."""
        if item.priority not in self.required_for:
            return []
        if sum(1 for e in item.evidence if self.counts(e)) >= self.min_links:
            return []
        return [
            e
            for e in item.evidence
            if e.url and e.kind in self.checked and e.verification in _TO_LOOK_UP
        ]

    def judge(self, item: ActionItem) -> EvidenceJudgement:
        """The outcome for ``item`` and, unless it is met, the reasons in words."""
        if item.priority not in self.required_for:
            return _MET
        good = 0
        refuted: list[Evidence] = []
        failed: list[Evidence] = []
        unknown: list[Evidence] = []
        elsewhere: list[EvidenceKind] = []
        for e in item.evidence:
            if e.kind not in self.measurable:
                if e.url:
                    elsewhere.append(e.kind)
                continue
            if e.kind not in self.checked or e.verification is Verification.CONFIRMED:
                good += 1
            elif e.verification is Verification.REFUTED:
                refuted.append(e)
            elif e.verification is Verification.FAILED:
                failed.append(e)
            else:
                unknown.append(e)
        need = self.min_links
        if good >= need:
            return _MET
        if failed and good + len(failed) + len(unknown) >= need:
            reasons = [self._failed(e) for e in failed] + [self._unknown(e) for e in unknown]
            return EvidenceJudgement(EvidenceOutcome.PENDING, tuple(reasons))
        if good + len(unknown) >= need:
            return EvidenceJudgement(
                EvidenceOutcome.UNVERIFIABLE, tuple(self._unknown(e) for e in unknown)
            )
        reasons = [self._refuted(e) for e in refuted]
        if good + len(refuted) + len(failed) + len(unknown) == 0:
            text = f"no link of a measurable kind ({self.kinds_text})"
            if elsewhere:
                text += f"; it links only {_listing(elsewhere)}"
            reasons.append(Finding("evidence.missing", text))
        elif need > 1:
            reasons.append(
                Finding(
                    "evidence.too_few",
                    f"{need} links of a measurable kind ({self.kinds_text}); "
                    f"{good} {'counts' if good == 1 else 'count'}",
                )
            )
        reasons.extend(self._failed(e) for e in failed)
        reasons.extend(self._unknown(e) for e in unknown)
        return EvidenceJudgement(EvidenceOutcome.NOT_MET, tuple(reasons))

    @staticmethod
    def _refuted(e: Evidence) -> Finding:
        noun, name = link_name(e)
        if e.kind is EvidenceKind.COMMIT:
            return Finding("evidence.commit_not_found", f"the linked commit {name} does not exist")
        if e.verification_note == NO_SUCH_PULL_REQUEST:
            return Finding("evidence.not_found", f"the linked {noun} {name} {NO_SUCH_PULL_REQUEST}")
        return Finding("evidence.not_merged", f"the linked {noun} {name} is not merged")

    @staticmethod
    def _unknown(e: Evidence) -> Finding:
        noun, name = link_name(e)
        note = e.verification_note or "it was not looked up"
        return Finding(
            "evidence.unverifiable", f"the linked {noun} {name} cannot be verified ({note})"
        )

    @staticmethod
    def _failed(e: Evidence) -> Finding:
        noun, name = link_name(e)
        note = e.verification_note or "no answer"
        return Finding(
            "evidence.check_failed",
            f"the linked {noun} {name} could not be checked this cycle ({note})",
        )


_TO_LOOK_UP = frozenset({Verification.UNCHECKED, Verification.FAILED})


def judge_for(evidence: EvidenceRule) -> EvidenceJudge:
    """The judge of a policy's evidence rule, built on first use (see ``classifier_for``)."""
    found = _JUDGES.get(id(evidence))
    if found is not None and found[0] is evidence:
        return found[1]
    if len(_JUDGES) >= 16:
        _JUDGES.clear()
    judge = EvidenceJudge(evidence)
    _JUDGES[id(evidence)] = (evidence, judge)
    return judge
