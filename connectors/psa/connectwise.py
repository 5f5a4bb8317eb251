"""ConnectWise PSA, the read side: companies, active agreements, their additions and the product
catalogue, as the engine's PSA_LINES and CATALOG frames (DESIGN 5; API-NOTES 1, 8, 9).

Parsing (records in, frames out) is kept apart from fetching, so it is tested on small dicts.
What a sync keeps:

- an account is a company (`id`, `name`, `website`); a contract is an agreement whose
  `agreementStatus` is "Active" (and not `cancelledFlag`); a line is an agreement addition, its
  `id` the line id, its product the catalogue item's `identifier` (API-NOTES 9: the product key).
- Numbers become exact decimals, never through float arithmetic: the HTTP layer parses JSON
  numbers as floats, and each is read back through its shortest repr (`str`), which is the
  literal ConnectWise sent (up to 15 significant digits); Decimals are taken as they are. They
  are rounded half-up to 4 places (DESIGN 4.9); a warning counts the values that had more.
- An addition cancelled on or before today is left out of the lines and listed in
  `PsaPull.cancelled`, so that a quick sync can drop it; one cancelled later still bills and
  is kept. An addition effective after today is left out until then (an effective-dated
  write-back adds one beside the addition it replaces from that date). Additions marked
  "DoNotBill" or "NoCharge" are kept: they are seats on the agreement.
- An addition with no product is left out, with a warning naming it.
- The billing cycle is the agreement's `billingCycle.name`, read as months like a CSV's
  (monthly 1, quarterly 3, semi-annual 6, annual 12); an unknown one is monthly, with a warning.
- Proration is the agreement's `prorateFlag`.

Quick sync (`since` given) asks for `lastUpdated>[since - 5 min]` on companies, additions and
catalogue items (the skew of API-NOTES 8.3 covers records changed while the last sync ran). It
still reads every active agreement, without that condition: additions are only reachable per
agreement, and the full list of active agreements (`PsaPull.contract_ids`) tells which contracts
ended. An agreement or company changed since the cursor has all its additions read again, so
their lines carry its new name, cycle or proration. The next cursor is the latest
`_info.lastUpdated` seen.

Assumptions taken from lines of API-NOTES marked [L] (low confidence), or from outside it:

1. [L] Whether an edit to an addition bumps its agreement's `lastUpdated` is not documented:
   quick sync does not rely on it, and asks every active agreement for its changed additions.
2. [L] The forward-only pagination header name is unverified: not used; plain `page`/`pageSize`
   (1000) with `orderBy=id asc`, reading pages until one comes back short.
3. [L] The "60 requests/min" figure is unverified: nothing is hard-coded; the HTTP layer honours
   `Retry-After`, and additions are read with at most `concurrency` requests at once.
4. (not in API-NOTES; field names from pyconnectwise's `CatalogItem` model) the catalogue is
   `GET /procurement/catalog` with `identifier`, `description`, `inactiveFlag`, `price`, `cost`,
   `recurringFlag`, `recurringRevenue`, `recurringCost`, `recurringBillCycle{name}`; a recurring
   item's price is its recurring revenue, per its recurring bill cycle.
5. (not in API-NOTES) `agreementStatus="Active"` works in `conditions`; the client filters again.
6. (not in API-NOTES) billing cycle names are English words like "Monthly", "Quarterly",
   "Semi-Annual", "Annual".

Write-back (`apply_change`, API-NOTES 1 and 9), setting `write_mode` in_place (default) or
effective_dated. Assumptions beyond the notes:

7. (not in API-NOTES) JSON Patch `replace` works on `cancelledDate` as on `quantity`, and dates
   are written as `YYYY-MM-DDT00:00:00Z`.
8. (not in API-NOTES) `POST /finance/agreements/{id}/additions` takes `product{id}`,
   `quantity`, `billCustomer`, `effectiveDate`, `unitPrice`, `unitCost`, `description`, and
   answers with the new addition and its `id`; New Revenue finds the catalogue item's `id` by
   `conditions=identifier="..."` (the read side keeps the identifier as the product id).
9. (not in API-NOTES) the additions of one agreement fit in one page of 1000 when looking for
   an addition a change added already.
10. (not in API-NOTES) an addition's `cancelledDate` is the first day it no longer bills: the
   read side drops one cancelled on or before today, and an effective-dated change cancels the
   old addition from the day the new one starts.
"""

