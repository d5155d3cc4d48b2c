"""Shared helpers for the postmortem tests: the example record and small text edits."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from syncer.core.policy import Policy
from syncer.postmortem.record import Record, load_text

DATA = Path(__file__).parent / "data"
EXAMPLE = DATA / "incident.yaml"
TODAY = date(2026, 11, 4)


def example_text() -> str:
    return EXAMPLE.read_text(encoding="utf-8")


def edit(text: str, old: str, new: str) -> str:
    """Replace ``old`` exactly once, so a test cannot silently edit nothing."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in text")


@pytest.fixture
def policy() -> Policy:
    return Policy(version="test")


@pytest.fixture
def record(policy: Policy) -> Record:
    return load_text(example_text(), "incident.yaml", policy, TODAY)
