"""What the Mapping page lists: the unmapped items with suggestions, the maps and exclusions,
what was renamed since the last sync and what is gone."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.mapping import psa_products, suggest_unmapped
from engine.schema import Schema
from store import bulk
from store.cards import current_cards
from store.db import Store
from store.maps import MODELS
from store.models import SyncRun, UsageLine
from store.snapshots import source_states
from store.types import SnapshotKind, SourceKind, SyncStatus

SEEN: Schema = {
    "vendor": pl.String,
    "vendor_id": pl.String,
    "seen_name": pl.String,
    "first_seen": pl.Datetime("us", "UTC"),
}

MAPS: Schema = {
    "vendor": pl.String,
    "vendor_id": pl.String,
    "psa_id": pl.String,
    "excluded": pl.Boolean,
    "reason": pl.String,
    "auto": pl.Boolean,
    "made_by": pl.String,
    "made_at": pl.Datetime("us", "UTC"),
}

RENAMED: Schema = {
    "side": pl.String,
    "source": pl.String,
    "id": pl.String,
    "old_name": pl.String,
    "new_name": pl.String,
}
"""One item whose name changed between the last two good syncs of its source: `side` is
"vendor account", "vendor product", "PSA account" or "PSA product"."""


@dataclass(frozen=True)
class KindLists:
    """The lists of one kind of item (accounts or products)."""

    unmapped: pl.DataFrame
    """One row per unmapped item: vendor, distributor, vendor_id, vendor_name, quantity,
    (products: accounts), first_seen, and the best suggestion: psa_id, psa_name, score, reason."""
    mapped: pl.DataFrame
    """One row per map: vendor, distributor, vendor_id, vendor_name, psa_id, psa_name, auto,
    made_by, made_at, gone."""
    excluded: pl.DataFrame
    """One row per exclusion: vendor, distributor, vendor_id, vendor_name, reason, made_by,
    made_at, gone."""
    psa_items: pl.DataFrame
    """Every PSA account or product a vendor item can map to: psa_id, psa_name."""


@dataclass(frozen=True)
class MapLists:
    accounts: KindLists
    products: KindLists
    renamed: pl.DataFrame
    """RENAMED rows: names that changed since the previous sync; the maps hold (keyed by ids)."""
    sources: list[str]
    """The vendors and distributors of the current usage, for the page's filter."""

    def of(self, kind: str) -> KindLists:
        return self.accounts if kind == "account" else self.products


def map_lists(store: Store) -> MapLists:
    """Give back the Mapping page's lists for the current snapshots and maps."""
    current = current_cards(store)
    inputs = current.inputs
    usage = inputs.usage
    with store.session() as session:
        maps = {kind: _stored_maps(session, kind) for kind in ("account", "product")}
        renamed = _renamed(session)
        unmapped = current.result.unmapped
        seen = {
            kind: _seen(session, kind, unmapped.filter(kind=kind).select("vendor", "vendor_id"))
            for kind in ("account", "product")
        }
    distributors = usage.group_by("vendor").agg(pl.col("distributor").drop_nulls().min())
    psa_accounts = (
        inputs.psa_lines.group_by("account_id")
        .agg(pl.col("account_name").min())
        .select(pl.col("account_id").alias("psa_id"), pl.col("account_name").alias("psa_name"))
        .sort("psa_name", "psa_id")
    )
    products = (
        psa_products(inputs.psa_lines.lazy(), inputs.catalog.lazy())
        .select(pl.col("product_id").alias("psa_id"), pl.col("product_name").alias("psa_name"))
        .collect()
        .sort("psa_name", "psa_id")
    )
    in_usage = {
        kind: usage.group_by("vendor", pl.col(f"{kind}_id").alias("vendor_id")).agg(
            pl.col(f"{kind}_name").min().alias("vendor_name")
        )
        for kind in ("account", "product")
    }
    vendors = inputs.vendors_with_data

    account_maps = pl.concat([inputs.account_maps, current.result.auto_account_maps])
    suggestions = suggest_unmapped(unmapped, usage, inputs.psa_lines, inputs.catalog, account_maps)
    accounts_using = usage.group_by("vendor", pl.col("product_id").alias("vendor_id")).agg(
        pl.col("account_id").n_unique().alias("accounts")
    )

    def unmapped_list(
        kind: str, suggestions: pl.DataFrame, extra: pl.DataFrame | None
    ) -> pl.DataFrame:
        items = unmapped.filter(kind=kind).drop("kind")
        if extra is not None:
            items = items.join(extra, on=["vendor", "vendor_id"], how="left", maintain_order="left")
        return (
            items.join(distributors, on="vendor", how="left", maintain_order="left")
            .join(
                seen[kind].drop("seen_name"),
                on=["vendor", "vendor_id"],
                how="left",
                maintain_order="left",
            )
            .join(
                suggestions.select("vendor", "vendor_id", "psa_id", "psa_name", "score", "reason"),
                on=["vendor", "vendor_id"],
                how="left",
                maintain_order="left",
            )
            .sort(pl.col("score").fill_null(-1), "quantity", descending=True)
        )

    def kind_lists(kind: str, psa_items: pl.DataFrame, unmapped_rows: pl.DataFrame) -> KindLists:
        stored = (
            maps[kind]
            .join(in_usage[kind], on=["vendor", "vendor_id"], how="left", maintain_order="left")
            .join(distributors, on="vendor", how="left", maintain_order="left")
            .with_columns(
                # Gone: its vendor has data in this reconciliation, and this item is not in it.
                (pl.col("vendor").is_in(vendors) & pl.col("vendor_name").is_null()).alias("gone")
            )
        )
        mapped = stored.filter(pl.col("psa_id").is_not_null()).join(
            psa_items.select("psa_id", "psa_name"), on="psa_id", how="left", maintain_order="left"
        )
        return KindLists(
            unmapped=unmapped_rows,
            mapped=mapped.select(
                "vendor",
                "distributor",
                "vendor_id",
                "vendor_name",
                "psa_id",
                "psa_name",
                "auto",
                "made_by",
                "made_at",
                "gone",
            ).sort("vendor", "vendor_name", nulls_last=True),
            excluded=stored.filter("excluded")
            .select(
                "vendor",
                "distributor",
                "vendor_id",
                "vendor_name",
                "reason",
                "made_by",
                "made_at",
                "gone",
            )
            .sort("vendor", "vendor_name", nulls_last=True),
            psa_items=psa_items.select("psa_id", "psa_name"),
        )

    sources = sorted(
        set(usage.get_column("vendor").drop_nulls())
        | set(usage.get_column("distributor").drop_nulls())
    )
    return MapLists(
        accounts=kind_lists("account", psa_accounts, unmapped_list("account", suggestions, None)),
        products=kind_lists(
            "product", products, unmapped_list("product", suggestions, accounts_using)
        ),
        renamed=renamed,
        sources=sources,
    )


