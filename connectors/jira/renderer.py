"""``Message`` -> Jira comment bodies: wiki markup (REST v2, Data Center) or ADF (REST v3).

Only ``Markup`` parts (written by the policy author) reach Jira as markup. ``Text`` and link
labels come from issues, so they are escaped here: issue text can never mention someone
(``[~...]``), open a macro (``{code}``, ``{noformat}``), make a link (``[label|url]``), a table
cell (``|``) or a new line (headings, lists, ``\\\\`` breaks). Mentions use the form each
deployment understands: ``[~accountid:ID]`` on Cloud, ``[~username]`` on Data Center, an ADF
``mention`` node in v3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from syncer.actions import ADF, WIKI, body_in
from syncer.errors import PermanentError
from syncer.messages import Link, Markup, Mention, Message, Text
from syncer.model import Person

WIKI_SPECIALS = frozenset("{}[]|*_-+^~?!#")
BACKSLASH_STANDIN = "\u29f5"  # "⧵": a lone "\" can pair with an escape into a "\\" line break
_LINE_START_BLOCK = re.compile(r"^(h[1-6]|bq)\.", re.IGNORECASE)
_SAFE_URL = re.compile(r"^https?://[^\s|\[\]{}<>\"\\]+$", re.IGNORECASE)
_SAFE_HANDLE = re.compile(r"^[\w.@+:-]+$")
_ZERO_WIDTH_SPACE = "\u200b"

AdfNode = dict[str, Any]


def one_line(text: str) -> str:
    """Every line break (``\\n``, ``\\r``, U+2028 ...) becomes one space."""
    return " ".join(text.splitlines()) if text else text


def escape_wiki(text: str) -> str:
    """Issue text made inert in Jira wiki markup, on one line."""
    out: list[str] = []
    for ch in one_line(text):
        if ch == "\\":
            out.append(BACKSLASH_STANDIN)
        elif ch in WIKI_SPECIALS:
            out.append("\\" + ch)
        else:
            out.append(ch)
    escaped = "".join(out)
    if _LINE_START_BLOCK.match(escaped):
        escaped = _ZERO_WIDTH_SPACE + escaped
    return escaped


def safe_url(url: str) -> bool:
    """Whether ``url`` can sit inside ``[label|url]`` without breaking out of it."""
    return bool(_SAFE_URL.match(url))


def _wiki_mention(person: Person, *, cloud: bool) -> str:
    if person.is_team or not _SAFE_HANDLE.match(person.handle):
        return escape_wiki("@" + (person.display_name or person.handle))
    if cloud:
        return f"[~accountid:{person.handle}]"
    return f"[~{person.handle}]"


def render_wiki(message: Message, *, cloud: bool) -> str:
    """Wiki markup for REST v2 (Cloud) and Data Center."""
    out: list[str] = []
    for part in message.parts:
        if isinstance(part, Markup):
            out.append(part.text)
        elif isinstance(part, Text):
            out.append(escape_wiki(part.text))
        elif isinstance(part, Mention) and not part.notify:
            out.append(escape_wiki(part.person.display_name or part.person.handle))
        elif isinstance(part, Mention):
            out.append(_wiki_mention(part.person, cloud=cloud))
        elif isinstance(part, Link):
            label = escape_wiki(part.label or part.url)
            if safe_url(part.url):
                out.append(f"[{label}|{part.url}]")
            else:
                out.append(f"{label} ({escape_wiki(part.url)})")
    return "".join(out)


def _text_node(text: str, href: str | None = None) -> AdfNode:
    node: AdfNode = {"type": "text", "text": text}
    if href is not None:
        node["marks"] = [{"type": "link", "attrs": {"href": href}}]
    return node


def _markup_nodes(text: str) -> list[list[AdfNode]]:
    """Trusted markup as paragraphs (blank lines) of text runs with hard breaks."""
    paragraphs: list[list[AdfNode]] = [[]]
    for index, block in enumerate(re.split(r"\n\s*\n", text)):
        if index:
            paragraphs.append([])
        for line_no, line in enumerate(block.split("\n")):
            if line_no:
                paragraphs[-1].append({"type": "hardBreak"})
            if line:
                paragraphs[-1].append(_text_node(line))
    return paragraphs


def render_adf(message: Message) -> AdfNode:
    """An Atlassian Document Format document for REST v3 (Cloud)."""
    paragraphs: list[list[AdfNode]] = [[]]
    for part in message.parts:
        if isinstance(part, Markup):
            blocks = _markup_nodes(part.text)
            paragraphs[-1].extend(blocks[0])
            paragraphs.extend(blocks[1:])
        elif isinstance(part, Text):
            if one_line(part.text):
                paragraphs[-1].append(_text_node(one_line(part.text)))
        elif isinstance(part, Mention):
            person = part.person
            if not part.notify:
                paragraphs[-1].append(_text_node(person.display_name or person.handle))
            elif person.is_team:
                paragraphs[-1].append(_text_node("@" + (person.display_name or person.handle)))
            else:
                paragraphs[-1].append(
                    {
                        "type": "mention",
                        "attrs": {
                            "id": person.handle,
                            "text": "@" + (person.display_name or person.handle),
                        },
                    }
                )
        elif isinstance(part, Link):
            label = one_line(part.label or part.url)
            href = part.url if safe_url(part.url) else None
            paragraphs[-1].append(_text_node(label, href))
            if href is None:
                paragraphs[-1].append(_text_node(f" ({one_line(part.url)})"))
    content = [{"type": "paragraph", "content": p} for p in paragraphs if p]
    return {"type": "doc", "version": 1, "content": content}


def render_comment(message: Message, *, cloud: bool, api_version: str) -> str | AdfNode:
    """The comment body for this deployment and REST version."""
    if api_version == "3":
        return render_adf(message)
    return render_wiki(message, cloud=cloud)


def adf_from_json(text: str) -> AdfNode:
    """An ADF document carried as JSON text (a report's ``adf`` body), sent as a document."""
    try:
        node = json.loads(text)
    except ValueError:
        raise PermanentError("the adf body is not JSON; it must be an ADF document") from None
    if not isinstance(node, dict) or node.get("type") != "doc":
        raise PermanentError("the adf body is JSON but not an ADF document (type 'doc')")
    return node


def publish_document(bodies: Mapping[str, str], *, api_version: str, tracker: str) -> str | AdfNode:
    """The body a report or log upsert publishes: wiki text (v2, DC) or an ADF document (v3)."""
    if api_version == "3":
        return adf_from_json(body_in(bodies, ADF, tracker=tracker))
    return body_in(bodies, WIKI, tracker=tracker)


def text_document(text: str, *, api_version: str) -> str | AdfNode:
    """Short trusted plain text (e.g. the log issue's intro) as a description or comment."""
    if api_version == "3":
        content = [{"type": "paragraph", "content": p} for p in _markup_nodes(text) if p]
        return {"type": "doc", "version": 1, "content": content}
    return text
