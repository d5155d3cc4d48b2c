"""Evidence links out of Jira text: URL fields, wiki markup ``[label|url]``, plain prose.

Jira keeps evidence in a URL or free-text field, so this module pulls every link out of such
text. What each link *is* is decided by the core's ``LinkClassifier`` (the policy's link
rules), the same way as for GitHub issues.
"""

from __future__ import annotations

import re

from syncer.core.evidence_links import LinkClassifier
from syncer.core.model import Evidence, EvidenceKind

_URL_RE = re.compile(r"https?://[^\s<>\"'|\]\[{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)"


def urls_in(text: str) -> list[str]:
    """Every http(s) URL in free text (wiki ``[label|url]`` included), in order, unique."""
    seen: list[str] = []
    for match in _URL_RE.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url not in seen:
            seen.append(url)
    return seen


def evidence_from_text(text: str, links: LinkClassifier) -> tuple[Evidence, ...]:
    """Typed evidence for each link in ``text``; text without links is one OTHER item."""
    urls = urls_in(text)
    if not urls:
        stripped = text.strip()
        return (Evidence(kind=EvidenceKind.OTHER, text=stripped),) if stripped else ()
    return tuple(Evidence(kind=links.kind(u), url=u) for u in urls)