from __future__ import annotations

import base64
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
from connectors.http import ApiClient, body_mentions_timeout, page_numbers
from connectors.psa.pull import Lines, PsaPull, next_cursor
from connectors.records import (
    NumberReader,
    Record,
    Source,
    count,
    day,
    exact,
    flag,
    frame,
    text,
    timestamp,
    utc,
)
from connectors.records import records_frame as _records_frame
from connectors.writeback import ChangeResult, Mode, QuantityChange, Status, shown
from engine.schema import CATALOG, PSA_LINES
from errors import ConnectorError, ConnectorErrorKind, TrueUpError

NAME = "ConnectWise"
PAGE_SIZE = 1000
SKEW = timedelta(minutes=5)
ACTIVE = 'agreementStatus="Active"'
SOURCE = Source(
    NAME,
    "Check that the base URL ends in /apis/3.0 and that the API member may read finance and "
    "company records.",
    {"companies": "company", "catalogue items": "catalogue item"},
)


@dataclass(frozen=True)
class ConnectWiseSettings:
    """Where the ConnectWise API is and the API member's keys; the keys never show in a repr.

    `base_url` ends in `/apis/3.0`, e.g. `https://api-na.myconnectwise.net/v4_6_release/apis/3.0`.
    """

    base_url: str
    company_id: str
    public_key: str = field(repr=False)
    private_key: str = field(repr=False)
    client_id: str = field(repr=False)

    def headers(self) -> dict[str, str]:
        """Give back the headers every request carries: Basic auth and the clientId."""
        pair = f"{self.company_id}+{self.public_key}:{self.private_key}"
        token = base64.b64encode(pair.encode()).decode("ascii")
        return {
            "Authorization": f"Basic {token}",
            "clientId": self.client_id,
            "Accept": "application/json",
        }


# -- parsing: records in, frames out ------------------------------------------------------------


def updated_at(record: Record) -> datetime | None:
    """Give back a record's `_info.lastUpdated` as a UTC datetime (None when it has none)."""
    info = record.get("_info")
    value = info.get("lastUpdated") if isinstance(info, Mapping) else None
    return timestamp(value) if isinstance(value, str) else None


def billing_months(cycle: Any) -> int | None:
    """Give back a billing cycle reference (`{"name": "Quarterly"}`) as months; None if unknown."""
    name = cycle.get("name") if isinstance(cycle, Mapping) else None
    if not isinstance(name, str):
        return None
    key = "".join(ch for ch in name.lower() if ch not in " _-")
    return CYCLES.get(key)


