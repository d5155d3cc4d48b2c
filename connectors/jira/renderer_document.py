"""``Document`` -> Jira: wiki markup (REST v2, Data Center) and ADF (REST v3).

Jira renders neither Mermaid nor SVG, so a chart is the PNG named by ``Chart.attachment``
(embedded by file name in wiki markup, named where it would stand in ADF) or nothing, and the
trend table beside it carries the figures. Issue text goes through ``escape_wiki``, the
connector's one wiki escaper, so that it can never mention anybody (``[~accountid:...]``), open
a macro (``{code}``), make a link or a table cell (``[...|...]``, ``|``) or start a block
(``h1.``). ADF needs no escaping, only one-line text nodes and links limited to ``safe_url``.
Hidden markers are skipped: Jira has no hidden text, and the connector keeps a document's
marker in an issue property or a marker line of its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from connectors.jira.renderer import AdfNode, escape_wiki, one_line, wiki_mention, wiki_url
from syncer.core.actions import ADF, WIKI
from syncer.core.document import (
    Block,
    Bullets,
    Chart,
    Document,
    Facts,
    Heading,
    Inline,
    Mention,
    Paragraph,
    Prose,
    Span,
    Table,
    safe_url,
)
from syncer.core.model import Person

WikiMention = Callable[[str], str]

JIRA_TEXT_LIMIT = 32_767  # characters in a description or comment


def data_center_mention(handle: str) -> str:
    """``[~name]``: a mention of a Data Center user (or, written so, a Cloud account id)."""
    return wiki_mention(Person(handle=handle), cloud=False)


def _wiki_span(span: Inline, mention: WikiMention) -> str:
    if isinstance(span, Mention):
        return mention(span.handle)
    label = escape_wiki(span.text)
    url = wiki_url(span.url) if span.url else None
    if url:
        return f"[{label or 'link'}|{url}]"
    if span.strong and label.strip():
        trailing = " " if label.endswith(" ") else ""
        return f"*{label.strip()}*{trailing}"
    return label


def _wiki_spans(spans: tuple[Inline, ...], mention: WikiMention) -> str:
    return "".join(_wiki_span(s, mention) for s in spans).strip()


def _wiki_paragraph(paragraph: Paragraph, mention: WikiMention) -> str:
    body = _wiki_spans(paragraph.spans, mention)
    return f"_{body}_" if paragraph.style == "note" else body


def prose_lines(prose: Prose) -> list[str]:
    """Each paragraph on one line, its whitespace collapsed: wiki markup and ADF paragraphs
    take no soft line breaks."""
    return [" ".join(" ".join(lines).split()) for lines in prose.paragraphs()]


def _wiki_block(block: Block, mention: WikiMention) -> str | None:
    if isinstance(block, Heading):
        return f"h{block.level}. {escape_wiki(block.text)}"
    if isinstance(block, Paragraph):
        return _wiki_paragraph(block, mention)
    if isinstance(block, Prose):  # no text, no block
        return "\n\n".join(escape_wiki(line) for line in prose_lines(block)) or None
    if isinstance(block, Bullets):
        return "\n".join(f"* {_wiki_spans(item, mention)}" for item in block.items)
    if isinstance(block, Facts):
        return "\n\n".join(_wiki_paragraph(p, mention) for p in block.paragraphs())
    if isinstance(block, Table):
        lines = ["||" + "||".join(escape_wiki(h) for h in block.headers) + "||"]
        lines += [
            "|" + "|".join(_wiki_spans(c, mention) or " " for c in row) + "|" for row in block.rows
        ]
        return "\n".join(lines)
    if isinstance(block, Chart) and block.attachment:
        return "!" + re.sub(r"[^A-Za-z0-9._-]", "_", block.attachment) + "!"
    return None  # a chart without its PNG, a hidden marker


def render_wiki_document(document: Document, mention: WikiMention = data_center_mention) -> str:
    """Wiki markup for a description or comment, blocks apart by a blank line; ``mention``
    writes a handle's mention for this deployment."""
    chunks = [c for c in (_wiki_block(b, mention) for b in document.blocks) if c is not None]
    return "\n\n".join(chunks) + "\n"


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


