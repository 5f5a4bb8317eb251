"""Microsoft Partner Center (direct CSP): customers and their subscriptions, read into USAGE.

Each customer tenant is an account; each offer is a product; the quantity is the licences of the
customer's active subscriptions of it. A direct CSP partner buys from Microsoft itself, so the
`vendor` is "Microsoft" and `distributor` stays empty. Subscriptions with a commitment term (NCE)
give the COMMITMENTS frame, as Pax8's do. Parsing is pure (`parse_customers`,
`parse_subscriptions`, `usage_frame`, `commitments_frame`); `read_partnercenter` does the
fetching, through the shared HTTP layer, with a token from Microsoft Entra ID that `msal` fetches
(client credentials, App-only) unless the caller hands in its own `fetch_token`.

Assumptions taken from API-NOTES lines marked [L] (confirm against the live API):
- §5 Customers: `GET /v1/customers?size=` answers `{totalCount, items, links}` and pages with a
  continuation token: the next page is `links.next.uri` asked for with the headers listed in
  `links.next.headers` (`[{"key": "MS-ContinuationToken", "value": ...}]`); a reply without
  `links.next` is the last. The same is followed on a subscriptions reply should it ever have a
  `links.next`. `links.next.uri` may be relative to the API root or carry `/v1`; both are read.
- §5 Subscriptions: an NCE `offerId` is `ProductId:SkuId[:...]`; the product is its first two
  parts (what the reconciliation file calls ProductId and SkuId), so subscriptions bought on
  different availabilities of one SKU add up. A legacy `offerId` without ":" is the product.
- §8.2 tokens live about an hour: msal's `expires_in` is used as given.
Marked [V] and relied on: the token scope `https://api.partnercenter.microsoft.com/.default`,
App-only access to customers and subscriptions, the base URL and `MS-RequestId` /
`MS-CorrelationId` headers, `GET /v1/customers/{id}/subscriptions` and its field names, and the
limit of 500 requests a minute per tenant (TrueUp keeps `CONCURRENCY` requests in flight and
honours 429's Retry-After).
Choices of ours, not from the notes: only `unitType` "Licenses" (or none) counts as seats, so
Azure plans ("Usage-based") and "Benefit" subscriptions stay in the subscriptions frame only; a
trial (`isTrial`) is counted as status "trial", not active; `billing_term` is the
`termDuration` and `billingCycle`, e.g. "P1Y monthly".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import msal
import polars as pl

from connectors.http import ApiClient, RetryPolicy, Sleep, TokenAuth
from connectors.records import (
    TIMESTAMP,
    FieldReader,
    mappings,
    missing_settings,
    once,
    settings_of,
    vendor_error,
)
from engine.commitments import COMMITMENTS
from engine.schema import QUANTITY, USAGE, Schema, conform
from errors import ConnectorError, ConnectorErrorKind

VENDOR = "Microsoft"
"""The `vendor` of every row; `distributor` is empty (direct CSP)."""

NAME = "Microsoft Partner Center"
"""How messages name the source."""

PAGE_SIZE = 500
"""Customers asked for per page."""

CONCURRENCY = 4
"""Requests in flight at once, well under 500 a minute."""

SEAT_UNITS = ("licenses", "license")
"""`unitType` values (lower case) whose quantity is a count of seats."""

CUSTOMERS: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "account_domain": pl.String,
    "tenant_id": pl.String,
}
"""Partner Center customers: one row per customer tenant; `account_domain` is its default
domain (e.g. contoso.onmicrosoft.com)."""

SUBSCRIPTIONS: Schema = {
    "subscription_id": pl.String,
    "account_id": pl.String,
    "product_id": pl.String,
    "offer_id": pl.String,
    "offer_name": pl.String,
    "friendly_name": pl.String,
    "quantity": QUANTITY,
    "unit_type": pl.String,
    "status": pl.String,
    "is_trial": pl.Boolean,
    "billing_cycle": pl.String,
    "term_duration": pl.String,
    "commitment_end": pl.Date,
    "auto_renew": pl.Boolean,
    "parent_subscription_id": pl.String,
    "start_date": pl.Date,
    "created_at": TIMESTAMP,
}
"""Partner Center subscriptions: one row per subscription, every status. `status` is
Microsoft's word in lower case ("active", "suspended", "deleted", "expired", ...);
`billing_cycle` too ("monthly", "annual", ...); `term_duration` is ISO 8601 ("P1M", "P1Y")."""


@dataclass(frozen=True)
class PartnerCenterSettings:
    """Our partner tenant and its Entra ID app; the secret never shows in a repr or a log."""

    tenant_id: str
    app_id: str
    app_secret: str = field(repr=False)
    base_url: str = "https://api.partnercenter.microsoft.com/v1"
    authority: str = "https://login.microsoftonline.com"
    scope: str = "https://api.partnercenter.microsoft.com/.default"

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> PartnerCenterSettings:
        """Give back the settings from a source's values (`tenant_id`, `app_id`, `app_secret`,
        and optionally `base_url`, `authority`, `scope`)."""
        missing = missing_settings(values, ("tenant_id", "app_id", "app_secret"))
        if missing:
            raise ConnectorError(
                f"{NAME} needs {', '.join(missing)}: register a web app for the partner tenant "
                "in Partner Center (Account settings, App management), create a key (secret) "
                "for it, and set the tenant id, the app id and the secret on the source.",
                kind=ConnectorErrorKind.AUTH,
            )
        return settings_of(cls, values)


@dataclass(frozen=True)
class PartnerCenterPull:
    """One full pull of Partner Center: its customers and subscriptions frames."""

    customers: pl.DataFrame
    subscriptions: pl.DataFrame

    def usage(self) -> pl.DataFrame:
        """Give back the pull as a USAGE frame (see `usage_frame`)."""
        return usage_frame(self.customers, self.subscriptions)

    def commitments(self) -> pl.DataFrame:
        """Give back the seats under commitment (see `commitments_frame`)."""
        return commitments_frame(self.subscriptions)


# ---- parsing: Partner Center records to frames -----------------------------------------------


def parse_customers(records: Iterable[Any]) -> pl.DataFrame:
    """Give back one CUSTOMERS row per Partner Center customer record."""
    rows = []
    for record in mappings(records, "customers", schema_error):
        read = _Reader(record, "customers")
        profile = read.mapping("companyProfile")
        rows.append(
            {
                "account_id": read.text("id"),
                "account_name": profile.text("companyName", required=False),
                "account_domain": profile.text("domain", required=False),
                "tenant_id": profile.text("tenantId", required=False) or read.text("id"),
            }
        )
    return once(pl.DataFrame(rows, schema=CUSTOMERS), "account_id")


def parse_subscriptions(account_id: str, records: Iterable[Any]) -> pl.DataFrame:
    """Give back one SUBSCRIPTIONS row per subscription record of the customer `account_id`,
    whatever its status."""
    rows = []
    for record in mappings(records, "subscriptions", schema_error):
        read = _Reader(record, "subscriptions", owner=f"customer {account_id}")
        offer_id = read.text("offerId")
        assert offer_id is not None
        rows.append(
            {
                "subscription_id": read.text("id"),
                "account_id": account_id,
                "product_id": product_of(offer_id),
                "offer_id": offer_id,
                "offer_name": read.text("offerName", required=False),
                "friendly_name": read.text("friendlyName", required=False),
                "quantity": read.quantity("quantity"),
                "unit_type": read.text("unitType", required=False),
                "status": _lower(read.text("status")),
                "is_trial": read.flag("isTrial"),
                "billing_cycle": _lower(read.text("billingCycle", required=False)),
                "term_duration": read.text("termDuration", required=False),
                "commitment_end": read.date("commitmentEndDate"),
                "auto_renew": read.flag("autoRenewEnabled"),
                "parent_subscription_id": read.text("parentSubscriptionId", required=False),
                "start_date": read.date("effectiveStartDate"),
                "created_at": read.timestamp("creationDate"),
            }
        )
    return once(pl.DataFrame(rows, schema=SUBSCRIPTIONS), "subscription_id")


def product_of(offer_id: str) -> str:
    """Give back the product an offer is of: "ProductId:SkuId" of an NCE offer
    ("CFQ7TTC0LCHC:0002:..." -> "CFQ7TTC0LCHC:0002"), else the offer id itself."""
    parts = offer_id.split(":")
    return ":".join(parts[:2]) if len(parts) > 2 else offer_id


# ---- frames for the engine -------------------------------------------------------------------


def _seats(subscriptions: pl.DataFrame) -> pl.LazyFrame:
    """The licence subscriptions, with `status` "trial" for an active trial."""
    unit = pl.col("unit_type").str.to_lowercase()
    return (
        subscriptions.lazy()
        .filter(unit.is_null() | unit.is_in(SEAT_UNITS))
        .with_columns(
            pl.when((pl.col("status") == "active") & pl.col("is_trial").fill_null(False))
            .then(pl.lit("trial"))
            .otherwise("status")
            .alias("status")
        )
    )


def usage_frame(customers: pl.DataFrame, subscriptions: pl.DataFrame) -> pl.DataFrame:
    """Give back the USAGE frame: one row per Partner Center customer and product.

    Only licence subscriptions count (see SEAT_UNITS). Where some subscription of the pair is
    active, the quantity is that of the active ones and the status "active"; otherwise the
    quantity of them all with the status of the first (by id), which the engine counts as 0.
    `billing_term` lists the terms of the subscriptions counted ("P1Y monthly", ...); a
    customer missing from `customers` has no name.
    """
    key = ["account_id", "product_id"]
    active = pl.col("status") == "active"
    counted = active | active.any().over(key).not_()
    term = pl.concat_str(["term_duration", "billing_cycle"], separator=" ", ignore_nulls=True)
    terms = pl.col("term").filter("counted").drop_nulls().unique().sort()
    added_up = (
        _seats(subscriptions)
        .with_columns(counted.alias("counted"), pl.when(term != "").then(term).alias("term"))
        .group_by(key)
        .agg(
            pl.col("quantity").filter("counted").sum(),
            pl.when(active.any())
            .then(pl.lit("active"))
            .otherwise(pl.col("status").sort_by("subscription_id").first())
            .alias("status"),
            pl.when(terms.len() > 0).then(terms.str.join(", ")).alias("billing_term"),
            pl.col("offer_name").sort_by("subscription_id").drop_nulls().first(),
        )
    )
    accounts = customers.lazy().select("account_id", "account_name", "account_domain")
    usage = (
        added_up.join(accounts, on="account_id", how="left")
        .with_columns(
            pl.col("offer_name").alias("product_name"),
            pl.lit(VENDOR).alias("vendor"),
        )
        .sort(key)
    )
    return conform(usage, USAGE).collect()


def commitments_frame(subscriptions: pl.DataFrame) -> pl.DataFrame:
    """Give back COMMITMENTS: one row per customer, product and commitment end date, with the
    seats of the active licence subscriptions that end their commitment then."""
    committed = (
        _seats(subscriptions)
        .filter((pl.col("status") == "active") & pl.col("commitment_end").is_not_null())
        .group_by("account_id", "product_id", "commitment_end")
        .agg(pl.col("quantity").sum())
        .with_columns(pl.lit(VENDOR).alias("vendor"))
        .sort("account_id", "product_id", "commitment_end")
    )
    return conform(committed, COMMITMENTS).collect()


# ---- fetching ---------------------------------------------------------------------------------

FetchToken = Callable[[], tuple[str, float]]


def read_partnercenter(
    settings: PartnerCenterSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
    fetch_token: FetchToken | None = None,
    size: int = PAGE_SIZE,
) -> PartnerCenterPull:
    """Give back a full pull of Partner Center: every customer and every subscription of it.

    `transport` replaces the network, for msal's sign-in too (tests hand in an
    `httpx.MockTransport`); `fetch_token` replaces msal altogether; `sleep` is how the client
    waits before a retry.
    """
    with connect(
        settings, transport=transport, sleep=sleep, retry=retry, fetch_token=fetch_token
    ) as client:
        customers = parse_customers(fetch_all(client, "customers", params={"size": size}))

        def subscriptions_of(account_id: str) -> pl.DataFrame:
            records = fetch_all(client, f"customers/{account_id}/subscriptions")
            return parse_subscriptions(account_id, records)

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            frames = list(pool.map(subscriptions_of, customers["account_id"].to_list()))
    return PartnerCenterPull(customers, pl.concat([pl.DataFrame(schema=SUBSCRIPTIONS), *frames]))


def check_connection(
    settings: PartnerCenterSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    fetch_token: FetchToken | None = None,
) -> None:
    """Give back nothing when Entra ID signs us in and Partner Center lets us read a customer;
    else ConnectorError."""
    with connect(settings, transport=transport, sleep=sleep, fetch_token=fetch_token) as client:
        next(fetch_all(client, "customers", params={"size": 1}), None)


def connect(
    settings: PartnerCenterSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
    fetch_token: FetchToken | None = None,
) -> ApiClient:
    """Give back a client of the Partner Center API that signs itself in when it needs to."""

    def from_msal() -> tuple[str, float]:
        return msal_token(settings, transport=transport)

    return ApiClient(
        NAME,
        settings.base_url,
        auth=_PartnerCenterAuth(fetch_token or from_msal),
        headers={"Accept": "application/json", "MS-CorrelationId": str(uuid.uuid4())},
        transport=transport,
        sleep=sleep,
        retry=retry,
        concurrency=CONCURRENCY,
        # Every call we make is a read: a 500 is worth another try.
        retry_500=lambda response: True,
    )


class _SignInError(ConnectorError):
    """Entra ID would not sign us in (as opposed to Partner Center refusing the token)."""


class _PartnerCenterAuth(TokenAuth):
    """The bearer token, and a fresh `MS-RequestId` on every request Microsoft asks for."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["MS-RequestId"] = str(uuid.uuid4())
        yield from super().auth_flow(request)


