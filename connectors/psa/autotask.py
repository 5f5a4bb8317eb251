"""Autotask, the read side: companies, active contracts, their services with the units of the
current period, and the services catalogue, as the engine's PSA_LINES and CATALOG frames
(DESIGN 5; API-NOTES 2, 8, 9).

Parsing (records in, frames out) is kept apart from fetching, so it is tested on small dicts.
What a sync keeps:

- an account is a company (`id`, `companyName`, `webAddress`); a contract is a contract whose
  `status` is 1 (active); a line is a contract service (`id`) of an active contract, its product
  the service (`serviceID`: API-NOTES 9, the product key), named as in the catalogue.
- The quantity of a line is the `units` of its ContractServiceUnits row whose period holds today
  (`startDate <= today <= endDate`; of two, the later start). A contract service with no such
  row bills nothing this period: it is left out of the lines and listed in `PsaPull.cancelled`.
- The unit price and cost are the contract service's `unitPrice` and `unitCost`.
- Numbers become exact decimals, never through float arithmetic: each JSON float is read back
  through its shortest repr (`str`), the literal Autotask sent. They are rounded half-up to 4
  places (DESIGN 4.9); a warning counts the values that had more.
- A contract service with no service is left out, with a warning naming it.
- The billing cycle is the service's `periodType`, as months (see PERIOD_MONTHS); an unknown one
  is monthly, with a warning. Autotask says nothing of proration: `prorate` is empty.

Quick sync (`since` given) asks Autotask only for the companies whose `lastActivityDate` or
`lastTrackedModifiedDateTime` is after `since` less 5 minutes. Contracts, contract services and
their units have no modified date (API-NOTES 2, 8.3), and services are read whole too: they are
pulled in full on every sync, so `lines` always holds every active line; lines of a company not
read again have no account name (the store keeps the one it read before). The next cursor is
the latest company timestamp seen.

Requests: every query is `GET {Entity}/query?search={json}` with at most 500 records a page,
following `pageDetails.nextPageUrl` until it is null; at most 3 requests are in flight
(Autotask's thread limit per endpoint and integration). None of these queries has a long IN
list, so none needs the POST form.

Assumptions taken from lines of API-NOTES marked [L] (low confidence), or from outside it:

1. [L] Zone discovery is at `https://webservices.autotask.net/atservicesrest/v1.0/
   zoneInformation?user=`: the default of `discovery_url`, a setting; `zone_url` skips it.
2. [L] Exceeding the thread limit answers HTTP 429: the HTTP layer retries it honouring
   Retry-After; the concurrency cap of 3 keeps us under the limit in the first place.
3. [L] Recurring-service contracts are `contractType` 7: not relied on. Every active contract's
   services are read, whatever its type; only a service with current units makes a line.
4. [L] ContractServices also carry `adjustedPrice`: not read; the price is `unitPrice`.
5. (not in API-NOTES) The services' `periodType` picklist is 1 monthly, 2 quarterly,
   3 semi-annual, 4 yearly; letters m, q, s, y and names ("Monthly") are read too. Confirm with
   `/V1.0/Services/entityInformation/fields`.
6. (not in API-NOTES) A query must carry a filter: a full pull asks for `id gte 0`.
7. (not in API-NOTES) The company's web address is `webAddress`.
8. (API-NOTES 2 says django-autotask re-discovers the zone on a 401) A 401 is reported as bad
   credentials; the next `connect` discovers the zone anew.
9. (API-NOTES 2) Autotask answers some permission errors with HTTP 500: they are reported as
   Autotask's fault, with its message, and not retried.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx
import polars as pl

from connectors.csv.parse import CYCLES
from connectors.http import ApiClient, next_url_pages
from engine.schema import CATALOG, PSA_LINES, QUANTITY, conform
from errors import ConnectorError, ConnectorErrorKind

NAME = "Autotask"
PAGE_SIZE = 500
"""Autotask's largest page (MaxRecords 1-500, API-NOTES 2)."""
CONCURRENCY = 3
"""Autotask's limit of threads per endpoint and integration (API-NOTES 2)."""
DISCOVERY_URL = "https://webservices.autotask.net/atservicesrest/v1.0/"
SKEW = timedelta(minutes=5)
ACTIVE = 1
"""A contract's `status` when it is active."""
PLACES = Decimal("0.0001")

