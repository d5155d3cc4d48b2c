"""The one safe loader for every input file, and pydantic errors a person can act on.

Every file pmsync reads (the policy, ``--items`` exports, incident records, emulator seeds)
goes through here, so each one is held to the same rules:

- **Size**: a file larger than its kind's ``max_bytes`` is refused before it is read.
- **Text**: the bytes must be UTF-8 (a leading BOM is dropped); otherwise
  ``FILE: not UTF-8 text (line L, column C: byte 0xNN)``.
- **Shape**: at most ``max_depth`` levels of nesting and ``max_nodes`` values counted with
  every alias expanded (YAML's "billion laughs" is refused while it is being read, not after
  it filled the memory), at most ``max_aliases`` aliases, no alias inside its own anchor.
- **Keys**: a key given twice in one mapping is an error naming both lines (YAML and JSON
  would silently keep the last value: a second ``operations:`` block reset the write budget).
- **Errors**: every problem is ``FILE:LINE:COL: dotted.key: what is wrong (hint)``, all of a
  file's problems at once, never a traceback.

The limits per kind (:data:`POLICY_LIMITS`, :data:`RECORD_LIMITS`, :data:`SEED_LIMITS`,
:data:`ITEMS_LIMITS`) are in the README. A refusal costs well under a second and a few MB
whatever the input, because nothing is kept past the first limit crossed.

YAML is parsed by libyaml (PyYAML's C parser) with a composer of our own on top that counts
as it goes; the positions of keys and values come from the composed nodes, which are then
converted to Python values for pydantic. JSON is parsed by the standard library (fast on big
exports) and positions are found only when a message needs one, by walking the text with
the same decoder.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
import yaml.reader
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from syncer.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)
PathKey = tuple[str | int, ...]

MIB = 1024 * 1024
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Limits:
    """How big and how deep one input file may be; see the module docstring."""

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


# ----- reading -----------------------------------------------------------------------------


def read_text(path: Path, limits: Limits) -> str:
    """The file's text: refused when too big or not UTF-8, before anything is parsed."""
    name = str(path)
    try:
        with path.open("rb") as handle:
            raw = handle.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError([Located(name, 1, 1, "(file)", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > limits.max_bytes:
        raise InputError(
            [
                Located(
                    name,
                    1,
                    1,
                    "(file)",
                    f"larger than {limits.max_bytes // MIB} MiB, the limit for this kind of "
                    "file; split it or check that it is the file you meant",
                )
            ]
        )
    return decode_utf8(raw, name)


def decode_utf8(raw: bytes, name: str) -> str:
    """UTF-8 text (a BOM dropped), or ``FILE: not UTF-8 text (line, column, byte)``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        detail = f"line {line}, column {column}: byte 0x{raw[exc.start]:02x}"
        display = f"{name}: not UTF-8 text ({detail}); save the file as UTF-8"
        located = Located(name, line, column, "(file)", f"not UTF-8 text ({detail})", display)
        raise InputError([located]) from None
    return text.removeprefix("\ufeff")


def load_file(path: Path, limits: Limits, *, syntax: str | None = None) -> Document:
    """Read and parse ``path``: JSON when ``syntax`` says so or it ends in ``.json``."""
    text = read_text(path, limits)
    if (syntax or ("json" if path.suffix.lower() == ".json" else "yaml")) == "json":
        return parse_json(text, str(path), limits)
    return parse_yaml(text, str(path), limits)


# ----- YAML --------------------------------------------------------------------------------


class _LimitReached(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark = mark
        self.message = message


try:  # libyaml, when PyYAML was built with it (the wheels are)
    from yaml._yaml import CParser as _Parser

    def _init_parser(loader: Any, text: str) -> None:
        _Parser.__init__(loader, text)

except ImportError:  # pragma: no cover - a PyYAML without libyaml: pure Python, slower
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        pass

    def _init_parser(loader: Any, text: str) -> None:
        Reader.__init__(loader, text)
        Scanner.__init__(loader)
        _PyParser.__init__(loader)


class _SafeLoader(Composer, _Parser, SafeConstructor, Resolver):
    """libyaml's events, composed by PyYAML's composer with limits counted on the way.

    ``nodes`` counts every value with aliases expanded (an alias costs the size of what it
    points at), so a document that would grow exponentially stops at ``max_nodes``.
    """

    def __init__(self, text: str, limits: Limits) -> None:
        _init_parser(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self.limits = limits
        self.depth = 0
        self.nodes = 0
        self.aliases = 0
        self.open_anchors: set[str] = set()
        self.anchor_sizes: dict[str, int] = {}

    def _count(self, n: int, mark: Any) -> None:
        self.nodes += n
        if self.nodes > self.limits.max_nodes:
            raise _LimitReached(
                mark,
                f"more than {self.limits.max_nodes:,} values (aliases expanded), the limit "
                "for this kind of file",
            )

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event: Any = self.peek_event()
            self.aliases += 1
            if self.aliases > self.limits.max_aliases:
                raise _LimitReached(
                    event.start_mark,
                    f"more than {self.limits.max_aliases} aliases (*name), the limit for this "
                    "kind of file",
                )
            if event.anchor in self.open_anchors:
                raise _LimitReached(
                    event.start_mark, f"alias *{event.anchor} is inside its own anchor"
                )
            aliased: Node = super().compose_node(parent, index)  # type: ignore[assignment]
            self._count(self.anchor_sizes.get(event.anchor, 1), event.start_mark)
            return aliased
        event = self.peek_event()
        self.depth += 1
        if self.depth > self.limits.max_depth:
            raise _LimitReached(
                event.start_mark, f"nested deeper than {self.limits.max_depth} levels"
            )
        anchor = event.anchor
        start = self.nodes
        self._count(1, event.start_mark)
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            node: Node = super().compose_node(parent, index)  # type: ignore[assignment]
        finally:
            self.depth -= 1
            if anchor is not None:
                self.open_anchors.discard(anchor)
        if anchor is not None:
            self.anchor_sizes[anchor] = self.nodes - start
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """Values Python refuses (``2026-02-30``, an int of 10,000 digits) become located
        errors instead of tracebacks."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConstructorError(
                None, None, f"cannot read this value ({exc})", node.start_mark
            ) from None


def _yaml_error(source: str, mark: Any, message: str) -> InputError:
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return InputError([Located(source, line, column, "(yaml)", message)])


def parse_yaml(text: str, source: str, limits: Limits = POLICY_LIMITS) -> Document:
    """Parse YAML within ``limits``; the data with the positions of its keys and values."""
    loader = _SafeLoader(text, limits)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(source, text, {})
        document = Document(source, text, None)
        duplicates: list[Located] = []
        _walk(node, (), document, duplicates, set())
        if duplicates:
            raise InputError(duplicates)
        document.data = loader.construct_document(node)
        return document
    except _LimitReached as exc:
        raise _yaml_error(source, exc.mark, exc.message) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or str(exc)
        raise _yaml_error(source, mark, f"{problem} (check indentation and quoting)") from None
    except yaml.reader.ReaderError as exc:
        where = _position(text, min(max(exc.position, 0), len(text)))
        character = exc.character if isinstance(exc.character, int) else ord(str(exc.character))
        message = f"unacceptable character #x{character:04x}: {exc.reason}"
        raise InputError([Located(source, where.line, where.column, "(yaml)", message)]) from None
    except yaml.YAMLError as exc:
        raise _yaml_error(source, None, " ".join(str(exc).split())) from None
    except RecursionError:  # only a PyYAML without libyaml recurses this deep
        raise _yaml_error(source, None, f"nested deeper than {limits.max_depth} levels") from None
    finally:
        loader.dispose()


def _walk(
    node: Node,
    path: PathKey,
    document: Document,
    duplicates: list[Located],
    checked: set[int],
) -> None:
    """Positions of every key and value, and every duplicated key (once per mapping)."""
    start = Position(node.start_mark.line + 1, node.start_mark.column + 1)
    document.key_positions.setdefault(path, start)
    document.value_lines.setdefault(path, (start.line, _end_line(node)))
    if isinstance(node, MappingNode):
        seen: dict[tuple[str, str], Position] = {}
        first_visit = id(node) not in checked
        checked.add(id(node))
        for key_node, value_node in node.value:
            key = str(key_node.value)
            at = Position(key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if isinstance(key_node, ScalarNode) and key_node.tag != MERGE_TAG:
                identity = (key_node.tag, key_node.value)
                earlier = seen.get(identity)
                if earlier is not None and first_visit:
                    duplicates.append(
                        Located(
                            document.file,
                            at.line,
                            at.column,
                            dotted((*path, key)),
                            f"duplicate key: first at line {earlier.line}, again at line "
                            f"{at.line}; keep one of them",
                        )
                    )
                seen.setdefault(identity, at)
            # Point a key's errors at the key itself, which is where a person looks.
            document.key_positions[(*path, key)] = at
            _walk(value_node, (*path, key), document, duplicates, checked)
    elif isinstance(node, SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), document, duplicates, checked)


def _end_line(node: Node) -> int:
    end = node.end_mark
    # A block value's end mark sits at column 0 of the line after it.
    return end.line if end.column == 0 and end.line > node.start_mark.line else end.line + 1


# ----- JSON --------------------------------------------------------------------------------

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
        at = _position(document.text, key_at)
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


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    return Position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


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
    first = _position(text, offset).line
    return _position(text, key_at), (first, _position(text, max(offset, value_end - 1)).line)


def _first_too_deep(text: str, max_depth: int) -> Position:
    depth = 0
    for match in _STRUCTURE.finditer(text):
        symbol = match.group(0)
        if symbol in "[{":
            depth += 1
            if depth > max_depth:
                return _position(text, match.start())
        elif symbol in "]}":
            depth -= 1
    return Position(1, 1)


# ----- pydantic ----------------------------------------------------------------------------


def _model_at(model: type[Any], loc: PathKey) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of ``loc``, for did-you-mean."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field_info = current.model_fields.get(str(part))
        if field_info is None:
            return None
        current = _first_model(field_info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _first_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def _shown(value: Any, width: int = 60) -> str:
    """``repr(value)``, cut to ``width`` characters (an input may be a megabyte of text)."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _hint(error: Any, model: type[Any], loc: PathKey) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        if owner is not None and loc:
            close = difflib.get_close_matches(str(loc[-1]), list(owner.model_fields), n=1)
            if close:
                return f"did you mean '{close[0]}'?"
            return "allowed keys: " + ", ".join(sorted(owner.model_fields))
        return "remove this key"
    if kind == "missing":
        return "add this key"
    if kind.endswith(("_type", "_parsing")):
        return f"got {_shown(error.get('input'))}"
    if kind == "enum":
        return "use one of the listed values"
    return ""


def validation_problems(
    exc: ValidationError, model: type[Any], document: Document, prefix: PathKey = ()
) -> list[Located]:
    """Each pydantic error of ``model`` (validated from ``document`` at ``prefix``), located;
    ``model`` (a pydantic model, or a validated dataclass) names the keys a typo may mean."""
    located = []
    for error in exc.errors(include_url=False):
        loc: PathKey = (*prefix, *(p for p in error["loc"] if isinstance(p, str | int)))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        hint = _hint(error, model, loc[len(prefix) :])
        suffix = f" ({hint})" if hint and hint not in message else ""
        located.append(document.problem(loc, f"{message}{suffix}"))
    return sorted(located, key=lambda p: (p.line, p.column))


def validate(model: type[ModelT], document: Document) -> ModelT:
    """``document.data`` as ``model``; ``InputError`` with every problem found."""
    if not isinstance(document.data, dict):
        raise InputError(
            [Located(document.file, 1, 1, "(top level)", "expected a mapping of keys")]
        )
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise InputError(validation_problems(exc, model, document)) from None


def load_model(
    model: type[ModelT], text: str, source: str, limits: Limits = POLICY_LIMITS
) -> ModelT:
    """Validate YAML ``text`` as ``model``; raise ``InputError`` with every problem found."""
    return validate(model, parse_yaml(text, source, limits))


def load_model_file(model: type[ModelT], path: Path, limits: Limits = POLICY_LIMITS) -> ModelT:
    """Read, parse and validate a YAML (or ``.json``) file as ``model``."""
    return validate(model, load_file(path, limits))
