"""Autotask, the write side: an approved change of units becomes one contract service adjustment,
checked against the units first and read back after, through the fake Autotask in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.psa.autotask import AutotaskSettings, apply_change, connect
from connectors.registry import source_type
from connectors.writeback import QuantityChange
from errors import ConnectorError
from tests.fakes.autotask import FakeAutotask
from tests.fakes.server import Request, transport

TODAY = date(2026, 11, 27)
FIRST = date(2026, 12, 1)
VALUES = {
    "username": "api@acme.example",
    "secret": "at-s3cret",
    "integration_code": "AT-TRACKING-1",
    "discovery_url": "http://127.0.0.1/atservicesrest/v1.0/",
}


def change(**fields: Any) -> QuantityChange:
    """Give back Acme's Microsoft 365 seats (contract service 1000, 10 units) going to 12 on
    1 December, unless `fields` say otherwise."""
    given: dict[str, Any] = {
        "idempotency_key": "key-1",
        "account_id": "1",
        "product_id": "500",
        "contract_id": "10",
        "line_id": "1000",
        "expected_quantity": Decimal(10),
        "new_quantity": Decimal(12),
        "effective_date": FIRST,
        "mode": "effective_dated",
    }
    return QuantityChange(**(given | fields))


def apply(
    fake: FakeAutotask,
    wanted: QuantityChange,
    after: Callable[[httpx.Request, httpx.Response], None] | None = None,
) -> Any:
    """Apply `wanted` through the fake; `after` sees each request and the fake's answer."""
    inner = transport(fake)

    def handler(request: httpx.Request) -> httpx.Response:
        response = inner.handle_request(request)
        if after is not None:
            after(request, response)
        return response

    settings = AutotaskSettings.from_values(VALUES)
    with connect(settings, transport=httpx.MockTransport(handler), sleep=lambda s: None) as api:
        return apply_change(api, wanted)


def test_a_change_sends_one_adjustment_of_the_difference_and_reads_it_back() -> None:
    fake = FakeAutotask(today=TODAY)

    result = apply(fake, change())

    sent = {
        "contractID": 10,
        "contractServiceID": 1000,
        "serviceID": 500,
        "effectiveDate": "2026-12-01T00:00:00Z",
        "unitChange": 2,
    }
    assert fake.adjustments() == [sent]
    assert result.status == "applied"
    assert result.applied_quantity == Decimal(12)
    assert result.request == {"method": "POST", "path": "ContractServiceAdjustments", "body": sent}
    assert result.response == {"itemId": 90001}
    assert fake.units(1000, FIRST) == 12
    assert fake.units(1000, TODAY) == 10, "the units before the effective date stay"


def test_a_decrease_sends_a_negative_unit_change() -> None:
    fake = FakeAutotask(today=TODAY)

    result = apply(fake, change(new_quantity=Decimal(7)))

    assert result.status == "applied"
    assert [a["unitChange"] for a in fake.adjustments()] == [-3]
    assert fake.units(1000, FIRST) == 7


def test_units_already_at_the_new_quantity_are_a_noop_and_send_nothing() -> None:
    fake = FakeAutotask(today=TODAY)
    fake.set_units(1000, 12)

    result = apply(fake, change())

    assert result.status == "noop"
    assert result.applied_quantity == Decimal(12)
    assert fake.writes == []


def test_units_changed_since_the_approval_are_a_conflict_and_send_nothing() -> None:
    fake = FakeAutotask(today=TODAY)
    fake.set_units(1000, 11)

    # The store holds quantities to 4 places: the message shows them as people write them.
    result = apply(fake, change(expected_quantity=Decimal("10.0000")))

    assert result.status == "conflict"
    assert result.applied_quantity == Decimal(11)
    assert "has 11 units on 2026-12-01, not the 10 seen" in (result.message or "")
    assert fake.writes == []


