"""Usage, PSA, catalogue and map files (CSV or .xlsx) read into the engine's frames.

Every reader gives back a whole frame or raises an InputError listing what is wrong: nothing is
ever half-imported. Headers are recognised by alias (DESIGN 5); `columns` overrides that.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from connectors.csv import cells
from connectors.csv.headers import Columns, parse_columns, require, resolve
from connectors.csv.maps import map_frame, map_kind
from connectors.csv.maps import required as map_required
from connectors.csv.psa import CATALOG_REQUIRED, LINES_REQUIRED, catalog_frame, lines_frame
from connectors.csv.reader import Source, read_table
from connectors.csv.usage import REQUIRED as USAGE_REQUIRED
from connectors.csv.usage import usage_frame

__all__ = [
    "Imported",
    "Source",
    "parse_columns",
    "read_catalog",
    "read_map",
    "read_psa",
    "read_usage",
]


@dataclass(frozen=True)
class Imported:
    """A file read into one of the engine's frames.

    `kind` is "usage", "psa", "catalog", "account" or "product" (the last two: maps);
    `columns` gives, for each field read, the header of the column it was read from;
    `rows` counts the file's data rows (blank rows aside).
    """

    frame: pl.DataFrame
    kind: str
    columns: dict[str, str]
    warnings: list[str]
    rows: int


def read_usage(
    source: Source,
    *,
    name: str | None = None,
    vendor: str | None = None,
    columns: dict[str, str] | None = None,
    decimal_comma: bool = False,
    sheet: str | None = None,
) -> Imported:
    """Give back a vendor usage file as a USAGE frame: one row per vendor, account and product.

    `vendor` fills the rows with no vendor cell (or all rows, when there is no vendor column).
    """
    file, found, text = _open(source, "usage", USAGE_REQUIRED, name, sheet, columns)
    frame, warnings = usage_frame(file, text, found, vendor=vendor, decimal_comma=decimal_comma)
    return _imported(frame, "usage", found, warnings, text)


def read_psa(
    source: Source,
    *,
    name: str | None = None,
    columns: dict[str, str] | None = None,
    decimal_comma: bool = False,
    sheet: str | None = None,
) -> Imported:
    """Give back a PSA export as a PSA_LINES frame: one row per contract line."""
    file, found, text = _open(source, "psa", LINES_REQUIRED, name, sheet, columns)
    frame, warnings = lines_frame(file, text, found, decimal_comma=decimal_comma)
    return _imported(frame, "psa", found, warnings, text)


def read_catalog(
    source: Source,
    *,
    name: str | None = None,
    columns: dict[str, str] | None = None,
    decimal_comma: bool = False,
    sheet: str | None = None,
) -> Imported:
    """Give back a product catalogue as a CATALOG frame: one row per product of the file."""
    file, found, text = _open(source, "catalog", CATALOG_REQUIRED, name, sheet, columns)
    frame, warnings = catalog_frame(file, text, found, decimal_comma=decimal_comma)
    return _imported(frame, "catalog", found, warnings, text)


def read_map(
    source: Source,
    *,
    name: str | None = None,
    vendor: str | None = None,
    sheet: str | None = None,
) -> Imported:
    """Give back a map file as an ACCOUNT_MAP or PRODUCT_MAP frame, as its columns say
    (`kind` is "account" or "product"): one row per vendor and vendor id."""
    table = read_table(source, name=name, sheet=sheet)
    found = resolve(table.name, table.headers, "map")
    kind = map_kind(table.name, found)
    require(table.name, found, map_required(kind))
    text = cells.text_cells(table, found)
    cells.require_rows(table.name, text)
    frame, warnings = map_frame(table.name, text, found, kind, vendor=vendor)
    return _imported(frame, kind, found, warnings, text)


def _open(
    source: Source,
    kind: str,
    required: dict[str, tuple[str, ...]],
    name: str | None,
    sheet: str | None,
    columns: dict[str, str] | None,
) -> tuple[str, Columns, pl.DataFrame]:
    # Only the name leaves: the raw table is as large as the file, and dropping it here frees
    # it before the values are read.
    table = read_table(source, name=name, sheet=sheet)
    found = resolve(table.name, table.headers, kind, columns)
    require(table.name, found, required)
    # One chunk per column: columns chunked differently are realigned (copied) by every later
    # step, which costs more than one copy here.
    text = cells.text_cells(table, found).rechunk()
    cells.require_rows(table.name, text)
    return table.name, found, text


def _imported(
    frame: pl.DataFrame, kind: str, found: Columns, warnings: list[str], text: pl.DataFrame
) -> Imported:
    used = {f: found.header(f) for f in sorted(found.positions, key=found.positions.__getitem__)}
    return Imported(frame, kind, used, warnings, text.height)
