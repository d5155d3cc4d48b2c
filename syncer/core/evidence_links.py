"""What an evidence link is: pmsync's default link rules and the classifier compiled from them.

Both connectors' mappers type every link through here (the policy's rules first, then the
defaults), so a link to a Grafana dashboard is a dashboard whichever tracker it was pasted
in. The default rules are data, because the README's table of them is generated from
:data:`DEFAULT_LINK_RULES` (``syncer.cli.config_reference``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from syncer.core.model import EvidenceKind
from syncer.core.policy_closure import EvidenceRule, LinkRule

K = EvidenceKind


@dataclass(frozen=True)
class DefaultRule:
    """One of pmsync's built-in link rules, with the tool it is for (shown in the README)."""

    tool: str
    rule: LinkRule


_END = r"(?:[/?#]|$)"
SHA = r"[0-9a-f]{7,40}"
"""A commit id as it appears in a URL: 7 to 40 hex digits."""
_REPO = r"^/[^/]+/[^/]+"

# (tool, kind, host pattern, path pattern). Order matters: the first rule that matches
# decides. Code hosts and CI first (their URL shapes are exact), then dashboards by host (a
# Grafana dashboard whose title says "runbook" is still a dashboard), then runbooks and
# documents, then loose hints.
_DEFAULTS: tuple[tuple[str, EvidenceKind, str | None, str | None], ...] = (
    (
        "GitHub: commit of a pull request",
        K.COMMIT,
        None,
        rf"{_REPO}/pull/\d+/commits/{SHA}{_END}",
    ),
    ("GitHub: pull request", K.PULL_REQUEST, None, rf"{_REPO}/pull/\d+{_END}"),
    ("GitHub: commit", K.COMMIT, None, rf"{_REPO}/commit/{SHA}{_END}"),
    ("GitHub Actions: workflow run or job", K.TEST_RUN, None, rf"{_REPO}/actions/runs/\d+"),
    ("GitLab: merge request", K.PULL_REQUEST, None, r"/-/merge_requests/\d+"),
    ("GitLab: commit", K.COMMIT, None, rf"/-/commits?/{SHA}{_END}"),
    ("GitLab CI: pipeline or job", K.TEST_RUN, None, r"/-/(?:pipelines|jobs)/\d+"),
    ("GitLab: merge request (old URLs)", K.PULL_REQUEST, "gitlab", r"/merge_requests/\d+"),
    ("Bitbucket: pull request", K.PULL_REQUEST, "bitbucket", r"/pull-requests/\d+"),
    ("Bitbucket: commit", K.COMMIT, "bitbucket", rf"/commits/{SHA}{_END}"),
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
            netloc, rest = link_parts(url.strip())
        except ValueError:
            return EvidenceKind.OTHER
        rules = self._by_host.get(netloc)
        if rules is None:
            rules = self._for_netloc(netloc)
        for path, kind in rules:
            if path is None or path.search(rest):
                return kind
        return EvidenceKind.OTHER


_NEEDS_URLSPLIT = re.compile(r"[?#\[\]\t\r\n]")


def link_parts(url: str) -> tuple[str, str]:
    """(netloc, path with its query and fragment) of ``url``, as ``urlsplit`` reads them.

    Nearly every evidence link is a plain ``https://host/path``: for those, splitting at the
    first ``/`` gives what ``urlsplit`` gives, at a fifth of its cost. Anything ``urlsplit``
    treats specially goes through it: another scheme, a query or fragment (it drops an empty
    one), brackets (IPv6 checks), tabs and newlines (it removes them), a non-ASCII host (NFKC
    checks); it raises ``ValueError`` where ``urlsplit`` does (``tests/core/test_link_parts.py``).
    Mapping 10,000 issues went from 0.339 s to 0.294 s CPU on GitHub and from 0.333 s to
    0.288 s on Jira (``tests/bench/bench_mapper.py``, ``bench_jira_mapper.py``, best of 10,
    this change alone).
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("https", "http") and not _NEEDS_URLSPLIT.search(rest):
        netloc, slash, path = rest.partition("/")
        if netloc.isascii():
            return netloc, slash + path
    parts = urlsplit(url)
    path = parts.path
    if parts.query:
        path = f"{path}?{parts.query}"
    if parts.fragment:
        path = f"{path}#{parts.fragment}"
    return parts.netloc, path


_CLASSIFIERS: dict[int, tuple[EvidenceRule, LinkClassifier]] = {}


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