def test_an_adjustment_autotask_takes_but_does_not_show_is_failed() -> None:
    fake = FakeAutotask(today=TODAY)

    def swallow(request: Request) -> tuple[int, Any] | None:
        if request.method == "POST":
            fake.writes.append(("POST", "ContractServiceAdjustments", request.json()))
            return 200, {"itemId": 1}
        return None

    fake.reply = swallow
    result = apply(fake, change())

    assert result.status == "failed"
    assert result.applied_quantity == Decimal(10)
    assert "shows 10 units on 2026-12-01, not 12" in (result.message or "")
    assert result.request["body"]["unitChange"] == 2
    assert result.response == {"itemId": 1}


def test_an_adjustment_autotask_refuses_is_rejected_with_its_message() -> None:
    fake = FakeAutotask(today=TODAY)
    refusal = {"errors": ["The effective date is before the contract start."]}
    fake.reply = lambda request: (400, refusal) if request.method == "POST" else None

    result = apply(fake, change())

    assert result.status == "rejected"
    assert "HTTP 400" in (result.message or "")
    assert "before the contract start" in (result.message or "")
    assert result.request["body"]["unitChange"] == 2
    assert fake.units(1000, FIRST) == 10


def test_a_timeout_after_the_post_is_unknown_and_the_next_attempt_reads_and_sends_nothing() -> None:
    fake = FakeAutotask(today=TODAY)

    def time_out_after_posting(request: httpx.Request, response: httpx.Response) -> None:
        if request.method == "POST":
            raise httpx.ReadTimeout("no reply", request=request)

    with pytest.raises(ConnectorError) as caught:
        apply(fake, change(), after=time_out_after_posting)
    assert caught.value.outcome_unknown
    assert "Read the current state before sending it again" in str(caught.value)
    assert len(fake.adjustments()) == 1, "the POST was not tried again"

    again = apply(fake, change())

    assert again.status == "noop"
    assert again.applied_quantity == Decimal(12)
    assert len(fake.adjustments()) == 1, "the adjustment was applied once"
    assert fake.units(1000, FIRST) == 12


def test_a_fractional_change_is_rejected_as_autotask_counts_whole_units() -> None:
    fake = FakeAutotask(today=TODAY)

    result = apply(fake, change(new_quantity=Decimal("12.5")))

    assert result.status == "rejected"
    assert "whole numbers: 10 to 12.5 is a change of 2.5" in (result.message or "")
    assert fake.writes == []


def test_new_revenue_is_rejected_with_where_to_add_it_and_nothing_is_asked() -> None:
    fake = FakeAutotask(today=TODAY)

    result = apply(fake, change(line_id=None, expected_quantity=None, product_id="502"))

    assert result.status == "rejected"
    assert "add service 502 to contract 10 in Autotask" in (result.message or "")
    assert fake.requests == ["GET /atservicesrest/v1.0/zoneInformation"], "nothing was read"


def test_a_date_outside_the_contracts_periods_is_rejected_before_writing() -> None:
    fake = FakeAutotask(today=TODAY)

    result = apply(fake, change(effective_date=date(2031, 1, 1)))

    assert result.status == "rejected"
    assert "no units for contract service 1000 on 2031-01-01" in (result.message or "")
    assert fake.writes == []


def test_a_dry_run_reads_and_compares_and_sends_nothing() -> None:
    fake = FakeAutotask(today=TODAY)

    result = apply(fake, change(dry_run=True))

    assert result.request["body"]["unitChange"] == 2
    assert result.message and result.message.startswith("dry run: nothing sent")
    assert fake.writes == []
    assert fake.units(1000, FIRST) == 10


def test_the_autotask_type_sends_changes_at_once_through_its_apply() -> None:
    kind = source_type("autotask")
    fake = FakeAutotask(today=TODAY)
    assert kind.apply is not None and kind.write_mode is not None

    result = kind.apply(VALUES, change(), transport=transport(fake))

    assert kind.write_mode(VALUES) == "effective_dated"
    assert result.status == "applied"
    assert len(fake.adjustments()) == 1
