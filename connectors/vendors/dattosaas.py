"""Datto SaaS Protection: domains and their billable seats by type, read into the USAGE frame.

Each protected domain is a customer (the account); each seat type ("User", "SharedMailbox",
"Site", "TeamSite", "SharedDrive", ...) is a product, and its quantity the number of the
domain's seats of that type Datto bills. Datto is bought direct, so `distributor` stays empty.
Parsing is pure (`parse_domains`, `parse_seats`, `usage_frame`); `read_dattosaas` does the
fetching, through the shared HTTP layer: the domains, then each domain's seats, a few domains
at a time.

Assumptions from API-NOTES §6 (marked [V] there, from open-source clients rather than Datto's
own reference: confirm against the live API):
- the API sits at `https://api.datto.com/v1` and takes Basic auth of the public and secret key;
- `GET /saas/domains` answers a JSON list of `{saasCustomerId, saasCustomerName, domain,
  productType, ...}` and `GET /saas/{saasCustomerId}/seats` a JSON list of `{mainId, name,
  seatType, seatState, billable, dateAdded, remoteId}`, neither paged;
- a seat counts when `billable` is true, whatever its `seatState` (paused and archived seats
  are billed too, as theoneec/DattoSeatsExport counts them).
Choices of ours, not from the notes: `billable` may come as true/false, 1/0 or "1"/"0"; a seat
type with no billable seat keeps a row with quantity 0 and the status "not_billable", so the
account still counts as known; the product is the seat type alone (an M365 and a Google "User"
are the same product: map them apart by account if they are billed differently).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import polars as pl

from connectors.http import ApiClient, RetryPolicy, Sleep
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
from engine.schema import QUANTITY, USAGE, Schema, conform
from errors import ConnectorError, ConnectorErrorKind

VENDOR = "Datto"
"""The `vendor` of every row."""

NAME = "Datto SaaS Protection"
"""How messages name the source."""

CONCURRENCY = 4
"""Domains whose seats are asked for at once."""

DOMAINS: Schema = {
    "account_id": pl.String,
    "account_name": pl.String,
    "account_domain": pl.String,
    "organization_name": pl.String,
    "product_type": pl.String,
}
"""Datto SaaS Protection domains: one row per customer domain (`saasCustomerId`);
`product_type` is Datto's (e.g. "Office365", "GoogleApps")."""

SEATS: Schema = {
    "account_id": pl.String,
    "seat_id": pl.String,
    "seat_name": pl.String,
    "seat_type": pl.String,
    "seat_state": pl.String,
    "billable": pl.Boolean,
    "remote_id": pl.String,
    "added_at": TIMESTAMP,
}
"""Datto SaaS Protection seats: one row per domain and seat (`mainId`), billable or not;
`seat_state` is Datto's word in snake case ("active", "paused", "archived", ...)."""


@dataclass(frozen=True)
class DattoSaasSettings:
    """Datto's API address and our key pair; the secret key never shows in a repr or a log."""

    public_key: str
    secret_key: str = field(repr=False)
    base_url: str = "https://api.datto.com/v1"

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> DattoSaasSettings:
        """Give back the settings from a source's values (`public_key`, `secret_key`, and
        optionally `base_url`)."""
        missing = missing_settings(values, ("public_key", "secret_key"))
        if missing:
            raise ConnectorError(
                f"{NAME} needs {' and '.join(missing)}: create an API key pair in the Datto "
                "Partner Portal (Admin, Integrations, API Keys) and set both keys on the source.",
                kind=ConnectorErrorKind.AUTH,
            )
        return settings_of(cls, values)


@dataclass(frozen=True)
class DattoSaasPull:
    """One full pull of Datto SaaS Protection: its domains and seats frames."""

    domains: pl.DataFrame
    seats: pl.DataFrame

    def usage(self) -> pl.DataFrame:
        """Give back the pull as a USAGE frame (see `usage_frame`)."""
        return usage_frame(self.domains, self.seats)


# ---- parsing: Datto records to frames --------------------------------------------------------


def parse_domains(records: Iterable[Any]) -> pl.DataFrame:
    """Give back one DOMAINS row per Datto SaaS domain record."""
    rows = []
    for record in mappings(records, "domains", schema_error):
        read = _Reader(record, "domains", id_key="saasCustomerId")
        rows.append(
            {
                "account_id": read.text("saasCustomerId"),
                "account_name": read.text("saasCustomerName", required=False)
                or read.text("organizationName", required=False)
                or read.text("domain", required=False),
                "account_domain": read.text("domain", required=False),
                "organization_name": read.text("organizationName", required=False),
                "product_type": read.text("productType", required=False),
            }
        )
    return once(pl.DataFrame(rows, schema=DOMAINS), "account_id")


def parse_seats(account_id: str, records: Iterable[Any]) -> pl.DataFrame:
    """Give back one SEATS row per seat record of the domain `account_id`, billable or not."""
    rows = []
    for record in mappings(records, "seats", schema_error):
        read = _Reader(record, "seats", id_key="mainId", owner=f"domain {account_id}")
        rows.append(
            {
                "account_id": account_id,
                "seat_id": read.text("mainId"),
                "seat_name": read.text("name", required=False),
                "seat_type": read.text("seatType"),
                "seat_state": snake(read.text("seatState", required=False)),
                "billable": read.billable("billable"),
                "remote_id": read.text("remoteId", required=False),
                "added_at": read.timestamp("dateAdded"),
            }
        )
    return once(pl.DataFrame(rows, schema=SEATS), "seat_id")


