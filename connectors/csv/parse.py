"""Text cells turned into exact values, as Polars expressions: numbers, yes/no, billing cycles.

Each parser gives back the value and a flag for the cells that could not be read, so that a
file's bad cells are all found in one pass and reported together.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from engine.schema import QUANTITY

_DIGITS_DOT = r"(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d*)?|\.\d+"
_DIGITS_COMMA = r"(?:\d+|\d{1,3}(?:\.\d{3})+|\d{1,3}(?:[ \x{a0}\x{202f}]\d{3})+)(?:,\d*)?|,\d+"
_CURRENCY = r"[$€£]?\s*"


@dataclass(frozen=True)
class Parsed:
    """A column's values, with flags for the cells that are wrong and those that were rounded."""

    value: pl.Expr
    invalid: pl.Expr
    rounded: pl.Expr


def number_pattern(*, decimal_comma: bool, currency: bool) -> str:
    """Give back the regular expression a whole number cell must match."""
    digits = _DIGITS_COMMA if decimal_comma else _DIGITS_DOT
    return rf"^[+-]?{_CURRENCY if currency else ''}(?:{digits})$"


def simple_pattern(*, decimal_comma: bool) -> str:
    """Give back the regular expression of the numbers a cast reads as they are: up to 14
    digits and (with a decimal point) up to 4 places."""
    return r"^-?\d{1,14}$" if decimal_comma else r"^-?\d{1,14}(?:\.\d{1,4})?$"


def decimal(
    cell: pl.Expr, *, decimal_comma: bool = False, currency: bool = False, simple: bool = False
) -> Parsed:
    """Give back a text column read as Decimal(18, 4), rounded half-up (away from zero).

    `.` is the decimal point and `,` only a thousands separator (`1,234,567.89`); with
    `decimal_comma` it is the other way round, and a space also separates thousands.
    `currency` allows a leading `$`, `€` or `£`. Empty cells are null and not invalid.
    `simple` says every cell matches `simple_pattern`, so that a plain cast reads them.
    """
    if simple:
        return Parsed(cell.cast(QUANTITY), pl.lit(False), pl.lit(False))
    matches = cell.str.contains(number_pattern(decimal_comma=decimal_comma, currency=currency))
    if decimal_comma:
        plain = cell.str.replace_all(r"[+$€£.\s]", "").str.replace(",", ".", literal=True)
    else:
        plain = cell.str.replace_all(r"[+$€£,\s]", "")
    # A cast to four places rounds half to even. Appending a 1 to a value with five or more
    # places moves an exact tie just above it and leaves every other value on its side of it,
    # so the cast then rounds half away from zero.
    nudged = plain.str.replace(r"(\.\d{5,})$", "${1}1")
    value = nudged.cast(QUANTITY, strict=False)
    rounded = nudged.str.len_bytes() != plain.str.len_bytes()
    invalid = cell.is_not_null() & (matches.not_() | value.is_null())
    return Parsed(
        pl.when(invalid).then(None).otherwise(value),
        invalid,
        rounded & invalid.not_(),
    )


def number_problem(cell: pl.Expr, *, decimal_comma: bool, currency: bool) -> pl.Expr:
    """Give back, for a cell `decimal` flagged, what is wrong with it."""
    quoted = pl.format('"{}"', cell)
    other_way = cell.str.contains(
        number_pattern(decimal_comma=not decimal_comma, currency=currency)
    )
    hint = (
        " (the file is read with decimal commas)"
        if decimal_comma
        else " (for decimal commas, read the file with --decimal-comma)"
    )
    fits = cell.str.contains(number_pattern(decimal_comma=decimal_comma, currency=currency))
    return (
        pl.when(fits)
        .then(pl.format("{} is too large", quoted))
        .when(other_way)
        .then(pl.format("{} is not a number{}", quoted, pl.lit(hint)))
        .otherwise(pl.format("{} is not a number", quoted))
    )


TRUE = ("true", "yes", "y", "1")
FALSE = ("false", "no", "n", "0")


def yes_no(cell: pl.Expr) -> Parsed:
    """Give back a text column read as Boolean: true/false, yes/no, y/n, 1/0; empty is null."""
    lower = cell.str.to_lowercase()
    value = pl.when(lower.is_in(TRUE)).then(True).when(lower.is_in(FALSE)).then(False)
    return Parsed(value, cell.is_not_null() & value.is_null(), pl.lit(False))


CYCLES = {
    "monthly": 1,
    "month": 1,
    "1": 1,
    "quarterly": 3,
    "quarter": 3,
    "3": 3,
    "semiannual": 6,
    "semiannually": 6,
    "halfyearly": 6,
    "6": 6,
    "annual": 12,
    "annually": 12,
    "yearly": 12,
    "year": 12,
    "12": 12,
}
"""Billing cycles by name (lowercased, without spaces, `_` and `-`) to months."""


def billing_months(cell: pl.Expr) -> Parsed:
    """Give back a billing cycle as months (1, 3, 6, 12); an unknown one is read as monthly.

    `invalid` flags the unknown ones: they are kept (as 1) and only counted in a warning.
    """
    key = cell.str.to_lowercase().str.replace_all(r"[\s_\-]", "")
    months = key.replace_strict(CYCLES, default=None, return_dtype=pl.Int32)
    unknown = cell.is_not_null() & months.is_null()
    return Parsed(pl.when(unknown).then(pl.lit(1, pl.Int32)).otherwise(months), unknown, unknown)
