"""Two target markups, GitHub Markdown and Jira wiki, behind one small interface.

Everything an author wrote in the incident record is untrusted text here: it is escaped so that
it cannot start a heading, a list or a table row, close a table cell, embed HTML (or a fake
pmsync marker), or notify anyone. The only mentions in the output are the ones the renderer
asks for with ``mention()`` (postmortem and action-item owners).
"""

from __future__ import annotations

import re
from typing import Protocol
from urllib.parse import quote, urlsplit

ZWSP = "\u200b"
_SAFE_URL = re.compile(r"^https?://[^\s]+$")


def _paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def safe_url(url: str) -> str | None:
    """An http(s) URL with characters that could break markup percent-encoded; else None."""
    url = url.strip()
    if not _SAFE_URL.match(url) or not urlsplit(url).netloc:
        return None
    return quote(url, safe=":/?#@!$&'*+,;=%-._~")


class Markup(Protocol):
    """What the postmortem renderer needs from a target markup."""

    name: str

    def text(self, text: str) -> str:
        """Escape free text for a paragraph (newlines kept as line breaks)."""
        ...

    def cell(self, text: str) -> str:
        """Escape free text for one table cell (single line, no cell separators)."""
        ...

    def heading(self, level: int, text: str) -> str: ...

    def strong(self, escaped: str) -> str: ...

    def code(self, text: str) -> str: ...

    def mention(self, handle: str) -> str: ...

    def link(self, label: str, url: str) -> str: ...

    def bullets(self, items: list[str]) -> str: ...

    def table(self, header: list[str], rows: list[list[str]]) -> str: ...


class GitHubMarkdown:
    """GitHub-flavoured Markdown."""

    name = "markdown"
    _PUNCT = re.compile(r"([\\`*_{}\[\]<>|~!#])")

    def _inline(self, text: str) -> str:
        out = text.replace("&", "&amp;")
        out = self._PUNCT.sub(r"\\\1", out)
        # @login and #123 would notify or cross-link even when escaped: break them.
        out = re.sub(r"@(?=[A-Za-z0-9])", "@" + ZWSP, out)
        return re.sub(r"(?<=#)(?=\d)", ZWSP, out)

    def _line(self, line: str) -> str:
        line = self._inline(line.strip())
        # Block constructs that only exist at the start of a line.
        line = re.sub(r"^([-+=])", r"\\\1", line)
        return re.sub(r"^(\d+)([.)])", r"\1\\\2", line)

    def text(self, text: str) -> str:
        return "\n\n".join(
            "\n".join(self._line(line) for line in para.splitlines() if line.strip())
            for para in _paragraphs(text)
        )

    def cell(self, text: str) -> str:
        parts = [self._line(line) for line in text.strip().splitlines() if line.strip()]
        return "<br>".join(parts) if parts else " "

    def heading(self, level: int, text: str) -> str:
        return "#" * level + " " + self._inline(" ".join(text.split()))

    def strong(self, escaped: str) -> str:
        return f"**{escaped}**"

    def code(self, text: str) -> str:
        clean = " ".join(text.replace("`", "'").split())
        return f"`{clean}`" if clean else ""

    def mention(self, handle: str) -> str:
        return "@" + re.sub(r"[^A-Za-z0-9-]", "", handle)

    def link(self, label: str, url: str) -> str:
        safe = safe_url(url)
        if safe is None:
            return self.cell(label or url)
        return f"[{self.cell(label or url)}]({safe.replace('(', '%28').replace(')', '%29')})"

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"- {item}" for item in items)

    def table(self, header: list[str], rows: list[list[str]]) -> str:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)


class JiraWiki:
    """Jira wiki markup (REST API v2 and Data Center)."""

    name = "jira"
    _PUNCT = re.compile(r"([*_\-+^~?{}\[\]|!#()])")

    def __init__(self, account_ids: bool = False) -> None:
        self.account_ids = account_ids

    def _inline(self, text: str) -> str:
        out = self._PUNCT.sub(r"\\\1", text.replace("\0", "").replace("\\", "\0"))
        out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return out.replace("\0", "&#92;")

    def _line(self, line: str) -> str:
        line = self._inline(line.strip())
        return ZWSP + line if re.match(r"^(h[1-6]|bq)\.", line) else line

    def text(self, text: str) -> str:
        return "\n\n".join(
            self._line(" ".join(line.strip() for line in para.splitlines()))
            for para in _paragraphs(text)
        )

    def cell(self, text: str) -> str:
        parts = [self._line(line) for line in text.strip().splitlines() if line.strip()]
        return " \\\\ ".join(parts) if parts else " "

    def heading(self, level: int, text: str) -> str:
        return f"h{level}. " + self._inline(" ".join(text.split()))

    def strong(self, escaped: str) -> str:
        return f"*{escaped}*"

    def code(self, text: str) -> str:
        clean = " ".join(text.replace("}", ")").replace("{", "(").split())
        return "{{" + clean + "}}" if clean else ""

    def mention(self, handle: str) -> str:
        clean = re.sub(r"[^A-Za-z0-9._:@-]", "", handle)
        if self.account_ids and not clean.startswith("accountid:"):
            clean = "accountid:" + clean
        return f"[~{clean}]"

    def link(self, label: str, url: str) -> str:
        safe = safe_url(url)
        if safe is None:
            return self.cell(label or url)
        safe = safe.replace("|", "%7C").replace("]", "%5D").replace("[", "%5B")
        return f"[{self.cell(label or url)}|{safe}]"

    def bullets(self, items: list[str]) -> str:
        return "\n".join(f"* {item}" for item in items)

    def table(self, header: list[str], rows: list[list[str]]) -> str:
        lines = ["|| " + " || ".join(header) + " ||"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
