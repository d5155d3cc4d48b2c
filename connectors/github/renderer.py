"""``Message`` -> GitHub-flavoured Markdown, where issue text can never act as markup.

Only ``Mention`` parts notify anybody; ``Text`` and link labels are escaped so that an issue
title cannot @mention, close the hidden ``<!-- pmsync:... -->`` marker, inject HTML, break a
table, open a code span or math, or start a new block. The escaping uses HTML entities and
backslash escapes that GitHub renders back to the original characters, so readers see the
text as it was written.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from syncer.messages import Link, Markup, Mention, Message, Text, html_marker
from syncer.model import Person

ZWJ = "\u200d"
_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "|": "&#124;",
    "`": "&#96;",
    '"': "&quot;",
}
_BACKSLASHED = frozenset("\\*_[]~#$!{}")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_TEAM_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9][\w.-]*$")
_URL_SAFE = "/:?#[]!$&'*+,;=%~._-"


def escape_text(text: str) -> str:
    """One line of inert Markdown that reads like ``text``.

    Newlines fold to spaces; ``<``, ``>``, ``&``, ``|``, backticks and quotes become entities;
    Markdown punctuation is backslash-escaped; every ``@`` is followed by a zero-width joiner
    so that no login after it becomes a mention.
    """
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", text))
    out: list[str] = []
    for char in text:
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _BACKSLASHED:
            out.append("\\" + char)
        elif char == "@":
            out.append("@" + ZWJ)
        else:
            out.append(char)
    return "".join(out)


def safe_url(url: str) -> str | None:
    """``url`` percent-encoded for a Markdown link destination; ``None`` unless http(s)."""
    url = _CONTROL.sub("", _LINE_BREAKS.sub("", url)).strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE + "@")


def render_mention(person: Person) -> str:
    """``@login`` or ``@org/team``; a handle GitHub could not mention is shown as text."""
    pattern = _TEAM_RE if person.is_team else _LOGIN_RE
    if pattern.match(person.handle):
        return "@" + person.handle
    return escape_text(person.handle)


def render_link(link: Link) -> str:
    """``[label](url)`` with the label escaped; a non-web URL leaves only the label."""
    label = escape_text(link.label) or escape_text(link.url)
    url = safe_url(link.url)
    return f"[{label}]({url})" if url else label


def render_parts(message: Message) -> str:
    """The visible Markdown of ``message``, without its marker."""
    out: list[str] = []
    for part in message.parts:
        if isinstance(part, Markup):
            out.append(part.text)
        elif isinstance(part, Text):
            out.append(escape_text(part.text))
        elif isinstance(part, Mention):
            out.append(render_mention(part.person))
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
