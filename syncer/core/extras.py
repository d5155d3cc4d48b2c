"""Optional parts of pmsync (the package's extras) and the message when one is missing.

A plain ``pip install postmortem-sync`` brings what every user runs: the trackers' clients,
the rules, the SQLite state store, the daemon. Two parts cost a lot and serve few, so they are
extras: the PNG trend chart (matplotlib, with numpy, Pillow and fontTools) and the PostgreSQL
driver (psycopg). Each extra in ``pyproject.toml`` has one entry here (a test keeps the two in
step), so a user who reaches a missing part gets one line that names the pip command, never a
traceback from deep inside SQLAlchemy or a renderer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from syncer.core.errors import ConfigError
from syncer.core.version import DISTRIBUTION


@dataclass(frozen=True, slots=True)
class Extra:
    """One optional dependency group: its name in ``pyproject.toml`` and the module it adds."""

    name: str
    module: str

    @property
    def install(self) -> str:
        """The command that installs it, quoted for a POSIX shell."""
        return f"pip install '{DISTRIBUTION}[{self.name}]'"


CHARTS = Extra("charts", "matplotlib")
POSTGRES = Extra("postgres", "psycopg")
EXTRAS = (CHARTS, POSTGRES)


class MissingExtra(ConfigError):
    """A part of pmsync was asked for whose extra is not installed.

    A ``ConfigError``, so every command prints it as one line and exits 2 (bad input: the
    configuration asks for something this installation cannot do).
    """

    def __init__(self, extra: Extra, needed_for: str) -> None:
        self.extra = extra
        self.needed_for = needed_for
        super().__init__(
            [f"{needed_for} needs {extra.module}, which is not installed: {extra.install}"]
        )


def available(extra: Extra) -> bool:
    """Whether the extra's module imports (it is imported, so a later import is free)."""
    try:
        importlib.import_module(extra.module)
    except ImportError:
        return False
    return True


def require(extra: Extra, needed_for: str) -> None:
    """Raise ``MissingExtra`` unless the extra's module imports."""
    if not available(extra):
        raise MissingExtra(extra, needed_for)
