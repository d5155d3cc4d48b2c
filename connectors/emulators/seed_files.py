"""Seed files of the emulators: read by pmsync's safe loader, every problem located.

Both emulators take a seed (a YAML or JSON file, or an already parsed mapping). The file is
read by ``syncer.core.config_loader`` (size, UTF-8, nesting, aliases, duplicate keys: the limits of
``SEED_LIMITS``), checked against the emulator's seed model, then loaded; a problem met while
loading (a relative date that is not one, a milestone or user that does not exist, a number
taken twice) is reported at the key it came from. Every message is
``FILE:LINE:COL: dotted.key: problem``, never a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from syncer.core.config_document import SEED_LIMITS, Document, InputError, parse_dotted
from syncer.core.config_loader import load_file, validation_problems


class SeedError(ValueError):
    """A seed that cannot be loaded; the message names the file, line and key (``where``)."""

    def __init__(self, problem: str, where: str = "") -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.problem = problem
        self.where = where


def read_document(source: str | Path | Mapping[str, Any]) -> Document:
    """A seed file through the safe loader, or a mapping as it is (named ``<seed>``)."""
    if isinstance(source, Mapping):
        return Document("<seed>", "", source)
    try:
        return load_file(Path(source), SEED_LIMITS)
    except InputError as exc:
        raise SeedError("\n".join(exc.problems)) from None


@contextlib.contextmanager
def seeding(document: Document) -> Iterator[None]:
    """Turn every problem met while seeding into a ``SeedError`` located in ``document``."""
    try:
        yield
    except InputError as exc:
        raise SeedError("\n".join(exc.problems)) from None
    except SeedError as exc:
        if not exc.where:
            raise
        located = document.problem(parse_dotted(exc.where), exc.problem)
        raise SeedError(str(located)) from None


@contextlib.contextmanager
def refused_at(where: str, *api_errors: type[Exception]) -> Iterator[None]:
    """Whatever the emulator refuses in the block (a taken number, an unknown user...) is a
    problem of ``where``; ``api_errors`` are the emulator's own error answers."""
    refused: tuple[type[Exception], ...] = (
        ValueError,
        LookupError,
        TypeError,
        OverflowError,
        *api_errors,
    )
    try:
        yield
    except SeedError:
        raise
    except refused as exc:
        body = getattr(exc, "body", None)
        detail = body.get("message", exc) if isinstance(body, dict) else exc
        raise SeedError(f"the emulator refused it: {detail}", where) from None


def check_seed(model: type[BaseModel], document: Document, expected: str) -> None:
    """Validate ``document`` against ``model``; one ``SeedError`` listing every problem."""
    if not isinstance(document.data, Mapping):
        raise SeedError(f"{document.file}:1:1: (top level): expected {expected}")
    try:
        model.model_validate(document.data)
    except ValidationError as exc:
        problems = validation_problems(exc, model, document)
        raise SeedError("\n".join(str(p) for p in problems)) from None
