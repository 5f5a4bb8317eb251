"""SentinelOne: sites and their licences per suite, read into the engine's USAGE frame.

Each site is a customer (the account) and carries one suite ("Core", "Control", "Complete",
...), which is the product; its licences consumed (`activeLicenses`) are the quantity, or its
licences allocated (`totalLicenses`) when the source's `count` is "allocated". SentinelOne is
bought direct or through a distributor TrueUp does not know, so `distributor` stays empty.
Parsing is pure (`parse_sites`, `usage_frame`); `read_sentinelone` does the fetching, through
the shared HTTP layer.

Every site is read whatever its state, so that one that expired or was deleted shows as such
(its seats count 0) instead of vanishing; only an active paid site counts.

Assumptions taken from API-NOTES §6 (SentinelOne is marked [V] there as a whole, from secondary
sources: confirm against the live API):
- the API sits at `{console}/web/api/v2.1` and takes `Authorization: ApiToken {token}`;
- `GET /sites` pages with `limit` and `cursor`, the reply being
  `{"data": {"allSites": {...}, "sites": [...]}, "pagination": {"nextCursor", "totalItems"}}`;
  an empty or missing `nextCursor` ends it;
- a site's `activeLicenses` is consumed and `totalLicenses` allocated, `suite` names the
  product, `siteType` is "Trial" or "Paid", and `state` is "active" for a live site.
Choices of ours, not from the notes: the product is the `suite`, or the `sku` when a site has
no suite; a trial site's status is "trial" (not counted); `GET /sites` is asked without the
`state=active` filter the notes show, so that sites that ended still show.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import polars as pl

from connectors.http import ApiClient, RetryPolicy, Sleep, cursor_pages
from connectors.records import (
    TIMESTAMP,
    FieldReader,
    mappings,
    missing_settings,
    once,
    settings_of,
    vendor_error,
)
from engine.schema import QUANTITY, USAGE, Schema, conform
from errors import ConnectorError, ConnectorErrorKind

VENDOR = "SentinelOne"
"""The `vendor` of every row."""

API_PATH = "/web/api/v2.1"
"""Where the management API sits under a console's address (API-NOTES §6)."""

PAGE_SIZE = 1000
"""SentinelOne's largest `limit` (API-NOTES §6)."""

COUNTS = ("active", "allocated")
"""What a site's quantity is: licences consumed (`activeLicenses`) or allocated."""

SITES: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "account_external_id": pl.String,
    "parent_account_id": pl.String,
    "parent_account_name": pl.String,
    "product_id": pl.String,
    "suite": pl.String,
    "sku": pl.String,
    "site_type": pl.String,
    "state": pl.String,
    "status": pl.String,
    "active_licenses": QUANTITY,
    "total_licenses": QUANTITY,
    "unlimited_licenses": pl.Boolean,
    "expiration": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
"""SentinelOne sites: one row per site, every state. `parent_account_*` is the SentinelOne
account above the site; `state` is SentinelOne's word in lower case, `status` what TrueUp counts
("active", "trial", "expired", "deleted", ...)."""


@dataclass(frozen=True)
class SentinelOneSettings:
    """Which SentinelOne console, with what API token; the token never shows in a repr or log."""

    console_url: str
    api_token: str = field(repr=False)
    count: str = "active"

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> SentinelOneSettings:
        """Give back the settings from a source's values (`console_url`, `api_token`, and
        optionally `count`: "active" or "allocated")."""
        missing = missing_settings(values, ("console_url", "api_token"))
        if missing:
            raise ConnectorError(
                f"SentinelOne needs {' and '.join(missing)}: set the console's address (e.g. "
                "https://usea1-acme.sentinelone.net) and an API token of a service user with "
                "viewer rights (console: Settings, Users, Service Users).",
                kind=ConnectorErrorKind.AUTH,
            )
        count = values.get("count") or "active"
        if count not in COUNTS:
            raise ConnectorError(
                f'SentinelOne count = "{count}": set it to "active" (licences in use) or '
                '"allocated" (licences given to the site).',
                kind=ConnectorErrorKind.REJECTED,
            )
        return settings_of(cls, values)

    @property
    def base_url(self) -> str:
        """The management API's address: the console's, with the API path once."""
        console = self.console_url.rstrip("/")
        return console if console.endswith(API_PATH) else console + API_PATH


@dataclass(frozen=True)
class SentinelOnePull:
    """One full pull of SentinelOne: its sites frame, and what counts as a site's quantity."""

    sites: pl.DataFrame
    count: str = "active"

    def usage(self) -> pl.DataFrame:
        """Give back the pull as a USAGE frame (see `usage_frame`)."""
        return usage_frame(self.sites, count=self.count)


# ---- parsing: SentinelOne records to frames --------------------------------------------------