def usage_frame(domains: pl.DataFrame, seats: pl.DataFrame) -> pl.DataFrame:
    """Give back the USAGE frame: one row per domain and seat type, the number of its seats
    Datto bills as the quantity.

    A seat type with seats but none billable keeps a row with quantity 0 and the status
    "not_billable"; a domain missing from `domains` has no name.
    """
    counted = (
        seats.lazy()
        .group_by("account_id", "seat_type")
        .agg(pl.col("billable").sum().alias("quantity"))
        .with_columns(
            pl.when(pl.col("quantity") > 0)
            .then(pl.lit("active"))
            .otherwise(pl.lit("not_billable"))
            .alias("status")
        )
    )
    accounts = domains.lazy().select("account_id", "account_name", "account_domain")
    usage = (
        counted.join(accounts, on="account_id", how="left")
        .with_columns(
            pl.col("quantity").cast(QUANTITY),
            pl.col("seat_type").alias("product_id"),
            pl.col("seat_type")
            .str.replace_all(r"([a-z0-9])([A-Z])", "${1} ${2}")
            .alias("product_name"),
            pl.lit(VENDOR).alias("vendor"),
        )
        .sort("account_id", "product_id")
    )
    return conform(usage, USAGE).collect()


# ---- fetching ---------------------------------------------------------------------------------


def read_dattosaas(
    settings: DattoSaasSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
) -> DattoSaasPull:
    """Give back a full pull of Datto SaaS Protection: every domain and every seat of it.

    `transport` replaces the network (tests hand in an `httpx.MockTransport`); `sleep` is how
    the client waits before a retry.
    """
    with connect(settings, transport=transport, sleep=sleep, retry=retry) as client:
        domains = parse_domains(fetch_list(client, "saas/domains"))
        ids = domains["account_id"].to_list()

        def seats_of(account_id: str) -> pl.DataFrame:
            return parse_seats(account_id, fetch_list(client, f"saas/{account_id}/seats"))

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            frames = list(pool.map(seats_of, ids))
    return DattoSaasPull(domains, pl.concat([pl.DataFrame(schema=SEATS), *frames]))


def check_connection(
    settings: DattoSaasSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
) -> None:
    """Give back nothing when Datto takes our keys and lets us list the domains; else
    ConnectorError."""
    with connect(settings, transport=transport, sleep=sleep) as client:
        fetch_list(client, "saas/domains")


def connect(
    settings: DattoSaasSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
    retry: RetryPolicy | None = None,
) -> ApiClient:
    """Give back a client of Datto's API, signing each request with our key pair."""
    return ApiClient(
        NAME,
        settings.base_url,
        auth=httpx.BasicAuth(settings.public_key, settings.secret_key),
        transport=transport,
        sleep=sleep,
        retry=retry,
        concurrency=CONCURRENCY,
        # Every call we make is a read: a 500 is worth another try.
        retry_500=lambda response: True,
    )


def fetch_list(client: ApiClient, path: str) -> list[Any]:
    """Give back the JSON list Datto answers at `path`; ConnectorError when it is not one."""
    try:
        response = client.send("GET", path)
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.AUTH:
            raise
        raise ConnectorError(
            f"{NAME} refused the API keys (HTTP 401). Check the public and secret key on the "
            "source against the Datto Partner Portal (Admin, Integrations, API Keys): they may "
            "be wrong, or the pair may have been deleted.",
            kind=ConnectorErrorKind.AUTH,
        ) from error
    body = client.parse_json(response)
    if not isinstance(body, list):
        raise client.schema_error(
            response.request.url.path, f"expected a list of records, got {type(body).__name__}"
        )
    return body


# ---- reading one record ----------------------------------------------------------------------


def schema_error(entity: str, problem: str) -> ConnectorError:
    """Give back the error for a Datto SaaS Protection answer TrueUp cannot read."""
    return vendor_error(NAME, "Datto", entity, problem)


# True == 1 and False == 0 as dict keys, so JSON 1/0 read the same as true/false.
_YES = {True: True, False: False, "1": True, "0": False}


class _Reader(FieldReader):
    """Reads the fields of one Datto record, naming the record (and its domain) in errors."""

    def fail(self, entity: str, problem: str) -> ConnectorError:
        return schema_error(entity, problem)

    def billable(self, key: str) -> bool:
        """Give back a billable flag: true/false, 1/0 or their text."""
        value = self.get(key, True)
        if isinstance(value, str):
            value = value.strip().lower()
            value = {"true": True, "false": False}.get(value, value)
        # `1 in dict` matches True too; type-check first so 1.0 or "yes" do not slip through.
        if not isinstance(value, bool | int | str) or value not in _YES:
            raise self.error(key, f"= {self.record.get(key)!r}, not true or false")
        return _YES[value]
