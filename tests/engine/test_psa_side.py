"""DESIGN 4.4, 4.5 and 4.7-4.8 for new revenue: which PSA lines make cards, the PSA quantity,
the target line whose contract and price a card carries, and cards for accounts the PSA lacks."""

from __future__ import annotations

import pytest
from polars.testing import assert_frame_equal

from tests.engine.factories import (
    account_map,
    cards_like,
    catalog_item,
    expected_cards,
    only_card,
    product_map,
    psa_line,
    run,
    usage,
)

ACCOUNTS = [account_map("pax8", "T1", "A1")]
PRODUCTS = [product_map("pax8", "S1", "P1")]


def test_lines_of_unreconciled_products_make_no_card():
    lines = [
        psa_line("A1", "P1", 5),
        psa_line("A1", "LABOUR", 40, price="95"),
        psa_line("A1", "HW-LAPTOP", 1, price="1200"),
    ]

    result = run(lines, [usage("pax8", "T1", "S1", 5)], accounts=ACCOUNTS, products=PRODUCTS)

    assert result.cards.select("account_id", "product_id").rows() == [("A1", "P1")]


def test_an_excluded_sku_does_not_make_its_product_reconciled():
    products = [product_map("pax8", "S1", "P1"), product_map("pax8", "S2", excluded=True)]

    result = run(
        [psa_line("A1", "P2", 5)],
        [usage("pax8", "T1", "S2", 5)],
        accounts=ACCOUNTS,
        products=products,
    )

    assert result.cards.is_empty()


def test_a_product_is_reconciled_for_every_account_once_any_vendor_maps_it():
    # A2 has no vendor account mapped: its P1 line is a card without vendor data.
    lines = [psa_line("A1", "P1", 5), psa_line("A2", "P1", 3)]

    result = run(lines, [usage("pax8", "T1", "S1", 5)], accounts=ACCOUNTS, products=PRODUCTS)

    assert result.cards.select("account_id", "card_type").rows() == [
        ("A1", "unchanged"),
        ("A2", "no_vendor_data"),
    ]


@pytest.mark.parametrize(
    ("lines", "psa_quantity", "contract", "line", "price"),
    [
        pytest.param(
            [
                psa_line("A1", "P1", 3, contract="C1", line="L1", price="9"),
                psa_line("A1", "P1", 5, contract="C2", line="L2", price="11"),
            ],
            "8",
            "C2",
            "L2",
            "11",
            id="largest-quantity-over-contracts",
        ),
        pytest.param(
            [
                psa_line("A1", "P1", 5, contract="C9", line="L1", price="9"),
                psa_line("A1", "P1", 5, contract="C10", line="L2", price="11"),
            ],
            "10",
            "C10",
            "L2",
            "11",
            id="tie-smallest-contract-as-text-C10-before-C9",
        ),
        pytest.param(
            [
                psa_line("A1", "P1", 5, contract="C1", line="L9", price="9"),
                psa_line("A1", "P1", 5, contract="C1", line="L10", price="11"),
            ],
            "10",
            "C1",
            "L10",
            "11",
            id="tie-same-contract-smallest-line-as-text",
        ),
        pytest.param(
            [
                psa_line("A1", "P1", 5, contract="C2", line="L1", price="9"),
                psa_line("A1", "P1", 5, contract="C1", line="L2", price="11"),
            ],
            "10",
            "C1",
            "L2",
            "11",
            id="contract-before-line",
        ),
        pytest.param(
            [
                psa_line("A1", "P1", "2.5", contract="C1", line="L1"),
                psa_line("A1", "P1", "0.25", contract="C2", line="L2"),
                psa_line("A1", "P1", 0, contract="C3", line="L3"),
            ],
            "2.75",
            "C1",
            "L1",
            "10",
            id="fractional-lines-add",
        ),
    ],
)
def test_psa_quantity_adds_all_lines_and_the_target_line_sets_contract_and_price(
    lines, psa_quantity, contract, line, price
):
    result = run(lines, [usage("pax8", "T1", "S1", 20)], accounts=ACCOUNTS, products=PRODUCTS)

    want = expected_cards(
        [
            {
                "account_id": "A1",
                "product_id": "P1",
                "psa_quantity": psa_quantity,
                "contract_id": contract,
                "line_id": line,
                "unit_price": price,
            }
        ]
    )
    assert_frame_equal(cards_like(result, want), want)


def test_the_target_lines_billing_cycle_and_proration_are_the_cards():
    lines = [
        psa_line("A1", "P1", 5, contract="C1", line="L1", months=12, prorate=True),
        psa_line("A1", "P1", 2, contract="C2", line="L2", months=1, prorate=False),
    ]

    card = only_card(
        run(lines, [usage("pax8", "T1", "S1", 8)], accounts=ACCOUNTS, products=PRODUCTS), "A1", "P1"
    )

    assert (card["billing_months"], card["prorate"]) == (12, True)


