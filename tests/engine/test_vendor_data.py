"""DESIGN 4.6: a count is known only where a vendor with data maps both the account and the
product; a vendor whose file is missing never turns billed lines into removals."""

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
    vendors_of,
)

# pax8 sends a file; sherweb has maps for A2 but its file is missing this month.
ACCOUNTS = [account_map("pax8", "T1", "A1"), account_map("sherweb", "S-77", "A2")]
PRODUCTS = [product_map("pax8", "S1", "P1"), product_map("sherweb", "MS-BP", "P1")]
LINES = [psa_line("A1", "P1", 5), psa_line("A2", "P1", 8, price="20")]
PAX8_ONLY = [usage("pax8", "T1", "S1", 6)]


def test_a_missing_vendor_file_gives_no_vendor_data_not_removals():
    result = run(LINES, PAX8_ONLY, accounts=ACCOUNTS, products=PRODUCTS)

    want = expected_cards(
        [
            {
                "account_id": "A1",
                "card_type": "increase",
                "vendor_quantity": "6",
                "change": "1",
                "monthly_value": "10.00",
                "vendor": "pax8",
            },
            {
                "account_id": "A2",
                "card_type": "no_vendor_data",
                "vendor_quantity": None,
                "change": None,
                "monthly_value": None,
                "vendor": "sherweb",
            },
        ]
    )
    assert_frame_equal(cards_like(result, want), want)
    assert vendors_of(result, "A2", "P1") == [("sherweb", 0, False)]


def test_no_usage_at_all_makes_every_reconciled_line_no_vendor_data():
    result = run(LINES, [], accounts=ACCOUNTS, products=PRODUCTS)

    assert result.cards["card_type"].to_list() == ["no_vendor_data", "no_vendor_data"]
    assert result.cards["change"].to_list() == [None, None]


@pytest.mark.parametrize(
    ("vendors_with_data", "a2_type", "a2_vendor_quantity"),
    [
        pytest.param(None, "no_vendor_data", None, id="default-is-vendors-in-usage"),
        pytest.param(["pax8"], "no_vendor_data", None, id="only-pax8"),
        # sherweb synced fine and reported no subscriptions: A2's seats are known to be 0
        pytest.param(["pax8", "sherweb"], "removal", 0, id="sherweb-has-an-empty-snapshot"),
    ],
)
def test_vendors_with_data_decide_what_is_known(vendors_with_data, a2_type, a2_vendor_quantity):
    result = run(
        LINES, PAX8_ONLY, accounts=ACCOUNTS, products=PRODUCTS, vendors_with_data=vendors_with_data
    )

    card = only_card(result, "A2", "P1")
    assert (card["card_type"], card["vendor_quantity"]) == (a2_type, a2_vendor_quantity)
    assert only_card(result, "A1", "P1")["card_type"] == "increase"


def test_a_vendor_named_with_data_but_absent_from_usage_contributes_zero():
    # both vendors map A1/P1; only pax8 has usage, sherweb is known to be empty.
    accounts = [account_map("pax8", "T1", "A1"), account_map("sherweb", "S-77", "A1")]

    result = run(
        [psa_line("A1", "P1", 5)],
        PAX8_ONLY,
        accounts=accounts,
        products=PRODUCTS,
        vendors_with_data=["pax8", "sherweb"],
    )

    card = only_card(result, "A1", "P1")
    assert (card["vendor_quantity"], card["vendor"]) == (6, "pax8")


def test_a_missing_vendor_beside_one_with_data_counts_only_what_is_known():
    # A1/P1 is mapped at both; sherweb's file is missing, pax8's count stands on its own.
    accounts = [account_map("pax8", "T1", "A1"), account_map("sherweb", "S-77", "A1")]

    result = run([psa_line("A1", "P1", 5)], PAX8_ONLY, accounts=accounts, products=PRODUCTS)

    card = only_card(result, "A1", "P1")
    assert (card["card_type"], card["vendor_quantity"], card["vendor"]) == ("increase", 6, "pax8")
    assert vendors_of(result, "A1", "P1") == [("pax8", 6, True), ("sherweb", 0, False)]


def test_vendor_with_data_but_no_map_for_the_account_is_not_known():
    # pax8 maps P1, but maps none of its accounts to A3.
    result = run([psa_line("A3", "P1", 4)], PAX8_ONLY, accounts=ACCOUNTS, products=PRODUCTS)

    assert only_card(result, "A3", "P1")["card_type"] == "no_vendor_data"


def test_vendor_with_data_but_no_map_for_the_product_is_not_known():
    # pax8 maps A1 but none of its SKUs to P1; only sherweb (missing) maps P1.
    products = [product_map("pax8", "S1", "P2"), product_map("sherweb", "MS-BP", "P1")]
    accounts = [account_map("pax8", "T1", "A1"), account_map("sherweb", "S-77", "A1")]

    result = run([psa_line("A1", "P1", 4)], PAX8_ONLY, accounts=accounts, products=products)

    assert only_card(result, "A1", "P1")["card_type"] == "no_vendor_data"


def test_a_vendor_reporting_only_cancelled_subscriptions_has_data():
    use = [usage("pax8", "T1", "S1", 6, status="cancelled")]

    result = run([psa_line("A1", "P1", 5)], use, accounts=ACCOUNTS, products=PRODUCTS)

    card = only_card(result, "A1", "P1")
    assert (card["card_type"], card["vendor_quantity"], card["change"]) == ("removal", 0, -5)
