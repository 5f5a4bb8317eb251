"""Which column a field is read from: aliases, their order of preference, explicit choices."""

from __future__ import annotations

import pytest

from connectors.csv import parse_columns
from connectors.csv.headers import normalise, resolve
from connectors.csv.reader import detect_separator
from errors import InputError


@pytest.mark.parametrize(
    ("header", "normal"),
    [("Account Name", "accountname"), ("account_name", "accountname"), ("ACCOUNT-NAME", "accountname"),
     (" Qty ", "qty"), ("Sku Id", "skuid")],
)  # fmt: skip
def test_headers_match_ignoring_case_spaces_underscores_and_hyphens(
    header: str, normal: str
) -> None:
    assert normalise(header) == normal


@pytest.mark.parametrize(
    ("headers", "field", "chosen"),
    [
        pytest.param(["Customer", "Account Name"], "account_name", 1, id="own-name-wins"),
        pytest.param(["Company", "Customer"], "account_name", 1, id="earlier-alias-wins"),
        pytest.param(["Qty", "Seats", "Qty"], "quantity", 0, id="leftmost-wins"),
        pytest.param(["Licenses", "Units", "Seats"], "quantity", 2, id="seats-before-licenses"),
        pytest.param(["Tenant ID", "Tenant"], "account_id", 0, id="id-alias"),
        pytest.param(["Organisation"], "account_name", 0, id="british-spelling"),
        pytest.param(["Billing Frequency"], "billing_cycle", None, id="not-a-usage-field"),
    ],
)
def test_detection_order(headers: list[str], field: str, chosen: int | None) -> None:
    assert resolve("usage.csv", headers, "usage").positions.get(field) == chosen


def test_a_column_chosen_is_not_detected_as_another_field() -> None:
    found = resolve("usage.csv", ["Customer", "SKU", "Qty"], "usage", {"account_id": "customer"})
    assert found.positions == {"account_id": 0, "product_id": 1, "quantity": 2}


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("quantity=Seats,account_name=Org", {"quantity": "Seats", "account_name": "Org"}),
        (" quantity = Seats , ", {"quantity": "Seats"}),
        ("product_name=Item = Name", {"product_name": "Item = Name"}),
        ("vendor=", {"vendor": ""}),
    ],
)
def test_parse_columns(text: str, choices: dict[str, str]) -> None:
    assert parse_columns(text) == choices


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("quantity", '--columns: "quantity" is not field=HEADER'),
        ("=Seats", '--columns: "=Seats" is not field=HEADER'),
        ("quantity=a,quantity=b", '--columns: "quantity" is given twice'),
        ("", "--columns: no column choice given (field=HEADER)"),
    ],
)
def test_parse_columns_rejects(text: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_columns(text)
    assert str(raised.value) == message


def test_parse_columns_names_the_fields_when_one_is_unknown() -> None:
    with pytest.raises(
        InputError,
        match=r'^--columns: "qty" is not a field; fields are account_domain, account_external_id, account_id',
    ):
        parse_columns("qty=Seats")


@pytest.mark.parametrize(
    ("head", "separator"),
    [
        (b"a,b,c\n1;2;3;4;5\n", ","),
        (b"a;b;c\n", ";"),
        (b"a\tb\tc\r\n", "\t"),
        (b'"a;b",c,d\n', ","),
        (b'"x,y,z";b\n', ";"),
        (b"quantity\n1,5\n", ","),
    ],
)
def test_delimiter_from_the_header_line(head: bytes, separator: str) -> None:
    assert detect_separator(head) == separator
