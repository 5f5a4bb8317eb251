"""Cards and unmapped lists written as CSV, in the formats of `trueup reconcile`."""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl

CARD_COLUMNS = (
    "account_id",
    "account_name",
    "product_id",
    "product_name",
    "contract_id",
    "line_id",
    "psa_quantity",
    "vendor_quantity",
    "change",
    "card_type",
    "unit_price",
    "monthly_value",
)
UNMAPPED_COLUMNS = ("kind", "vendor", "vendor_id", "vendor_name", "quantity")


def plain_decimal(column: str) -> pl.Expr:
    """Give back a decimal column as text without trailing zeros (`12`, `12.5`).

    A decimal's text always has its point (`12.0000`), so stripping zeros stops there.
    """
    return pl.col(column).cast(pl.String).str.strip_chars_end("0").str.strip_chars_end(".")


def price_text(column: str) -> pl.Expr:
    """Give back a price as text with at least two decimals (`22.00`, `3.3333`)."""
    return pl.col(column).cast(pl.String).str.replace(r"(\.\d\d\d*?)0+$", "${1}")


def _money_text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String)


_CARD_TEXT = {
    "psa_quantity": plain_decimal,
    "vendor_quantity": plain_decimal,
    "change": plain_decimal,
    "unit_price": price_text,
    "monthly_value": _money_text,
}


FORMULA_START = r"^[=+\-@\t\r]"
"""What makes a spreadsheet read a text cell as a formula (CSV injection)."""


def neutralised(column: str) -> pl.Expr:
    """Give back a text column whose cells a spreadsheet would run as formulas (`=`, `+`, `-`,
    `@`, tab, CR first) behind a leading `'`, so that they show as the text they are."""
    text = pl.col(column)
    return (
        pl.when(text.str.contains(FORMULA_START))
        .then(pl.lit("'") + text)
        .otherwise(text)
        .alias(column)
    )


def neutralised_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Give back `frame` with every text column neutralised (see `neutralised`), for a file
    people open in a spreadsheet; numbers, dates and decimals stay as they are.

    Neutralise before writing numbers as text: `-12` as text would otherwise gain a `'`."""
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(*(neutralised(c) for c in texts))


def cards_for_export(cards: pl.DataFrame) -> pl.DataFrame:
    """Give back the cards as the text columns of the cards CSV: names and ids neutralised,
    quantities and money exact."""
    frame = neutralised_frame(cards.select(CARD_COLUMNS))
    return frame.select(_CARD_TEXT.get(c, pl.col)(c) for c in CARD_COLUMNS)


def unmapped_for_export(unmapped: pl.DataFrame) -> pl.DataFrame:
    """Give back the unmapped list as the text columns of its CSV: names and ids neutralised."""
    frame = neutralised_frame(unmapped.select(UNMAPPED_COLUMNS))
    return frame.select(*UNMAPPED_COLUMNS[:-1], plain_decimal("quantity"))


def write_cards(cards: pl.DataFrame, out: Path | IO[str] | IO[bytes]) -> None:
    """Write the cards CSV; an unknown value is an empty cell."""
    cards_for_export(cards).write_csv(out, null_value="")


def write_unmapped(unmapped: pl.DataFrame, out: Path | IO[str] | IO[bytes]) -> None:
    """Write the unmapped CSV: kind, vendor, vendor_id, vendor_name, quantity."""
    unmapped_for_export(unmapped).write_csv(out, null_value="")


def changes_for_export(changes: pl.DataFrame, *, as_text: bool) -> pl.DataFrame:
    """Give back the approved changes (engine CHANGES) as their file's columns: names and ids
    neutralised; quantities and money exact (as text for CSV, as decimals for Excel); the
    approval time in UTC."""
    frame = neutralised_frame(changes)
    if as_text:
        return frame.with_columns(
            plain_decimal("old_quantity"),
            plain_decimal("new_quantity"),
            _money_text("prorated_amount"),
            _money_text("monthly_value"),
            pl.col("approved_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
    return frame.with_columns(pl.col("approved_at").dt.replace_time_zone(None))


def write_changes(
    changes: pl.DataFrame, out: Path | IO[bytes], *, excel: bool | None = None
) -> None:
    """Write the approved changes to apply in the PSA as CSV, or as Excel where `out` is named
    `.xlsx` (or `excel` says so); an unknown value (no prorated amount) is an empty cell."""
    if excel is None:
        name = out if isinstance(out, Path) else Path(str(getattr(out, "name", "")))
        excel = name.suffix.lower() == ".xlsx"
    if not excel:
        changes_for_export(changes, as_text=True).write_csv(out, null_value="")
        return
    changes_for_export(changes, as_text=False).write_excel(
        out,
        worksheet="changes",
        dtype_formats={pl.Date: "yyyy-mm-dd"},
        column_formats={
            "old_quantity": "General",
            "new_quantity": "General",
            "prorated_amount": "#,##0.00",
            "monthly_value": "#,##0.00",
            "approved_at": "yyyy-mm-dd hh:mm:ss",
        },
        autofit=True,
    )
