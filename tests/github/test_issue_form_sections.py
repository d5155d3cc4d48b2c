"""The issue-form section reader cuts bodies with one regex and reads what the line loop read.

``reference`` is the reader as it was before (one line at a time), kept as the oracle.
"""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from connectors.github.issue_form import NO_RESPONSE, SECTION_LABELS, parse_sections

_HEADING_TO_SECTION = {
    alias.casefold(): key for key, aliases in SECTION_LABELS.items() for alias in aliases
}
_LINE_HEADING_RE = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_HTML_COMMENT_RE = re.compile(r"<!--.*?-->", re.DOTALL)

HEADINGS = [
    "### Evidence",
    "### Owner",
    "## Due date",
    "# Postmortem link ##",
    "###### Severity",
    "####### Severity",
    "### evidence  ",
    "### Details #",
    "### Notes",
    "###",
    "### ",
    "###  ",
    "### #",
    "#Evidence",
    " ### Evidence",
    "### \tWaiver\t# ",
]
TEXT = [
    "https://github.com/acme/api/pull/12",
    "@alice",
    "2026-12-01",
    NO_RESPONSE,
    "<!-- hidden -->",
    "<!--",
    "-->",
    "text",
    " ",
    "\t",
    "#",
]
LINE = st.one_of(
    st.sampled_from(HEADINGS), st.lists(st.sampled_from(TEXT + HEADINGS), max_size=3).map("".join)
)
BREAK = st.sampled_from(["\n", "\n", "\r\n", "\r"])
BODY = st.lists(st.tuples(LINE, BREAK).map("".join), max_size=12).map("".join)


def reference(body: str | None) -> dict[str, str]:
    """``parse_sections`` before the one-regex cut: a loop over the body's lines."""
    if not body:
        return {}
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        heading = _LINE_HEADING_RE.match(line)
        if heading:
            current = _HEADING_TO_SECTION.get(heading.group(1).strip().casefold())
            if current is not None and current not in sections:
                sections[current] = []
            elif current is not None:
                current = None
            continue
        if current is not None:
            sections[current].append(line)
    out: dict[str, str] = {}
    for key, lines in sections.items():
        text = _HTML_COMMENT_RE.sub("", "\n".join(lines)).strip()
        out[key] = "" if text == NO_RESPONSE else text
    return out


class TestSameAsTheLineLoop:
    def test_a_rendered_form_reads_the_same(self) -> None:
        """The shape GitHub renders, with an empty field and a comment left in."""
        body = (
            "### Owner\n\n@alice\n\n### Due date\n\n_No response_\n\n"
            "### Evidence\n\n<!-- one link per line -->\nhttps://github.com/acme/api/pull/12\n"
        )
        assert parse_sections(body) == reference(body)
        assert parse_sections(body) == {
            "owner": "@alice",
            "due_date": "",
            "evidence": "https://github.com/acme/api/pull/12",
        }

    def test_an_unknown_heading_ends_a_section_and_a_repeated_one_is_ignored(self) -> None:
        body = "### Evidence\nfirst\n### Notes\nnot evidence\n### Evidence\nsecond"
        assert parse_sections(body) == reference(body) == {"evidence": "first"}

    def test_a_heading_on_the_first_line_and_one_without_text_after_it(self) -> None:
        body = "### Team\r\npayments\r\n### Owner"
        assert parse_sections(body) == reference(body) == {"team": "payments", "owner": ""}

    @given(BODY)
    def test_any_body_reads_the_same(self, body: str) -> None:
        assert parse_sections(body) == reference(body)

    @given(st.text(alphabet=st.sampled_from("# \t\r\nEevidnc_<!->x"), max_size=60))
    def test_any_text_of_heading_characters_reads_the_same(self, body: str) -> None:
        assert parse_sections(body) == reference(body)
