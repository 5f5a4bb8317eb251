"""Autotask, the read side: records parsed into frames, and a sync through a fake Autotask on
httpx.MockTransport that tells the zone, pages by `nextPageUrl`, filters queries and refuses bad
credentials."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import ApiClient
from connectors.psa.autotask import (
    AutotaskSettings,
    billing_months,
    catalog_from_records,
    check_connection,
    connect,
    current_units,
    lines_from_records,
    read_psa,
)
from engine.schema import CATALOG, PSA_LINES
from errors import ConnectorError, ConnectorErrorKind
from tests.conftest import FIXTURES

AT = FIXTURES / "autotask"
DISCOVERY = "http://127.0.0.1/atservicesrest/v1.0/"
ZONE = "/ATServicesRest/V1.0/"
TODAY = date(2026, 11, 27)
CAFE, ACME = "Café Müller GmbH", "Acme, Inc."
M365, DEF = "Microsoft 365 Business Premium", "Defender for Endpoint"
SETTINGS = AutotaskSettings(
    username="api@trueup.example",
    secret="s3cret-Autotask",
    integration_code="INTEGRATION-CODE-42",
    discovery_url=DISCOVERY,
)
FILES = {
    "Companies": "companies.json",
    "Contracts": "contracts.json",
    "ContractServices": "contract_services.json",
    "ContractServiceUnits": "contract_service_units.json",
    "Services": "services.json",
}


def frame(schema: dict[str, Any], *rows: tuple[Any, ...]) -> pl.DataFrame:
    """Give back the rows as a frame of `schema`; columns a row leaves out at its end are null."""
    padded = [row + (None,) * (len(schema) - len(row)) for row in rows]
    return pl.DataFrame(padded, schema=schema, orient="row")


def load(name: str) -> Any:
    return json.loads((AT / name).read_text())


# -- a fake Autotask ----------------------------------------------------------------------------


class FakeAutotask:
    """Serves the fixture records as Autotask would: zone discovery, then `{Entity}/query` with a
    `search` of filters, `cap` records a page at most, the next page's URL in `pageDetails`;
    records every request it is sent."""

    def __init__(self, cap: int = 500) -> None:
        self.entities = {entity: load(name) for entity, name in FILES.items()}
        self.cap = cap
        self.requests: list[httpx.Request] = []
        self.reply: Callable[[httpx.Request], httpx.Response | None] = lambda request: None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "127.0.0.1", f"a request left the fake: {request.url}"
        if request.url.path == "/atservicesrest/v1.0/zoneInformation":
            if request.url.params.get("user") != SETTINGS.username:
                return httpx.Response(500, json={"errors": ["Invalid user"]})
            return httpx.Response(
                200,
                json={"zoneName": "Test", "url": "http://127.0.0.1/ATServicesRest/", "ci": 1},
            )
        scripted = self.reply(request)
        if scripted is not None:
            return scripted
        if (
            request.headers.get("ApiIntegrationCode") != SETTINGS.integration_code
            or request.headers.get("UserName") != SETTINGS.username
            or request.headers.get("Secret") != SETTINGS.secret
        ):
            return httpx.Response(401, json={"errors": ["Unauthorized"]})
        path = request.url.path.removeprefix(ZONE)
        entity, _, rest = path.partition("/")
        if entity not in self.entities or rest not in ("query", "query/next"):
            return httpx.Response(404, json={"errors": ["Not found"]})
        search = json.loads(request.url.params["search"])
        found = [r for r in self.entities[entity] if all(holds(r, f) for f in search["filter"])]
        size = min(int(search.get("MaxRecords", 500)), self.cap)
        page = int(request.url.params.get("page", "1"))
        following = None
        if page * size < len(found):
            query = httpx.QueryParams({"search": request.url.params["search"], "page": page + 1})
            following = f"http://127.0.0.1{ZONE}{entity}/query/next?{query}"
        return httpx.Response(
            200,
            json={
                "items": found[(page - 1) * size : page * size],
                "pageDetails": {
                    "count": len(found[(page - 1) * size : page * size]),
                    "requestCount": size,
                    "prevPageUrl": None,
                    "nextPageUrl": following,
                },
            },
        )

    def searches(self, entity: str) -> list[Any]:
        return [
            json.loads(r.url.params["search"])["filter"]
            for r in self.requests
            if r.url.path == f"{ZONE}{entity}/query"
        ]

    def zone_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(ZONE)]


def holds(record: dict[str, Any], condition: dict[str, Any]) -> bool:
    op = condition["op"]
    if op == "or":
        return any(holds(record, item) for item in condition["items"])
    if op == "and":
        return all(holds(record, item) for item in condition["items"])
    have, want = record.get(condition["field"]), condition["value"]
    if have is None:
        return False
    if isinstance(want, str):
        have = datetime.fromisoformat(have).replace(tzinfo=None)
        want = datetime.fromisoformat(want).replace(tzinfo=None)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    if op not in compare:
        raise AssertionError(f"the fake does not know the operator {op!r}")
    return compare[op](have, want)


def client(fake: FakeAutotask, sleep: Callable[[float], None] = lambda s: None) -> ApiClient:
    return connect(SETTINGS, transport=httpx.MockTransport(fake), sleep=sleep)


def sync(fake: FakeAutotask, since: datetime | None = None) -> Any:
    with client(fake) as api:
        return read_psa(api, since=since, today=TODAY)


FULL_LINES = frame(
    PSA_LINES,
    ("1", CAFE, "10", "Managed Services", "100", M365, "1000", Decimal(25), Decimal("22.1"), Decimal("18.7"), None, 1, "cafe-mueller.de"),
    ("1", CAFE, "10", "Managed Services", "101", DEF, "1001", Decimal(25), Decimal("39.96"), Decimal(30), None, 12, "cafe-mueller.de"),
    ("2", ACME, "11", "Cloud Seats", "100", M365, "1002", Decimal("7.5"), Decimal("21.5"), Decimal("18.7"), None, 1),
)  # fmt: skip


# -- settings ----------------------------------------------------------------------------------


def test_the_secret_and_integration_code_never_show_in_the_settings_repr() -> None:
    shown = repr(SETTINGS)
    assert "s3cret-Autotask" not in shown and "INTEGRATION-CODE-42" not in shown
    assert SETTINGS.username in shown


def test_settings_from_values_name_what_is_missing() -> None:
    with pytest.raises(ConnectorError) as caught:
        AutotaskSettings.from_values({"username": "api@x", "secret": ""})
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "secret, integration_code" in str(caught.value)
    read = AutotaskSettings.from_values(
        {"username": "u", "secret": "s", "integration_code": "c", "zone_url": "", "other": "x"}
    )
    assert read == AutotaskSettings(username="u", secret="s", integration_code="c")


# -- parsing: records in, frames out -----------------------------------------------------------


@pytest.mark.parametrize(
    ("period_type", "months"),
    [(1, 1), (2, 3), (3, 6), (4, 12), ("4", 12), ("m", 1), ("y", 12), ("Quarterly", 3),
     ("Semi-Annual", 6), (5, None), ("Weekly", None), (None, None), (True, None)],
)  # fmt: skip
def test_service_period_types_read_as_months(period_type: Any, months: int | None) -> None:
    assert billing_months(period_type) == months


def unit(uid: int, service_line: int, start: str, end: str, units: Any = 1) -> dict[str, Any]:
    return {
        "id": uid,
        "contractServiceID": service_line,
        "startDate": f"{start}T00:00:00",
        "endDate": f"{end}T00:00:00",
        "units": units,
    }


def test_the_current_units_are_those_whose_period_holds_today() -> None:
    found = current_units(
        [
            unit(1, 7, "2026-10-01", "2026-10-31", 5),
            unit(2, 7, "2026-11-01", "2026-11-30", 6),
            unit(3, 7, "2026-12-01", "2026-12-31", 7),
            unit(4, 8, "2026-11-27", "2026-11-27", 1),
            unit(5, 8, "2026-11-15", "2026-12-14", 2),
            unit(6, 9, "2026-10-01", "2026-11-26", 3),
        ],
        today=TODAY,
    )
    assert {k: v["id"] for k, v in found.items()} == {"7": 2, "8": 4}


def contract(cid: int, company: int, status: Any = 1) -> dict[str, Any]:
    return {"id": cid, "companyID": company, "contractName": f"Contract {cid}", "status": status}


def service_line(sid: int, contract_id: int, service: int | None = 100, **fields: Any) -> Any:
    return {"id": sid, "contractID": contract_id, "serviceID": service, "unitPrice": 10, **fields}


SERVICES = [{"id": 100, "name": "M365", "periodType": 1}, {"id": 101, "name": "Annual", "periodType": 4}]  # fmt: skip
COMPANIES = [{"id": 1, "companyName": "Acme", "webAddress": "acme.example"}]
NOW = ("2026-11-01", "2026-11-30")


@pytest.mark.parametrize(
    ("contracts", "services", "units", "expected", "cancelled", "warnings"),
    [
        pytest.param(
            [contract(10, 1)],
            [service_line(1, 10, unitPrice=22.1, unitCost=0.1 + 0.2)],
            [unit(1, 1, *NOW, 2.5)],
            [("1", "Acme", "10", "Contract 10", "100", "M365", "1", Decimal("2.5"), Decimal("22.1"), Decimal("0.3"), None, 1, "acme.example")],
            set(),
            ["1 value had more than 4 decimal places and was rounded"],
            id="exact decimals through str(), rounded half-up to 4 places",
        ),
        pytest.param(
            [contract(10, 1)],
            [service_line(1, 10, service=101)],
            [unit(1, 1, *NOW, 3)],
            [("1", "Acme", "10", "Contract 10", "101", "Annual", "1", Decimal(3), Decimal(10), None, None, 12, "acme.example")],
            set(),
            [],
            id="a yearly service bills over 12 months",
        ),
        pytest.param(
            [contract(10, 1, status=0), contract(11, 1, status="1")],
            [service_line(1, 10), service_line(2, 11)],
            [unit(1, 1, *NOW, 4), unit(2, 2, *NOW, 5)],
            [("1", "Acme", "11", "Contract 11", "100", "M365", "2", Decimal(5), Decimal(10), None, None, 1, "acme.example")],
            set(),
            [],
            id="an inactive contract's services are left out",
        ),
        pytest.param(
            [contract(10, 1)],
            [service_line(1, 10), service_line(2, 10)],
            [unit(1, 1, "2026-10-01", "2026-10-31", 4), unit(2, 2, *NOW, 0)],
            [("1", "Acme", "10", "Contract 10", "100", "M365", "2", Decimal(0), Decimal(10), None, None, 1, "acme.example")],
            {"1"},
            [],
            id="a service with no units this period is cancelled; 0 units is a line",
        ),
        pytest.param(
            [contract(10, 1)],
            [service_line(1, 10, service=None), service_line(2, 10, service=555, invoiceDescription="Odd")],
            [unit(1, 1, *NOW, 4), unit(2, 2, *NOW, 1)],
            [("1", "Acme", "10", "Contract 10", "555", "Odd", "2", Decimal(1), Decimal(10), None, None, 1, "acme.example")],
            set(),
            ["1 contract service with no service left out (ids 1)"],
            id="a line without a product is left out; one outside the catalogue keeps its own name",
        ),
        pytest.param(
            [contract(10, 2)],
            [service_line(1, 10)],
            [unit(1, 1, *NOW, 1)],
            [("2", None, "10", "Contract 10", "100", "M365", "1", Decimal(1), Decimal(10), None, None, 1, None)],
            set(),
            [],
            id="a company not read (quick sync) leaves the account name empty",
        ),
    ],
)  # fmt: skip
def test_lines_from_records(
    contracts: list[Any],
    services: list[Any],
    units: list[Any],
    expected: list[tuple[Any, ...]],
    cancelled: set[str],
    warnings: list[str],
) -> None:
    lines = lines_from_records(COMPANIES, contracts, services, units, SERVICES, today=TODAY)
    assert_frame_equal(lines.frame, frame(PSA_LINES, *expected))
    assert lines.cancelled == cancelled
    assert lines.warnings == warnings


def test_an_unknown_period_type_is_monthly_with_a_warning() -> None:
    lines = lines_from_records(
        COMPANIES,
        [contract(10, 1)],
        [service_line(1, 10, service=7)],
        [unit(1, 1, *NOW, 1)],
        [{"id": 7, "name": "Weekly thing", "periodType": 9}],
        today=TODAY,
    )
    assert lines.frame["billing_months"].to_list() == [1]
    assert lines.warnings == [
        "Service period types that are not monthly, quarterly, semi-annual or yearly (9) "
        "were read as monthly"
    ]


def test_the_catalogue_holds_active_services_with_their_prices_and_periods() -> None:
    catalog, warnings = catalog_from_records(load("services.json"))
    expected = frame(
        CATALOG,
        ("100", M365, Decimal("22.1"), Decimal("18.7"), 1),
        ("101", DEF, Decimal("39.96"), Decimal(30), 12),
    )
    assert_frame_equal(catalog, expected)
    assert warnings == []


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ([{"id": 1, "contractServiceID": 1, "startDate": "2026-11-01", "endDate": "2026-11-30"}],
         "contract service unit 1 has no units"),
        ([{"id": 1, "contractServiceID": 1, "startDate": "2026-11-01", "endDate": "2026-11-30", "units": "lots"}],
         "contract service unit 1 has units 'lots', not a number"),
        ([{"contractServiceID": 1}], "one of the contract service units has no id"),
        ({"items": []}, "expected a list of contract service units, got an object (items)"),
    ],
)  # fmt: skip
def test_an_unexpected_schema_names_the_entity(units: Any, message: str) -> None:
    with pytest.raises(ConnectorError) as caught:
        lines_from_records([], [contract(10, 1)], [service_line(1, 10)], units, [], today=TODAY)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "Autotask sent contract service units" in str(caught.value)
    assert message in str(caught.value)


# -- fetching through the fake Autotask ----------------------------------------------------------


def test_zone_discovery_comes_first_and_sends_no_secret() -> None:
    fake = FakeAutotask()
    sync(fake)
    first = fake.requests[0]
    assert first.url.path == "/atservicesrest/v1.0/zoneInformation"
    assert first.url.params["user"] == SETTINGS.username
    assert "Secret" not in first.headers and "ApiIntegrationCode" not in first.headers
    later = fake.requests[1:]
    assert later and all(r.url.path.startswith(ZONE) for r in later)
    assert {r.headers["Secret"] for r in later} == {SETTINGS.secret}
    assert {r.headers["ApiIntegrationCode"] for r in later} == {SETTINGS.integration_code}
    assert {r.headers["UserName"] for r in later} == {SETTINGS.username}


def test_a_zone_url_set_on_the_source_skips_discovery() -> None:
    fake = FakeAutotask()
    settings = AutotaskSettings(
        username=SETTINGS.username,
        secret=SETTINGS.secret,
        integration_code=SETTINGS.integration_code,
        zone_url=f"http://127.0.0.1{ZONE}",
        discovery_url="http://127.0.0.1/nowhere/",
    )
    with connect(settings, transport=httpx.MockTransport(fake)) as api:
        read_psa(api, today=TODAY)
    assert all(r.url.path.startswith(ZONE) for r in fake.requests)


def test_an_unknown_user_says_to_check_the_username() -> None:
    fake = FakeAutotask()
    settings = AutotaskSettings(username="nobody@x", secret="s", integration_code="c", discovery_url=DISCOVERY)  # fmt: skip
    with pytest.raises(ConnectorError) as caught:
        connect(settings, transport=httpx.MockTransport(fake))
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "'nobody@x'" in str(caught.value) and "Check the username" in str(caught.value)


def test_zone_information_without_a_url_says_to_check_the_username() -> None:
    fake = FakeAutotask()
    fake_zone = fake.__call__

    def no_url(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/zoneInformation"):
            return httpx.Response(200, json={"zoneName": None, "url": None})
        return fake_zone(request)

    with pytest.raises(ConnectorError) as caught:
        connect(SETTINGS, transport=httpx.MockTransport(no_url))
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "without a zone URL" in str(caught.value)


def test_a_full_sync_reads_every_active_line_and_the_catalogue() -> None:
    pulled = sync(FakeAutotask())
    assert_frame_equal(pulled.lines, FULL_LINES)
    assert pulled.catalog["product_id"].to_list() == ["100", "101"]
    assert pulled.contract_ids == {"10", "11"}
    assert pulled.cancelled == {"1004"}
    assert pulled.warnings == ("1 contract service with no service left out (ids 1003)",)
    assert pulled.cursor == datetime(2026, 11, 20, 10, tzinfo=UTC)
    counts = dict(pulled.records.group_by("entity").len().iter_rows())
    assert counts == {
        "company": 3,
        "contract": 2,
        "contract service": 6,
        "contract service unit": 5,
        "service": 3,
    }


def test_a_full_sync_asks_for_active_contracts_and_the_units_of_today() -> None:
    fake = FakeAutotask()
    sync(fake)
    assert fake.searches("Contracts") == [[{"op": "eq", "field": "status", "value": 1}]]
    assert fake.searches("ContractServiceUnits") == [
        [
            {"op": "lte", "field": "startDate", "value": "2026-11-27T23:59:59.000Z"},
            {"op": "gte", "field": "endDate", "value": "2026-11-27T00:00:00.000Z"},
        ]
    ]
    assert fake.searches("Companies") == [[{"op": "gte", "field": "id", "value": 0}]]
    assert all(
        json.loads(r.url.params["search"])["MaxRecords"] == 500 for r in fake.zone_requests()
    )


def test_several_pages_are_followed_by_their_next_page_url() -> None:
    fake = FakeAutotask(cap=2)
    pulled = sync(fake)
    assert_frame_equal(pulled.lines, FULL_LINES)
    nexts = [r.url.params["page"] for r in fake.requests if r.url.path.endswith("/query/next")]
    # companies 3 -> 2 pages, contracts 2 -> 1, services 6 -> 3, units of today 5 -> 3,
    # catalogue 3 -> 2
    assert sorted(nexts) == ["2", "2", "2", "2", "3", "3"]


def test_a_429_is_retried_after_the_time_autotask_asks_for() -> None:
    fake = FakeAutotask()
    waits: list[float] = []
    refused: list[str] = []

    def once(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/Contracts/query") and not refused:
            refused.append(request.url.path)
            return httpx.Response(429, headers={"Retry-After": "7"}, json={"errors": ["busy"]})
        return None

    fake.reply = once
    with client(fake, sleep=waits.append) as api:
        pulled = read_psa(api, today=TODAY)
    assert waits == [7.0]
    assert_frame_equal(pulled.lines, FULL_LINES)


def test_bad_credentials_say_which_settings_to_check() -> None:
    fake = FakeAutotask()
    settings = AutotaskSettings(
        username=SETTINGS.username, secret="wrong", integration_code="x", discovery_url=DISCOVERY
    )
    with (
        connect(settings, transport=httpx.MockTransport(fake)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        read_psa(api, today=TODAY)
    assert caught.value.kind is ConnectorErrorKind.AUTH
    assert "username, secret or integration code" in str(caught.value)
    with (
        connect(settings, transport=httpx.MockTransport(fake)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        check_connection(api)
    assert caught.value.kind is ConnectorErrorKind.AUTH


def test_check_connection_reads_one_company() -> None:
    fake = FakeAutotask()
    with client(fake) as api:
        check_connection(api)
    (asked,) = fake.zone_requests()
    assert asked.url.path == f"{ZONE}Companies/query"
    assert json.loads(asked.url.params["search"])["MaxRecords"] == 1


def test_malformed_json_names_autotask_and_the_entity() -> None:
    fake = FakeAutotask()
    fake.reply = lambda r: (
        httpx.Response(200, text="<html>oops", headers={"Content-Type": "text/html"})
        if r.url.path.endswith("/ContractServices/query")
        else None
    )
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "Autotask" in str(caught.value) and "ContractServices" in str(caught.value)
    assert "not JSON" in str(caught.value)


def test_a_reply_without_items_names_autotask_and_the_entity() -> None:
    fake = FakeAutotask()
    fake.reply = lambda r: (
        httpx.Response(200, json={"records": [], "pageDetails": {}})
        if r.url.path.endswith("/Contracts/query")
        else None
    )
    with pytest.raises(ConnectorError) as caught:
        sync(fake)
    assert caught.value.kind is ConnectorErrorKind.SCHEMA
    assert "Autotask" in str(caught.value) and "Contracts" in str(caught.value)
    assert "'items'" in str(caught.value)


def test_a_quick_sync_asks_only_for_changed_companies() -> None:
    fake = FakeAutotask()
    pulled = sync(fake, since=datetime(2026, 11, 1, 8, 3, tzinfo=UTC))
    moment = "2026-11-01T07:58:00.000Z"
    assert fake.searches("Companies") == [
        [
            {
                "op": "or",
                "items": [
                    {"op": "gt", "field": "lastActivityDate", "value": moment},
                    {"op": "gt", "field": "lastTrackedModifiedDateTime", "value": moment},
                ],
            }
        ]
    ]
    assert pulled.records.filter(pl.col("entity") == "company")["external_id"].to_list() == ["1"]
    # contract data has no changed-since filter: every line comes back, Acme's without a name
    expected = FULL_LINES.with_columns(
        pl.when(pl.col("account_id") == "2")
        .then(None)
        .otherwise("account_name")
        .alias("account_name")
    )
    assert_frame_equal(pulled.lines, expected)
    assert pulled.cursor == datetime(2026, 11, 20, 10, tzinfo=UTC)
    assert pulled.since == datetime(2026, 11, 1, 8, 3, tzinfo=UTC)


def test_a_quick_sync_with_no_changed_company_keeps_the_cursor() -> None:
    since = datetime(2026, 11, 26, tzinfo=UTC)
    pulled = sync(FakeAutotask(), since=since)
    assert pulled.records.filter(pl.col("entity") == "company").is_empty()
    assert pulled.cursor == since


def test_no_more_than_three_requests_are_in_flight() -> None:
    fake = FakeAutotask(cap=1)
    lock, flying, most = threading.Lock(), [0], [0]

    def slow(request: httpx.Request) -> httpx.Response:
        with lock:
            flying[0] += 1
            most[0] = max(most[0], flying[0])
        time.sleep(0.005)
        try:
            return fake(request)
        finally:
            with lock:
                flying[0] -= 1

    with connect(SETTINGS, transport=httpx.MockTransport(slow), concurrency=8) as api:
        read_psa(api, today=TODAY)
    assert 1 < most[0] <= 3
