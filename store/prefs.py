"""Per-user preferences, kept in the database so that they follow the user between browsers:
the cards view chosen, a warning not to show again."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from store.db import Store
from store.models import UserPref


def get_pref(store: Store, user: str, key: str, default: str | None = None) -> str | None:
    """Give back the user's preference `key`, or `default` where they have not set it."""
    with store.session() as session:
        value = session.scalar(
            sa.select(UserPref.value).where(UserPref.username == user, UserPref.key == key)
        )
    return default if value is None else value


def set_pref(store: Store, user: str, key: str, value: str) -> None:
    """Set the user's preference `key` to `value`, in place of what it was."""
    with store.session() as session:
        dialect = session.get_bind().dialect.name
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(UserPref)
        session.execute(
            insert.values(username=user, key=key, value=value).on_conflict_do_update(
                index_elements=["username", "key"], set_={"value": insert.excluded.value}
            )
        )


__all__ = ["get_pref", "set_pref"]
