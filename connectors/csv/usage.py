"""Vendor usage files: one row per vendor account and product, after adding up repeats."""

from __future__ import annotations

import polars as pl

from connectors.csv import cells
from connectors.csv.cells import value
from connectors.csv.headers import Columns
from engine.schema import QUANTITY, USAGE, conform

REQUIRED = {
    "quantity": ("quantity",),
    "account": ("account_id", "account_name"),
    "product": ("product_id", "product_name"),
}
"""The columns a usage file must have: each group needs one of its fields."""


def usage_frame(
    name: str,
    text: pl.DataFrame,
    columns: Columns,
    *,
    vendor: str | None,
    decimal_comma: bool,
) -> tuple[pl.DataFrame, list[str]]:
    """Give back the usage (a USAGE frame, one row per vendor, account id and product id) and
    the warnings.

    Repeated keys add up; only active rows (status empty or "active") count, so a key whose
    rows are all inactive stays, with quantity 0.
    """
    vendor_value, checks = cells.vendor(name, columns, vendor)
    account_id, account_name, account_check = cells.id_and_name(columns, "account")
    product_id, product_name, product_check = cells.id_and_name(columns, "product")
    numbers = cells.numbers(text, columns, ["quantity", "unit_cost"], decimal_comma=decimal_comma)
    checks += [
        account_check,
        product_check,
        *cells.number_checks(numbers, columns, decimal_comma=decimal_comma),
    ]
    values = {
        "vendor": vendor_value,
        "account_id": account_id,
        "account_name": account_name,
        "product_id": product_id,
        "product_name": product_name,
        "quantity": numbers["quantity"].value,
        "unit_cost": numbers["unit_cost"].value,
        "rounded": cells.rounded(*numbers.values()),
    }
    evaluated = cells.evaluate(text, values, checks)
    cells.raise_problems(name, cells.problems(columns, evaluated, checks))
    return _added_up(evaluated, columns), cells.rounding_warning(evaluated)


KEY = ["vendor", "account_id", "product_id"]
FIRST = ["account_name", "product_name", "unit_cost"]


def _added_up(evaluated: pl.DataFrame, columns: Columns) -> pl.DataFrame:
    """Give back one row per key: the keys that appear once in file order, then the others.

    Only the rows of repeated keys go through the (costly) group-by.
    """
    texts = cells.present(
        columns, "distributor", "billing_term", "status", "account_domain", "account_external_id"
    )
    rows = evaluated.select("row", *(value(f).alias(f) for f in [*KEY, *FIRST, "quantity"]), *texts)
    if "status" in columns.positions:
        status = pl.col("status")
        rows = rows.with_columns(
            (status.is_null() | (status.str.to_lowercase() == "active")).alias("active")
        ).with_columns(
            pl.when("active").then("quantity").otherwise(pl.lit(0).cast(QUANTITY)),
            pl.when("active").then(pl.lit("active")).otherwise(status).alias("status"),
        )
    repeated = rows.select(pl.struct(KEY).is_duplicated()).to_series()
    if not repeated.any():
        return conform(rows, USAGE).collect()
    once = rows.filter(repeated.not_())
    added = pl.concat([once, _group(rows.filter(repeated), texts)], how="diagonal")
    return conform(added, USAGE).collect()


def _group(rows: pl.DataFrame, texts: list[str]) -> pl.DataFrame:
    """Give back one row per key of `rows`: quantities added up, the first names found, and
    "active" as status if any row is active."""
    status = []
    if "status" in texts:
        texts = [t for t in texts if t != "status"]
        status = [
            pl.when(pl.col("active").any())
            .then(pl.lit("active"))
            .otherwise(pl.col("status").first())
            .alias("status")
        ]
    return rows.group_by(KEY).agg(
        pl.col("row").first(),
        *(pl.col(f).drop_nulls().first() for f in [*FIRST, *texts]),
        pl.col("quantity").sum(),
        *status,
    )
