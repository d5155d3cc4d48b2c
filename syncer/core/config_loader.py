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

This module reads the bytes and turns pydantic's errors into located ones; the parsers are
:mod:`syncer.core.config_yaml` and :mod:`syncer.core.config_json`, the shapes they share (limits,
``Document``, ``Located``, ``InputError``) :mod:`syncer.core.config_document`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from syncer.core.config_document import (
    MIB,
    POLICY_LIMITS,
    Document,
    InputError,
    Limits,
    Located,
    PathKey,
)
from syncer.core.config_json import parse_json
from syncer.core.config_yaml import parse_yaml

ModelT = TypeVar("ModelT", bound=BaseModel)

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
