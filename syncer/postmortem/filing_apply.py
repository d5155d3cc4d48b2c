"""Filing a postmortem through the one applier: the filing plan's steps as ``Action`` values.

``syncer.postmortem.filing`` plans (pure). Here each ``Create`` becomes a ``FileIssue`` and
each ``Update`` an ``EditFiledIssue``, one ``ItemChange`` per issue, executed by whatever
``choose_executor`` returns, so a filing has what every write has: the budget counted in
requests, the fence asked before each write, each filing in the ledger, and a dry run that is
the ``DryRun`` executor. The postmortem issue goes first, on a plan of its own, because the
action items link to its URL; when it could not be filed the items wait for the rerun, which
finds what was filed by its markers and files nothing twice. Last, when the filer's tracker
can (``LinksFiledIssues``), every action item filed or found becomes a child of the
postmortem issue, planned like ``postmortem link`` (``syncer.postmortem.linking``: one read
of the postmortem's children, only the missing links) and executed by the same executor
within what the filing left of the budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time

from syncer.core.actions import Action, EditFiledIssue, FileIssue, ItemChange, Plan
from syncer.core.apply import ApplyResult, Executor, Failed, choose_executor
from syncer.core.ledger import Ledger, MemoryLedger
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from syncer.core.tracker import PricesWrites
from syncer.postmortem.filing import (
    PENDING_POSTMORTEM,
    first_github,
    orphans,
    plan_actions,
    plan_postmortem,
)
from syncer.postmortem.filing_model import (
    Create,
    FiledIssue,
    Filer,
    FilingLabels,
    LinksFiledIssues,
    Step,
    Update,
)
from syncer.postmortem.linking import read_and_plan
from syncer.postmortem.schema import Incident
from syncer.postmortem.slug import POSTMORTEM_SLUG, action_slugs

Clock = Callable[[], datetime]


class FilingTarget:
    """A connector's ``Filer`` as the applier writes to it (``syncer.core.tracker.FilesIssues``).

    Remembers each issue as the tracker answered, so the action items get the postmortem's
    URL without another read. Costs and counts come from the filer when it states them
    (``PricesWrites``: the connectors' filers do), else one request per call.
    """

    def __init__(self, filer: Filer, filed: Mapping[str, FiledIssue]) -> None:
        self.filer = filer
        self.issues: dict[str, FiledIssue] = dict(filed)
        self.calls = 0

    def file_issue(self, action: FileIssue) -> None:
        self.calls += 1
        self.issues[action.slug] = self.filer.create_issue(
            action.title, action.body, list(action.labels), list(action.assignees)
        )

    def edit_filed_issue(self, action: EditFiledIssue) -> None:
        self.calls += 1
        self.issues[action.slug] = self.filer.update_issue(
            action.key,
            title=action.title,
            body=action.body,
            labels=list(action.labels) if action.labels is not None else None,
            assignees=list(action.assignees) if action.assignees is not None else None,
        )

    def write_cost(self, action: Action) -> int:
        return self.filer.write_cost(action) if isinstance(self.filer, PricesWrites) else 1

    @property
    def write_requests(self) -> int:
        return self.filer.write_requests if isinstance(self.filer, PricesWrites) else self.calls


def step_action(step: Step, tracker: str, incident_id: str) -> FileIssue | EditFiledIssue | None:
    """The write a step asks for; None when the issue is already as the record wants it."""
    if isinstance(step, Create):
        spec = step.spec
        return FileIssue(
            tracker=tracker,
            incident=incident_id,
            slug=spec.slug,
            title=spec.title,
            body=spec.body,
            labels=tuple(sorted(spec.labels)),
            assignees=spec.assignees,
        )
    if isinstance(step, Update):
        return EditFiledIssue(
            tracker=tracker,
            incident=incident_id,
            slug=step.slug,
            key=step.key,
            title=step.title,
            body=step.body,
            labels=tuple(sorted(step.labels)) if step.labels is not None else None,
            assignees=step.assignees,
        )
    return None


def filing_changes(steps: Sequence[Step], tracker: str, incident_id: str) -> tuple[ItemChange, ...]:
    """One change per issue to write, in plan order (the applier keeps it)."""
    changes = []
    for step in steps:
        action = step_action(step, tracker, incident_id)
        if action is not None:
            changes.append(ItemChange(key=f"{incident_id}:{action.slug}", actions=(action,)))
    return tuple(changes)


@dataclass(frozen=True)
class FilingResult:
    """What a filing run planned, step by step, what the executor did with it, and the issues
    as they are afterwards."""

    steps: list[Step]
    issues: dict[str, FiledIssue]
    orphans: list[FiledIssue]
    applied: list[ApplyResult] = field(default_factory=list)
    items_waiting: int = 0
    """Action items not tried because the postmortem issue could not be filed first."""
    postmortem: ItemRef | None = None
    """The postmortem issue as the parent of the action items, when the tracker links them."""
    links_already: tuple[ItemRef, ...] = ()
    """Action items that were already children of the postmortem issue."""
    links_after_filing: tuple[str, ...] = ()
    """Dry run: slugs of the action items to be filed, hence linked, by the real run."""

    def _done(self, kind: str) -> int:
        return sum(
            1 for r in self.applied for d in r.done if d.action.kind == kind and d.outcome == "done"
        )

    @property
    def created(self) -> int:
        return self._done("file_issue")

    @property
    def updated(self) -> int:
        return self._done("edit_filed_issue")

    @property
    def linked(self) -> int:
        return self._done("link_child")

    @property
    def links_planned(self) -> list[ItemRef]:
        """The children a dry run would attach (the items already filed)."""
        return [
            d.action.child
            for r in self.applied
            for d in r.done
            if d.action.kind == "link_child" and d.outcome == "planned"
        ]

    @property
    def planned(self) -> int:
        return sum(r.count("planned") for r in self.applied)

    @property
    def failed(self) -> list[Failed]:
        return [f for r in self.applied for f in r.failed]

    @property
    def waiting(self) -> int:
        """Issues and links left for a rerun by the budget, a rate limit or a lost
        leadership (the action items too when the postmortem issue itself could not be
        filed)."""
        return sum(len(r.backlog) for r in self.applied) + self.items_waiting

    @property
    def rate_limited(self) -> bool:
        return any(r.rate_limited for r in self.applied)

    @property
    def spent(self) -> int:
        """Write requests charged to the budget."""
        return sum(r.spent for r in self.applied)


def _midnight(today: date) -> Clock:
    moment = datetime.combine(today, time(), UTC)
    return lambda: moment


def file_incident(
    filer: Filer,
    incident: Incident,
    policy: Policy,
    today: date,
    labels: FilingLabels | None = None,
    *,
    tracker: str = "filing",
    dry_run: bool = False,
    ledger: Ledger | None = None,
    clock: Clock | None = None,
    fence: Callable[[], bool] = lambda: True,
) -> FilingResult:
    """File or update the postmortem issue, then every action item linking back to it, then
    attach the items to the postmortem issue as its children (when the filer can).

    One read (``find_filed``), then the writes through the executor, within the policy's
    write budget (``operations.max_writes_per_cycle``, in requests); linking reads the
    postmortem's children once more. ``clock`` stamps the ledger (default: ``today`` at
    midnight UTC, so the core reads no clock).
    """
    labels = labels or FilingLabels.for_tracker(first_github(policy))
    filed = filer.find_filed(incident.id)
    target = FilingTarget(filer, filed)
    linker = filer if isinstance(filer, LinksFiledIssues) else None
    executor, _ = choose_executor(
        dry_run=dry_run,
        shadow=False,
        trackers={linker.hierarchy.name: linker.hierarchy} if linker is not None else {},
        filers={tracker: target},
        ledger=ledger if ledger is not None else MemoryLedger(),
        clock=clock or _midnight(today),
        cycle_id=f"file-{uuid.uuid4().hex[:8]}",
        policy_version=policy.version,
        fence=fence,
    )
    budget = policy.operations.max_writes_per_cycle
    pm_step = plan_postmortem(incident, policy, filed, today, labels, filer.render_form)
    first = executor.execute(Plan(filing_changes([pm_step], tracker, incident.id), budget=budget))
    pm = target.issues.get(POSTMORTEM_SLUG)
    if pm is None and not first.count("planned"):
        waiting = len(incident.action_items)
        return FilingResult([pm_step], target.issues, orphans(incident, filed), [first], waiting)
    url = pm.url if pm is not None else PENDING_POSTMORTEM
    steps = plan_actions(
        incident, policy, filed, today, labels, postmortem_url=url, render=filer.render_form
    )
    rest = executor.execute(
        Plan(filing_changes(steps, tracker, incident.id), budget=max(budget - first.spent, 0))
    )
    result = FilingResult([pm_step, *steps], target.issues, orphans(incident, filed), [first, rest])
    if linker is None:
        return result
    return _link_children(linker, executor, result, incident, budget, dry_run=dry_run)


def _link_children(
    linker: LinksFiledIssues,
    executor: Executor,
    result: FilingResult,
    incident: Incident,
    budget: int,
    *,
    dry_run: bool,
) -> FilingResult:
    """Attach each filed action item under the postmortem issue: one read of its children,
    a ``LinkChild`` for each missing one, within the budget the filing left.

    Nothing is read when writes already stopped (a rate limit, a lost leadership): the
    rerun links what this run filed. A dry run lists the links of the items not filed yet.
    """
    if any(r.rate_limited or r.fenced for r in result.applied):
        return result
    slugs = action_slugs(incident)
    pending = tuple(slug for slug in slugs if slug not in result.issues) if dry_run else ()
    pm = result.issues.get(POSTMORTEM_SLUG)
    if pm is None:
        return replace(result, links_after_filing=pending)
    parent = linker.item_ref(pm)
    children = [linker.item_ref(result.issues[slug]) for slug in slugs if slug in result.issues]
    if not children:
        return replace(result, postmortem=parent, links_after_filing=pending)
    plan, already = read_and_plan(linker.hierarchy, parent, children, max(budget - result.spent, 0))
    return replace(
        result,
        applied=[*result.applied, executor.execute(plan)],
        postmortem=parent,
        links_already=already,
        links_after_filing=pending,
    )
