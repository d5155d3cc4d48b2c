"""YAML with line numbers: every problem in an incident record points at its line.

The record is read by the core's safe loader (``syncer.core.config_loader``: size, UTF-8, nesting,
aliases and duplicate keys checked there, as for every input file); this module keeps, for
each dotted key, the line of the key and of its value, and the raw lines (for inline
``# pmsync: ignore[...]`` comments). Pydantic errors are translated into
``FILE:LINE: dotted.key: problem`` with a did-you-mean for misspelt keys.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from syncer.core.config_document import RECORD_LIMITS, InputError
from syncer.core.config_document import dotted as dotted_key
from syncer.core.config_loader import read_text
from syncer.core.config_yaml import parse_yaml

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


def dotted(loc: Loc) -> str:
    """``("action_items", 0, "owner")`` -> ``action_items[0].owner`` (odd keys quoted)."""
    return "(top)" if not loc else dotted_key(loc)


@dataclass(frozen=True, slots=True)
class Problem:
    """One located problem: where (file, line, key) and what."""

    file: str
    line: int
    key: str
    message: str
    display: str = ""
    """The whole line when it is not ``FILE:LINE: key: message`` (a file-level problem)."""

    def __str__(self) -> str:
        return self.display or f"{self.file}:{self.line}: {self.key}: {self.message}"


@dataclass
class Source:
    """A parsed YAML document with the line of every key and value (1-based)."""

    name: str
    text: str
    data: Any
    key_lines: dict[Loc, int] = field(default_factory=dict)
    value_lines: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def line_of(self, loc: Loc) -> int:
        """Line of the key at ``loc`` or, for a missing key, of its nearest existing parent."""
        for end in range(len(loc), 0, -1):
            prefix = loc[:end]
            if prefix in self.key_lines:
                return self.key_lines[prefix]
        return 1

    def value_span(self, loc: Loc) -> tuple[int, int]:
        """First and last line of the value at ``loc`` (the key line when unknown)."""
        if loc in self.value_lines:
            return self.value_lines[loc]
        line = self.line_of(loc)
        return (line, line)

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.name, self.line_of(loc), dotted(loc), message)


class SourceError(Exception):
    """The file is not valid YAML or not a mapping; carries located problems."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def _problems(error: InputError) -> SourceError:
    return SourceError(
        [Problem(p.file, p.line, p.key, p.message, p.display) for p in error.located]
    )


def parse(text: str, name: str) -> Source:
    """Parse YAML text with the safe loader, recording the line of every key and value."""
    try:
        document = parse_yaml(text, name, RECORD_LIMITS)
    except InputError as exc:
        raise _problems(exc) from None
    if not isinstance(document.data, dict) or not document.key_positions:
        raise SourceError([Problem(name, 1, "(top)", "expected a mapping of keys to values")])
    return Source(
        name=name,
        text=text,
        data=document.data,
        key_lines={loc: pos.line for loc, pos in document.key_positions.items() if loc},
        value_lines=dict(document.value_lines),
    )


def read(path: Path) -> Source:
    """Read and parse a file; unreadable, oversized or non-UTF-8 files become a problem."""
    try:
        text = read_text(path, RECORD_LIMITS)
    except InputError as exc:
        raise _problems(exc) from None
    return parse(text, str(path))


def validate_model(source: Source, model: type[M]) -> M:
    """Validate ``source.data`` as ``model``; on failure raise every problem, located."""
    problems: list[Problem] = []
    try:
        result = model.model_validate(source.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(p for p in error["loc"] if isinstance(p, str | int))
            problems.append(source.problem(loc, _message(error, model, loc)))
        raise SourceError(sorted(problems, key=lambda p: p.line)) from None
    if problems:
        raise SourceError(problems)
    return result


def _message(error: Any, model: type[BaseModel], loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"unknown key ({hint})"
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "timezone_aware":
        message += " (add an offset such as Z or +01:00)"
    return message


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """Field names of the model found by following ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        current = unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(part)
            current = info.annotation if info else None
        else:
            return []
    current = unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def unwrap(annotation: Any) -> Any:
    """Drop ``None`` from optional annotations."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
