"""Service-test fixtures: the local PostgreSQL, one schema per test (shared with tests/state)."""

from tests.state.conftest import postgres_schema_url, postgres_url

__all__ = ["postgres_schema_url", "postgres_url"]
