"""Turn a policy into running parts: connectors, the state store and an executor.

An entry point like ``cli`` and ``daemon``: it is the one place that imports the connectors
(lazily), reads the system clock and chooses between writing (``Applier``) and printing the
plan (``DryRun``, also used in shadow mode). Everything it builds is handed to the pure core.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from rich.console import Console

from syncer.core.actions import ItemChange
from syncer.core.apply import Executor, choose_executor, describe_fallbacks
from syncer.core.clock import system_clock
from syncer.core.cursors import CursorStore
from syncer.core.cycle import CycleOutcome, collect, run_cycle
from syncer.core.directory import LookupCache, MemoryLookupCache, with_account_status
from syncer.core.document import Document, DocumentRenderer
from syncer.core.errors import ConfigError, RateLimited, TrackerError
from syncer.core.evidence import verify_evidence
from syncer.core.idle import CycleMemory
from syncer.core.ledger import Ledger
from syncer.core.logging_setup import bind_cycle
from syncer.core.model import ActionItem, ItemRef
from syncer.core.plan import Observed
from syncer.core.plan_view import print_plan, unnamed_mentions
from syncer.core.policy import Policy
from syncer.core.tracker import EvidenceVerifier, NamesPeople, Tracker
from syncer.service.settings import load_settings
from syncer.service.webhooks import WebhookSource, read_webhook_secret
from syncer.state import StateStore

Clock = Callable[[], datetime]
log = structlog.get_logger(__name__)


def document_renderer(policy: Policy, tracker_name: str) -> DocumentRenderer:
    """The connector's renderer for documents written to the tracker named ``tracker_name``
    (GitHub Markdown when no tracker has that name)."""
    for jira in policy.trackers.jira:
        if jira.name == tracker_name and not any(
            g.name == tracker_name for g in policy.trackers.github
        ):
            from connectors.jira.renderer_document import JiraDocuments

            return JiraDocuments(jira.rest_api_version)
    from connectors.github.renderer import GitHubDocuments

    return GitHubDocuments()


def issue_markdown(document: Document) -> str:
    """``document`` as the GitHub Markdown of postmortem filing bodies."""
    from connectors.github.renderer import render_document

    return render_document(document)


def build_trackers(
    policy: Policy,
    cursors: CursorStore,
    clock: Clock = system_clock,
    sleep: Callable[[float], None] = time.sleep,
    *,
    fence: Callable[[], bool] | None = None,
) -> list[Tracker]:
    """One connector per tracker instance in the policy.

    ``sleep`` paces and backs off; ``fence`` is asked right before each write request leaves
    (the daemon's lease; None for a process that writes alone); a ``cursors`` that is also
    ``WriteWindows`` (the state store) holds the rate-limit windows every process shares.
    """
    trackers: list[Tracker] = []
    windows = cursors if isinstance(cursors, StateStore) else None
    allowed = fence or _always
    if policy.trackers.github:
        from connectors.github import GitHubConnector

        trackers.extend(
            GitHubConnector(
                cfg,
                policy,
                cursors,
                clock,
                sleep=sleep,
                report_repository=policy.report.repository,
                fence=allowed,
                windows=windows,
            )
            for cfg in policy.trackers.github
        )
    if policy.trackers.jira:
        from connectors.jira.client import JiraConnector

        trackers.extend(
            JiraConnector(cfg, policy, cursors, clock, sleep=sleep, fence=allowed)
            for cfg in policy.trackers.jira
        )
    names = [t.name for t in trackers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError([f"trackers: instance names must be unique; repeated: {duplicates}"])
    return trackers


def _always() -> bool:
    return True


def webhook_sources(policy: Policy) -> dict[str, WebhookSource]:
    """The receiver's paths (``daemon.webhooks``) and what reads each, with the secrets.

    A tracker without a secret is named in a warning: its deliveries are refused (401) and
    only polling keeps it current.
    """
    settings = policy.daemon.webhooks
    sources: dict[str, WebhookSource] = {}
    secrets: dict[str, str] = {}
    for kind, configs in (("github", policy.trackers.github), ("jira", policy.trackers.jira)):
        for cfg in configs:
            where = f"trackers.{kind}[{cfg.name}]"
            secret = read_webhook_secret(cfg.webhook_secret_env, cfg.webhook_secret_file, where)
            if secret is None:
                log.warning(
                    "no webhook secret: this tracker's deliveries are refused",
                    tracker=cfg.name,
                    hint=f"set {cfg.webhook_secret_env} or {where}.webhook_secret_file",
                )
            else:
                secrets[cfg.name] = secret
    if policy.trackers.github:
        from connectors.github.webhooks import GitHubWebhooks

        sources[settings.github_path] = GitHubWebhooks(policy.trackers.github, secrets)
    if policy.trackers.jira:
        from connectors.jira.webhooks import JiraWebhooks

        sources[settings.jira_path] = JiraWebhooks(policy.trackers.jira, secrets)
    return sources


def open_state(state_url: str | None) -> StateStore:
    return StateStore.open(load_settings().resolved_state_url(state_url))


def observed_from(
    store: StateStore, trackers: Sequence[Tracker], memory: CycleMemory | None = None
) -> Observed:
    """The marker cache, read back from the state store; with ``memory``, read again only
    when the store's count changed (markers are only ever added)."""
    counts = tuple(store.count_markers(t.name) for t in trackers) if memory else ()
    if memory is not None and memory.markers is not None and memory.markers[0] == counts:
        return Observed(set(memory.markers[1]))
    observed = Observed()
    for tracker in trackers:
        for key, marker in store.known_markers(tracker.name):
            observed.remember(ItemRef(tracker=tracker.name, key=key), marker)
    if memory is not None:
        memory.markers = (counts, frozenset(observed.posted_markers))
    return observed


def save_markers(store: StateStore, fresh: Iterable[tuple[ItemRef, str]]) -> None:
    """Add newly posted (or found) markers to the state store's cache."""
    by_tracker: dict[str, list[tuple[str, str]]] = {}
    for ref, marker in fresh:
        by_tracker.setdefault(ref.tracker, []).append((ref.key, marker))
    for tracker, pairs in by_tracker.items():
        store.remember_markers(tracker, pairs)


def verifiers_of(trackers: Iterable[object]) -> list[EvidenceVerifier]:
    """The trackers that can also verify evidence links (the GitHub connectors)."""
    return [t for t in trackers if isinstance(t, EvidenceVerifier)]


def fetch_all(
    trackers: Sequence[Tracker],
    *,
    full: bool,
    err: Console,
    owners_as_of: tuple[Policy, datetime, LookupCache | None] | None = None,
    evidence_as_of: tuple[Policy, datetime] | None = None,
    verifiers: Sequence[EvidenceVerifier] | None = None,
    failed: dict[str, str] | None = None,
    rate_limited: set[str] | None = None,
) -> list[ActionItem]:
    """Items from every tracker, for commands that only read (``plan``, ``report``).

    With ``owners_as_of`` (policy, now, cache), owners' accounts are checked as a cycle
    checks them, so the command judges owners as ``run`` would; with ``evidence_as_of``
    (policy, now), the evidence of judged closures is looked up as a cycle looks it up
    (through ``verifiers``, by default the trackers that can). Trackers that could not be
    read are printed and added to ``failed`` (name -> error), those stopped by a rate limit
    also to ``rate_limited``: the caller's exit code says so.
    """
    limits: dict[str, RateLimited] = {}
    items, skipped, errors = collect(trackers, full=full, rate_limits=limits)
    if rate_limited is not None:
        rate_limited.update(limits)
    if owners_as_of is not None:
        policy, now, cache = owners_as_of
        items = with_account_status(items, trackers, policy, now, cache or MemoryLookupCache())
    if evidence_as_of is not None:
        policy, now = evidence_as_of
        found = verifiers_of(trackers) if verifiers is None else verifiers
        items = verify_evidence(items, policy, now, found, resting=frozenset(limits)).items
    for problem in skipped:
        err.print(f"{problem.key}: skipped: {problem.problem}", markup=False)
    for name, error in errors.items():
        err.print(f"{name}: could not be read: {error}", markup=False)
    if failed is not None:
        failed.update(errors)
    return items


def lookup_names(
    trackers: Sequence[Tracker], wanted: Mapping[str, set[str]]
) -> dict[tuple[str, str], str]:
    """Display names of ``wanted`` handles (tracker name -> handles) from the trackers that can
    look them up (``NamesPeople``: Jira); a failed lookup leaves the handles as they are."""
    found: dict[tuple[str, str], str] = {}
    for tracker in trackers:
        handles = wanted.get(tracker.name)
        if not handles or not isinstance(tracker, NamesPeople):
            continue
        try:
            names = tracker.display_names(handles)
        except TrackerError as exc:
            log.warning("display names not looked up", tracker=tracker.name, error=str(exc))
            continue
        found.update({(tracker.name, h): n for h, n in names.items()})
    return found


@dataclass
class Runtime:
    """What a cycle needs, opened once per process (or once per ``run --once``).

    ``verifiers`` look up evidence links for the items of every tracker; by default the
    trackers that can (the GitHub connectors). A runtime for one tracker's cycle passes the
    whole list, so a Jira item's pull request is checked through GitHub.
    """

    policy: Policy
    store: StateStore
    trackers: list[Tracker]
    clock: Clock
    verifiers: list[EvidenceVerifier] = field(default_factory=list)
    memory: CycleMemory | None = None
    """Kept across a daemon's cycles of one tracker (``syncer.core.idle``); None: all anew."""

    def __post_init__(self) -> None:
        if not self.verifiers:
            self.verifiers = verifiers_of(self.trackers)

    def executor(
        self, *, dry_run: bool, cycle_id: str, fence: Callable[[], bool] = lambda: True
    ) -> tuple[Executor, Ledger | None]:
        return choose_executor(
            dry_run=dry_run,
            shadow=self.policy.operations.shadow,
            trackers={t.name: t for t in self.trackers},
            ledger=self.store,
            clock=self.clock,
            cycle_id=cycle_id,
            policy_version=self.policy.version,
            fence=fence,
        )

    def cycle(
        self,
        *,
        cycle_id: str,
        dry_run: bool,
        full: bool = False,
        fence: Callable[[], bool] = lambda: True,
        now: datetime | None = None,
        extra_changes: Sequence[ItemChange] = (),
        only: Mapping[str, Collection[str]] | None = None,
    ) -> CycleOutcome:
        """One cycle; with ``only`` (tracker -> keys) just those items (a webhook cycle)."""
        observed = observed_from(self.store, self.trackers, self.memory)
        known = set(observed.posted_markers)
        executor, ledger = self.executor(dry_run=dry_run, cycle_id=cycle_id, fence=fence)
        with bind_cycle(cycle_id):
            outcome = run_cycle(
                trackers=self.trackers,
                policy=self.policy,
                now=now or self.clock(),
                executor=executor,
                cycle_id=cycle_id,
                ledger=ledger,
                observed=observed,
                full=full,
                extra_changes=extra_changes,
                lookups=self.store,
                verifiers=self.verifiers,
                only=only,
                memory=self.memory,
            )
        save_markers(self.store, observed.posted_markers - known)
        return outcome


@contextmanager
def runtime(
    policy: Policy, state_url: str | None, clock: Clock = system_clock
) -> Iterator[Runtime]:
    store = open_state(state_url)
    try:
        yield Runtime(policy, store, build_trackers(policy, store, clock), clock)
    finally:
        store.close()


def run_once(
    policy: Policy,
    *,
    now: datetime,
    state_url: str | None,
    dry_run: bool,
    cycle_id: str,
    console: Console,
    clock: Clock = system_clock,
    full: bool = False,
) -> CycleOutcome:
    """One cycle through the configured trackers, printing what it planned and did.

    Incremental on the state store's cursors and view cache, like a daemon cycle: an idle run
    costs one conditional request per GitHub repository (all 304) and one Jira search. A
    source is read in full when ``full`` says so, when the store holds no view of it, or when
    its last full read recorded there is ``full_resync_every`` old.
    """
    from syncer.service.progress import with_progress

    with runtime(policy, state_url, clock) as rt:
        with with_progress(rt, console) as shown:
            outcome = shown.cycle(cycle_id=cycle_id, dry_run=dry_run, full=full, now=now)
        names = lookup_names(rt.trackers, unnamed_mentions(outcome.plan))
    print_plan(outcome.plan, outcome.assessments, console, names)
    result = outcome.result
    planned_only = result.count("planned")
    labels = sum(1 for d in result.done if d.outcome == "done" and d.action.kind == "create_labels")
    created = f" ({labels} creating repository labels)" if labels else ""
    done = f"{result.writes} writes done{created}, {result.count('skipped')} already there"
    console.print(
        f"{'nothing written (dry run or shadow mode)' if planned_only else done}; "
        f"{len(result.failed)} failed; "
        f"{sum(d.cost for d in result.backlog)} writes wait for the next cycle"
    )
    for name, error in outcome.fetch_errors.items():
        console.print(f"{name}: could not be read: {error}", markup=False, style="red")
    for failed in result.failed:
        console.print(
            f"failed: {failed.change.key} {failed.action.kind}: {failed.error}", markup=False
        )
    for line in describe_fallbacks(result.fallbacks):
        console.print(line, markup=False)
    for name, reset_at in result.rate_limited.items():
        until = f" until {reset_at.isoformat()}" if reset_at else ""
        console.print(
            f"{name}: rate limited{until}; the rest waits for the next cycle", markup=False
        )
    return outcome
