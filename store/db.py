"""Where the store lives and how to open it: SQLite by default, PostgreSQL by `DATABASE_URL`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from errors import TrueUpError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "data" / "trueup.db"
"""The workspace of a plain install: a file under the checkout's git-ignored `data/`."""


class StoreUnavailable(TrueUpError):
    title = "The store cannot be opened"


@dataclass(frozen=True)
class Store:
    """An open store: its engine, migrated to the newest schema."""

    engine: sa.Engine

    @property
    def dialect(self) -> str:
        """Give back "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Give a session whose work commits at the end of the block, or rolls back on error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def dispose(self) -> None:
        """Close the store's connections."""
        self.engine.dispose()


def database_url(url: str | None = None) -> str:
    """Give back the SQLAlchemy URL of the store: `url`, else `DATABASE_URL`, else the file."""
    url = url or os.environ.get("DATABASE_URL")
    if not url:
        DEFAULT_PATH.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DEFAULT_PATH}"
    # libpq-style URLs (as CI and hosting platforms give them) name no driver; ours is psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def shown_url(url: str) -> str:
    """Give back a store URL as it may be shown or logged: its password masked."""
    return make_url(url).render_as_string(hide_password=True)


def open_store(url: str | None = None) -> Store:
    """Give back the store at `url` (see `database_url`), its schema migrated to the newest.

    Raises StoreUnavailable when the database cannot be reached.
    """
    from store.migrate import upgrade

    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        # Another process may hold the write lock for the seconds of a large import.
        engine = sa.create_engine(resolved, connect_args={"timeout": 30})
        _sqlite_transactions(engine)
    else:
        engine = sa.create_engine(resolved, pool_pre_ping=True)
    store = Store(engine)
    try:
        upgrade(store)
    except sa.exc.OperationalError as error:
        engine.dispose()
        shown = sa.make_url(resolved).render_as_string(hide_password=True)
        raise StoreUnavailable(
            f"cannot open the store at {shown}: {error.orig}; check DATABASE_URL"
        ) from None
    return store


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Make SQLite transactions real: Python's sqlite3 begins them late and on its own terms.

    With the driver's own handling off, SQLAlchemy's BEGIN covers every statement of a
    transaction, the bulk writes on the raw connection included (SQLAlchemy's documented recipe).
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets the app read while an import writes; NORMAL is safe with WAL and far faster.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN")
