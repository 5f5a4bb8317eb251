"""PSA exports, catalogues and map files read into the engine's frames."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.csv import read_catalog, read_map, read_psa
from engine.schema import ACCOUNT_MAP, CATALOG, PRODUCT_MAP, PSA_LINES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
MONTH = Path(__file__).resolve().parent.parent / "fixtures" / "month"

CAFE, M365 = "Café Müller GmbH", "Microsoft 365 Business Premium"


def frame(schema: dict[str, Any], *rows: tuple[Any, ...]) -> pl.DataFrame:
    """Give back the rows as a frame of `schema`; columns a row leaves out at its end are null."""
    padded = [row + (None,) * (len(schema) - len(row)) for row in rows]
    return pl.DataFrame(padded, schema=schema, orient="row")


def test_psa_lines_one_row_per_line() -> None:
    imported = read_psa(FIXTURES / "psa.csv")
    expected = frame(
        PSA_LINES,
        ("P1", CAFE, "C1", "Managed Services", "M365BP", M365, "L1",
         Decimal("12"), Decimal("1200"), Decimal("18.5"), True, 1),
        # No contract id: the contract name; no line id: the row number.
        ("P1", CAFE, "Annual Licences", "Annual Licences", "M365BP", M365, "3",
         Decimal("3"), Decimal("22"), None, False, 12),
        ("P2", "Acme, Inc.", "C2", "Managed Services", "DEF", "Defender", "L9",
         Decimal("5"), Decimal("3.3333"), None, None, 6),
        # The same line id again in the same contract is kept: it is another line.
        ("P2", "Acme, Inc.", "C2", "Managed Services", "DEF", "Defender", "L9",
         Decimal("1"), Decimal("3"), None, True, 1),
        ("P2", "Acme, Inc.", "C2", "Managed Services", "LAB", "Labour", "L10",
         Decimal("0"), Decimal("95"), None, False, None),
    )  # fmt: skip
    assert_frame_equal(imported.frame, expected)
    assert imported.kind == "psa"
    assert imported.warnings == [
        "1 value had more than 4 decimal places and was rounded",
        "1 row has a billing cycle that is not monthly, quarterly, semi-annual or annual "
        '("biennial"), read as monthly',
    ]


def test_psa_export_with_aliases_in_windows_1252_with_decimal_commas() -> None:
    imported = read_psa(FIXTURES / "psa_aliases.csv", decimal_comma=True)
    expected = frame(
        PSA_LINES,
        (CAFE, CAFE, "Managed Services", "Managed Services", "M365BP", M365, "2",
         Decimal("12"), Decimal("21.5"), None, True, 3),
    )  # fmt: skip
    assert_frame_equal(imported.frame, expected)
    assert imported.columns == {
        "account_name": "Company Name",
        "contract_name": "Agreement",
        "product_id": "Product ID",
        "product_name": "Product",
        "quantity": "Qty",
        "unit_price": "Unit Price",
        "prorate": "Prorated",
        "billing_cycle": "Billing Frequency",
    }


@pytest.mark.parametrize(
    ("cycle", "months"),
    [
        *[(c, 1) for c in ("monthly", "Month", "1")],
        *[(c, 3) for c in ("Quarterly", "quarter", "3")],
        *[(c, 6) for c in ("semi-annual", "Semi Annual", "semiannual", "half-yearly", "6")],
        *[(c, 12) for c in ("annual", "Annually", "YEARLY", "year", "12")],
        ("", None),
    ],
)
def test_billing_cycles(cycle: str, months: int | None) -> None:
    data = f"account,product,quantity,billing cycle\nP1,M1,1,{cycle}\n".encode()
    imported = read_psa(data, name="psa.csv")
    assert imported.frame["billing_months"].to_list() == [months]
    assert imported.warnings == []


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        *[(c, True) for c in ("true", "Yes", "Y", "1", "TRUE")],
        *[(c, False) for c in ("false", "no", "N", "0")],
        ("", None),
    ],
)
def test_prorate(cell: str, value: bool | None) -> None:
    data = f"account,product,quantity,prorate\nP1,M1,1,{cell}\n".encode()
    assert read_psa(data, name="psa.csv").frame["prorate"].to_list() == [value]


def test_catalog() -> None:
    imported = read_catalog(FIXTURES / "catalog.csv")
    expected = frame(
        CATALOG,
        ("M365BP", M365, Decimal("22"), Decimal("18.5"), 1),
        # No name: the PSA's name for the product is used, so none is made up here.
        ("DEF", None, Decimal("1200"), None, 12),
        ("Labour", "Labour", Decimal("95"), None, None),
    )
    assert_frame_equal(imported.frame, expected)
    assert imported.kind == "catalog"


def test_account_map() -> None:
    imported = read_map(FIXTURES / "account_map.csv")
    expected = frame(
        ACCOUNT_MAP,
        ("Pax8", "T-100", "P1", False, None, False),
        ("Pax8", "T-200", None, True, "internal tenant", False),
        ("Ingram", "T-100", "P2", False, None, False),
    )
    assert_frame_equal(imported.frame, expected)
    assert imported.kind == "account"
    assert imported.rows == 4


def test_product_map_with_the_vendor_given() -> None:
    imported = read_map(FIXTURES / "product_map.csv", vendor="Pax8")
    expected = frame(
        PRODUCT_MAP,
        ("Pax8", "SKU-1", "M365BP", False, None, False),
        ("Pax8", "SKU-2", None, True, "trial SKU", False),
    )
    assert_frame_equal(imported.frame, expected)
    assert imported.kind == "product"
    assert imported.columns == {
        "vendor_product_id": "Vendor Product ID",
        "psa_product_id": "PSA Product ID",
        "excluded": "Exclude",
        "reason": "Notes",
    }


@pytest.mark.parametrize(
    ("read", "file", "kind"),
    [
        (read_psa, "psa.csv", "psa"),
        (read_catalog, "catalog.csv", "catalog"),
        (read_map, "account-map.csv", "account"),
        (read_map, "product-map.csv", "product"),
    ],
)
def test_the_month_fixtures_import(read: Any, file: str, kind: str) -> None:
    assert read(MONTH / file).kind == kind


def test_a_psa_export_keeps_the_companys_website_as_evidence_for_suggestions() -> None:
    imported = read_psa(FIXTURES / "psa_website.csv")
    assert imported.frame.select("account_id", "account_website").rows() == [
        ("19234", "https://www.acmedental.com/")
    ]
