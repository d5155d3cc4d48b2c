"""Fixtures shared by every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from syncer.core.redaction import REDACTOR


@pytest.fixture(autouse=True)
def forget_registered_secrets() -> Iterator[None]:
    """Each test starts with an empty process-wide redactor, as a fresh process does.

    Commands and connectors register the tokens they read; without this, a short token of
    one test (``t0ken``) would be redacted from the text another test asserts on.
    """
    yield
    REDACTOR.clear()
