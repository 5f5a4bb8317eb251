"""Account and product maps: read as the engine's frames, written, and saved as auto.

What users do to maps (by hand or by file) goes through `store.mapping`, which keeps its history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.schema import ACCOUNT_MAP, PRODUCT_MAP, Schema, conform
from store import bulk
from store.audit import audit
from store.models import AccountMap, ProductMap

MODELS: dict[str, type[AccountMap] | type[ProductMap]] = {
    "account": AccountMap,
    "product": ProductMap,
}
SCHEMAS: dict[str, Schema] = {"account": ACCOUNT_MAP, "product": PRODUCT_MAP}


def read_maps(session: Session, kind: str) -> pl.DataFrame:
    """Give back the stored maps of a kind as the engine's frame: one row per vendor item."""
    schema = SCHEMAS[kind]
    # In the order they were made: the engine lets the first map of a vendor item decide.
    sql = f"SELECT {', '.join(schema)} FROM {kind}_maps ORDER BY id"
    return bulk.read_query(session.connection(), sql, schema)


def save_auto_maps(session: Session, kind: str, maps: pl.DataFrame, user: str, at: datetime) -> int:
    """Store the maps the engine made by exact name, marked `auto`, unless a map of the same
    vendor item appeared meanwhile; give back how many were stored."""
    if maps.is_empty():
        return 0
    frame = conform(maps, SCHEMAS[kind]).collect().with_columns(pl.lit(True).alias("auto"))
    upsert(session, kind, frame, user, at, replace=False)
    key = f"vendor_{kind}_id"
    audit(
        session,
        user,
        f"{kind}_maps_auto",
        {"after": frame.select("vendor", key, f"psa_{kind}_id").to_dicts()},
        at,
    )
    return frame.height


def upsert(
    session: Session,
    kind: str,
    frame: pl.DataFrame,
    user: str,
    at: datetime,
    *,
    replace: bool = True,
) -> None:
    """Write maps (rows of ACCOUNT_MAP or PRODUCT_MAP) made by `user` at `at`: in place of the
    stored map of the same vendor item (`replace`), or only where there is none."""
    if frame.is_empty():
        return
    model = MODELS[kind]
    rows: list[dict[str, Any]] = frame.with_columns(
        pl.col("excluded").fill_null(False), pl.col("auto").fill_null(False)
    ).to_dicts()
    for row in rows:
        row.update(made_by=user, made_at=at)
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
    key = ["vendor", f"vendor_{kind}_id"]
    if replace:
        updated = {c: insert.excluded[c] for c in rows[0] if c not in key}
        statement = insert.on_conflict_do_update(index_elements=key, set_=updated)
    else:
        statement = insert.on_conflict_do_nothing(index_elements=key)
    session.execute(statement, rows)
