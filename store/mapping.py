"""Mapping by hand: map, exclude and unmap vendor items, one at a time or in bulk, and undo.

Every action writes the maps it changes and, in the same transaction, one `map_changes` row per
vendor item with the map before and after, so that `undo_map_action` can put back exactly what
an action changed (one item or a whole bulk action), and the audit log says who did what.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from connectors.csv import Source, read_map
from engine.schema import Schema, conform
from store.access import Permission, authorize
from store.audit import audit, current_user
from store.db import Store
from store.maps import MODELS, SCHEMAS, read_maps, upsert
from store.models import MapChange
from store.types import now

KINDS = ("account", "product")

CHANGES: Schema = {
    "vendor": pl.String,
    "vendor_id": pl.String,
    "psa_id": pl.String,
    "excluded": pl.Boolean,
    "reason": pl.String,
}
"""What an action asks for each vendor item: map it to `psa_id`, exclude it (with a reason), or
neither (unmap: the item is unmapped again, and not auto-mapped again)."""

LABELS = {
    "map": "map",
    "accept": "accept suggestions for",
    "exclude": "exclude",
    "unmap": "unmap",
    "import": "import a map file for",
}
"""How an action reads in an undo button: "Undo: exclude 3 services"."""


@dataclass(frozen=True)
class MapAction:
    """One action on maps: its id (undo reverses it as a whole), what it was, on how many items."""

    action_id: str
    action: str
    kind: str
    items: int
    made_by: str
    made_at: datetime
    added: int = 0
    """Of the items, those that had no map row before."""
    skipped: int = 0
    """Of an undone action's items, those left as they were: changed again since."""

    def describe(self) -> str:
        """Give back the action as a person says it: `exclude 3 services`."""
        noun = "account" if self.kind == "account" else "service"
        return (
            f"{LABELS.get(self.action, self.action)} {self.items:,} {noun}{'s' * (self.items != 1)}"
        )


