"""Alembic environment: runs the migrations on the connection ``syncer.state.migrate`` hands in.

There is no ``alembic.ini`` and no URL here: the store opens the database itself (with its
pragmas and, on PostgreSQL, a migration lock held in the same transaction) and passes the
connection through ``config.attributes``. Offline SQL generation is not supported.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from syncer.state.schema import Base

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise TypeError("run migrations through syncer.state.migrate, which provides a connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
