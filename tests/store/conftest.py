"""Every store test runs on SQLite and on PostgreSQL.

Each pytest run creates its own PostgreSQL database (random name, through the `postgres`
maintenance database) and drops it at the end, so runs never see each other's data; each test
starts from an empty schema. Where PostgreSQL is unreachable its tests skip, unless CI=true:
then they fail, so that CI never passes without having tested PostgreSQL.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from store import Store, open_store
from store.credentials import new_key

ADMIN_URL = os.environ.get("TRUEUP_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
"""A PostgreSQL database where this user may CREATE DATABASE (libpq URL)."""


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Give the URL of a database made for this test run, dropped after it."""
    name = f"trueup_test_{secrets.token_hex(6)}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable at {ADMIN_URL} and CI=true: {error}")
        pytest.skip(f"PostgreSQL is unreachable at {ADMIN_URL}: {error}")
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Give the URL of an empty database: a new SQLite file, or this run's PostgreSQL one
    with its schema emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trueup.db'}"
    url: str = request.getfixturevalue("postgres_url")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Give an open, migrated, empty store."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the `trueup` processes a test runs at its empty database, with a secret key."""
    monkeypatch.setenv("DATABASE_URL", store_url)
    monkeypatch.setenv("TRUEUP_USER", "ann")
    monkeypatch.setenv("TRUEUP_SECRET_KEY", new_key())
    return store_url
