"""The demo workspace: a realistic MSP's year of true-ups (twelve closed months) and this month
open with its work, so that a new install opens on a working app whose charts tell a story.

`ensure_demo` seeds an empty store (the app calls it when it starts); `reset_demo` deletes
everything and seeds again (`trueup demo --reset`, the Settings page). Everything is written
through the store's own functions, as a team's syncs and decisions would be.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa

from store.access import Permission, authorize
from store.audit import audit, current_user
from store.db import Store
from store.demo.seed import Demo, is_empty, seed_demo
from store.models import AuditEntry, Base, User
from store.types import now

__all__ = ["Demo", "ensure_demo", "is_empty", "reset_demo", "seed_demo", "wipe"]

_SEEDING = threading.Lock()
"""One seeding at a time in this process (the app's sessions are threads)."""
_ADVISORY_LOCK = 7165
"""And across processes on PostgreSQL (7164 guards the migrations)."""


def ensure_demo(store: Store, today: date | None = None) -> Demo | None:
    """Give back the demo seeded into the store when it holds no work, else None (no change).

    `today` defaults to today's date in UTC, so that no demo sync lies in the future.
    """
    with _one_at_a_time(store):
        if not is_empty(store):
            return None
        return seed_demo(store, today=today or now().date())


def reset_demo(store: Store, today: date | None = None, *, user: str | None = None) -> Demo:
    """Give back the demo seeded again after deleting everything in the store but its people
    and its audit log (an admin's reset signs nobody out, and leaves nobody acting as the
    operator; the reset is audited)."""
    with _one_at_a_time(store):
        who = user or current_user()
        with store.session() as session:
            authorize(session, who, Permission.SETTINGS)
        wipe(store)
        with store.session() as session:
            audit(session, who, "demo_reset", {"kept": ["users", "audit_log"]})
        return seed_demo(store, today=today or now().date())


def wipe(store: Store) -> None:
    """Delete every row of every table but the people (`users`) and the audit log, which keeps
    every entry (the database refuses to delete one), in one transaction; the schema stays."""
    kept = {User.__tablename__, AuditEntry.__tablename__}
    tables = [
        table.name for table in reversed(Base.metadata.sorted_tables) if table.name not in kept
    ]
    with store.session() as session:
        if store.dialect == "postgresql":
            # TRUNCATE also restarts the ids, so that a reset store numbers its syncs from 1.
            session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
        else:
            for table in tables:
                session.execute(sa.text(f"DELETE FROM {table}"))


@contextmanager
def _one_at_a_time(store: Store) -> Iterator[None]:
    with _SEEDING:
        if store.dialect != "postgresql":
            yield
            return
        with store.engine.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({_ADVISORY_LOCK})")
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_ADVISORY_LOCK})")