def parse_sites(records: Iterable[Any]) -> pl.DataFrame:
    """Give back one SITES row per SentinelOne site record, whatever its state."""
    rows = []
    for record in mappings(records, "sites", schema_error):
        read = _Reader(record, "sites")
        suite, sku = read.text("suite", required=False), read.text("sku", required=False)
        if suite is None and sku is None:
            raise schema_error("sites", f'{read.where()} has neither "suite" nor "sku"')
        state = (read.text("state", required=False) or "").lower() or None
        site_type = read.text("siteType", required=False)
        status = "trial" if state == "active" and (site_type or "").lower() == "trial" else state
        rows.append(
            {
                "account_id": read.text("id"),
                "account_name": read.text("name"),
                "account_external_id": read.text("externalId", required=False),
                "parent_account_id": read.text("accountId", required=False),
                "parent_account_name": read.text("accountName", required=False),
                "product_id": suite or sku,
                "suite": suite,
                "sku": sku,
                "site_type": site_type,
                "state": state,
                "status": status,
                "active_licenses": read.count("activeLicenses"),
                "total_licenses": read.count("totalLicenses", required=False),
                "unlimited_licenses": read.flag("unlimitedLicenses"),
                "expiration": read.timestamp("expiration"),
                "updated_at": read.timestamp("updatedAt"),
            }
        )
    # A site that moves while we page can come twice; counted twice, its licences would add up.
    return once(pl.DataFrame(rows, schema=SITES), "account_id")


def usage_frame(sites: pl.DataFrame, *, count: str = "active") -> pl.DataFrame:
    """Give back the USAGE frame: one row per site (the account) and its suite (the product).

    The quantity is the site's licences in use, or with `count="allocated"` its licences
    allocated (those in use for a site with unlimited licences). A site that is not active, or
    is a trial, keeps its status, which the engine counts as 0.
    """
    if count not in COUNTS:
        raise ValueError(f"count is one of {COUNTS}, not {count!r}")
    allocated = (
        pl.when(pl.col("unlimited_licenses").fill_null(False) | pl.col("total_licenses").is_null())
        .then("active_licenses")
        .otherwise("total_licenses")
    )
    usage = (
        sites.lazy()
        .with_columns(
            (allocated if count == "allocated" else pl.col("active_licenses")).alias("quantity"),
            pl.col("product_id").alias("product_name"),
            pl.lit(VENDOR).alias("vendor"),
        )
        .sort("account_id", "product_id")
    )
    return conform(usage, USAGE).collect()


# ---- fetching ---------------------------------------------------------------------------------


def read_sentinelone(
    settings: SentinelOneSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
    size: int = PAGE_SIZE,
) -> SentinelOnePull:
    """Give back a full pull of SentinelOne: every site the token can see.

    `transport` replaces the network (tests hand in an `httpx.MockTransport`); `sleep` is how
    the client waits before a retry.
    """
    with connect(settings, transport=transport, sleep=sleep, retry=retry) as client:
        return SentinelOnePull(parse_sites(fetch_sites(client, size=size)), count=settings.count)


def check_connection(
    settings: SentinelOneSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
) -> None:
    """Give back nothing when the console takes our token and lets us read a site; else
    ConnectorError."""
    with connect(settings, transport=transport, sleep=sleep) as client:
        next(fetch_sites(client, size=1), None)


def connect(
    settings: SentinelOneSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
) -> ApiClient:
    """Give back a client of the console's management API, sending our API token."""
    return ApiClient(
        VENDOR,
        settings.base_url,
        headers={"Authorization": f"ApiToken {settings.api_token}"},
        transport=transport,
        sleep=sleep,
        retry=retry,
        # Every call we make is a read: a 500 is worth another try.
        retry_500=lambda response: True,
    )


def fetch_sites(client: ApiClient, *, size: int = PAGE_SIZE) -> Iterator[Any]:
    """Give back every site record, page after page, following `pagination.nextCursor`."""
    pages = cursor_pages(
        client,
        "sites",
        params={"limit": size},
        items_key="data.sites",
        cursor_key="pagination.nextCursor",
        cursor_param="cursor",
    )
    try:
        for page in pages:
            yield from page
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.AUTH:
            raise
        # An API token is not refreshed: a 401 means it is wrong, expired (they last six
        # months by default) or its user was removed.
        raise ConnectorError(
            "SentinelOne refused the API token (HTTP 401). It may be wrong, expired or revoked: "
            "generate a new one for the service user in the console (Settings, Users, Service "
            "Users) and set it on the source; check too that the console address is yours.",
            kind=ConnectorErrorKind.AUTH,
        ) from error


# ---- reading one record ----------------------------------------------------------------------


def schema_error(entity: str, problem: str) -> ConnectorError:
    """Give back the error for a SentinelOne answer TrueUp cannot read."""
    return vendor_error("SentinelOne", "SentinelOne", entity, problem)


_WHOLE = re.compile(r"\d+")


class _Reader(FieldReader):
    """Reads the fields of one SentinelOne record, naming the record in every error."""

    def fail(self, entity: str, problem: str) -> ConnectorError:
        return schema_error(entity, problem)

    def count(self, key: str, *, required: bool = True) -> Decimal | None:
        """A licence count: a whole number, as JSON or as text."""
        value = self.get(key, required)
        if value is None:
            return None
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and _WHOLE.fullmatch(value.strip()))
        ):
            raise self.error(key, f"= {value!r}, not a whole number")
        return Decimal(str(value).strip())
