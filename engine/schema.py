"""The frames the engine reads and writes, declared once.

Every connector returns these frames and every engine function takes them; a frame that reaches
the engine has exactly these columns and types (`conform` makes it so).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import polars as pl

Schema = dict[str, Any]
"""Column name to Polars data type."""

QUANTITY = pl.Decimal(18, 4)
"""Quantities and unit prices: exact, four places (DESIGN 4.9)."""

EXACT = pl.Decimal(38, 12)
"""Working precision for money before its single rounding to cents: wide enough that a product of
two four-place values divided by a cycle length never lands on the wrong side of a half cent."""

MONEY = pl.Decimal(38, 2)


class CardType(StrEnum):
    NEW_REVENUE = "new_revenue"
    INCREASE = "increase"
    DECREASE = "decrease"
    REMOVAL = "removal"
    UNCHANGED = "unchanged"
    NO_VENDOR_DATA = "no_vendor_data"


OPEN_TYPES = (CardType.INCREASE, CardType.DECREASE, CardType.REMOVAL, CardType.NEW_REVENUE)
"""Card types that ask for a decision (DESIGN 4.10)."""

USAGE: Schema = {
    "vendor": pl.String,
    "distributor": pl.String,
    "account_id": pl.String,
    "account_name": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "quantity": QUANTITY,
    "unit_cost": QUANTITY,
    "billing_term": pl.String,
    "status": pl.String,
    "account_domain": pl.String,
    "account_external_id": pl.String,
}
"""Vendor usage: one row per vendor, vendor account and vendor product (ids are the vendor's).
`account_domain` (a tenant's domain) and `account_external_id` (the id the vendor keeps for the
customer in the PSA) are evidence for map suggestions, where a source has them."""

PSA_LINES: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "contract_id": pl.String,
    "contract_name": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "line_id": pl.String,
    "quantity": QUANTITY,
    "unit_price": QUANTITY,
    "unit_cost": QUANTITY,
    "prorate": pl.Boolean,
    "billing_months": pl.Int32,
    "account_website": pl.String,
}
"""PSA agreement lines: one row per contract line. `account_website` is the company's web
address, where the PSA has one: evidence for map suggestions."""

ACCOUNT_MAP: Schema = {
    "vendor": pl.String,
    "vendor_account_id": pl.String,
    "psa_account_id": pl.String,
    "excluded": pl.Boolean,
    "reason": pl.String,
    "auto": pl.Boolean,
}
"""Account maps: one row per vendor and vendor account; excluded rows have no PSA account;
`auto` marks a map made by exact name (DESIGN 4.1). A row with neither a PSA account nor
`excluded` is an item unmapped by hand: it counts as unmapped and is never auto-mapped again."""

PRODUCT_MAP: Schema = {
    "vendor": pl.String,
    "vendor_product_id": pl.String,
    "psa_product_id": pl.String,
    "excluded": pl.Boolean,
    "reason": pl.String,
    "auto": pl.Boolean,
}
"""Product maps: one row per vendor and vendor product (SKU)."""

CATALOG: Schema = {
    "product_id": pl.String,
    "product_name": pl.String,
    "unit_price": QUANTITY,
    "unit_cost": QUANTITY,
    "billing_months": pl.Int32,
}
"""The PSA's product catalogue: one row per PSA product, with its list price."""

CARDS: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "contract_id": pl.String,
    "line_id": pl.String,
    "psa_quantity": QUANTITY,
    "vendor_quantity": QUANTITY,
    "change": QUANTITY,
    "card_type": pl.String,
    "unit_price": QUANTITY,
    "billing_months": pl.Int32,
    "prorate": pl.Boolean,
    "monthly_value": MONEY,
    "vendor": pl.String,
}
"""Service cards: one row per PSA account and PSA product. `vendor_quantity` and `change` are
null where there is no vendor data; `monthly_value` is already rounded to cents."""

UNMAPPED: Schema = {
    "kind": pl.String,
    "vendor": pl.String,
    "vendor_id": pl.String,
    "vendor_name": pl.String,
    "quantity": QUANTITY,
}
"""Unmapped items: one row per vendor account or vendor product with neither a map nor an
exclusion; `quantity` is all the active usage reported for it."""


def conform(frame: pl.DataFrame | pl.LazyFrame, schema: Schema) -> pl.LazyFrame:
    """Give back `frame` with exactly the columns of `schema`, missing ones as nulls, cast."""
    lazy = frame.lazy()
    present = set(lazy.collect_schema().names())
    return lazy.select(
        (pl.col(name) if name in present else pl.lit(None)).cast(dtype).alias(name)
        for name, dtype in schema.items()
    )
