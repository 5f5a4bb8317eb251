"""DESIGN 4.1: a vendor account or product with no map row maps by exact normalised name, when
exactly one PSA item has that name; anything less is a suggestion, never a map."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from engine.schema import ACCOUNT_MAP, PRODUCT_MAP
from tests.engine.factories import (
    account_map,
    catalog_item,
    frame,
    only_card,
    product_map,
    psa_line,
    run,
    usage,
)

PRODUCTS = [product_map("pax8", "S1", "P1")]


def acme_line(name: str = "Acme Corp", account: str = "A1") -> dict:
    return psa_line(account, "P1", 5, account_name=name)


@pytest.mark.parametrize(
    "vendor_name",
    [
        pytest.param("Acme Corp", id="identical"),
        pytest.param("ACME CORP", id="case"),
        pytest.param("acme corp", id="lower-case"),
        pytest.param("  Acme Corp \t", id="surrounding-whitespace"),
        pytest.param("Acme    Corp", id="inner-spaces"),
        pytest.param("Acme\t\nCorp", id="inner-tab-and-newline"),
        pytest.param("Acme\u00a0Corp", id="no-break-space"),
    ],
)
def test_vendor_account_maps_by_exact_normalised_name(vendor_name):
    result = run(
        [acme_line()], [usage("pax8", "T9", "S1", 7, account_name=vendor_name)], products=PRODUCTS
    )

    assert only_card(result, "A1", "P1")["vendor_quantity"] == 7
    assert result.unmapped.is_empty()
    assert_frame_equal(
        result.auto_account_maps,
        frame([account_map("pax8", "T9", "A1") | {"auto": True}], ACCOUNT_MAP),
    )


def test_case_folding_matches_what_lower_casing_alone_misses():
    # DESIGN 4.1 says case-folded: "STRASSE" and "Straße" are the same name to a user.
    line = psa_line("A1", "P1", 5, account_name="Bäckerei Straße GmbH")
    use = usage("pax8", "T9", "S1", 7, account_name="BÄCKEREI STRASSE GMBH")

    result = run([line], [use], products=PRODUCTS)

    assert only_card(result, "A1", "P1")["vendor_quantity"] == 7


@pytest.mark.parametrize(
    "vendor_name",
    [
        pytest.param("Acme Corp.", id="punctuation"),
        pytest.param("Acme Corporation", id="longer"),
        pytest.param("AcmeCorp", id="no-space"),
        pytest.param("Acme Crop", id="typo"),
        pytest.param(None, id="no-name"),
    ],
)
def test_a_near_name_is_not_a_map(vendor_name):
    result = run(
        [acme_line()], [usage("pax8", "T9", "S1", 7, account_name=vendor_name)], products=PRODUCTS
    )

    assert result.auto_account_maps.is_empty()
    assert only_card(result, "A1", "P1")["card_type"] == "no_vendor_data"
    assert result.unmapped.select("kind", "vendor", "vendor_id").rows() == [
        ("account", "pax8", "T9")
    ]


def test_no_auto_map_when_two_psa_accounts_share_the_normalised_name():
    lines = [acme_line("Acme Corp", "A1"), acme_line("ACME  corp ", "A2")]

    result = run(lines, [usage("pax8", "T9", "S1", 7, account_name="Acme Corp")], products=PRODUCTS)

    assert result.auto_account_maps.is_empty()
    assert result.unmapped.select("kind", "vendor_id", "quantity").rows() == [("account", "T9", 7)]
    assert set(result.cards["card_type"]) == {"no_vendor_data"}


def test_one_psa_account_on_many_lines_is_still_one_name():
    lines = [
        psa_line("A1", "P1", 5, account_name="Acme Corp"),
        psa_line("A1", "P1", 2, account_name="Acme Corp", contract="C2"),
        psa_line("A1", "LABOUR", 10, account_name="Acme Corp"),
    ]

    result = run(lines, [usage("pax8", "T9", "S1", 7, account_name="acme corp")], products=PRODUCTS)

    assert result.auto_account_maps["psa_account_id"].to_list() == ["A1"]
    assert only_card(result, "A1", "P1")["card_type"] == "unchanged"


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(account_map("pax8", "T9", excluded=True), id="excluded"),
        pytest.param(account_map("pax8", "T9", "A2"), id="mapped-elsewhere"),
    ],
)
def test_a_stored_map_row_wins_over_the_name(stored):
    lines = [acme_line("Acme Corp", "A1"), acme_line("Other Ltd", "A2")]

    result = run(
        lines,
        [usage("pax8", "T9", "S1", 7, account_name="Acme Corp")],
        accounts=[stored],
        products=PRODUCTS,
    )

    assert result.auto_account_maps.is_empty()
    assert result.unmapped.is_empty()
    assert only_card(result, "A1", "P1")["card_type"] == "no_vendor_data"


def test_no_auto_map_option_leaves_the_account_unmapped():
    result = run(
        [acme_line()],
        [usage("pax8", "T9", "S1", 7, account_name="Acme Corp")],
        products=PRODUCTS,
        auto_map=False,
    )

    assert result.auto_account_maps.is_empty()
    assert result.auto_product_maps.is_empty()
    assert result.unmapped.select("kind", "vendor_id", "quantity").rows() == [("account", "T9", 7)]
    assert only_card(result, "A1", "P1")["card_type"] == "no_vendor_data"


def test_auto_map_is_per_vendor_account_not_per_vendor():
    # The map from pax8's T9 says nothing about sherweb's T9, which still maps by its own name.
    lines = [acme_line("Acme Corp", "A1"), acme_line("Other Ltd", "A2")]
    use = [
        usage("pax8", "T9", "S1", 3, account_name="Acme Corp"),
        usage("sherweb", "T9", "S1", 4, account_name="Acme Corp"),
    ]
    products = [*PRODUCTS, product_map("sherweb", "S1", "P1")]

    result = run(lines, use, accounts=[account_map("pax8", "T9", "A2")], products=products)

    assert result.auto_account_maps.select("vendor", "psa_account_id").rows() == [("sherweb", "A1")]
    assert only_card(result, "A1", "P1")["vendor_quantity"] == 4
    assert only_card(result, "A2", "P1")["vendor_quantity"] == 3


@pytest.mark.parametrize(
    ("vendor_name", "maps"),
    [
        pytest.param("Microsoft 365 Business Premium", True, id="identical"),
        pytest.param("  microsoft 365   BUSINESS premium", True, id="normalised"),
        pytest.param("Microsoft 365 Business Premium (NCE)", False, id="near"),
    ],
)
def test_vendor_product_maps_by_exact_normalised_name(vendor_name, maps):
    line = psa_line("A1", "P1", 5, product_name="Microsoft 365 Business Premium")
    use = usage("pax8", "T1", "SKU-9", 5, product_name=vendor_name)

    result = run([line], [use], accounts=[account_map("pax8", "T1", "A1")])

    if maps:
        assert_frame_equal(
            result.auto_product_maps,
            frame([product_map("pax8", "SKU-9", "P1") | {"auto": True}], PRODUCT_MAP),
        )
        assert only_card(result, "A1", "P1")["card_type"] == "unchanged"
    else:
        assert result.auto_product_maps.is_empty()
        assert result.cards.is_empty()  # P1 is reconciled by nothing, so it makes no card
        assert result.unmapped.select("kind", "vendor_id").rows() == [("product", "SKU-9")]


def test_vendor_product_maps_to_a_catalogue_product_without_lines():
    use = usage("pax8", "T1", "SKU-9", 2, product_name="Backup 1TB")

    result = run(
        [psa_line("A1", "P1", 5)],
        [use],
        accounts=[account_map("pax8", "T1", "A1")],
        catalog=[catalog_item("BK", "30", name="Backup 1TB")],
    )

    card = only_card(result, "A1", "BK")
    assert (card["card_type"], card["vendor_quantity"], card["monthly_value"]) == (
        "new_revenue",
        2,
        60,
    )


def test_no_auto_map_when_two_psa_products_share_the_normalised_name():
    lines = [
        psa_line("A1", "P1", 5, product_name="Backup"),
        psa_line("A1", "P2", 5, product_name="BACKUP"),
    ]

    result = run(
        lines,
        [usage("pax8", "T1", "SKU-9", 5, product_name="backup")],
        accounts=[account_map("pax8", "T1", "A1")],
    )

    assert result.auto_product_maps.is_empty()
    assert result.unmapped.select("kind", "vendor_id").rows() == [("product", "SKU-9")]


def test_excluded_product_map_stops_the_name_match():
    line = psa_line("A1", "P1", 5, product_name="Backup")
    use = usage("pax8", "T1", "SKU-9", 5, product_name="Backup")

    result = run(
        [line],
        [use],
        accounts=[account_map("pax8", "T1", "A1")],
        products=[product_map("pax8", "SKU-9", excluded=True)],
    )

    assert result.auto_product_maps.is_empty()
    assert result.unmapped.is_empty()
    assert result.cards.is_empty()


def test_auto_maps_have_the_map_schema_even_when_empty():
    result = run([], [])

    assert result.auto_account_maps.schema == pl.Schema(ACCOUNT_MAP)
    assert result.auto_product_maps.schema == pl.Schema(PRODUCT_MAP)


def test_an_item_unmapped_by_hand_stays_unmapped_and_is_not_auto_mapped_again():
    # The map row left when a user undoes an auto-map: neither a PSA account nor excluded.
    cleared = account_map("pax8", "T9", None)
    result = run(
        [acme_line()],
        [usage("pax8", "T9", "S1", 7, account_name="Acme Corp")],
        accounts=[cleared],
        products=PRODUCTS,
    )

    assert result.auto_account_maps.is_empty()
    assert result.unmapped.select("kind", "vendor_id").rows() == [("account", "T9")]
    assert only_card(result, "A1", "P1")["card_type"] == "no_vendor_data"