def msal_token(
    settings: PartnerCenterSettings, *, transport: httpx.BaseTransport | None = None
) -> tuple[str, float]:
    """Give back a Partner Center token and its lifetime in seconds, from Entra ID through msal
    (client credentials); ConnectorError when Entra ID refuses or cannot be reached.

    A new msal application each time: msal answers client credentials from its cache and will
    not be forced past it, but a token Partner Center refused with a 401 needs replacing. Its
    HTTP goes through httpx, so `transport` reaches msal as well.
    """
    authority = f"{settings.authority.rstrip('/')}/{settings.tenant_id}"
    # msal asks login.microsoftonline.com about any sign-in host it does not know; one the
    # install sets itself (an on-premises proxy, a test's fake) is trusted as set.
    known = httpx.URL(settings.authority).host in msal.authority.WELL_KNOWN_AUTHORITY_HOSTS
    try:
        with httpx.Client(transport=transport, timeout=30.0) as http:
            app = msal.ConfidentialClientApplication(
                settings.app_id,
                client_credential=settings.app_secret,
                authority=authority,
                http_client=http,
                token_cache=msal.TokenCache(),
                instance_discovery=known,
            )
            answer = app.acquire_token_for_client(scopes=[settings.scope])
    except (ValueError, OSError, httpx.HTTPError, msal.exceptions.MsalError) as error:
        # msal raises ValueError for a tenant it cannot find, MsalServiceError for a 5xx.
        raise _SignInError(
            f"Could not sign in to Microsoft Entra ID at {settings.authority} for tenant "
            f"{settings.tenant_id} ({type(error).__name__}: {str(error)[:200]}). Check the "
            "tenant id on the source, and that this machine can reach Entra ID.",
            kind=ConnectorErrorKind.UNREACHABLE,
        ) from error
    if not isinstance(answer, Mapping):
        raise schema_error("sign-in", f"msal gave back {type(answer).__name__}")
    if "error" in answer:
        said = str(answer.get("error_description") or answer["error"]).splitlines()[0][:300]
        if answer["error"] == "temporarily_unavailable":
            raise _SignInError(
                f"Microsoft Entra ID is not signing in now ({said}). Try again later.",
                kind=ConnectorErrorKind.SERVER,
            )
        raise _SignInError(
            f"Microsoft Entra ID refused the app id and secret when signing in ({said}). Check "
            "the tenant id, app id and secret on the source: the secret may have expired "
            "(Partner Center, Account settings, App management).",
            kind=ConnectorErrorKind.AUTH,
        )
    token, lifetime = answer.get("access_token"), answer.get("expires_in")
    if not isinstance(token, str) or not token:
        raise schema_error("sign-in", "the token reply has no access_token")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        raise schema_error("sign-in", f"the token reply has expires_in = {lifetime!r}")
    return token, float(lifetime)


