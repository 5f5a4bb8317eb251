"""Maps: auto-maps by exact name, and usage resolved through the maps (DESIGN 4.1 and 4.2)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from engine.schema import ACCOUNT_MAP, PRODUCT_MAP, QUANTITY, UNMAPPED


def normalised(name: pl.Expr) -> pl.Expr:
    """Give back the name trimmed, inner whitespace collapsed and case-folded (DESIGN 4.1)."""
    # Upper then lower case-folds where lower alone does not: "Straße" and "STRASSE" match.
    folded = name.str.to_uppercase().str.to_lowercase()
    return folded.str.replace_all(r"\s+", " ").str.strip_chars()


def active_usage(usage: pl.LazyFrame) -> pl.LazyFrame:
    """Give back usage with the quantity of rows whose status is not active set to 0.

    Rows stay, so that a vendor reporting only cancelled subscriptions still has data and its
    accounts count as known with 0 (DESIGN 4.6).
    """
    status = pl.col("status").str.strip_chars().str.to_lowercase()
    is_active = status.is_null() | (status == "active") | (status == "")
    return usage.with_columns(
        pl.when(is_active).then(pl.col("quantity")).otherwise(pl.lit(0).cast(QUANTITY))
    )


def psa_accounts(psa_lines: pl.LazyFrame) -> pl.LazyFrame:
    """Give back one row per PSA account of the PSA lines, with its name."""
    return psa_lines.group_by("account_id").agg(pl.col("account_name").min())


def psa_products(psa_lines: pl.LazyFrame, catalog: pl.LazyFrame) -> pl.LazyFrame:
    """Give back one row per PSA product known from the lines or the catalogue, with its name.

    The catalogue's name wins over the names on lines.
    """
    from_lines = psa_lines.group_by("product_id").agg(pl.col("product_name").min())
    from_catalog = catalog.group_by("product_id").agg(pl.col("product_name").min())
    return from_lines.join(
        from_catalog, on="product_id", how="full", coalesce=True, suffix="_cat"
    ).select(
        "product_id",
        pl.coalesce("product_name_cat", "product_name").alias("product_name"),
    )


def _exact_name_maps(
    usage: pl.LazyFrame,
    existing: pl.LazyFrame,
    psa_items: pl.LazyFrame,
    *,
    item: str,
    map_id: str,
    psa_id: str,
) -> pl.LazyFrame:
    """Give back one auto-map row per vendor item with no map row whose normalised name equals
    the normalised name of exactly one PSA item."""
    item_id, item_name = f"{item}_id", f"{item}_name"
    unique_names = (
        psa_items.select(pl.col(item_id).alias(psa_id), normalised(pl.col(item_name)).alias("key"))
        .drop_nulls("key")
        .unique()
        .filter(pl.len().over("key") == 1)
    )
    # Usage rows without a map row are dropped before grouping: most usage is mapped, and an
    # anti-join is cheaper than grouping every row by vendor item.
    without_map = usage.join(
        existing, left_on=["vendor", item_id], right_on=["vendor", map_id], how="anti"
    )
    return (
        without_map.group_by("vendor", item_id)
        .agg(pl.col(item_name).min())
        .with_columns(normalised(pl.col(item_name)).alias("key"))
        .join(unique_names, on="key", how="inner")
        .select(
            "vendor",
            pl.col(item_id).alias(map_id),
            psa_id,
            pl.lit(False).alias("excluded"),
            pl.lit(None, pl.String).alias("reason"),
            pl.lit(True).alias("auto"),
        )
    )


def auto_account_maps(
    usage: pl.LazyFrame, account_maps: pl.LazyFrame, psa_lines: pl.LazyFrame
) -> pl.LazyFrame:
    """Give back the auto-maps of vendor accounts (ACCOUNT_MAP rows with `auto` true)."""
    return _exact_name_maps(
        usage,
        account_maps,
        psa_accounts(psa_lines),
        item="account",
        map_id="vendor_account_id",
        psa_id="psa_account_id",
    ).cast(ACCOUNT_MAP)  # type: ignore[arg-type]


def auto_product_maps(
    usage: pl.LazyFrame,
    product_maps: pl.LazyFrame,
    psa_lines: pl.LazyFrame,
    catalog: pl.LazyFrame,
) -> pl.LazyFrame:
    """Give back the auto-maps of vendor products (PRODUCT_MAP rows with `auto` true)."""
    return _exact_name_maps(
        usage,
        product_maps,
        psa_products(psa_lines, catalog),
        item="product",
        map_id="vendor_product_id",
        psa_id="psa_product_id",
    ).cast(PRODUCT_MAP)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ResolvedUsage:
    mapped: pl.LazyFrame
    """One row per usage row that reaches a card: vendor, psa_account_id, psa_product_id,
    quantity."""
    unmapped: pl.LazyFrame
    """The UNMAPPED list."""


def _map_lookup(maps: pl.LazyFrame, map_id: str, psa_id: str, flag: str) -> pl.LazyFrame:
    """Give back one row per (vendor, vendor id) of the maps: the PSA id, or null if excluded.

    A row with neither a PSA id nor `excluded` (unmapped by hand) is no map: its item stays
    unmapped."""
    says_something = pl.col("excluded").fill_null(False) | pl.col(psa_id).is_not_null()
    return (
        maps.filter(says_something)
        .unique(["vendor", map_id], keep="first", maintain_order=True)
        .select(
            "vendor",
            map_id,
            pl.when(pl.col("excluded").fill_null(False))
            .then(pl.lit(None, pl.String))
            .otherwise(pl.col(psa_id))
            .alias(psa_id),
            pl.lit(True).alias(flag),
        )
    )


def resolve_usage(
    usage: pl.LazyFrame, account_maps: pl.LazyFrame, product_maps: pl.LazyFrame
) -> ResolvedUsage:
    """Give back usage split into what reaches cards and what is unmapped (DESIGN 4.2)."""
    joined = usage.join(
        _map_lookup(account_maps, "vendor_account_id", "psa_account_id", "account_has_map"),
        left_on=["vendor", "account_id"],
        right_on=["vendor", "vendor_account_id"],
        how="left",
    ).join(
        _map_lookup(product_maps, "vendor_product_id", "psa_product_id", "product_has_map"),
        left_on=["vendor", "product_id"],
        right_on=["vendor", "vendor_product_id"],
        how="left",
    )
    mapped = joined.filter(
        pl.col("psa_account_id").is_not_null() & pl.col("psa_product_id").is_not_null()
    ).select("vendor", "psa_account_id", "psa_product_id", "quantity")

    def unmapped_items(kind: str, item: str, has_map: str) -> pl.LazyFrame:
        return (
            joined.filter(pl.col(has_map).is_null())
            .group_by("vendor", pl.col(f"{item}_id").alias("vendor_id"))
            .agg(pl.col(f"{item}_name").min().alias("vendor_name"), pl.col("quantity").sum())
            .select(pl.lit(kind).alias("kind"), "vendor", "vendor_id", "vendor_name", "quantity")
        )

    unmapped = (
        pl.concat(
            [
                unmapped_items("account", "account", "account_has_map"),
                unmapped_items("product", "product", "product_has_map"),
            ]
        )
        .cast(UNMAPPED)  # type: ignore[arg-type]
        .sort("kind", "vendor", "vendor_id")
    )
    return ResolvedUsage(mapped=mapped, unmapped=unmapped)


def suggest_unmapped(
    unmapped: pl.DataFrame,
    usage: pl.DataFrame,
    psa_lines: pl.DataFrame,
    catalog: pl.DataFrame,
    account_maps: pl.DataFrame,
) -> pl.DataFrame:
    """Give back one suggestion per unmapped item (SUGGESTIONS, accounts then products).

    Accounts are compared with the PSA accounts of the lines (with a tenant's domain and external
    id beside the company's website, where the sources have them); products with the PSA
    products of the lines and the catalogue. A PSA account that already has an account of the
    same vendor (`account_maps`, auto-maps included) is offered only when nothing better is.
    """
    # Imported here: the suggester loads its word lists once, when first needed.
    from engine.suggest import suggest_accounts, suggest_products

    evidence = usage.group_by("vendor", pl.col("account_id").alias("vendor_id")).agg(
        pl.col("account_domain").drop_nulls().first().alias("domain"),
        pl.col("account_external_id").drop_nulls().first().alias("external_id"),
    )
    accounts = unmapped.filter(kind="account").join(
        evidence, on=["vendor", "vendor_id"], how="left", maintain_order="left"
    )
    book = (
        psa_lines.group_by("account_id")
        .agg(pl.col("account_name").min(), pl.col("account_website").drop_nulls().first())
        .select(
            pl.col("account_id").alias("psa_id"),
            pl.col("account_name").alias("psa_name"),
            pl.col("account_website").alias("website"),
        )
        .sort("psa_id")
    )
    taken = account_maps.filter(pl.col("psa_account_id").is_not_null()).select(
        "vendor", pl.col("psa_account_id").alias("psa_id")
    )
    products = (
        psa_products(psa_lines.lazy(), catalog.lazy())
        .select(pl.col("product_id").alias("psa_id"), pl.col("product_name").alias("psa_name"))
        .sort("psa_id")
        .collect()
    )
    return pl.concat(
        [
            suggest_accounts(accounts, book, taken),
            suggest_products(unmapped.filter(kind="product"), products),
        ]
    )
