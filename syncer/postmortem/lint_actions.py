"""The action-item rules: a verb, a deliverable, a measurable outcome, a bounded scope, evidence.

They follow what reviewers send back: a title must start with a verb, name a deliverable when
it is open-ended (investigate...), have a measurable outcome when its verb is vague (improve,
reduce, ensure...) and a bounded scope (not "all services", "as needed", "ongoing"); its
evidence must name something one can check (not "a doc", "the team agrees").
"""

from __future__ import annotations

import re

from syncer.postmortem.schema import ActionItemSpec

VERBS = frozenset(
    """
    add adjust adopt alert align allow apply archive assign audit automate backfill block
    build bump cache cap capture change check clean clarify close codify collect configure
    consolidate convert create cut decommission define delete deploy deprecate design detect
    disable document drop emit enable encrypt enforce establish expand expose extend extract
    fail fix flag gate generate grant harden hire hold implement import improve include increase
    index inform instrument integrate introduce isolate kill label launch limit link lock log
    lower make map mark measure merge migrate mirror move notify onboard page partition patch
    pause pin plan prevent prioritise prioritize protect provision prune publish purge put
    quarantine raise rate-limit rebuild record redact reduce refactor reject release remove
    rename replace replay report require reserve reset resize restore restrict retire retry
    return revert revoke rewrite roll rotate route run sample scale schedule scope secure
    separate set shard share ship shorten show simplify snapshot split stage standardise
    standardize start stop store streamline strip switch sync tag teach test throttle tighten
    time-box track train transfer trigger tune turn unify update upgrade upload use validate
    verify version wire write
    """.split()  # noqa: SIM905
) | frozenset(
    # Verbs all the same, but vague: action-unmeasurable asks them for a target.
    """
    address boost enhance ensure handle loosen maximise maximize minimise minimize modernise
    modernize optimise optimize refine rework speed strengthen tackle work
    """.split()  # noqa: SIM905
)
OPEN_ENDED = re.compile(
    r"^\s*(investigate|look\s+into|explore|consider|research|think\s+about|discuss|evaluate|"
    r"assess|analy[sz]e|figure\s+out|understand|revisit|study|dig\s+into|follow\s+up\s+on|"
    r"check\s+(?:on|into|whether|if))\b",
    re.IGNORECASE,
)
DELIVERABLE = re.compile(
    r"\b(decision\s+record|decision|proposal|rfc|design\s+doc(?:ument)?|adr|report|write-?up|"
    r"recommendation|plan|runbook|ticket|issues?)\b",
    re.IGNORECASE,
)
VAGUE_VERB = re.compile(
    r"^\s*(?:to\s+)?(improve|enhance|optimi[sz]e|strengthen|harden|streamline|boost|refine|"
    r"increase|reduce|lower|minimi[sz]e|maximi[sz]e|speed\s+up|tighten|loosen|better|"
    r"ensure|make\s+sure|address|tackle|work\s+on|clean\s+up|rework|modernise|"
    r"modernize)\b",
    re.IGNORECASE,
)
COMPARATIVE = re.compile(
    r"\b(?:more|less)\s+(?:reliable|robust|resilient|stable|scalable|efficient|secure|"
    r"visible|observable|available|careful|aware|thorough|consistent|accurate|predictable)\b"
    r"|\b(?:better|faster|safer|smoother|cleaner)\b"
    r"|\bnever\s+happens?\s+again\b|\bdoes(?:\s+not|n't)\s+happen\s+again\b"
    r"|\bas\s+(?:much|soon|far)\s+as\s+possible\b",
    re.IGNORECASE,
)
MEASURABLE_TARGET = re.compile(
    r"\d|\b(?:zero|none|one|two|three|four|five|six|seven|eight|nine|ten|twice|half|"
    r"no\s+longer|read-only)\b",
    re.IGNORECASE,
)
MECHANISM = re.compile(r"\b(?:by|with|via|using)\s+(?:a|an|the|\w+ing)?\s*\w+", re.IGNORECASE)
UNBOUNDED = re.compile(
    r"\b(?:everything|everywhere|anything|anywhere)\b"
    r"|\b(?:all|every|any)\s+(?:the\s+\w+|services?|systems?|teams?|components?|"
    r"applications?|apps?|repos?|repositories|code|environments?|endpoints?|dependencies|"
    r"things|places|cases|areas|alerts?|dashboards?|runbooks?|clusters?|servers?|hosts?|"
    r"databases?|queues?|jobs?|pipelines?|microservices?|products?|customers?)\b"
    r"(?!\s+(?:in|on|of|behind|under|owned|that|which|with|for|from|using|running|listed|"
    r"named|tagged|called)\b)"
    r"|\bacross\s+(?:the\s+)?(?:board|company|org|organi[sz]ation|fleet|stack|estate|teams)\b"
    r"|\b(?:company|org|organi[sz]ation|engineering)-wide\b"
    r"|\bwher(?:e|ever)\s+(?:possible|needed|applicable|appropriate|relevant)\b"
    r"|\bas\s+(?:needed|appropriate|required|necessary)\b|\bif\s+possible\b"
    r"|\bin\s+general\b|\bgoing\s+forward\b|\bfrom\s+now\s+on\b"
    r"|\bon\s+an\s+ongoing\s+basis\b|\b(?:ongoing|continuous(?:ly)?|regularly|periodically)\b"
    r"|\betc\b\.?|\band\s+so\s+on\b|\band\s+more\b|\b(?:and|or)\s+similar\b"
    r"|\bcontinue\s+to\b|\bkeep\s+(?:on\s+)?\w+ing\b",
    re.IGNORECASE,
)
BARE_ARTEFACT = re.compile(
    r"^(?:a|an|the|some|one|our)?\s*(?:new\s+|updated\s+|written\s+)?"
    r"(?:doc|docs|document|documentation|page|wiki(?:\s+page)?|confluence(?:\s+page)?|"
    r"notion(?:\s+page)?|ticket|jira(?:\s+ticket)?|issue|e-?mail|slack(?:\s+message|\s+thread)?|"
    r"message|meeting|discussion|conversation|notes?|update|link|screenshot|spreadsheet|"
    r"presentation|slides|deck|approval|sign-?off|confirmation|review|plan|proposal|pr|mr|"
    r"pull\s+request|merge\s+request|change|code\s+change|fix|patch|commit|code|tests?)s?"
    r"(?:\s+(?:about|on|regarding|re)\b.*)?\s*\.?\s*$",
    re.IGNORECASE,
)
SAY_SO = re.compile(
    r"\b(?:team|everyone|everybody|manager|lead|we|they|owner)\s+(?:agrees?|agreed|confirms?|"
    r"confirmed|approves?|approved|signs?\s+off|signed\s+off|is\s+happy|are\s+happy|says?|"
    r"said|knows?|feels?)\b"
    r"|\b(?:manager|lead|team|owner)(?:'s)?\s+(?:sign-?off|approval|ok|okay|go-ahead)\b"
    r"|^\s*(?:verbal|oral)\b"
    r"|\b(?:discussed|talked\s+about|mentioned|raised)\s+(?:in|at|with|during)\b"
    r"|\bwill\s+(?:monitor|watch|keep\s+an\s+eye|check|see)\b|\bkeep\s+an\s+eye\s+on\b"
    r"|\b(?:should|seems?\s+to|looks?)\s+(?:be\s+)?(?:fine|ok|okay|good|better|work(?:s|ing)?)\b"
    r"|^\s*(?:tested|verified|checked|confirmed|reviewed|monitored|validated|observed|improved|"
    r"better|resolved|addressed|handled|deployed|shipped|merged|monitoring|observation|testing|"
    r"manual\s+(?:testing|check))\s*\.?\s*$",
    re.IGNORECASE,
)
WEAK_EVIDENCE = re.compile(
    r"^\s*(n/?a|tbd|todo|none|-+|done|completed?|fixed|it\s+works|works|yes|ok)\s*\.?\s*$",
    re.IGNORECASE,
)


