"""ConnectWise PSA, the read side: records parsed into frames, and a sync through a fake
ConnectWise on httpx.MockTransport that pages, filters on `conditions` and refuses bad keys."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import ApiClient
from connectors.psa.connectwise import (
    ConnectWiseSettings,
    billing_months,
    catalog_from_records,
    check_connection,
    condition_since,
    connect,
    lines_from_records,
    read_psa,
)
from engine.schema import CATALOG, PSA_LINES
from errors import ConnectorError, ConnectorErrorKind
from tests.conftest import FIXTURES

CW = FIXTURES / "connectwise"
BASE = "http://127.0.0.1/v4_6_release/apis/3.0"
TODAY = date(2026, 11, 27)
CAFE, ACME = "Café Müller GmbH", "Acme, Inc."
M365, DEF = "Microsoft 365 Business Premium", "Defender for Endpoint"
SETTINGS = ConnectWiseSettings(
    base_url=BASE,
    company_id="trueup",
    public_key="pub-123",
    private_key="priv-secret-456",
    client_id="0f6a5c1e-1111-2222-3333-444455556666",
)


def frame(schema: dict[str, Any], *rows: tuple[Any, ...]) -> pl.DataFrame:
    """Give back the rows as a frame of `schema`; columns a row leaves out at its end are null."""
    padded = [row + (None,) * (len(schema) - len(row)) for row in rows]
    return pl.DataFrame(padded, schema=schema, orient="row")


def load(name: str) -> Any:
    return json.loads((CW / name).read_text())


# -- a fake ConnectWise ------------------------------------------------------------------------


class FakeConnectWise:
    """Serves the fixture records as ConnectWise would: pages of `pageSize`, `conditions` with
    `lastUpdated>[...]` and `agreementStatus="Active"`; records every request it is sent."""

    def __init__(self, **collections: list[dict[str, Any]]) -> None:
        self.collections = {
            "company/companies": load("companies.json"),
            "finance/agreements": load("agreements.json"),
            "procurement/catalog": load("catalog.json"),
            **{
                f"finance/agreements/{aid}/additions": found
                for aid, found in load("additions.json").items()
            },
        }
        self.collections.update({k.replace("__", "/"): v for k, v in collections.items()})
        self.requests: list[httpx.Request] = []
        self.reply: Callable[[httpx.Request], httpx.Response | None] = lambda request: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "127.0.0.1", f"a request left the fake: {request.url}"
        scripted = self.reply(request)
        if scripted is not None:
            return scripted
        path = request.url.path.removeprefix("/v4_6_release/apis/3.0/")
        if re.fullmatch(r"finance/agreements/\d+/additions", path):
            found = self.collections.get(path, [])
        elif path in self.collections:
            found = self.collections[path]
        else:
            return httpx.Response(404, json={"code": "NotFound", "message": "Not found"})
        found = [r for r in found if matches(r, request.url.params.get("conditions"))]
        page, size = int(request.url.params["page"]), int(request.url.params["pageSize"])
        return httpx.Response(200, json=found[(page - 1) * size : page * size])

    def paths(self) -> list[str]:
        return [r.url.path.removeprefix("/v4_6_release/apis/3.0/") for r in self.requests]

    def conditions(self, path: str) -> list[str | None]:
        return [
            r.url.params.get("conditions") for r in self.requests if r.url.path.endswith("/" + path)
        ]


def matches(record: dict[str, Any], conditions: str | None) -> bool:
    for clause in (conditions or "").split(" and ") if conditions else []:
        if found := re.fullmatch(r"lastUpdated>\[(.+)\]", clause):
            since = datetime.fromisoformat(found[1])
            if datetime.fromisoformat(record["_info"]["lastUpdated"]) <= since:
                return False
        elif found := re.fullmatch(r'agreementStatus="(\w+)"', clause):
            if record.get("agreementStatus") != found[1]:
                return False
        else:
            raise AssertionError(f"the fake does not know the condition {clause!r}")
    return True


def client(fake: FakeConnectWise) -> ApiClient:
    return connect(SETTINGS, transport=httpx.MockTransport(fake), sleep=lambda seconds: None)


def sync(fake: FakeConnectWise, since: datetime | None = None) -> Any:
    with client(fake) as api:
        return read_psa(api, since=since, today=TODAY)


# -- settings ----------------------------------------------------------------------------------


def test_every_request_carries_basic_auth_of_company_plus_public_key_and_the_client_id() -> None:
    fake = FakeConnectWise()
    sync(fake)
    expected = "Basic " + base64.b64encode(b"trueup+pub-123:priv-secret-456").decode()
    assert {r.headers["Authorization"] for r in fake.requests} == {expected}
    assert {r.headers["clientId"] for r in fake.requests} == {SETTINGS.client_id}


def test_the_keys_never_show_in_the_settings_repr() -> None:
    shown = repr(SETTINGS)
    assert "priv-secret-456" not in shown and "pub-123" not in shown
    assert "trueup" in shown and BASE in shown


# -- parsing: records in, frames out -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cycle", "months"),
    [
        ({"id": 1, "name": "Monthly"}, 1),
        ({"id": 2, "name": "Quarterly"}, 3),
        ({"id": 3, "name": "Semi-Annual"}, 6),
        ({"id": 4, "name": "Annual"}, 12),
        ({"id": 5, "name": "Yearly"}, 12),
        ({"id": 6, "name": "Bi-Weekly"}, None),
        (None, None),
        ({"id": 7}, None),
    ],
)
def test_billing_cycles_read_as_months(cycle: Any, months: int | None) -> None:
    assert billing_months(cycle) == months


def company(cid: int, name: str, website: str | None = None) -> dict[str, Any]:
    return {"id": cid, "name": name, "website": website}


def agreement(aid: int, cid: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": aid,
        "name": f"Agreement {aid}",
        "company": {"id": cid, "name": f"Company {cid} (on the agreement)"},
        "agreementStatus": "Active",
        "billingCycle": {"name": "Monthly"},
        "prorateFlag": True,
        **fields,
    }


def addition(xid: int, aid: int, product: str | None = "M365", **fields: Any) -> dict[str, Any]:
    return {
        "id": xid,
        "agreementId": aid,
        "product": {"id": 1, "identifier": product} if product else None,
        "description": f"{product} seats",
        "quantity": 1,
        **fields,
    }


LINE = (
    "1", "Acme", "10", "Agreement 10", "M365", "M365 seats", "100",
)  # fmt: skip


@pytest.mark.parametrize(
    ("additions", "agreements", "expected", "cancelled", "warnings"),
    [
        pytest.param(
            # JSON floats arrive as floats or Decimals; both are read exactly, to 4 places.
            [addition(100, 10, quantity=12.5, unitPrice=22.1, unitCost=Decimal("0.3"))],
            [agreement(10, 1)],
            [(*LINE, Decimal("12.5"), Decimal("22.1"), Decimal("0.3"), True, 1, "acme.com")],
            set(),
            [],
            id="exact decimals",
        ),
        pytest.param(
            [addition(100, 10, quantity=1, unitPrice=3.33335, unitCost=Decimal("1.00004"))],
            [agreement(10, 1)],
            [(*LINE, Decimal("1"), Decimal("3.3334"), Decimal("1.0000"), True, 1, "acme.com")],
            set(),
            ["2 values had more than 4 decimal places and were rounded"],
            id="more than 4 places rounded half-up",
        ),
        pytest.param(
            [addition(100, 10)],
            [agreement(10, 1, billingCycle={"name": "Quarterly"}, prorateFlag=False)],
            [(*LINE, Decimal("1"), None, None, False, 3, "acme.com")],
            set(),
            [],
            id="quarterly, no proration",
        ),
        pytest.param(
            [addition(100, 10)],
            [agreement(10, 1, billingCycle={"name": "Weekly"})],
            [(*LINE, Decimal("1"), None, None, True, 1, "acme.com")],
            set(),
            [
                'Billing cycles that are not monthly, quarterly, semi-annual or annual ("Weekly") '
                "were read as monthly"
            ],
            id="unknown cycle read as monthly",
        ),
        pytest.param(
            [
                addition(100, 10, cancelledDate="2026-11-27T00:00:00Z"),
                addition(101, 10, cancelledDate="2026-12-31T00:00:00Z"),
            ],
            [agreement(10, 1)],
            [
                (
                    "1",
                    "Acme",
                    "10",
                    "Agreement 10",
                    "M365",
                    "M365 seats",
                    "101",
                    Decimal("1"),
                    None,
                    None,
                    True,
                    1,
                    "acme.com",
                )
            ],
            {"100"},
            [],
            id="cancelled by today left out, cancelled later kept",
        ),
        pytest.param(
            [addition(100, 10, product=None), addition(101, 10, product="")],
            [agreement(10, 1)],
            [],
            set(),
            ["2 agreement additions with no product left out (ids 100, 101)"],
            id="missing product",
        ),
        pytest.param(
            [addition(100, 10), addition(110, 11), addition(120, 12)],
            [
                agreement(10, 1),
                agreement(11, 1, agreementStatus="Expired"),
                agreement(12, 1, cancelledFlag=True),
            ],
            [(*LINE, Decimal("1"), None, None, True, 1, "acme.com")],
            set(),
            [],
            id="lines of agreements not active left out",
        ),
        pytest.param(
            [addition(200, 20)],
            [agreement(20, 2)],
            # Company 2 was not read (a quick sync): its name comes from the agreement.
            [
                (
                    "2",
                    "Company 2 (on the agreement)",
                    "20",
                    "Agreement 20",
                    "M365",
                    "M365 seats",
                    "200",
                    Decimal("1"),
                    None,
                    None,
                    True,
                    1,
                    None,
                )
            ],
            set(),
            [],
            id="company not read",
        ),
    ],
)
def test_lines_from_records(
    additions: list[dict[str, Any]],
    agreements: list[dict[str, Any]],
    expected: list[tuple[Any, ...]],
    cancelled: set[str],
    warnings: list[str],
) -> None:
    lines = lines_from_records([company(1, "Acme", "acme.com")], agreements, additions, today=TODAY)
    assert_frame_equal(lines.frame, frame(PSA_LINES, *expected))
    assert lines.cancelled == cancelled
    assert lines.warnings == warnings


def test_the_catalogue_prices_recurring_items_by_their_recurring_revenue() -> None:
    catalog, warnings = catalog_from_records(load("catalog.json"))
    expected = frame(
        CATALOG,
        ("M365BP", M365, Decimal("22"), Decimal("18.5"), 1),
        ("DEF-EP", DEF, Decimal("3.3333"), Decimal("0.1"), None),
        ("SENTINEL", "SentinelOne Complete", Decimal("60"), Decimal("42"), 3),
    )  # the inactive item is left out
    assert_frame_equal(catalog, expected)
    assert warnings == []


@pytest.mark.parametrize(
    ("companies", "agreements", "additions", "message"),
    [
        pytest.param(
            [],
            [agreement(10, 1)],
            [{"id": 7, "agreementId": 10, "product": {"identifier": "X"}}],
            "agreement additions in a shape TrueUp does not expect: agreement addition 7 has "
            "no quantity",
            id="addition without quantity",
        ),
        pytest.param(
            [],
            [agreement(10, 1)],
            [addition(7, 10, quantity="lots")],
            "agreement addition 7 has quantity 'lots', not a number",
            id="quantity not a number",
        ),
        pytest.param(
            [],
            {"message": "nope"},
            [],
            "agreements in a shape TrueUp does not expect: expected a list of agreements, got "
            "an object (message)",
            id="agreements not a list",
        ),
        pytest.param(
            [{"name": "no id"}],
            [],
            [],
            "companies in a shape TrueUp does not expect: one of the companies has no id",
            id="company without id",
        ),
        pytest.param(
            [],
            [{"id": 10, "agreementStatus": "Active"}],
            [],
            "agreement 10 has no company",
            id="agreement without company",
        ),
    ],
)
def test_an_unexpected_schema_names_the_entity(
    companies: Any, agreements: Any, additions: Any, message: str
) -> None:
    with pytest.raises(ConnectorError) as caught:
        lines_from_records(companies, agreements, additions, today=TODAY)
    assert message in str(caught.value)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA


def test_quick_sync_asks_for_records_changed_five_minutes_before_the_cursor() -> None:
    since = datetime(2026, 11, 20, tzinfo=UTC)
    assert condition_since(since) == "lastUpdated>[2026-11-19T23:55:00Z]"


# -- fetching through the fake -----------------------------------------------------------------


FULL = frame(
    PSA_LINES,
    ("250", CAFE, "10", "Managed Services", "M365BP", M365, "1001",
     Decimal("12"), Decimal("22"), Decimal("18.5"), True, 1, "cafe-mueller.de"),
    ("250", CAFE, "10", "Managed Services", "DEF-EP", DEF, "1002",
     Decimal("7.5"), Decimal("3.3333"), Decimal("0.1"), True, 1, "cafe-mueller.de"),
    ("250", CAFE, "11", "Annual Licences", "M365BP", M365, "1101",
     Decimal("3"), Decimal("264"), Decimal("222"), False, 12, "cafe-mueller.de"),
    # Cancelled at the end of January: it still bills now. The company's own name wins over
    # the agreement's stale copy.
    ("251", ACME, "12", "Managed Services", "DEF-EP", DEF, "1201",
     Decimal("40"), Decimal("1234.56"), None, True, 6, None),
)  # fmt: skip


def test_a_full_sync_reads_every_active_line_and_the_catalogue() -> None:
    fake = FakeConnectWise()
    pulled = sync(fake)
    assert_frame_equal(pulled.lines, FULL)
    assert pulled.cancelled == {"1003"}
    assert pulled.contract_ids == {"10", "11", "12"}
    assert pulled.catalog["product_id"].to_list() == ["M365BP", "DEF-EP", "SENTINEL"]
    assert pulled.cursor == datetime(2026, 11, 23, 16, 45, tzinfo=UTC)
    assert pulled.warnings == ()
    # Every record keeps its external id and ConnectWise's last update.
    assert pulled.records.filter(entity="addition")["external_id"].to_list() == [
        "1001", "1002", "1003", "1101", "1201"
    ]  # fmt: skip
    # No lastUpdated condition on a full sync; only active agreements; additions per agreement.
    assert fake.conditions("company/companies") == [None]
    assert fake.conditions("finance/agreements") == ['agreementStatus="Active"']
    assert sorted(p for p in fake.paths() if p.endswith("additions")) == [
        f"finance/agreements/{aid}/additions" for aid in (10, 11, 12)
    ]
    for request in fake.requests:
        assert request.url.params["pageSize"] == "1000"
        assert request.url.params["orderBy"] == "id asc"


def test_a_full_sync_follows_pages_until_one_comes_back_short() -> None:
    many = [company(i, f"Company {i}") for i in range(1, 2002)]
    fake = FakeConnectWise(company__companies=many)
    pulled = sync(fake)
    pages = [r.url.params["page"] for r in fake.requests if r.url.path.endswith("/companies")]
    assert pages == ["1", "2", "3"]
    assert pulled.records.filter(entity="company").height == 2001


def test_additions_of_an_agreement_are_paged_too() -> None:
    many = [addition(i, 10, quantity=1) for i in range(1, 1001)]
    fake = FakeConnectWise(finance__agreements__10__additions=many)
    pulled = sync(fake)
    pages = [r.url.params["page"] for r in fake.requests if r.url.path.endswith("/10/additions")]
    assert pages == ["1", "2"]  # a full page of 1000, then an empty one
    assert pulled.lines.filter(contract_id="10").height == 1000


def test_a_quick_sync_asks_only_for_changed_records() -> None:
    fake = FakeConnectWise()
    since = datetime(2026, 11, 20, tzinfo=UTC)
    pulled = sync(fake, since)
    changed = "lastUpdated>[2026-11-19T23:55:00Z]"
    assert fake.conditions("company/companies") == [changed]
    assert fake.conditions("procurement/catalog") == [changed]
    # Agreements are all read (additions hang off them); the additions of an agreement whose
    # company changed are all read again, the others only as far as they changed.
    assert fake.conditions("finance/agreements") == ['agreementStatus="Active"']
    assert fake.conditions("10/additions") == [changed]
    assert fake.conditions("11/additions") == [changed]
    assert fake.conditions("12/additions") == [None]
    expected = FULL.filter(pl.col("line_id").is_in(["1002", "1201"])).with_columns(
        # Café Müller was not read again: its name is the agreement's, its website unknown.
        account_website=pl.lit(None, pl.String)
    )
    assert_frame_equal(pulled.lines, expected)
    assert pulled.cancelled == {"1003"}
    assert pulled.contract_ids == {"10", "11", "12"}
    assert pulled.catalog["product_id"].to_list() == ["DEF-EP"]
    assert pulled.cursor == datetime(2026, 11, 23, 16, 45, tzinfo=UTC)
    assert pulled.since == since


def test_a_quick_sync_with_nothing_changed_keeps_the_cursor() -> None:
    fake = FakeConnectWise()
    since = datetime(2026, 11, 26, tzinfo=UTC)
    pulled = sync(fake, since)
    assert pulled.lines.is_empty() and pulled.catalog.is_empty()
    assert pulled.cursor == since


def test_an_agreement_changed_since_the_cursor_has_all_its_additions_read() -> None:
    agreements = load("agreements.json")
    agreements[1]["_info"]["lastUpdated"] = "2026-11-24T00:00:00Z"  # Annual Licences renamed
    agreements[1]["name"] = "Yearly Licences"
    fake = FakeConnectWise(finance__agreements=agreements)
    pulled = sync(fake, datetime(2026, 11, 20, tzinfo=UTC))
    assert fake.conditions("11/additions") == [None]
    assert pulled.lines.filter(line_id="1101")["contract_name"].to_list() == ["Yearly Licences"]


def test_bad_keys_say_so() -> None:
    fake = FakeConnectWise()
    fake.reply = lambda request: httpx.Response(401, json={"code": "Unauthorized"})
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "refused the API keys" in str(caught.value)
    assert "company id, public key or private key is wrong" in str(caught.value)
    assert "priv-secret-456" not in str(caught.value)
    assert len(fake.requests) == 1  # a refusal is not retried


def test_agreements_that_are_not_a_list_name_the_entity() -> None:
    fake = FakeConnectWise()
    fake.reply = lambda request: (
        httpx.Response(200, json={"agreements": []})
        if request.url.path.endswith("/finance/agreements")
        else None
    )
    with pytest.raises(ConnectorError, match="agreements in a shape TrueUp does not expect"):
        sync(fake)


def test_additions_without_quantity_name_the_entity() -> None:
    fake = FakeConnectWise(finance__agreements__10__additions=[{"id": 5, "product": None}])
    with pytest.raises(ConnectorError, match="agreement addition 5 has no quantity"):
        sync(fake)


def test_a_500_timeout_is_tried_again() -> None:
    fake = FakeConnectWise()
    failed: list[str] = []

    def once(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/company/companies") and not failed:
            failed.append(request.url.path)
            return httpx.Response(500, text='{"message": "The operation has timed out"}')
        return None

    fake.reply = once
    pulled = sync(fake)
    assert_frame_equal(pulled.lines, FULL)
    assert fake.paths().count("company/companies") == 2


def test_a_wrong_codebase_says_to_check_the_base_url() -> None:
    fake = FakeConnectWise()
    fake.reply = lambda request: httpx.Response(404, json={"message": "Not found"})
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.NOT_FOUND
    assert "base URL" in str(caught.value)


def test_check_connection_reads_one_company_and_says_when_the_keys_are_wrong() -> None:
    fake = FakeConnectWise()
    with client(fake) as api:
        check_connection(api)
    assert fake.paths() == ["company/companies"]
    assert fake.requests[0].url.params["pageSize"] == "1"
    fake.reply = lambda request: httpx.Response(401)
    with client(fake) as api, pytest.raises(ConnectorError, match="refused the API keys"):
        check_connection(api)
