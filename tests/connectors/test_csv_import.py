"""Usage files as real exports write them: one fixture file per quirk, read into the same frame."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.csv import Imported, read_usage
from engine.schema import USAGE

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"


def usage(*rows: dict[str, Any]) -> pl.DataFrame:
    """Give back a USAGE frame with the given columns; the others are null."""
    return pl.DataFrame(list(rows), schema=USAGE)


CANONICAL = usage(
    {
        "vendor": "Pax8",
        "account_id": "A1",
        "account_name": "Café Müller GmbH",
        "product_id": "S1",
        "product_name": "Microsoft 365 Business Premium",
        "quantity": Decimal("12"),
    },
    {
        "vendor": "Pax8",
        "account_id": "A2",
        "account_name": "Acme, Inc.",
        "product_id": "S2",
        "product_name": "Defender for Business",
        "quantity": Decimal("3.5"),
    },
)
"""What every file of SAME_DATA holds, whatever its quirk."""

CANONICAL_HEADERS = {
    "account_id": "account_id",
    "account_name": "account_name",
    "product_id": "product_id",
    "product_name": "product_name",
    "quantity": "quantity",
}

SAME_DATA = [
    pytest.param("canonical.csv", {}, CANONICAL_HEADERS, id="canonical"),
    pytest.param("bom.csv", {}, CANONICAL_HEADERS, id="utf8-bom"),
    pytest.param("cp1252.csv", {}, CANONICAL_HEADERS, id="windows-1252"),
    pytest.param("semicolon.csv", {}, CANONICAL_HEADERS, id="semicolons"),
    pytest.param("tab.tsv", {}, CANONICAL_HEADERS, id="tabs"),
    pytest.param("crlf.csv", {}, CANONICAL_HEADERS, id="crlf"),
    pytest.param("quoted.csv", {}, CANONICAL_HEADERS, id="quoted-commas-newlines-quotes"),
    pytest.param(
        "whitespace.csv",
        {},
        {**CANONICAL_HEADERS, "account_name": "Account Name"},
        id="whitespace-around-headers-and-values",
    ),
    pytest.param("blank_lines.csv", {}, CANONICAL_HEADERS, id="blank-lines"),
    pytest.param("trailing_delimiters.csv", {}, CANONICAL_HEADERS, id="trailing-delimiters"),
    pytest.param(
        "aliases.csv",
        {},
        {
            "account_id": "Customer ID",
            "account_name": "Customer",
            "product_id": "SKU",
            "product_name": "Product",
            "quantity": "Qty",
        },
        id="aliases-earlier-alias-wins",
    ),
    pytest.param(
        "explicit.csv",
        {
            "columns": {
                "account_id": "ref",
                "account_name": "Org",
                "product_id": "Code",
                "product_name": "DESCRIPTION",
                "quantity": "count",
            }
        },
        {
            "account_id": "Ref",
            "account_name": "Org",
            "product_id": "Code",
            "product_name": "Description",
            "quantity": "Count",
        },
        id="explicit-columns",
    ),
    pytest.param("book.xlsx", {}, CANONICAL_HEADERS, id="xlsx-first-sheet"),
    pytest.param(
        "book.xlsx",
        {"sheet": "Other"},
        {
            "account_id": "Customer ID",
            "account_name": "Customer",
            "product_id": "SKU",
            "product_name": "Product",
            "quantity": "Qty",
        },
        id="xlsx-named-sheet",
    ),
    pytest.param(
        "book.xlsx#Other",
        {},
        {
            "account_id": "Customer ID",
            "account_name": "Customer",
            "product_id": "SKU",
            "product_name": "Product",
            "quantity": "Qty",
        },
        id="xlsx-sheet-in-path",
    ),
]


@pytest.mark.parametrize(("file", "options", "headers"), SAME_DATA)
def test_every_quirk_reads_into_the_same_frame(
    file: str, options: dict[str, Any], headers: dict[str, str]
) -> None:
    imported = read_usage(FIXTURES / file, vendor="Pax8", **options)
    assert_frame_equal(imported.frame, CANONICAL)
    assert imported.kind == "usage"
    assert imported.columns == headers
    assert imported.rows == 2
    assert imported.warnings == []


@pytest.mark.parametrize("file", ["canonical.csv", "book.xlsx", "cp1252.csv"])
def test_an_upload_is_read_from_its_bytes_whatever_its_name(file: str) -> None:
    """An .xlsx is known by its first bytes, not by its name."""
    data = (FIXTURES / file).read_bytes()
    imported = read_usage(data, name="upload.bin", vendor="Pax8")
    assert_frame_equal(imported.frame, CANONICAL)


def test_a_column_chosen_overrides_the_one_detected() -> None:
    imported = read_usage(FIXTURES / "aliases.csv", vendor="Pax8", columns={"quantity": " seats "})
    assert imported.columns["quantity"] == "Seats"
    assert imported.frame["quantity"].to_list() == [Decimal("99"), Decimal("99")]


def test_a_column_chosen_as_empty_is_not_read() -> None:
    imported = read_usage(FIXTURES / "aliases.csv", vendor="Pax8", columns={"account_id": ""})
    assert "account_id" not in imported.columns
    assert imported.frame["account_id"].to_list() == ["Café Müller GmbH", "Acme, Inc."]


def value_rows(imported: Imported, *columns: str) -> list[tuple[Any, ...]]:
    return imported.frame.select(columns).rows()


@pytest.mark.parametrize(
    ("file", "options", "expected"),
    [
        pytest.param(
            "decimal_comma.csv",
            {"decimal_comma": True},
            [
                ("A1", Decimal("1234.5"), Decimal("1000.25")),
                ("A2", Decimal("3.5"), Decimal("12")),
                ("A3", Decimal("1234"), Decimal("0.5")),
            ],
            id="decimal-comma",
        ),
        pytest.param(
            "thousands.csv",
            {},
            [
                ("A1", Decimal("1234567.5"), Decimal("1000.25")),
                ("A2", Decimal("1234"), Decimal("12")),
                ("A3", Decimal("0.5"), Decimal("0.5")),
            ],
            id="thousands-separators-and-currency",
        ),
        pytest.param(
            "rounding.csv",
            {},
            [
                ("A1", Decimal("0.0001"), Decimal("1.2345")),
                ("A2", Decimal("3"), Decimal("1.5")),
                ("A3", Decimal("1.2345"), Decimal("-0.0001")),
            ],
            id="more-than-4-places-half-up",
        ),
    ],
)
def test_numbers(file: str, options: dict[str, Any], expected: list[tuple[Any, ...]]) -> None:
    imported = read_usage(FIXTURES / file, vendor="Pax8", **options)
    assert value_rows(imported, "account_id", "quantity", "unit_cost") == expected


def test_rounded_values_are_counted_in_a_warning() -> None:
    imported = read_usage(FIXTURES / "rounding.csv", vendor="Pax8")
    assert imported.warnings == ["5 values had more than 4 decimal places and were rounded"]


def test_rows_of_one_key_add_up_and_only_active_rows_count() -> None:
    imported = read_usage(FIXTURES / "status.csv")
    expected = usage(
        {"vendor": "Pax8", "account_id": "A1", "product_id": "S1", "quantity": Decimal("12")},
        {"vendor": "Pax8", "account_id": "A2", "product_id": "S1", "quantity": Decimal("0")},
        {"vendor": "Ingram", "account_id": "A1", "product_id": "S1", "quantity": Decimal("7")},
    ).with_columns(
        account_name=pl.col("account_id"),
        product_name=pl.col("product_id"),
        status=pl.Series(["active", "Cancelled", "active"]),
    )
    assert_frame_equal(imported.frame, expected, check_row_order=False)
    assert imported.rows == 6


def test_the_vendor_given_fills_only_empty_vendor_cells() -> None:
    imported = read_usage(FIXTURES / "vendor_column.csv", vendor="Ingram")
    assert value_rows(imported, "vendor", "account_id") == [("Pax8", "A1"), ("Ingram", "A2")]


def test_a_stray_quote_inside_a_value_is_kept() -> None:
    """Regression: Polars refuses `Dell 24" Monitor` unquoted; the importer reads it anyway."""
    imported = read_usage(FIXTURES / "stray_quote.csv", vendor="Dell")
    assert imported.frame["product_id"].to_list() == ['Dell 24" Monitor', 'Dell 27" Monitor']


def test_a_numeric_xlsx_cell_reads_as_the_number_excel_shows() -> None:
    """The cell holds 3.5000000000000004; Excel (and the importer) reads 3.5, not more places."""
    imported = read_usage(FIXTURES / "book.xlsx", vendor="Pax8")
    assert imported.frame["quantity"].to_list() == [Decimal("12"), Decimal("3.5")]
    assert imported.warnings == []


def test_a_tenants_domain_and_external_id_are_kept_as_evidence_for_suggestions() -> None:
    imported = read_usage(FIXTURES / "evidence.csv")
    kept = imported.frame.select("account_id", "account_domain", "account_external_id").unique(
        maintain_order=True
    )
    assert kept.rows() == [("T1", "acmedental.com", "19234"), ("T2", None, None)]
