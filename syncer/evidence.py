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

Everything here is pure: no connector import, no clock (``now`` is passed in).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple
from urllib.parse import urlsplit

from syncer.assessment import Finding
from syncer.errors import TrackerError
from syncer.model import ActionItem, Evidence, EvidenceKind, State, Verification
from syncer.policy import Policy
from syncer.policy_closure import EvidenceRule, LinkRule
from syncer.tracker import NO_SUCH_PULL_REQUEST, EvidenceLink, EvidenceVerifier, Verdict

K = EvidenceKind


@dataclass(frozen=True)
class DefaultRule:
    """One of pmsync's built-in link rules, with the tool it is for (shown in the README)."""

    tool: str
    rule: LinkRule


_END = r"(?:[/?#]|$)"
_SHA = r"[0-9a-f]{7,40}"
_REPO = r"^/[^/]+/[^/]+"

# (tool, kind, host pattern, path pattern). Order matters: the first rule that matches
# decides. Code hosts and CI first (their URL shapes are exact), then dashboards by host (a
# Grafana dashboard whose title says "runbook" is still a dashboard), then runbooks and
# documents, then loose hints.
_DEFAULTS: tuple[tuple[str, EvidenceKind, str | None, str | None], ...] = (
    ("GitHub: commit of a pull request", K.COMMIT, None, rf"{_REPO}/pull/\d+/commits/{_SHA}{_END}"),
    ("GitHub: pull request", K.PULL_REQUEST, None, rf"{_REPO}/pull/\d+{_END}"),
    ("GitHub: commit", K.COMMIT, None, rf"{_REPO}/commit/{_SHA}{_END}"),
    ("GitHub Actions: workflow run or job", K.TEST_RUN, None, rf"{_REPO}/actions/runs/\d+"),
    ("GitLab: merge request", K.PULL_REQUEST, None, r"/-/merge_requests/\d+"),
    ("GitLab: commit", K.COMMIT, None, rf"/-/commits?/{_SHA}{_END}"),
    ("GitLab CI: pipeline or job", K.TEST_RUN, None, r"/-/(?:pipelines|jobs)/\d+"),
    ("GitLab: merge request (old URLs)", K.PULL_REQUEST, "gitlab", r"/merge_requests/\d+"),
    ("Bitbucket: pull request", K.PULL_REQUEST, "bitbucket", r"/pull-requests/\d+"),
    ("Bitbucket: commit", K.COMMIT, "bitbucket", rf"/commits/{_SHA}{_END}"),
    ("Bitbucket Pipelines", K.TEST_RUN, "bitbucket", r"/pipelines/results/\d+"),
    ("Gerrit: change", K.PULL_REQUEST, None, r"^/(?:c/.+/)?\+/\d+"),
    ("Phabricator: revision", K.PULL_REQUEST, None, r"^/(?-i:D)\d+$"),
    ("Jenkins: build", K.TEST_RUN, None, rf"/job/[^/]+/(?:job/[^/]+/)*\d+{_END}"),
    ("Jenkins", K.TEST_RUN, r"(?:^|[.-])jenkins(?:[.-]|$)", None),
    ("Buildkite", K.TEST_RUN, r"(?:^|\.)buildkite\.com$", None),
    ("CircleCI", K.TEST_RUN, r"(?:^|\.)circleci\.com$", None),
    ("Travis CI", K.TEST_RUN, r"(?:^|\.)travis-ci\.(?:com|org)$", None),
    ("Azure Pipelines", K.TEST_RUN, None, r"/_build/results"),
    ("TeamCity", K.TEST_RUN, None, r"/viewLog\.html|/buildConfiguration/[^/]+/\d+"),
    ("CI servers named ci.*", K.TEST_RUN, r"^ci\.", None),
    ("Grafana", K.DASHBOARD, "grafana", None),
    ("Datadog", K.DASHBOARD, r"(?:^|\.)(?:datadoghq\.(?:com|eu)|ddog-gov\.com)$", None),
    ("Kibana", K.DASHBOARD, "kibana", None),
    ("Kibana (any host)", K.DASHBOARD, None, r"^/app/(?:kibana|dashboards)"),
    ("New Relic", K.DASHBOARD, r"(?:^|\.)newrelic\.com$", None),
    ("Honeycomb", K.DASHBOARD, r"(?:^|\.)honeycomb\.io$", None),
    ("Splunk Observability (SignalFx)", K.DASHBOARD, r"(?:^|\.)signalfx\.com$", None),
    ("Prometheus: graph", K.DASHBOARD, "prometheus", r"^/graph"),
    (
        "Builds and test runs elsewhere",
        K.TEST_RUN,
        None,
        rf"/builds?/\d+{_END}|test[-_]?runs?{_END}",
    ),
    ("Runbooks and playbooks", K.RUNBOOK, "runbook|playbook", None),
    ("Runbooks and playbooks", K.RUNBOOK, None, "runbook|playbook"),
    ("Confluence Cloud", K.DOCUMENT, r"\.atlassian\.net$", r"^/wiki/"),
    ("Confluence Data Center", K.DOCUMENT, None, r"^/(?:display|spaces)/|/viewpage\.action"),
    ("Google Docs, Sheets, Slides, Drive", K.DOCUMENT, r"^(?:docs|drive)\.google\.com$", None),
    ("Notion", K.DOCUMENT, r"(?:^|\.)notion\.(?:so|site)$", None),
    ("SharePoint, OneDrive", K.DOCUMENT, r"(?:^|\.)sharepoint\.com$", None),
    ("Quip", K.DOCUMENT, r"(?:^|\.)quip\.com$", None),
    ("Dropbox Paper", K.DOCUMENT, r"^paper\.dropbox\.com$", None),
    ("Files in a repository", K.DOCUMENT, None, r"/blob/|\.(?:md|pdf|docx?|rst|adoc)(?:[?#]|$)"),
    ("Dashboards elsewhere", K.DASHBOARD, None, rf"/dashboards?{_END}"),
    ("Wikis and documentation sites", K.DOCUMENT, r"^(?:docs|wiki)\.|wiki", None),
    ("Wikis and documentation sites", K.DOCUMENT, None, r"/wiki/|/docs?/"),
)
DEFAULT_LINK_RULES: tuple[DefaultRule, ...] = tuple(
    DefaultRule(tool, LinkRule(host=host, path=path, kind=kind))
    for tool, kind, host, path in _DEFAULTS
)

