"""Alembic, configured in code: the store migrates itself when it opens (no alembic.ini)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from store.db import Store
from store.models import Base

SCRIPTS = Path(__file__).resolve().parent / "migrations"


def config(connection: sa.Connection | None = None) -> Config:
    """Give back the Alembic configuration; `connection` is the one migrations run on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str | None:
    """Give back the newest migration's revision."""
    return ScriptDirectory.from_config(config()).get_current_head()


def current(connection: sa.Connection) -> str | None:
    """Give back the revision the database is at (None when it is empty)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(store: Store) -> None:
    """Bring the store's schema to the newest migration; cheap when it is already there."""
    with store.engine.connect() as connection:
        if current(connection) == head():
            return
    with store.engine.begin() as connection:
        if store.dialect == "postgresql":
            # Two processes starting on an empty database must not both create the tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7164)")
        command.upgrade(config(connection), "head")


def pending_changes(store: Store) -> list[Any]:
    """Give back what the models declare that the migrations do not make (empty: in step)."""
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(context, Base.metadata))
