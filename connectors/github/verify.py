"""Evidence look-ups on GitHub: is a linked pull request merged, does a linked commit exist?

Why this module exists: a closure is judged on its evidence, and "a pull request" is evidence
only once merged, wherever the item lives (a Jira item linking a GitHub pull request too). This
is the GitHub connector's side of the core's ``EvidenceVerifier``: it serves links on its own
web host (github.com for https://api.github.com, HOST for https://HOST/api/v3, or the
configured ``web_url``) shaped ``/OWNER/REPO/pull/N`` or ``/OWNER/REPO/commit/SHA``.

Cost: at most one GET per distinct link per cycle (the cycle hands over each link once),
sent with the ETag of the last answer for that URL so an unchanged answer is a 304, which
GitHub does not count against the rate limit. A merged pull request or an existing commit
cannot change back, so it is never asked for again while the process runs. A rate limit stops
the look-ups for the rest of the cycle: those links are ``failed`` and tried next cycle, as are
links whose GET failed (5xx, timeout).

What an answer means: ``GET /repos/{o}/{r}/pulls/{n}`` says ``merged``; ``GET
/repos/{o}/{r}/commits/{ref}`` answers 200 when the commit exists and 422 ("No commit found
for SHA") when the repository has no such commit. A 404 means the repository or pull request
does not exist *or the token cannot read it*; GitHub does not say which. So a 404 on a pull
request asks for its repository (once per repository per cycle): when the token can read the
repository, the pull request does not exist and the link is refuted (a typo must not keep a P0
closed); otherwise the link is unverifiable. A 403 that is no rate limit is unverifiable too,
with the permission to grant in the note.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import structlog

from connectors.github.transport import Transport, header
from syncer.core.errors import PermanentError, RateLimited, TransientError
from syncer.core.model import EvidenceKind, Verification
from syncer.core.tracker import NO_SUCH_PULL_REQUEST, EvidenceLink, Verdict
from syncer.core.tracker_config import GitHubTracker

log = structlog.get_logger(__name__)

_PULL = re.compile(r"^/([^/]+)/([^/]+)/pull/(\d+)(?:[/?#]|$)")
_COMMIT = re.compile(
    r"^/([^/]+)/([^/]+)/(?:commit|pull/\d+/commits)/([0-9a-f]{7,40})(?:[/?#]|$)", re.IGNORECASE
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REMEMBERED = 20_000

Origin = tuple[str, int | None]


def origin(url: str) -> Origin | None:
    """(host, port) of a URL, the default port filled in; None when it has no host."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    if not host:
        return None
    return host.lower(), port if port is not None else _DEFAULT_PORTS.get(parts.scheme.lower())


def web_origins(config: GitHubTracker) -> set[Origin]:
    """Where this GitHub shows pull requests: from ``base_url`` (api.github.com ->
    github.com, api.X -> X for GitHub Enterprise Cloud with data residency, HOST/api/v3 ->
    HOST), plus ``web_url`` when configured."""
    found: set[Origin] = set()
    base = origin(config.base_url)
    if base is not None:
        host, port = base
        found.add((host.removeprefix("api."), port))
    if config.web_url:
        web = origin(config.web_url)
        if web is not None:
            found.add(web)
    return found


@dataclass(frozen=True)
class Target:
    """What one link asks of the API."""

    kind: EvidenceKind
    owner: str
    path: str
    """API path, e.g. /repos/acme/api/pulls/12."""
    name: str
    """For messages, e.g. pull request acme/api#12."""


@dataclass(frozen=True)
class Remembered:
    etag: str | None
    verdict: Verdict


def target_of(url: str) -> Target | None:
    """The API request that verifies ``url``, or None when it is not one pull request or
    commit."""
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    if m := _COMMIT.match(path):
        owner, repo, sha = m.groups()
        return Target(
            EvidenceKind.COMMIT,
            owner.lower(),
            f"/repos/{owner}/{repo}/commits/{sha.lower()}",
            f"commit {owner}/{repo}@{sha[:7]}",
        )
    if m := _PULL.match(path):
        owner, repo, number = m.groups()
        return Target(
            EvidenceKind.PULL_REQUEST,
            owner.lower(),
            f"/repos/{owner}/{repo}/pulls/{number}",
            f"pull request {owner}/{repo}#{number}",
        )
    return None


