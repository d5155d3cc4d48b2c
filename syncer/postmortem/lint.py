"""Blameless and quality lint for incident records.

A postmortem that names a person as the cause teaches people to hide mistakes; an action item
without a verb, a deliverable, evidence or a deadline is how action items rot. These rules are
small regular-expression predicates over sentences, each with its own id and a suggested
rewording, tested on a corpus of good and bad sentences. ``lint`` reports findings; ``lint
--strict`` exits 1 on any, and ``file`` refuses to file while any remain (unless ``--force``).
Any one can be silenced in the record itself.

The action rules follow what reviewers send back: a title must start with a verb, name a
deliverable when it is open-ended (investigate...), have a measurable outcome when its verb is
vague (improve, reduce, ensure...) and a bounded scope (not "all services", "as needed",
"ongoing"); its evidence must name something one can check (not "a doc", "the team agrees").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from syncer.postmortem.record import Record
from syncer.postmortem.schema import ActionItemSpec, Incident
from syncer.postmortem.source import Loc, Source, dotted

IGNORE_RE = re.compile(r"#\s*pmsync:\s*ignore\[([a-z0-9, -]+)\]")

RULES: dict[str, str] = {
    "blame-person": "a person (name, handle or role) is written as the cause of the failure",
    "blame-human-error": "'human error' (or operator/user error) used as an explanation",
    "blame-careless": "a judgement of character: careless, negligent, lazy, sloppy",
    "blame-hindsight": "hindsight about a person: 'should have known', 'should have caught'",
    "blame-fault": "fault or blame assigned: 'at fault', 'X's fault', 'to blame'",
    "action-verb": "action item title does not start with a verb",
    "action-open-ended": "open-ended action (investigate, look into) with no deliverable",
    "action-unmeasurable": "vague action (improve, reduce, ensure, 'more reliable') with no "
    "measurable outcome",
    "action-unbounded": "action with no bounded scope (all services, everywhere, as needed, "
    "ongoing)",
    "action-no-evidence": "action item does not say what evidence will prove it done",
    "action-vague-evidence": "evidence names no checkable artefact or result (a doc, a ticket, "
    "'the team agrees')",
    "action-no-deadline": "action item has no due date (write a date or `slo`)",
}

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

ROLE = (
    r"(?:the\s+|an?\s+|our\s+|one\s+|that\s+|this\s+)?(?:on-?call(?:\s+engineer)?|"
    r"(?:junior\s+|senior\s+|new\s+|release\s+)?(?:engineer|developer|dev|operator|"
    r"administrator|admin|sre|intern|contractor|hire|employee|reviewer|approver)|"
    r"team\s+member|staff\s+member|someone|somebody|he|she)"
)
PERSON_VERBS = (
    r"(?:forgot|neglected|ignored|overlooked|skipped|missed|failed\s+to|mistakenly|"
    r"accidentally|wrongly|blindly|carelessly|broke|caused|messed\s+up|screwed\s+up|botched|"
    r"made\s+(?:a|an)\s+(?:mistake|error)|pushed\s+(?:a|the)\s+(?:bad|broken|wrong)|"
    r"deployed\s+(?:a|the)\s+(?:bad|broken|wrong)|did\s+not\s+bother|didn't\s+bother)"
)
NAME_ONLY_VERBS = (
    r"(?:forgot|neglected|overlooked|mistakenly|carelessly|blindly|messed\s+up|screwed\s+up|botched|"
    r"made\s+(?:a|an)\s+(?:mistake|error)|did\s+not\s+bother|didn't\s+bother)"
)
NOT_NAMES = frozenset(
    {"the", "a", "an", "our", "this", "that", "it", "we", "they", "there", "then", "when"}
    | {"while", "after", "before", "during", "monitoring", "alerting", "nobody", "everyone"}
)
POSSESSIVE_BLAME = (
    r"(?:mistake|error|fault|oversight|negligence|carelessness)"
    r"(?!\s+(?:rate|budget|message|code|log|handling|path|page))"
)


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule matched: where in the text, what, and a suggested systems-focused rewording."""

    rule: str
    start: int
    end: int
    message: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A located lint finding."""

    file: str
    line: int
    key: str
    rule: str
    message: str
    suggestion: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message} ({self.suggestion})"


def _people_pattern(handles: frozenset[str]) -> str:
    named = [re.escape(h) for h in sorted(handles, key=len, reverse=True) if len(h) > 1]
    alternatives = [r"@[A-Za-z0-9][A-Za-z0-9-]*", ROLE, *named]
    return r"(?:" + "|".join(alternatives) + r")"


def blame_hits(text: str, handles: frozenset[str] = frozenset()) -> list[Hit]:
    """Every blaming phrase in one piece of free text."""
    hits: list[Hit] = []
    person = _people_pattern(handles)

    def add(rule: str, match: re.Match[str], message: str, suggestion: str) -> None:
        hits.append(Hit(rule, match.start(), match.end(), message, suggestion))

    for match in re.finditer(
        r"\b(?:human|operator|user|pilot|engineer|manual)\s+(?:error|mistake)s?\b"
        r"(?!\s+(?:rate|budget|message|code|page|count))"
        r"|\bfat[- ]finger(?:ed|ing)?\b|\bpebkac\b",
        text,
        re.IGNORECASE,
    ):
        add(
            "blame-human-error",
            match,
            f"{match.group(0)!r} names an outcome, not a cause",
            "describe what made the action possible and hard to catch, e.g. 'the console "
            "deleted a production table without a confirmation step'",
        )
    for match in re.finditer(
        r"\b(?:careless(?:ly|ness)?|sloppy|sloppiness|lazy|laziness|negligen(?:t|tly|ce)|"
        r"incompeten(?:t|ce)|reckless(?:ly|ness)?|irresponsib(?:le|ly|ility)|inattentive|"
        r"inattention|clumsy|clumsily|stupid(?:ity)?|(?:was|were|wasn't|weren't|not)\s+"
        r"paying\s+attention|did(?:\s+not|n't)\s+pay\s+attention)\b",
        text,
        re.IGNORECASE,
    ):
        add(
            "blame-careless",
            match,
            f"{match.group(0)!r} judges a person, not the system",
            "describe the condition that made the slip likely (fatigue, unclear UI, missing "
            "review step) and what would catch it next time",
        )
    for match in re.finditer(
        r"\bshould(?:\s+not|n't)?\s*(?:have|'ve)\s+known\b|\bought\s+to\s+have\b"
        r"|\bit\s+was\s+obvious\s+that\b"
        r"|(?<![\w@])" + person + r"\s+should(?:\s+not|n't)?\s+have\s+\w+",
        text,
        re.IGNORECASE,
    ):
        add(
            "blame-hindsight",
            match,
            f"{match.group(0)!r} is hindsight: it was not known then",
            "say what information was missing or hard to see at the time and how to surface "
            "it, e.g. 'the dashboard did not show replica lag'",
        )
    for match in re.finditer(
        r"\bat\s+fault\b|\b(?:his|her|their|my|your)\s+fault\b|\b\w+'s\s+fault\b"
        r"|\bfault\s+(?:of|lies\s+with)\b|\bto\s+blame\b|\bblam(?:e|ed|es|ing)\b",
        text,
        re.IGNORECASE,
    ):
        before = text[max(0, match.start() - 12) : match.start()].lower()
        if re.search(r"\b(?:not|no|without)\s+(?:\w+\s+)?$", before):
            continue
        add(
            "blame-fault",
            match,
            f"{match.group(0)!r} assigns fault",
            "describe the conditions and decisions in context; a postmortem looks for "
            "causes in the system, not culprits",
        )
    person_cause = re.compile(
        r"(?<![\w@])(?P<who>"
        + person
        + r")(?:'s)?\s+(?P<verb>"
        + PERSON_VERBS
        + r")(?P<rest>[^.;:]*)"
        r"|\b(?:caused|triggered|broken|introduced|started)\s+by\s+(?P<by>" + person + r")\b"
        r"|\b(?:because|since)\s+(?P<because>" + person + r")\s+(?!had\b|did\s+not\s+have\b|"
        r"didn't\s+have\b|could\s+not\b|couldn't\b|was\s+not\s+(?:paged|told|given)\b)\w+"
        r"|(?<![\w@])(?P<owner>" + person + r")'s\s+" + POSSESSIVE_BLAME,
        re.IGNORECASE,
    )
    for match in person_cause.finditer(text):
        who = match.group("who") or match.group("by") or match.group("because") or ""
        who = who or match.group("owner") or ""
        rest = (match.group("rest") or "").strip()
        if (
            match.group("verb")
            and re.match(
                r"failed\s+to|forgot|neglected|skipped|missed", match.group("verb"), re.IGNORECASE
            )
            and rest
        ):
            suggestion = (
                f"'{rest}' did not happen: say what made it easy to miss, e.g. 'nothing "
                f"checked or automated that we {_base(rest)}'"
            )
        else:
            suggestion = (
                "name the change, system or process step instead of the person, e.g. 'the "
                "deploy pipeline allowed an unreviewed config change'"
            )
        add("blame-person", match, f"{who.strip()!r} is written as the cause", suggestion)
    name_cause = re.compile(
        r"\b(?P<name>[A-Z][a-z]+)(?:'s)?\s+"
        + NAME_ONLY_VERBS
        + r"|\b(?P<owner>[A-Z][a-z]+)'s\s+"
        + POSSESSIVE_BLAME
    )
    for match in name_cause.finditer(text):
        name = match.group("name") or match.group("owner") or ""
        if name.lower() in NOT_NAMES or any(h.start <= match.start() < h.end for h in hits):
            continue
        add(
            "blame-person",
            match,
            f"{name!r} is written as the cause",
            "name the change, system or process step instead of the person",
        )
    return sorted(_dedupe(hits), key=lambda h: h.start)


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per rule and overlapping span."""
    out: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.start, -h.end)):
        if not any(h.rule == hit.rule and h.start <= hit.start < h.end for h in out):
            out.append(hit)
    return out