def test_prices_on_other_customers_lines_are_not_a_catalogue():
    # A9 is mapped but has no PSA lines; A1 pays 10 for P1, which says nothing about A9's price.
    accounts = [*ACCOUNTS, account_map("pax8", "T9", "A9")]

    result = run(
        [psa_line("A1", "P1", 5, product_name="Seat")],
        [usage("pax8", "T1", "S1", 5), usage("pax8", "T9", "S1", 3)],
        accounts=accounts,
        products=PRODUCTS,
    )

    want = expected_cards(
        [
            {
                "account_id": "A9",
                "account_name": None,
                "product_id": "P1",
                "product_name": "Seat",
                "contract_id": None,
                "line_id": None,
                "psa_quantity": "0",
                "vendor_quantity": "3",
                "change": "3",
                "card_type": "new_revenue",
                "unit_price": None,
                "monthly_value": None,
                "vendor": "pax8",
            }
        ]
    )
    assert_frame_equal(cards_like(result, want).filter(account_id="A9"), want)


@pytest.mark.parametrize(
    ("item", "unit_price", "months", "monthly_value"),
    [
        pytest.param(
            catalog_item("P1", "12.50", name="Seat"),
            "12.50",
            None,
            "37.50",
            id="monthly-catalogue-price",
        ),
        pytest.param(
            catalog_item("P1", "120", name="Seat", months=12),
            "120",
            12,
            "30.00",
            id="annual-catalogue-price",
        ),
        pytest.param(
            catalog_item("P1", None, name="Seat"), None, None, None, id="catalogue-without-price"
        ),
        pytest.param(
            catalog_item("P2", "99", name="Other"),
            None,
            None,
            None,
            id="catalogue-without-the-product",
        ),
    ],
)
def test_new_revenue_for_an_account_absent_from_the_psa_is_priced_from_the_catalogue(
    item, unit_price, months, monthly_value
):
    result = run(
        [psa_line("A1", "P1", 5, price="10")],
        [usage("pax8", "T9", "S1", 3)],
        accounts=[account_map("pax8", "T9", "A-NEW")],
        products=PRODUCTS,
        catalog=[item],
    )

    want = expected_cards(
        [
            {
                "account_id": "A-NEW",
                "account_name": None,
                "product_id": "P1",
                "contract_id": None,
                "line_id": None,
                "psa_quantity": "0",
                "vendor_quantity": "3",
                "change": "3",
                "card_type": "new_revenue",
                "unit_price": unit_price,
                "billing_months": months,
                "prorate": None,
                "monthly_value": monthly_value,
            }
        ]
    )
    assert_frame_equal(cards_like(result, want).filter(account_id="A-NEW"), want)


def test_the_catalogue_name_names_the_product():
    result = run(
        [psa_line("A1", "P1", 5, product_name="old name")],
        [usage("pax8", "T1", "S1", 5)],
        accounts=ACCOUNTS,
        products=PRODUCTS,
        catalog=[catalog_item("P1", "10", name="Seat")],
    )

    assert only_card(result, "A1", "P1")["product_name"] == "Seat"


def test_the_line_price_wins_over_the_catalogue_for_an_existing_line():
    result = run(
        [psa_line("A1", "P1", 5, price="8")],
        [usage("pax8", "T1", "S1", 6)],
        accounts=ACCOUNTS,
        products=PRODUCTS,
        catalog=[catalog_item("P1", "10")],
    )

    card = only_card(result, "A1", "P1")
    assert (card["unit_price"], card["monthly_value"]) == (8, 8)


def test_new_revenue_for_a_known_account_gets_its_name():
    result = run(
        [psa_line("A1", "P2", 1, account_name="Acme Corp")],
        [usage("pax8", "T1", "S1", 2)],
        accounts=ACCOUNTS,
        products=[*PRODUCTS, product_map("pax8", "S2", "P2")],
    )

    card = only_card(result, "A1", "P1")
    assert (card["card_type"], card["account_name"], card["psa_quantity"]) == (
        "new_revenue",
        "Acme Corp",
        0,
    )


def test_card_keys_are_unique_and_sorted_by_account_then_product():
    lines = [
        psa_line("B", "P2", 1),
        psa_line("B", "P2", 1, contract="C2"),
        psa_line("A10", "P1", 1),
        psa_line("A9", "P10", 1),
        psa_line("A9", "P1", 1),
    ]
    accounts = [
        account_map("pax8", t, a)
        for t, a in [("tb", "B"), ("t10", "A10"), ("t9", "A9"), ("tz", "Z")]
    ]
    products = [product_map("pax8", s, p) for s, p in [("s1", "P1"), ("s2", "P2"), ("s10", "P10")]]
    use = [usage("pax8", t, s, 1) for t in ("tb", "t10", "t9", "tz") for s in ("s1", "s2", "s10")]

    result = run(lines, use * 2, accounts=accounts, products=products)

    keys = result.cards.select("account_id", "product_id").rows()
    assert keys == sorted(set(keys))
    assert keys == [(a, p) for a in ("A10", "A9", "B", "Z") for p in ("P1", "P10", "P2")]
