"""Datto SaaS Protection: domains and seats parsed into frames, and a full pull through a
scripted MockTransport.

The fake Datto serves tests/fixtures/dattosaas (`domains.json`, `seats-{saasCustomerId}.json`)
behind Basic auth; a test scripts failures per path before the pull.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import RetryPolicy
from connectors.vendors.dattosaas import (
    DattoSaasSettings,
    check_connection,
    parse_domains,
    parse_seats,
    read_dattosaas,
    usage_frame,
)
from engine.schema import USAGE
from errors import ConnectorError, ConnectorErrorKind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dattosaas"
SETTINGS = DattoSaasSettings(public_key="pub-1", secret_key="s3cret")


class FakeDatto:
    """A scripted Datto API: the files in FIXTURES, failures queued per path."""

    def __init__(self, keys: tuple[str, str] = ("pub-1", "s3cret")) -> None:
        self.basic = "Basic " + base64.b64encode(":".join(keys).encode()).decode()
        self.queued: dict[str, list[httpx.Response]] = {}
        self.bodies: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []

    def queue(self, path: str, *replies: httpx.Response) -> None:
        self.queued.setdefault(path, []).extend(replies)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.url.host == "api.datto.com"
        if request.headers.get("Authorization") != self.basic:
            return httpx.Response(401, json={"message": "Unauthorized"})
        path = request.url.path
        if self.queued.get(path):
            return self.queued[path].pop(0)
        if path in self.bodies:
            return httpx.Response(200, json=self.bodies[path])
        name = path.removeprefix("/v1/saas/")
        file = FIXTURES / (
            "domains.json" if name == "domains" else f"seats-{name.split('/')[0]}.json"
        )
        if not file.exists():
            return httpx.Response(404, json={"message": "Not found"})
        return httpx.Response(200, content=file.read_bytes())


def pull(fake: FakeDatto, sleeps: list[float] | None = None):
    sleep = sleeps.append if sleeps is not None else lambda _: None
    return read_dattosaas(
        SETTINGS, transport=fake.transport(), sleep=sleep, retry=RetryPolicy(attempts=3, budget=30)
    )


def seat(**fields: Any) -> dict[str, Any]:
    return {"mainId": "u-1", "seatType": "User", "seatState": "Active", "billable": 1} | fields


def usage(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([{"vendor": "Datto"} | row for row in rows], schema=USAGE)


# ---- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("billable", "counted"),
    [
        (1, True),
        (0, False),
        ("1", True),
        ("0", False),
        (True, True),
        (False, False),
        ("true", True),
        ("False", False),
    ],
)
def test_billable_as_datto_spells_it(billable: Any, counted: bool) -> None:
    assert parse_seats("1", [seat(billable=billable)])["billable"].to_list() == [counted]


@pytest.mark.parametrize(
    ("seats", "expected"),
    [
        pytest.param(
            [seat(mainId="a"), seat(mainId="b", seatState="Paused"), seat(mainId="c", billable=0)],
            [("User", "User", Decimal(2), "active")],
            id="billable-whatever-the-state",
        ),
        pytest.param(
            [seat(mainId="a", seatType="SharedMailbox"), seat(mainId="b", seatType="TeamSite")],
            [
                ("SharedMailbox", "Shared Mailbox", Decimal(1), "active"),
                ("TeamSite", "Team Site", Decimal(1), "active"),
            ],
            id="one-product-per-seat-type",
        ),
        pytest.param(
            [seat(mainId="a", seatType="Site", billable=False)],
            [("Site", "Site", Decimal(0), "not_billable")],
            id="none-billable-counts-zero",
        ),
        pytest.param(
            [seat(mainId="a"), seat(mainId="a", billable=0)],
            [("User", "User", Decimal(0), "not_billable")],
            id="a-seat-read-twice-counts-once",
        ),
        pytest.param([], [], id="no-seats"),
    ],
)
def test_usage_counts_billable_seats_per_type(
    seats: list[dict[str, Any]], expected: list[tuple[Any, ...]]
) -> None:
    domains = parse_domains([{"saasCustomerId": 7, "saasCustomerName": "Acme"}])
    got = usage_frame(domains, parse_seats("7", seats))
    assert got.select("product_id", "product_name", "quantity", "status").rows() == expected
    assert set(got["account_name"]) <= {"Acme"}


def test_a_domain_without_a_customer_name_is_named_by_its_domain() -> None:
    domains = parse_domains([{"saasCustomerId": 7, "domain": "acme.example"}])
    assert domains.row(0) == ("7", "acme.example", "acme.example", None, None)


@pytest.mark.parametrize(
    ("record", "says"),
    [
        (seat(billable=None), 'the record u-1 of domain 9 has no "billable"'),
        (seat(billable=2), 'the record u-1 of domain 9 has "billable" = 2, not true or false'),
        (seat(billable="yes"), "\"billable\" = 'yes', not true or false"),
        (seat(billable=1.0), '"billable" = 1.0, not true or false'),
        (seat(seatType=None), 'the record u-1 of domain 9 has no "seatType"'),
        (seat(seatType=["User"]), '"seatType" of type list, not text'),
        (seat(dateAdded="last week"), "not a date and time"),
        ({"seatType": "User", "billable": 1}, 'a record of domain 9 has no "mainId"'),
        ("u-1", "item 0 is str, not an object"),
    ],
)
def test_unexpected_seats_name_datto_the_entity_and_the_record(record: Any, says: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        parse_seats("9", [record])
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Datto SaaS Protection seats: ")
    assert says in str(raised.value)


def test_a_domain_without_its_id_names_datto_and_domains() -> None:
    with pytest.raises(ConnectorError, match=r'^Datto SaaS Protection domains: a record has no "s'):
        parse_domains([{"saasCustomerName": "Acme"}])


# ---- fetching --------------------------------------------------------------------------------


def test_a_full_pull_reads_the_domains_then_each_domains_seats() -> None:
    fake = FakeDatto()
    got = pull(fake)
    assert fake.paths()[0] == "/v1/saas/domains"
    assert sorted(fake.paths()[1:]) == [
        "/v1/saas/123456/seats",
        "/v1/saas/234567/seats",
        "/v1/saas/345678/seats",
    ]
    acme = {"account_id": "123456", "account_name": "Acme, Inc.", "account_domain": "acme.example"}
    cafe = {
        "account_id": "234567",
        "account_name": "Café Müller GmbH",
        "account_domain": "cafe-mueller.example",
    }
    assert_frame_equal(
        got.usage(),
        usage(
            acme
            | {"product_id": "SharedMailbox", "product_name": "Shared Mailbox"}
            | {"quantity": Decimal(2), "status": "active"},
            acme
            | {"product_id": "Site", "product_name": "Site"}
            | {"quantity": Decimal(0), "status": "not_billable"},
            acme
            | {"product_id": "TeamSite", "product_name": "Team Site"}
            | {"quantity": Decimal(0), "status": "not_billable"},
            acme
            | {"product_id": "User", "product_name": "User"}
            | {"quantity": Decimal(3), "status": "active"},  # active, paused, archived; not u-4
            cafe
            | {"product_id": "SharedDrive", "product_name": "Shared Drive"}
            | {"quantity": Decimal(1), "status": "active"},
            cafe
            | {"product_id": "User", "product_name": "User"}
            | {"quantity": Decimal(2), "status": "active"},
        ),
    )
    assert got.seats.height == 11
    assert got.domains["product_type"].to_list() == ["Office365", "GoogleApps", "Office365"]
    assert got.seats.filter(pl.col("seat_id") == "u-2")["seat_state"].to_list() == ["paused"]


def test_only_billable_seats_count_in_the_engine() -> None:
    from engine.mapping import active_usage

    counted = active_usage(pull(FakeDatto()).usage().lazy()).collect()
    assert counted["quantity"].sum() == Decimal(8)


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    fake = FakeDatto()
    fake.queue("/v1/saas/234567/seats", httpx.Response(429, headers={"Retry-After": "7"}))
    sleeps: list[float] = []
    got = pull(fake, sleeps)
    assert sleeps == [7.0]
    assert fake.paths().count("/v1/saas/234567/seats") == 2
    assert got.seats.height == 11


def test_a_500_on_a_read_is_tried_again() -> None:
    fake = FakeDatto()
    fake.queue("/v1/saas/domains", httpx.Response(500))
    sleeps: list[float] = []
    assert pull(fake, sleeps).domains.height == 3
    assert len(sleeps) == 1


def test_refused_keys_say_where_to_check_them() -> None:
    fake = FakeDatto(keys=("pub-1", "other"))
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.AUTH
    assert "Datto SaaS Protection refused the API keys" in str(raised.value)
    assert "Partner Portal" in str(raised.value)
    assert len(fake.requests) == 1
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    ("path", "reply", "says"),
    [
        pytest.param(
            "/v1/saas/domains",
            httpx.Response(200, text="<html>Sign in</html>"),
            "from /v1/saas/domains: the reply is not JSON",
            id="html",
        ),
        pytest.param(
            "/v1/saas/123456/seats",
            httpx.Response(200, text='[{"mainId": '),
            "from /v1/saas/123456/seats: the reply is not JSON",
            id="truncated",
        ),
        pytest.param(
            "/v1/saas/123456/seats",
            httpx.Response(200, json={"items": []}),
            "from /v1/saas/123456/seats: expected a list of records, got dict",
            id="an-object",
        ),
    ],
)
def test_unexpected_replies_name_datto_and_the_entity(
    path: str, reply: httpx.Response, says: str
) -> None:
    fake = FakeDatto()
    fake.queue(path, reply)
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Datto SaaS Protection sent an unexpected reply ")
    assert says in str(raised.value)


def test_an_unexpected_seat_names_the_domain_and_the_seat() -> None:
    seats = json.loads((FIXTURES / "seats-234567.json").read_text())
    del seats[2]["seatType"]
    fake = FakeDatto()
    fake.bodies["/v1/saas/234567/seats"] = seats
    with pytest.raises(ConnectorError, match='the record d-1 of domain 234567 has no "seatType"'):
        pull(fake)


def test_check_connection_lists_the_domains_only() -> None:
    fake = FakeDatto()
    check_connection(SETTINGS, transport=fake.transport())
    assert fake.paths() == ["/v1/saas/domains"]


def test_the_base_url_is_a_setting() -> None:
    settings = DattoSaasSettings.from_values(
        {"public_key": "p", "secret_key": "s", "base_url": "http://127.0.0.1:9/v1"}
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=[])

    check_connection(settings, transport=httpx.MockTransport(handler))
    assert seen == ["http://127.0.0.1:9/v1/saas/domains"]


def test_the_secret_never_shows_in_a_repr() -> None:
    assert "s3cret" not in repr(SETTINGS)


@pytest.mark.parametrize(
    ("values", "says"),
    [({"public_key": "p"}, "needs secret_key"), ({}, "needs public_key and secret_key")],
)
def test_settings_without_keys_say_what_to_set(values: dict[str, str], says: str) -> None:
    with pytest.raises(ConnectorError, match=says) as raised:
        DattoSaasSettings.from_values(values)
    assert raised.value.kind is ConnectorErrorKind.AUTH


def test_no_permission_is_not_taken_for_bad_keys() -> None:
    fake = FakeDatto()
    fake.queue("/v1/saas/domains", httpx.Response(403))
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.PERMISSION
