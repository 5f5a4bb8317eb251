"""Commitments matched to cards: only decrease and removal cards, only commitments still
binding, through the maps as usage goes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.commitments import CARD_COMMITMENTS, COMMITMENTS, card_commitments
from engine.schema import ACCOUNT_MAP, CARDS, PRODUCT_MAP

TODAY = date(2026, 11, 28)
LATER = date(2027, 3, 14)
LATEST = date(2027, 9, 30)


def cards(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"account_id": a, "product_id": p, "card_type": t} for a, p, t in rows], schema=CARDS
    )


def committed(*rows: tuple[str, str, str, date, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"vendor": v, "account_id": a, "product_id": p, "commitment_end": d, "quantity": q}
            for v, a, p, d, q in rows
        ],
        schema=COMMITMENTS,
    )


def maps(schema: dict[str, Any], id_key: str, psa_key: str, *rows: tuple[Any, ...]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"vendor": v, id_key: i, psa_key: p, "excluded": x} for v, i, p, x in rows],
        schema=schema,
    )


ACCOUNTS = maps(
    ACCOUNT_MAP, "vendor_account_id", "psa_account_id",
    ("Pax8", "c-acme", "A1", False),
    ("Microsoft", "t-acme", "A1", False),
    ("Pax8", "c-gone", None, True),
    ("Pax8", "c-birch", "B1", False),
    ("Pax8", "c-birch", "B9", False),  # a later row of the same item does not count
)  # fmt: skip
PRODUCTS = maps(
    PRODUCT_MAP, "vendor_product_id", "psa_product_id",
    ("Pax8", "p-bp", "BP", False),
    ("Microsoft", "MS:BP", "BP", False),
)  # fmt: skip


def expected(*rows: tuple[str, str, str, date, int]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"account_id": a, "product_id": p, "vendor": v, "commitment_end": d,
             "quantity": Decimal(q)}
            for a, p, v, d, q in rows
        ],
        schema=CARD_COMMITMENTS,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("card_rows", "commitment_rows", "want"),
    [
        pytest.param(
            [("A1", "BP", "decrease")],
            [("Pax8", "c-acme", "p-bp", LATER, 25)],
            [("A1", "BP", "Pax8", LATER, 25)],
            id="decrease",
        ),
        pytest.param(
            [("A1", "BP", "removal")],
            [("Pax8", "c-acme", "p-bp", LATER, 25)],
            [("A1", "BP", "Pax8", LATER, 25)],
            id="removal",
        ),
    ]
    + [
        pytest.param(
            [("A1", "BP", t)],
            [("Pax8", "c-acme", "p-bp", LATER, 25)],
            [],
            id=f"no-warning-on-{t}",
        )
        for t in ("increase", "unchanged", "new_revenue", "no_vendor_data")
    ]
    + [
        pytest.param(
            [("A1", "BP", "decrease")],
            [("Pax8", "c-acme", "p-bp", TODAY, 25)],
            [],
            id="ended-today",
        ),
        pytest.param(
            [("A1", "BP", "decrease")],
            [
                ("Pax8", "c-acme", "p-bp", LATEST, 5),
                ("Pax8", "c-acme", "p-bp", LATER, 20),
                ("Microsoft", "t-acme", "MS:BP", LATER, 3),
            ],
            [
                ("A1", "BP", "Microsoft", LATER, 3),
                ("A1", "BP", "Pax8", LATER, 20),
                ("A1", "BP", "Pax8", LATEST, 5),
            ],
            id="each-vendor-and-end-date",
        ),
        pytest.param(
            [("B1", "BP", "decrease"), ("B9", "BP", "decrease")],
            [("Pax8", "c-birch", "p-bp", LATER, 4)],
            [("B1", "BP", "Pax8", LATER, 4)],
            id="first-map-decides",
        ),
        pytest.param(
            [("A1", "BP", "decrease")],
            [("Pax8", "c-gone", "p-bp", LATER, 4), ("Pax8", "c-acme", "p-other", LATER, 4)],
            [],
            id="excluded-or-unmapped",
        ),
    ],
)
def test_card_commitments(
    card_rows: list[tuple[str, str, str]],
    commitment_rows: list[tuple[str, str, str, date, int]],
    want: list[tuple[str, str, str, date, int]],
) -> None:
    got = card_commitments(
        cards(*card_rows), committed(*commitment_rows), ACCOUNTS, PRODUCTS, TODAY
    )

    assert_frame_equal(got, expected(*want))
