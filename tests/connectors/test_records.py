"""The record reading every API connector shares: exact numbers, lenient PSA fields, strict
vendor fields, and schema errors that name the connector, the entity and the record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.records import (
    FieldReader,
    NumberReader,
    Source,
    day,
    exact,
    missing_settings,
    settings_of,
    snake,
    timestamp,
    vendor_error,
)
from errors import ConnectorError, ConnectorErrorKind

SOURCE = Source("Acme PSA", "Check the base URL.", {"companies": "company"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, Decimal("0.1")),  # through str(): not 0.1000000000000000055...
        (2.5, Decimal("2.5")),
        (3, Decimal("3")),
        (" 1.25 ", Decimal("1.25")),
        ("1e3", Decimal("1E+3")),
        (Decimal("4.20"), Decimal("4.20")),
        (True, None),
        ("nan", None),
        ("Infinity", None),
        ("ten", None),
        ([0, [1], 0], None),
        ({"n": 1}, None),
        (None, None),
    ],
)
def test_exact_reads_json_numbers_and_numeric_text_only(value: Any, expected: Decimal | None):
    assert exact(value) == expected


@pytest.mark.parametrize(
    ("values", "expected", "warnings"),
    [
        ([1.5, "2"], [Decimal("1.5000"), Decimal("2.0000")], []),
        (
            [2.00005, 1],
            [Decimal("2.0001"), Decimal("1.0000")],
            ["1 value had more than 4 decimal places and was rounded"],
        ),
        (
            ["0.00004", "-1.00005"],
            [Decimal("0.0000"), Decimal("-1.0001")],
            ["2 values had more than 4 decimal places and were rounded"],
        ),
    ],
)
def test_number_reader_rounds_half_up_to_4_places_and_counts_the_rounded(
    values: list[Any], expected: list[Decimal], warnings: list[str]
):
    reader = NumberReader(SOURCE)
    read = [reader.number({"id": 1, "n": v}, "n", "lines") for v in values]
    assert read == expected
    assert reader.warnings() == warnings


def test_number_reader_names_connector_entity_and_record_in_its_errors():
    reader = NumberReader(SOURCE)
    assert reader.number({"id": 7}, "qty", "companies") is None
    with pytest.raises(ConnectorError, match=r"Acme PSA sent companies .*company 7 has no qty"):
        reader.number({"id": 7}, "qty", "companies", required=True)
    with pytest.raises(ConnectorError, match=r"line 8 has qty 'x', not a number\. Check the base"):
        reader.number({"id": 8, "qty": "x"}, "qty", "lines")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"a": 1}, "expected a list of lines, got an object (a)"),
        (None, "expected a list of lines, got null"),
        ([1], "expected a list of lines, got a list holding int"),
        ([{"name": "x"}], "one of the lines has no id"),
    ],
)
def test_records_must_be_a_list_of_objects_with_ids(payload: Any, message: str):
    with pytest.raises(ConnectorError) as caught:
        SOURCE.records(payload, "lines")
    assert message in str(caught.value)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA


@pytest.mark.parametrize(
    ("value", "moment", "on"),
    [
        ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC), date(2026, 3, 1)),
        ("2026-03-01T23:30:00-02:00", datetime(2026, 3, 2, 1, 30, tzinfo=UTC), date(2026, 3, 2)),
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC), date(2026, 3, 1)),
        ("soon", None, None),
        (20260301, None, None),
    ],
)
def test_timestamps_are_utc_and_what_is_not_one_is_none(
    value: Any, moment: datetime | None, on: date | None
):
    assert timestamp(value) == moment
    assert day(value) == on


class _Reader(FieldReader):
    def fail(self, entity: str, problem: str) -> ConnectorError:
        return vendor_error("Acme", "Acme's API", entity, problem)


def test_field_reader_names_the_record_its_owner_and_the_field():
    read = _Reader({"id": 3, "qty": "x", "when": "later"}, "seats", owner="customer 42")
    with pytest.raises(ConnectorError, match=r'^Acme seats: the record 3 of customer 42 has "qty"'):
        read.quantity("qty")
    with pytest.raises(ConnectorError, match=r'has "when" = \'later\', not a date and time'):
        read.timestamp("when")
    with pytest.raises(ConnectorError, match=r'a record of customer 42 has no "id"'):
        _Reader({}, "seats", owner="customer 42").text("id")


def test_field_reader_reads_inside_an_object_as_its_parent():
    read = _Reader({"mainId": "m1", "profile": {"size": True}}, "seats", id_key="mainId")
    with pytest.raises(ConnectorError, match=r'the record m1 has "size" of type bool, not text'):
        read.mapping("profile").text("size")
    assert read.mapping("missing").text("x", required=False) is None


def test_field_reader_rounds_quantities_half_up():
    read = _Reader({"id": 1, "q": 2.00005, "d": "2026-03-01T00:00:00Z"}, "seats")
    assert read.quantity("q") == Decimal("2.0001")
    assert read.date("d") == date(2026, 3, 1)


@dataclass(frozen=True)
class _Settings:
    user: str
    secret: str = field(repr=False)
    url: str = "https://example.com"


def test_settings_keep_known_non_empty_values_and_name_the_missing():
    values = {"user": "u", "secret": "s", "url": "", "other": "x"}
    assert settings_of(_Settings, values) == _Settings("u", "s")
    assert missing_settings({"user": "u", "secret": ""}, ("user", "secret")) == ["secret"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("PendingCancel", "pending_cancel"),
        ("Active", "active"),
        ("Office365", "office365"),
        ("SharedMailbox", "shared_mailbox"),
        (None, None),
    ],
)
def test_snake_splits_camel_case_words(word: str | None, expected: str | None):
    assert snake(word) == expected
