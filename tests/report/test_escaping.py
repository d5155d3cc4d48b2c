"""Issue text in a document can break no table, mention nobody and inject no markup, whoever
renders it.

One document generator, run once per renderer (GitHub Markdown, Jira wiki, ADF, HTML): the
weekly review or log entry of a report whose titles, owner names, incidents and teams are
arbitrary text, or random blocks holding that text. Each property compares the rendering with
that of the same document holding the harmless text ``x``: same lines, same table cells, same
tags. Whatever the text, only its characters change.
"""

import json
import re
from datetime import date
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.github.renderer import GitHubDocuments, render_document
from connectors.jira.renderer_document import render_adf_document, render_wiki_document
from syncer.core.document import (
    Block,
    Bullets,
    Chart,
    Document,
    Facts,
    Heading,
    Marker,
    Paragraph,
    Span,
    Table,
)
from syncer.core.evaluate import evaluate
from syncer.core.model import Person, Priority, Severity
from syncer.report import build_report, log_body
from syncer.report.layout import layout, log_layout
from syncer.report.model import WeeklyReport
from syncer.report.render_html import render_html_document
from syncer.report.render_json import render_json
from tests.builders import NOW, example_policy, item, merged_pr
from tests.jira.test_renderer import JIRA_EMOTICONS, JIRA_SMILEYS, LIVE_EMOTICON

POLICY = example_policy()
NASTY = [
    "|",
    "||",
    "@someone",
    "@org/team",
    "[~accountid:5b10a2844c20165700ede21g]",
    "[~admin]",
    "`",
    "```",
    "<script>alert(1)</script>",
    "-->",
    "<!--",
    "\n",
    "\r\n",
    "\u2028",
    "h1. ",
    "{code}",
    "{noformat}",
    "[link|http://evil.test]",
    "](javascript:alert(1))",
    "\\",
    "*",
    "_",
    "#1",
    "&amp;",
    '"',
    "'",
    "x",
    " ",
    "\t",
    "\x00",
    *JIRA_EMOTICONS,
    *JIRA_SMILEYS,
    "(",
    ")",
    ":",
    "y",
    "P",
]
issue_text = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=8).map("".join),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def report_with(value: str) -> WeeklyReport:
    """Every piece of issue text the report shows is ``value``."""
    owner = Person(handle="alice", display_name=value or None)
    open_item = item(
        "acme/api#1", priority=Priority.P0, severity=Severity.SEV1, due=date(2026, 11, 5)
    ).model_copy(update={"title": value, "owners": (owner,), "incident": value, "team": value})
    closed = item(
        "acme/api#2", severity=Severity.SEV2, closed_days_ago=2, evidence=(merged_pr(),)
    ).model_copy(update={"title": value, "incident": value})
    return build_report(evaluate([open_item, closed], POLICY, NOW), POLICY, NOW)


def pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


LINK = "https://github.com/acme/api/issues/1"
Shape = tuple[Any, ...]
block_shapes = st.one_of(
    st.tuples(st.just("heading"), st.integers(1, 4)),
    st.tuples(
        st.just("paragraph"),
        st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=4),
        st.sampled_from(["plain", "note"]),
    ),
    st.tuples(st.just("facts"), st.integers(1, 3)),
    st.tuples(st.just("bullets"), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("table"), st.integers(1, 4), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("chart"), st.sampled_from([None, "risk-trend.png"])),
    st.tuples(st.just("marker")),
)
layouts = st.one_of(
    st.sampled_from(["review", "log"]), st.lists(block_shapes, min_size=1, max_size=8)
)


def document(shape: str | list[Shape], value: str) -> Document:
    """The document of ``shape`` with every piece of issue text set to ``value``: the weekly
    review or log entry of a report built from such items, or blocks drawn at random."""
    if shape == "review":
        return layout(report_with(value))
    if shape == "log":
        return log_layout(report_with(value))
    blocks: list[Block] = []
    for kind, *args in shape:
        if kind == "heading":
            blocks.append(Heading(args[0], value))
        elif kind == "paragraph":
            spans = tuple(Span(value, LINK if url else None, strong) for strong, url in args[0])
            blocks.append(Paragraph(spans, args[1]))
        elif kind == "bullets":
            count, strong = args
            blocks.append(Bullets(((Span(value, strong=strong), Span(value, LINK)),) * count))
        elif kind == "facts":
            blocks.append(Facts(tuple((f"Fact {n}", value) for n in range(args[0]))))
        elif kind == "table":
            columns, rows, linked = args
            cell = (Span(value, LINK if linked else None), Span(value))
            blocks.append(Table(("Item",) * columns, ((cell,) * columns,) * rows))
        elif kind == "chart":
            blocks.append(Chart(report_with(value).trend, args[0]))
        else:
            blocks.append(Marker("pmsync:report:2026-W48"))
    return Document(value, tuple(blocks))