class EvidenceChecker:
    """Looks evidence links up on one GitHub; remembers answers and their ETags."""

    def __init__(self, http: Transport, config: GitHubTracker) -> None:
        self.http = http
        self.name = config.name
        self.origins = web_origins(config)
        owners = {r.split("/", 1)[0].lower() for r in config.repositories}
        if config.org:
            owners.add(config.org.lower())
        self.owners = frozenset(owners)
        self._known: OrderedDict[str, Remembered] = OrderedDict()

    def serves(self, link: EvidenceLink) -> int:
        """0 for links on another host; 2 when the link's owner is one this configuration
        watches (its token is the likeliest to read it), else 1."""
        if origin(link.url) not in self.origins:
            return 0
        target = target_of(link.url)
        return 2 if target is not None and target.owner in self.owners else 1

    def verify(self, links: Sequence[EvidenceLink]) -> Mapping[str, Verdict]:
        self._readable: dict[str, bool] = {}  # per cycle: can the token read owner/repo?
        verdicts: dict[str, Verdict] = {}
        stopped: str | None = None
        asked = 0
        for link in links:
            if link.url in verdicts:
                continue
            target = target_of(link.url)
            if target is None:
                verdicts[link.url] = Verdict(
                    Verification.UNVERIFIABLE, "not a link to one GitHub pull request or commit"
                )
                continue
            known = self._known.get(target.path)
            if known is not None and known.verdict.verification is Verification.CONFIRMED:
                self._known.move_to_end(target.path)
                verdicts[link.url] = known.verdict  # merged or existing: final
                continue
            if stopped is not None:
                verdicts[link.url] = Verdict(Verification.FAILED, stopped)
                continue
            asked += 1
            try:
                verdicts[link.url] = self._ask(target, known)
            except RateLimited as exc:
                when = f" until {exc.reset_at:%H:%M} UTC" if exc.reset_at else ""
                stopped = f"GitHub rate limit{when}; looked up next cycle"
                verdicts[link.url] = Verdict(Verification.FAILED, stopped)
        log.debug("evidence checked on github", tracker=self.name, links=len(links), asked=asked)
        return verdicts

    def _ask(self, target: Target, known: Remembered | None) -> Verdict:
        what = f"check {target.name}"
        headers = {"If-None-Match": known.etag} if known is not None and known.etag else None
        try:
            answer = self.http.call("GET", target.path, what, headers=headers)
        except TransientError as exc:
            return Verdict(Verification.FAILED, str(exc).removeprefix(f"{what}: "))
        except PermanentError as exc:
            return self._refusal(target, exc.status)
        if answer.status == 304 and known is not None:
            verdict = known.verdict
        elif answer.status != 200:  # e.g. a 301 for a renamed repository: no answer to read
            return Verdict(Verification.UNVERIFIABLE, f"GitHub answers HTTP {answer.status}")
        else:
            data = answer.data if isinstance(answer.data, Mapping) else {}
            # A commit answered 200 exists; a pull request counts once merged.
            exists = target.kind is EvidenceKind.COMMIT or data.get("merged") is True
            verdict = Verdict(Verification.CONFIRMED if exists else Verification.REFUTED)
        self._remember(target.path, header(answer.headers, "etag"), verdict)
        return verdict

    def _refusal(self, target: Target, status: int | None) -> Verdict:
        if target.kind is EvidenceKind.COMMIT and status == 422:
            verdict = Verdict(Verification.REFUTED)  # "No commit found for SHA"
            self._remember(target.path, None, verdict)
            return verdict
        repo = "/".join(target.path.split("/")[2:4])
        noun = target.kind.value.replace("_", " ")
        if status == 404 and target.kind is EvidenceKind.PULL_REQUEST and self._can_read(repo):
            return Verdict(Verification.REFUTED, NO_SUCH_PULL_REQUEST)
        if status == 404:
            note = f"GitHub answers 404: no such {noun}, or the token cannot read {repo}"
        elif status == 403:
            grant = (
                "Pull requests: Read"
                if target.kind is EvidenceKind.PULL_REQUEST
                else ("Contents: Read")
            )
            note = f"GitHub answers 403: the token may not read {repo}; grant it {grant}"
        else:
            note = f"GitHub answers HTTP {status}"
        return Verdict(Verification.UNVERIFIABLE, note)

    def _can_read(self, repo: str) -> bool:
        """Whether the token can read ``repo`` (one GET per repository per cycle)."""
        if repo not in self._readable:
            try:
                answer = self.http.call("GET", f"/repos/{repo}", f"read repository {repo}")
            except (PermanentError, TransientError):
                self._readable[repo] = False
            else:
                self._readable[repo] = answer.status == 200
        return self._readable[repo]

    def _remember(self, path: str, etag: str | None, verdict: Verdict) -> None:
        self._known[path] = Remembered(etag, verdict)
        self._known.move_to_end(path)
        while len(self._known) > MAX_REMEMBERED:
            self._known.popitem(last=False)
