"""SentinelOne: site records parsed into frames, and a full pull through a scripted MockTransport.

The fake console serves the JSON pages in tests/fixtures/sentinelone (`sites-first.json`, then
`sites-{cursor}.json`); a test scripts failures by cursor ("first" for the first page).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import RetryPolicy
from connectors.vendors.sentinelone import (
    SentinelOneSettings,
    check_connection,
    parse_sites,
    read_sentinelone,
    usage_frame,
)
from engine.schema import USAGE
from errors import ConnectorError, ConnectorErrorKind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sentinelone"
CONSOLE = "https://usea1-acme.sentinelone.net"
SETTINGS = SentinelOneSettings(console_url=CONSOLE, api_token="s1-t0ken")


class FakeConsole:
    """A scripted SentinelOne console: the pages in FIXTURES, failures queued per cursor."""

    def __init__(self, token: str = "s1-t0ken") -> None:
        self.token = token
        self.queued: dict[str, list[httpx.Response]] = {}
        self.pages: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []

    def queue(self, cursor: str, *replies: httpx.Response) -> None:
        self.queued.setdefault(cursor, []).extend(replies)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def cursors(self) -> list[str]:
        return [r.url.params.get("cursor", "first") for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "usea1-acme.sentinelone.net"
        assert request.url.path == "/web/api/v2.1/sites"
        if request.headers.get("Authorization") != f"ApiToken {self.token}":
            return httpx.Response(401, json={"errors": [{"code": 4010010, "title": "Unauth"}]})
        cursor = request.url.params.get("cursor", "first")
        if self.queued.get(cursor):
            return self.queued[cursor].pop(0)
        if cursor in self.pages:
            return httpx.Response(200, json=self.pages[cursor])
        return httpx.Response(200, content=(FIXTURES / f"sites-{cursor}.json").read_bytes())


def pull(
    fake: FakeConsole,
    sleeps: list[float] | None = None,
    settings: SentinelOneSettings = SETTINGS,
):
    sleep = sleeps.append if sleeps is not None else lambda _: None
    return read_sentinelone(
        settings,
        transport=fake.transport(),
        sleep=sleep,
        retry=RetryPolicy(attempts=3, budget=30),
        size=2,
    )


def site(**fields: Any) -> dict[str, Any]:
    record = {
        "id": "1",
        "name": "Acme",
        "suite": "Complete",
        "siteType": "Paid",
        "state": "active",
        "activeLicenses": 10,
        "totalLicenses": 12,
    }
    return record | fields


def usage(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([{"vendor": "SentinelOne"} | row for row in rows], schema=USAGE)


# ---- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, "active"),
        ({"state": "Active"}, "active"),
        ({"siteType": "Trial"}, "trial"),
        ({"state": "expired"}, "expired"),
        ({"state": "deleted", "siteType": "Trial"}, "deleted"),
        ({"state": None}, None),
    ],
)
def test_status_is_the_state_and_a_trial_is_not_active(
    fields: dict[str, Any], status: str | None
) -> None:
    assert parse_sites([site(**fields)])["status"].to_list() == [status]


@pytest.mark.parametrize(
    ("fields", "product"),
    [
        ({"suite": "Control", "sku": "Control"}, "Control"),
        ({"suite": "Complete", "sku": "S1-COMPLETE-MSP"}, "Complete"),
        ({"suite": None, "sku": "Core"}, "Core"),
    ],
)
def test_the_product_is_the_suite_else_the_sku(fields: dict[str, Any], product: str) -> None:
    assert parse_sites([site(**fields)])["product_id"].to_list() == [product]


@pytest.mark.parametrize(
    ("count", "fields", "quantity"),
    [
        ("active", {}, "10"),
        ("allocated", {}, "12"),
        ("active", {"activeLicenses": "7"}, "7"),
        ("allocated", {"totalLicenses": 0, "unlimitedLicenses": True}, "10"),
        ("allocated", {"totalLicenses": None}, "10"),
        ("active", {"activeLicenses": 0}, "0"),
    ],
)
def test_the_quantity_is_licences_in_use_or_allocated(
    count: str, fields: dict[str, Any], quantity: str
) -> None:
    got = usage_frame(parse_sites([site(**fields)]), count=count)
    assert got["quantity"].to_list() == [Decimal(quantity)]


def test_usage_keeps_every_site_with_its_status() -> None:
    sites = parse_sites(
        [
            site(id="2", name="Beta", suite="Control", externalId="PSA-2", activeLicenses=3),
            site(id="1", name="Acme", state="expired"),
            site(id="3", name="Trial Co", siteType="Trial", activeLicenses=5),
        ]
    )
    expected = usage(
        {
            "account_id": "1",
            "account_name": "Acme",
            "product_id": "Complete",
            "product_name": "Complete",
            "quantity": Decimal(10),
            "status": "expired",
        },
        {
            "account_id": "2",
            "account_name": "Beta",
            "account_external_id": "PSA-2",
            "product_id": "Control",
            "product_name": "Control",
            "quantity": Decimal(3),
            "status": "active",
        },
        {
            "account_id": "3",
            "account_name": "Trial Co",
            "product_id": "Complete",
            "product_name": "Complete",
            "quantity": Decimal(5),
            "status": "trial",
        },
    )
    assert_frame_equal(usage_frame(sites), expected)


def test_a_site_read_twice_while_paging_counts_once() -> None:
    sites = parse_sites([site(activeLicenses=3), site(id="2"), site(activeLicenses=4)])
    assert sites.select("account_id", "active_licenses").rows() == [
        ("2", Decimal(10)),
        ("1", Decimal(4)),
    ]


@pytest.mark.parametrize(
    ("record", "says"),
    [
        (site(activeLicenses=None), 'the record 1 has no "activeLicenses"'),
        (site(activeLicenses="ten"), "\"activeLicenses\" = 'ten', not a whole number"),
        (site(activeLicenses=2.5), '"activeLicenses" = 2.5, not a whole number'),
        (site(activeLicenses=True), '"activeLicenses" = True, not a whole number'),
        (site(suite=None, sku=None), 'the record 1 has neither "suite" nor "sku"'),
        (site(name={"en": "Acme"}), '"name" of type dict, not text'),
        (site(unlimitedLicenses="yes"), "\"unlimitedLicenses\" = 'yes', not true or false"),
        (site(updatedAt="yesterday"), "not a date and time"),
        ({k: v for k, v in site().items() if k != "id"}, 'a record has no "id"'),
        (["1"], "item 0 is list, not an object"),
    ],
)
def test_unexpected_records_name_sentinelone_the_entity_and_the_record(
    record: Any, says: str
) -> None:
    with pytest.raises(ConnectorError) as raised:
        parse_sites([record])
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("SentinelOne sites: ")
    assert says in str(raised.value)


# ---- fetching --------------------------------------------------------------------------------


def test_a_full_pull_follows_the_cursor_through_every_page() -> None:
    fake = FakeConsole()
    got = pull(fake)
    assert fake.cursors() == ["first", "YWdlbnRfaWQ6MTAwMg==", "YWdlbnRfaWQ6MTAwNA=="]
    assert {r.url.params["limit"] for r in fake.requests} == {"2"}
    assert "state" not in fake.requests[0].url.params  # ended sites are read too
    acme = {"account_name": "Acme, Inc.", "account_external_id": "PSA-17"}
    assert_frame_equal(
        got.usage(),
        usage(
            {"account_id": "1001", **acme, "quantity": Decimal(42), "status": "active"}
            | {"product_id": "Complete", "product_name": "Complete"},
            {"account_id": "1002", "account_name": "Café Müller GmbH", "quantity": Decimal(7)}
            | {"product_id": "Control", "product_name": "Control", "status": "active"},
            {"account_id": "1003", "account_name": "Trial Co", "quantity": Decimal(5)}
            | {"product_id": "Complete", "product_name": "Complete", "status": "trial"},
            {"account_id": "1004", "account_name": "Gone Ltd", "quantity": Decimal(3)}
            | {"product_id": "Core", "product_name": "Core", "status": "expired"},
            {"account_id": "1005", "account_name": "Big Corp", "quantity": Decimal(120)}
            | {"product_id": "Complete", "product_name": "Complete", "status": "active"},
        ),
    )
    row = got.sites.row(0, named=True)
    assert row["parent_account_name"] == "Our MSP"
    assert row["updated_at"] == datetime(2026, 10, 2, 9, tzinfo=UTC)


def test_allocated_counts_licences_given_to_each_site() -> None:
    settings = SentinelOneSettings.from_values(
        {"console_url": CONSOLE, "api_token": "s1-t0ken", "count": "allocated"}
    )
    got = pull(FakeConsole(), settings=settings).usage()
    assert got.select("account_id", "quantity").rows() == [
        ("1001", Decimal(50)),
        ("1002", Decimal(10)),
        ("1003", Decimal(20)),
        ("1004", Decimal(3)),
        ("1005", Decimal(120)),  # unlimited: those in use
    ]


def test_only_active_paid_sites_count_in_the_engine() -> None:
    from engine.mapping import active_usage

    counted = active_usage(pull(FakeConsole()).usage().lazy()).collect()
    assert counted.select("account_id", "quantity").rows() == [
        ("1001", Decimal(42)),
        ("1002", Decimal(7)),
        ("1003", Decimal(0)),  # trial
        ("1004", Decimal(0)),  # expired
        ("1005", Decimal(120)),
    ]


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    fake = FakeConsole()
    fake.queue("YWdlbnRfaWQ6MTAwMg==", httpx.Response(429, headers={"Retry-After": "7"}))
    sleeps: list[float] = []
    got = pull(fake, sleeps)
    assert sleeps == [7.0]
    assert fake.cursors() == [
        "first",
        "YWdlbnRfaWQ6MTAwMg==",
        "YWdlbnRfaWQ6MTAwMg==",
        "YWdlbnRfaWQ6MTAwNA==",
    ]
    assert got.sites.height == 5


def test_a_500_on_a_read_is_tried_again() -> None:
    fake = FakeConsole()
    fake.queue("first", httpx.Response(500))
    sleeps: list[float] = []
    assert pull(fake, sleeps).sites.height == 5
    assert len(sleeps) == 1


def test_a_refused_token_says_to_make_a_new_one() -> None:
    fake = FakeConsole(token="another")
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.AUTH
    assert "SentinelOne refused the API token" in str(raised.value)
    assert "Service Users" in str(raised.value)
    assert len(fake.requests) == 1  # an API token is not refreshed: no second try
    assert "s1-t0ken" not in str(raised.value)


def test_the_token_goes_in_an_apitoken_header() -> None:
    fake = FakeConsole()
    pull(fake)
    assert {r.headers["Authorization"] for r in fake.requests} == {"ApiToken s1-t0ken"}


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        pytest.param(
            httpx.Response(200, text="<html>Sign in</html>"), "the reply is not JSON", id="html"
        ),
        pytest.param(httpx.Response(200, text='{"data": {"sites": ['), "not JSON", id="cut"),
        pytest.param(httpx.Response(200, json={"data": []}), "'data.sites'", id="no-sites"),
        pytest.param(
            httpx.Response(200, json={"data": {"sites": {"id": "1"}}}),
            "expected a list of records",
            id="sites-not-a-list",
        ),
    ],
)
def test_unexpected_pages_name_sentinelone_and_the_entity(reply: httpx.Response, says: str) -> None:
    fake = FakeConsole()
    fake.queue("YWdlbnRfaWQ6MTAwMg==", reply)
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith(
        "SentinelOne sent an unexpected reply from /web/api/v2.1/sites: "
    )
    assert says in str(raised.value)


def test_an_unexpected_record_names_sentinelone_the_entity_and_the_record() -> None:
    page = json.loads((FIXTURES / "sites-YWdlbnRfaWQ6MTAwNA==.json").read_text())
    page["data"]["sites"][0]["activeLicenses"] = "many"
    fake = FakeConsole()
    fake.pages["YWdlbnRfaWQ6MTAwNA=="] = page
    with pytest.raises(ConnectorError, match=r'^SentinelOne sites: the record 1005 has "active'):
        pull(fake)


def test_a_cursor_that_comes_round_again_stops_with_an_error() -> None:
    fake = FakeConsole()
    page = json.loads((FIXTURES / "sites-YWdlbnRfaWQ6MTAwNA==.json").read_text())
    page["pagination"]["nextCursor"] = "YWdlbnRfaWQ6MTAwMg=="
    fake.pages["YWdlbnRfaWQ6MTAwNA=="] = page
    with pytest.raises(ConnectorError, match="repeats an earlier cursor"):
        pull(fake)


def test_check_connection_reads_one_site() -> None:
    fake = FakeConsole()
    check_connection(SETTINGS, transport=fake.transport())
    assert [r.url.params["limit"] for r in fake.requests] == ["1"]


@pytest.mark.parametrize(
    "console",
    [
        "https://usea1-acme.sentinelone.net",
        "https://usea1-acme.sentinelone.net/",
        "https://usea1-acme.sentinelone.net/web/api/v2.1",
    ],
)
def test_the_console_address_gets_the_api_path_once(console: str) -> None:
    settings = SentinelOneSettings(console_url=console, api_token="t")
    assert settings.base_url == "https://usea1-acme.sentinelone.net/web/api/v2.1"


def test_the_token_never_shows_in_a_repr() -> None:
    assert "s1-t0ken" not in repr(SETTINGS)


@pytest.mark.parametrize(
    ("values", "says", "kind"),
    [
        ({"console_url": CONSOLE}, "SentinelOne needs api_token", ConnectorErrorKind.AUTH),
        ({"api_token": "t"}, "SentinelOne needs console_url", ConnectorErrorKind.AUTH),
        (
            {"console_url": CONSOLE, "api_token": "t", "count": "all"},
            'count = "all"',
            ConnectorErrorKind.REJECTED,
        ),
    ],
)
def test_settings_say_what_to_set(
    values: dict[str, str], says: str, kind: ConnectorErrorKind
) -> None:
    with pytest.raises(ConnectorError, match=says) as raised:
        SentinelOneSettings.from_values(values)
    assert raised.value.kind is kind
