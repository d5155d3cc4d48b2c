"""The postmortem action issue form as GitHub renders it: its sections and evidence lines.

An issue filed through ``config/github/ISSUE_TEMPLATE/postmortem-action.yml`` has one
``### <label>`` heading per form field, ``_No response_`` under a field left empty. The
sections are read by heading (``SECTION_LABELS``: the label the shipped form renders, then
accepted aliases); the evidence section is read one line per link or note. Pure, like the
mapper that uses it.
"""

from __future__ import annotations

import re

from syncer.core.evidence_links import LinkClassifier
from syncer.core.model import Evidence, EvidenceKind

# Canonical section -> the heading the shipped issue form renders, then accepted aliases.
SECTION_LABELS: dict[str, tuple[str, ...]] = {
    "owner": ("Owner", "Owners"),
    "postmortem": ("Postmortem", "Postmortem link", "Incident"),
    "incident_date": ("Incident date",),
    "severity": ("Severity",),
    "priority": ("Priority",),
    "due_date": ("Due date", "Due"),
    "team": ("Team", "Service"),
    "sponsor": ("Sponsor",),
    "executive_sponsor": ("Executive sponsor",),
    "evidence": ("Evidence",),
    "waiver": ("Waiver",),
    "details": ("Details",),
}
_HEADING_TO_SECTION = {
    alias.casefold(): key for key, aliases in SECTION_LABELS.items() for alias in aliases
}
NO_RESPONSE = "_No response_"
_HEADING_RE = re.compile(r"\n#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)
_URL_RE = re.compile(r"https?://[^\s<>()\[\]\"'`|]+", re.IGNORECASE)
_CHECKBOX_RE = re.compile(r"^\[[ xX]\]\s*")
_EMPTY_LINK_RE = re.compile(r"\[([^\]]*)\]\(\s*\)")  # what is left of [text](url) without url


def parse_sections(body: str | None) -> dict[str, str]:
    """Issue-form sections by canonical key; ``_No response_`` and comments become empty.

    The body is cut at its heading lines by one ``re.split`` (heading text and the text
    under it alternate in the result) instead of a loop over lines: mapping 10,000 issues
    went from 0.317 s to 0.294 s CPU (``tests/bench/bench_mapper.py``, best of 10, this
    change alone). A heading that names no known section ends the section before it; a
    repeated heading is ignored (the first one wins).
    """
    if not body:
        return {}
    # Every heading line follows a newline (the first one too, after this one): a pattern
    # that starts with a literal lets the regex engine jump to candidates, where one that
    # starts with ^ is tried at every position, at twice the cost.
    pieces = _HEADING_RE.split("\n" + body.replace("\r\n", "\n").replace("\r", "\n"))
    out: dict[str, str] = {}
    for heading, under in zip(pieces[1::2], pieces[2::2], strict=True):
        key = _HEADING_TO_SECTION.get(heading.strip().casefold())
        if key is None or key in out:
            continue
        text = _HTML_COMMENT_RE.sub("", under) if "<!--" in under else under
        text = text.strip()
        out[key] = "" if text == NO_RESPONSE else text
    return out


def parse_evidence(text: str, links: LinkClassifier) -> tuple[Evidence, ...]:
    """One ``Evidence`` per URL (typed by ``links``), plus one per line of prose without a URL.

    The common line is a bare URL: it has no prose to clean, so the two substitutions are
    skipped for it (and the checkbox one for lines not starting with ``[``). Worth 0.51 s ->
    0.46 s CPU mapping 10,000 issues (``tests/bench/bench_mapper.py``).
    """
    if not text:
        return ()
    found: list[Evidence] = []
    for raw_line in text.split("\n"):
        line = raw_line.strip().lstrip("-*+").strip()
        if line.startswith("["):
            line = _CHECKBOX_RE.sub("", line)
        if not line:
            continue
        matches = _URL_RE.findall(line)
        if not matches:
            found.append(Evidence(kind=EvidenceKind.OTHER, text=line))
            continue
        if len(matches) == 1 and matches[0] == line:
            prose = ""
        else:
            prose = _URL_RE.sub("", line)
            if "](" in prose:
                prose = _EMPTY_LINK_RE.sub(r"\1", prose)
            prose = prose.strip(" -:()[]")
        for match in matches:
            url = match.rstrip(".,;:!?")
            found.append(Evidence(kind=links.kind(url), url=url, text=prose))
    return tuple(found)