class TestMarkdownEscaping:
    """The GitHub connector's renderer."""

    @SETTINGS
    @given(layouts, issue_text)
    def test_issue_text_keeps_every_table_row_and_mentions_nobody(
        self, shape: str | list[Shape], value: str
    ) -> None:
        """Same lines and cells as harmless text; no @mention, HTML or extra marker or fence."""
        body = render_document(document(shape, value))
        plain = render_document(document(shape, "x"))
        lines, plain_lines = body.split("\n"), plain.split("\n")
        assert len(lines) == len(plain_lines)
        assert [pipes(line) for line in lines] == [pipes(line) for line in plain_lines]
        assert re.search(r"@[\w]", body) is None
        assert body.count("<") == plain.count("<")
        assert body.count("-->") == plain.count("-->")
        assert body.count("`") == plain.count("`")
        assert [line.split(" ")[0] for line in lines if line.startswith("#")] == [
            line.split(" ")[0] for line in plain_lines if line.startswith("#")
        ]

    @SETTINGS
    @given(issue_text)
    def test_the_published_log_entry_is_as_inert(self, value: str) -> None:
        """The log comment as publishing makes it keeps its tables and its one marker."""
        body = log_body(report_with(value), POLICY, "github", GitHubDocuments())
        plain = log_body(report_with("x"), POLICY, "github", GitHubDocuments())
        assert [pipes(line) for line in body.split("\n")] == [
            pipes(line) for line in plain.split("\n")
        ]
        assert re.search(r"@[\w]", body) is None
        assert body.count("<") == 1


class TestJiraEscaping:
    """The Jira connector's renderers."""

    @SETTINGS
    @given(layouts, issue_text)
    def test_wiki_markup_keeps_its_cells_and_mentions_nobody(
        self, shape: str | list[Shape], value: str
    ) -> None:
        """No [~mention], no macro, no emoticon, no new heading, no extra link or cell."""
        body = render_wiki_document(document(shape, value))
        plain = render_wiki_document(document(shape, "x"))
        assert LIVE_EMOTICON.search(body) is None
        lines, plain_lines = body.split("\n"), plain.split("\n")
        assert len(lines) == len(plain_lines)
        assert [pipes(line) for line in lines] == [pipes(line) for line in plain_lines]
        assert re.search(r"(?<!\\)\[~", body) is None
        assert re.search(r"(?<!\\)[{}]", body) is None
        assert len(re.findall(r"(?<!\\)\[", body)) == len(re.findall(r"(?<!\\)\[", plain))
        assert [line[:3] for line in lines if re.match(r"h\d\.", line)] == [
            line[:3] for line in plain_lines if re.match(r"h\d\.", line)
        ]

    @SETTINGS
    @given(layouts, issue_text)
    def test_adf_has_only_one_line_text_nodes_and_no_mentions(
        self, shape: str | list[Shape], value: str
    ) -> None:
        """The document has the same shape; text stays text."""
        doc = render_adf_document(document(shape, value))
        plain = render_adf_document(document(shape, "x"))
        assert shape_of(doc) == shape_of(plain)
        for node in walk(doc):
            assert node["type"] != "mention"
            if node["type"] == "text":
                assert node["text"]
                assert "\n" not in node["text"]
                assert "\r" not in node["text"]
                for mark in node.get("marks", []):
                    if mark["type"] == "link":
                        assert mark["attrs"]["href"].startswith("https://github.com/")


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node]
    for child in node.get("content", []):
        found.extend(walk(child))
    return found


def shape_of(node: dict[str, Any]) -> Any:
    """Node types down to cells (text runs inside may differ in number)."""
    if node["type"] in ("paragraph", "heading"):
        return node["type"]
    return (node["type"], [shape_of(c) for c in node.get("content", [])])


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, attr in attrs:
            if name == "href":
                assert attr is not None
                assert attr.startswith("https://github.com/")


class TestHtmlAndJson:
    """The file formats: HTML renders the document, JSON is the report model."""

    @SETTINGS
    @given(layouts, issue_text)
    def test_html_has_the_same_tags_whatever_the_text(
        self, shape: str | list[Shape], value: str
    ) -> None:
        """No <script> or other tag can come from issue text; links stay ours."""
        page = render_html_document(document(shape, value))
        collector, plain = TagCollector(), TagCollector()
        collector.feed(page)
        plain.feed(render_html_document(document(shape, "x")))
        assert collector.tags == plain.tags
        assert "script" not in collector.tags

    @SETTINGS
    @given(issue_text)
    def test_json_carries_the_text_exactly(self, value: str) -> None:
        """Dashboards get the raw title back, unescaped and unchanged."""
        data = json.loads(render_json(report_with(value)))
        assert data["open_critical"][0]["title"] == value
        assert data["roadmap_by_incident"][0]["incident"] in (value, "(no incident recorded)")