def _base(phrase: str) -> str:
    """'rotate the certificate' stays; 'to rotate the key' -> 'rotate the key'."""
    return re.sub(r"^to\s+", "", phrase.strip())


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


def free_text(incident: Incident) -> Iterator[tuple[Loc, str]]:
    """Every piece of prose in the record, with its location."""
    yield ("title",), incident.title
    for key in ("summary", "trigger", "detection", "resolution"):
        yield (key,), getattr(incident, key)
    yield ("impact", "description"), incident.impact.description
    yield ("root_cause", "description"), incident.root_cause.description
    for i, factor in enumerate(incident.contributing_factors):
        yield ("contributing_factors", i, "description"), factor.description
    for i, event in enumerate(incident.timeline):
        yield ("timeline", i, "event"), event.event
    for key in ("went_well", "went_wrong", "got_lucky"):
        for i, text in enumerate(getattr(incident.lessons, key)):
            yield ("lessons", key, i), text
    for i, doc in enumerate(incident.documentation_updates):
        yield ("documentation_updates", i, "description"), doc.description
    if incident.ai is not None:
        for i, change in enumerate(incident.ai.changes):
            yield ("ai", "changes", i, "description"), change.description
        for i, safeguard in enumerate(incident.ai.missed_by):
            yield ("ai", "missed_by", i, "why_missed"), safeguard.why_missed
        if incident.ai.data_involved is not None:
            yield ("ai", "data_involved", "description"), incident.ai.data_involved.description
    for i, item in enumerate(incident.action_items):
        yield ("action_items", i, "title"), item.title
        yield ("action_items", i, "details"), item.details