PERIOD_MONTHS: dict[Any, int] = {1: 1, 2: 3, 3: 6, 4: 12, "m": 1, "q": 3, "s": 6, "y": 12}
"""A service's `periodType` as months (assumption 5 of the module docstring)."""

EVERY: list[dict[str, Any]] = [{"op": "gte", "field": "id", "value": 0}]
"""The filter of a full pull: Autotask wants one."""

Record = dict[str, Any]


@dataclass(frozen=True)
class AutotaskSettings:
    """Who the API user is and where its zone is; the secret and integration code never show.

    `zone_url` is the zone's REST base ending in `/V1.0/` (e.g.
    `https://webservices5.autotask.net/ATServicesRest/V1.0/`); left empty, it is discovered.
    """

    username: str
    secret: str = field(repr=False)
    integration_code: str = field(repr=False)
    zone_url: str | None = None
    discovery_url: str = DISCOVERY_URL

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> AutotaskSettings:
        """Give back the settings from a source's values (`username`, `secret`,
        `integration_code`, and optionally `zone_url`, `discovery_url`)."""
        known = {f.name for f in fields(cls)}
        required = ("username", "secret", "integration_code")
        missing = [name for name in required if not values.get(name)]
        if missing:
            raise ConnectorError(
                f"Autotask needs {', '.join(missing)}: create an API-only user in Autotask "
                "(Admin > Resources/Users, security level API User) and set its username, "
                "secret and the integration's tracking identifier on the source.",
                kind=ConnectorErrorKind.AUTH,
            )
        return cls(**{k: v for k, v in values.items() if k in known and v})

    def headers(self) -> dict[str, str]:
        """Give back the headers every request to the zone carries."""
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }


@dataclass(frozen=True)
class PsaPull:
    """What one sync read from Autotask.

    `lines` (PSA_LINES) holds every active line and `catalog` (CATALOG) every active service, on
    a quick sync too (contract data has no changed-since filter). `records` has one row per
    record read (`entity`, `external_id`, `updated_at`), `contract_ids` every active contract,
    `cancelled` the contract services of active contracts with no units this period, `cursor`
    the `since` of the next quick sync.
    """

    lines: pl.DataFrame
    catalog: pl.DataFrame
    records: pl.DataFrame
    contract_ids: frozenset[str]
    cancelled: frozenset[str]
    cursor: datetime | None
    since: datetime | None
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Lines:
    """Contract lines parsed: the PSA_LINES frame, the services without units, the warnings."""

    frame: pl.DataFrame
    cancelled: frozenset[str]
    warnings: list[str]


RECORDS: dict[str, Any] = {
    "entity": pl.String,
    "external_id": pl.String,
    "updated_at": pl.Datetime("us", "UTC"),
}
"""Every record read: one row per entity and id, with its last change where Autotask keeps one."""


# -- parsing: records in, frames out ------------------------------------------------------------


class _Reader:
    """Reads numbers out of records, counting the values rounded to 4 places."""

    def __init__(self) -> None:
        self.rounded = 0

    def number(self, record: Record, name: str, entity: str, *, required: bool = False) -> Any:
        value = record.get(name)
        if value is None:
            if required:
                raise _schema(entity, f"{_which(entity, record)} has no {name}")
            return None
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            if not exact.is_finite():
                raise InvalidOperation
        except (InvalidOperation, TypeError, ValueError):
            what = f"{_which(entity, record)} has {name} {value!r}, not a number"
            raise _schema(entity, what) from None
        rounded = exact.quantize(PLACES, ROUND_HALF_UP)
        self.rounded += rounded != exact
        return rounded

    def warnings(self) -> list[str]:
        if self.rounded == 0:
            return []
        if self.rounded == 1:
            return ["1 value had more than 4 decimal places and was rounded"]
        return [f"{self.rounded} values had more than 4 decimal places and were rounded"]


def records(payload: Any, entity: str) -> list[Record]:
    """Give back `payload` as a list of records, or a ConnectorError naming `entity`."""
    if not isinstance(payload, list):
        raise _schema(entity, f"expected a list of {entity}, got {_kind(payload)}")
    for item in payload:
        if not isinstance(item, dict):
            raise _schema(entity, f"expected a list of {entity}, got a list holding {_kind(item)}")
        if item.get("id") is None:
            raise _schema(entity, f"one of the {entity} has no id")
    return payload


