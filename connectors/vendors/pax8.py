"""Pax8: companies, products and subscriptions, read into the engine's USAGE frame.

Pax8 is a distributor: it is both the `vendor` and the `distributor` of its rows (DESIGN 1); the
product's publisher (Microsoft behind most of it) is kept on the products frame only. Parsing is
pure (`parse_*`, `usage_frame`, `commitments_frame`, `diff_subscriptions`); `read_pax8` does the
fetching, through the shared HTTP layer.

Pax8 has no changed-since filter, so a quick sync is a full pull diffed against the last one
(`diff_subscriptions`).

Assumptions taken from API-NOTES lines marked [L] (confirm against the live API):
- "1000 requests/minute" (imperian-systems, §4 Throttling) is the rate limit: TrueUp caps Pax8 at
  `CONCURRENCY` requests in flight and otherwise relies on the 429 retries of the HTTP layer
  rather than pacing itself to that figure; as no Retry-After is documented on Pax8's 429, a
  missing header falls back to the layer's backoff.
Everything else used here is marked [V] in API-NOTES §4: the token request and its audience, the
base URL, 0-based `page` with `size` up to 200 (a page short of it is the last), and the field
names.
Choices of ours, not from the notes: `product_id` is Pax8's product id (a uuid, which every
subscription carries even when its product is missing from `/products`), not the SKU, which is
kept on the products frame; `partnerCost` is not read as a unit cost, as the notes do not say
whether it is per seat; only the status "Active" counts (PendingCancel, Trial, ... do not).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import httpx
import polars as pl

from connectors.http import ApiClient, RetryPolicy, Sleep, TokenAuth, page_numbers
from connectors.records import (
    TIMESTAMP,
    FieldReader,
    mappings,
    missing_settings,
    once,
    settings_of,
    snake,
    vendor_error,
)
from engine.commitments import COMMITMENTS
from engine.schema import QUANTITY, USAGE, Schema, conform
from errors import ConnectorError, ConnectorErrorKind

VENDOR = "Pax8"
"""The `vendor` and `distributor` of every row (DESIGN 1: Pax8 is the source that reports)."""

PAGE_SIZE = 200
"""Pax8's largest page (API-NOTES §4)."""

CONCURRENCY = 4
"""Requests in flight at once, well under Pax8's ~1000 a minute."""

COMPANIES: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "account_external_id": pl.String,
    "account_domain": pl.String,
    "status": pl.String,
    "updated_at": TIMESTAMP,
}
"""Pax8 companies: one row per company. `account_external_id` is the id Pax8 keeps for the
customer in the PSA; `account_domain` its website."""

PRODUCTS: Schema = {
    "product_id": pl.String,
    "product_name": pl.String,
    "sku": pl.String,
    "vendor_sku": pl.String,
    "publisher": pl.String,
    "requires_commitment": pl.Boolean,
}
"""Pax8 products: one row per product; `publisher` is Pax8's `vendorName` (e.g. Microsoft)."""

SUBSCRIPTIONS: Schema = {
    "subscription_id": pl.String,
    "account_id": pl.String,
    "product_id": pl.String,
    "product_name": pl.String,
    "quantity": QUANTITY,
    "status": pl.String,
    "billing_term": pl.String,
    "commitment_term": pl.String,
    "commitment_end": pl.Date,
    "start_date": pl.Date,
    "updated_at": TIMESTAMP,
}
"""Pax8 subscriptions: one row per subscription, every status. `status` is Pax8's word in snake
case ("Active" -> "active", "PendingCancel" -> "pending_cancel"); `billing_term` is Pax8's own
("Monthly", "Annual", "3-Year", ...)."""


