"""The Evidence section reader's shortcuts (bare URLs, no checkbox) change nothing it reads.

``reference`` is the reader before the shortcuts, kept as the oracle.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from connectors.github.issue_form import parse_evidence
from syncer.core.evidence_links import LinkClassifier, default_classifier
from syncer.core.model import Evidence, EvidenceKind

_URL_RE = re.compile(r"https?://[^\s<>()\[\]\"'`|]+", re.IGNORECASE)
_CHECKBOX_RE = re.compile(r"^\[[ xX]\]\s*")
_EMPTY_LINK_RE = re.compile(r"\[([^\]]*)\]\(\s*\)")

PIECES = [
    "https://github.com/acme/api/pull/12",
    "https://grafana.acme.example/d/x.",
    "HTTP://runbooks.acme.example/failover,",
    "[dashboard](https://grafana.acme.example/d/y)",
    "[x] ",
    "[ ]",
    "[X]",
    "- ",
    "* ",
    "+",
    " ",
    "load test passed",
    "see",
    ":",
    "(",
    ")",
    "[",
    "](",
    "\n",
    "_No response_",
]


def reference(text: str, links: LinkClassifier) -> tuple[Evidence, ...]:
    """``parse_evidence`` before the shortcuts."""
    found: list[Evidence] = []
    for raw_line in text.split("\n"):
        line = raw_line.strip().lstrip("-*+").strip()
        line = _CHECKBOX_RE.sub("", line)
        if not line:
            continue
        urls = [u.rstrip(".,;:!?") for u in _URL_RE.findall(line)]
        if not urls:
            found.append(Evidence(kind=EvidenceKind.OTHER, text=line))
            continue
        prose = _URL_RE.sub("", line)
        prose = _EMPTY_LINK_RE.sub(r"\1", prose).strip(" -:()[]")
        found.extend(Evidence(kind=links.kind(u), url=u, text=prose) for u in urls)
    return tuple(found)


class TestSameAsBefore:
    def test_a_bare_url_line_has_no_prose(self) -> None:
        text = "https://github.com/acme/api/pull/12."
        assert parse_evidence(text, default_classifier()) == reference(text, default_classifier())
        assert parse_evidence(text, default_classifier())[0].text == ""

    def test_a_checked_box_and_an_emptied_link_keep_their_prose(self) -> None:
        text = "- [x] [load test](https://buildkite.com/acme/api/builds/7) passed"
        got = parse_evidence(text, default_classifier())
        assert got == reference(text, default_classifier())
        assert got[0].text == "load test passed"

    @given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
    def test_any_section_reads_the_same(self, text: str) -> None:
        assert parse_evidence(text, default_classifier()) == reference(text, default_classifier())
