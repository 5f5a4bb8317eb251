"""Outliers for spot checks (DESIGN 6)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from engine.schema import EXACT

MIN_CHANGE = Decimal(10)
"""N: a change of fewer units is never an outlier."""
ACCOUNT_RATIO = Decimal("0.5")
"""R: a change is an outlier when it is at least this share of the account's reconciled seats."""


def flag_outliers(
    cards: pl.DataFrame, min_change: Decimal = MIN_CHANGE, ratio: Decimal = ACCOUNT_RATIO
) -> pl.DataFrame:
    """Give back `cards` with `flagged`: |change| ≥ max(N, R × the account's PSA quantity over
    reconciled products). A 5-seat account at +50 is flagged; a 500-seat one is not."""
    account_total = pl.col("psa_quantity").cast(EXACT).sum().over("account_id")
    threshold = pl.max_horizontal(
        pl.lit(min_change).cast(EXACT), account_total * pl.lit(ratio).cast(EXACT)
    )
    return cards.with_columns(
        (pl.col("change").cast(EXACT).abs() >= threshold).fill_null(False).alias("flagged")
    )