def lint(record: Record) -> list[Finding]:
    """Every finding in a valid record, located and minus the silenced ones."""
    incident, source = record.incident, record.source
    handles = frozenset(
        h
        for h in (
            incident.owner,
            *(i.owner for i in incident.action_items),
            *(i.sponsor for i in incident.action_items if i.sponsor),
            *(i.executive_sponsor for i in incident.action_items if i.executive_sponsor),
        )
    )
    findings: list[Finding] = []
    for loc, text in free_text(incident):
        for hit in blame_hits(text, handles):
            line = _line_of_match(source, loc, text[hit.start : hit.end])
            findings.append(
                Finding(source.name, line, dotted(loc), hit.rule, hit.message, hit.suggestion)
            )
    for index, item in enumerate(incident.action_items):
        for field, rule, message, suggestion in action_hits(item):
            loc = ("action_items", index, field)
            line = source.line_of(loc)
            findings.append(Finding(source.name, line, dotted(loc), rule, message, suggestion))
    kept = [f for f in findings if not _silenced(f, source, incident)]
    return sorted(kept, key=lambda f: (f.line, f.rule))


def _line_of_match(source: Source, loc: Loc, phrase: str) -> int:
    """The line inside a (possibly multi-line) value where ``phrase`` starts."""
    first, last = source.value_span(loc)
    words = phrase.lower().split()
    probe = " ".join(words[:2]) if len(words) > 1 else phrase.lower()
    lines = source.lines
    for number in range(first, min(last, len(lines)) + 1):
        if probe in " ".join(lines[number - 1].lower().split()):
            return number
    return first


def _silenced(finding: Finding, source: Source, incident: Incident) -> bool:
    if f"{finding.rule}@{finding.key}" in incident.lint_ignore:
        return True
    lines = source.lines
    candidates = {finding.line}
    key_line = source.key_lines.get(_loc_of(finding.key, source))
    if key_line is not None:
        candidates.add(key_line)
    for number in candidates:
        if 1 <= number <= len(lines):
            for match in IGNORE_RE.finditer(lines[number - 1]):
                rules = {r.strip() for r in match.group(1).split(",")}
                if finding.rule in rules:
                    return True
    return False


def _loc_of(key: str, source: Source) -> Loc:
    for loc in source.key_lines:
        if dotted(loc) == key:
            return loc
    return ()
