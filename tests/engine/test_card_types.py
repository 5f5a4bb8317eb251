"""DESIGN 4.7: a card's type follows from the PSA quantity and the vendor count."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from tests.engine.factories import (
    account_map,
    cards_like,
    expected_cards,
    only_card,
    product_map,
    psa_line,
    run,
    usage,
)

MAPS = {
    "accounts": [account_map("pax8", "T1", "A1")],
    "products": [product_map("pax8", "S1", "P1"), product_map("pax8", "S2", "P2")],
}


@pytest.mark.parametrize(
    ("psa", "use", "expected"),
    [
        pytest.param(
            [psa_line("A1", "P1", 5)],
            [usage("pax8", "T1", "S1", 5)],
            {"card_type": "unchanged", "psa_quantity": "5", "vendor_quantity": "5", "change": "0"},
            id="same-count-is-unchanged",
        ),
        pytest.param(
            [psa_line("A1", "P1", 5)],
            [usage("pax8", "T1", "S1", 7)],
            {"card_type": "increase", "psa_quantity": "5", "vendor_quantity": "7", "change": "2"},
            id="vendor-above-psa-is-increase",
        ),
        pytest.param(
            [psa_line("A1", "P1", 5)],
            [usage("pax8", "T1", "S1", 3)],
            {"card_type": "decrease", "psa_quantity": "5", "vendor_quantity": "3", "change": "-2"},
            id="vendor-below-psa-is-decrease",
        ),
        pytest.param(
            [psa_line("A1", "P1", 5)],
            [usage("pax8", "T1", "S1", 0)],
            {"card_type": "removal", "psa_quantity": "5", "vendor_quantity": "0", "change": "-5"},
            id="zero-usage-row-is-removal",
        ),
        pytest.param(
            [psa_line("A1", "P1", 5)],
            # the vendor has data and maps this account and product, but reports nothing for it
            [usage("pax8", "T1", "S2", 4)],
            {"card_type": "removal", "psa_quantity": "5", "vendor_quantity": "0", "change": "-5"},
            id="known-count-without-usage-is-removal",
        ),
        pytest.param(
            [psa_line("A1", "P1", 0)],
            [usage("pax8", "T1", "S1", 0)],
            {"card_type": "unchanged", "psa_quantity": "0", "vendor_quantity": "0", "change": "0"},
            id="zero-billed-and-zero-used-is-unchanged",
        ),
        pytest.param(
            [psa_line("A1", "P1", 0)],
            [usage("pax8", "T1", "S1", 2)],
            {"card_type": "increase", "psa_quantity": "0", "vendor_quantity": "2", "change": "2"},
            id="a-zero-line-is-still-a-line-not-new-revenue",
        ),
        pytest.param(
            [psa_line("A1", "P2", 1)],
            [usage("pax8", "T1", "S1", 3)],
            {
                "card_type": "new_revenue",
                "psa_quantity": "0",
                "vendor_quantity": "3",
                "change": "3",
            },
            id="no-line-and-usage-is-new-revenue",
        ),
        pytest.param(
            [psa_line("A1", "P1", 2)],
            [usage("pax8", "T1", "S1", "2.5")],
            {
                "card_type": "increase",
                "psa_quantity": "2",
                "vendor_quantity": "2.5",
                "change": "0.5",
            },
            id="fractional-seats",
        ),
        pytest.param(
            [psa_line("A1", "P1", "2.5")],
            [usage("pax8", "T1", "S1", "2.25")],
            {
                "card_type": "decrease",
                "psa_quantity": "2.5",
                "vendor_quantity": "2.25",
                "change": "-0.25",
            },
            id="fractional-decrease",
        ),
    ],
)
def test_card_type_follows_the_quantities(psa, use, expected):
    card = only_card(run(psa, use, **MAPS), "A1", "P1")

    want = expected_cards([{"account_id": "A1", "product_id": "P1", **expected}])
    got = expected_cards([card]).select(want.columns)
    assert_frame_equal(got, want)


def test_no_card_without_a_psa_line_and_with_zero_usage():
    result = run([psa_line("A1", "P2", 1)], [usage("pax8", "T1", "S1", 0)], **MAPS)

    assert result.cards.select("account_id", "product_id").rows() == [("A1", "P2")]


def test_no_vendor_data_card_has_no_count_change_or_value():
    # pax8 maps A1/P1 but sent nothing at all this month: the line is information, not a removal
    result = run([psa_line("A1", "P1", 5)], [], **MAPS)

    want = expected_cards(
        [
            {
                "account_id": "A1",
                "product_id": "P1",
                "card_type": "no_vendor_data",
                "psa_quantity": "5",
                "vendor_quantity": None,
                "change": None,
                "monthly_value": None,
            }
        ]
    )
    assert_frame_equal(cards_like(result, want), want)


@pytest.mark.parametrize(
    ("status", "counts"),
    [
        pytest.param(None, True, id="no-status-counts"),
        pytest.param("active", True, id="active"),
        pytest.param(" Active ", True, id="active-any-case-and-spaces"),
        pytest.param("trial", False, id="trial"),
        pytest.param("suspended", False, id="suspended"),
        pytest.param("Cancelled", False, id="cancelled"),
    ],
)
def test_only_active_usage_counts_but_the_vendor_still_has_data(status, counts):
    result = run([psa_line("A1", "P1", 5)], [usage("pax8", "T1", "S1", 5, status=status)], **MAPS)

    card = only_card(result, "A1", "P1")
    if counts:
        assert (card["card_type"], str(card["vendor_quantity"])) == ("unchanged", "5.0000")
    else:
        assert (card["card_type"], str(card["vendor_quantity"])) == ("removal", "0.0000")


def test_inactive_rows_add_nothing_beside_active_ones():
    use = [
        usage("pax8", "T1", "S1", 4, status="active"),
        usage("pax8", "T1", "S1", 3, status="suspended"),
    ]
    card = only_card(run([psa_line("A1", "P1", 5)], use, **MAPS), "A1", "P1")

    assert (card["card_type"], str(card["vendor_quantity"])) == ("decrease", "4.0000")
