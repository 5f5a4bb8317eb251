"""Group summaries: one row per account, product, contract or vendor; totals add the cards'
rounded monthly values, so what a user sees adds up (DESIGN 4.9)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine import GroupBy, group_summary
from engine.schema import CARDS, MONEY, QUANTITY
from tests.engine.factories import (
    account_map,
    dec,
    frame,
    product_map,
    psa_line,
    run,
    usage,
)

SUMMARY = {
    "key": pl.String,
    "name": pl.String,
    "cards": pl.UInt32,
    "net_change": QUANTITY,
    "net_monthly_value": MONEY,
}

CARD_ROWS = [
    {
        "account_id": "A1",
        "account_name": "Acme",
        "product_id": "P1",
        "product_name": "Seat",
        "contract_id": "C1",
        "vendor": "pax8",
        "card_type": "increase",
        "change": "2",
        "monthly_value": "20.00",
    },
    {
        "account_id": "A1",
        "account_name": "Acme",
        "product_id": "P2",
        "product_name": "Backup",
        "contract_id": "C1",
        "vendor": "sherweb",
        "card_type": "removal",
        "change": "-1.5",
        "monthly_value": "-7.50",
    },
    {
        "account_id": "A2",
        "account_name": "Beta",
        "product_id": "P1",
        "product_name": "Seat",
        "contract_id": "C2",
        "vendor": "pax8",
        "card_type": "no_vendor_data",
        "change": None,
        "monthly_value": None,
    },
    {
        "account_id": "A3",
        "account_name": None,
        "product_id": "P1",
        "product_name": "Seat",
        "contract_id": None,
        "vendor": "pax8",
        "card_type": "new_revenue",
        "change": "3",
        "monthly_value": None,
    },
]


def summary(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        [(k, n, c, dec(q), dec(m)) for k, n, c, q, m in rows], schema=SUMMARY, orient="row"
    )


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        pytest.param(
            GroupBy.ACCOUNT,
            [
                ("A1", "Acme", 2, "0.5", "12.50"),
                ("A2", "Beta", 1, "0", "0.00"),
                ("A3", None, 1, "3", "0.00"),
            ],
            id="account",
        ),
        pytest.param(
            GroupBy.PRODUCT,
            [("P1", "Seat", 3, "5", "20.00"), ("P2", "Backup", 1, "-1.5", "-7.50")],
            id="product",
        ),
        pytest.param(
            GroupBy.CONTRACT,
            [
                ("C1", "C1", 2, "0.5", "12.50"),
                ("C2", "C2", 1, "0", "0.00"),
                (None, None, 1, "3", "0.00"),
            ],
            id="contract-new-revenue-without-contract-last",
        ),
        pytest.param(
            GroupBy.VENDOR,
            [("pax8", "pax8", 3, "5", "20.00"), ("sherweb", "sherweb", 1, "-1.5", "-7.50")],
            id="vendor",
        ),
        pytest.param(
            "account",
            [
                ("A1", "Acme", 2, "0.5", "12.50"),
                ("A2", "Beta", 1, "0", "0.00"),
                ("A3", None, 1, "3", "0.00"),
            ],
            id="by-name-as-text",
        ),
    ],
)
def test_group_summary(by, expected):
    got = group_summary(frame(CARD_ROWS, CARDS), by)

    assert_frame_equal(got, summary(expected))


def test_totals_add_the_rounded_card_values_so_the_page_adds_up():
    # Three quarterly cards of +1 at 1.00 are worth 0.3333... each, shown as 0.33; the total a
    # user sees under them is 0.99, not the 1.00 of the unrounded sum.
    accounts = [account_map("pax8", f"T{i}", f"A{i}") for i in range(3)]
    result = run(
        [psa_line(f"A{i}", "P1", 1, price="1", months=3) for i in range(3)],
        [usage("pax8", f"T{i}", "S1", 2) for i in range(3)],
        accounts=accounts,
        products=[product_map("pax8", "S1", "P1")],
    )
    assert result.cards["monthly_value"].to_list() == [dec("0.33")] * 3

    got = group_summary(result.cards, GroupBy.PRODUCT)

    assert_frame_equal(got, summary([("P1", None, 3, "3", "0.99")]))


def test_totals_of_half_cents_add_the_rounded_cents():
    # each card is 1 × 0.005 = 0.01 after rounding; two of them show 0.02 (not 0.01)
    result = run(
        [psa_line("A1", "P1", 0, price="0.005"), psa_line("A2", "P1", 0, price="0.005")],
        [usage("pax8", "T1", "S1", 1), usage("pax8", "T2", "S1", 1)],
        accounts=[account_map("pax8", "T1", "A1"), account_map("pax8", "T2", "A2")],
        products=[product_map("pax8", "S1", "P1")],
    )

    got = group_summary(result.cards, GroupBy.VENDOR)

    assert_frame_equal(got, summary([("pax8", "pax8", 2, "2", "0.02")]))


def test_summary_of_no_cards_is_empty():
    got = group_summary(frame([], CARDS), GroupBy.ACCOUNT)

    assert_frame_equal(got, summary([]))
