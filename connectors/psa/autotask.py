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

The write side (`apply_change`, API-NOTES 2 "Quantity write-back", 9) changes a contract
service's units with a ContractServiceAdjustment: `POST ContractServiceAdjustments` with the
contract, contract service, service, `effectiveDate` (midnight UTC) and `unitChange`, the signed
whole number of units to add. An adjustment carries its own date, so it is sent at once
(`WRITE_MODE`). Adjustments are create-only and cannot be read back, and sending one twice adds
twice: the guard is the read before it. The units of the period holding the effective date are
read first (already the new quantity: `noop`; neither that nor what the approver saw:
`conflict`), and read again afterwards to verify. An attempt whose outcome was unknown (a timeout
after the POST) is retried by reading first, and finds the change made.

New Revenue (a service not yet on the contract) is rejected with a message saying to add it in
Autotask: creating a contract service is a second create-only write, and what units and period a
new service starts with is not in the notes, so a half-done attempt could be neither guarded nor
verified. Once added in Autotask and synced, the card is an ordinary change of units.

More assumptions, for the write side:

10. [L] (API-NOTES 2: "Current quantity of a contract service = units of the row where
    startDate <= today <= endDate") The units a change is checked against and verified by are
    those of the ContractServiceUnits row holding the effective date.
11. (not in API-NOTES) An adjustment changes the units from its effective date on, so the row
    holding that date shows the new units once it is made; Autotask's reply to the POST is kept
    for the audit log whatever its shape (`{"itemId": ...}` is expected).
12. (not in API-NOTES) A change Autotask refuses (HTTP 4xx: a date outside the contract, no
    permission to adjust) is `rejected` with Autotask's message; nothing was written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import polars as pl

from connectors.csv.parse import CYCLES
from connectors.http import ApiClient, next_url_pages
from connectors.psa.pull import Lines, PsaPull, next_cursor
from connectors.records import (
    NumberReader,
    Record,
    Source,
    count,
    day,
    exact,
    frame,
    kind,
    missing_settings,
    settings_of,
    text,
    timestamp,
    utc,
)
from connectors.records import records_frame as _records_frame
from connectors.writeback import ChangeResult, Mode, QuantityChange, shown
from engine.schema import CATALOG, PSA_LINES
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

PERIOD_MONTHS: dict[Any, int] = {1: 1, 2: 3, 3: 6, 4: 12, "m": 1, "q": 3, "s": 6, "y": 12}
"""A service's `periodType` as months (assumption 5 of the module docstring)."""

WRITE_MODE: Mode = "effective_dated"
"""How Autotask takes a change: an adjustment carrying its own effective date, sent at once."""

EVERY: list[dict[str, Any]] = [{"op": "gte", "field": "id", "value": 0}]
"""The filter of a full pull: Autotask wants one."""

SOURCE = Source(
    NAME,
    "Check that the zone URL ends in /V1.0/ and that the API user's security level may read "
    "contracts.",
    {"companies": "company", "contract service units": "contract service unit"},
)


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
        missing = missing_settings(values, ("username", "secret", "integration_code"))
        if missing:
            raise ConnectorError(
                f"Autotask needs {', '.join(missing)}: create an API-only user in Autotask "
                "(Admin > Resources/Users, security level API User) and set its username, "
                "secret and the integration's tracking identifier on the source.",
                kind=ConnectorErrorKind.AUTH,
            )
        return settings_of(cls, values)

    def headers(self) -> dict[str, str]:
        """Give back the headers every request to the zone carries."""
        return {
            "ApiIntegrationCode": self.integration_code,
            "UserName": self.username,
            "Secret": self.secret,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }


# -- parsing: records in, frames out ------------------------------------------------------------


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
    for row in SOURCE.records(units, "contract service units"):
        start, end = day(row.get("startDate")), day(row.get("endDate"))
        if start is None or start > today or (end is not None and end < today):
            continue
        key = str(row.get("contractServiceID"))
        held = current.get(key)
        if held is None or (start, _id(row)) > (day(held.get("startDate")), _id(held)):
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
    reader = NumberReader(SOURCE)
    accounts = {
        str(c["id"]): (text(c.get("companyName")), text(c.get("webAddress")))
        for c in SOURCE.records(companies, "companies")
    }
    catalogue = {str(s["id"]): s for s in SOURCE.records(services, "services")}
    contracts_by_id = {
        str(c["id"]): c for c in SOURCE.records(contracts, "contracts") if _active(c, "contracts")
    }
    now = current_units(units, today=today)
    rows: list[dict[str, Any]] = []
    cancelled: set[str] = set()
    no_product: list[str] = []
    unknown_periods: set[str] = set()
    for line in SOURCE.records(contract_services, "contract services"):
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
            raise SOURCE.error(
                "contracts", f"{SOURCE.which('contracts', contract)} has no companyID"
            )
        name, website = accounts.get(str(account_id), (None, None))
        rows.append(
            {
                "account_id": str(account_id),
                "account_name": name,
                "contract_id": str(contract["id"]),
                "contract_name": text(contract.get("contractName")),
                "product_id": product_id,
                "product_name": text(service.get("name"))
                or text(line.get("invoiceDescription"))
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
            f"{count(len(no_product), 'contract service')} with no service left out (ids {shown})"
        )
    if unknown_periods:
        shown = ", ".join(sorted(unknown_periods)[:3])
        warnings.append(
            f"Service period types that are not monthly, quarterly, semi-annual or yearly "
            f"({shown}) were read as monthly"
        )
    return Lines(frame(rows, PSA_LINES), frozenset(cancelled), reader.warnings() + warnings)


def catalog_from_records(services: list[Record]) -> tuple[pl.DataFrame, list[str]]:
    """Give back the catalogue: one row per active service (CATALOG), and the warnings."""
    reader = NumberReader(SOURCE)
    rows = [
        {
            "product_id": str(service["id"]),
            "product_name": text(service.get("name")),
            "unit_price": reader.number(service, "unitPrice", "services"),
            "unit_cost": reader.number(service, "unitCost", "services"),
            "billing_months": billing_months(service.get("periodType")),
        }
        for service in SOURCE.records(services, "services")
        if service.get("isActive") is not False
    ]
    return frame(rows, CATALOG), reader.warnings()


def records_frame(entity: str, items: Iterable[Record]) -> pl.DataFrame:
    """Give back one row per record (RECORDS): its entity, external id and last change."""
    return _records_frame(entity, items, updated_at)


def updated_at(record: Record) -> datetime | None:
    """Give back a record's latest change: the later of `lastTrackedModifiedDateTime`,
    `lastActivityDate` and `lastModifiedDate` it has, as a UTC datetime (None without one)."""
    moments = [
        timestamp(record.get(name))
        for name in ("lastTrackedModifiedDateTime", "lastActivityDate", "lastModifiedDate")
    ]
    found = [moment for moment in moments if moment is not None]
    return max(found) if found else None


def companies_since(since: datetime) -> list[dict[str, Any]]:
    """Give back the filter for companies changed after `since` less the skew."""
    moment = (utc(since) - SKEW).strftime("%Y-%m-%dT%H:%M:%S.000Z")
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


def _active(contract: Record, entity: str) -> bool:
    status = contract.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int | str)):
        raise SOURCE.error(entity, f"{SOURCE.which(entity, contract)} has status {status!r}")
    return status is not None and str(status) == str(ACTIVE)