def _adf_spans(spans: tuple[Inline, ...], *, em: bool = False) -> list[AdfNode]:
    nodes: list[AdfNode] = []
    for span in spans:
        if isinstance(span, Mention):
            text = "@" + span.handle
            nodes.append({"type": "mention", "attrs": {"id": span.handle, "text": text}})
            continue
        value = one_line(span.text)
        if not value:
            continue
        href = safe_url(span.url) if span.url else None
        nodes.append(_text(value, href=href, strong=span.strong, em=em))
    return nodes


def _adf_cell(kind: str, spans: tuple[Inline, ...]) -> AdfNode:
    return {
        "type": kind,
        "attrs": {},
        "content": [{"type": "paragraph", "content": _adf_spans(spans)}],
    }


def _adf_table(table: Table) -> AdfNode:
    header = {
        "type": "tableRow",
        "content": [_adf_cell("tableHeader", (Span(h),)) for h in table.headers],
    }
    rows = [
        {"type": "tableRow", "content": [_adf_cell("tableCell", c) for c in row]}
        for row in table.rows
    ]
    return {
        "type": "table",
        "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
        "content": [header, *rows],
    }


def _adf_paragraph(paragraph: Paragraph) -> AdfNode:
    return {
        "type": "paragraph",
        "content": _adf_spans(paragraph.spans, em=paragraph.style == "note"),
    }


def _adf_blocks(block: Block) -> list[AdfNode]:
    """ADF embeds files only by Media Services id, which a REST attachment upload does not
    return, so a chart's PNG is named where it would stand and sits among the attachments."""
    if isinstance(block, Heading):
        content = _adf_spans((Span(block.text),))
        return [{"type": "heading", "attrs": {"level": block.level}, "content": content}]
    if isinstance(block, Paragraph):
        return [_adf_paragraph(block)]
    if isinstance(block, Prose):
        return [{"type": "paragraph", "content": [_text(x)]} for x in prose_lines(block) if x]
    if isinstance(block, Bullets):
        items = [
            {"type": "listItem", "content": [{"type": "paragraph", "content": _adf_spans(i)}]}
            for i in block.items
        ]
        return [{"type": "bulletList", "content": items}]
    if isinstance(block, Facts):
        return [_adf_paragraph(p) for p in block.paragraphs()]
    if isinstance(block, Table):
        return [_adf_table(block)]
    if isinstance(block, Chart) and block.attachment:
        note = f"Chart: {one_line(block.attachment)}, attached to this issue."
        return [{"type": "paragraph", "content": [_text(note, em=True)]}]
    return []


def render_adf_document(document: Document) -> AdfNode:
    """An Atlassian Document Format ``doc``."""
    return {
        "type": "doc",
        "version": 1,
        "content": [n for b in document.blocks for n in _adf_blocks(b)],
    }


def adf_json(node: AdfNode) -> str:
    """An ADF document as the compact JSON text an ``adf`` body carries."""
    return json.dumps(node, ensure_ascii=False, separators=(",", ":"))


class JiraDocuments:
    """The Jira connector's ``DocumentRenderer``: wiki markup and ADF, charts as PNGs.

    Both bodies are made for every Jira site; ``published`` is the one its REST version sends.
    """

    markups = (WIKI, ADF)
    body_limit = JIRA_TEXT_LIMIT
    attaches_charts = True

    def __init__(self, rest_api_version: str = "2") -> None:
        self.published = ADF if rest_api_version == "3" else WIKI

    def render(self, document: Document, markup: str) -> str:
        if markup == WIKI:
            return render_wiki_document(document).rstrip()
        if markup == ADF:
            return adf_json(render_adf_document(document))
        raise ValueError(f"Jira publishes wiki markup or ADF, not {markup}")
