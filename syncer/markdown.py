"""Inert GitHub Markdown for text that came from an issue.

Comments (``connectors.github.renderer``) and the weekly review (``syncer.report``) escape
issue text the same way: it reads as written, but cannot @mention anyone, break a table,
start a code span, inject HTML or close pmsync's hidden marker.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

ZWJ = "\u200d"
ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "&#124;", "`": "&#96;", '"': "&quot;"}
BACKSLASHED = frozenset("\\*_[]~#$!{}")
LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_URL_SAFE = "/:?#[]!$&'*+,;=%~._-@"
_TABLE = str.maketrans({**ENTITIES, **{c: "\\" + c for c in BACKSLASHED}, "@": "@" + ZWJ})


def escape(value: str) -> str:
    """One line of inert Markdown that reads like ``value``.

    Line breaks fold to spaces; ``< > & | ` "`` become entities; Markdown punctuation is
    backslash-escaped; every ``@`` is followed by a zero-width joiner, so no mention forms.
    """
    if _NEEDS_CLEANING.search(value):
        value = CONTROL.sub("", LINE_BREAKS.sub(" ", value))
    return value.translate(_TABLE)


def safe_url(url: str) -> str | None:
    """``url`` percent-encoded for a link destination; ``None`` unless http(s)."""
    url = CONTROL.sub("", LINE_BREAKS.sub("", url)).strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)
