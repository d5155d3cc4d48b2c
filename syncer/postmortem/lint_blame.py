"""The blameless rules: a person, a character judgement or hindsight written as the cause.

A postmortem that names a person as the cause teaches people to hide mistakes. Each rule is
a regular expression over a sentence with its own id (``RULES`` in :mod:`syncer.postmortem.lint`)
and a suggested systems-focused rewording; the record's own handles count as names too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