class Change(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


COMPARED = ("account_id", "product_id", "quantity", "status", "billing_term", "commitment_end")
"""The fields of a subscription whose change a quick sync reports."""

SUBSCRIPTION_CHANGES: Schema = {
    "subscription_id": pl.String,
    "change": pl.String,
    "fields": pl.List(pl.String),
    "account_id": pl.String,
    "product_id": pl.String,
    "quantity_before": QUANTITY,
    "quantity_after": QUANTITY,
    "status_before": pl.String,
    "status_after": pl.String,
}
"""Subscriptions that differ between two pulls: one row per subscription added, changed or
removed; `fields` names the COMPARED fields that changed (empty unless `changed`)."""


@dataclass(frozen=True)
class Pax8Settings:
    """Where Pax8 is and who we are to it; the secret never shows in a repr or a log."""

    client_id: str
    client_secret: str = field(repr=False)
    base_url: str = "https://api.pax8.com/v1"
    token_url: str = "https://token-manager.pax8.com/oauth/token"
    audience: str = "https://api.pax8.com"

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> Pax8Settings:
        """Give back the settings from a source's values (`client_id`, `client_secret`, and
        optionally `base_url`, `token_url`, `audience`)."""
        missing = missing_settings(values, ("client_id", "client_secret"))
        if missing:
            raise ConnectorError(
                f"Pax8 needs {' and '.join(missing)}: create an API application in the Pax8 "
                "portal (Integrations) and set its client id and secret on the source.",
                kind=ConnectorErrorKind.AUTH,
            )
        return settings_of(cls, values)


@dataclass(frozen=True)
class Pax8Pull:
    """One full pull of Pax8: its companies, products and subscriptions frames."""

    companies: pl.DataFrame
    products: pl.DataFrame
    subscriptions: pl.DataFrame

    def usage(self) -> pl.DataFrame:
        """Give back the pull as a USAGE frame (see `usage_frame`)."""
        return usage_frame(self.companies, self.products, self.subscriptions)

    def commitments(self) -> pl.DataFrame:
        """Give back the seats under commitment (see `commitments_frame`)."""
        return commitments_frame(self.subscriptions)


# ---- parsing: Pax8 records to frames ---------------------------------------------------------


def parse_companies(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Give back one COMPANIES row per Pax8 company record."""
    rows = []
    for record in mappings(records, "companies", schema_error):
        read = _Reader(record, "companies")
        rows.append(
            {
                "account_id": read.text("id"),
                "account_name": read.text("name"),
                "account_external_id": read.text("externalId", required=False),
                "account_domain": read.text("website", required=False),
                "status": snake(read.text("status", required=False)),
                "updated_at": read.timestamp("updatedDate"),
            }
        )
    return once(pl.DataFrame(rows, schema=COMPANIES), "account_id")


def parse_products(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Give back one PRODUCTS row per Pax8 product record."""
    rows = []
    for record in mappings(records, "products", schema_error):
        read = _Reader(record, "products")
        rows.append(
            {
                "product_id": read.text("id"),
                "product_name": read.text("name"),
                "sku": read.text("sku", required=False),
                "vendor_sku": read.text("vendorSku", required=False),
                "publisher": read.text("vendorName", required=False),
                "requires_commitment": read.flag("requiresCommitment"),
            }
        )
    return once(pl.DataFrame(rows, schema=PRODUCTS), "product_id")


def parse_subscriptions(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Give back one SUBSCRIPTIONS row per Pax8 subscription record, whatever its status."""
    rows = []
    for record in mappings(records, "subscriptions", schema_error):
        read = _Reader(record, "subscriptions")
        term = read.mapping("commitmentTerm")
        rows.append(
            {
                "subscription_id": read.text("id"),
                "account_id": read.text("companyId"),
                "product_id": read.text("productId"),
                "product_name": read.text("productName", required=False),
                "quantity": read.quantity("quantity"),
                "status": snake(read.text("status")),
                "billing_term": read.text("billingTerm", required=False),
                "commitment_term": term.text("term", required=False),
                "commitment_end": term.date("endDate"),
                "start_date": read.date("startDate"),
                "updated_at": read.timestamp("updatedDate"),
            }
        )
    return once(pl.DataFrame(rows, schema=SUBSCRIPTIONS), "subscription_id")


# ---- frames for the engine -------------------------------------------------------------------


def usage_frame(
    companies: pl.DataFrame, products: pl.DataFrame, subscriptions: pl.DataFrame
) -> pl.DataFrame:
    """Give back the USAGE frame: one row per Pax8 company and product.

    As the CSV importer adds up repeated rows: where some subscription of the pair is active,
    the quantity is that of the active ones and the status "active"; otherwise the quantity of
    them all with the status of the first (by id), which the engine counts as 0. `billing_term`
    lists the terms of the subscriptions counted. A product missing from `products` keeps the
    name its subscription gives; a company missing from `companies` has no name.
    """
    key = ["account_id", "product_id"]
    active = pl.col("status") == "active"
    counted = active | active.any().over(key).not_()
    terms = pl.col("billing_term").filter(counted).drop_nulls().unique().sort()
    added_up = (
        subscriptions.lazy()
        .with_columns(counted.alias("counted"))
        .group_by(key)
        .agg(
            pl.col("quantity").filter("counted").sum(),
            pl.when(active.any())
            .then(pl.lit("active"))
            .otherwise(pl.col("status").sort_by("subscription_id").first())
            .alias("status"),
            pl.when(terms.len() > 0).then(terms.str.join(", ")).alias("billing_term"),
            pl.col("product_name").drop_nulls().first().alias("subscription_product_name"),
        )
    )
    names = products.lazy().select("product_id", "product_name")
    accounts = companies.lazy().select(
        "account_id", "account_name", "account_domain", "account_external_id"
    )
    usage = (
        added_up.join(names, on="product_id", how="left")
        .join(accounts, on="account_id", how="left")
        .with_columns(
            pl.coalesce("product_name", "subscription_product_name").alias("product_name"),
            pl.lit(VENDOR).alias("vendor"),
            pl.lit(VENDOR).alias("distributor"),
        )
        .sort(key)
    )
    return conform(usage, USAGE).collect()


def commitments_frame(subscriptions: pl.DataFrame) -> pl.DataFrame:
    """Give back COMMITMENTS: one row per company, product and commitment end date, with the
    seats of the active subscriptions that end their commitment then."""
    committed = (
        subscriptions.lazy()
        .filter((pl.col("status") == "active") & pl.col("commitment_end").is_not_null())
        .group_by("account_id", "product_id", "commitment_end")
        .agg(pl.col("quantity").sum())
        .with_columns(pl.lit(VENDOR).alias("vendor"))
        .sort("account_id", "product_id", "commitment_end")
    )
    return conform(committed, COMMITMENTS).collect()


def diff_subscriptions(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """Give back SUBSCRIPTION_CHANGES between two pulls: one row per subscription added,
    removed, or with a COMPARED field changed, ordered by change and id."""
    key = "subscription_id"
    old = before.lazy().select(key, *COMPARED, pl.lit(True).alias("in_before"))
    new = after.lazy().select(key, *COMPARED, pl.lit(True).alias("in_after"))
    both = old.join(new, on=key, how="full", coalesce=True, suffix="_after")
    moved = [pl.when(pl.col(f).ne_missing(pl.col(f"{f}_after"))).then(pl.lit(f)) for f in COMPARED]
    change = (
        pl.when(pl.col("in_before").is_null())
        .then(pl.lit(Change.ADDED.value))
        .when(pl.col("in_after").is_null())
        .then(pl.lit(Change.REMOVED.value))
        .when(pl.col("fields").list.len() > 0)
        .then(pl.lit(Change.CHANGED.value))
    )
    changes = (
        both.with_columns(pl.concat_list(moved).list.drop_nulls().alias("fields"))
        .with_columns(
            change.alias("change"),
            pl.coalesce("account_id_after", "account_id").alias("account_id"),
            pl.coalesce("product_id_after", "product_id").alias("product_id"),
            pl.col("quantity").alias("quantity_before"),
            pl.col("quantity_after"),
            pl.col("status").alias("status_before"),
            pl.col("status_after"),
        )
        .filter(pl.col("change").is_not_null())
        .with_columns(
            pl.when(pl.col("change") == Change.CHANGED.value)
            .then("fields")
            .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        )
        .sort("change", key)
    )
    return conform(changes, SUBSCRIPTION_CHANGES).collect()


# ---- fetching ---------------------------------------------------------------------------------


def read_pax8(
    settings: Pax8Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
    size: int = PAGE_SIZE,
) -> Pax8Pull:
    """Give back a full pull of Pax8: every company, product and subscription.

    `transport` replaces the network (tests hand in an `httpx.MockTransport`); `sleep` is how
    the client waits before a retry.
    """
    with connect(settings, transport=transport, sleep=sleep, retry=retry) as client:
        return Pax8Pull(
            companies=parse_companies(fetch_all(client, "companies", size=size)),
            products=parse_products(fetch_all(client, "products", size=size)),
            subscriptions=parse_subscriptions(fetch_all(client, "subscriptions", size=size)),
        )


def check_connection(
    settings: Pax8Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
) -> None:
    """Give back nothing when Pax8 signs us in and lets us read companies; else ConnectorError."""
    with connect(settings, transport=transport, sleep=sleep) as client:
        next(fetch_all(client, "companies", size=1), None)


def connect(
    settings: Pax8Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
) -> ApiClient:
    """Give back a client of the Pax8 Partner API that signs itself in when it needs to."""

    def fetch() -> tuple[str, float]:
        with ApiClient(
            VENDOR, settings.token_url, transport=transport, sleep=sleep, retry=retry
        ) as sign_in:
            return fetch_token(sign_in, settings)

    return ApiClient(
        VENDOR,
        settings.base_url,
        auth=TokenAuth(fetch),
        transport=transport,
        sleep=sleep,
        retry=retry,
        concurrency=CONCURRENCY,
        # Every Partner API call we make is a read: a 500 is worth another try.
        retry_500=lambda response: True,
    )


def fetch_token(sign_in: ApiClient, settings: Pax8Settings) -> tuple[str, float]:
    """Give back a bearer token and its lifetime in seconds (client credentials grant)."""
    body = {
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "audience": settings.audience,
        "grant_type": "client_credentials",
    }
    try:
        response = sign_in.send("POST", settings.token_url, json=body)
    except ConnectorError as error:
        if error.kind not in (ConnectorErrorKind.AUTH, ConnectorErrorKind.PERMISSION):
            raise
        raise ConnectorError(
            "Pax8 refused the client id and secret when signing in. Check them on the source "
            "(Pax8 portal, Integrations): they may be wrong, expired or revoked.",
            kind=ConnectorErrorKind.AUTH,
        ) from error
    answer = sign_in.parse_json(response)
    token = answer.get("access_token") if isinstance(answer, dict) else None
    lifetime = answer.get("expires_in") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise schema_error("sign-in", "the token reply has no access_token")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        raise schema_error("sign-in", f"the token reply has expires_in = {lifetime!r}")
    return token, float(lifetime)


def fetch_all(client: ApiClient, entity: str, *, size: int = PAGE_SIZE) -> Iterator[Any]:
    """Give back every record of `entity` ("companies", ...), page after page: 0-based page
    numbers, until a page is short of `size`."""
    pages = page_numbers(
        client, entity, page_param="page", size_param="size", size=size, first=0, items=_content
    )
    for page in pages:
        yield from page


def _content(body: Any) -> Any:
    """Give back the records of a Pax8 page, `{"content": [...], "page": {...}}`."""
    return body["content"]


# ---- reading one record ----------------------------------------------------------------------


def schema_error(entity: str, problem: str) -> ConnectorError:
    """Give back the error for a Pax8 answer TrueUp cannot read."""
    return vendor_error("Pax8", "Pax8", entity, problem)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Reader(FieldReader):
    """Reads the fields of one Pax8 record, naming the record in every error."""

    def fail(self, entity: str, problem: str) -> ConnectorError:
        return schema_error(entity, problem)

    def date(self, key: str) -> date | None:
        """Give back a date field; Pax8 sends dates as "YYYY-MM-DD" text, nothing else is one."""
        value = self.get(key, False)
        if value not in (None, "") and (not isinstance(value, str) or not _DATE.match(value)):
            raise self.error(key, f"= {value!r}, not a date")
        return super().date(key)
