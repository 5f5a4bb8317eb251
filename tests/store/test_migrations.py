"""The migrations build the schema the models declare, from an empty database and back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from store import open_store
from store.migrate import config, current, head, pending_changes
from store.models import Base

TABLES = {
    "sources",
    "sync_runs",
    "psa_lines",
    "usage_lines",
    "catalog_lines",
    "account_maps",
    "product_maps",
    "decisions",
    "audit_log",
    "settings",
    "card_summaries",
    "map_changes",
    "card_locks",
    "user_prefs",
    "month_closes",
    "month_figures",
    "write_backs",
    "commitment_lines",
    "users",
}


def test_opening_an_empty_database_migrates_it_to_the_newest_revision(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.engine.connect() as connection:
            assert current(connection) == head()
        assert set(sa.inspect(store.engine).get_table_names()) >= TABLES
        assert set(Base.metadata.tables) == TABLES
    finally:
        store.dispose()


def test_the_models_and_the_migrations_agree(store_url: str) -> None:
    # This fails when a model changes without a migration: add one with
    # `command.revision(config(connection), message=..., autogenerate=True)` and review it.
    store = open_store(store_url)
    try:
        assert pending_changes(store) == []
    finally:
        store.dispose()


def test_downgrade_to_empty_and_upgrade_again(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.engine.begin() as connection:
            command.downgrade(config(connection), "base")
        assert set(sa.inspect(store.engine).get_table_names()) <= {"alembic_version"}
        with store.engine.begin() as connection:
            command.upgrade(config(connection), "head")
        assert pending_changes(store) == []
    finally:
        store.dispose()


def test_opening_a_migrated_store_again_changes_nothing(store_url: str) -> None:
    open_store(store_url).dispose()
    store = open_store(store_url)
    try:
        with store.engine.connect() as connection:
            assert current(connection) == head()
    finally:
        store.dispose()