def billing_months(period_type: Any) -> int | None:
    """Give back a service's `periodType` (2, "q", "Quarterly") as months; None if unknown."""
    if isinstance(period_type, bool):
        return None
    if isinstance(period_type, int):
        return PERIOD_MONTHS.get(period_type)
    if not isinstance(period_type, str):
        return None
    key = "".join(ch for ch in period_type.lower() if ch not in " _-")
    if key.isdigit():
        return PERIOD_MONTHS.get(int(key))
    return PERIOD_MONTHS.get(key) or CYCLES.get(key)


def current_units(units: list[Record], *, today: date) -> dict[str, Record]:
    """Give back, per contract service id, its units row whose period holds `today`.

    Of two such rows the one starting later wins (ties: the higher id).
    """
    current: dict[str, Record] = {}
    for row in records(units, "contract service units"):
        start, end = _day(row.get("startDate")), _day(row.get("endDate"))
        if start is None or start > today or (end is not None and end < today):
            continue
        key = str(row.get("contractServiceID"))
        held = current.get(key)
        if held is None or (start, _id(row)) > (_day(held.get("startDate")), _id(held)):
            current[key] = row
    return current


def lines_from_records(
    companies: list[Record],
    contracts: list[Record],
    contract_services: list[Record],
    units: list[Record],
    services: list[Record],
    *,
    today: date,
) -> Lines:
    """Give back the contract lines: one row per contract service of an active contract with
    units this period (PSA_LINES).

    `companies` may be a subset (a quick sync reads only the changed ones): a line of a company
    not among them has no account name. `services` is the catalogue: names and billing periods.
    """
    reader = _Reader()
    accounts = {
        str(c["id"]): (_text(c.get("companyName")), _text(c.get("webAddress")))
        for c in records(companies, "companies")
    }
    catalogue = {str(s["id"]): s for s in records(services, "services")}
    contracts_by_id = {
        str(c["id"]): c for c in records(contracts, "contracts") if _active(c, "contracts")
    }
    now = current_units(units, today=today)
    rows: list[dict[str, Any]] = []
    cancelled: set[str] = set()
    no_product: list[str] = []
    unknown_periods: set[str] = set()
    for line in records(contract_services, "contract services"):
        line_id = str(line["id"])
        contract = contracts_by_id.get(str(line.get("contractID")))
        if contract is None:
            continue
        period = now.get(line_id)
        if period is None:
            cancelled.add(line_id)
            continue
        quantity = reader.number(period, "units", "contract service units", required=True)
        if line.get("serviceID") is None:
            no_product.append(line_id)
            continue
        product_id = str(line["serviceID"])
        service = catalogue.get(product_id, {})
        months = billing_months(service.get("periodType"))
        if months is None and service.get("periodType") is not None:
            unknown_periods.add(str(service.get("periodType")))
        account_id = contract.get("companyID")
        if account_id is None:
            raise _schema("contracts", f"{_which('contracts', contract)} has no companyID")
        name, website = accounts.get(str(account_id), (None, None))
        rows.append(
            {
                "account_id": str(account_id),
                "account_name": name,
                "contract_id": str(contract["id"]),
                "contract_name": _text(contract.get("contractName")),
                "product_id": product_id,
                "product_name": _text(service.get("name"))
                or _text(line.get("invoiceDescription"))
                or product_id,
                "line_id": line_id,
                "quantity": quantity,
                "unit_price": reader.number(line, "unitPrice", "contract services"),
                "unit_cost": reader.number(line, "unitCost", "contract services"),
                "prorate": None,
                "billing_months": months if months is not None else 1,
                "account_website": website,
            }
        )
    warnings: list[str] = []
    if no_product:
        shown = ", ".join(no_product[:5]) + (" ..." * (len(no_product) > 5))
        warnings.append(
            f"{_count(len(no_product), 'contract service')} with no service left out (ids {shown})"
        )
    if unknown_periods:
        shown = ", ".join(sorted(unknown_periods)[:3])
        warnings.append(
            f"Service period types that are not monthly, quarterly, semi-annual or yearly "
            f"({shown}) were read as monthly"
        )
    frame = _frame(rows, PSA_LINES)
    return Lines(frame, frozenset(cancelled), reader.warnings() + warnings)