def fetch_all(
    client: ApiClient, path: str, *, params: Mapping[str, Any] | None = None
) -> Iterator[Any]:
    """Give back every record of `path`, page after page: each reply's `items`, following
    `links.next` (its URI, sent with its headers: the continuation token) until there is none."""
    response = _send(client, path, params=params)
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    while True:
        body = client.parse_json(response)
        where = response.request.url.path
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise client.schema_error(where, "it has no list of 'items'")
        yield from items
        following = _next_page(client, where, body)
        if following is None:
            return
        if following in seen:  # a continuation that comes round again would page for ever
            raise client.schema_error(where, "its next page is one already read")
        seen.add(following)
        uri, headers = following
        response = _send(client, uri, headers=dict(headers))


def _send(
    client: ApiClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """A GET through the client; a token Partner Center refuses even fresh says why."""
    try:
        return client.send("GET", path, params=params, headers=headers)
    except _SignInError:
        raise
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.AUTH:
            raise
        raise ConnectorError(
            f"{NAME} refused our token, even a new one (HTTP 401). Entra ID signed the app in, "
            "so check that the app is registered in Partner Center (Account settings, App "
            "management) and that the tenant id is the partner's own.",
            kind=ConnectorErrorKind.AUTH,
        ) from error


def _next_page(
    client: ApiClient, where: str, body: Mapping[str, Any]
) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The next page's URI (relative to the base URL) and headers, or None on the last page."""
    links = body.get("links")
    following = links.get("next") if isinstance(links, dict) else None
    if not following:
        return None
    uri = following.get("uri") if isinstance(following, dict) else None
    if not isinstance(uri, str) or not uri:
        raise client.schema_error(where, "'links.next' has no 'uri'")
    headers = following.get("headers") or []
    pairs = []
    for header in headers if isinstance(headers, list) else [headers]:
        key = header.get("key") if isinstance(header, dict) else None
        value = header.get("value") if isinstance(header, dict) else None
        if not isinstance(key, str) or not isinstance(value, str):
            raise client.schema_error(where, "'links.next.headers' are not key and value pairs")
        pairs.append((key, value))
    return _relative(client, uri), tuple(pairs)


def _relative(client: ApiClient, uri: str) -> str:
    """The URI's path and query relative to the base URL, whether it names the API root
    ("/customers?..."), the version ("/v1/customers?...") or the whole address: the token goes
    only to the configured server."""
    raw = httpx.URL(uri).raw_path.decode("ascii")
    base = client.base_url.raw_path.decode("ascii")  # "/v1/"
    if raw.startswith(base):
        raw = raw[len(base) :]
    return raw.lstrip("/")


# ---- reading one record ----------------------------------------------------------------------


def schema_error(entity: str, problem: str) -> ConnectorError:
    """Give back the error for a Partner Center answer TrueUp cannot read."""
    return vendor_error(NAME, "Microsoft", entity, problem)


def _lower(text: str | None) -> str | None:
    return None if text is None else text.lower()


class _Reader(FieldReader):
    """Reads the fields of one Partner Center record, naming the record (and its customer)."""

    def fail(self, entity: str, problem: str) -> ConnectorError:
        return schema_error(entity, problem)
