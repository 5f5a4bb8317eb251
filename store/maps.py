"""Account and product maps: read as the engine's frames, imported from files, saved as auto."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from connectors.csv import Source, read_map
from engine.schema import ACCOUNT_MAP, PRODUCT_MAP, Schema, conform
from store import bulk
from store.audit import audit, current_user
from store.db import Store
from store.models import AccountMap, ProductMap
from store.types import now

MODELS: dict[str, type[AccountMap] | type[ProductMap]] = {
    "account": AccountMap,
    "product": ProductMap,
}
SCHEMAS: dict[str, Schema] = {"account": ACCOUNT_MAP, "product": PRODUCT_MAP}
FIELDS = ("psa_{}_id", "excluded", "reason")
"""What a map says; a new file changes a stored map only where these differ."""


@dataclass(frozen=True)
class MapImport:
    """What a map file changed: its kind ("account" or "product") and counts of rows."""

    kind: str
    added: int
    changed: int
    unchanged: int


def read_maps(session: Session, kind: str) -> pl.DataFrame:
    """Give back the stored maps of a kind as the engine's frame: one row per vendor item."""
    schema = SCHEMAS[kind]
    # In the order they were made: the engine lets the first map of a vendor item decide.
    sql = f"SELECT {', '.join(schema)} FROM {kind}_maps ORDER BY id"
    return bulk.read_query(session.connection(), sql, schema)


def import_maps(
    store: Store,
    file: Source,
    *,
    name: str | None = None,
    vendor: str | None = None,
    user: str | None = None,
    at: datetime | None = None,
) -> MapImport:
    """Give back what a map file changed, after storing its maps (by hand: not `auto`).

    The first row of a vendor item in the file decides, as it does in the engine. A stored map
    whose row says the same stays as it was (with who made it and when).
    """
    imported = read_map(file, name=name, vendor=vendor)
    kind, key = imported.kind, ["vendor", f"vendor_{imported.kind}_id"]
    fields = [f.format(kind) for f in FIELDS]
    incoming = (
        conform(imported.frame, SCHEMAS[kind])
        .collect()
        .unique(key, keep="first", maintain_order=True)
        .with_columns(pl.lit(False).alias("auto"))
    )
    when, who = at or now(), user or current_user()
    with store.session() as session:
        old = read_maps(session, kind).select(*key, *fields, pl.lit(True).alias("stored"))
        joined = incoming.join(old, on=key, how="left", suffix="_old")
        same = pl.all_horizontal(pl.col(f).eq_missing(pl.col(f"{f}_old")) for f in fields)
        new = joined.filter(pl.col("stored").is_null())
        changed = joined.filter(pl.col("stored").is_not_null() & ~same)
        _upsert(session, kind, pl.concat([new, changed]).select(*SCHEMAS[kind]), who, when)
        before = changed.select(*key, *(pl.col(f"{f}_old").alias(f) for f in fields))
        detail = {
            "file": name or (None if isinstance(file, bytes) else str(file)),
            "added": new.height,
            "before": before.to_dicts(),
            "after": changed.select(*key, *fields).to_dicts(),
        }
        audit(session, who, f"{kind}_maps", detail, when)
    unchanged = incoming.height - new.height - changed.height
    return MapImport(kind, new.height, changed.height, unchanged)


def save_auto_maps(session: Session, kind: str, maps: pl.DataFrame, user: str, at: datetime) -> int:
    """Store the maps the engine made by exact name, marked `auto`, unless a map of the same
    vendor item appeared meanwhile; give back how many were stored."""
    if maps.is_empty():
        return 0
    frame = conform(maps, SCHEMAS[kind]).collect().with_columns(pl.lit(True).alias("auto"))
    _upsert(session, kind, frame, user, at, replace=False)
    key = f"vendor_{kind}_id"
    audit(
        session,
        user,
        f"{kind}_maps_auto",
        {"after": frame.select("vendor", key, f"psa_{kind}_id").to_dicts()},
        at,
    )
    return frame.height


def _upsert(
    session: Session,
    kind: str,
    frame: pl.DataFrame,
    user: str,
    at: datetime,
    *,
    replace: bool = True,
) -> None:
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
