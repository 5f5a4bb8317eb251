"""Group summaries of cards: by account, product, contract or vendor."""

from __future__ import annotations

from enum import StrEnum

import polars as pl

from engine.schema import MONEY, QUANTITY


class GroupBy(StrEnum):
    ACCOUNT = "account"
    PRODUCT = "product"
    CONTRACT = "contract"
    VENDOR = "vendor"
    TYPE = "type"


_KEYS = {
    GroupBy.ACCOUNT: ("account_id", "account_name"),
    GroupBy.PRODUCT: ("product_id", "product_name"),
    GroupBy.CONTRACT: ("contract_id", "contract_id"),
    GroupBy.VENDOR: ("vendor", "vendor"),
    GroupBy.TYPE: ("card_type", "card_type"),
}


def group_summary(cards: pl.DataFrame, by: GroupBy | str) -> pl.DataFrame:
    """Give back one row per group: key, name, cards, net_change and net_monthly_value.

    Totals add the cards' rounded monthly values, so what a user sees adds up (DESIGN 4.9);
    cards without vendor data or price count as cards but add nothing. Sorted by key, the
    missing key (new revenue without a contract, say) last.
    """
    key, name = _KEYS[GroupBy(by)]
    return (
        cards.group_by(pl.col(key).alias("key"))
        .agg(
            pl.col(name).min().alias("name"),
            pl.len().alias("cards"),
            pl.col("change").sum().cast(QUANTITY).alias("net_change"),
            pl.col("monthly_value").sum().cast(MONEY).alias("net_monthly_value"),
        )
        .sort("key", nulls_last=True)
    )