def catalog_from_records(services: list[Record]) -> tuple[pl.DataFrame, list[str]]:
    """Give back the catalogue: one row per active service (CATALOG), and the warnings."""
    reader = _Reader()
    rows = [
        {
            "product_id": str(service["id"]),
            "product_name": _text(service.get("name")),
            "unit_price": reader.number(service, "unitPrice", "services"),
            "unit_cost": reader.number(service, "unitCost", "services"),
            "billing_months": billing_months(service.get("periodType")),
        }
        for service in records(services, "services")
        if service.get("isActive") is not False
    ]
    return _frame(rows, CATALOG), reader.warnings()


def records_frame(entity: str, items: Iterable[Record]) -> pl.DataFrame:
    """Give back one row per record (RECORDS): its entity, external id and last change."""
    rows = [
        {"entity": entity, "external_id": str(r["id"]), "updated_at": updated_at(r)} for r in items
    ]
    return pl.DataFrame(rows, schema=RECORDS)


def updated_at(record: Record) -> datetime | None:
    """Give back a record's latest change: the later of `lastTrackedModifiedDateTime`,
    `lastActivityDate` and `lastModifiedDate` it has, as a UTC datetime (None without one)."""
    moments = [
        _timestamp(record.get(name))
        for name in ("lastTrackedModifiedDateTime", "lastActivityDate", "lastModifiedDate")
    ]
    found = [moment for moment in moments if moment is not None]
    return max(found) if found else None


def companies_since(since: datetime) -> list[dict[str, Any]]:
    """Give back the filter for companies changed after `since` less the skew."""
    moment = (_utc(since) - SKEW).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [
        {
            "op": "or",
            "items": [
                {"op": "gt", "field": "lastActivityDate", "value": moment},
                {"op": "gt", "field": "lastTrackedModifiedDateTime", "value": moment},
            ],
        }
    ]


def units_on(today: date) -> list[dict[str, Any]]:
    """Give back the filter for contract service units whose period holds `today`."""
    return [
        {"op": "lte", "field": "startDate", "value": f"{today.isoformat()}T23:59:59.000Z"},
        {"op": "gte", "field": "endDate", "value": f"{today.isoformat()}T00:00:00.000Z"},
    ]


def _frame(rows: list[dict[str, Any]], schema: dict[str, Any]) -> pl.DataFrame:
    wide = {
        name: (pl.Decimal(38, 4) if dtype == QUANTITY else dtype) for name, dtype in schema.items()
    }
    return conform(pl.DataFrame(rows, schema=wide), schema).collect()


def _active(contract: Record, entity: str) -> bool:
    status = contract.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int | str)):
        raise _schema(entity, f"{_which(entity, contract)} has status {status!r}")
    return status is not None and str(status) == str(ACTIVE)


def _schema(entity: str, what: str) -> ConnectorError:
    return ConnectorError(
        f"{NAME} sent {entity} in a shape TrueUp does not expect: {what}. Check that the zone "
        "URL ends in /V1.0/ and that the API user's security level may read contracts.",
        kind=ConnectorErrorKind.SCHEMA,
    )


def _which(entity: str, record: Record) -> str:
    singular = {"companies": "company", "contract service units": "contract service unit"}.get(
        entity, entity.removesuffix("s")
    )
    return f"{singular} {record.get('id')}"


def _kind(value: Any) -> str:
    if isinstance(value, Mapping):
        keys = ", ".join(list(map(str, value))[:4])
        return f"an object ({keys})" if keys else "an empty object"
    return "null" if value is None else type(value).__name__


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n} {noun}s"


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _id(record: Record | None) -> str:
    return str(record.get("id")) if record else ""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _day(value: Any) -> date | None:
    moment = _timestamp(value)
    return moment.date() if moment is not None else None


# -- fetching: Autotask's API through the shared HTTP layer -------------------------------------