def lines_from_records(
    companies: list[Record],
    agreements: list[Record],
    additions: list[Record],
    *,
    today: date,
) -> Lines:
    """Give back the agreement lines: one row per addition of an active agreement (PSA_LINES).

    `companies` may be a subset (a quick sync reads only the changed ones): a line of a company
    not among them takes its account name from the agreement and has no website.
    """
    reader = NumberReader(SOURCE)
    warnings: list[str] = []
    accounts = {
        str(c["id"]): (text(c.get("name")), text(c.get("website")))
        for c in SOURCE.records(companies, "companies")
    }
    contracts: dict[str, dict[str, Any]] = {}
    unknown_cycles: set[str] = set()
    for agreement in SOURCE.records(agreements, "agreements"):
        if not _active(agreement):
            continue
        company = agreement.get("company")
        if not isinstance(company, Mapping) or company.get("id") is None:
            raise SOURCE.error(
                "agreements", f"{SOURCE.which('agreements', agreement)} has no company"
            )
        months = billing_months(agreement.get("billingCycle"))
        if months is None and agreement.get("billingCycle") is not None:
            unknown_cycles.add(str(_ref_name(agreement.get("billingCycle"))))
        account_id = str(company["id"])
        name, website = accounts.get(account_id, (text(company.get("name")), None))
        contracts[str(agreement["id"])] = {
            "account_id": account_id,
            "account_name": name,
            "contract_id": str(agreement["id"]),
            "contract_name": text(agreement.get("name")),
            "prorate": flag(agreement.get("prorateFlag")),
            "billing_months": months if months is not None else 1,
            "account_website": website,
        }
    rows: list[dict[str, Any]] = []
    cancelled: set[str] = set()
    no_product: list[str] = []
    for addition in SOURCE.records(additions, "agreement additions"):
        line_id = str(addition["id"])
        quantity = reader.number(addition, "quantity", "agreement additions", required=True)
        cancelled_on = day(addition.get("cancelledDate"))
        if cancelled_on is not None and cancelled_on <= today:
            cancelled.add(line_id)
            continue
        starts = day(addition.get("effectiveDate"))
        if starts is not None and starts > today:
            continue  # bills from a later date: counting it now would bill its seats twice
        contract = contracts.get(str(addition.get("agreementId")))
        if contract is None:
            continue
        product = addition.get("product")
        product_id = product.get("identifier") if isinstance(product, Mapping) else None
        if not product_id:
            no_product.append(line_id)
            continue
        rows.append(
            {
                **contract,
                "product_id": str(product_id),
                "product_name": text(addition.get("description")) or str(product_id),
                "line_id": line_id,
                "quantity": quantity,
                "unit_price": reader.number(addition, "unitPrice", "agreement additions"),
                "unit_cost": reader.number(addition, "unitCost", "agreement additions"),
            }
        )
    if no_product:
        shown = ", ".join(no_product[:5]) + (" ..." * (len(no_product) > 5))
        warnings.append(
            f"{count(len(no_product), 'agreement addition')} with no product left out (ids {shown})"
        )
    if unknown_cycles:
        shown = ", ".join(f'"{c}"' for c in sorted(unknown_cycles)[:3])
        warnings.append(
            f"Billing cycles that are not monthly, quarterly, semi-annual or annual ({shown}) "
            "were read as monthly"
        )
    return Lines(frame(rows, PSA_LINES), frozenset(cancelled), reader.warnings() + warnings)


def catalog_from_records(items: list[Record]) -> tuple[pl.DataFrame, list[str]]:
    """Give back the catalogue: one row per active catalogue item (CATALOG), and the warnings.

    A recurring item is priced by its recurring revenue and cost, per its recurring bill cycle;
    any other item by its price and cost.
    """
    reader = NumberReader(SOURCE)
    rows = []
    for item in SOURCE.records(items, "catalogue items"):
        if item.get("inactiveFlag") is True or not item.get("identifier"):
            continue
        recurring = item.get("recurringFlag") is True
        price, cost = ("recurringRevenue", "recurringCost") if recurring else ("price", "cost")
        rows.append(
            {
                "product_id": str(item["identifier"]),
                "product_name": text(item.get("description")),
                "unit_price": reader.number(item, price, "catalogue items"),
                "unit_cost": reader.number(item, cost, "catalogue items"),
                "billing_months": billing_months(item.get("recurringBillCycle"))
                if recurring
                else None,
            }
        )
    return frame(rows, CATALOG), reader.warnings()


def records_frame(entity: str, items: Iterable[Record]) -> pl.DataFrame:
    """Give back one row per record (RECORDS): its entity, external id and `_info.lastUpdated`."""
    return _records_frame(entity, items, updated_at)


def condition_since(since: datetime) -> str:
    """Give back the `conditions` clause for records changed after `since` less the skew."""
    moment = utc(since) - SKEW
    return f"lastUpdated>[{moment.strftime('%Y-%m-%dT%H:%M:%SZ')}]"


def _active(agreement: Record) -> bool:
    status = agreement.get("agreementStatus")
    return (status is None or status == "Active") and agreement.get("cancelledFlag") is not True


def _ref_name(reference: Any) -> Any:
    return reference.get("name") if isinstance(reference, Mapping) else reference


# -- fetching: ConnectWise's API through the shared HTTP layer ----------------------------------


