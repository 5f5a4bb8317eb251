"""HaloPSA, the read side: records parsed into frames, and a sync through a fake Halo on
httpx.MockTransport that hands out client-credentials tokens, pages by `page_no`, serves recurring
invoice details and refuses stale tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import ApiClient
from connectors.psa.halopsa import (
    HaloSettings,
    billing_months,
    catalog_from_records,
    check_connection,
    connect,
    lines_from_records,
    read_psa,
)
from engine.schema import CATALOG, PSA_LINES
from errors import ConnectorError, ConnectorErrorKind
from tests.conftest import FIXTURES

HALO = FIXTURES / "halopsa"
BASE = "http://127.0.0.1/api"
CAFE, ACME = "Café Müller GmbH", "Acme, Inc."
M365, DEF = "Microsoft 365 Business Premium", "Defender for Endpoint"
SETTINGS = HaloSettings(
    base_url=BASE,
    client_id="halo-client-7",
    client_secret="halo-secret-xyz",
    tenant="acme",
)
LISTS = {"Client": "clients", "RecurringInvoice": "invoices", "Item": "items"}


def frame(schema: dict[str, Any], *rows: tuple[Any, ...]) -> pl.DataFrame:
    """Give back the rows as a frame of `schema`; columns a row leaves out at its end are null."""
    padded = [row + (None,) * (len(schema) - len(row)) for row in rows]
    return pl.DataFrame(padded, schema=schema, orient="row")


def load(name: str) -> Any:
    return json.loads((HALO / name).read_text())


# -- a fake Halo ---------------------------------------------------------------------------------


class FakeHalo:
    """Serves the fixture records as Halo would: tokens at /auth/token for the right client id
    and secret, lists paged by `page_no` and `page_size` under their list key, a recurring
    invoice's lines on its detail; records every request it is sent."""

    def __init__(self) -> None:
        self.lists = {
            "Client": load("clients.json"),
            "RecurringInvoice": load("recurring_invoices.json"),
            "Item": load("items.json"),
        }
        self.details = load("recurring_invoice_details.json")
        self.requests: list[httpx.Request] = []
        self.forms: list[dict[str, list[str]]] = []
        self.valid: set[str] = set()
        self.issued = 0
        self.reply: Callable[[httpx.Request], httpx.Response | None] = lambda request: None

    def revoke(self) -> None:
        self.valid.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "127.0.0.1", f"a request left the fake: {request.url}"
        scripted = self.reply(request)
        if scripted is not None:
            return scripted
        if request.url.path == "/auth/token":
            form = parse_qs(request.content.decode())
            self.forms.append(form)
            if form.get("client_secret") != [SETTINGS.client_secret]:
                return httpx.Response(401, json={"error": "invalid_client"})
            self.issued += 1
            token = f"tok-{self.issued}"
            self.valid.add(token)
            return httpx.Response(
                200, json={"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            )
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid:
            return httpx.Response(401, json={"message": "Unauthorized"})
        resource = request.url.path.removeprefix("/api/")
        if resource.startswith("RecurringInvoice/"):
            assert request.url.params.get("includedetails") == "true"
            found = self.details.get(resource.removeprefix("RecurringInvoice/"))
            return httpx.Response(200, json=found) if found else httpx.Response(404)
        if resource not in self.lists:
            return httpx.Response(404, json={"message": "Not found"})
        assert request.url.params["pageinate"] == "true"
        page, size = int(request.url.params["page_no"]), int(request.url.params["page_size"])
        every = self.lists[resource]
        return httpx.Response(
            200,
            json={
                "record_count": len(every),
                "page_no": page,
                "page_size": size,
                LISTS[resource]: every[(page - 1) * size : page * size],
            },
        )

    def api_paths(self) -> list[str]:
        return [r.url.path for r in self.requests if r.url.path.startswith("/api/")]

    def token_requests(self) -> int:
        return sum(r.url.path == "/auth/token" for r in self.requests)


def client(fake: FakeHalo, sleep: Callable[[float], None] = lambda s: None) -> ApiClient:
    return connect(SETTINGS, transport=httpx.MockTransport(fake), sleep=sleep)


def sync(fake: FakeHalo, **options: Any) -> Any:
    with client(fake) as api:
        return read_psa(api, **options)


FULL_LINES = frame(
    PSA_LINES,
    ("1", CAFE, "20", "Managed Services", "100", M365, "2000", Decimal(25), Decimal("22.1"), Decimal("18.7"), True, 1),
    ("1", CAFE, "20", "Managed Services", "101", DEF, "2001", Decimal(25), Decimal("3.33"), Decimal("2.5"), False, 1),
    ("2", ACME, "21", "Cloud Seats", "100", M365, "2100", Decimal("7.5"), Decimal("239.88"), Decimal(200), None, 12),
)  # fmt: skip


# -- settings ----------------------------------------------------------------------------------


def test_the_secret_never_shows_in_the_settings_repr() -> None:
    shown = repr(SETTINGS)
    assert "halo-secret-xyz" not in shown
    assert "halo-client-7" in shown and BASE in shown


def test_settings_from_values_name_what_is_missing() -> None:
    with pytest.raises(ConnectorError) as caught:
        HaloSettings.from_values({"base_url": BASE, "client_id": "x"})
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "client_secret" in str(caught.value)
    read = HaloSettings.from_values(
        {"base_url": BASE, "client_id": "c", "client_secret": "s", "tenant": "", "x": "y"}
    )
    assert read == HaloSettings(base_url=BASE, client_id="c", client_secret="s")


@pytest.mark.parametrize(
    ("base_url", "auth_url", "token_url"),
    [
        ("https://acme.halopsa.com/api", None, "https://acme.halopsa.com/auth/token"),
        ("https://acme.halopsa.com/api/", None, "https://acme.halopsa.com/auth/token"),
        ("https://halo.acme.local/api", "https://auth.acme.local/auth/token", "https://auth.acme.local/auth/token"),
    ],
)  # fmt: skip
def test_the_token_url_is_beside_the_api_unless_set(
    base_url: str, auth_url: str | None, token_url: str
) -> None:
    settings = HaloSettings(base_url=base_url, client_id="c", client_secret="s", auth_url=auth_url)
    assert settings.token_url() == token_url


# -- parsing: records in, frames out -----------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "months"),
    [("Monthly", 1), ("Quarterly", 3), ("Six Monthly", 6), ("Semi-Annual", 6), ("Yearly", 12),
     ("Annually", 12), ("Weekly", None), (2, None), (None, None)],
)  # fmt: skip
def test_recurring_invoice_periods_read_as_months(period: Any, months: int | None) -> None:
    assert billing_months(period) == months


CLIENTS = [{"id": 1, "name": "Acme"}]


def invoice(iid: int, *lines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": iid, "client_id": 1, "contract_ref": f"Ref {iid}", "period": "Monthly", "lines": list(lines), **fields}  # fmt: skip


def line(lid: int, item: Any = 100, qty: Any = 1, **fields: Any) -> dict[str, Any]:
    return {"id": lid, "_itemid": item, "item_shortdescription": f"Item {item}", "qty_order": qty, "unit_price": 10, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("invoices", "expected", "cancelled", "warnings"),
    [
        pytest.param(
            [invoice(20, line(1, qty=2.5, unit_price=22.1, unit_cost=0.1 + 0.2, prorata_next_invoice=True))],
            [("1", "Acme", "20", "Ref 20", "100", "Item 100", "1", Decimal("2.5"), Decimal("22.1"), Decimal("0.3"), True, 1)],
            set(),
            ["1 value had more than 4 decimal places and was rounded"],
            id="exact decimals through str(), rounded half-up to 4 places; the proration flag",
        ),
        pytest.param(
            [invoice(20, line(1), period="Quarterly"), invoice(21, line(2), inactive=True)],
            [("1", "Acme", "20", "Ref 20", "100", "Item 100", "1", Decimal(1), Decimal(10), None, None, 3)],
            set(),
            [],
            id="a quarterly invoice bills over 3 months; an inactive invoice is left out",
        ),
        pytest.param(
            [invoice(20, line(1), line(2, isinactive=True))],
            [("1", "Acme", "20", "Ref 20", "100", "Item 100", "1", Decimal(1), Decimal(10), None, None, 1)],
            {"2"},
            [],
            id="an inactive line is cancelled",
        ),
        pytest.param(
            [invoice(20, line(1, item=0), line(2, item=None), line(3, item=7, item_shortdescription=None, item_code="X7"))],
            [("1", "Acme", "20", "Ref 20", "7", "X7", "3", Decimal(1), Decimal(10), None, None, 1)],
            set(),
            ["2 recurring invoice lines with no item left out (ids 1, 2)"],
            id="a line without an item is left out; a line's name falls back to its item code",
        ),
        pytest.param(
            [invoice(20, line(1), period="Fortnightly", client_id=9, client_name="Nine Ltd")],
            [("9", "Nine Ltd", "20", "Ref 20", "100", "Item 100", "1", Decimal(1), Decimal(10), None, None, 1)],
            set(),
            ['Recurring invoice periods that are not monthly, quarterly, six-monthly or yearly ("Fortnightly") were read as monthly'],
            id="an unknown period is monthly; a client not read is named by the invoice",
        ),
    ],
)  # fmt: skip
def test_lines_from_records(
    invoices: list[Any], expected: list[tuple[Any, ...]], cancelled: set[str], warnings: list[str]
) -> None:
    lines = lines_from_records(CLIENTS, invoices)
    assert_frame_equal(lines.frame, frame(PSA_LINES, *expected))
    assert lines.cancelled == cancelled
    assert lines.warnings == warnings


def test_lines_priced_from_users_or_assets_are_kept_and_listed() -> None:
    lines = lines_from_records(
        CLIENTS,
        [
            invoice(
                20,
                line(1, calculate_price_from_users=True),
                line(2),
                line(3, calculate_price_from_assets=True),
            )
        ],
    )
    assert lines.frame["line_id"].to_list() == ["1", "2", "3"]
    assert lines.calculated == {"1", "3"}


def test_the_catalogue_holds_active_items_with_their_prices() -> None:
    catalog, warnings = catalog_from_records(load("items.json"))
    expected = frame(
        CATALOG,
        ("100", M365, Decimal("22.1"), Decimal("18.7"), None),
        ("101", DEF, Decimal("3.33"), Decimal("2.5"), None),
    )
    assert_frame_equal(catalog, expected)
    assert warnings == []


@pytest.mark.parametrize(
    ("invoices", "message"),
    [
        ([invoice(20, {"id": 1, "_itemid": 100})], "recurring invoice line 1 has no qty_order"),
        ([invoice(20, line(1, qty="many"))], "recurring invoice line 1 has qty_order 'many', not a number"),
        ([invoice(20, lines=None)], "expected a list of recurring invoice lines, got null"),
        ([{"id": 20, "lines": []}], "recurring invoice 20 has no client_id"),
    ],
)  # fmt: skip
def test_an_unexpected_schema_names_the_entity(invoices: list[Any], message: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        lines_from_records(CLIENTS, invoices)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert str(caught.value).startswith("HaloPSA sent recurring invoice")
    assert message in str(caught.value)


# -- fetching through the fake Halo --------------------------------------------------------------


def test_the_token_is_asked_for_with_client_credentials_and_used_as_a_bearer() -> None:
    fake = FakeHalo()
    sync(fake)
    assert fake.token_requests() == 1
    (form,) = fake.forms
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["halo-client-7"],
        "client_secret": ["halo-secret-xyz"],
        "scope": ["all"],
        "tenant": ["acme"],
    }
    (token_request,) = [r for r in fake.requests if r.url.path == "/auth/token"]
    assert token_request.url.params["tenant"] == "acme"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    api = [r for r in fake.requests if r.url.path.startswith("/api/")]
    assert {r.headers["Authorization"] for r in api} == {"Bearer tok-1"}


def test_a_full_sync_reads_every_active_line_and_the_catalogue() -> None:
    fake = FakeHalo()
    pulled = sync(fake)
    assert_frame_equal(pulled.lines, FULL_LINES)
    assert pulled.catalog["product_id"].to_list() == ["100", "101"]
    assert pulled.contract_ids == {"20", "21"}
    assert pulled.cancelled == {"2101"}
    assert pulled.calculated == {"2100"}
    assert pulled.warnings == ("1 recurring invoice line with no item left out (ids 2002)",)
    assert pulled.cursor == datetime(2026, 11, 20, 10, tzinfo=UTC)
    # only the invoice listed without its lines is read again, with its details
    assert fake.api_paths() == [
        "/api/Client",
        "/api/RecurringInvoice",
        "/api/RecurringInvoice/20",
        "/api/Item",
    ]
    counts = dict(pulled.records.group_by("entity").len().iter_rows())
    assert counts == {
        "client": 3,
        "recurring invoice": 2,
        "recurring invoice line": 5,
        "item": 3,
    }


def test_a_quick_sync_is_a_full_pull() -> None:
    since = datetime(2026, 11, 26, tzinfo=UTC)
    fake = FakeHalo()
    pulled = sync(fake, since=since)
    assert_frame_equal(pulled.lines, FULL_LINES)
    assert pulled.since == since and pulled.cursor == since
    assert all("since" not in str(r.url.params) for r in fake.requests)


def test_several_pages_are_read_until_one_comes_back_short() -> None:
    fake = FakeHalo()
    pulled = sync(fake, page_size=2)
    assert_frame_equal(pulled.lines, FULL_LINES)
    pages = [
        (r.url.path, r.url.params["page_no"]) for r in fake.requests if "page_no" in r.url.params
    ]
    assert pages == [
        ("/api/Client", "1"),
        ("/api/Client", "2"),
        ("/api/RecurringInvoice", "1"),
        ("/api/RecurringInvoice", "2"),
        ("/api/Item", "1"),
        ("/api/Item", "2"),
    ]


def test_a_429_is_retried_after_the_time_halo_asks_for() -> None:
    fake = FakeHalo()
    waits: list[float] = []
    refused: list[str] = []

    def once(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/api/RecurringInvoice" and not refused:
            refused.append(request.url.path)
            return httpx.Response(429, headers={"Retry-After": "5"})
        return None

    fake.reply = once
    with client(fake, sleep=waits.append) as api:
        pulled = read_psa(api)
    assert waits == [5.0]
    assert_frame_equal(pulled.lines, FULL_LINES)


def test_a_429_at_sign_in_is_retried_too() -> None:
    fake = FakeHalo()
    waits: list[float] = []
    fake.reply = lambda r: (
        httpx.Response(429, headers={"Retry-After": "2"})
        if r.url.path == "/auth/token" and not waits
        else None
    )
    with client(fake, sleep=waits.append) as api:
        read_psa(api)
    assert waits == [2.0]
    assert fake.token_requests() == 2


def test_a_401_fetches_a_new_token_once_and_goes_on() -> None:
    fake = FakeHalo()
    items: list[str] = []

    def revoke_once(request: httpx.Request) -> httpx.Response | None:
        # httpx reuses the request object for the retry: note the header as it is sent
        if request.url.path == "/api/Item":
            items.append(request.headers["Authorization"])
            if len(items) == 1:
                fake.revoke()
        return None

    fake.reply = revoke_once
    pulled = sync(fake)
    assert_frame_equal(pulled.lines, FULL_LINES)
    assert fake.token_requests() == 2
    assert items == ["Bearer tok-1", "Bearer tok-2"]


def test_a_401_a_fresh_token_does_not_cure_says_what_to_check() -> None:
    fake = FakeHalo()
    fake.reply = lambda r: (
        httpx.Response(401, json={"message": "no"}) if r.url.path.startswith("/api/") else None
    )
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "even a fresh one" in str(caught.value)
    assert fake.token_requests() == 2


def test_a_wrong_secret_says_the_client_id_and_secret_were_refused() -> None:
    fake = FakeHalo()
    settings = HaloSettings(base_url=BASE, client_id="halo-client-7", client_secret="wrong")
    with (
        connect(settings, transport=httpx.MockTransport(fake)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        check_connection(api)
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "refused the client id and secret" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_check_connection_signs_in_and_reads_one_client() -> None:
    fake = FakeHalo()
    with client(fake) as api:
        check_connection(api)
    assert fake.api_paths() == ["/api/Client"]
    (asked,) = [r for r in fake.requests if r.url.path == "/api/Client"]
    assert asked.url.params["page_size"] == "1"


def test_malformed_json_names_halo_and_the_entity() -> None:
    fake = FakeHalo()
    fake.reply = lambda r: (
        httpx.Response(200, text="<html>login</html>", headers={"Content-Type": "text/html"})
        if r.url.path == "/api/RecurringInvoice"
        else None
    )
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "HaloPSA" in str(caught.value) and "RecurringInvoice" in str(caught.value)
    assert "not JSON" in str(caught.value)


def test_a_page_without_its_list_names_halo_and_the_entity() -> None:
    fake = FakeHalo()
    fake.reply = lambda r: (
        httpx.Response(200, json={"record_count": 0, "clients": []})
        if r.url.path == "/api/RecurringInvoice"
        else None
    )
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "HaloPSA" in str(caught.value) and "RecurringInvoice" in str(caught.value)
    assert "'invoices'" in str(caught.value)


def test_an_invoice_whose_details_have_no_lines_names_the_invoice() -> None:
    fake = FakeHalo()
    fake.details["20"] = {"id": 20, "client_id": 1}
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "recurring invoice 20 came without its lines" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "kind", "message"),
    [
        (httpx.Response(404), ConnectorErrorKind.NOT_FOUND, "no token endpoint at /auth/token"),
        (httpx.Response(500), ConnectorErrorKind.SERVER, "auth server failed with HTTP 500"),
        (httpx.Response(200, json={"token_type": "Bearer"}), ConnectorErrorKind.SCHEMA, "the token reply has no access_token"),
        (httpx.Response(200, text="<html>"), ConnectorErrorKind.SCHEMA, "the token reply has no access_token"),
        (httpx.Response(200, json={"access_token": "t", "expires_in": "soon"}), ConnectorErrorKind.SCHEMA, "expires_in 'soon'"),
    ],
)  # fmt: skip
def test_a_failed_sign_in_says_what_went_wrong(
    reply: httpx.Response, kind: ConnectorErrorKind, message: str
) -> None:
    fake = FakeHalo()
    fake.reply = lambda r: reply if r.url.path == "/auth/token" else None
    with client(fake) as api, pytest.raises(ConnectorError) as caught:
        check_connection(api)
    assert caught.value.kind is kind
    assert str(caught.value).startswith("HaloPSA") and message in str(caught.value)


def test_an_unreachable_auth_server_says_to_check_the_auth_url() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with (
        connect(SETTINGS, transport=httpx.MockTransport(down)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        check_connection(api)
    assert caught.value.kind is ConnectorErrorKind.UNREACHABLE
    assert "auth URL" in str(caught.value)
