"""Files that cannot be imported: every problem reported, as a user reads it, and nothing kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.csv import read_catalog, read_map, read_psa, read_usage
from errors import InputError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"

HINT = " (for decimal commas, read the file with --decimal-comma)"
CANONICAL_HEADERS = '"account_id", "account_name", "product_id", "product_name", "quantity"'


@pytest.mark.parametrize(
    ("file", "options", "message"),
    [
        pytest.param(
            "not_a_number.csv",
            {},
            [
                'not_a_number.csv row 2, column "Qty": "12 seats" is not a number',
                f'not_a_number.csv row 3, column "Qty": "1,5" is not a number{HINT}',
                f'not_a_number.csv row 4, column "Qty": "1,23" is not a number{HINT}',
                'not_a_number.csv row 5, column "Qty": "1e3" is not a number',
                'not_a_number.csv row 6, column "Qty": "123456789012345" is too large',
            ],
            id="not-numbers",
        ),
        pytest.param(
            "not_a_number.csv",
            {"decimal_comma": True},
            [
                'not_a_number.csv row 2, column "Qty": "12 seats" is not a number',
                'not_a_number.csv row 5, column "Qty": "1e3" is not a number',
                'not_a_number.csv row 6, column "Qty": "123456789012345" is too large',
            ],
            id="not-numbers-with-decimal-comma",
        ),
        pytest.param(
            "bad_rows.csv",
            {},
            [
                'bad_rows.csv row 3, column "Qty": "-3" is negative; quantities cannot be negative',
                'bad_rows.csv row 4, column "Customer": no account id or name',
                'bad_rows.csv row 4, column "SKU": no product id or name',
                'bad_rows.csv row 5, column "Qty": the quantity is empty',
            ],
            id="negative-empty-and-missing-ids-rows-numbered-past-blank-lines",
        ),
        pytest.param(
            "leading_blank_line.csv",
            {},
            ['leading_blank_line.csv row 4, column "Qty": "x" is not a number'],
            id="rows-numbered-past-a-blank-line-before-the-header",
        ),
        pytest.param(
            "stray_quote_bad.csv",
            {},
            ['stray_quote_bad.csv row 6, column "quantity": "x" is not a number'],
            id="rows-numbered-the-same-when-polars-refuses-the-file",
        ),
        pytest.param(
            "no_quantity.csv",
            {},
            [
                "no_quantity.csv: no quantity column (one named quantity, qty, seats, "
                "licenses, licences, units, billable quantity); "
                'headers found: "Customer", "SKU", "Notes"; '
                "choose one with --columns quantity=HEADER"
            ],
            id="no-quantity-column",
        ),
        pytest.param(
            "no_columns.csv",
            {},
            [
                "no_columns.csv: no quantity column (one named quantity, qty, seats, "
                "licenses, licences, units, billable quantity); "
                'headers found: "Name", "Count"; choose one with --columns quantity=HEADER',
                "no_columns.csv: no account column (one named account id, customer id, "
                "company id, tenant id, client id, account name, account, customer, "
                "customer name, company, company name, client, client name, tenant, "
                "tenant name, organization, organisation); "
                'headers found: "Name", "Count"; choose one with --columns account_id=HEADER',
                "no_columns.csv: no product column (one named product id, sku, sku id, "
                "product code, item code, service id, offer id, product name, product, "
                "sku name, service, service name, offer name, item); "
                'headers found: "Name", "Count"; choose one with --columns product_id=HEADER',
            ],
            id="no-recognisable-columns",
        ),
        pytest.param("empty.csv", {}, ["empty.csv: the file is empty"], id="empty-file"),
        pytest.param(
            "blank_only.csv", {}, ["blank_only.csv: the file is empty"], id="blank-lines-only"
        ),
        pytest.param(
            "header_only.csv",
            {},
            ["header_only.csv: the file has a header but no data rows"],
            id="header-only",
        ),
        pytest.param(
            "binary.dat",
            {},
            ["binary.dat: this is not a text (CSV) file or an Excel .xlsx workbook"],
            id="not-text",
        ),
        pytest.param(
            "old.xls",
            {},
            ["old.xls: this is an old Excel .xls workbook; save it as .xlsx or CSV"],
            id="old-xls",
        ),
        pytest.param(
            "utf16.csv", {}, ["utf16.csv: this is UTF-16 text; save it as CSV UTF-8"], id="utf16"
        ),
        pytest.param(
            "unterminated_quote.csv",
            {},
            ['unterminated_quote.csv row 3: a quote (") opened in this row is never closed'],
            id="unterminated-quote",
        ),
        pytest.param(
            "ragged.csv",
            {},
            ["ragged.csv row 3: has 5 cells but the header has 3"],
            id="more-cells-than-headers",
        ),
        pytest.param(
            "book.xlsx",
            {"sheet": "Nope"},
            ['book.xlsx: there is no sheet "Nope"; sheets: "Usage", "Other", "Broken"'],
            id="xlsx-no-such-sheet",
        ),
        pytest.param(
            "book.xlsx#broken",
            {},
            ['book.xlsx row 3, column "Qty": "three" is not a number'],
            id="xlsx-row-numbers-count-blank-rows",
        ),
        pytest.param(
            "canonical.csv",
            {"sheet": "Usage"},
            ['canonical.csv: sheet "Usage" was given but the file is not an .xlsx'],
            id="sheet-of-a-csv",
        ),
        pytest.param(
            "canonical.csv",
            {"columns": {"qty": "quantity", "quantity": "Seats"}},
            [
                'canonical.csv: "qty" given in --columns is not a field of a usage file; '
                "its fields are vendor, distributor, account_id, account_name, product_id, "
                "product_name, quantity, unit_cost, billing_term, status, account_domain, account_external_id",
                'canonical.csv: there is no column "Seats" (given for quantity in --columns); '
                f"headers found: {CANONICAL_HEADERS}",
            ],
            id="explicit-columns-unknown-field-and-header",
        ),
    ],
)
def test_usage_problems(file: str, options: dict[str, Any], message: list[str]) -> None:
    with pytest.raises(InputError) as raised:
        read_usage(FIXTURES / file, vendor="Pax8", **options)
    assert str(raised.value).splitlines() == message


def test_without_a_vendor_column_or_argument_the_user_is_asked_for_one() -> None:
    with pytest.raises(InputError, match=r"^canonical.csv: no vendor column; give the vendor "):
        read_usage(FIXTURES / "canonical.csv")


def test_a_row_without_vendor_needs_the_vendor_argument() -> None:
    with pytest.raises(InputError) as raised:
        read_usage(FIXTURES / "vendor_column.csv")
    assert str(raised.value) == (
        'vendor_column.csv row 3, column "Vendor": no vendor; give one with --vendor'
    )


def test_fifty_problems_are_listed_and_the_rest_counted() -> None:
    with pytest.raises(InputError) as raised:
        read_usage(FIXTURES / "many_errors.csv", vendor="Pax8")
    lines = str(raised.value).splitlines()
    assert len(lines) == 51
    assert lines[0] == 'many_errors.csv row 2, column "quantity": "lots" is not a number'
    assert lines[49] == 'many_errors.csv row 51, column "quantity": "lots" is not a number'
    assert lines[50] == "... and 10 more problems"
    assert raised.value.total == 60


def test_a_missing_file_is_named() -> None:
    with pytest.raises(InputError, match=r"missing\.csv: the file does not exist"):
        read_usage(FIXTURES / "missing.csv", vendor="Pax8")


@pytest.mark.parametrize(
    ("read", "file", "message"),
    [
        pytest.param(
            read_psa,
            "psa_bad_prorate.csv",
            ['psa_bad_prorate.csv row 2, column "prorate": "maybe" is not yes or no'],
            id="psa-prorate",
        ),
        pytest.param(
            read_catalog,
            "canonical.csv",
            [
                "canonical.csv: no unit price column (one named unit price, price); "
                f"headers found: {CANONICAL_HEADERS}; "
                "choose one with --columns unit_price=HEADER"
            ],
            id="catalog-without-prices",
        ),
        pytest.param(
            read_map,
            "map_conflict.csv",
            [
                'map_conflict.csv row 4, column "psa_account_id": vendor "Pax8" account '
                '"T-100" is mapped to "P3" here but mapped to "P1" in row 2',
                'map_conflict.csv row 5, column "psa_account_id": vendor "Pax8" account '
                '"T-200" is excluded here but mapped to "P2" in row 3',
            ],
            id="map-conflicting-rows",
        ),
        pytest.param(
            read_map,
            "map_missing_psa.csv",
            [
                'map_missing_psa.csv row 2, column "psa_product_id": no PSA product id, '
                "and the row is not excluded",
                'map_missing_psa.csv row 3, column "vendor_product_id": no vendor product id',
                'map_missing_psa.csv row 4, column "psa_product_id": no PSA product id, '
                "and the row is not excluded",
                'map_missing_psa.csv row 4, column "excluded": "perhaps" is not yes or no',
            ],
            id="map-rows-without-ids",
        ),
        pytest.param(
            read_map,
            "map_both.csv",
            [
                "map_both.csv: the file has both a vendor account id and a vendor product id "
                "column; account maps and product maps are separate files"
            ],
            id="map-of-both-kinds",
        ),
        pytest.param(
            read_map,
            "canonical.csv",
            [
                "canonical.csv: no vendor account id or vendor product id column, so this is "
                f"not a map file; headers found: {CANONICAL_HEADERS}; "
                "accepted: vendor account id, vendor product id"
            ],
            id="not-a-map",
        ),
        pytest.param(
            read_map,
            "product_map.csv",
            ["product_map.csv: no vendor column; give the vendor with --vendor"],
            id="map-without-vendor",
        ),
    ],
)
def test_psa_catalog_and_map_problems(read: Any, file: str, message: list[str]) -> None:
    with pytest.raises(InputError) as raised:
        read(FIXTURES / file)
    assert str(raised.value).splitlines() == message


def test_a_row_with_text_only_in_a_column_not_read_is_not_blank() -> None:
    data = b"account,product,quantity,notes\nA1,S1,1,\n,,,see the ticket\n , ,\t, \n"
    with pytest.raises(InputError) as raised:
        read_usage(data, name="usage.csv", vendor="Pax8")
    assert str(raised.value).splitlines() == [
        'usage.csv row 3, column "account": no account id or name',
        'usage.csv row 3, column "product": no product id or name',
        'usage.csv row 3, column "quantity": the quantity is empty',
    ]
