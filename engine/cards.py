"""Service cards from PSA lines, vendor usage and maps (DESIGN section 4)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

import polars as pl

from engine.mapping import (
    active_usage,
    auto_account_maps,
    auto_product_maps,
    psa_accounts,
    psa_products,
    resolve_usage,
)
from engine.money import monthly_value
from engine.schema import (
    ACCOUNT_MAP,
    CARDS,
    CATALOG,
    PRODUCT_MAP,
    PSA_LINES,
    QUANTITY,
    USAGE,
    CardType,
    Schema,
    conform,
)

Frame = pl.DataFrame | pl.LazyFrame


@dataclass(frozen=True)
class Reconciliation:
    cards: pl.DataFrame
    """CARDS, sorted by account_id then product_id."""
    unmapped: pl.DataFrame
    """UNMAPPED, sorted by kind, vendor, vendor_id."""
    auto_account_maps: pl.DataFrame
    """The account maps made by exact name in this run (for the store to save as `auto`)."""
    auto_product_maps: pl.DataFrame
    """The product maps made by exact name in this run."""
    per_vendor: pl.DataFrame = field(repr=False)
    """One row per (account, product, vendor) that a vendor maps, cards or not."""

    @cached_property
    def card_vendors(self) -> pl.DataFrame:
        """One row per card and vendor that maps both its account and product (in no set
        order): the vendor's quantity and whether it has data. The vendor filter matches a
        card through these rows. Made when first asked for: a CSV export never needs it."""
        return self.per_vendor.join(
            self.cards.select("account_id", "product_id"),
            on=["account_id", "product_id"],
            how="semi",
        ).select("account_id", "product_id", "vendor", "quantity", "has_data")


def reconcile(
    psa_lines: Frame,
    usage: Frame,
    account_maps: Frame | None = None,
    product_maps: Frame | None = None,
    catalog: Frame | None = None,
    *,
    auto_map: bool = True,
    vendors_with_data: Iterable[str] | None = None,
) -> Reconciliation:
    """Give back the service cards and the unmapped list of one reconciliation.

    `vendors_with_data` names the vendors whose counts are known in this reconciliation (a file
    given, or a good snapshot); by default, the vendors that appear in `usage`.
    """
    # Inputs and intermediate frames are materialised once: several steps read each of them,
    # and a lazy plan would compute them again for every reader.
    lines = conform(psa_lines, PSA_LINES).collect().lazy()
    usage_lf = active_usage(conform(usage, USAGE)).collect().lazy()
    accounts_lf = conform(_or_empty(account_maps, ACCOUNT_MAP), ACCOUNT_MAP)
    products_lf = conform(_or_empty(product_maps, PRODUCT_MAP), PRODUCT_MAP)
    catalog_lf = conform(_or_empty(catalog, CATALOG), CATALOG).collect().lazy()

    if auto_map:
        auto_accounts, auto_products = pl.collect_all(
            [
                auto_account_maps(usage_lf, accounts_lf, lines).sort("vendor", "vendor_account_id"),
                auto_product_maps(usage_lf, products_lf, lines, catalog_lf).sort(
                    "vendor", "vendor_product_id"
                ),
            ]
        )
    else:
        auto_accounts = pl.DataFrame(schema=ACCOUNT_MAP)
        auto_products = pl.DataFrame(schema=PRODUCT_MAP)
    accounts_lf = pl.concat([accounts_lf, auto_accounts.lazy()]).collect().lazy()
    products_lf = pl.concat([products_lf, auto_products.lazy()]).collect().lazy()

    if vendors_with_data is None:
        with_data = usage_lf.select(pl.col("vendor").unique())
    else:
        with_data = pl.LazyFrame(
            {"vendor": sorted(set(vendors_with_data))}, schema={"vendor": pl.String}
        )

    resolved = resolve_usage(usage_lf, accounts_lf, products_lf)
    mapped, unmapped, psa = pl.collect_all(
        [resolved.mapped, resolved.unmapped, _psa_side(lines, products_lf)]
    )
    per_vendor = _per_vendor(psa.lazy(), mapped.lazy(), accounts_lf, products_lf, with_data)
    per_vendor_df = per_vendor.collect()
    cards = _cards(psa.lazy(), per_vendor_df.lazy(), lines, catalog_lf).collect()
    return Reconciliation(cards, unmapped, auto_accounts, auto_products, per_vendor_df)


def _or_empty(frame: Frame | None, schema: Schema) -> Frame:
    return pl.DataFrame(schema=schema) if frame is None else frame


def _mapped_pairs(maps: pl.LazyFrame, map_id: str, psa_id: str) -> pl.LazyFrame:
    """Give back one row per vendor and PSA id that the vendor maps something to."""
    # The first row of a vendor item decides, as it does for usage (`resolve_usage`): a later
    # row must not make a vendor count an account whose usage it ignores as excluded.
    return (
        maps.unique(["vendor", map_id], keep="first", maintain_order=True)
        .filter(~pl.col("excluded").fill_null(False) & pl.col(psa_id).is_not_null())
        .select("vendor", psa_id)
        .unique()
    )


def _psa_side(lines: pl.LazyFrame, product_maps: pl.LazyFrame) -> pl.LazyFrame:
    """Give back one row per PSA account and reconciled product: its PSA quantity over all
    contracts and its target line's contract, line, price, cycle and proration (DESIGN 4.4, 4.5).

    The target line is the largest; ties go to the smallest contract id, then line id, as text
    (a missing id is the empty text, so it sorts first).
    """
    reconciled = (
        _mapped_pairs(product_maps, "vendor_product_id", "psa_product_id")
        .select(pl.col("psa_product_id").alias("product_id"))
        .unique()
    )
    keys = ["account_id", "product_id"]
    target = ["contract_id", "line_id", "unit_price", "billing_months", "prorate"]
    reconciled_lines = lines.join(reconciled, on="product_id", how="semi").with_columns(
        pl.col("contract_id", "line_id").fill_null("")
    )
    # Most accounts have one line of a product: it is its own target, and only the others
    # need sorting.
    lines_of_card = pl.len().over(keys)
    single = reconciled_lines.filter(lines_of_card == 1).select(
        *keys, pl.col("quantity").alias("psa_quantity"), *target
    )
    several = (
        reconciled_lines.filter(lines_of_card > 1)
        .sort(
            [*keys, "quantity", "contract_id", "line_id"],
            descending=[False, False, True, False, False],
        )
        .group_by(keys, maintain_order=True)
        .agg(pl.col("quantity").sum().alias("psa_quantity"), pl.col(target).first())
    )
    return pl.concat([single, several]).with_columns(
        pl.col("contract_id", "line_id").replace("", None)
    )


def _per_vendor(
    psa: pl.LazyFrame,
    mapped_usage: pl.LazyFrame,
    account_maps: pl.LazyFrame,
    product_maps: pl.LazyFrame,
    with_data: pl.LazyFrame,
) -> pl.LazyFrame:
    """Give back one row per (account, product, vendor) where the vendor maps some vendor
    account to the account and some vendor product to the product: its mapped usage (0 if none)
    and whether it has data in this reconciliation (DESIGN 4.3 and 4.6)."""
    vendor_accounts = _mapped_pairs(account_maps, "vendor_account_id", "psa_account_id")
    vendor_products = _mapped_pairs(product_maps, "vendor_product_id", "psa_product_id")
    zero = pl.lit(0).cast(QUANTITY).alias("quantity")
    known_without_usage = (
        psa.select("account_id", "product_id")
        .join(vendor_accounts, left_on="account_id", right_on="psa_account_id")
        .join(
            vendor_products,
            left_on=["vendor", "product_id"],
            right_on=["vendor", "psa_product_id"],
            how="semi",
        )
        .select("vendor", "account_id", "product_id", zero)
    )
    with_usage = mapped_usage.select(
        "vendor",
        pl.col("psa_account_id").alias("account_id"),
        pl.col("psa_product_id").alias("product_id"),
        "quantity",
    )
    return (
        pl.concat([with_usage, known_without_usage])
        .group_by("account_id", "product_id", "vendor")
        .agg(pl.col("quantity").sum())
        .join(with_data.with_columns(has_data=pl.lit(True)), on="vendor", how="left")
        .with_columns(pl.col("has_data").fill_null(False))
    )


def _vendor_side(per_vendor: pl.LazyFrame) -> pl.LazyFrame:
    """Give back one row per (account, product) some vendor maps: whether its count is known,
    the vendor quantity, and the card's vendor.

    The card's vendor contributes most of its quantity (ties: first by name), preferring
    vendors with data so that a vendor whose file is missing does not name a known card.
    Most cards have one vendor, which needs no ranking; only the others are sorted.
    """
    keys = ["account_id", "product_id"]
    vendors_of_card = pl.len().over(keys)
    single = per_vendor.filter(vendors_of_card == 1).select(
        *keys,
        pl.col("has_data").alias("known"),
        pl.when("has_data")
        .then("quantity")
        .otherwise(pl.lit(0).cast(QUANTITY))
        .alias("vendor_quantity"),
        "vendor",
    )
    several = (
        per_vendor.filter(vendors_of_card > 1)
        .sort(
            [*keys, "has_data", "quantity", "vendor"], descending=[False, False, True, True, False]
        )
        .group_by(keys, maintain_order=True)
        .agg(
            pl.col("has_data").any().alias("known"),
            pl.col("quantity").filter("has_data").sum().alias("vendor_quantity"),
            pl.col("vendor").first(),
        )
    )
    return pl.concat([single, several])


def _cards(
    psa: pl.LazyFrame, per_vendor: pl.LazyFrame, lines: pl.LazyFrame, catalog: pl.LazyFrame
) -> pl.LazyFrame:
    """Give back the cards, one row per PSA account and PSA product (DESIGN 4.6 to 4.8)."""
    vendor = _vendor_side(per_vendor)

    prices = (
        catalog.group_by("product_id")
        .agg(
            pl.col("unit_price").drop_nulls().first(),
            pl.col("billing_months").drop_nulls().first(),
        )
        .collect()
    )
    accounts = psa_accounts(lines).collect()
    products = psa_products(lines, catalog).collect()
    psa_qty, vendor_qty = pl.col("psa_quantity"), pl.col("vendor_quantity")
    has_line = psa_qty.is_not_null()
    card_type = (
        pl.when(~has_line)
        .then(pl.lit(CardType.NEW_REVENUE.value))
        .when(~pl.col("known"))
        .then(pl.lit(CardType.NO_VENDOR_DATA.value))
        .when(vendor_qty == psa_qty)
        .then(pl.lit(CardType.UNCHANGED.value))
        .when(vendor_qty > psa_qty)
        .then(pl.lit(CardType.INCREASE.value))
        .when(vendor_qty == 0)
        .then(pl.lit(CardType.REMOVAL.value))
        .otherwise(pl.lit(CardType.DECREASE.value))
    )
    cards = (
        psa.join(vendor, on=["account_id", "product_id"], how="full", coalesce=True)
        .with_columns(pl.col("known").fill_null(False))
        # 4.7: no card without a PSA line and without vendor quantity
        .filter(has_line | (pl.col("known") & (vendor_qty > 0)))
        .with_columns(
            psa_qty.fill_null(pl.lit(0).cast(QUANTITY)),
            pl.when(pl.col("known")).then(vendor_qty).otherwise(None).alias("vendor_quantity"),
            pl.when(has_line)
            .then(pl.col("unit_price"))
            .otherwise(_look_up(prices, "product_id", "unit_price")),
            pl.when(has_line)
            .then(pl.col("billing_months"))
            .otherwise(_look_up(prices, "product_id", "billing_months")),
            card_type.alias("card_type"),
        )
        .with_columns((vendor_qty - psa_qty).cast(QUANTITY).alias("change"))
        .with_columns(
            monthly_value(pl.col("change"), pl.col("unit_price"), pl.col("billing_months"))
        )
        .sort(_card_key())
        .with_columns(
            _look_up(accounts, "account_id", "account_name"),
            _look_up(products, "product_id", "product_name"),
        )
    )
    return conform(cards, CARDS)


def _look_up(table: pl.DataFrame, key: str, column: str) -> pl.Expr:
    """Give back `column` of `table` for each row's `key` (null where it has none).

    A lookup adds one column; a join would copy every column of the cards to add it.
    """
    return (
        pl.col(key)
        .replace_strict(table[key], table[column], default=None, return_dtype=table.schema[column])
        .alias(column)
    )


def _card_key() -> pl.Expr:
    """Give back the cards' sort key: account id then product id, byte-wise as text.

    One binary key with a NUL between the ids sorts as the pair does (ids hold no NUL) and
    sorts faster than two text keys.
    """
    return pl.concat_str("account_id", pl.lit("\x00"), "product_id").cast(pl.Binary)