def connect(
    settings: ConnectWiseSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    concurrency: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> ApiClient:
    """Give back a client for the ConnectWise API of `settings`, its 500 timeouts retried."""
    return ApiClient(
        NAME,
        settings.base_url,
        headers=settings.headers(),
        transport=transport,
        concurrency=concurrency,
        sleep=sleep,
        retry_500=body_mentions_timeout,
    )


def read_psa(
    client: ApiClient,
    *,
    since: datetime | None = None,
    today: date | None = None,
    concurrency: int = 4,
) -> PsaPull:
    """Give back what ConnectWise holds: every active line and catalogue item, or with `since`
    (a quick sync) only those changed since then. Raises ConnectorError."""
    today = today or datetime.now(UTC).date()
    changed = condition_since(since) if since is not None else None
    with _explained():
        companies = read_all(client, "company/companies", "companies", changed)
        agreements = [
            a for a in read_all(client, "finance/agreements", "agreements", ACTIVE) if _active(a)
        ]
        additions = _additions(client, agreements, companies, since, concurrency)
        items = read_all(client, "procurement/catalog", "catalogue items", changed)
    lines = lines_from_records(companies, agreements, additions, today=today)
    catalog, catalog_warnings = catalog_from_records(items)
    read = pl.concat(
        [
            records_frame("company", companies),
            records_frame("agreement", agreements),
            records_frame("addition", additions),
            records_frame("product", items),
        ]
    )
    latest = read["updated_at"].max()
    return PsaPull(
        lines=lines.frame,
        catalog=catalog,
        records=read,
        contract_ids=frozenset(str(a["id"]) for a in agreements),
        cancelled=lines.cancelled,
        cursor=next_cursor(latest, since),
        since=since,
        warnings=tuple(lines.warnings + catalog_warnings),
    )


def check_connection(client: ApiClient) -> None:
    """Read one company, or raise a ConnectorError saying what is wrong (keys, URL, rights)."""
    with _explained():
        client.send("GET", "company/companies", params={"page": 1, "pageSize": 1, "fields": "id"})


def read_all(
    client: ApiClient, path: str, entity: str, conditions: str | None = None
) -> list[Record]:
    """Give back every record at `path` matching `conditions`, a page of 1000 at a time."""
    params = {"orderBy": "id asc"}
    if conditions:
        params["conditions"] = conditions
    pages = page_numbers(
        client, path, params=params, size=PAGE_SIZE, items=lambda body: SOURCE.records(body, entity)
    )
    return [record for page in pages for record in page]


def _additions(
    client: ApiClient,
    agreements: list[Record],
    companies: list[Record],
    since: datetime | None,
    concurrency: int,
) -> list[Record]:
    """Give back the additions of each agreement, at most `concurrency` agreements at once.

    On a quick sync, an agreement or company changed since the cursor has all its additions read
    again; any other agreement only those changed.
    """
    changed_companies = {str(c["id"]) for c in companies}
    moment = utc(since) - SKEW if since is not None else None

    def conditions(agreement: Record) -> str | None:
        if since is None:
            return None
        touched = updated_at(agreement)
        company = agreement.get("company")
        company_id = str(company.get("id")) if isinstance(company, Mapping) else None
        if company_id in changed_companies or (
            touched is not None and moment is not None and touched > moment
        ):
            return None
        return condition_since(since)

    def read(agreement: Record) -> list[Record]:
        path = f"finance/agreements/{agreement['id']}/additions"
        found = read_all(client, path, "agreement additions", conditions(agreement))
        return [{"agreementId": agreement["id"], **addition} for addition in found]

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return [addition for found in pool.map(read, agreements) for addition in found]


@contextmanager
def _explained() -> Iterator[None]:
    """Say, for a 401, which ConnectWise settings to check."""
    try:
        yield
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.AUTH:
            raise
        raise ConnectorError(
            f"{NAME} refused the API keys (HTTP 401): the company id, public key or private key "
            "is wrong, or the API member's keys were revoked. Check them in the source's "
            "settings (the keys of an API member, under System > Members > API Members) and "
            "that the client id is one registered with ConnectWise.",
            kind=ConnectorErrorKind.AUTH,
        ) from error


# -- writing back: one approved change (API-NOTES 1 "PATCH an addition's quantity", 9) ---------

WRITE_MODES: tuple[Mode, ...] = ("in_place", "effective_dated")


def write_mode(value: str | None) -> Mode:
    """Give back the write mode a source's `write_mode` setting names (default in place)."""
    chosen = (value or "in_place").strip().lower().replace("-", "_")
    for mode in WRITE_MODES:
        if chosen == mode:
            return mode
    raise TrueUpError(
        f'write_mode "{value}" is not one TrueUp knows: use in_place (edit the addition\'s '
        "quantity) or effective_dated (end the addition and add a new one from the date)"
    )


def apply_change(client: ApiClient, change: QuantityChange) -> ChangeResult:
    """Give back what came of writing one approved change to ConnectWise.

    Reads first, always: an addition already at the new quantity (or a new addition already
    added) is `noop`, one at another quantity than the approver saw is `conflict`, and nothing
    is written. In place, the quantity is patched; effective-dated, the addition is cancelled
    from the effective date and a new one added from that date. Each write is read back.
    A write refused by ConnectWise (HTTP 4xx) is `rejected`; a write whose answer never came
    raises a ConnectorError with `outcome_unknown`, and the next attempt starts by reading.
    """
    steps = _Steps(client, change)
    try:
        if change.line_id is None:
            return _add_line(steps, change)
        if change.mode == "effective_dated":
            return _replace_line(steps, change)
        return _edit_line(steps, change)
    except ConnectorError as error:
        if error.outcome_unknown or error.kind is not ConnectorErrorKind.REJECTED:
            raise
        return steps.result("rejected", message=str(error))


class _Steps:
    """The requests of one change, kept for the audit log (method, path, body; no headers)."""

    def __init__(self, client: ApiClient, change: QuantityChange) -> None:
        self.client = client
        self.change = change
        self.sent: list[dict[str, Any]] = []
        self.answers: list[dict[str, Any]] = []

    def read(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        body = self.client.get_json(path, params)
        self.answers.append({"method": "GET", "path": path, "body": body})
        return body

    def write(self, method: str, path: str, body: Any) -> Any:
        self.sent.append({"method": method, "path": path, "body": body})
        response = self.client.send(method, path, json=body)
        answer = self.client.parse_json(response) if response.content else None
        self.answers.append(
            {"method": method, "path": path, "status": response.status_code, "body": answer}
        )
        return answer

    def addition(self, agreement: str, line: str) -> Record:
        found = self.read(f"finance/agreements/{agreement}/additions/{line}")
        if not isinstance(found, dict) or found.get("quantity") is None:
            raise SOURCE.error("agreement additions", f"addition {line} came back without quantity")
        return found

    def result(self, status: Status, **values: Any) -> ChangeResult:
        request = {"idempotency_key": self.change.idempotency_key, "writes": self.sent}
        return ChangeResult(status, request=request, response={"answers": self.answers}, **values)


def _edit_line(steps: _Steps, change: QuantityChange) -> ChangeResult:
    agreement, line = str(change.contract_id), str(change.line_id)
    path = f"finance/agreements/{agreement}/additions/{line}"
    try:
        found = _quantity(steps.addition(agreement, line))
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.NOT_FOUND:
            raise
        return _gone(steps, agreement, line)
    early = _compare(steps, found, change, line)
    if early is not None:
        return early
    steps.write("PATCH", path, [{"op": "replace", "path": "quantity", "value": _json(change)}])
    back = _quantity(steps.addition(agreement, line))
    if back != change.new_quantity:
        return steps.result(
            "failed",
            applied_quantity=back,
            message=f"{NAME} shows {shown(back)} on addition {line} after TrueUp wrote "
            f"{shown(change.new_quantity)}: check the addition in {NAME}",
        )
    return steps.result("applied", applied_quantity=back)


def _replace_line(steps: _Steps, change: QuantityChange) -> ChangeResult:
    agreement, line = str(change.contract_id), str(change.line_id)
    path = f"finance/agreements/{agreement}/additions/{line}"
    # Cancelled from the day the new addition starts: an addition cancelled on or before a day
    # no longer bills that day (as the read side takes it), so no day has both or neither.
    end = change.effective_date
    try:
        old = steps.addition(agreement, line)
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.NOT_FOUND:
            raise
        return _gone(steps, agreement, line)
    product = _identifier(old)
    cut = day(old.get("cancelledDate"))
    ours = cut == end  # cancelled by an earlier attempt of this change
    added = _added(steps, agreement, product, change, besides=line)
    if ours and (change.new_quantity == 0 or added is not None):
        return steps.result(
            "noop",
            applied_quantity=change.new_quantity,
            new_line_id=_id(added),
            message=f"{NAME} already shows addition {line} ended on {end}"
            + (f" and addition {_id(added)} from {change.effective_date}" if added else ""),
        )
    if not ours:
        if cut is not None:
            return steps.result(
                "conflict",
                message=f"addition {line} is already cancelled from {cut} in {NAME}; nothing "
                "was written. Sync, and decide the card again",
            )
        early = _compare(steps, _quantity(old), change, line)
        if early is not None:
            return early
    elif change.dry_run:
        return steps.result("applied", message="dry run: would add the new addition")
    if not ours:
        value = f"{end.isoformat()}T00:00:00Z"
        steps.write("PATCH", path, [{"op": "replace", "path": "cancelledDate", "value": value}])
    new_id: str | None = None
    if change.new_quantity > 0:
        body = {
            key: old[key]
            for key in ("product", "description", "unitPrice", "unitCost", "taxableFlag")
            if old.get(key) is not None
        }
        body |= {
            "billCustomer": old.get("billCustomer") or "Billable",
            "effectiveDate": f"{change.effective_date.isoformat()}T00:00:00Z",
            "quantity": _json(change),
        }
        posted = steps.write("POST", f"finance/agreements/{agreement}/additions", body)
        new_id = _id(posted)
    ended = day(steps.addition(agreement, line).get("cancelledDate"))
    back = _quantity(steps.addition(agreement, new_id)) if new_id else Decimal(0)
    if ended != end or back != change.new_quantity:
        return steps.result(
            "failed",
            applied_quantity=back,
            new_line_id=new_id,
            message=f"{NAME} shows addition {line} ending {ended or 'never'} and "
            f"{shown(back)} from {change.effective_date} after TrueUp wrote them: check the "
            f"agreement in {NAME}",
        )
    return steps.result("applied", applied_quantity=back, new_line_id=new_id)


def _add_line(steps: _Steps, change: QuantityChange) -> ChangeResult:
    """New Revenue: add an addition of the product to the agreement, unless one is there."""
    if change.contract_id is None:
        return steps.result(
            "rejected",
            message="New Revenue with no agreement to add it to: approve it again "
            "with an agreement",
        )
    agreement = str(change.contract_id)
    added = _added(steps, agreement, change.product_id, change)
    if added is not None:
        return steps.result(
            "noop",
            applied_quantity=change.new_quantity,
            new_line_id=_id(added),
            message=f"{NAME} already has addition {_id(added)} of {shown(change.new_quantity)} "
            f"{change.product_id} from {change.effective_date}",
        )
    path = f"finance/agreements/{agreement}/additions"
    others = [
        a
        for a in SOURCE.records(steps.read(path, {"pageSize": PAGE_SIZE}), "agreement additions")
        if _identifier(a) == change.product_id and _billing(a, change.effective_date)
    ]
    if others:
        first = others[0]
        return steps.result(
            "conflict",
            applied_quantity=_quantity(first),
            message=f"agreement {agreement} already has addition {first['id']} of "
            f"{change.product_id} ({_quantity(first)}): it was added since the last sync. "
            "Nothing was written; sync, and decide the card again",
        )
    if change.dry_run:
        return steps.result("applied", message=f"dry run: would add {shown(change.new_quantity)}")
    condition = f'identifier="{change.product_id}"'
    items = [
        i
        for i in SOURCE.records(
            steps.read("procurement/catalog", {"conditions": condition}), "catalogue items"
        )
        if i.get("identifier") == change.product_id
    ]
    if not items:
        return steps.result(
            "rejected",
            message=f"{change.product_id} is not in the {NAME} catalogue: add the product to "
            "the catalogue, then apply again",
        )
    item = items[0]
    recurring = item.get("recurringFlag") is True
    price, cost = ("recurringRevenue", "recurringCost") if recurring else ("price", "cost")
    body = {
        "product": {"id": item["id"], "identifier": change.product_id},
        "description": item.get("description"),
        "unitPrice": item.get(price),
        "unitCost": item.get(cost),
        "billCustomer": "Billable",
        "effectiveDate": f"{change.effective_date.isoformat()}T00:00:00Z",
        "quantity": _json(change),
    }
    new_id = _id(steps.write("POST", path, {k: v for k, v in body.items() if v is not None}))
    if new_id is None:
        raise SOURCE.error("agreement additions", "a new addition came back without an id")
    back = _quantity(steps.addition(agreement, new_id))
    if back != change.new_quantity:
        return steps.result(
            "failed",
            applied_quantity=back,
            new_line_id=new_id,
            message=f"{NAME} shows {shown(back)} on new addition {new_id} after TrueUp wrote "
            f"{shown(change.new_quantity)}: check it in {NAME}",
        )
    return steps.result("applied", applied_quantity=back, new_line_id=new_id)


def _compare(
    steps: _Steps, found: Decimal, change: QuantityChange, line: str
) -> ChangeResult | None:
    """Give back the result that ends a change before writing (noop, conflict, a dry run)."""
    if found == change.new_quantity:
        return steps.result(
            "noop", applied_quantity=found, message=f"{NAME} already shows {shown(found)}"
        )
    if change.expected_quantity is None or found != change.expected_quantity:
        return steps.result(
            "conflict",
            applied_quantity=found,
            message=f"{NAME} shows {shown(found)} on addition {line}, not the "
            f"{shown(change.expected_quantity)} the approver saw: nothing was written. Sync, and "
            "decide the card again",
        )
    if change.dry_run:
        return steps.result(
            "applied",
            applied_quantity=found,
            message=f"dry run: {NAME} shows {shown(found)}; would write "
            f"{shown(change.new_quantity)}",
        )
    return None


def _added(
    steps: _Steps, agreement: str, product: str | None, change: QuantityChange, besides: str = ""
) -> Record | None:
    """Give back the addition this change adds, if it is on the agreement already: the same
    product, from the effective date, at the new quantity, not cancelled."""
    path = f"finance/agreements/{agreement}/additions"
    found = SOURCE.records(steps.read(path, {"pageSize": PAGE_SIZE}), "agreement additions")
    for addition in found:
        if (
            str(addition["id"]) != besides
            and _identifier(addition) == product
            and day(addition.get("effectiveDate")) == change.effective_date
            and addition.get("cancelledDate") is None
            and _quantity(addition) == change.new_quantity
        ):
            return addition
    return None


def _gone(steps: _Steps, agreement: str, line: str) -> ChangeResult:
    return steps.result(
        "conflict",
        message=f"addition {line} is no longer on agreement {agreement} in {NAME}: nothing "
        "was written. Sync, and decide the card again",
    )


def _billing(addition: Record, on: date) -> bool:
    cut = day(addition.get("cancelledDate"))
    return cut is None or cut >= on


def _quantity(addition: Record) -> Decimal:
    number = exact(addition.get("quantity"))
    if number is None:
        what = f"addition {addition.get('id')} has quantity {addition.get('quantity')!r}"
        raise SOURCE.error("agreement additions", what)
    return number


def _identifier(addition: Record) -> str | None:
    product = addition.get("product")
    found = product.get("identifier") if isinstance(product, Mapping) else None
    return str(found) if found else None


def _id(record: Any) -> str | None:
    return str(record["id"]) if isinstance(record, Mapping) and "id" in record else None


def _json(change: QuantityChange) -> int | float:
    """Give back the new quantity as a JSON number: whole numbers as integers."""
    quantity = change.new_quantity
    return int(quantity) if quantity == quantity.to_integral_value() else float(quantity)