def _id(record: Record | None) -> str:
    return str(record.get("id")) if record else ""


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
            f"(got {kind(answer)}). Check the username, or set the zone URL on the source.",
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
    return PsaPull(
        lines=lines.frame,
        catalog=catalog,
        records=read,
        contract_ids=frozenset(str(c["id"]) for c in contracts),
        cancelled=lines.cancelled,
        cursor=next_cursor(company_times, since),
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
    return SOURCE.records([record for page in pages for record in page], label)


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


# -- writing: a contract service's units changed by an adjustment -------------------------------


def apply_change(client: ApiClient, change: QuantityChange) -> ChangeResult:
    """Give back what came of changing a contract service's units from the change's effective
    date: read them, compare, send an adjustment for the difference, read them back.

    Raises ConnectorError when Autotask cannot be read, or when the outcome of the POST is
    unknown (`outcome_unknown`: the next attempt reads before sending again).
    """
    if change.line_id is None:
        return ChangeResult(
            "rejected",
            message=(
                f"TrueUp does not add services to Autotask contracts: add service "
                f"{change.product_id} to contract {change.contract_id} in Autotask (Contracts > "
                f"Services > New) with {shown(change.new_quantity)} units from "
                f"{change.effective_date.isoformat()}, then sync."
            ),
        )
    with _explained():
        found = units_at(client, change.line_id, change.effective_date)
    if found is None:
        return ChangeResult(
            "rejected",
            message=(
                f"Autotask has no units for contract service {change.line_id} on "
                f"{change.effective_date.isoformat()}: the contract may end before then or the "
                "service may have been removed. Sync, and check the contract in Autotask."
            ),
        )
    current = _units(found)
    checked = _compared(change, current, "contract service", "units")
    if checked is not None:
        return checked
    delta = change.new_quantity - current
    if delta != delta.to_integral_value():
        return ChangeResult(
            "rejected",
            applied_quantity=current,
            message=(
                f"Autotask changes units in whole numbers: {shown(current)} to "
                f"{shown(change.new_quantity)} is a change of {shown(delta)}. Approve a whole "
                "number of units."
            ),
        )
    body = {
        "contractID": _number(change.contract_id or found.get("contractID")),
        "contractServiceID": _number(change.line_id),
        "serviceID": _number(found.get("serviceID") or change.product_id),
        "effectiveDate": f"{change.effective_date.isoformat()}T00:00:00Z",
        "unitChange": int(delta),
    }
    request = {"method": "POST", "path": "ContractServiceAdjustments", "body": body}
    if change.dry_run:
        return ChangeResult(
            "applied",
            applied_quantity=current,
            request=request,
            message=(
                f"dry run: nothing sent; {shown(current)} units would become "
                f"{shown(change.new_quantity)}"
            ),
        )
    with _explained():
        try:
            response = client.send("POST", "ContractServiceAdjustments", json=body)
        except ConnectorError as error:
            if error.kind is not ConnectorErrorKind.REJECTED:
                raise
            return ChangeResult("rejected", request=request, message=str(error))
        answer = _reply(response)
        after = units_at(client, change.line_id, change.effective_date)
    applied = _units(after) if after is not None else None
    if applied != change.new_quantity:
        return ChangeResult(
            "failed",
            applied_quantity=applied,
            request=request,
            response=answer,
            message=(
                f"Autotask took the adjustment but contract service {change.line_id} shows "
                f"{shown(applied)} units on {change.effective_date.isoformat()}, not "
                f"{shown(change.new_quantity)}. Check the contract in Autotask before trying "
                "again."
            ),
        )
    return ChangeResult("applied", applied_quantity=applied, request=request, response=answer)


def units_at(client: ApiClient, line_id: str, when: date) -> Record | None:
    """Give back the ContractServiceUnits row of contract service `line_id` whose period holds
    `when`, or None when there is none."""
    filters = [{"op": "eq", "field": "contractServiceID", "value": _number(line_id)}]
    rows = query(client, "ContractServiceUnits", "contract service units", filters + units_on(when))
    return current_units(rows, today=when).get(str(line_id))


def _compared(
    change: QuantityChange, current: Decimal, what: str, unit: str
) -> ChangeResult | None:
    """Give back `noop` or `conflict` when the units found say not to write; else None."""
    if current == change.new_quantity:
        return ChangeResult("noop", applied_quantity=current)
    if change.expected_quantity is not None and current != change.expected_quantity:
        return ChangeResult(
            "conflict",
            applied_quantity=current,
            message=(
                f"Autotask's {what} {change.line_id} has {shown(current)} {unit} on "
                f"{change.effective_date.isoformat()}, not the "
                f"{shown(change.expected_quantity)} seen when the change was approved. Sync and "
                "look at the card again."
            ),
        )
    return None


def _units(row: Record) -> Decimal:
    """Give back a units row's `units`, exactly as Autotask sent it."""
    units = exact(row.get("units"))
    if units is None:
        which = SOURCE.which("contract service units", row)
        raise SOURCE.error(
            "contract service units", f"{which} has units {row.get('units')!r}, not a number"
        )
    return units


def _number(value: Any) -> Any:
    """Give back an id as Autotask's JSON has it: an integer when it is one."""
    text_value = str(value)
    return int(text_value) if text_value.lstrip("-").isdigit() else value


def _reply(response: httpx.Response) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return {"text": response.text[:500]} if response.text else None
    return answer if isinstance(answer, dict) else {"reply": answer}