_Compiled = tuple[re.Pattern[str] | None, EvidenceKind]
_MAX_HOSTS = 4096


class LinkClassifier:
    """Link rules compiled once: a URL in, its ``EvidenceKind`` out, never an exception.

    Hosts repeat far more than URLs do (github.com, one Grafana), so the rules whose host
    pattern matches are worked out once per host, leaving a few path searches per link.
    """

    def __init__(self, rules: Iterable[LinkRule]) -> None:
        self._rules = tuple(
            (
                re.compile(r.host, re.IGNORECASE) if r.host is not None else None,
                re.compile(r.path, re.IGNORECASE) if r.path is not None else None,
                r.kind,
            )
            for r in rules
        )
        self._by_host: dict[str, tuple[_Compiled, ...]] = {}

    @classmethod
    def for_rule(cls, evidence: EvidenceRule) -> LinkClassifier:
        defaults = [d.rule for d in DEFAULT_LINK_RULES] if evidence.default_links else []
        return cls([*evidence.links, *defaults])

    def _for_netloc(self, netloc: str) -> tuple[_Compiled, ...]:
        """The rules that can apply on ``netloc``'s host, in order (worked out once per
        netloc: parsing the host name out of it costs more than the rules do)."""
        if len(self._by_host) >= _MAX_HOSTS:
            self._by_host.clear()
        try:
            host = urlsplit(f"//{netloc}").hostname or ""
        except ValueError:
            host = ""
        rules = tuple(
            (path, kind)
            for host_re, path, kind in self._rules
            if host_re is None or host_re.search(host)
        )
        self._by_host[netloc] = rules
        return rules

    def kind(self, url: str) -> EvidenceKind:
        """The kind of ``url``; anything unparsable or unmatched is ``OTHER``."""
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            return EvidenceKind.OTHER
        rest = parts.path
        if parts.query:
            rest = f"{rest}?{parts.query}"
        if parts.fragment:
            rest = f"{rest}#{parts.fragment}"
        rules = self._by_host.get(parts.netloc)
        if rules is None:
            rules = self._for_netloc(parts.netloc)
        for path, kind in rules:
            if path is None or path.search(rest):
                return kind
        return EvidenceKind.OTHER


_CLASSIFIERS: dict[int, tuple[EvidenceRule, LinkClassifier]] = {}
_JUDGES: dict[int, tuple[EvidenceRule, EvidenceJudge]] = {}


def classifier_for(evidence: EvidenceRule) -> LinkClassifier:
    """The classifier of a policy's evidence rule, compiled on first use and then shared.

    Keyed by the rule object itself (policies are immutable), so a mapper may ask once per
    item and still compile once per policy; a reloaded policy gets its own.
    """
    found = _CLASSIFIERS.get(id(evidence))
    if found is not None and found[0] is evidence:
        return found[1]
    if len(_CLASSIFIERS) >= 16:
        _CLASSIFIERS.clear()
    classifier = LinkClassifier.for_rule(evidence)
    _CLASSIFIERS[id(evidence)] = (evidence, classifier)
    return classifier


def default_classifier() -> LinkClassifier:
    """The classifier of the default policy (for mappers used without a policy)."""
    return classifier_for(_DEFAULT_RULE)


_DEFAULT_RULE = EvidenceRule()


# ---- judging ---------------------------------------------------------------------------


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
_GITHUB_COMMIT = re.compile(rf"^/([^/]+)/([^/]+)/(?:pull/\d+/commits|commit)/({_SHA})", re.I)
_GITLAB_MR = re.compile(r"^/(.+?)/-/merge_requests/(\d+)")
_GITLAB_COMMIT = re.compile(rf"^/(.+?)/-/commits?/({_SHA})", re.I)


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


# ---- verifying -------------------------------------------------------------------------


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
