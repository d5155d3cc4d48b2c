"""The schema is versioned with Alembic, applied on open, and matches the ORM models."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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
    "write_window",
    "view_entry",
    "webhook_delivery",
}
REPO = Path(__file__).resolve().parents[2]
VERSIONS = REPO / "syncer" / "state" / "migrations" / "versions"


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

    def test_the_revisions_form_one_line_ending_at_the_newest_file(self) -> None:
        """One head, so every replica upgrades to the same schema: each revision revises the one
        numbered before it, and the head is the newest file."""
        script = ScriptDirectory.from_config(alembic_config())
        assert script.get_heads() == [head_revision()]
        numbered = sorted(path.name[:4] for path in VERSIONS.glob("[0-9][0-9][0-9][0-9]_*.py"))
        assert numbered[-1] == head_revision()
        downs = {r.revision: r.down_revision for r in script.walk_revisions()}
        assert downs == dict(zip(numbered, [None, *numbered[:-1]], strict=True))
        result = subprocess.run(
            [sys.executable, "-m", "syncer.state.migrations", "head"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout == f"{head_revision()}\n"


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
            assert versions.scalars().all() == [head_revision()]


OPEN_STORE = """
import sys
from syncer.core.logging_setup import configure_logging
configure_logging(level=sys.argv[2], json_output=True)
from syncer.state import StateStore
StateStore.open(path=__import__("pathlib").Path(sys.argv[1])).close()
"""


def log_lines_of_opening(path: Path, level: str = "INFO") -> list[dict[str, object]]:
    """The JSON log lines a fresh process writes while it opens the store at ``path``.

    A process of its own, because Alembic logs some of its lines when it is first imported.
    """
    result = subprocess.run(
        [sys.executable, "-c", OPEN_STORE, str(path), level],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return [json.loads(line) for line in result.stderr.splitlines()]


class TestMigrationLogging:
    def test_a_fresh_database_is_announced_in_one_line_from_empty_to_head(
        self, tmp_path: Path
    ) -> None:
        """No Alembic narration: one line of ours names the revisions from and to."""
        lines = log_lines_of_opening(tmp_path / "state.db")
        assert [(line["event"], line["from_revision"], line["to_revision"]) for line in lines] == [
            ("state schema migrated", "empty", head_revision())
        ]

    def test_opening_a_current_database_logs_nothing(self, tmp_path: Path) -> None:
        """The everyday case (every command opens the store) is silent."""
        StateStore.open(path=tmp_path / "state.db").close()
        assert log_lines_of_opening(tmp_path / "state.db") == []

    def test_an_older_database_is_announced_with_the_revision_it_was_at(
        self, tmp_path: Path
    ) -> None:
        """A database left at 0001 by an older pmsync: migrated from 0001 to the head."""
        engine = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "0001")
        engine.dispose()
        lines = log_lines_of_opening(tmp_path / "state.db")
        assert [(line["from_revision"], line["to_revision"]) for line in lines] == [
            ("0001", head_revision())
        ]

    def test_at_debug_alembic_narrates_its_steps_again(self, tmp_path: Path) -> None:
        """Someone debugging a migration sees Alembic's own lines, ours among them."""
        lines = log_lines_of_opening(tmp_path / "state.db", level="DEBUG")
        loggers = {str(line["logger"]) for line in lines}
        assert "alembic.runtime.migration" in loggers
        assert any(str(line["event"]).startswith("Running upgrade 0001 -> 0002") for line in lines)
        assert "state schema migrated" in [line["event"] for line in lines]
