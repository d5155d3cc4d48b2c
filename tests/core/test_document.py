"""The neutral document: which links any renderer may make, and the blocks' own reading."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from syncer.core.document import Facts, Paragraph, Prose, Span, safe_url


class TestSafeUrl:
    def test_a_web_url_is_kept_as_written(self) -> None:
        """http(s) with a host passes unchanged, query and fragment included."""
        url = "https://github.com/acme/api/pull/12?x=1#issuecomment-9"
        assert safe_url(url) == url

    def test_other_schemes_and_hostless_urls_make_no_link(self) -> None:
        """javascript:, data:, mailto: and a bare path are not linked by any renderer."""
        for url in ("javascript:alert(1)", "data:text/html,x", "mailto:a@b.c", "/local", "https:"):
            assert safe_url(url) is None

    def test_characters_that_could_end_a_link_are_percent_encoded(self) -> None:
        """Spaces, quotes, pipes, braces and angle brackets are encoded; line breaks dropped."""
        assert safe_url('https://x.test/a b"|{}<>\n') == "https://x.test/a%20b%22%7C%7B%7D%3C%3E"

    @given(st.text())
    def test_no_url_keeps_a_character_that_breaks_markup(self, tail: str) -> None:
        """Whatever follows the host, the target holds no whitespace, quote, pipe or bracket
        that would close a Markdown, wiki or HTML link."""
        url = safe_url("https://x.test/" + tail)
        assert url is not None
        assert not any(c in url for c in ' \t\r\n"<>|{}\\`^')


class TestBlocks:
    def test_facts_read_as_one_bold_label_per_paragraph(self) -> None:
        """Markups without line breaks render facts as labelled paragraphs."""
        facts = Facts((("Period", "a week"), ("Scope", "all")))
        assert facts.paragraphs() == (
            Paragraph((Span("Period: ", strong=True), Span("a week"))),
            Paragraph((Span("Scope: ", strong=True), Span("all"))),
        )

    def test_prose_keeps_paragraphs_and_lines_but_no_blank_ones(self) -> None:
        """Blank lines part paragraphs; lines are stripped; empty text has no paragraph."""
        prose = Prose("  one\n two \n\n\n three\n")
        assert prose.paragraphs() == [["one", "two"], ["three"]]
        assert Prose(" \n\n ").paragraphs() == []
