"""``Message`` -> GitHub-flavoured Markdown, where issue text can never act as markup.

Only ``Mention`` parts notify anybody (one with ``notify=False`` is the bare name); ``Text``
and link labels are escaped so that an issue title cannot @mention, close the hidden
``<!-- pmsync:... -->`` marker, inject HTML, break a table, open a code span or math, or start
a new block. The escaping uses HTML entities and backslash escapes that GitHub renders back to
the original characters, so readers see the text as it was written.
"""

from __future__ import annotations

import re

from syncer.markdown import escape as escape_text
from syncer.markdown import safe_url
from syncer.messages import Link, Markup, Mention, Message, Text, html_marker
from syncer.model import Person

_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_TEAM_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9][\w.-]*$")


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
            person = part.person
            named = escape_text(person.display_name or person.handle)
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