def action_hits(item: ActionItemSpec) -> list[tuple[str, str, str, str]]:
    """Quality problems of one action item as (field, rule, message, suggestion)."""
    out: list[tuple[str, str, str, str]] = []
    title = item.title.strip()
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", title)
    first = words[0].lower() if words else ""
    open_ended = OPEN_ENDED.match(title)
    if open_ended:
        rest = title[open_ended.end() :]
        has_deliverable = DELIVERABLE.search(rest) or any(
            w.lower() in VERBS for w in re.findall(r"\b(?:and|then)\s+(\w+)", rest)
        )
        if not has_deliverable:
            verb = open_ended.group(1).lower()
            out.append(
                (
                    "title",
                    "action-open-ended",
                    f"'{verb}' has no deliverable, so it can never be shown done",
                    f"name the output: '{title} and publish a decision record' or the change "
                    "itself, e.g. 'Add ...'",
                )
            )
    elif first not in VERBS:
        out.append(
            (
                "title",
                "action-verb",
                f"title starts with {words[0] if words else title!r}, not a verb",
                "start with what will be done: 'Add', 'Automate', 'Alert on', 'Remove', "
                "'Document'...",
            )
        )
    else:
        out.extend(_unmeasurable(title))
    unbounded = UNBOUNDED.search(title)
    if unbounded:
        phrase = unbounded.group(0)
        out.append(
            (
                "title",
                "action-unbounded",
                f"{phrase!r} has no edge, so the item can never be finished",
                "name what it covers, e.g. 'every service in the payments namespace', 'the "
                "three checkout databases', or a cadence: 'quarterly, first run by 2026-12-01'",
            )
        )
    evidence = item.evidence.strip()
    if evidence and not WEAK_EVIDENCE.match(evidence) and _vague_evidence(evidence):
        out.append(
            (
                "evidence",
                "action-vague-evidence",
                f"evidence {evidence!r} does not say what will show it done",
                "name the artefact and what it shows: 'merged PR adding the replica-lag "
                "alert', 'dashboard panel with p99 < 300 ms for 7 days', 'game-day log with "
                "failover under 5 minutes'",
            )
        )
    if not item.evidence.strip() or WEAK_EVIDENCE.match(item.evidence):
        out.append(
            (
                "evidence",
                "action-no-evidence",
                "no evidence of done"
                if not item.evidence.strip()
                else f"evidence {item.evidence.strip()!r} is not something one can check",
                "say what will prove it: a merged PR, a dashboard, a passing test run, a "
                "published document",
            )
        )
    if item.due is None:
        out.append(
            (
                "due",
                "action-no-deadline",
                "no deadline",
                "write a date (YYYY-MM-DD) within the policy's SLO, or `slo`",
            )
        )
    return out


def _unmeasurable(title: str) -> list[tuple[str, str, str, str]]:
    """A vague verb with no target or mechanism, or a comparative with no number."""
    verb = VAGUE_VERB.match(title)
    rest = title[verb.end() :] if verb else title
    if MEASURABLE_TARGET.search(rest):
        return []
    comparative = COMPARATIVE.search(title)
    if verb and (comparative or not MECHANISM.search(rest)):
        what = verb.group(1).lower()
    elif comparative:
        what = comparative.group(0).lower()
    else:
        return []
    return [
        (
            "title",
            "action-unmeasurable",
            f"'{what}' with no measurable outcome, so nobody can say when it is done",
            "say by how much or to what, e.g. 'Reduce p99 checkout latency below 300 ms', or "
            "name the change itself: 'Add an alert on ...', 'Remove ...'",
        )
    ]


def _vague_evidence(evidence: str) -> bool:
    """Evidence that names no checkable artefact or result: a bare 'a doc', or say-so."""
    return bool(BARE_ARTEFACT.match(evidence) or SAY_SO.search(evidence))
