"""Microsoft Partner Center: records parsed into frames, and a full pull through a scripted
MockTransport that plays Entra ID's sign-in (for msal) and the Partner Center API.

The fake serves tests/fixtures/partnercenter: `customers-{token}.json` by the continuation
token sent ("first" without one), `subscriptions-{customer}.json`. Nothing reaches Microsoft:
msal's HTTP goes through the same MockTransport.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors.http import RetryPolicy
from connectors.vendors.partnercenter import (
    COMMITMENTS,
    PartnerCenterSettings,
    check_connection,
    commitments_frame,
    msal_token,
    parse_customers,
    parse_subscriptions,
    product_of,
    read_partnercenter,
    usage_frame,
)
from engine.schema import USAGE
from errors import ConnectorError, ConnectorErrorKind

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "partnercenter"
SETTINGS = PartnerCenterSettings(tenant_id="partner-tenant", app_id="app-1", app_secret="s3cret")
ACME = "0b1c0001-0000-4000-8000-00000000acme"
CAFE = "0b1c0002-0000-4000-8000-00000000cafe"
TRIAL = "0b1c0003-0000-4000-8000-0000000trial"
GONE = "0b1c0004-0000-4000-8000-000000000gone"
BP = "CFQ7TTC0LCHC:0002"
DEFENDER = "CFQ7TTC0HCHC:0001"

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeMicrosoft:
    """Entra ID's token endpoint (as msal uses it) and the Partner Center API, scripted.

    Tokens are "tok-1", "tok-2"...; `revoke()` makes the current one stale; failures are queued
    per key: "token", "customers:{continuation}" or "subscriptions:{customer}".
    """

    def __init__(self) -> None:
        self.queued: dict[str, list[Reply]] = {}
        self.bodies: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []
        self.token_forms: list[dict[str, list[str]]] = []
        self.tokens = 0
        self.revoked: set[str] = set()

    def queue(self, key: str, *replies: Reply) -> None:
        self.queued.setdefault(key, []).extend(replies)

    def revoke(self) -> None:
        self.revoked.add(f"tok-{self.tokens}")

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def api(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "api.partnercenter.microsoft.com"]

    def continuations(self) -> list[str]:
        return [
            r.headers.get("MS-ContinuationToken", "first")
            for r in self.api()
            if r.url.path == "/v1/customers"
        ]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "login.microsoftonline.com":
            return self.sign_in(request)
        assert request.url.host == "api.partnercenter.microsoft.com"
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.revoked or not token.startswith("tok-"):
            return httpx.Response(401, json={"code": 401, "description": "token expired"})
        path = request.url.path.removeprefix("/v1/")
        if path == "customers":
            key = f"customers:{request.headers.get('MS-ContinuationToken', 'first')}"
        else:
            key = f"subscriptions:{path.split('/')[1]}"
        reply = self.queued.get(key, []).pop(0) if self.queued.get(key) else None
        if reply is not None:
            return reply(request) if callable(reply) else reply
        if key in self.bodies:
            return httpx.Response(200, json=self.bodies[key])
        return httpx.Response(
            200, content=(FIXTURES / f"{key.replace(':', '-')}.json").read_bytes()
        )

    def sign_in(self, request: httpx.Request) -> httpx.Response:
        tenant = request.url.path.split("/")[1]
        if request.url.path.endswith("/openid-configuration"):
            root = f"https://login.microsoftonline.com/{tenant}"
            return httpx.Response(
                200,
                json={
                    "token_endpoint": f"{root}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                    "issuer": f"{root}/v2.0",
                },
            )
        if "discovery/instance" in request.url.path:  # msal looks this up after an error
            return httpx.Response(200, json={"tenant_discovery_endpoint": "", "metadata": []})
        assert request.url.path == f"/{tenant}/oauth2/v2.0/token"
        self.token_forms.append(parse_qs(request.content.decode()))
        reply = self.queued.get("token", []).pop(0) if self.queued.get("token") else None
        if reply is not None:
            return reply(request) if callable(reply) else reply
        self.tokens += 1
        return httpx.Response(
            200,
            json={"access_token": f"tok-{self.tokens}", "expires_in": 3599, "token_type": "Bearer"},
        )


def pull(fake: FakeMicrosoft, sleeps: list[float] | None = None, **options: Any):
    sleep = sleeps.append if sleeps is not None else lambda _: None
    return read_partnercenter(
        SETTINGS,
        transport=fake.transport(),
        sleep=sleep,
        retry=RetryPolicy(attempts=3, budget=30),
        size=2,
        **options,
    )


def subscription(**fields: Any) -> dict[str, Any]:
    record = {
        "id": "sub-1",
        "offerId": f"{BP}:CFQ7TTC0N8SS",
        "offerName": "Microsoft 365 Business Premium",
        "quantity": 1,
        "unitType": "Licenses",
        "status": "active",
        "billingCycle": "monthly",
        "termDuration": "P1M",
    }
    return record | fields


def usage(*rows: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([{"vendor": "Microsoft"} | row for row in rows], schema=USAGE)


# ---- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "product"),
    [
        ("CFQ7TTC0LCHC:0002:CFQ7TTC0N8SS", "CFQ7TTC0LCHC:0002"),
        ("CFQ7TTC0LCHC:0002:CFQ7TTC0N8SS:extra", "CFQ7TTC0LCHC:0002"),
        ("CFQ7TTC0LCHC:0002", "CFQ7TTC0LCHC:0002"),
        ("031C9E47-4802-4248-838E-778FB1D2CC05", "031C9E47-4802-4248-838E-778FB1D2CC05"),
    ],
)
def test_the_product_is_the_product_and_sku_of_an_offer(offer: str, product: str) -> None:
    assert product_of(offer) == product


@pytest.mark.parametrize(
    ("quantity", "exact"),
    [(12, "12"), (0, "0"), ("7", "7"), (2.5, "2.5"), (0.1, "0.1"), ("1.23456", "1.2346")],
)
def test_quantities_are_exact(quantity: Any, exact: str) -> None:
    frame = parse_subscriptions("c", [subscription(quantity=quantity)])
    assert frame["quantity"].to_list() == [Decimal(exact)]


def test_a_subscription_keeps_its_status_billing_cycle_term_and_commitment() -> None:
    frame = parse_subscriptions(
        "c",
        [
            subscription(
                status="Suspended",
                billingCycle="Annual",
                termDuration="P1Y",
                commitmentEndDate="2027-03-31T00:00:00Z",
                effectiveStartDate="2026-04-01T00:00:00Z",
                creationDate="2026-04-01T10:00:00+02:00",
                isTrial=False,
                autoRenewEnabled=True,
                parentSubscriptionId="sub-0",
            )
        ],
    )
    row = frame.row(0, named=True)
    assert row | {"quantity": None} == {
        "subscription_id": "sub-1",
        "account_id": "c",
        "product_id": BP,
        "offer_id": f"{BP}:CFQ7TTC0N8SS",
        "offer_name": "Microsoft 365 Business Premium",
        "friendly_name": None,
        "quantity": None,
        "unit_type": "Licenses",
        "status": "suspended",
        "is_trial": False,
        "billing_cycle": "annual",
        "term_duration": "P1Y",
        "commitment_end": date(2027, 3, 31),
        "auto_renew": True,
        "parent_subscription_id": "sub-0",
        "start_date": date(2026, 4, 1),
        "created_at": datetime(2026, 4, 1, 8, tzinfo=UTC),
    }


def test_customers_keep_name_domain_and_tenant() -> None:
    frame = parse_customers(
        [
            {
                "id": "t-1",
                "companyProfile": {
                    "tenantId": "t-1",
                    "domain": "acme.onmicrosoft.com",
                    "companyName": "Acme",
                },
            },
            {"id": "t-2"},
        ]
    )
    assert frame.rows() == [
        ("t-1", "Acme", "acme.onmicrosoft.com", "t-1"),
        ("t-2", None, None, "t-2"),
    ]


CUSTOMERS = parse_customers(
    [{"id": "c", "companyProfile": {"companyName": "Acme", "domain": "acme.onmicrosoft.com"}}]
)
NAMED = {"account_id": "c", "account_name": "Acme", "account_domain": "acme.onmicrosoft.com"}
M365 = {"product_id": BP, "product_name": "Microsoft 365 Business Premium"}
MONTHLY = {"billing_term": "P1M monthly"}


@pytest.mark.parametrize(
    ("subscriptions", "expected"),
    [
        pytest.param(
            [
                subscription(id="s-1", quantity=12, billingCycle="annual", termDuration="P1Y"),
                subscription(id="s-2", quantity=3, offerId=f"{BP}:OTHER"),
                subscription(id="s-3", quantity=40, status="suspended"),
            ],
            [
                NAMED
                | M365
                | {
                    "quantity": Decimal(15),
                    "status": "active",
                    "billing_term": "P1M monthly, P1Y annual",
                }
            ],
            id="active-ones-add-up-suspended-ignored",
        ),
        pytest.param(
            [subscription(id="s-2", status="deleted"), subscription(id="s-1", status="suspended")],
            [NAMED | M365 | {"quantity": Decimal(2), "status": "suspended"} | MONTHLY],
            id="none-active-keeps-status-of-first-by-id",
        ),
        pytest.param(
            [subscription(quantity=25, isTrial=True)],
            [NAMED | M365 | {"quantity": Decimal(25), "status": "trial"} | MONTHLY],
            id="a-trial-is-not-active",
        ),
        pytest.param(
            [subscription(unitType="Usage-based", offerName="Azure plan")],
            [],
            id="usage-based-is-not-seats",
        ),
        pytest.param(
            [subscription(termDuration=None, billingCycle=None, unitType=None)],
            [NAMED | M365 | {"quantity": Decimal(1), "status": "active"}],
            id="no-term-no-unit-type",
        ),
        pytest.param([], [], id="no-subscriptions"),
    ],
)
def test_usage_frame(subscriptions: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    got = usage_frame(CUSTOMERS, parse_subscriptions("c", subscriptions))
    assert_frame_equal(got, usage(*expected))


def test_commitments_one_row_per_end_date_of_active_licence_subscriptions() -> None:
    subscriptions = parse_subscriptions(
        "c",
        [
            subscription(id="s-1", quantity=10, commitmentEndDate="2027-03-31T00:00:00Z"),
            subscription(id="s-2", quantity=5, commitmentEndDate="2026-12-14T00:00:00Z"),
            subscription(id="s-3", quantity=2, commitmentEndDate="2027-03-31T00:00:00Z"),
            subscription(id="s-4", quantity=9, status="suspended", commitmentEndDate="2027-01-01"),
            subscription(id="s-5", quantity=8, isTrial=True, commitmentEndDate="2027-01-01"),
            subscription(id="s-6", quantity=1),
        ],
    )
    expected = pl.DataFrame(
        [
            {
                "vendor": "Microsoft",
                "account_id": "c",
                "product_id": BP,
                "commitment_end": date(2026, 12, 14),
                "quantity": Decimal(5),
            },
            {
                "vendor": "Microsoft",
                "account_id": "c",
                "product_id": BP,
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
        (subscription(quantity=None), 'the record sub-1 of customer c has no "quantity"'),
        (subscription(quantity="ten"), "\"quantity\" = 'ten', not a number"),
        (subscription(quantity=True), '"quantity" = True, not a number'),
        (subscription(offerId=None), 'the record sub-1 of customer c has no "offerId"'),
        (subscription(status=None), 'has no "status"'),
        (subscription(isTrial="no"), "\"isTrial\" = 'no', not true or false"),
        (subscription(commitmentEndDate="31/12/2026"), "not a date"),
        (subscription(creationDate="yesterday"), "not a date and time"),
        (
            {k: v for k, v in subscription().items() if k != "id"},
            'a record of customer c has no "id"',
        ),
        (["sub-1"], "item 0 is list, not an object"),
    ],
)
def test_unexpected_records_name_microsoft_the_entity_and_the_record(
    record: Any, says: str
) -> None:
    with pytest.raises(ConnectorError) as raised:
        parse_subscriptions("c", [record])
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Microsoft Partner Center subscriptions: ")
    assert says in str(raised.value)


def test_a_customer_profile_of_the_wrong_type_names_the_customer() -> None:
    with pytest.raises(ConnectorError, match='customers: the record t-1 has "companyProfile" of'):
        parse_customers([{"id": "t-1", "companyProfile": "Acme"}])


# ---- fetching --------------------------------------------------------------------------------


def test_a_full_pull_follows_continuation_tokens_and_reads_each_customer() -> None:
    fake = FakeMicrosoft()
    got = pull(fake)
    assert fake.continuations() == ["first", "page-2", "page-3"]
    assert [r.url.params.get("seekOperation") for r in fake.api()[:3]] == [None, "Next", "Next"]
    assert {r.url.params["size"] for r in fake.api()[:3]} == {"2"}
    assert len(fake.api()) == 3 + 5  # three pages of customers, then each one's subscriptions
    acme = {
        "account_id": ACME,
        "account_name": "Acme, Inc.",
        "account_domain": "acme.onmicrosoft.com",
    }
    cafe = {
        "account_id": CAFE,
        "account_name": "Café Müller GmbH",
        "account_domain": "cafemueller.onmicrosoft.com",
    }
    trial = {
        "account_id": TRIAL,
        "account_name": "Trial Co",
        "account_domain": "trialco.onmicrosoft.com",
    }
    gone = {
        "account_id": GONE,
        "account_name": "Gone Ltd",
        "account_domain": "gone.onmicrosoft.com",
    }
    bp = {"product_id": BP, "product_name": "Microsoft 365 Business Premium"}
    defender = {"product_id": DEFENDER, "product_name": "Microsoft Defender for Business"}
    monthly = {"billing_term": "P1M monthly"}
    assert_frame_equal(
        got.usage(),
        usage(
            acme
            | {
                "product_id": "031C9E47-4802-4248-838E-778FB1D2CC05",
                "product_name": "Office 365 E3",
            }
            | monthly
            | {"quantity": Decimal(2), "status": "active"},
            acme
            | bp
            | {"quantity": Decimal(15), "status": "active"}
            | {"billing_term": "P1M monthly, P1Y annual"},
            cafe | defender | monthly | {"quantity": Decimal(7), "status": "active"},
            cafe
            | {"product_id": "CFQ7TTC0QH1G:0001", "product_name": "Microsoft Teams Essentials"}
            | monthly
            | {"quantity": Decimal(25), "status": "trial"},
            trial | bp | monthly | {"quantity": Decimal(25), "status": "trial"},
            gone | defender | monthly | {"quantity": Decimal(5), "status": "deleted"},
            gone | bp | monthly | {"quantity": Decimal(5), "status": "suspended"},
        ),
    )
    assert got.usage()["distributor"].null_count() == got.usage().height  # direct CSP
    assert got.commitments().select(
        "account_id", "product_id", "commitment_end", "quantity"
    ).rows() == [
        (ACME, "031C9E47-4802-4248-838E-778FB1D2CC05", date(2026, 12, 1), Decimal(2)),
        (ACME, BP, date(2026, 12, 14), Decimal(3)),
        (ACME, BP, date(2027, 3, 31), Decimal(12)),
        (CAFE, DEFENDER, date(2026, 12, 9), Decimal(7)),
    ]
    assert "sub-4" in got.subscriptions["subscription_id"].to_list()  # Azure plan kept, not counted


def test_only_active_licences_count_in_the_engine() -> None:
    from engine.mapping import active_usage

    counted = active_usage(pull(FakeMicrosoft()).usage().lazy()).collect()
    assert counted["quantity"].sum() == Decimal(2 + 15 + 7)


def test_msal_signs_in_once_with_client_credentials_for_partner_center() -> None:
    fake = FakeMicrosoft()
    pull(fake)
    assert fake.tokens == 1
    assert fake.token_forms == [
        {
            "client_id": ["app-1"],
            "client_secret": ["s3cret"],
            "grant_type": ["client_credentials"],
            "client_info": ["1"],
            "scope": ["https://api.partnercenter.microsoft.com/.default"],
        }
    ]
    sign_in = [r for r in fake.requests if r.url.host == "login.microsoftonline.com"]
    assert all(r.url.path.startswith("/partner-tenant/") for r in sign_in)
    assert {r.headers["Authorization"] for r in fake.api()} == {"Bearer tok-1"}


def test_every_request_carries_a_request_id_and_one_correlation_id() -> None:
    fake = FakeMicrosoft()
    pull(fake)
    requests = fake.api()
    assert len({r.headers["MS-RequestId"] for r in requests}) == len(requests)
    assert len({r.headers["MS-CorrelationId"] for r in requests}) == 1
    assert {r.headers["Accept"] for r in requests} == {"application/json"}


def test_a_401_fetches_a_new_token_once_and_carries_on() -> None:
    fake = FakeMicrosoft()

    def revoke_then_page(request: httpx.Request) -> httpx.Response:
        fake.revoke()
        return httpx.Response(401, json={"code": 401})

    fake.queue("customers:page-2", revoke_then_page)
    got = pull(fake)
    assert fake.tokens == 2
    assert fake.continuations() == ["first", "page-2", "page-2", "page-3"]
    assert got.customers.height == 5


def test_a_token_refused_twice_says_the_credentials_are_wrong() -> None:
    fake = FakeMicrosoft()
    fake.queue("customers:first", *[httpx.Response(401)] * 2)
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.AUTH
    assert "refused our token, even a new one" in str(raised.value)
    assert "App management" in str(raised.value)
    assert fake.tokens == 2


def test_an_injected_token_fetch_replaces_msal() -> None:
    fake = FakeMicrosoft()
    fetched: list[int] = []

    def fetch() -> tuple[str, float]:
        fetched.append(1)
        return "tok-injected", 3600.0

    got = pull(fake, fetch_token=fetch)
    assert fetched == [1]
    assert not [r for r in fake.requests if r.url.host == "login.microsoftonline.com"]
    assert {r.headers["Authorization"] for r in fake.api()} == {"Bearer tok-injected"}
    assert got.customers.height == 5


def test_a_refused_secret_says_to_check_the_app_and_secret() -> None:
    fake = FakeMicrosoft()
    refused = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x",
    }
    fake.queue("token", httpx.Response(401, json=refused))
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.AUTH
    assert "refused the app id and secret" in str(raised.value)
    assert "AADSTS7000215: Invalid client secret provided." in str(raised.value)
    assert "Trace ID" not in str(raised.value)
    assert "s3cret" not in str(raised.value)
    assert not fake.api()


def test_entra_id_failing_says_so() -> None:
    fake = FakeMicrosoft()
    fake.queue("token", httpx.Response(500, text="oops"))
    with pytest.raises(ConnectorError, match="Could not sign in to Microsoft Entra ID") as raised:
        msal_token(SETTINGS, transport=fake.transport())
    assert raised.value.kind is ConnectorErrorKind.UNREACHABLE


def test_a_429_waits_as_long_as_retry_after_says() -> None:
    fake = FakeMicrosoft()
    fake.queue(f"subscriptions:{CAFE}", httpx.Response(429, headers={"Retry-After": "7"}))
    sleeps: list[float] = []
    got = pull(fake, sleeps)
    assert sleeps == [7.0]
    assert [r.url.path for r in fake.api()].count(f"/v1/customers/{CAFE}/subscriptions") == 2
    assert got.subscriptions.height == 10


def test_a_500_on_a_read_is_tried_again() -> None:
    fake = FakeMicrosoft()
    fake.queue("customers:page-3", httpx.Response(500))
    sleeps: list[float] = []
    assert pull(fake, sleeps).customers.height == 5
    assert len(sleeps) == 1


@pytest.mark.parametrize(
    ("key", "reply", "says"),
    [
        pytest.param(
            "customers:page-2",
            httpx.Response(200, text="<html>Sign in</html>"),
            "from /v1/customers: the reply is not JSON",
            id="html",
        ),
        pytest.param(
            f"subscriptions:{ACME}",
            httpx.Response(200, text='{"items": [{"id": '),
            f"from /v1/customers/{ACME}/subscriptions: the reply is not JSON",
            id="truncated",
        ),
        pytest.param(
            "customers:first",
            httpx.Response(200, json={"value": []}),
            "from /v1/customers: it has no list of 'items'",
            id="no-items",
        ),
        pytest.param(
            "customers:first",
            httpx.Response(200, json={"items": [], "links": {"next": {"headers": []}}}),
            "'links.next' has no 'uri'",
            id="next-without-uri",
        ),
        pytest.param(
            "customers:first",
            httpx.Response(
                200, json={"items": [], "links": {"next": {"uri": "/customers", "headers": ["x"]}}}
            ),
            "'links.next.headers' are not key and value pairs",
            id="bad-headers",
        ),
    ],
)
def test_unexpected_pages_name_microsoft_and_the_entity(
    key: str, reply: httpx.Response, says: str
) -> None:
    fake = FakeMicrosoft()
    fake.queue(key, reply)
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Microsoft Partner Center sent an unexpected reply ")
    assert says in str(raised.value)


def test_an_unexpected_subscription_names_the_customer_and_the_subscription() -> None:
    body = json.loads((FIXTURES / f"subscriptions-{CAFE}.json").read_text())
    body["items"][1]["quantity"] = "lots"
    fake = FakeMicrosoft()
    fake.bodies[f"subscriptions:{CAFE}"] = body
    with pytest.raises(ConnectorError, match=f'the record sub-7 of customer {CAFE} has "quantity"'):
        pull(fake)


def test_a_continuation_that_comes_round_again_stops_with_an_error() -> None:
    body = json.loads((FIXTURES / "customers-page-3.json").read_text())
    body["links"]["next"] = {
        "uri": "/customers?size=2&seekOperation=Next",
        "headers": [{"key": "MS-ContinuationToken", "value": "page-2"}],
    }
    fake = FakeMicrosoft()
    fake.bodies["customers:page-3"] = body
    with pytest.raises(ConnectorError, match="its next page is one already read"):
        pull(fake)


def test_a_next_page_on_another_host_is_asked_of_the_configured_one() -> None:
    body = json.loads((FIXTURES / "customers-first.json").read_text())
    body["links"]["next"]["uri"] = "https://internal.example/v1/customers?size=2&seekOperation=Next"
    fake = FakeMicrosoft()
    fake.bodies["customers:first"] = body
    assert pull(fake).customers.height == 5
    assert {r.url.host for r in fake.requests} == {
        "api.partnercenter.microsoft.com",
        "login.microsoftonline.com",
    }


def test_check_connection_signs_in_and_reads_one_customer() -> None:
    fake = FakeMicrosoft()
    check_connection(SETTINGS, transport=fake.transport())
    assert [r.url.params["size"] for r in fake.api()] == ["1"]
    assert fake.tokens == 1


def test_base_urls_are_settings() -> None:
    settings = PartnerCenterSettings.from_values(
        {
            "tenant_id": "t",
            "app_id": "a",
            "app_secret": "s",
            "base_url": "http://127.0.0.1:9/v1",
            "authority": "https://login.microsoftonline.com",
        }
    )
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"items": []})

    check_connection(
        settings, transport=httpx.MockTransport(handler), fetch_token=lambda: ("t", 60)
    )
    assert seen == ["http://127.0.0.1:9/v1/customers?size=1"]


def test_the_secret_never_shows_in_a_repr() -> None:
    assert "s3cret" not in repr(SETTINGS)


def test_settings_without_credentials_say_what_to_set() -> None:
    with pytest.raises(ConnectorError, match="needs app_id, app_secret") as raised:
        PartnerCenterSettings.from_values({"tenant_id": "t"})
    assert raised.value.kind is ConnectorErrorKind.AUTH


def test_entra_id_busy_says_try_later() -> None:
    fake = FakeMicrosoft()
    busy = {"error": "temporarily_unavailable", "error_description": "AADSTS50196: busy"}
    fake.queue("token", httpx.Response(400, json=busy))
    with pytest.raises(ConnectorError, match="not signing in now") as raised:
        msal_token(SETTINGS, transport=fake.transport())
    assert raised.value.kind is ConnectorErrorKind.SERVER


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        ({"token_type": "Bearer", "expires_in": 3599}, "no access_token"),
        ({"access_token": "tok", "expires_in": 0}, "expires_in = 0"),
    ],
)
def test_a_token_reply_without_token_or_lifetime_is_a_schema_error(
    answer: dict[str, Any], says: str
) -> None:
    fake = FakeMicrosoft()
    fake.queue("token", httpx.Response(200, json=answer))
    with pytest.raises(ConnectorError, match=says) as raised:
        msal_token(SETTINGS, transport=fake.transport())
    assert raised.value.kind is ConnectorErrorKind.SCHEMA
    assert str(raised.value).startswith("Microsoft Partner Center sign-in: ")


def test_no_permission_is_not_taken_for_bad_credentials() -> None:
    fake = FakeMicrosoft()
    fake.queue("customers:first", httpx.Response(403))
    with pytest.raises(ConnectorError) as raised:
        pull(fake)
    assert raised.value.kind is ConnectorErrorKind.PERMISSION


def test_a_company_name_of_the_wrong_type_names_the_customer() -> None:
    record = {"id": "t-1", "companyProfile": {"companyName": {"en": "Acme"}}}
    with pytest.raises(ConnectorError, match='the record t-1 has "companyName" of type dict'):
        parse_customers([record])
