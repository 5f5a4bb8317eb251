"""Seats under commitment, matched to the cards that would reduce them (issue 7, item 8).

A vendor that sells terms (Microsoft NCE, through Pax8 or Partner Center) cannot reduce seats
before their commitment ends: a decrease or removal card over such seats must say so.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from engine.mapping import _map_lookup
from engine.schema import ACCOUNT_MAP, PRODUCT_MAP, QUANTITY, CardType, Schema, conform

COMMITMENTS: Schema = {
    "vendor": pl.String,
    "account_id": pl.String,
    "product_id": pl.String,
    "commitment_end": pl.Date,
    "quantity": QUANTITY,
}
"""Seats under commitment: one row per vendor, vendor account, vendor product and commitment
end (ids are the vendor's). Before `commitment_end` the vendor cannot reduce these seats."""

CARD_COMMITMENTS: Schema = {
    "account_id": pl.String,
    "product_id": pl.String,
    "vendor": pl.String,
    "commitment_end": pl.Date,
    "quantity": QUANTITY,
}
"""Commitments on cards: one row per PSA account, PSA product, vendor and commitment end, with
the committed seats of every vendor account and product the maps send to that card."""

REDUCING = (CardType.DECREASE.value, CardType.REMOVAL.value)
"""The cards whose change the vendor may refuse while seats are committed."""


def card_commitments(
    cards: pl.DataFrame,
    commitments: pl.DataFrame,
    account_maps: pl.DataFrame,
    product_maps: pl.DataFrame,
    today: date,
) -> pl.DataFrame:
    """Give back CARD_COMMITMENTS of the decrease and removal cards among `cards` (CARDS): one
    row per card, vendor and commitment end after `today`, sorted by card then end date.

    Vendor ids reach PSA ids through the maps as usage does (the first map of a vendor item
    decides; an excluded item reaches no card).
    """
    accounts = _map_lookup(
        conform(account_maps, ACCOUNT_MAP), "vendor_account_id", "psa_account_id", "_a"
    )
    products = _map_lookup(
        conform(product_maps, PRODUCT_MAP), "vendor_product_id", "psa_product_id", "_p"
    )
    reducing = (
        cards.lazy().filter(pl.col("card_type").is_in(REDUCING)).select("account_id", "product_id")
    )
    committed = (
        conform(commitments, COMMITMENTS)
        .filter(pl.col("commitment_end") > today)
        .join(
            accounts,
            left_on=["vendor", "account_id"],
            right_on=["vendor", "vendor_account_id"],
        )
        .join(
            products,
            left_on=["vendor", "product_id"],
            right_on=["vendor", "vendor_product_id"],
        )
        .filter(pl.col("psa_account_id").is_not_null() & pl.col("psa_product_id").is_not_null())
        .group_by(
            pl.col("psa_account_id").alias("account_id"),
            pl.col("psa_product_id").alias("product_id"),
            "vendor",
            "commitment_end",
        )
        .agg(pl.col("quantity").sum())
        .join(reducing, on=["account_id", "product_id"], how="semi")
        .sort("account_id", "product_id", "commitment_end", "vendor")
    )
    return conform(committed, CARD_COMMITMENTS).collect()
