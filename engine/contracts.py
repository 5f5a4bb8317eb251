"""Contracts of approved changes: the default agreement of New Revenue, and the changes to apply
in the PSA with their prorated amounts (DESIGN 6)."""

from __future__ import annotations

import polars as pl

from engine.money import prorated_amount
from engine.schema import MONEY, QUANTITY, CardType, Schema

DEFAULT_CONTRACTS: Schema = {
    "account_id": pl.String,
    "product_id": pl.String,
    "contract_id": pl.String,
}
"""One row per New Revenue card: the agreement its approval goes to by default (null: none)."""

APPROVALS: Schema = {
    "account_id": pl.String,
    "product_id": pl.String,
    "contract_id": pl.String,
    "effective_date": pl.Date,
    "approved_by": pl.String,
    "approved_at": pl.Datetime("us", "UTC"),
}
"""The approval in force of each card to change: one row per PSA account and product."""

CHANGES: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "contract_id": pl.String,
    "line_id": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "old_quantity": QUANTITY,
    "new_quantity": QUANTITY,
    "effective_date": pl.Date,
    "prorated_amount": MONEY,
    "monthly_value": MONEY,
    "approved_by": pl.String,
    "approved_at": pl.Datetime("us", "UTC"),
}
"""Approved changes to apply in the PSA: one row per card (account and product)."""


def default_contracts(cards: pl.DataFrame, psa_lines: pl.DataFrame) -> pl.DataFrame:
    """Give back the default contract of each New Revenue card (DEFAULT_CONTRACTS): the
    account's agreement holding most of its reconciled lines, ties to the smallest contract id
    as text; null where the account has no lines.

    Reconciled lines are those of the products the cards are of (DESIGN 4.4). An account whose
    lines are all of other products (labour, hardware) still has agreements: then the one
    holding most of its lines is taken.
    """
    new = cards.filter(pl.col("card_type") == CardType.NEW_REVENUE.value).select(
        "account_id", "product_id"
    )
    reconciled = cards.get_column("product_id").unique().implode()
    ranked = (
        psa_lines.filter(pl.col("contract_id").is_not_null())
        .group_by("account_id", "contract_id")
        .agg(
            pl.col("product_id").is_in(reconciled).sum().alias("reconciled"),
            pl.len().alias("lines"),
        )
        .sort(
            ["reconciled", "lines", "contract_id"],
            descending=[True, True, False],
        )
        .unique("account_id", keep="first")
        .select("account_id", "contract_id")
    )
    return new.join(ranked, on="account_id", how="left", maintain_order="left").cast(
        DEFAULT_CONTRACTS  # type: ignore[arg-type]
    )


def changes_to_apply(
    cards: pl.DataFrame, approvals: pl.DataFrame, psa_lines: pl.DataFrame
) -> pl.DataFrame:
    """Give back the approved changes to apply in the PSA (CHANGES), one row per card of
    `cards` (CARDS) that `approvals` (APPROVALS) holds an approval for.

    The old quantity is what the PSA bills now, the new one what the vendor reports (an approval
    holds only while it is what it was approved at). The change is prorated from its effective
    date where its line prorates; a New Revenue card (no line) where the agreement it goes to
    has a line that prorates; elsewhere there is no prorated amount (DESIGN 6).
    """
    prorating = (
        psa_lines.group_by("account_id", "contract_id")
        .agg(pl.col("prorate").fill_null(False).any().alias("contract_prorates"))
        .cast({"contract_id": pl.String})
    )
    joined = (
        cards.join(
            approvals.rename({"contract_id": "approved_contract_id"}),
            on=["account_id", "product_id"],
            how="inner",
            maintain_order="left",
        )
        .join(
            prorating,
            left_on=["account_id", "approved_contract_id"],
            right_on=["account_id", "contract_id"],
            how="left",
        )
        .with_columns(
            pl.coalesce("approved_contract_id", "contract_id").alias("contract_id"),
            pl.when(pl.col("line_id").is_not_null())
            .then(pl.col("prorate"))
            .otherwise(pl.col("contract_prorates"))
            .fill_null(False)
            .alias("prorates"),
        )
    )
    amounts = [
        prorated_amount(change, price, effective, months or 1)
        if prorates and change is not None and price is not None and effective is not None
        else None
        for change, price, effective, months, prorates in joined.select(
            "change", "unit_price", "effective_date", "billing_months", "prorates"
        ).iter_rows()
    ]
    return joined.with_columns(
        pl.col("psa_quantity").alias("old_quantity"),
        pl.col("vendor_quantity").alias("new_quantity"),
        pl.Series("prorated_amount", amounts, dtype=MONEY),
    ).select([pl.col(name).cast(dtype) for name, dtype in CHANGES.items()])