def discover_zone(
    settings: AutotaskSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Give back the REST base of the API user's zone, ending in `/V1.0/`.

    Only the username is sent: zone discovery needs no secret.
    """
    with ApiClient(NAME, settings.discovery_url, transport=transport, sleep=sleep) as lookup:
        try:
            answer = lookup.get_json("zoneInformation", params={"user": settings.username})
        except ConnectorError as error:
            if error.kind in (ConnectorErrorKind.UNREACHABLE, ConnectorErrorKind.RATE_LIMITED):
                raise
            raise ConnectorError(
                f"{NAME} could not tell the zone of the API user {settings.username!r} ({error}). "
                "Check the username: it is the API user's full login, e.g. "
                "api@example.com.",
                kind=ConnectorErrorKind.AUTH,
            ) from error
    url = answer.get("url") if isinstance(answer, dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConnectorError(
            f"{NAME} sent zone information without a zone URL for {settings.username!r} "
            f"(got {_kind(answer)}). Check the username, or set the zone URL on the source.",
            kind=ConnectorErrorKind.SCHEMA,
        )
    return url.rstrip("/") + "/V1.0/"


def connect(
    settings: AutotaskSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    concurrency: int = CONCURRENCY,
    sleep: Callable[[float], None] = time.sleep,
) -> ApiClient:
    """Give back a client for the Autotask zone of `settings`, discovering it unless it is set."""
    base = settings.zone_url or discover_zone(settings, transport=transport, sleep=sleep)
    return ApiClient(
        NAME,
        base if base.endswith("/") else base + "/",
        headers=settings.headers(),
        transport=transport,
        concurrency=min(max(1, concurrency), CONCURRENCY),
        sleep=sleep,
    )


def read_psa(
    client: ApiClient,
    *,
    since: datetime | None = None,
    today: date | None = None,
) -> PsaPull:
    """Give back what Autotask holds: every active line and service, and every company, or with
    `since` (a quick sync) only the companies changed since then. Raises ConnectorError."""
    today = today or datetime.now(UTC).date()
    reads: dict[str, tuple[str, list[dict[str, Any]]]] = {
        "companies": ("Companies", companies_since(since) if since is not None else EVERY),
        "contracts": ("Contracts", [{"op": "eq", "field": "status", "value": ACTIVE}]),
        "contract services": ("ContractServices", EVERY),
        "contract service units": ("ContractServiceUnits", units_on(today)),
        "services": ("Services", EVERY),
    }
    with _explained(), ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        pulled = dict(
            zip(
                reads,
                pool.map(lambda e: query(client, reads[e][0], e, reads[e][1]), reads),
                strict=True,
            )
        )
    contracts = [c for c in pulled["contracts"] if _active(c, "contracts")]
    lines = lines_from_records(
        pulled["companies"],
        contracts,
        pulled["contract services"],
        pulled["contract service units"],
        pulled["services"],
        today=today,
    )
    catalog, catalog_warnings = catalog_from_records(pulled["services"])
    read = pl.concat(
        [
            records_frame("company", pulled["companies"]),
            records_frame("contract", contracts),
            records_frame("contract service", pulled["contract services"]),
            records_frame("contract service unit", pulled["contract service units"]),
            records_frame("service", pulled["services"]),
        ]
    )
    company_times = read.filter(pl.col("entity") == "company")["updated_at"].max()
    seen = [m for m in (company_times, since and _utc(since)) if isinstance(m, datetime)]
    return PsaPull(
        lines=lines.frame,
        catalog=catalog,
        records=read,
        contract_ids=frozenset(str(c["id"]) for c in contracts),
        cancelled=lines.cancelled,
        cursor=max(seen) if seen else None,
        since=since,
        warnings=tuple(lines.warnings + catalog_warnings),
    )


def check_connection(client: ApiClient) -> None:
    """Read one company, or raise a ConnectorError saying what is wrong (user, secret, rights)."""
    with _explained():
        search = {"filter": EVERY, "MaxRecords": 1, "IncludeFields": ["id"]}
        client.send("GET", "Companies/query", params={"search": json.dumps(search)})


def query(
    client: ApiClient,
    entity: str,
    label: str,
    filters: list[dict[str, Any]],
    *,
    size: int = PAGE_SIZE,
) -> list[Record]:
    """Give back every `entity` record ("Companies", ...) matching `filters`, `size` a page,
    following `pageDetails.nextPageUrl`; `label` names the entity in errors."""
    search = json.dumps({"filter": filters, "MaxRecords": size}, separators=(",", ":"))
    pages = next_url_pages(
        client,
        f"{entity}/query",
        params={"search": search},
        items_key="items",
        next_key="pageDetails.nextPageUrl",
    )
    return records([record for page in pages for record in page], label)


@contextmanager
def _explained() -> Iterator[None]:
    """Say, for a 401, which Autotask settings to check."""
    try:
        yield
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.AUTH:
            raise
        raise ConnectorError(
            f"{NAME} refused the API user (HTTP 401): the username, secret or integration code "
            "(tracking identifier) is wrong, or the user is not an active API-only user. Check "
            "them in the source's settings and under Admin > Resources/Users in Autotask.",
            kind=ConnectorErrorKind.AUTH,
        ) from error
