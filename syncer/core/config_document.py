"""What every input file becomes once read: its data, where each key is, and located problems.

The YAML and JSON parsers (:mod:`syncer.core.config_yaml`, :mod:`syncer.core.config_json`) fill a
:class:`Document`; the loader (:mod:`syncer.core.config_loader`) and every reader of records and
seeds turn a problem at a key path into ``FILE:LINE:COL: dotted.key: message`` through it.
The limits per kind of file live here too, so each parser and each caller names the same ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from syncer.core.errors import ConfigError

PathKey = tuple[str | int, ...]

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How big and how deep one input file may be; see :mod:`syncer.core.config_loader`."""

    max_bytes: int
    max_nodes: int
    max_depth: int = 64
    max_aliases: int = 100


POLICY_LIMITS = Limits(max_bytes=1 * MIB, max_nodes=50_000)
"""The policy file: hand-written; the example has about 300 values."""
RECORD_LIMITS = Limits(max_bytes=1 * MIB, max_nodes=50_000)
"""An incident record: hand-written, a few hundred values."""
SEED_LIMITS = Limits(max_bytes=8 * MIB, max_nodes=400_000, max_aliases=1_000)
"""An emulator seed: may be generated, and uses anchors for shared label lists."""
ITEMS_LIMITS = Limits(max_bytes=64 * MIB, max_nodes=4_000_000, max_aliases=0)
"""An ``--items`` export: about 1 KB per item, so some 60,000 items."""


@dataclass(frozen=True)
class Position:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass(frozen=True)
class Located:
    """One problem: the file, where in it, the dotted key (or ``(yaml)``...) and what."""

    file: str
    line: int
    column: int
    key: str
    message: str
    display: str = ""
    """The whole line when it is not ``FILE:LINE:COL: key: message`` (a file-level problem)."""

    def __str__(self) -> str:
        return self.display or f"{self.file}:{self.line}:{self.column}: {self.key}: {self.message}"


class InputError(ConfigError):
    """An input file that cannot be used; ``located`` holds each problem with its place."""

    def __init__(self, located: list[Located]) -> None:
        super().__init__([str(p) for p in located])
        self.located = located


@dataclass
class Document:
    """A parsed file: its data and where each key and value is.

    ``key_positions`` maps a key path to the position of the key (for a mapping entry) or of
    the value (a sequence item, the top level); ``value_lines`` to the first and last line
    of the value. A JSON document fills both lazily, on the first question about a path.
    """

    file: str
    text: str
    data: Any
    key_positions: dict[PathKey, Position] = field(default_factory=dict)
    value_lines: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    locate: Callable[[PathKey], tuple[Position, tuple[int, int]] | None] | None = None

    def position(self, loc: PathKey) -> Position:
        """Where the key at ``loc`` is or, when it is missing, its nearest existing parent."""
        for end in range(len(loc), -1, -1):
            found = self._known(loc[:end])
            if found is not None:
                return found
        return Position(1, 1)

    def lines_of(self, loc: PathKey) -> tuple[int, int] | None:
        """First and last line of the value at ``loc``, when it exists."""
        if self._known(loc) is None:
            return None
        return self.value_lines.get(loc)

    def problem(self, loc: PathKey, message: str) -> Located:
        where = self.position(loc)
        return Located(self.file, where.line, where.column, dotted(loc), message)

    def _known(self, loc: PathKey) -> Position | None:
        if loc in self.key_positions:
            return self.key_positions[loc]
        if self.locate is None:
            return None
        found = self.locate(loc)
        if found is None:
            return None
        self.key_positions[loc], self.value_lines[loc] = found
        return found[0]


_PLAIN_KEY = re.compile(r"""^[^\s.:\[\]"'\\\x00-\x1f\x7f-\x9f\u2028\u2029]+$""")


def key_text(part: str | int) -> str:
    """One key of a dotted path: as written when plain, JSON-quoted in brackets otherwise
    (an empty key, one with spaces, dots, colons or control characters)."""
    text = str(part)
    return text if _PLAIN_KEY.fullmatch(text) else f"[{json.dumps(text)}]"


def dotted(loc: PathKey) -> str:
    """``("trackers", "github", 0, "token_env")`` -> ``trackers.github[0].token_env``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = key_text(part)
            out += key if key.startswith("[") or not out else f".{key}"
    return out or "(top level)"


_DOTTED_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_dotted(text: str) -> PathKey:
    """``repos[0].issues[2].created`` -> ``("repos", 0, "issues", 2, "created")``."""
    return tuple(int(index) if index else name for index, name in _DOTTED_PART.findall(text))


def position_at(text: str, offset: int) -> Position:
    """The 1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)