def change_maps(
    store: Store,
    kind: str,
    changes: pl.DataFrame,
    action: str,
    *,
    user: str | None = None,
    at: datetime | None = None,
    detail: dict[str, Any] | None = None,
) -> MapAction:
    """Give back the action that stored these changes (CHANGES rows) to the maps of `kind`.

    Items whose map already says what is asked are left as they are (and not counted); the
    audit entry holds `detail` beside the changes.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    who, when = user or current_user(), at or now()
    wanted = (
        conform(changes, CHANGES)
        .collect()
        .unique(["vendor", "vendor_id"], keep="last", maintain_order=True)
    )
    with store.session() as session:
        authorize(session, who, Permission.MAP)
        before = _states(session, kind, wanted.select("vendor", "vendor_id"))
        rows = [
            (vendor, vendor_id, before.get((vendor, vendor_id)), _state(psa_id, excluded, reason))
            for vendor, vendor_id, psa_id, excluded, reason in wanted.iter_rows()
        ]
        moved = [row for row in rows if not _same(row[2], row[3])]
        return _record(session, kind, action, moved, who, when, detail=detail)


@dataclass(frozen=True)
class MapImport:
    """What a map file changed: its kind ("account" or "product") and counts of rows."""

    kind: str
    added: int
    changed: int
    unchanged: int


def import_maps(
    store: Store,
    file: Source,
    *,
    name: str | None = None,
    vendor: str | None = None,
    user: str | None = None,
    at: datetime | None = None,
) -> MapImport:
    """Give back what a map file changed, after storing its maps (by hand: not `auto`) as one
    action, undoable as a whole.

    The first row of a vendor item in the file decides, as it does in the engine. A stored map
    whose row says the same stays as it was (with who made it and when).
    """
    with store.session() as session:
        authorize(session, user or current_user(), Permission.MAP)
    imported = read_map(file, name=name, vendor=vendor)
    kind = imported.kind
    incoming = (
        conform(imported.frame, SCHEMAS[kind])
        .collect()
        .unique(["vendor", f"vendor_{kind}_id"], keep="first", maintain_order=True)
        .select(
            "vendor",
            pl.col(f"vendor_{kind}_id").alias("vendor_id"),
            pl.col(f"psa_{kind}_id").alias("psa_id"),
            "excluded",
            "reason",
        )
    )
    shown = name or (None if isinstance(file, bytes) else str(file))
    action = change_maps(store, kind, incoming, "import", user=user, at=at, detail={"file": shown})
    changed = action.items - action.added
    return MapImport(kind, action.added, changed, incoming.height - action.items)


def export_maps(store: Store, kind: str) -> pl.DataFrame:
    """Give back the stored maps of a kind in the map-file format (DESIGN 5): `vendor`,
    `vendor_{kind}_id`, `psa_{kind}_id`, `excluded` ("yes" or null), `reason`. Items unmapped
    by hand are left out: a map file says what maps, not what does not."""
    vendor_id, psa_id = f"vendor_{kind}_id", f"psa_{kind}_id"
    with store.session() as session:
        stored = read_maps(session, kind)
    return (
        stored.filter(pl.col("excluded") | pl.col(psa_id).is_not_null())
        .sort("vendor", vendor_id)
        .select(
            "vendor",
            vendor_id,
            psa_id,
            pl.when("excluded").then(pl.lit("yes")).alias("excluded"),
            "reason",
        )
    )


def map_items(store: Store, kind: str, items: pl.DataFrame, psa_id: str, **who: Any) -> MapAction:
    """Give back the action that mapped every item (rows with vendor, vendor_id) to one PSA
    account or product."""
    return change_maps(store, kind, _changes(items, psa_id=psa_id, excluded=False), "map", **who)


def accept_suggestions(store: Store, kind: str, suggestions: pl.DataFrame, **who: Any) -> MapAction:
    """Give back the action that mapped each item to its own suggested PSA item (rows with
    vendor, vendor_id, psa_id; rows without a psa_id are left out)."""
    chosen = suggestions.filter(pl.col("psa_id").is_not_null())
    changes = chosen.select("vendor", "vendor_id", "psa_id").with_columns(
        pl.lit(False).alias("excluded"), pl.lit(None, pl.String).alias("reason")
    )
    return change_maps(store, kind, changes, "accept", **who)


def exclude_items(
    store: Store, kind: str, items: pl.DataFrame, reason: str | None, **who: Any
) -> MapAction:
    """Give back the action that excluded every item, with a reason (an internal tenant, a
    trial SKU...): their usage is ignored, and they are no longer unmapped."""
    return change_maps(
        store, kind, _changes(items, excluded=True, reason=reason or None), "exclude", **who
    )


def unmap_items(store: Store, kind: str, items: pl.DataFrame, **who: Any) -> MapAction:
    """Give back the action that took the maps or exclusions of every item away: they are
    unmapped again, and exact names no longer auto-map them (DESIGN 4.1)."""
    return change_maps(store, kind, _changes(items, excluded=False), "unmap", **who)


def last_map_action(store: Store, user: str | None = None) -> MapAction | None:
    """Give back the user's last action on maps that is not undone yet, if there is one."""
    with store.session() as session:
        return _last(session, user or current_user())


def undo_map_action(
    store: Store, *, user: str | None = None, at: datetime | None = None
) -> MapAction | None:
    """Give back the user's last action on maps, after putting back every map it changed as it
    was before; None when there is nothing to undo.

    An item changed again since (by someone else) is left as it is now: undo never throws away
    a later change. The action's `skipped` counts those items.
    """
    who, when = user or current_user(), at or now()
    with store.session() as session:
        authorize(session, who, Permission.MAP)
        last = _last(session, who)
        if last is None:
            return None
        changed = session.scalars(
            sa.select(MapChange).where(MapChange.action_id == last.action_id).order_by(MapChange.id)
        ).all()
        keys = pl.DataFrame(
            [(c.vendor, c.vendor_item_id) for c in changed],
            schema={"vendor": pl.String, "vendor_id": pl.String},
            orient="row",
        )
        current = _states(session, last.kind, keys)
        rows = []
        for c in changed:
            now_is = current.get((c.vendor, c.vendor_item_id))
            # Still as the action left it: put it back; else keep the later change (a no-op
            # row, so that the undo is recorded and the action is not offered again).
            rows.append(
                (c.vendor, c.vendor_item_id, now_is, c.before if now_is == c.after else now_is)
            )
        _record(session, last.kind, "undo", rows, who, when, undoes=last.action_id)
    skipped = sum(1 for _, _, now_is, after in rows if now_is == after)
    return replace(last, skipped=skipped)


def _changes(items: pl.DataFrame, **values: Any) -> pl.DataFrame:
    return items.select("vendor", "vendor_id").with_columns(
        pl.lit(values.get("psa_id"), pl.String).alias("psa_id"),
        pl.lit(values.get("excluded", False)).alias("excluded"),
        pl.lit(values.get("reason"), pl.String).alias("reason"),
    )


State = dict[str, Any] | None
"""A map as `map_changes` records it ({psa_id, excluded, reason, auto}), or None: no map row."""


