"""The closure criteria: the owner rule, the evidence rule, and the verdict on a closure.

They are one section of the policy (``closure``) and one question: can this item be held
to account, and has it shown that it is done? The owner rule is asked of open items too (an
open item without an accountable owner gets the needs-owner label and one comment); the
judgement is asked of items closed inside the judging window. Each is a pure function of
the item and the ``Rules`` it is evaluated with (see ``syncer.core.evaluate``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from syncer.core.assessment import NOTHING, DesiredComment, Finding, Status, Verdict, combine
from syncer.core.evidence_judge import EvidenceJudgement, EvidenceOutcome
from syncer.core.model import ActionItem, Person
from syncer.core.policy_closure import OwnerRule, Unverifiable, ViolationAction

if TYPE_CHECKING:
    from syncer.core.evaluate import Rules


# ----- owners -------------------------------------------------------------------------------


def _names(people: Iterable[Person]) -> str:
    """People as a reader knows them (a Jira account id means nothing to anyone)."""
    return ", ".join(p.display_name or p.handle for p in people)


def counts_as_owner(owner: Person, count_unassigned: bool) -> bool:
    """An owner is accountable unless their account is inactive; one the tracker only
    names (not assigned) counts when the policy says so."""
    return owner.active is not False and (owner.assigned or count_unassigned)


def owner_problem(
    owners: tuple[Person, ...], rule: OwnerRule, count_unassigned: bool
) -> Finding | None:
    """How the owners break the owner rule, in words; None when they keep it."""
    if rule is OwnerRule.ANY:
        return None
    count = 0
    for owner in owners:
        count += counts_as_owner(owner, count_unassigned)
    need = (
        "exactly one accountable owner" if rule is OwnerRule.EXACTLY_ONE else "an accountable owner"
    )
    if count == 0:
        inactive = [o for o in owners if o.active is False]
        if len(inactive) == 1:
            why = f"the owner's account is inactive: {_names(inactive)}"
            return Finding("owner.inactive", f"{need} ({why})")
        if inactive:
            why = f"the owners' accounts are inactive: {_names(inactive)}"
            return Finding("owner.inactive", f"{need} ({why})")
        named = [o for o in owners if not o.assigned]
        if named:
            why = f"it has none: named as owner but not assigned: {_names(named)}"
            return Finding("owner.missing", f"{need} ({why})")
        return Finding("owner.missing", f"{need} (it has none)")
    if rule is OwnerRule.EXACTLY_ONE and count > 1:
        return Finding("owner.multiple", f"{need} (it has {count})")
    return None


def owner_notes(owners: tuple[Person, ...], count_unassigned: bool) -> tuple[Finding, ...]:
    """Informational: owners who count although the tracker only names them."""
    named = [o for o in owners if not o.assigned and counts_as_owner(o, count_unassigned)]
    if not named:
        return ()
    return (Finding("owner.unassigned", f"named as owner but not assigned: {_names(named)}"),)


def owner_verdict(item: ActionItem, rules: Rules) -> Verdict:
    """An open item that breaks the owner rule: the needs-owner label and one comment to
    the first of ``closure.owner_mention`` who is known."""
    closure = rules.closure
    count_unassigned = closure.count_unassigned_owners
    problem = owner_problem(item.owners, rules.owner_rules[item.priority], count_unassigned)
    if problem is None:
        notes = owner_notes(item.owners, count_unassigned)
        return Verdict(findings=notes) if notes else NOTHING
    comment = DesiredComment(
        template=closure.owner_comment,
        marker=f"pmsync:{problem.rule}",
        anchor=closure.needs_owner_label,
        rule=problem.rule,
        targets=tuple(closure.owner_mention),
        fallbacks=rules.fallbacks,
        first_known_only=True,
        extra=(("reason", problem.message),),
    )
    return Verdict(
        findings=(problem,),
        labels=frozenset({closure.needs_owner_label}),
        comments=(comment,),
    )


# ----- closures -----------------------------------------------------------------------------


class ClosureJudgement(NamedTuple):
    """The verdict on a closed item in the judging window, and whether its evidence rule
    was met (None: nobody could tell, or it was not asked)."""

    status: Status
    verdict: Verdict = NOTHING
    evidence_ok: bool | None = None


_ACCEPTED = Finding("closure.accepted", "closure criteria met")


def evidence_judgement(item: ActionItem, rules: Rules) -> EvidenceJudgement:
    """The evidence rule's outcome, with ``unverifiable: reject`` read as not met."""
    judge = rules.evidence
    if judge.met(item):
        return EvidenceJudgement(EvidenceOutcome.MET, ())
    judgement = judge.judge(item)
    unverifiable = judgement.outcome is EvidenceOutcome.UNVERIFIABLE
    if unverifiable and rules.closure.evidence.unverifiable == Unverifiable.REJECT:
        return EvidenceJudgement(EvidenceOutcome.NOT_MET, judgement.reasons)
    return judgement


