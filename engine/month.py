"""The month summary: what the decisions of each month changed, and what was left open.

A month's figures count the decisions made in it (DESIGN 1, period): for each card, the last
decision of the month that was not undone. An approval counts its card's monthly value at the
time of the decision (decreases and removals negative); a dismissal counts the card; a schedule
counts nothing yet (the card stays open). Money adds the cards' rounded monthly values, so that
what a manager reads adds up (DESIGN 4.9).
"""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from engine.schema import MONEY, CardType, Schema

DECISIONS: Schema = {
    "id": pl.Int64,
    "period": pl.String,
    "account_id": pl.String,
    "account_name": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "vendor": pl.String,
    "card_type": pl.String,
    "action": pl.String,
    "monthly_value": MONEY,
    "undone": pl.Boolean,
}
"""Decisions as recorded: one row per decision (undos aside), with its card as the decider saw
it; `period` is the month it was made in ("2026-11"), `undone` whether an undo reversed it."""

OPEN: Schema = {
    "period": pl.String,
    "card_type": pl.String,
    "cards": pl.Int64,
    "monthly_value": MONEY,
}
"""Open cards of a month, where they are known (this month's, or a month frozen by its close):
one row per period and open card type."""

TYPES = (CardType.INCREASE, CardType.DECREASE, CardType.REMOVAL, CardType.NEW_REVENUE)
"""The card types a month's approvals are split into, in the order a manager reads them."""
GAINS = (CardType.INCREASE.value, CardType.NEW_REVENUE.value)
"""Types whose approval recovers revenue, and whose open cards put revenue at risk."""

FIGURES: Schema = {
    "period": pl.String,
    **{
        name: dtype
        for t in TYPES
        for name, dtype in ((t.value, pl.Int64), (f"{t.value}_value", MONEY))
    },
    "approved": pl.Int64,
    "net_change": MONEY,
    "recovered": MONEY,
    "dismissed": pl.Int64,
    "dismissed_value": MONEY,
    "open": pl.Int64,
    "open_value": MONEY,
    "at_risk": MONEY,
}
"""The headline figures: one row per period. Per approved type its count and monthly value;
`approved` and `net_change` (every approval's monthly value: the change in billed monthly
recurring revenue), `recovered` (approved increases and New Revenue), `dismissed` (and the
monthly value left unbilled or billed on), `open`, `open_value` and `at_risk` (open increases and
New Revenue): null where the month's open cards are not known."""

BREAKDOWN: Schema = {
    "period": pl.String,
    "key": pl.String,
    "name": pl.String,
    "approved": pl.Int64,
    "net_change": MONEY,
    "recovered": MONEY,
    "dismissed": pl.Int64,
}
"""Where the changes are: one row per period and vendor, service or account."""


class Breakdown(StrEnum):
    VENDOR = "vendor"
    SERVICE = "service"
    ACCOUNT = "account"


_BY = {
    Breakdown.VENDOR: ("vendor", "vendor"),
    Breakdown.SERVICE: ("product_id", "product_name"),
    Breakdown.ACCOUNT: ("account_id", "account_name"),
}
_ZERO = pl.lit(0, MONEY)


def counted(decisions: pl.DataFrame) -> pl.DataFrame:
    """Give back the decisions a month counts: one row per period and card (DECISIONS), its last
    decision of the month not undone, when that is an approval or a dismissal."""
    return (
        decisions.filter(~pl.col("undone") & (pl.col("action") != "undo"))
        .sort("id")
        .unique(["period", "account_id", "product_id"], keep="last", maintain_order=True)
        .filter(pl.col("action").is_in(["approve", "dismiss"]))
    )