def _state(psa_id: str | None, excluded: bool | None, reason: str | None) -> State:
    excluded = bool(excluded)
    return {
        "psa_id": None if excluded else psa_id,
        "excluded": excluded,
        "reason": reason,
        "auto": False,
    }


def _same(before: State, after: State) -> bool:
    if before is None or after is None:
        return before is after
    fields = ("psa_id", "excluded", "reason")
    return all(before.get(f) == after.get(f) for f in fields)


def _states(session: Session, kind: str, keys: pl.DataFrame) -> dict[tuple[str, str], State]:
    """Give back the stored map of each (vendor, vendor id) of `keys` that has one."""
    vendor_id, psa_id = f"vendor_{kind}_id", f"psa_{kind}_id"
    stored = read_maps(session, kind).join(
        keys.rename({"vendor_id": vendor_id}), on=["vendor", vendor_id], how="semi"
    )
    return {
        (row["vendor"], row[vendor_id]): {
            "psa_id": row[psa_id],
            "excluded": bool(row["excluded"]),
            "reason": row["reason"],
            "auto": bool(row["auto"]),
        }
        for row in stored.iter_rows(named=True)
    }


def _record(
    session: Session,
    kind: str,
    action: str,
    rows: list[tuple[str, str, State, State]],
    user: str,
    at: datetime,
    undoes: str | None = None,
    detail: dict[str, Any] | None = None,
) -> MapAction:
    """Write the maps after each change and the history of the action; give back the action."""
    action_id = uuid.uuid4().hex
    if rows:
        moved = [(v, i, after) for v, i, before, after in rows if before != after]
        written = [(v, i, after) for v, i, after in moved if after is not None]
        deleted = [(v, i) for v, i, after in moved if after is None]
        vendor_id, psa_id = f"vendor_{kind}_id", f"psa_{kind}_id"
        frame = pl.DataFrame(
            [
                (v, i, s["psa_id"], s["excluded"], s["reason"], s.get("auto", False))
                for v, i, s in written
            ],
            schema={
                "vendor": pl.String,
                vendor_id: pl.String,
                psa_id: pl.String,
                "excluded": pl.Boolean,
                "reason": pl.String,
                "auto": pl.Boolean,
            },
            orient="row",
        )
        upsert(session, kind, frame, user, at)
        if deleted:
            model = MODELS[kind]
            column = getattr(model, vendor_id)
            # Many rows by bound parameters: a Core statement (the ORM runs no bulk DELETE).
            session.connection().execute(
                sa.delete(model).where(
                    model.vendor == sa.bindparam("v"), column == sa.bindparam("i")
                ),
                [{"v": v, "i": i} for v, i in deleted],
            )
        session.execute(
            sa.insert(MapChange),
            [
                {
                    "action_id": action_id,
                    "action": action,
                    "kind": kind,
                    "vendor": vendor,
                    "vendor_item_id": item,
                    "before": before,
                    "after": after,
                    "made_by": user,
                    "made_at": at,
                    "undoes": undoes,
                }
                for vendor, item, before, after in rows
            ],
        )
        audit(
            session,
            user,
            f"{kind}_maps_{action}",
            {
                **(detail or {}),
                "action_id": action_id,
                "undoes": undoes,
                "changes": [{"vendor": v, "id": i, "before": b, "after": a} for v, i, b, a in rows],
            },
            at,
        )
    added = sum(1 for _, _, before, _ in rows if before is None)
    return MapAction(action_id, action, kind, len(rows), user, at, added)


def _last(session: Session, user: str) -> MapAction | None:
    undone = sa.select(MapChange.undoes).where(MapChange.undoes.is_not(None))
    last = session.execute(
        sa.select(MapChange.action_id, MapChange.action, MapChange.kind, MapChange.made_at)
        .where(
            MapChange.made_by == user,
            MapChange.action != "undo",
            MapChange.action_id.not_in(undone),
        )
        .order_by(MapChange.id.desc())
        .limit(1)
    ).first()
    if last is None:
        return None
    items = session.scalar(sa.select(sa.func.count()).where(MapChange.action_id == last.action_id))
    return MapAction(last.action_id, last.action, last.kind, items or 0, user, last.made_at)


__all__ = [
    "CHANGES",
    "MapAction",
    "MapImport",
    "accept_suggestions",
    "change_maps",
    "exclude_items",
    "export_maps",
    "import_maps",
    "last_map_action",
    "map_items",
    "undo_map_action",
    "unmap_items",
]
