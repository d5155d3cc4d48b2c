"""The schema is versioned with Alembic, applied on open, and matches the ORM models."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, inspect, text

from syncer.state import SchemaTooNewError, StateStore
from syncer.state.migrate import alembic_config, head_revision
from syncer.state.schema import Base

TABLES = {
    "sync_cursor",
    "ledger_entry",
    "daily_count",
    "known_marker",
    "leader_lease",
    "user_lookup",
}
REPO = Path(__file__).resolve().parents[2]


def schema_differences(store: StateStore, metadata: MetaData = Base.metadata) -> list[object]:
    """What ``alembic check`` would report between the database and ``metadata``."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


class TestUpgrade:
    def test_an_empty_database_is_upgraded_to_exactly_the_orm_schema(
        self, store: StateStore
    ) -> None:
        """After open, autogenerate finds nothing to change: migrations and models agree."""
        assert schema_differences(store) == []
        tables = set(inspect(store.engine).get_table_names())
        assert tables == TABLES | {"alembic_version"}

    def test_the_comparison_notices_a_model_the_migrations_do_not_create(
        self, store: StateStore
    ) -> None:
        """The check has teeth: a table missing from the migrations is reported."""
        metadata = MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(metadata)
        Table("escalation_snapshot", metadata, Column("id", Integer, primary_key=True))
        differences = schema_differences(store, metadata)
        assert [d[0] for d in differences if isinstance(d, tuple)] == ["add_table"]

    def test_the_ledger_has_indexes_on_time_and_on_item(self, store: StateStore) -> None:
        """entries_between and explain are index lookups."""
        indexes = {
            i["name"]: i["column_names"] for i in inspect(store.engine).get_indexes("ledger_entry")
        }
        assert indexes == {
            "ix_ledger_entry_at": ["at"],
            "ix_ledger_entry_item": ["tracker", "item_key", "at"],
            "ux_ledger_entry_dedupe_key": ["dedupe_key"],
        }

    def test_downgrading_to_base_and_upgrading_again_restores_the_schema(
        self, store: StateStore
    ) -> None:
        """Each revision's downgrade undoes its upgrade."""
        with store.engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        assert set(inspect(store.engine).get_table_names()) == {"alembic_version"}
        with store.engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        assert schema_differences(store) == []

    def test_the_revisions_form_one_line_ending_at_the_initial_head(self) -> None:
        """One head, so every replica upgrades to the same schema."""
        assert head_revision() == "0003"
        result = subprocess.run(
            [sys.executable, "-m", "syncer.state.migrations", "head"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout == "0003\n"


class TestOpeningExistingDatabases:
    def test_a_database_migrated_by_a_newer_pmsync_is_refused_untouched(
        self, store_url: str
    ) -> None:
        """An unknown revision stops the open with a message saying what to do."""
        StateStore.open(store_url).close()
        engine = create_engine(store_url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
        with pytest.raises(SchemaTooNewError, match=r"0099.*run a newer pmsync"):
            StateStore.open(store_url)
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar_one() == "0099"
        engine.dispose()

    def test_replicas_opening_a_fresh_database_at_once_all_succeed(self, store_url: str) -> None:
        """The migration lock makes concurrent first opens queue instead of colliding."""
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def open_store() -> None:
            barrier.wait()
            try:
                StateStore.open(store_url).close()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        with StateStore.open(store_url) as store, store.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert versions.scalars().all() == ["0003"]
