"""Fixtures that run every state-store test on SQLite and on the real local PostgreSQL.

Each PostgreSQL test gets a schema of its own (selected through ``search_path`` in the URL),
dropped afterwards, so parallel runs never see each other's rows. When no server answers the
PostgreSQL tests skip with the reason, unless ``PMSYNC_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from syncer.state import StateStore

POSTGRES_CANDIDATES = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A URL of the local PostgreSQL that accepts us, or a skip (a failure in CI) saying why."""
    override = os.environ.get("PMSYNC_TEST_POSTGRES_URL")
    candidates = (override,) if override else POSTGRES_CANDIDATES
    problems = []
    for url in candidates:
        try:
            with psycopg.connect(_libpq(url), connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            return url
        except psycopg.Error as exc:
            problems.append(f"{make_url(url).render_as_string()}: {str(exc).strip()}")
    reason = "PostgreSQL is not reachable (" + "; ".join(problems) + ")"
    if os.environ.get("PMSYNC_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason + " and PMSYNC_REQUIRE_POSTGRES=1 requires it")
    pytest.skip(reason)


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A URL whose ``search_path`` is a fresh schema, dropped when the test ends."""
    schema = f"pmsync_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(postgres_url), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield str(make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"}))
    finally:
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty state database: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[StateStore]:
    """A freshly opened store on each backend, closed after the test."""
    opened = StateStore.open(store_url)
    try:
        yield opened
    finally:
        opened.close()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock starting on 2026-11-23 09:00 UTC."""
    return FakeClock()
