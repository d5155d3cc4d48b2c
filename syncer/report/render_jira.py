"""The weekly review for Jira: wiki markup (REST v2, Data Center) and ADF (REST v3).

Jira renders neither Mermaid nor SVG, so the trend is a table here; the PNG from
``render_png`` can be attached beside it (``chart_attachment`` embeds it by file name), and
where it cannot (no ``charts`` extra) ``chart_note`` says so in its place. Issue
text is escaped so that it can never mention anybody (``[~accountid:...]``), open a macro
(``{code}``), make a link or a table cell (``[...|...]``, ``|``) or start a block (``h1.``).
ADF needs no escaping, only one-line text nodes and links limited to http(s). The rules match
the Jira connector's renderer, which the core may not import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from syncer.report.layout import Block, Cell, Chart, Heading, Paragraph, Span, Table, layout
from syncer.report.model import WeeklyReport

WIKI_SPECIALS = frozenset("{}[]|*_-+^~?!#")
BACKSLASH_STANDIN = "\u29f5"  # "⧵": a lone "\" could pair with an escape into a "\\" break
_LINE_START_BLOCK = re.compile(r"^(h[1-6]|bq)\.", re.IGNORECASE)
_SAFE_URL = re.compile(r"^https?://[^\s|\[\]{}<>\"\\]+$", re.IGNORECASE)
_ZERO_WIDTH_SPACE = "\u200b"
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
JIRA_TEXT_LIMIT = 32_767

AdfNode = dict[str, Any]


_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_WIKI_TABLE = str.maketrans({"\\": BACKSLASH_STANDIN, **{c: "\\" + c for c in WIKI_SPECIALS}})


def one_line(value: str) -> str:
    """Every line break (``\\n``, ``\\r``, U+2028 ...) becomes one space."""
    if not _NEEDS_CLEANING.search(value):
        return value
    return _CONTROL.sub("", " ".join(value.splitlines()))


def escape_wiki(value: str) -> str:
    """Issue text made inert in Jira wiki markup, on one line."""
    escaped = one_line(value).translate(_WIKI_TABLE)
    if _LINE_START_BLOCK.match(escaped):
        escaped = _ZERO_WIDTH_SPACE + escaped
    return escaped


def safe_url(url: str) -> bool:
    return bool(_SAFE_URL.match(url))


def _wiki_span(span: Span) -> str:
    label = escape_wiki(span.text)
    if span.url and safe_url(span.url):
        return f"[{label or 'link'}|{span.url}]"
    if span.strong and label.strip():
        trailing = " " if label.endswith(" ") else ""
        return f"*{label.strip()}*{trailing}"
    return label


def _wiki_cell(cell: Cell) -> str:
    return "".join(_wiki_span(s) for s in cell).strip() or " "


def _chart_stand_in(block: Block, chart_note: str | None) -> Block:
    """A chart with no attachment becomes the note that says why (without one, nothing)."""
    if isinstance(block, Chart) and chart_note:
        return Paragraph((Span(chart_note),), "note")
    return block


def render_wiki_blocks(
    blocks: list[Block], chart_attachment: str | None = None, chart_note: str | None = None
) -> str:
    out: list[str] = []
    if not chart_attachment:
        blocks = [_chart_stand_in(b, chart_note) for b in blocks]
    for block in blocks:
        if isinstance(block, Heading):
            out += [f"h{block.level}. {escape_wiki(block.text)}", ""]
        elif isinstance(block, Paragraph):
            body = "".join(_wiki_span(s) for s in block.spans).strip()
            out += [f"_{body}_" if block.style == "note" else body, ""]
        elif isinstance(block, Table):
            out.append("||" + "||".join(escape_wiki(h) for h in block.headers) + "||")
            out.extend("|" + "|".join(_wiki_cell(c) for c in row) + "|" for row in block.rows)
            out.append("")
        elif isinstance(block, Chart) and chart_attachment:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", chart_attachment)
            out += [f"!{name}!", ""]
    return "\n".join(out)


def render_wiki(
    report: WeeklyReport,
    *,
    max_rows: int | None = None,
    chart_attachment: str | None = None,
    chart_note: str | None = None,
) -> str:
    """Wiki markup for a review issue description (REST v2 and Data Center)."""
    return render_wiki_blocks(layout(report, max_rows=max_rows), chart_attachment, chart_note)


def _text(
    value: str, *, href: str | None = None, strong: bool = False, em: bool = False
) -> AdfNode:
    node: AdfNode = {"type": "text", "text": value}
    marks: list[AdfNode] = []
    if strong:
        marks.append({"type": "strong"})
    if em:
        marks.append({"type": "em"})
    if href is not None:
        marks.append({"type": "link", "attrs": {"href": href}})
    if marks:
        node["marks"] = marks
    return node


def _adf_spans(spans: tuple[Span, ...], *, em: bool = False) -> list[AdfNode]:
    nodes: list[AdfNode] = []
    for span in spans:
        value = one_line(span.text)
        if not value:
            continue
        href = span.url if span.url and safe_url(span.url) else None
        nodes.append(_text(value, href=href, strong=span.strong, em=em))
    return nodes


def _adf_table(table: Table) -> AdfNode:
    header = {
        "type": "tableRow",
        "content": [
            {
                "type": "tableHeader",
                "attrs": {},
                "content": [{"type": "paragraph", "content": _adf_spans((Span(h),))}],
            }
            for h in table.headers
        ],
    }
    rows = [
        {
            "type": "tableRow",
            "content": [
                {
                    "type": "tableCell",
                    "attrs": {},
                    "content": [{"type": "paragraph", "content": _adf_spans(cell)}],
                }
                for cell in row
            ],
        }
        for row in table.rows
    ]
    return {
        "type": "table",
        "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
        "content": [header, *rows],
    }


def adf_blocks(
    blocks: list[Block], chart_attachment: str | None = None, chart_note: str | None = None
) -> AdfNode:
    """Blocks as an ADF ``doc``.

    ADF embeds files only by Media Services id, which a REST attachment upload does not
    return, so the chart is named where it would stand and sits among the attachments.
    """
    content: list[AdfNode] = []
    if not chart_attachment:
        blocks = [_chart_stand_in(b, chart_note) for b in blocks]
    for block in blocks:
        if isinstance(block, Heading):
            content.append(
                {
                    "type": "heading",
                    "attrs": {"level": block.level},
                    "content": _adf_spans((Span(block.text),)),
                }
            )
        elif isinstance(block, Paragraph):
            content.append(
                {"type": "paragraph", "content": _adf_spans(block.spans, em=block.style == "note")}
            )
        elif isinstance(block, Table):
            content.append(_adf_table(block))
        elif isinstance(block, Chart) and chart_attachment:
            note = f"Chart: {one_line(chart_attachment)}, attached to this issue."
            content.append({"type": "paragraph", "content": [_text(note, em=True)]})
    return {"type": "doc", "version": 1, "content": content}


def adf_document(blocks: list[Block]) -> str:
    """Blocks as compact ADF JSON text."""
    return json.dumps(adf_blocks(blocks), ensure_ascii=False, separators=(",", ":"))


def render_adf(
    report: WeeklyReport,
    *,
    max_rows: int | None = None,
    chart_attachment: str | None = None,
    chart_note: str | None = None,
) -> AdfNode:
    """An Atlassian Document Format document for REST v3."""
    return adf_blocks(layout(report, max_rows=max_rows), chart_attachment, chart_note)


def render_adf_json(
    report: WeeklyReport,
    *,
    max_rows: int | None = None,
    chart_attachment: str | None = None,
    chart_note: str | None = None,
) -> str:
    """The ADF document as compact JSON text (what ``UpsertReport.bodies["adf"]`` carries)."""
    return json.dumps(
        render_adf(
            report, max_rows=max_rows, chart_attachment=chart_attachment, chart_note=chart_note
        ),
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _fit(render: Callable[[int], str], max_rows: int, limit: int) -> str:
    """``render(rows)`` with rows halved until the text fits Jira's field limit."""
    rows = max_rows
    body = render(rows)
    while len(body) > limit and rows > 1:
        rows //= 2
        body = render(rows)
    return body


def fit_wiki(
    report: WeeklyReport,
    max_rows: int,
    limit: int = JIRA_TEXT_LIMIT,
    chart_attachment: str | None = None,
    chart_note: str | None = None,
) -> str:
    return _fit(
        lambda rows: render_wiki(
            report, max_rows=rows, chart_attachment=chart_attachment, chart_note=chart_note
        ),
        max_rows,
        limit,
    )


def fit_adf(
    report: WeeklyReport,
    max_rows: int,
    limit: int = JIRA_TEXT_LIMIT,
    chart_attachment: str | None = None,
    chart_note: str | None = None,
) -> str:
    return _fit(
        lambda rows: render_adf_json(
            report, max_rows=rows, chart_attachment=chart_attachment, chart_note=chart_note
        ),
        max_rows,
        limit,
    )
