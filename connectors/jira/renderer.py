"""``Message`` -> Jira comment bodies: wiki markup (REST v2, Data Center) or ADF (REST v3).

Only ``Markup`` parts (written by the policy author) reach Jira as markup. ``Text`` and link
labels come from issues, so they are escaped here: issue text can never mention someone
(``[~...]``), open a macro (``{code}``, ``{noformat}``), make a link (``[label|url]``), a table
cell (``|``) or a new line (headings, lists, ``\\\\`` breaks). Mentions use the form each
deployment understands: ``[~accountid:ID]`` on Cloud, ``[~username]`` on Data Center, an ADF
``mention`` node in v3.

Jira has no hidden text, so a comment's marker is also written as a visible, discreet last line:
the marker alone, in Jira's light grey (``{color:#97a0af}`` in wiki markup, a ``textColor`` mark
in ADF). ``markers_in_body`` reads it back from whatever form the site returns the body in (the
wiki string as sent, Cloud's wiki rendering of the stored ADF, or ADF), ignoring colour markup
and escapes. Why the connector writes and trusts it is in ``connectors.jira.markers``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from syncer.core.actions import ADF, WIKI, body_in
from syncer.core.document import safe_url
from syncer.core.errors import PermanentError
from syncer.core.messages import MARKER_PREFIX, Link, Markup, Mention, Message, Text
from syncer.core.model import Person

WIKI_SPECIALS = frozenset("{}[]|*_-+^~?!#")
# Jira's emoticons that WIKI_SPECIALS leaves whole; (!), (+), (*r) ... are already broken.
EMOTICONS = ("(y)", "(n)", "(i)", "(/)", "(x)", "(on)", "(off)", "(flag)", "(flagoff)")
SMILEYS = (":)", ":(", ":P", ":D", ";)")
BACKSLASH_STANDIN = "\u29f5"  # "⧵": a lone "\" can pair with an escape into a "\\" line break
_LINE_START_BLOCK = re.compile(r"^(h[1-6]|bq)\.", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_EMOTICON = "|".join(re.escape(e) for e in EMOTICONS + SMILEYS)
_EMOTICON_START = re.compile(f"(?!:[PD][0-9A-Za-z])(?={_EMOTICON})")
_LIVE_EMOTICON = re.compile(rf"(?<!\\)(?!:[PD][0-9A-Za-z])(?=({_EMOTICON}))")  # unescaped
_WIKI_TABLE = str.maketrans({"\\": BACKSLASH_STANDIN, **{c: "\\" + c for c in WIKI_SPECIALS}})
_SAFE_HANDLE = re.compile(r"^[\w.@+:-]+$")
_ZERO_WIDTH_SPACE = "\u200b"
MARKER_COLOUR = "#97a0af"  # the light grey of Jira's text colour palette
_MARKER_TEXT = re.compile(re.escape(MARKER_PREFIX) + r"[A-Za-z0-9:._/=+-]+")
_COLOUR_MARKUP = re.compile(r"\{color(?::[^}]*)?\}", re.IGNORECASE)

AdfNode = dict[str, Any]


def one_line(text: str) -> str:
    """Every line break (``\\n``, ``\\r``, U+2028 ...) becomes one space; control characters,
    which Jira neither shows nor always accepts, are dropped."""
    if not _NEEDS_CLEANING.search(text):
        return text
    return _CONTROL.sub("", " ".join(text.splitlines()))


def escape_wiki(text: str) -> str:
    """Issue text made inert in Jira wiki markup, on one line: pmsync's one wiki escaper.

    Parentheses are escaped only where they open an emoticon: escaping them all would
    change every body holding pmsync's own "(Europe/Berlin)". Each emoticon loses its first
    character to a backslash (``\\(y)``, ``\\:)``), as pandoc's Jira writer does; ``:P`` and
    ``:D`` run into a letter or digit (``Re:Deploy``) are no emoticon, so they stay as typed.
    """
    escaped = _EMOTICON_START.sub(r"\\", one_line(text).translate(_WIKI_TABLE))
    if _LINE_START_BLOCK.match(escaped):
        escaped = _ZERO_WIDTH_SPACE + escaped
    return escaped


def wiki_url(url: str) -> str | None:
    """``url`` as the target of ``[label|url]`` (``safe_url``, with the brackets that would
    end the link encoded too); ``None`` when it may not be linked."""
    safe = safe_url(url)
    return safe.replace("[", "%5B").replace("]", "%5D") if safe else None


def wiki_mention(person: Person, *, cloud: bool) -> str:
    """``[~accountid:ID]`` (Cloud) or ``[~name]`` (Data Center); a team, or a handle that could
    break the markup, as escaped text."""
    if person.is_team or not _SAFE_HANDLE.match(person.handle):
        return escape_wiki("@" + (person.display_name or person.handle))
    if cloud:
        return f"[~accountid:{person.handle}]"
    return f"[~{person.handle}]"


def _inert_across_parts(out: list[str], text_parts: set[int]) -> str:
    """``out`` joined, with a backslash before each emoticon that issue text completes with
    the part beside it (the template ``({title})`` and the title ``y``): ``escape_wiki`` sees
    one part at a time. Emoticons the policy author wrote in markup stay."""
    body = "".join(out)
    live = list(_LIVE_EMOTICON.finditer(body))
    if not live:
        return body
    from_text = [index in text_parts for index, part in enumerate(out) for _ in part]
    breaks = {m.start() for m in live if any(from_text[m.start() : m.end(1)])}
    return "".join("\\" * (index in breaks) + ch for index, ch in enumerate(body))


def render_wiki(message: Message, *, cloud: bool) -> str:
    """Wiki markup for REST v2 (Cloud) and Data Center."""
    out: list[str] = []
    text_parts: set[int] = set()
    for part in message.parts:
        if isinstance(part, Markup):
            out.append(part.text)
        elif isinstance(part, Text):
            text_parts.add(len(out))
            out.append(escape_wiki(part.text))
        elif isinstance(part, Mention) and not part.notify:
            text_parts.add(len(out))
            out.append(escape_wiki(part.person.display_name or part.person.handle))
        elif isinstance(part, Mention):
            out.append(wiki_mention(part.person, cloud=cloud))
        elif isinstance(part, Link):
            label = escape_wiki(part.label or part.url)
            url = wiki_url(part.url)
            if url:
                out.append(f"[{label}|{url}]")
            else:
                out.append(f"{label} {escape_wiki(f'({part.url})')}")  # "y" would make (y)
    return _inert_across_parts(out, text_parts)


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
            href = safe_url(part.url)
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


def marker_line_wiki(marker: str) -> str:
    """The visible marker line in wiki markup (Cloud v2 and Data Center)."""
    return "{color:" + MARKER_COLOUR + "}" + escape_wiki(marker) + "{color}"


def marker_paragraph_adf(marker: str) -> AdfNode:
    """The visible marker line as an ADF paragraph (REST v3)."""
    mark = {"type": "textColor", "attrs": {"color": MARKER_COLOUR}}
    return {"type": "paragraph", "content": [{"type": "text", "text": marker, "marks": [mark]}]}


def with_marker_line(body: str | AdfNode, marker: str) -> str | AdfNode:
    """``body`` (wiki text or an ADF document) with the marker line appended."""
    if isinstance(body, str):
        return f"{body.rstrip()}\n\n{marker_line_wiki(marker)}"
    content = [*(body.get("content") or []), marker_paragraph_adf(marker)]
    return {**body, "content": content}


def _adf_lines(node: object) -> list[str]:
    """The text of each paragraph-like block of an ADF document (hard breaks split lines)."""
    if not isinstance(node, dict):
        return []
    children = node.get("content")
    if not isinstance(children, list):
        return []
    if not any(isinstance(c, dict) and c.get("type") in ("text", "hardBreak") for c in children):
        return [line for child in children for line in _adf_lines(child)]
    lines = [""]
    for child in children:
        if not isinstance(child, dict):
            continue
        if child.get("type") == "hardBreak":
            lines.append("")
        elif isinstance(child.get("text"), str):
            lines[-1] += child["text"]
    return lines


def markers_in_body(body: object) -> set[str]:
    """Markers written as a marker line in a comment body (wiki string or ADF document).

    A line counts only when, colour markup and backslash escapes aside, it is nothing but
    one marker: a marker quoted inside a sentence is not a marker line.
    """
    lines = body.splitlines() if isinstance(body, str) else _adf_lines(body)
    found: set[str] = set()
    for line in lines:
        text = _COLOUR_MARKUP.sub("", line).replace("\\", "").strip()
        if _MARKER_TEXT.fullmatch(text):
            found.add(text)
    return found
