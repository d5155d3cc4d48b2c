"""``Message`` and ``Document`` -> GitHub-flavoured Markdown, where issue text can never act
as markup. ``escape`` is pmsync's one Markdown escaper.

Only ``Mention`` parts notify anybody (one with ``notify=False`` is the bare name); ``Text``
and link labels are escaped so that an issue title cannot @mention, close the hidden
``<!-- pmsync:... -->`` marker, inject HTML, break a table, open a code span or math, or start
a new block. The escaping uses HTML entities and backslash escapes that GitHub renders back to
the original characters, so readers see the text as it was written.
"""

from __future__ import annotations

import re

from syncer.core.actions import MARKDOWN
from syncer.core.document import (
    Block,
    Bullets,
    Chart,
    ChartPoint,
    Document,
    Facts,
    Heading,
    Inline,
    Mention,
    Paragraph,
    Prose,
    Table,
    safe_url,
)
from syncer.core.messages import Link, Markup, Message, Text, html_marker
from syncer.core.messages import Mention as MentionPart
from syncer.core.model import Person
from syncer.report import text

ZWJ = "\u200d"
ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "`": "&#96;", '"': "&quot;"}
BACKSLASHED = frozenset("\\*_[]~#$!{}")
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_TABLE = str.maketrans({**ENTITIES, **{c: "\\" + c for c in BACKSLASHED}, "@": "@" + ZWJ})


def escape(value: str) -> str:
    """One line of inert Markdown that reads like ``value``.

    Line breaks fold to spaces; ``< > & | ` "`` become entities; Markdown punctuation is
    backslash-escaped; every ``@`` is followed by a zero-width joiner, so no mention forms.
    """
    if _NEEDS_CLEANING.search(value):
        value = CONTROL.sub("", LINE_BREAKS.sub(" ", value))
    return value.translate(_TABLE)


_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_TEAM_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9][\w.-]*$")


def render_mention(person: Person) -> str:
    """``@login`` or ``@org/team``; a handle GitHub could not mention is shown as text."""
    pattern = _TEAM_RE if person.is_team else _LOGIN_RE
    if pattern.match(person.handle):
        return "@" + person.handle
    return escape(person.handle)


def render_link(link: Link) -> str:
    """``[label](url)`` with the label escaped; a non-web URL leaves only the label."""
    label = escape(link.label) or escape(link.url)
    url = safe_url(link.url)
    return f"[{label}]({url})" if url else label


def render_parts(message: Message) -> str:
    """The visible Markdown of ``message``, without its marker."""
    out: list[str] = []
    for part in message.parts:
        if isinstance(part, Markup):
            out.append(part.text)
        elif isinstance(part, Text):
            out.append(escape(part.text))
        elif isinstance(part, MentionPart):
            person = part.person
            named = escape(person.display_name or person.handle)
            out.append(render_mention(person) if part.notify else named)
        else:
            out.append(render_link(part))
    return "".join(out)


def render_message(message: Message) -> str:
    """The comment body: visible Markdown, then the hidden marker on its own line."""
    return f"{render_parts(message).rstrip()}\n\n{html_marker(message.marker)}"


def with_marker(body: str, marker: str) -> str:
    """``body`` ending with the hidden ``marker`` exactly once."""
    tag = html_marker(marker)
    if tag in body:
        return body
    return f"{body.rstrip()}\n\n{tag}"


# -- documents (the weekly review, the operating-log entry) ---------------------------------

GITHUB_BODY_LIMIT = 65_536  # characters in an issue or comment body
_COLOUR_NAMES = {"#0969da": "blue", "#cf222e": "red", "#9a6700": "amber"}


def markdown_link(label: str, url: str) -> str:
    """``[label](url)``; the label alone (``link`` when empty) unless ``url`` is a web URL."""
    shown = escape(label) or "link"
    target = safe_url(url)
    return f"[{shown}]({target})" if target else shown


_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def _line_start(line: str) -> str:
    """An escaped line that cannot open a list or a setext heading where a line begins."""
    return _LINE_START.sub(lambda m: "\\" + m[1] if m[1] else m[2] + "\\" + m[3], line)


def _inline(part: Inline) -> str:
    if isinstance(part, Mention):
        return render_mention(Person(handle=part.handle))
    if part.url:
        return markdown_link(part.text, part.url)
    if part.strong:
        label = escape(part.text.strip())
        return f"**{label}**" + (" " if part.text.endswith(" ") else "") if label else ""
    return escape(part.text)


