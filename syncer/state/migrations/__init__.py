"""Alembic migrations of the state store, run by ``syncer.state.migrate`` on every open."""
