"""DESIGN 6: the prorated amount of a change effective on day d of a billing period of D days is
change × unit price × (D − d + 1) / D, rounded to cents; none where the line does not prorate."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_series_equal

from engine import prorated_amount, with_prorated_amount
from engine.money import billing_period
from engine.schema import CARDS, MONEY
from tests.engine.factories import frame


@pytest.mark.parametrize(
    ("change", "price", "effective", "months", "expected"),
    [
        pytest.param("1", "22.00", date(2025, 3, 15), 1, "12.06", id="design-worked-example"),
        pytest.param("-1", "22.00", date(2025, 3, 15), 1, "-12.06", id="negative-change"),
        pytest.param("3", "22.00", date(2025, 3, 1), 1, "66.00", id="first-of-month-is-full"),
        pytest.param("1", "22.00", date(2025, 3, 31), 1, "0.71", id="last-day-of-31"),
        pytest.param("1", "22.00", date(2025, 4, 30), 1, "0.73", id="last-day-of-30"),
        pytest.param("1", "29.00", date(2024, 2, 29), 1, "1.00", id="leap-february-last-day"),
        pytest.param("1", "29.00", date(2024, 2, 15), 1, "15.00", id="leap-february-15-of-29"),
        pytest.param("1", "28.00", date(2023, 2, 15), 1, "14.00", id="february-14-of-28"),
        pytest.param("1", "0.01", date(2025, 4, 16), 1, "0.01", id="half-cent-rounds-up"),
        pytest.param("-1", "0.01", date(2025, 4, 16), 1, "-0.01", id="negative-half-cent-away"),
        pytest.param("2.5", "10", date(2025, 6, 16), 1, "12.50", id="fractional-change"),
        # quarterly: Q1 2025 is 1 Jan - 31 Mar, 90 days; 15 Feb is day 46, so 45 days remain
        pytest.param("1", "90.00", date(2025, 2, 15), 3, "45.00", id="quarterly"),
        pytest.param("1", "90.00", date(2025, 1, 1), 3, "90.00", id="quarterly-first-day"),
        pytest.param("1", "92.00", date(2025, 9, 30), 3, "1.00", id="quarterly-last-day-of-Q3"),
        pytest.param("1", "91.00", date(2024, 3, 1), 3, "31.00", id="quarterly-leap-Q1"),
        # annual: calendar year; 1 July is day 182 of 365 (day 183 of 366 in a leap year)
        pytest.param("1", "365.00", date(2025, 7, 1), 12, "184.00", id="annual"),
        pytest.param("1", "366.00", date(2024, 7, 1), 12, "184.00", id="annual-leap-year"),
        pytest.param("1", "22.00", date(2025, 7, 1), 12, "11.09", id="annual-rounded"),
        pytest.param("1", "120.00", date(2025, 12, 31), 12, "0.33", id="annual-last-day"),
    ],
)
def test_prorated_amount(change, price, effective, months, expected):
    got = prorated_amount(Decimal(change), Decimal(price), effective, months)

    assert got == Decimal(expected)
    assert got.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("effective", "months", "period"),
    [
        pytest.param(date(2025, 3, 15), 1, (date(2025, 3, 1), date(2025, 3, 31)), id="month"),
        pytest.param(date(2024, 2, 10), 1, (date(2024, 2, 1), date(2024, 2, 29)), id="leap-feb"),
        pytest.param(date(2025, 5, 5), 3, (date(2025, 4, 1), date(2025, 6, 30)), id="Q2"),
        pytest.param(date(2025, 12, 31), 3, (date(2025, 10, 1), date(2025, 12, 31)), id="Q4"),
        pytest.param(date(2025, 8, 1), 12, (date(2025, 1, 1), date(2025, 12, 31)), id="year"),
    ],
)
def test_billing_periods_are_calendar_aligned(effective, months, period):
    assert billing_period(effective, months) == period


def test_with_prorated_amount_only_where_the_line_prorates_and_has_a_change_and_price():
    cards = frame(
        [
            {
                "account_id": "A1",
                "change": "1",
                "unit_price": "22",
                "billing_months": 1,
                "prorate": True,
            },
            {
                "account_id": "A2",
                "change": "1",
                "unit_price": "22",
                "billing_months": None,
                "prorate": True,
            },
            {
                "account_id": "A3",
                "change": "1",
                "unit_price": "90",
                "billing_months": 3,
                "prorate": True,
            },
            {
                "account_id": "A4",
                "change": "1",
                "unit_price": "22",
                "billing_months": 1,
                "prorate": False,
            },
            {
                "account_id": "A5",
                "change": "1",
                "unit_price": "22",
                "billing_months": 1,
                "prorate": None,
            },
            {
                "account_id": "A6",
                "change": None,
                "unit_price": "22",
                "billing_months": 1,
                "prorate": True,
            },
            {
                "account_id": "A7",
                "change": "1",
                "unit_price": None,
                "billing_months": 1,
                "prorate": True,
            },
            {
                "account_id": "A8",
                "change": "-2",
                "unit_price": "22",
                "billing_months": 1,
                "prorate": True,
            },
        ],
        CARDS,
    )

    got = with_prorated_amount(cards, date(2025, 3, 15))

    expected = [
        Decimal(v) if v else None
        for v in ["12.06", "12.06", "17.00", None, None, None, None, "-24.13"]
    ]
    assert_series_equal(got["prorated_amount"], pl.Series("prorated_amount", expected, MONEY))
    assert got.drop("prorated_amount").equals(cards)
