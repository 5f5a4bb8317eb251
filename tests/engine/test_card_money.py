"""DESIGN 4.8 and 4.9: monthly value = change × target unit price ÷ months of the billing cycle,
rounded half away from zero to cents exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.engine.factories import account_map, only_card, product_map, psa_line, run, usage

MAPS = {
    "accounts": [account_map("pax8", "T1", "A1")],
    "products": [product_map("pax8", "S1", "P1")],
}


def monthly_value(psa: str, vendor: str, price: str | None, months: int | None = None):
    line = psa_line("A1", "P1", psa, price=price, months=months)
    card = only_card(run([line], [usage("pax8", "T1", "S1", vendor)], **MAPS), "A1", "P1")
    return card["monthly_value"]


@pytest.mark.parametrize(
    ("psa", "vendor", "price", "months", "expected"),
    [
        pytest.param("5", "7", "22", None, "44.00", id="no-cycle-is-monthly"),
        pytest.param("5", "7", "22", 1, "44.00", id="monthly"),
        pytest.param("5", "6", "30", 3, "10.00", id="quarterly-divides-by-3"),
        pytest.param("5", "6", "120", 12, "10.00", id="annual-divides-by-12"),
        pytest.param("5", "4", "120", 12, "-10.00", id="annual-decrease"),
        pytest.param("5", "6", "10", 3, "3.33", id="quarterly-third-rounds-down"),
        pytest.param("5", "7", "10", 3, "6.67", id="quarterly-two-thirds-rounds-up"),
        pytest.param("2", "2.5", "22.00", None, "11.00", id="fractional-change"),
        pytest.param("0", "1", "0.005", None, "0.01", id="half-cent-rounds-up"),
        pytest.param("1", "0", "0.005", None, "-0.01", id="negative-half-cent-rounds-away-from-0"),
        pytest.param("0", "1", "0.0049", None, "0.00", id="under-half-cent-rounds-down"),
        pytest.param("0", "1", "10.0049", None, "10.00", id="rounded-once-not-to-4-then-2"),
        pytest.param("0", "1", "0.0150", 3, "0.01", id="quarterly-exact-half-cent"),
        pytest.param("1", "0", "0.0150", 3, "-0.01", id="quarterly-negative-half-cent"),
        pytest.param("0", "1", "0.0600", 12, "0.01", id="annual-exact-half-cent"),
        pytest.param("0", "1", "0.0599", 12, "0.00", id="annual-just-under-half-cent"),
        pytest.param("0", "3", "0.0017", None, "0.01", id="product-lands-on-half-cent"),
        pytest.param("5", "5", "22", None, "0.00", id="unchanged-is-zero"),
        pytest.param("5", "7", None, None, None, id="unpriced-line-has-no-value"),
        pytest.param("0", "250000", "1999.9999", 12, "41666664.58", id="large"),
    ],
)
def test_monthly_value(psa, vendor, price, months, expected):
    got = monthly_value(psa, vendor, price, months)

    assert got == (None if expected is None else Decimal(expected))
    if got is not None:
        assert got.as_tuple().exponent == -2


def test_money_is_rounded_once_not_first_to_four_places():
    # 0.5 × 0.0099 = 0.00495: four places first would make 0.0050 and then 0.01.
    assert monthly_value("0", "0.5", "0.0099") == Decimal("0.00")
