"""Money: monthly values and prorated amounts, rounded once to cents (DESIGN 4.8, 4.9 and 6)."""

from __future__ import annotations

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from engine.schema import EXACT, MONEY

CENT = Decimal("0.01")


def to_cents(amount: pl.Expr) -> pl.Expr:
    """Give back an exact amount rounded half away from zero to cents."""
    return amount.round(2, mode="half_away_from_zero").cast(MONEY)


def monthly_value(change: pl.Expr, unit_price: pl.Expr, billing_months: pl.Expr) -> pl.Expr:
    """Give back change × unit price ÷ months of the billing cycle, in cents (null if unpriced)."""
    exact = change.cast(EXACT) * unit_price.cast(EXACT) / billing_months.fill_null(1).cast(EXACT)
    return to_cents(exact).alias("monthly_value")


def billing_period(effective: date, billing_months: int = 1) -> tuple[date, date]:
    """Give back the first and last day of the billing period holding `effective`.

    Periods of a cycle longer than a month are taken as aligned to the calendar year (quarters,
    halves, years), which is how the PSAs we read bill unless a contract says otherwise.
    """
    months = billing_months if billing_months in (1, 2, 3, 4, 6, 12) else 1
    first_month = (effective.month - 1) // months * months + 1
    last_month = first_month + months - 1
    last_day = calendar.monthrange(effective.year, last_month)[1]
    return date(effective.year, first_month, 1), date(effective.year, last_month, last_day)


def prorated_amount(
    change: Decimal, unit_price: Decimal, effective: date, billing_months: int = 1
) -> Decimal:
    """Give back change × unit price × (D − d + 1) / D in cents, d the effective day's place in
    its billing period of D days (DESIGN 6): the part of the period the change covers."""
    start, end = billing_period(effective, billing_months)
    days = (end - start).days + 1
    remaining = (end - effective).days + 1
    exact = change * unit_price * remaining / days
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def with_prorated_amount(cards: pl.DataFrame, effective: date) -> pl.DataFrame:
    """Give back `cards` with `prorated_amount`: what a change effective on `effective` bills for
    the rest of its billing period; null where the line does not prorate or is unpriced."""
    amounts = [
        prorated_amount(change, price, effective, months or 1)
        if prorate and change is not None and price is not None
        else None
        for change, price, months, prorate in cards.select(
            "change", "unit_price", "billing_months", "prorate"
        ).iter_rows()
    ]
    return cards.with_columns(pl.Series("prorated_amount", amounts, dtype=MONEY))
