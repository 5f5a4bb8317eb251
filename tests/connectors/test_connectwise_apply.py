"""ConnectWise write-back: an approved change read, compared, written and read back, against the
fake ConnectWise on httpx.MockTransport (API-NOTES 1 "PATCH an addition's quantity", 9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal

import httpx
import polars as pl
import pytest

from connectors.psa.connectwise import (
    ConnectWiseSettings,
    apply_change,
    connect,
    read_psa,
    write_mode,
)
from connectors.writeback import ChangeResult, QuantityChange
from errors import ConnectorError, TrueUpError
from tests.fakes.connectwise import FakeConnectWise
from tests.fakes.server import transport

BASE = "http://127.0.0.1/v4_6_release/apis/3.0"
SETTINGS = ConnectWiseSettings(BASE, "acme", "pub", "priv-s3cret", "client-1")
EDIT = QuantityChange(
    idempotency_key="trueup-1",
    account_id="1",
    product_id="M365-BP",
    contract_id="10",
    line_id="100",
    expected_quantity=Decimal(10),
    new_quantity=Decimal(12),
    effective_date=date(2026, 12, 1),
)
ADD = replace(
    EDIT, product_id="M365-E3", contract_id="20", line_id=None, expected_quantity=None,
    new_quantity=Decimal(3),
)  # fmt: skip
Handler = Callable[[httpx.Request], httpx.Response]


def apply(
    fake: FakeConnectWise, change: QuantityChange, wrap: Callable[[Handler], Handler] | None = None
) -> ChangeResult:
    """Give back what came of applying `change` to the fake, its handler wrapped by `wrap`."""
    handler: Handler = transport(fake).handle_request
    mock = httpx.MockTransport(wrap(handler) if wrap else handler)
    with connect(SETTINGS, transport=mock, sleep=lambda _: None) as client:
        return apply_change(client, change)


def test_in_place_patches_the_quantity_and_reads_it_back() -> None:
    fake = FakeConnectWise()

    result = apply(fake, EDIT)

    assert (result.status, result.applied_quantity) == ("applied", Decimal(12))
    assert fake.addition(100)["quantity"] == 12  # type: ignore[index]
    assert fake.writes == {100: 1}
    assert result.request["writes"] == [
        {
            "method": "PATCH",
            "path": "finance/agreements/10/additions/100",
            "body": [{"op": "replace", "path": "quantity", "value": 12}],
        }
    ]
    assert "Authorization" not in str(result.request) and "priv" not in str(result.request)


def test_a_line_already_at_the_new_quantity_is_noop_and_nothing_is_written() -> None:
    fake = FakeConnectWise()
    fake.set_quantity(100, 12)

    result = apply(fake, EDIT)

    assert result.status == "noop"
    assert result.message == "ConnectWise already shows 12"
    assert not fake.writes


def test_a_line_at_another_quantity_is_a_conflict_naming_both_numbers() -> None:
    fake = FakeConnectWise()
    fake.set_quantity(100, 11)

    result = apply(fake, EDIT)

    assert result.status == "conflict"
    assert result.applied_quantity == Decimal(11)
    assert "shows 11 on addition 100, not the 10 the approver saw" in str(result.message)
    assert not fake.writes


def test_a_dry_run_reads_and_compares_but_writes_nothing() -> None:
    fake = FakeConnectWise()

    result = apply(fake, replace(EDIT, dry_run=True))

    assert result.status == "applied", "would apply: a dry run sends nothing"
    assert result.message == "dry run: ConnectWise shows 10; would write 12"
    assert not fake.writes


def test_a_read_back_that_differs_is_failed() -> None:
    fake = FakeConnectWise()

    def ignoring_patches(handler: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH":
                return httpx.Response(200, json=fake.addition(100))
            return handler(request)

        return handle

    result = apply(fake, EDIT, ignoring_patches)

    assert result.status == "failed"
    assert "ConnectWise shows 10 on addition 100 after TrueUp wrote 12" in str(result.message)


def test_a_refused_body_is_rejected_with_connectwise_s_reason() -> None:
    fake = FakeConnectWise()

    def refusing(handler: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            if request.method == "PATCH":
                return httpx.Response(400, json={"message": "quantity is read-only"})
            return handler(request)

        return handle

    result = apply(fake, EDIT, refusing)

    assert result.status == "rejected"
    assert "HTTP 400" in str(result.message) and "quantity is read-only" in str(result.message)
    assert result.request["writes"][0]["method"] == "PATCH"


def test_a_timeout_after_the_patch_is_unknown_and_the_retry_reads_first() -> None:
    fake = FakeConnectWise()

    def losing_the_answer(handler: Handler) -> Handler:
        def handle(request: httpx.Request) -> httpx.Response:
            answer = handler(request)  # the patch lands...
            if request.method == "PATCH":
                raise httpx.ReadTimeout("no answer", request=request)  # ...its answer is lost
            return answer

        return handle

    with pytest.raises(ConnectorError) as raised:
        apply(fake, EDIT, losing_the_answer)
    retried = apply(fake, EDIT)

    assert raised.value.outcome_unknown
    assert retried.status == "noop"
    assert fake.writes == {100: 1}, "the retry read 12 and wrote nothing"


def test_effective_dated_ends_the_addition_and_adds_one_from_the_date() -> None:
    fake = FakeConnectWise()
    change = replace(EDIT, mode="effective_dated")

    result = apply(fake, change)
    again = apply(fake, change)

    assert result.status == "applied"
    assert fake.addition(100)["cancelledDate"] == "2026-12-01T00:00:00Z"  # type: ignore[index]
    added = fake.addition(int(str(result.new_line_id)))
    assert added is not None
    assert (added["quantity"], added["effectiveDate"]) == (12, "2026-12-01T00:00:00Z")
    assert (added["product"], added["unitPrice"]) == ({"identifier": "M365-BP"}, 22)
    assert added["billCustomer"] == "Billable"
    assert again.status == "noop" and again.new_line_id == result.new_line_id
    assert fake.writes.total() == 2


def test_new_revenue_adds_an_addition_of_the_catalogue_item_once() -> None:
    fake = FakeConnectWise()

    result = apply(fake, ADD)
    again = apply(fake, ADD)

    assert result.status == "applied"
    added = fake.addition(int(str(result.new_line_id)))
    assert added is not None
    assert added["product"] == {"id": 2, "identifier": "M365-E3"}
    assert (added["quantity"], added["unitPrice"]) == (3, 36)
    assert again.status == "noop" and again.new_line_id == result.new_line_id
    assert fake.writes.total() == 1


def test_new_revenue_where_someone_added_the_product_meanwhile_is_a_conflict() -> None:
    fake = FakeConnectWise()
    fake.additions[20].append(fake._addition(300, "M365-E3", "E3", 2, 36))

    result = apply(fake, ADD)

    assert result.status == "conflict"
    assert "already has addition 300 of M365-E3 (2)" in str(result.message)
    assert not fake.writes


@pytest.mark.parametrize(
    ("value", "mode"),
    [(None, "in_place"), ("in_place", "in_place"), ("Effective-Dated", "effective_dated")],
)
def test_write_mode_setting(value: str | None, mode: str) -> None:
    assert write_mode(value) == mode


def test_an_unknown_write_mode_says_which_there_are() -> None:
    with pytest.raises(TrueUpError, match=r"use in_place .* or effective_dated"):
        write_mode("sideways")


@pytest.mark.parametrize(
    ("today", "lines"),
    [(date(2026, 11, 29), [("100", Decimal(10))]), (date(2026, 12, 1), [("202", Decimal(12))])],
)
def test_a_sync_counts_the_old_addition_until_the_new_one_takes_effect(
    today: date, lines: list[tuple[str, Decimal]]
) -> None:
    fake = FakeConnectWise()
    assert apply(fake, replace(EDIT, mode="effective_dated")).new_line_id == "202"

    with connect(SETTINGS, transport=transport(fake)) as client:
        pull = read_psa(client, today=today)

    acme = pull.lines.filter(pl.col("contract_id") == "10")
    assert list(acme.select("line_id", "quantity").iter_rows()) == lines
