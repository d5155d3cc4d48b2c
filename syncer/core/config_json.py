"""JSON parsed within limits; positions found only when a message needs one.

``--items`` exports are big (tens of MB), so the standard library's fast parser reads them
and nothing records positions on the way. When a problem needs a line (a duplicate key, a
pydantic error), the text is walked again with the same decoder down the key path alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from syncer.core.config_document import (
    ITEMS_LIMITS,
    Document,
    InputError,
    Limits,
    Located,
    PathKey,
    Position,
    dotted,
    position_at,
)

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that had a key more than once (found again by identity later)."""


def parse_json(text: str, source: str, limits: Limits = ITEMS_LIMITS) -> Document:
    """Parse JSON within ``limits``; positions are found on demand (see :class:`Document`)."""
    estimate = text.count("{") + text.count("[") + text.count(",")
    if estimate > limits.max_nodes:
        raise InputError(
            [
                Located(
                    source,
                    1,
                    1,
                    "(json)",
                    f"more than {limits.max_nodes:,} values, the limit for this kind of file",
                )
            ]
        )
    flagged: list[_DuplicateKeys] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result = dict(pairs)
        if len(result) == len(pairs):
            return result
        marked = _DuplicateKeys(result)
        flagged.append(marked)
        return marked

    document = Document(source, text, None)
    document.locate = lambda loc: _locate_json(text, loc)
    try:
        document.data = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        raise InputError(
            [Located(source, exc.lineno, exc.colno, "(json)", f"{exc.msg} (check the syntax)")]
        ) from None
    except RecursionError:
        where = _first_too_deep(text, limits.max_depth)
        raise InputError(
            [Located(source, where.line, where.column, "(json)", "nested deeper than Python reads")]
        ) from None
    too_deep = _depth_over(document.data, limits.max_depth)
    if too_deep is not None:
        raise InputError([document.problem(too_deep, f"nested deeper than {limits.max_depth}")])
    if flagged:
        raise InputError(_json_duplicates(document, flagged))
    return document


def _depth_over(data: Any, max_depth: int) -> PathKey | None:
    """The path of a value nested deeper than ``max_depth``, or None (iterative)."""
    stack: list[tuple[Any, PathKey]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > max_depth:
            return path
        if isinstance(value, dict):
            stack.extend((v, (*path, k)) for k, v in value.items() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value) if isinstance(v, dict | list))
    return None


def _json_duplicates(document: Document, flagged: list[_DuplicateKeys]) -> list[Located]:
    wanted = {id(d) for d in flagged}
    found: list[Located] = []
    stack: list[tuple[Any, PathKey]] = [(document.data, ())]
    while stack and wanted:
        value, path = stack.pop()
        if isinstance(value, dict):
            if id(value) in wanted:
                wanted.discard(id(value))
                found.extend(_duplicates_at(document, path))
            stack.extend((v, (*path, k)) for k, v in value.items() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value) if isinstance(v, dict | list))
    return sorted(found, key=lambda p: (p.line, p.column))


def _duplicates_at(document: Document, path: PathKey) -> Iterator[Located]:
    """Every repeated key of the object at ``path``, naming its first and repeated line."""
    target = _value_start(document.text, path)
    if target is None:
        return
    first: dict[str, Position] = {}
    for key, key_at, _, _ in _members(document.text, target):
        at = position_at(document.text, key_at)
        if key in first:
            yield Located(
                document.file,
                at.line,
                at.column,
                dotted((*path, key)),
                f"duplicate key: first at line {first[key].line}, again at line {at.line}; "
                "keep one of them",
            )
        else:
            first[key] = at


def _skip(text: str, offset: int) -> int:
    match = _WHITESPACE.match(text, offset)
    return match.end() if match else offset


def _members(text: str, start: int) -> Iterator[tuple[str, int, int, int]]:
    """(key, key offset, value offset, value end) of the object that starts at ``start``."""
    offset = _skip(text, start + 1)
    if text.startswith("}", offset):
        return
    while True:
        key, after = _DECODER.raw_decode(text, offset)
        colon = _skip(text, after)
        value_at = _skip(text, colon + 1)
        _, value_end = _DECODER.raw_decode(text, value_at)
        yield str(key), offset, value_at, value_end
        offset = _skip(text, value_end)
        if not text.startswith(",", offset):
            return
        offset = _skip(text, offset + 1)


def _items(text: str, start: int) -> Iterator[tuple[int, int]]:
    """(offset, end) of each item of the array that starts at ``start``."""
    offset = _skip(text, start + 1)
    if text.startswith("]", offset):
        return
    while True:
        _, end = _DECODER.raw_decode(text, offset)
        yield offset, end
        offset = _skip(text, end)
        if not text.startswith(",", offset):
            return
        offset = _skip(text, offset + 1)


def _step(text: str, offset: int, part: str | int) -> tuple[int, int, int] | None:
    """(key or item offset, value offset, value end) of ``part`` inside the value at ``offset``."""
    if text.startswith("{", offset) and isinstance(part, str):
        last = None
        for key, key_at, value_at, value_end in _members(text, offset):
            if key == part:
                last = (key_at, value_at, value_end)  # the value json.loads kept
        return last
    if text.startswith("[", offset) and isinstance(part, int):
        for index, (item_at, item_end) in enumerate(_items(text, offset)):
            if index == part:
                return item_at, item_at, item_end
    return None


def _value_start(text: str, path: PathKey) -> int | None:
    offset = _skip(text, 0)
    for part in path:
        found = _step(text, offset, part)
        if found is None:
            return None
        offset = found[1]
    return offset


def _locate_json(text: str, path: PathKey) -> tuple[Position, tuple[int, int]] | None:
    """Where the key (or item) at ``path`` is and the lines of its value; None if absent."""
    offset = _skip(text, 0)
    key_at, value_end = offset, len(text)
    try:
        for part in path:
            found = _step(text, offset, part)
            if found is None:
                return None
            key_at, offset, value_end = found
        if not path:
            _, value_end = _DECODER.raw_decode(text, offset)
    except (json.JSONDecodeError, ValueError):
        return None
    first = position_at(text, offset).line
    return position_at(text, key_at), (first, position_at(text, max(offset, value_end - 1)).line)


def _first_too_deep(text: str, max_depth: int) -> Position:
    depth = 0
    for match in _STRUCTURE.finditer(text):
        symbol = match.group(0)
        if symbol in "[{":
            depth += 1
            if depth > max_depth:
                return position_at(text, match.start())
        elif symbol in "]}":
            depth -= 1
    return Position(1, 1)
