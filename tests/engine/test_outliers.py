"""DESIGN 6: a card is an outlier when |change| ≥ max(N, R × the account's PSA quantity over
reconciled products); N = 10 and R = 0.5 by default."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine import flag_outliers
from engine.schema import CARDS
from tests.engine.factories import account_map, frame, product_map, psa_line, run, usage


def card(account: str, product: str, psa: str, change: str | None, card_type: str) -> dict:
    return {
        "account_id": account,
        "product_id": product,
        "psa_quantity": psa,
        "change": change,
        "card_type": card_type,
    }


def flagged(cards: list[dict], **thresholds) -> list[bool]:
    return flag_outliers(frame(cards, CARDS), **thresholds)["flagged"].to_list()


def test_design_example_small_account_at_plus_50_is_flagged_a_large_one_is_not():
    accounts = [account_map("pax8", "small", "A-SMALL"), account_map("pax8", "big", "A-BIG")]
    result = run(
        [psa_line("A-SMALL", "P1", 5), psa_line("A-BIG", "P1", 500)],
        [usage("pax8", "small", "S1", 55), usage("pax8", "big", "S1", 550)],
        accounts=accounts,
        products=[product_map("pax8", "S1", "P1")],
    )

    got = flag_outliers(result.cards).select("account_id", "change", "flagged").rows()

    assert got == [("A-BIG", 50, False), ("A-SMALL", 50, True)]


@pytest.mark.parametrize(
    ("cards", "expected"),
    [
        pytest.param([card("A", "P1", "5", "10", "increase")], [True], id="N-reached"),
        pytest.param([card("A", "P1", "5", "9.9999", "increase")], [False], id="below-N"),
        pytest.param([card("A", "P1", "5", "-10", "decrease")], [True], id="negative-at-N"),
        pytest.param([card("A", "P1", "5", "-5", "removal")], [False], id="small-removal"),
        pytest.param([card("A", "P1", "100", "-50", "decrease")], [True], id="negative-at-R"),
        pytest.param([card("A", "P1", "100", "-49", "decrease")], [False], id="negative-below-R"),
        pytest.param([card("A", "P1", "100", "50", "increase")], [True], id="R-reached"),
        pytest.param(
            # the account's total over reconciled products is 60 + 40 = 100, so R × 100 = 50
            [card("A", "P1", "60", "49", "increase"), card("A", "P2", "40", "50", "increase")],
            [False, True],
            id="R-over-the-accounts-total",
        ),
        pytest.param(
            [card("A", "P1", "100", "20", "increase"), card("B", "P1", "4", "20", "increase")],
            [False, True],
            id="each-account-its-own-total",
        ),
        pytest.param(
            [card("A", "P1", "5", None, "no_vendor_data")],
            [False],
            id="no-vendor-data-never-flagged",
        ),
        pytest.param(
            [card("A", "P1", "2", None, "no_vendor_data"), card("A", "P2", "2", "-2", "removal")],
            [False, False],
            id="no-vendor-data-beside-a-removal",
        ),
        pytest.param(
            [card("NEW", "P1", "0", "10", "new_revenue")],
            [True],
            id="new-account-new-revenue-uses-N",
        ),
        pytest.param(
            [card("NEW", "P1", "0", "9", "new_revenue")],
            [False],
            id="new-account-small-new-revenue",
        ),
        pytest.param(
            [card("A", "P1", "30", "0", "unchanged"), card("A", "P2", "0", "12", "new_revenue")],
            [False, False],
            id="new-revenue-in-a-30-seat-account-needs-15",
        ),
    ],
)
def test_default_thresholds(cards, expected):
    assert flagged(cards) == expected


@pytest.mark.parametrize(
    ("min_change", "ratio", "expected"),
    [
        pytest.param(Decimal(10), Decimal("0.5"), [False, True, False], id="defaults"),
        pytest.param(Decimal(3), Decimal("0.5"), [True, True, False], id="smaller-N"),
        pytest.param(Decimal(10), Decimal("0.1"), [False, True, True], id="smaller-R"),
        pytest.param(Decimal(100), Decimal(0), [False, False, False], id="large-N-no-R"),
        pytest.param(Decimal(0), Decimal(0), [True, True, True], id="everything-is-flagged"),
    ],
)
def test_thresholds_are_parameters(min_change, ratio, expected):
    cards = [
        card("SMALL", "P1", "4", "5", "increase"),
        card("MID", "P1", "20", "-10", "decrease"),
        card("BIG", "P1", "200", "25", "increase"),
    ]

    assert flagged(cards, min_change=min_change, ratio=ratio) == expected


def test_flag_outliers_keeps_the_cards_and_adds_one_column():
    cards = frame([card("A", "P1", "5", "50", "increase")], CARDS)

    got = flag_outliers(cards)

    assert got.drop("flagged").equals(cards)
    assert got.columns == [*cards.columns, "flagged"]
