"""A neutral document: what pmsync writes, before any tracker's markup.

The core builds documents (the weekly review, the operating-log entry, postmortems and the
descriptions of their action items) out of these frozen blocks, with every string raw; a
connector's renderer (GitHub Markdown, Jira wiki, ADF) or a file writer (HTML) turns them
into markup and is the only place that escapes. So the order of
sections and the content of each cell are decided once, and a renderer can get only its own
escaping wrong, which is what the hostile-text property tests aim at. A renderer is handed to
the core by its connector as a ``DocumentRenderer``.

``safe_url`` is here, not in a renderer, because it is no markup: it decides which links any
renderer may make (http(s) with a host) and percent-encodes what no markup may see raw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol
from urllib.parse import quote, urlsplit

_BREAKS_AND_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
# Kept as they are: RFC 3986 delimiters and unreserved characters, and "%" (already encoded).
# Everything else (spaces, quotes, < > | { } \ ^ `, non-ASCII) is percent-encoded.
_URL_SAFE = "/:?#[]!$&'*+,;=%~._-@"


def safe_url(url: str) -> str | None:
    """``url`` percent-encoded for a link target; ``None`` unless it is http(s) with a host.

    Line breaks and control characters are dropped first (a tab is encoded): they cannot be
    part of a URL and would end a line of markup.
    """
    url = _BREAKS_AND_CONTROLS.sub("", url).strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text from the data (escaped by every renderer), linked when ``url`` is set."""

    text: str
    url: str | None = None
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Mention:
    """Someone to notify, by handle (a login, a user name or an account id): each renderer
    writes its tracker's mention, and no text from the data can become one."""

    handle: str


Inline = Span | Mention
Cell = tuple[Inline, ...]


def plain(value: str) -> Cell:
    """A table cell holding ``value`` as text."""
    return (Span(value),)


def linked(label: str, url: str) -> Cell:
    """A table cell holding ``label`` linked to ``url`` (plain text when ``url`` is empty)."""
    return (Span(label, url or None),)


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph; a ``note`` is a remark about the document (rendered in italics)."""

    spans: tuple[Inline, ...]
    style: Literal["plain", "note"] = "plain"


@dataclass(frozen=True, slots=True)
class Prose:
    """Free text someone wrote (a record's summary), in paragraphs apart by blank lines;
    renderers keep its paragraphs and, where the markup has them, its line breaks."""

    text: str

    def paragraphs(self) -> list[list[str]]:
        """The non-blank lines of each paragraph, stripped."""
        blocks = re.split(r"\n\s*\n", self.text.strip())
        out = [[line.strip() for line in b.splitlines() if line.strip()] for b in blocks]
        return [lines for lines in out if lines]


@dataclass(frozen=True, slots=True)
class Bullets:
    """An unordered list, one line of inline content per item."""

    items: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True, slots=True)
class Facts:
    """Labelled one-line values (``Period: ...``) that read as one block.

    Markdown keeps them in one paragraph, one per line; markups without a line break of
    their own render ``paragraphs()``.
    """

    rows: tuple[tuple[str, str], ...]

    def paragraphs(self) -> tuple[Paragraph, ...]:
        return tuple(
            Paragraph((Span(f"{label}: ", strong=True), Span(value))) for label, value in self.rows
        )


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of cells under headers; ``numeric`` holds the indexes of right-aligned columns."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()


class ChartPoint(Protocol):
    """One week of the trend chart, as renderers read it (the review's ``TrendPoint`` is one:
    the core's documents do not import the report package, which builds on them)."""

    @property
    def week(self) -> str: ...
    @property
    def day(self) -> date: ...
    @property
    def open_sev12(self) -> int: ...
    @property
    def overdue_sev12(self) -> int: ...
    @property
    def overdue(self) -> int: ...
    @property
    def risk_score(self) -> float: ...
    @property
    def source(self) -> Literal["live", "measured", "reconstructed"]: ...


@dataclass(frozen=True, slots=True)
class Chart:
    """The weekly review's risk trend as data (the weeks' figures); each renderer draws it
    its own way (Mermaid, SVG) or, where the tracker draws no chart, shows the PNG
    ``attachment`` named here (without one: nothing)."""

    points: tuple[ChartPoint, ...]
    attachment: str | None = None


@dataclass(frozen=True, slots=True)
class Marker:
    """pmsync's hidden marker (``pmsync:...``), which makes the write idempotent where the
    tracker can hide text (GitHub); trackers that cannot keep it elsewhere and skip it."""

    marker: str


Block = Heading | Paragraph | Prose | Bullets | Facts | Table | Chart | Marker


@dataclass(frozen=True, slots=True)
class Document:
    """A titled sequence of blocks."""

    title: str
    blocks: tuple[Block, ...]

    def replaced(self, blocks: Sequence[Block]) -> Document:
        return Document(self.title, tuple(blocks))


class DocumentRenderer(Protocol):
    """A tracker's markup for documents, handed to the core by its connector.

    ``markups`` names the bodies a write carries (``UpsertReport.bodies``' keys), ``published``
    the one this tracker's configuration sends; ``body_limit`` is the tracker's size limit in
    characters; ``attaches_charts`` says whether charts go in as PNG attachments (the tracker
    draws none itself).
    """

    @property
    def markups(self) -> tuple[str, ...]: ...

    @property
    def published(self) -> str: ...

    @property
    def body_limit(self) -> int: ...

    @property
    def attaches_charts(self) -> bool: ...

    def render(self, document: Document, markup: str) -> str:
        """``document`` in ``markup`` (one of ``markups``), without trailing whitespace."""
        ...