def _stored_maps(session: Session, kind: str) -> pl.DataFrame:
    """Give back every stored map row of a kind, with who made it and when."""
    model = MODELS[kind]
    query = sa.select(
        model.vendor,
        getattr(model, f"vendor_{kind}_id"),
        getattr(model, f"psa_{kind}_id"),
        model.excluded,
        model.reason,
        model.auto,
        model.made_by,
        model.made_at,
    ).order_by(model.id)
    return pl.DataFrame([tuple(r) for r in session.execute(query)], schema=MAPS, orient="row")


def _seen(session: Session, kind: str, items: pl.DataFrame) -> pl.DataFrame:
    """Give back, for each vendor item of `items`, when a good sync still kept first had it,
    and its name (SEEN)."""
    if items.is_empty():
        return pl.DataFrame(schema=SEEN)
    item_id = getattr(UsageLine, f"{kind}_id")
    ids = sorted(set(items.get_column("vendor_id").drop_nulls()))
    frames = [pl.DataFrame(schema=SEEN)]
    for start in range(0, len(ids), 500):
        query = (
            sa.select(
                UsageLine.vendor,
                item_id,
                sa.func.max(getattr(UsageLine, f"{kind}_name")),
                sa.func.min(SyncRun.started_at),
            )
            .join(SyncRun, SyncRun.id == UsageLine.sync_run_id)
            .where(SyncRun.status == SyncStatus.OK, item_id.in_(ids[start : start + 500]))
            .group_by(UsageLine.vendor, item_id)
        )
        rows = [tuple(r) for r in session.execute(query)]
        frames.append(pl.DataFrame(rows, schema=SEEN, orient="row"))
    return pl.concat(frames).join(items, on=["vendor", "vendor_id"], how="semi")


def _renamed(session: Session) -> pl.DataFrame:
    """Give back the names that changed between the last two good syncs of each source (RENAMED)."""
    runs = session.execute(
        sa.select(SyncRun.id, SyncRun.source_id)
        .where(SyncRun.status == SyncStatus.OK, SyncRun.pruned.is_(False))
        .where(SyncRun.kind.in_([SnapshotKind.PSA, SnapshotKind.USAGE]))
        .order_by(SyncRun.id)
    ).all()
    by_source: dict[int, list[int]] = {}
    for run_id, source_id in runs:
        by_source.setdefault(source_id, []).append(run_id)
    names = {s.last_good.source_id: (s.name, s.kind) for s in source_states(session) if s.last_good}
    frames = [pl.DataFrame(schema=RENAMED)]
    connection = session.connection()
    for source_id, run_ids in by_source.items():
        if len(run_ids) < 2 or source_id not in names:
            continue
        source, kind = names[source_id]
        previous, last = run_ids[-2], run_ids[-1]
        is_psa = kind is SourceKind.PSA
        table = "psa_lines" if is_psa else "usage_lines"
        for item in ("account", "product"):
            side = f"{'PSA' if is_psa else 'vendor'} {item}"
            key = "'' AS vendor" if is_psa else "vendor"
            sql = (
                f"SELECT DISTINCT sync_run_id, {key}, {item}_id, {item}_name FROM {table} "
                f"WHERE sync_run_id IN ({previous}, {last})"
            )
            seen = bulk.read_query(
                connection,
                sql,
                {"run": pl.Int64, "vendor": pl.String, "id": pl.String, "name": pl.String},
            )
            old = seen.filter(run=previous).group_by("vendor", "id").agg(pl.col("name").min())
            new = seen.filter(run=last).group_by("vendor", "id").agg(pl.col("name").min())
            changed = old.join(new, on=["vendor", "id"], suffix="_new").filter(
                pl.col("name") != pl.col("name_new")
            )
            frames.append(
                changed.select(
                    pl.lit(side).alias("side"),
                    (pl.lit(source) if is_psa else pl.col("vendor")).alias("source"),
                    "id",
                    pl.col("name").alias("old_name"),
                    pl.col("name_new").alias("new_name"),
                ).cast(RENAMED)  # type: ignore[arg-type]
            )
    return pl.concat(frames).sort("side", "source", "new_name")
