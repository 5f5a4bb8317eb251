"""HaloPSA, the write side: an approved change sets a recurring invoice line's quantity, checked
against the invoice first and read back after, through the fake Halo in-process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.psa.halopsa import HaloSettings, apply_change, connect
from connectors.registry import source_type
from connectors.writeback import QuantityChange
from errors import ConnectorError
from tests.fakes.halopsa import FakeHalo
from tests.fakes.server import Request, transport

VALUES = {
    "base_url": "http://127.0.0.1/api",
    "client_id": "halo-client",
    "client_secret": "halo-s3cret",
}


def change(**fields: Any) -> QuantityChange:
    """Give back Acme's Microsoft 365 seats (line 1000 of recurring invoice 10, quantity 10)
    going to 12, unless `fields` say otherwise."""
    given: dict[str, Any] = {
        "idempotency_key": "key-1",
        "account_id": "1",
        "product_id": "500",
        "contract_id": "10",
        "line_id": "1000",
        "expected_quantity": Decimal(10),
        "new_quantity": Decimal(12),
        "effective_date": date(2026, 12, 1),
    }
    return QuantityChange(**(given | fields))


def apply(
    fake: FakeHalo,
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

    settings = HaloSettings.from_values(VALUES)
    with connect(settings, transport=httpx.MockTransport(handler), sleep=lambda s: None) as api:
        return apply_change(api, wanted)


def updates(fake: FakeHalo) -> list[Any]:
    return [body for _, path, body in fake.writes if path == "RecurringInvoice/updatelines"]


def test_a_change_sets_the_lines_quantity_and_reads_it_back() -> None:
    fake = FakeHalo()

    result = apply(fake, change())

    sent = [{"id": 1000, "ihid": 10, "qty_order": 12}]
    assert updates(fake) == [sent]
    assert result.status == "applied"
    assert result.applied_quantity == Decimal(12)
    assert result.request == {
        "method": "POST",
        "path": "RecurringInvoice/updatelines",
        "body": sent,
    }
    assert result.response == {"reply": sent}
    assert (fake.line(1000) or {})["qty_order"] == 12
    reads = [r for r in fake.requests if r == "GET /api/RecurringInvoice/10"]
    assert len(reads) == 2, "the invoice is read before and after the write"


def test_a_line_already_at_the_new_quantity_is_a_noop_and_sends_nothing() -> None:
    fake = FakeHalo()
    fake.set_quantity(1000, 12)

    result = apply(fake, change())

    assert result.status == "noop"
    assert result.applied_quantity == Decimal(12)
    assert fake.writes == []


def test_a_quantity_changed_since_the_approval_is_a_conflict_and_sends_nothing() -> None:
    fake = FakeHalo()
    fake.set_quantity(1000, 11)

    # The store holds quantities to 4 places: the message shows them as people write them.
    result = apply(fake, change(expected_quantity=Decimal("10.0000")))

    assert result.status == "conflict"
    assert result.applied_quantity == Decimal(11)
    assert "has quantity 11, not the 10 seen" in (result.message or "")
    assert fake.writes == []


def test_a_line_halo_works_out_from_users_is_rejected() -> None:
    fake = FakeHalo()

    result = apply(fake, change(line_id="2001", contract_id="20", expected_quantity=Decimal(5)))

    assert result.status == "rejected"
    assert "Halo works this quantity out from users/assets" in (result.message or "")
    assert fake.writes == []


def test_a_line_gone_from_the_invoice_is_a_conflict() -> None:
    fake = FakeHalo()
    (fake.line(1000) or {})["isinactive"] = True

    result = apply(fake, change())

    assert result.status == "conflict"
    assert "no longer has an active line 1000" in (result.message or "")
    assert fake.writes == []


def test_a_write_halo_takes_but_does_not_show_is_failed() -> None:
    fake = FakeHalo()

    def swallow(request: Request) -> tuple[int, Any] | None:
        if request.method == "POST" and request.path.endswith("updatelines"):
            fake.writes.append(("POST", "RecurringInvoice/updatelines", request.json()))
            return 200, request.json()
        return None

    fake.reply = swallow
    result = apply(fake, change())

    assert result.status == "failed"
    assert result.applied_quantity == Decimal(10)
    assert "shows quantity 10, not 12" in (result.message or "")
    assert result.request["body"] == [{"id": 1000, "ihid": 10, "qty_order": 12}]


def test_a_write_halo_refuses_is_rejected_with_its_message() -> None:
    fake = FakeHalo()
    refusal = {"message": "The recurring invoice is locked."}
    fake.reply = lambda request: (400, refusal) if request.path.endswith("updatelines") else None

    result = apply(fake, change())

    assert result.status == "rejected"
    assert "HTTP 400" in (result.message or "") and "locked" in (result.message or "")
    assert (fake.line(1000) or {})["qty_order"] == 10


def test_a_timeout_after_the_write_is_unknown_and_the_next_attempt_reads_and_sends_nothing() -> (
    None
):
    fake = FakeHalo()

    def time_out_after_writing(request: httpx.Request, response: httpx.Response) -> None:
        if request.method == "POST" and request.url.path.endswith("updatelines"):
            raise httpx.ReadTimeout("no reply", request=request)

    with pytest.raises(ConnectorError) as caught:
        apply(fake, change(), after=time_out_after_writing)
    assert caught.value.outcome_unknown
    assert len(updates(fake)) == 1, "the write was not tried again"

    again = apply(fake, change())

    assert again.status == "noop"
    assert again.applied_quantity == Decimal(12)
    assert len(updates(fake)) == 1


def test_a_dry_run_reads_and_compares_and_sends_nothing() -> None:
    fake = FakeHalo()

    result = apply(fake, change(dry_run=True))

    assert result.request["body"] == [{"id": 1000, "ihid": 10, "qty_order": 12}]
    assert result.message and result.message.startswith("dry run: nothing sent")
    assert fake.writes == []


def test_new_revenue_adds_a_line_for_the_item_once() -> None:
    fake = FakeHalo()
    wanted = change(line_id=None, expected_quantity=None, product_id="502", new_quantity=Decimal(3))

    added = apply(fake, wanted)
    again = apply(fake, wanted)

    sent = [{"ihid": 10, "_itemid": 502, "qty_order": 3}]
    assert [body for _, path, body in fake.writes] == [sent]
    assert added.status == "applied"
    assert added.request == {"method": "POST", "path": "RecurringInvoice/Lines", "body": sent}
    assert added.new_line_id is not None
    line = fake.line(int(added.new_line_id))
    assert line is not None and line["_itemid"] == 502 and line["qty_order"] == 3
    assert again.status == "noop"
    assert again.new_line_id == added.new_line_id


def test_new_revenue_for_an_item_already_billed_otherwise_is_a_conflict() -> None:
    fake = FakeHalo()

    result = apply(fake, change(line_id=None, expected_quantity=None, new_quantity=Decimal(3)))

    assert result.status == "conflict"
    assert "already has a line for item 500 (line 1000, quantity 10)" in (result.message or "")
    assert fake.writes == []


def test_the_halo_type_edits_in_place_through_its_apply() -> None:
    kind = source_type("halopsa")
    fake = FakeHalo()
    assert kind.apply is not None and kind.write_mode is not None

    result = kind.apply(VALUES, change(), transport=transport(fake))

    assert kind.write_mode(VALUES) == "in_place"
    assert result.status == "applied"
    assert len(updates(fake)) == 1