def judge_closure(item: ActionItem, rules: Rules) -> ClosureJudgement:
    """Accepted, rejected, flagged or pending, or exempt by its resolution.

    A closure is rejected only for what pmsync knows: a broken owner rule, or evidence
    that is missing or refuted (an unmerged pull request). Evidence that nobody can verify
    is what ``closure.evidence.unverifiable`` says (accept, flag or reject); evidence whose
    look-up failed this cycle leaves the closure as it is, to be judged next cycle.
    """
    closure = rules.closure
    if item.resolution in closure.exempt_resolutions:
        return ClosureJudgement(Status.CLOSED_EXEMPT)
    owner = owner_problem(
        item.owners, rules.owner_rules[item.priority], closure.count_unassigned_owners
    )
    evidence = evidence_judgement(item, rules)
    outcome, reasons = evidence.outcome, evidence.reasons
    evidence_ok = {EvidenceOutcome.MET: True, EvidenceOutcome.NOT_MET: False}.get(outcome)
    if outcome is EvidenceOutcome.NOT_MET:
        problems = (owner, *reasons) if owner is not None else reasons
        rejected = rejection(item, rules, problems)
        return ClosureJudgement(
            Status.CLOSED_REJECTED, combine(Verdict(findings=reasons), rejected), evidence_ok
        )
    if owner is not None:
        rejected = rejection(item, rules, (owner,))
        return ClosureJudgement(Status.CLOSED_REJECTED, rejected, evidence_ok)
    reason = "; ".join(r.message for r in reasons)
    if outcome is EvidenceOutcome.PENDING:
        # The closure labels stay as they are: nothing is decided until someone could look.
        pending = Finding("closure.pending", f"closure not judged yet: {reason}")
        kept = item.labels & {closure.violation_label, closure.evidence.unverified_label}
        return ClosureJudgement(
            Status.CLOSED_PENDING, Verdict(findings=(*reasons, pending), labels=kept)
        )
    if outcome is EvidenceOutcome.UNVERIFIABLE:
        if closure.evidence.unverifiable == Unverifiable.FLAG:
            flagged = Finding("closure.flagged", f"closure kept but flagged: {reason}")
            label = frozenset({closure.evidence.unverified_label})
            return ClosureJudgement(
                Status.CLOSED_FLAGGED, Verdict(findings=(*reasons, flagged), labels=label)
            )
        accepted = Finding(
            "closure.accepted", f"closure criteria met; accepted unverified: {reason}"
        )
        return ClosureJudgement(Status.CLOSED_ACCEPTED, Verdict(findings=(*reasons, accepted)))
    return ClosureJudgement(
        Status.CLOSED_ACCEPTED, Verdict(findings=(*reasons, _ACCEPTED)), evidence_ok
    )


def rejection(item: ActionItem, rules: Rules, problems: tuple[Finding, ...]) -> Verdict:
    """A rejected closure: its reasons in words, the violation label and the one comment.

    Reopen: the closed state itself anchors the comment (reopened items are not judged).
    Label: the violation label does. Comment only: the marker alone does.
    """
    closure = rules.closure
    reason = "; ".join(p.message for p in problems)
    assert item.closed_at is not None
    action = closure.on_violation
    comment = DesiredComment(
        template=closure.comment,
        marker=f"pmsync:closure-rejected:{item.closed_at.strftime('%Y%m%dT%H%M%SZ')}",
        anchor=closure.violation_label if action is ViolationAction.LABEL else None,
        rule="closure",
        targets=("owner", "sponsor"),
        fallbacks=rules.fallbacks,
        first_known_only=True,
        extra=(("reason", reason),),
    )
    comment_only = action is ViolationAction.COMMENT
    return Verdict(
        findings=(Finding("closure.rejected", f"closure criteria not met: {reason}"),),
        labels=frozenset() if comment_only else frozenset({closure.violation_label}),
        comments=(comment,),
    )
