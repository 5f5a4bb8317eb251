"""Pax8: records parsed into frames, and a full pull through a scripted MockTransport.

The fake Pax8 serves the JSON pages in tests/fixtures/pax8 (`{entity}-{page}.json`, pages of 2)
and the token endpoint; a test scripts failures by (path, page) before the pull.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import RetryPolicy
from connectors.vendors.pax8 import (
    COMMITMENTS,
    SUBSCRIPTION_CHANGES,
    Pax8Settings,
    check_connection,
    commitments_frame,
    diff_subscriptions,
    parse_companies,
    parse_products,
    parse_subscriptions,
    read_pax8,
    usage_frame,
)
from engine.schema import USAGE
from errors import ConnectorError, ConnectorErrorKind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pax8"
SETTINGS = Pax8Settings(client_id="id-1", client_secret="s3cret")
API = "https://api.pax8.com/v1"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakePax8:
    """A scripted Pax8: the token endpoint and the pages in FIXTURES, with failures queued per
    (entity, page). Tokens are "tok-1", "tok-2"...; `revoke()` makes the current one stale."""

    def __init__(self, pages: dict[tuple[str, int], Any] | None = None) -> None:
        self.pages = pages or {}
        self.queued: dict[tuple[str, int], list[Reply]] = {}
        self.requests: list[httpx.Request] = []
        self.tokens = 0
        self.token_bodies: list[dict[str, Any]] = []
        self.revoked: set[str] = set()
        self.token_reply: httpx.Response | None = None
        self.expires_in: float = 86400

    def queue(self, entity: str, page: int, *replies: Reply) -> None:
        self.queued.setdefault((entity, page), []).extend(replies)

    def revoke(self) -> None:
        self.revoked.add(f"tok-{self.tokens}")

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def gets(self, entity: str) -> list[int]:
        """The page numbers asked of `entity`, in order (retries included)."""
        return [
            int(r.url.params["page"])
            for r in self.requests
            if r.method == "GET" and r.url.path == f"/v1/{entity}"
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "token-manager.pax8.com":
            assert (request.method, request.url.path) == ("POST", "/oauth/token")
            self.token_bodies.append(json.loads(request.content))
            if self.token_reply is not None:
                return self.token_reply
            self.tokens += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{self.tokens}",
                    "expires_in": self.expires_in,
                    "token_type": "Bearer",
                },
            )
        assert request.url.host == "api.pax8.com"
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.revoked or not token.startswith("tok-"):
            return httpx.Response(401, json={"message": "token expired"})
        entity = request.url.path.removeprefix("/v1/")
        page = int(request.url.params["page"])
        queued = self.queued.get((entity, page))
        if queued:
            reply = queued.pop(0)
            return reply(request) if callable(reply) else reply
        if (entity, page) in self.pages:
            return httpx.Response(200, json=self.pages[entity, page])
        file = FIXTURES / f"{entity}-{page}.json"
        if not file.exists():
            return httpx.Response(200, json={"content": [], "page": {"totalPages": page}})
        return httpx.Response(200, content=file.read_bytes())


def pull(fake: FakePax8, sleeps: list[float] | None = None):
    sleep = sleeps.append if sleeps is not None else lambda _: None
    return read_pax8(
        SETTINGS,
        transport=fake.transport(),
        sleep=sleep,
        retry=RetryPolicy(attempts=3, budget=30),
        size=2,
    )


def usage(*rows: dict[str, Any]) -> pl.DataFrame:
    base = {"vendor": "Pax8", "distributor": "Pax8"}
    return pl.DataFrame([base | row for row in rows], schema=USAGE)


def subscription(**fields: Any) -> dict[str, Any]:
    record = {
        "id": "s-1",
        "companyId": "c-1",
        "productId": "p-1",
        "quantity": 1,
        "status": "Active",
    }
    return record | fields


# ---- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pax8", "status"),
    [
        ("Active", "active"),
        ("Cancelled", "cancelled"),
        ("Trial", "trial"),
        ("PendingCancel", "pending_cancel"),
        ("WaitingForDetails", "waiting_for_details"),
        ("PendingActivation", "pending_activation"),
        ("ACTIVE", "active"),
    ],
)
def test_statuses_are_pax8_words_in_snake_case(pax8: str, status: str) -> None:
    frame = parse_subscriptions([subscription(status=pax8)])
    assert frame["status"].to_list() == [status]


@pytest.mark.parametrize(
    ("pax8", "quantity"),
    [
        (12, "12"),
        (0, "0"),
        ("7", "7"),
        (2.5, "2.5"),
        (0.1, "0.1"),  # not 0.1000000000000000055511151231257827
        ("1.23456", "1.2346"),  # rounded half up to 4 places (DESIGN 4.9)
        (100000000, "100000000"),
    ],
)
def test_quantities_are_exact(pax8: Any, quantity: str) -> None:
    frame = parse_subscriptions([subscription(quantity=pax8)])
    assert frame["quantity"].to_list() == [Decimal(quantity)]


@pytest.mark.parametrize(
    ("fields", "term", "commitment", "end"),
    [
        ({"billingTerm": "Monthly"}, "Monthly", None, None),
        (
            {
                "billingTerm": "Annual",
                "commitmentTerm": {"term": "1-Year", "endDate": "2027-03-31"},
            },
            "Annual",
            "1-Year",
            date(2027, 3, 31),
        ),
        (
            {"billingTerm": "3-Year", "commitmentTerm": {"endDate": "2029-01-31T00:00:00Z"}},
            "3-Year",
            None,
            date(2029, 1, 31),
        ),
        ({"billingTerm": "Monthly", "commitmentTerm": None}, "Monthly", None, None),
        (
            {"billingTerm": "Annual", "commitmentTerm": {"term": "1-Year", "endDate": None}},
            "Annual",
            "1-Year",
            None,
        ),
        ({}, None, None, None),
    ],
)
def test_billing_terms_and_commitment_ends(
    fields: dict[str, Any], term: str | None, commitment: str | None, end: date | None
) -> None:
    frame = parse_subscriptions([subscription(**fields)])
    assert frame.select("billing_term", "commitment_term", "commitment_end").row(0) == (
        term,
        commitment,
        end,
    )


def test_companies_keep_external_id_website_and_update_time() -> None:
    frame = parse_companies(
        [
            {
                "id": "c-1",
                "name": "Acme",
                "externalId": "PSA-1",
                "website": "acme.example",
                "status": "Active",
                "updatedDate": "2026-10-01T10:00:00+02:00",
            },
            {"id": 42, "name": "Numbered", "status": "Inactive"},
        ]
    )
    assert frame.rows() == [
        ("c-1", "Acme", "PSA-1", "acme.example", "active", datetime(2026, 10, 1, 8, tzinfo=UTC)),
        ("42", "Numbered", None, None, "inactive", None),
    ]


def test_products_keep_sku_and_publisher() -> None:
    frame = parse_products(
        [
            {
                "id": "p-1",
                "name": "M365 BP",
                "sku": "MST-BP",
                "vendorSku": "CFQ7:0002",
                "vendorName": "Microsoft",
                "requiresCommitment": True,
            }
        ]
    )
    assert frame.rows() == [("p-1", "M365 BP", "MST-BP", "CFQ7:0002", "Microsoft", True)]


COMPANIES = parse_companies(
    [{"id": "c-1", "name": "Acme", "externalId": "PSA-1", "website": "acme.example"}]
)
PRODUCTS = parse_products([{"id": "p-1", "name": "M365 BP"}])
ACME = {
    "account_id": "c-1",
    "account_name": "Acme",
    "account_domain": "acme.example",
    "account_external_id": "PSA-1",
}


@pytest.mark.parametrize(
    ("subscriptions", "expected"),
    [
        pytest.param(
            [subscription(quantity=12, billingTerm="Annual")],
            [
                ACME
                | {
                    "product_id": "p-1",
                    "product_name": "M365 BP",
                    "quantity": Decimal(12),
                    "billing_term": "Annual",
                    "status": "active",
                }
            ],
            id="one-active",
        ),
        pytest.param(
            [
                subscription(id="s-1", quantity=12, billingTerm="Annual"),
                subscription(id="s-2", quantity=3, billingTerm="Monthly"),
                subscription(id="s-3", quantity=40, status="Cancelled", billingTerm="Monthly"),
            ],
            [
                ACME
                | {
                    "product_id": "p-1",
                    "product_name": "M365 BP",
                    "quantity": Decimal(15),
                    "billing_term": "Annual, Monthly",
                    "status": "active",
                }
            ],
            id="active-ones-add-up-cancelled-ignored",
        ),
        pytest.param(
            [
                subscription(id="s-2", quantity=3, status="PendingCancel"),
                subscription(id="s-1", quantity=4, status="Cancelled"),
            ],
            [
                ACME
                | {
                    "product_id": "p-1",
                    "product_name": "M365 BP",
                    "quantity": Decimal(7),
                    "status": "cancelled",
                }
            ],
            id="none-active-keeps-status-of-first-by-id",
        ),
        pytest.param(
            [subscription(productId="p-new", productName="New Thing", quantity=2)],
            [
                ACME
                | {
                    "product_id": "p-new",
                    "product_name": "New Thing",
                    "quantity": Decimal(2),
                    "status": "active",
                }
            ],
            id="unknown-product-named-by-subscription",
        ),
        pytest.param(
            [subscription(productId="p-new", quantity=2)],
            [
                ACME
                | {
                    "product_id": "p-new",
                    "product_name": None,
                    "quantity": Decimal(2),
                    "status": "active",
                }
            ],
            id="unknown-product-without-name",
        ),
        pytest.param(
            [subscription(companyId="c-new", quantity="2.5")],
            [
                {
                    "account_id": "c-new",
                    "product_id": "p-1",
                    "product_name": "M365 BP",
                    "quantity": Decimal("2.5"),
                    "status": "active",
                }
            ],
            id="unknown-company",
        ),
        pytest.param([], [], id="no-subscriptions"),
    ],
)
def test_usage_frame(subscriptions: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    got = usage_frame(COMPANIES, PRODUCTS, parse_subscriptions(subscriptions))
    assert_frame_equal(got, usage(*expected))


def test_a_record_read_twice_while_paging_counts_once() -> None:
    frame = parse_subscriptions(
        [
            subscription(id="s-1", quantity=3),
            subscription(id="s-2"),
            subscription(id="s-1", quantity=4),
        ]
    )
    assert frame.select("subscription_id", "quantity").rows() == [
        ("s-2", Decimal(1)),
        ("s-1", Decimal(4)),
    ]
    companies = parse_companies([{"id": "c-1", "name": "Old"}, {"id": "c-1", "name": "New"}])
    assert companies.select("account_id", "account_name").rows() == [("c-1", "New")]


def test_commitments_one_row_per_end_date_of_active_subscriptions() -> None:
    subscriptions = parse_subscriptions(
        [
            subscription(id="s-1", quantity=10, commitmentTerm={"endDate": "2027-03-31"}),
            subscription(id="s-2", quantity=5, commitmentTerm={"endDate": "2026-12-14"}),
            subscription(id="s-3", quantity=2, commitmentTerm={"endDate": "2027-03-31"}),
            subscription(
                id="s-4", quantity=9, status="Cancelled", commitmentTerm={"endDate": "2027-01-01"}
            ),
            subscription(id="s-5", quantity=1),
        ]
    )
    expected = pl.DataFrame(
        [
            {
                "vendor": "Pax8",
                "account_id": "c-1",
                "product_id": "p-1",
                "commitment_end": date(2026, 12, 14),
                "quantity": Decimal(5),
            },
            {
                "vendor": "Pax8",
                "account_id": "c-1",
                "product_id": "p-1",
                "commitment_end": date(2027, 3, 31),
                "quantity": Decimal(12),
            },
        ],
        schema=COMMITMENTS,
    )
    assert_frame_equal(commitments_frame(subscriptions), expected)


@pytest.mark.parametrize(
    ("record", "says"),
    [
        (subscription(quantity=None), 'the record s-1 has no "quantity"'),
        (subscription(quantity="ten"), "the record s-1 has \"quantity\" = 'ten', not a number"),
        (subscription(quantity=True), 'the record s-1 has "quantity" = True, not a number'),
        (subscription(quantity="NaN"), "not a number"),
        (subscription(companyId=None), 'the record s-1 has no "companyId"'),
        (subscription(status={"code": 1}), '"status" of type dict, not text'),
        (
            subscription(commitmentTerm={"endDate": "31/12/2026"}),
            "\"endDate\" = '31/12/2026', not a date",
        ),
        (subscription(commitmentTerm=[]), '"commitmentTerm" of type list, not an object'),
        (subscription(updatedDate="yesterday"), "not a date and time"),
        (
            {"companyId": "c-1", "productId": "p-1", "quantity": 1, "status": "Active"},
            'a record has no "id"',
        ),
        ("s-1", "item 0 is str, not an object"),
    ],
)
def test_unexpected_records_name_pax8_the_entity_and_the_record(record: Any, says: str) -> None:
    with pytest.raises(ConnectorError) as raised:
        parse_subscriptions([record])
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Pax8 subscriptions: ")
    assert says in str(raised.value)


# ---- the diff of two pulls (quick sync) ------------------------------------------------------


def test_diff_reports_added_changed_and_removed_subscriptions() -> None:
    before = parse_subscriptions(
        [
            subscription(id="s-1", quantity=10),
            subscription(id="s-2", quantity=5, billingTerm="Monthly"),
            subscription(id="s-3", quantity=1),
            subscription(id="s-4", quantity=2, updatedDate="2026-01-01T00:00:00Z"),
        ]
    )
    after = parse_subscriptions(
        [
            subscription(id="s-1", quantity=12),
            subscription(id="s-2", quantity=5, billingTerm="Annual", status="PendingCancel"),
            subscription(id="s-4", quantity=2, updatedDate="2026-02-01T00:00:00Z"),  # touched only
            subscription(id="s-5", quantity=3, productId="p-2"),
        ]
    )
    expected = pl.DataFrame(
        [
            {
                "subscription_id": "s-5",
                "change": "added",
                "fields": [],
                "account_id": "c-1",
                "product_id": "p-2",
                "quantity_after": Decimal(3),
                "status_after": "active",
            },
            {
                "subscription_id": "s-1",
                "change": "changed",
                "fields": ["quantity"],
                "account_id": "c-1",
                "product_id": "p-1",
                "quantity_before": Decimal(10),
                "quantity_after": Decimal(12),
                "status_before": "active",
                "status_after": "active",
            },
            {
                "subscription_id": "s-2",
                "change": "changed",
                "fields": ["status", "billing_term"],
                "account_id": "c-1",
                "product_id": "p-1",
                "quantity_before": Decimal(5),
                "quantity_after": Decimal(5),
                "status_before": "active",
                "status_after": "pending_cancel",
            },
            {
                "subscription_id": "s-3",
                "change": "removed",
                "fields": [],
                "account_id": "c-1",
                "product_id": "p-1",
                "quantity_before": Decimal(1),
                "status_before": "active",
            },
        ],
        schema=SUBSCRIPTION_CHANGES,
    )
    assert_frame_equal(diff_subscriptions(before, after), expected)


def test_diff_of_a_pull_with_itself_is_empty() -> None:
    subscriptions = parse_subscriptions([subscription(id="s-1"), subscription(id="s-2")])
    assert diff_subscriptions(subscriptions, subscriptions).is_empty()


def test_quick_sync_diffs_a_second_full_pull() -> None:
    first = pull(FakePax8())
    changed = json.loads((FIXTURES / "subscriptions-0.json").read_text())
    changed["content"][1]["quantity"] = 5
    second = pull(FakePax8({("subscriptions", 0): changed, ("subscriptions", 2): {"content": []}}))
    changes = diff_subscriptions(first.subscriptions, second.subscriptions)
    assert changes.select("subscription_id", "change", "fields").rows() == [
        ("s-2", "changed", ["quantity"]),
        ("s-5", "removed", []),
    ]


# ---- fetching --------------------------------------------------------------------------------


def test_a_full_pull_reads_every_page_of_every_entity() -> None:
    fake = FakePax8()
    got = pull(fake)
    assert {r.url.params["size"] for r in fake.requests if r.method == "GET"} == {"2"}
    assert fake.gets("companies") == [0, 1]
    assert fake.gets("products") == [0, 1]  # a full last page: one more, empty, ends it
    assert fake.gets("subscriptions") == [0, 1, 2]
    assert got.companies["account_id"].to_list() == ["c-acme", "c-cafe", "c-gone"]
    assert got.subscriptions["subscription_id"].to_list() == ["s-1", "s-2", "s-3", "s-4", "s-5"]
    acme = {
        "account_name": "Acme, Inc.",
        "account_domain": "www.acme.example",
        "account_external_id": "PSA-17",
    }
    cafe = {"account_name": "Café Müller GmbH"}
    assert_frame_equal(
        got.usage(),
        usage(
            {
                "account_id": "c-acme",
                **acme,
                "product_id": "p-defender",
                "product_name": "Microsoft Defender for Business",
                "quantity": Decimal(15),
                "billing_term": "Monthly",
                "status": "pending_cancel",
            },
            {
                "account_id": "c-acme",
                **acme,
                "product_id": "p-m365bp",
                "product_name": "Microsoft 365 Business Premium",
                "quantity": Decimal(15),
                "billing_term": "Annual, Monthly",
                "status": "active",
            },
            {
                "account_id": "c-cafe",
                **cafe,
                "product_id": "p-defender",
                "product_name": "Microsoft Defender for Business",
                "quantity": Decimal(7),
                "billing_term": "Monthly",
                "status": "active",
            },
            {
                "account_id": "c-cafe",
                **cafe,
                "product_id": "p-retired",
                "product_name": "Legacy Backup 500 GB",
                "quantity": Decimal(2),
                "billing_term": "Monthly",
                "status": "active",
            },
        ),
    )
    assert got.commitments().select("product_id", "commitment_end", "quantity").rows() == [
        ("p-m365bp", date(2026, 12, 14), Decimal(3)),
        ("p-m365bp", date(2027, 3, 31), Decimal(12)),
    ]


def test_the_token_is_fetched_once_and_reused() -> None:
    fake = FakePax8()
    pull(fake)
    assert fake.tokens == 1
    assert fake.token_bodies == [
        {
            "client_id": "id-1",
            "client_secret": "s3cret",
            "audience": "https://api.pax8.com",
            "grant_type": "client_credentials",
        }
    ]
    gets = [r for r in fake.requests if r.method == "GET"]
    assert len(gets) == 7
    assert {r.headers["Authorization"] for r in gets} == {"Bearer tok-1"}


def test_a_token_is_not_used_past_its_expires_in() -> None:
    fake = FakePax8()
    fake.expires_in = 1e-9  # expired as soon as it is issued: every request needs a new one
    pull(fake)
    gets = [r.headers["Authorization"] for r in fake.requests if r.method == "GET"]
    assert fake.tokens == len(gets) == 7
    assert gets == [f"Bearer tok-{n}" for n in range(1, 8)]


def test_a_401_fetches_a_new_token_once_and_carries_on() -> None:
    fake = FakePax8()

    def expire(request: httpx.Request) -> httpx.Response:
        fake.revoke()
        return httpx.Response(401, json={"message": "token expired"})

    fake.queue("subscriptions", 1, expire)
    got = pull(fake)
    assert fake.tokens == 2
    assert fake.gets("subscriptions") == [0, 1, 1, 2]
    assert got.subscriptions.height == 5


def test_credentials_refused_when_signing_in_say_so() -> None:
    fake = FakePax8()
    fake.token_reply = httpx.Response(401, json={"error": "access_denied"})
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.AUTH
    assert "Pax8 refused the client id and secret" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    fake = FakePax8()
    fake.queue("subscriptions", 1, httpx.Response(429, headers={"Retry-After": "7"}))
    sleeps: list[float] = []
    got = pull(fake, sleeps)
    assert sleeps == [7.0]
    assert fake.gets("subscriptions") == [0, 1, 1, 2]
    assert got.subscriptions.height == 5


def test_a_429_without_retry_after_backs_off() -> None:
    fake = FakePax8()
    fake.queue("companies", 0, httpx.Response(429), httpx.Response(503))
    sleeps: list[float] = []
    got = pull(fake, sleeps)
    assert len(sleeps) == 2 and all(0 <= s <= 30 for s in sleeps)
    assert got.companies.height == 3


def test_a_500_on_a_read_is_tried_again() -> None:
    fake = FakePax8()
    fake.queue("products", 0, httpx.Response(500))
    sleeps: list[float] = []
    got = pull(fake, sleeps)
    assert fake.gets("products") == [0, 0, 1]
    assert len(sleeps) == 1
    assert got.products.height == 2


def test_a_500_that_lasts_says_the_fault_is_pax8s() -> None:
    fake = FakePax8()
    fake.queue("products", 0, *[httpx.Response(500)] * 3)
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.SERVER
    assert "Pax8 failed with HTTP 500 at /v1/products (3 tries)" in str(raised.value)


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        pytest.param(
            httpx.Response(200, text="<html>Sign in</html>"), "the reply is not JSON", id="html"
        ),
        pytest.param(
            httpx.Response(200, text='{"content": [{"id": '),
            "the reply is not JSON",
            id="truncated",
        ),
        pytest.param(
            httpx.Response(200, json={"items": []}), "it has no 'content'", id="no-content"
        ),
        pytest.param(
            httpx.Response(200, json=[{"id": "s-1"}]), "its records could not be found", id="a-list"
        ),
        pytest.param(
            httpx.Response(200, json={"content": {"id": "s-1"}}),
            "expected a list of records",
            id="content-not-a-list",
        ),
    ],
)
def test_unexpected_pages_name_pax8_and_the_entity(reply: httpx.Response, says: str) -> None:
    fake = FakePax8()
    fake.queue("subscriptions", 1, reply)
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Pax8 sent an unexpected reply from /v1/subscriptions: ")
    assert says in str(raised.value)


def test_an_unexpected_record_in_a_page_names_pax8_the_entity_and_the_record() -> None:
    page = json.loads((FIXTURES / "subscriptions-1.json").read_text())
    del page["content"][1]["quantity"]
    with pytest.raises(
        ConnectorError, match=r'^Pax8 subscriptions: the record s-4 has no "quantity"'
    ):
        pull(FakePax8({("subscriptions", 1): page}))


@pytest.mark.parametrize(
    "answer",
    [{"token_type": "Bearer"}, {"access_token": "t", "expires_in": "soon"}, {"access_token": "t"}],
)
def test_a_token_reply_without_token_or_lifetime_is_a_schema_error(answer: dict[str, Any]) -> None:
    fake = FakePax8()
    fake.token_reply = httpx.Response(200, json=answer)
    with pytest.raises(ConnectorError, match=r"^Pax8 sign-in: the token reply") as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.SCHEMA


def test_check_connection_signs_in_and_reads_one_company() -> None:
    fake = FakePax8()
    fake.queue(
        "companies", 0, lambda r: httpx.Response(200, json={"content": [{"id": "c-1"}], "page": {}})
    )
    check_connection(SETTINGS, transport=fake.transport(), sleep=lambda _: None)
    assert [(r.method, r.url.host) for r in fake.requests] == [
        ("POST", "token-manager.pax8.com"),
        ("GET", "api.pax8.com"),
    ]


def test_base_urls_are_settings() -> None:
    settings = Pax8Settings.from_values(
        {
            "client_id": "i",
            "client_secret": "s",
            "base_url": "http://127.0.0.1:8080/v1",
            "token_url": "http://127.0.0.1:8080/oauth/token",
        }
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url}")
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 60})
        return httpx.Response(200, json={"content": [], "page": {"totalPages": 0}})

    check_connection(settings, transport=httpx.MockTransport(handler))
    assert seen == [
        "POST http://127.0.0.1:8080/oauth/token",
        "GET http://127.0.0.1:8080/v1/companies?page=0&size=1",
    ]


def test_the_secret_never_shows_in_a_repr() -> None:
    assert "s3cret" not in repr(SETTINGS)
    assert repr(SETTINGS).startswith("Pax8Settings(client_id='id-1', base_url=")


def test_settings_without_a_secret_say_what_to_set() -> None:
    with pytest.raises(ConnectorError, match="Pax8 needs client_secret") as raised:
        Pax8Settings.from_values({"client_id": "i"})
    assert raised.value.kind is ConnectorErrorKind.AUTH