def month_figures(
    decisions: pl.DataFrame, open_cards: pl.DataFrame, periods: list[str]
) -> pl.DataFrame:
    """Give back the headline figures of each of `periods` (FIGURES), in the order given.

    `decisions` are DECISIONS rows; `open_cards` are OPEN rows, and a period with none has its
    open figures null (not known) unless it is listed there with zero cards.
    """
    rows = counted(decisions.filter(pl.col("period").is_in(periods)))
    approved = pl.col("action") == "approve"
    value = pl.col("monthly_value").fill_null(_ZERO)
    per_type = [
        agg
        for t in TYPES
        for agg in (
            (approved & (pl.col("card_type") == t.value)).sum().cast(pl.Int64).alias(t.value),
            value.filter(approved & (pl.col("card_type") == t.value))
            .sum()
            .cast(MONEY)
            .alias(f"{t.value}_value"),
        )
    ]
    decided = rows.group_by("period").agg(
        *per_type,
        approved.sum().cast(pl.Int64).alias("approved"),
        value.filter(approved).sum().cast(MONEY).alias("net_change"),
        value.filter(approved & pl.col("card_type").is_in(GAINS))
        .sum()
        .cast(MONEY)
        .alias("recovered"),
        (~approved).sum().cast(pl.Int64).alias("dismissed"),
        value.filter(~approved).sum().cast(MONEY).alias("dismissed_value"),
    )
    still_open = open_cards.group_by("period").agg(
        pl.col("cards").sum().cast(pl.Int64).alias("open"),
        pl.col("monthly_value").fill_null(_ZERO).sum().cast(MONEY).alias("open_value"),
        pl.col("monthly_value")
        .fill_null(_ZERO)
        .filter(pl.col("card_type").is_in(GAINS))
        .sum()
        .cast(MONEY)
        .alias("at_risk"),
    )
    zeros = {
        name: pl.col(name).fill_null(pl.lit(0, dtype))
        for name, dtype in FIGURES.items()
        if name not in ("period", "open", "open_value", "at_risk")
    }
    return (
        pl.DataFrame({"period": periods}, schema={"period": pl.String})
        .join(decided, on="period", how="left", maintain_order="left")
        .join(still_open, on="period", how="left", maintain_order="left")
        .with_columns(**zeros)
        .select(pl.col(name).cast(dtype) for name, dtype in FIGURES.items())
    )


def month_breakdown(
    decisions: pl.DataFrame, by: Breakdown | str, periods: list[str]
) -> pl.DataFrame:
    """Give back where each period's decisions were (BREAKDOWN): one row per period and group
    that has a counted decision, by period, then the largest change in revenue either way."""
    key, name = _BY[Breakdown(by)]
    rows = counted(decisions.filter(pl.col("period").is_in(periods)))
    approved = pl.col("action") == "approve"
    value = pl.col("monthly_value").fill_null(_ZERO)
    return (
        rows.group_by("period", pl.col(key).alias("key"))
        .agg(
            pl.col(name).drop_nulls().min().alias("name"),
            approved.sum().cast(pl.Int64).alias("approved"),
            value.filter(approved).sum().cast(MONEY).alias("net_change"),
            value.filter(approved & pl.col("card_type").is_in(GAINS))
            .sum()
            .cast(MONEY)
            .alias("recovered"),
            (~approved).sum().cast(pl.Int64).alias("dismissed"),
        )
        .with_columns(pl.col("name").fill_null(pl.col("key")))
        .sort(
            pl.col("period"),
            pl.col("net_change").abs(),
            pl.col("approved"),
            pl.col("key"),
            descending=[False, True, True, False],
            nulls_last=True,
        )
        .select(pl.col(n).cast(t) for n, t in BREAKDOWN.items())
    )


def periods_until(period: str, months: int) -> list[str]:
    """Give back the `months` periods ending with `period`, oldest first ("2026-11", 3 ->
    ["2026-09", "2026-10", "2026-11"])."""
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months + 1, index + 1)]


def periods_since(first: str | None, last: str, *, at_least: int = 1) -> list[str]:
    """Give back the periods from `first` to `last`, oldest first, and never fewer than
    `at_least` ending with `last` (`first` None: just those)."""
    count = at_least
    if first is not None and first < last:
        (year, month), (first_year, first_month) = (
            (int(part) for part in period.split("-")) for period in (last, first)
        )
        count = max(count, (year - first_year) * 12 + month - first_month + 1)
    return periods_until(last, count)
