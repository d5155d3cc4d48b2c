"""Load YAML into pydantic models with errors a person can act on.

Every problem is reported at once as ``FILE:LINE:COL: dotted.key: what is wrong (hint)``,
never as a traceback. Line numbers come from PyYAML's node marks, so the loader composes the
document once, keeps a map from key paths to positions, and converts the same nodes to
Python values for pydantic.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from syncer.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)
PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


def _walk(node: yaml.Node, path: PathKey, marks: dict[PathKey, Position]) -> None:
    marks.setdefault(path, Position(node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value)
            # Point a key's errors at the key itself, which is where a person looks.
            marks[(*path, key)] = Position(
                key_node.start_mark.line + 1, key_node.start_mark.column + 1
            )
            _walk(value_node, (*path, key), marks)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _walk(child, (*path, index), marks)


def parse_yaml(text: str, source: str) -> tuple[Any, dict[PathKey, Position]]:
    """Parse YAML and return the data with a map of key paths to positions."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise ConfigError(
            [f"{where}: (yaml): {exc.problem or exc} (check indentation and quoting)"]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{source}: (yaml): {exc}"]) from None
    if node is None:
        return {}, {}
    marks: dict[PathKey, Position] = {}
    _walk(node, (), marks)
    data = yaml.SafeLoader(text).get_single_data()
    return data, marks


def _position(loc: PathKey, marks: dict[PathKey, Position]) -> Position:
    for end in range(len(loc), -1, -1):
        found = marks.get(loc[:end])
        if found is not None:
            return found
    return Position(1, 1)


def _model_at(model: type[BaseModel], loc: PathKey) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of ``loc``, for did-you-mean."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _first_model(field.annotation)
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


def _dotted(loc: PathKey) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _hint(error: Any, model: type[BaseModel], loc: PathKey) -> str:
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
        return f"got {error.get('input')!r}"
    if kind == "enum":
        return "use one of the listed values"
    return ""


def _messages(
    exc: ValidationError, model: type[BaseModel], source: str, marks: dict[PathKey, Position]
) -> Iterator[str]:
    for error in exc.errors(include_url=False):
        loc: PathKey = tuple(error["loc"])
        pos = _position(loc, marks)
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        hint = _hint(error, model, loc)
        suffix = f" ({hint})" if hint and hint not in message else ""
        yield f"{source}:{pos.line}:{pos.column}: {_dotted(loc)}: {message}{suffix}"


def _line_order(message: str) -> tuple[int, int]:
    parts = message.split(":", 3)
    try:
        return int(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        return 0, 0


def located(source: str, marks: dict[PathKey, Position], loc: PathKey, message: str) -> str:
    """``FILE:LINE:COL: dotted.key: message`` for a finding outside validation (a warning)."""
    pos = _position(loc, marks)
    return f"{source}:{pos.line}:{pos.column}: {_dotted(loc)}: {message}"


def load_model(model: type[ModelT], text: str, source: str) -> ModelT:
    """Validate ``text`` as ``model``; raise ``ConfigError`` with every problem found."""
    data, marks = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise ConfigError([f"{source}:1:1: (top level): expected a mapping of keys"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(sorted(_messages(exc, model, source, marks), key=_line_order)) from None


def load_model_file(model: type[ModelT], path: Path) -> ModelT:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return load_model(model, text, str(path))
