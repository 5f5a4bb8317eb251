"""DESIGN 4.2 and 4.3: which usage reaches a card, which is ignored, and which waits as unmapped;
and how mapped usage adds up across SKUs, vendor accounts and vendors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from polars.testing import assert_frame_equal

from engine.schema import UNMAPPED
from tests.engine.factories import (
    account_map,
    frame,
    only_card,
    product_map,
    psa_line,
    run,
    usage,
    vendors_of,
)

LINE = psa_line("A1", "P1", 5)


@pytest.mark.parametrize(
    ("accounts", "products", "unmapped"),
    [
        pytest.param(
            [account_map("pax8", "T1", excluded=True)],
            [product_map("pax8", "S1", "P1")],
            [],
            id="excluded-account-is-ignored-not-unmapped",
        ),
        pytest.param(
            [account_map("pax8", "T1", "A1")],
            [product_map("pax8", "S1", excluded=True)],
            [],
            id="excluded-product-is-ignored-not-unmapped",
        ),
        pytest.param(
            [],
            [product_map("pax8", "S1", "P1")],
            [
                {
                    "kind": "account",
                    "vendor": "pax8",
                    "vendor_id": "T1",
                    "vendor_name": "Tenant One",
                    "quantity": "7.5",
                }
            ],
            id="unmapped-account",
        ),
        pytest.param(
            [account_map("pax8", "T1", "A1")],
            [],
            [
                {
                    "kind": "product",
                    "vendor": "pax8",
                    "vendor_id": "S1",
                    "vendor_name": "Seat",
                    "quantity": "7.5",
                }
            ],
            id="unmapped-product",
        ),
        pytest.param(
            [],
            [],
            [
                {
                    "kind": "account",
                    "vendor": "pax8",
                    "vendor_id": "T1",
                    "vendor_name": "Tenant One",
                    "quantity": "7.5",
                },
                {
                    "kind": "product",
                    "vendor": "pax8",
                    "vendor_id": "S1",
                    "vendor_name": "Seat",
                    "quantity": "7.5",
                },
            ],
            id="both-unmapped",
        ),
        pytest.param(
            [account_map("pax8", "T1", excluded=True)],
            [],
            [
                {
                    "kind": "product",
                    "vendor": "pax8",
                    "vendor_id": "S1",
                    "vendor_name": "Seat",
                    "quantity": "7.5",
                }
            ],
            id="unmapped-product-of-an-excluded-account-is-still-unmapped",
        ),
    ],
)
def test_usage_that_is_not_mapped_reaches_no_card(accounts, products, unmapped):
    use = [
        usage("pax8", "T1", "S1", 5, account_name="Tenant One", product_name="Seat"),
        usage("pax8", "T1", "S1", "2.5", account_name="Tenant One", product_name="Seat"),
    ]

    result = run([LINE], use, accounts=accounts, products=products, auto_map=False)

    assert_frame_equal(result.unmapped, frame(unmapped, UNMAPPED))
    assert all(q is None or q == 0 for q in result.cards["vendor_quantity"])


def test_unmapped_lists_only_active_usage_and_keeps_zero_items():
    use = [
        usage("pax8", "T1", "S1", 4, status="active"),
        usage("pax8", "T1", "S1", 9, status="suspended"),
        usage("pax8", "T2", "S1", 0),
    ]

    result = run([LINE], use, products=[product_map("pax8", "S1", "P1")])

    assert result.unmapped.select("vendor_id", "quantity").rows() == [("T1", 4), ("T2", 0)]


def test_unmapped_is_sorted_by_kind_vendor_and_id():
    use = [
        usage("sherweb", "T2", "X", 1),
        usage("pax8", "T9", "Y", 1),
        usage("pax8", "T10", "X", 1),
    ]

    result = run([], use)

    assert result.unmapped.select("kind", "vendor", "vendor_id").rows() == [
        ("account", "pax8", "T10"),
        ("account", "pax8", "T9"),
        ("account", "sherweb", "T2"),
        ("product", "pax8", "X"),
        ("product", "pax8", "Y"),
        ("product", "sherweb", "X"),
    ]


def test_many_skus_to_one_product_add_up():
    use = [usage("pax8", "T1", "S1", 3), usage("pax8", "T1", "S2", 4), usage("pax8", "T1", "S1", 1)]
    products = [product_map("pax8", "S1", "P1"), product_map("pax8", "S2", "P1")]

    result = run([LINE], use, accounts=[account_map("pax8", "T1", "A1")], products=products)

    card = only_card(result, "A1", "P1")
    assert (card["vendor_quantity"], card["card_type"]) == (8, "increase")
    assert vendors_of(result, "A1", "P1") == [("pax8", 8, True)]


def test_many_vendor_accounts_to_one_psa_account_add_up():
    use = [usage("pax8", "T1", "S1", 3), usage("pax8", "T2", "S1", "1.5")]
    accounts = [account_map("pax8", "T1", "A1"), account_map("pax8", "T2", "A1")]

    result = run([LINE], use, accounts=accounts, products=[product_map("pax8", "S1", "P1")])

    card = only_card(result, "A1", "P1")
    assert (card["vendor_quantity"], card["card_type"]) == (4.5, "decrease")
    assert result.cards.height == 1


def test_maps_are_per_vendor_so_the_same_ids_at_two_vendors_do_not_mix():
    use = [usage("pax8", "T1", "S1", 3), usage("sherweb", "T1", "S1", 100)]

    result = run(
        [LINE, psa_line("A2", "P1", 1)],
        use,
        accounts=[account_map("pax8", "T1", "A1"), account_map("sherweb", "T1", "A2")],
        products=[product_map("pax8", "S1", "P1"), product_map("sherweb", "S1", "P1")],
    )

    assert only_card(result, "A1", "P1")["vendor_quantity"] == 3
    assert only_card(result, "A2", "P1")["vendor_quantity"] == 100


@pytest.mark.parametrize(
    ("pax8", "sherweb", "vendor"),
    [
        pytest.param("3", "4", "sherweb", id="most-quantity-wins"),
        pytest.param("5", "2", "pax8", id="most-quantity-wins-other-way"),
        pytest.param("3", "3", "pax8", id="tie-goes-to-first-by-name"),
        pytest.param("0", "0", "pax8", id="zero-tie-goes-to-first-by-name"),
    ],
)
def test_one_name_at_two_vendors_maps_at_both_and_adds_up(pax8, sherweb, vendor):
    line = psa_line("A1", "P1", 5, account_name="Acme Corp")
    use = [
        usage("pax8", "acme-1", "S1", pax8, account_name="ACME Corp"),
        usage("sherweb", "9f3e", "MS-BP", sherweb, account_name="acme  corp"),
    ]
    products = [product_map("pax8", "S1", "P1"), product_map("sherweb", "MS-BP", "P1")]

    result = run([line], use, products=products)

    auto = result.auto_account_maps.sort("vendor")
    assert auto.select("vendor", "vendor_account_id", "psa_account_id").rows() == [
        ("pax8", "acme-1", "A1"),
        ("sherweb", "9f3e", "A1"),
    ]
    card = only_card(result, "A1", "P1")
    assert card["vendor_quantity"] == int(pax8) + int(sherweb)
    assert card["vendor"] == vendor
    assert vendors_of(result, "A1", "P1") == [
        ("pax8", Decimal(pax8), True),
        ("sherweb", Decimal(sherweb), True),
    ]


def test_regression_a_later_map_row_does_not_revive_an_excluded_vendor_account() -> None:
    """Usage followed the first map row (excluded) while the 'known' rule took the later row,
    so a billed line became a removal instead of having no vendor data."""
    from decimal import Decimal

    import polars as pl

    from engine import reconcile

    psa = pl.DataFrame(
        {
            "account_id": ["1"],
            "product_id": ["P"],
            "product_name": ["M365"],
            "quantity": [Decimal(5)],
        }
    )
    usage = pl.DataFrame(
        {"vendor": ["v1"], "account_id": ["a1"], "account_name": ["x"], "product_id": ["s1"],
         "product_name": ["y"], "quantity": [Decimal(4)]}
    )  # fmt: skip
    accounts = pl.DataFrame(
        {"vendor": ["v1", "v1"], "vendor_account_id": ["a1", "a1"],
         "psa_account_id": [None, "1"], "excluded": [True, False]}
    )  # fmt: skip
    products = pl.DataFrame(
        {"vendor": ["v1"], "vendor_product_id": ["s1"], "psa_product_id": ["P"]}
    )
    cards = reconcile(psa, usage, accounts, products, auto_map=False).cards
    assert cards.get_column("card_type").to_list() == ["no_vendor_data"]