def _spans(spans: tuple[Inline, ...]) -> str:
    return "".join(_inline(s) for s in spans)


def _table(table: Table) -> str:
    lines = [
        "| " + " | ".join(escape(h) for h in table.headers) + " |",
        "|" + "---|" * len(table.headers),
    ]
    lines += ["| " + " | ".join(_spans(c) or " " for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _mermaid(points: tuple[ChartPoint, ...]) -> str:
    """The trend as Mermaid ``xychart-beta``, as far as Mermaid allows telling series apart.

    Mermaid draws no legend and no dashed lines: the series get fixed, distinct colours
    (``plotColorPalette``, in the order the series are declared), a line under the chart
    names each colour, and reconstructed weeks are starred on the axis and explained.
    """
    weeks = ", ".join(f'"{text.week_label(p)}"' for p in points)
    top = max([p.open_sev12 for p in points] + [p.overdue for p in points] + [1])
    risk_top = max([p.risk_score for p in points] + [1.0])
    palette = ", ".join(colour for _n, _l, colour, _s in text.TREND_SERIES)
    last = points[-1] if points else None
    legend = "; ".join(
        f"{'bars' if style == 'bar' else 'line'} {_COLOUR_NAMES[colour]}: {label}"
        + (f" ({text.number(getattr(last, name))} now)" if last is not None else "")
        for name, label, colour, style in text.TREND_SERIES
    )
    out = [
        "```mermaid",
        f'%%{{init: {{"themeVariables": {{"xyChart": {{"plotColorPalette": "{palette}"}}}}}}}}%%',
        "xychart-beta",
        '    title "Open SEV-1/SEV-2 (bars), overdue SEV-1/SEV-2 and overdue of any severity"',
        f"    x-axis [{weeks}]",
        f'    y-axis "Actions" 0 --> {top}',
        "    bar [" + ", ".join(str(p.open_sev12) for p in points) + "]",
        "    line [" + ", ".join(str(p.overdue_sev12) for p in points) + "]",
        "    line [" + ", ".join(str(p.overdue) for p in points) + "]",
        "```",
        "",
        f"_{escape(legend[:1].upper() + legend[1:])}. The any-severity line is never below "
        "the SEV-1/2 one; where they meet, every overdue action is SEV-1/2._",
        "",
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#8250df"}}}}%%',
        "xychart-beta",
        '    title "Risk score (severity-weighted days overdue)"',
        f"    x-axis [{weeks}]",
        f'    y-axis "Risk score" 0 --> {text.number(risk_top)}',
        "    line [" + ", ".join(text.number(p.risk_score) for p in points) + "]",
        "```",
    ]
    if any(p.source == "reconstructed" for p in points):
        out += ["", f"_{escape(text.RECONSTRUCTED_NOTE)}._"]
    return "\n".join(out)


def _block(block: Block) -> str | None:
    if isinstance(block, Heading):
        return "#" * block.level + " " + escape(block.text)
    if isinstance(block, Paragraph):
        body = _spans(block.spans).strip()
        return f"_{body}_" if block.style == "note" else _line_start(body)
    if isinstance(block, Prose):  # no text, no block
        paragraphs = block.paragraphs()
        text = "\n\n".join("\n".join(_line_start(escape(x)) for x in p) for p in paragraphs)
        return text or None
    if isinstance(block, Bullets):
        return "\n".join(f"- {_line_start(_spans(item).strip())}" for item in block.items)
    if isinstance(block, Facts):
        return "  \n".join(_spans(p.spans).strip() for p in block.paragraphs())
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        return _mermaid(block.points)
    return html_marker(block.marker)


def render_document(document: Document) -> str:
    """``document`` as Markdown, blocks apart by a blank line, ending with a line break."""
    return "\n\n".join(c for c in (_block(b) for b in document.blocks) if c is not None) + "\n"


class GitHubDocuments:
    """The GitHub connector's ``DocumentRenderer``: Markdown, with charts drawn by Mermaid."""

    markups = (MARKDOWN,)
    published = MARKDOWN
    body_limit = GITHUB_BODY_LIMIT
    attaches_charts = False

    def render(self, document: Document, markup: str) -> str:
        if markup != MARKDOWN:
            raise ValueError(f"GitHub publishes Markdown, not {markup}")
        return render_document(document).rstrip()
