"""HaloPSA, the read side: clients, recurring invoices and their lines, and the items catalogue,
as the engine's PSA_LINES and CATALOG frames (DESIGN 5; API-NOTES 3, 8, 9).

Parsing (records in, frames out) is kept apart from fetching, so it is tested on small dicts.
What a sync keeps:

- an account is a client (`id`, `name`); a contract is a recurring invoice (`id`; named by its
  `contract_ref`), left out when marked `inactive`; a line is one of its lines (`id`), left out
  when `isinactive`, its product the item (`_itemid`: the id the items catalogue uses).
- The quantity is the line's `qty_order`, the unit price and cost its `unit_price` and
  `unit_cost`; proration its `prorata_next_invoice` where Halo gives it.
- Numbers become exact decimals, never through float arithmetic: each JSON float is read back
  through its shortest repr (`str`), the literal Halo sent. They are rounded half-up to 4 places
  (DESIGN 4.9); a warning counts the values that had more.
- A line with no item (a free-text line: `_itemid` missing or 0) is left out, with a warning.
- The billing cycle is the recurring invoice's `period`, read as months when it is a name like a
  CSV's ("Monthly", "Quarterly", "Six Monthly", "Yearly"); anything else is monthly, with a
  warning.
- Lines priced from assets or users (`calculate_price_from_assets`/`_users`) are kept: they are
  seats billed; their ids are listed in `PsaPull.calculated`, as a write-back must skip them.

Halo has no changed-since filter (API-NOTES 3, 8.3): every sync is a full pull, and a quick sync
is the same pull, diffed by the store. `since` is accepted for the PSA interface and only carried
into the cursor.

Requests: `GET /api/{Resource}?pageinate=true&page_size=100&page_no=N` (1-based) until a page is
short; recurring invoices whose list entry has no `lines` are read one by one with their
details, at most `concurrency` at once. The bearer token comes from the auth server (client
credentials, `scope=all`), is cached for its `expires_in` (3600 s) less a minute, and is
fetched once more on a 401.

Assumptions taken from lines of API-NOTES marked [L] (low confidence), or from outside it:

1. [L] The recurring invoice's lines come with `GET /api/RecurringInvoice/{id}?includedetails=
   true`: asked only for invoices listed without their `lines`.
2. [L] / unverified: Halo's rate limit is unknown: nothing is hard-coded; the HTTP layer honours
   Retry-After on 429 and requests are capped at `concurrency` in flight.
3. (API-NOTES 3: "hosted: add ?tenant=", pyhalopsa sends it as a form field) the tenant is sent
   both ways when set.
4. (not in API-NOTES) The items catalogue is `GET /api/Item`, list key `items`, with `id`,
   `name`, `baseprice`, `costprice` and `inactive`.
5. (not in API-NOTES) A recurring invoice marked `inactive` bills nothing; the client's name in a
   recurring invoice is `client_name` (used when the client is not in the clients read).
6. (not in API-NOTES) The largest page Halo serves is not documented; 100 is asked for.
7. (not in API-NOTES) The auth server is the base URL's host at `/auth/token` unless `auth_url`
   is set (Halo shows both under Configuration > Integrations > HaloPSA API).

The write side (`apply_change`, API-NOTES 3 "Write-back", 9) edits a recurring invoice line's
`qty_order` in place with `POST /api/RecurringInvoice/updatelines`. An edit in place has no date
of its own, so the outbox holds it until its effective date has come (`WRITE_MODE`). The
recurring invoice is read first, with its lines: a line Halo prices from users or assets is
refused (Halo works that quantity out itself); a line already at the new quantity is `noop`; one
at neither that nor what the approver saw is `conflict`. The invoice is read again after the
write to verify. The write is not repeated after a timeout, although setting a quantity twice
sets it once: a blind second send would skip the read that catches an edit made in Halo in the
meantime. The attempt's outcome is unknown instead, and the next one reads first and, finding
the change made, stops.

New Revenue (no line yet) adds one with `POST /api/RecurringInvoice/Lines`, guarded against
adding twice: the invoice is read first, and an active line for the item already there is the
change made (`noop`, when it has the new quantity) or a `conflict` (another quantity).

More assumptions, for the write side:

8. [L] (API-NOTES 3: "[V for shape of args, L for exact body]") the update body is
   `[{"id": line, "ihid": invoice, "qty_order": N}]`, ids and quantity as JSON numbers.
9. [L] The invoice re-read before and after a write is `GET /api/RecurringInvoice/{id}?
   includedetails=true` (assumption 1).
10. (not in API-NOTES) A line is added with `[{"ihid": invoice, "_itemid": item, "qty_order":
    N}]`; Halo fills in the item's description and price. Halo's reply is kept for the audit log
    whatever its shape.
11. (not in API-NOTES) A change Halo refuses (HTTP 4xx) is `rejected` with Halo's message;
    nothing was written.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import polars as pl

from connectors.csv.parse import CYCLES
from connectors.http import ApiClient, Sleep, TokenAuth, page_numbers
from connectors.psa.pull import Lines, PsaPull, next_cursor
from connectors.records import (
    NumberReader,
    Record,
    Source,
    count,
    exact,
    flag,
    frame,
    kind,
    missing_settings,
    settings_of,
    text,
    timestamp,
)
from connectors.records import records_frame as _records_frame
from connectors.writeback import ChangeResult, Mode, QuantityChange, shown
from engine.schema import CATALOG, PSA_LINES
from errors import ConnectorError, ConnectorErrorKind

NAME = "HaloPSA"
PAGE_SIZE = 100
CONCURRENCY = 4
WRITE_MODE: Mode = "in_place"
"""How Halo takes a change: the line's quantity edited in place, sent once its date has come."""
PERIODS = {**CYCLES, "sixmonthly": 6, "everysixmonths": 6, "everythreemonths": 3}
"""Halo's period names as months, on top of those a CSV's billing cycle accepts."""

SOURCE = Source(
    NAME,
    "Check that the base URL is Halo's resource server, ending in /api.",
    {"recurring invoice lines": "recurring invoice line"},
)


class _SignInRefused(ConnectorError):
    """The auth server refused the client id and secret: its message already says so."""


@dataclass(frozen=True)
class HaloSettings:
    """Where Halo's API and auth server are and the API application's keys; the secret never
    shows in a repr.

    `base_url` is the resource server, ending in `/api` (e.g. `https://acme.halopsa.com/api`);
    `auth_url` the token endpoint (by default `https://acme.halopsa.com/auth/token`); `tenant`
    is needed by hosted Halo.
    """

    base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    auth_url: str | None = None
    tenant: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> HaloSettings:
        """Give back the settings from a source's values (`base_url`, `client_id`,
        `client_secret`, and optionally `auth_url`, `tenant`)."""
        missing = missing_settings(values, ("base_url", "client_id", "client_secret"))
        if missing:
            raise ConnectorError(
                f"HaloPSA needs {', '.join(missing)}: in Halo, under Configuration > "
                "Integrations > HaloPSA API, add an application using Client ID and Secret "
                "(services) with the 'all' scope, and set its resource server URL, client id "
                "and secret on the source.",
                kind=ConnectorErrorKind.AUTH,
            )
        return settings_of(cls, values)

    def token_url(self) -> str:
        """Give back the token endpoint: `auth_url`, else `/auth/token` beside the API."""
        if self.auth_url:
            return self.auth_url
        base = httpx.URL(self.base_url)
        return str(base.copy_with(path=base.path.rstrip("/").removesuffix("/api") + "/auth/token"))


# -- parsing: records in, frames out ------------------------------------------------------------


def billing_months(period: Any) -> int | None:
    """Give back a recurring invoice's `period` name ("Quarterly") as months; None if unknown."""
    if not isinstance(period, str):
        return None
    return PERIODS.get("".join(ch for ch in period.lower() if ch not in " _-"))


def lines_from_records(clients: list[Record], invoices: list[Record]) -> Lines:
    """Give back the recurring lines: one row per active line of an active recurring invoice
    (PSA_LINES). Each invoice carries its `lines`."""
    reader = NumberReader(SOURCE)
    names = {str(c["id"]): text(c.get("name")) for c in SOURCE.records(clients, "clients")}
    rows: list[dict[str, Any]] = []
    cancelled: set[str] = set()
    calculated: set[str] = set()
    no_product: list[str] = []
    unknown_periods: set[str] = set()
    for invoice in SOURCE.records(invoices, "recurring invoices"):
        if invoice.get("inactive") is True:
            continue
        if invoice.get("client_id") is None:
            which = SOURCE.which("recurring invoices", invoice)
            raise SOURCE.error("recurring invoices", f"{which} has no client_id")
        months = billing_months(invoice.get("period"))
        if months is None and invoice.get("period") not in (None, ""):
            unknown_periods.add(str(invoice.get("period")))
        account_id = str(invoice["client_id"])
        contract = {
            "account_id": account_id,
            "account_name": names.get(account_id) or text(invoice.get("client_name")),
            "contract_id": str(invoice["id"]),
            "contract_name": text(invoice.get("contract_ref")),
            "billing_months": months if months is not None else 1,
            "account_website": None,
        }
        for line in SOURCE.records(invoice.get("lines"), "recurring invoice lines"):
            line_id = str(line["id"])
            quantity = reader.number(line, "qty_order", "recurring invoice lines", required=True)
            if line.get("isinactive") is True:
                cancelled.add(line_id)
                continue
            item = line.get("_itemid")
            if isinstance(item, bool) or item in (None, 0, "", "0"):
                no_product.append(line_id)
                continue
            if line.get("calculate_price_from_assets") or line.get("calculate_price_from_users"):
                calculated.add(line_id)
            rows.append(
                {
                    **contract,
                    "product_id": str(item),
                    "product_name": text(line.get("item_shortdescription"))
                    or text(line.get("item_code"))
                    or str(item),
                    "line_id": line_id,
                    "quantity": quantity,
                    "unit_price": reader.number(line, "unit_price", "recurring invoice lines"),
                    "unit_cost": reader.number(line, "unit_cost", "recurring invoice lines"),
                    "prorate": flag(line.get("prorata_next_invoice")),
                }
            )
    warnings: list[str] = []
    if no_product:
        shown = ", ".join(no_product[:5]) + (" ..." * (len(no_product) > 5))
        warnings.append(
            f"{count(len(no_product), 'recurring invoice line')} with no item left out "
            f"(ids {shown})"
        )
    if unknown_periods:
        shown = ", ".join(f'"{p}"' for p in sorted(unknown_periods)[:3])
        warnings.append(
            f"Recurring invoice periods that are not monthly, quarterly, six-monthly or yearly "
            f"({shown}) were read as monthly"
        )
    return Lines(
        frame=frame(rows, PSA_LINES),
        cancelled=frozenset(cancelled),
        warnings=reader.warnings() + warnings,
        calculated=frozenset(calculated),
    )


def catalog_from_records(items: list[Record]) -> tuple[pl.DataFrame, list[str]]:
    """Give back the catalogue: one row per active item (CATALOG), and the warnings."""
    reader = NumberReader(SOURCE)
    rows = [
        {
            "product_id": str(item["id"]),
            "product_name": text(item.get("name")),
            "unit_price": reader.number(item, "baseprice", "items"),
            "unit_cost": reader.number(item, "costprice", "items"),
            "billing_months": None,
        }
        for item in SOURCE.records(items, "items")
        if item.get("inactive") is not True
    ]
    return frame(rows, CATALOG), reader.warnings()


def records_frame(entity: str, items: Iterable[Record]) -> pl.DataFrame:
    """Give back one row per record (RECORDS): its entity, external id and `last_modified`."""
    return _records_frame(entity, items, lambda record: timestamp(record.get("last_modified")))


# -- fetching: Halo's API through the shared HTTP layer -----------------------------------------


def fetch_token(
    settings: HaloSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Sleep = time.sleep,
) -> tuple[str, float]:
    """Give back a bearer token and its lifetime in seconds (client credentials, `scope=all`).

    Sent form-encoded, as OAuth wants, hence plain httpx rather than the JSON-only ApiClient: a
    429 or 503 is tried twice more after the wait Halo asks for (else 1 s).
    """
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.client_id,
        "client_secret": settings.client_secret,
        "scope": "all",
    }
    params: dict[str, str] = {}
    if settings.tenant:
        form["tenant"] = params["tenant"] = settings.tenant
    url = settings.token_url()
    with httpx.Client(transport=transport, timeout=30.0) as http:
        for attempt in range(3):
            try:
                response = http.post(url, data=form, params=params)
            except httpx.TransportError as error:
                raise ConnectorError(
                    f"Could not reach {NAME}'s auth server at {httpx.URL(url).host} ({error}). "
                    "Check the source's auth URL and that the server is reachable.",
                    kind=ConnectorErrorKind.UNREACHABLE,
                ) from error
            if response.status_code in (429, 503) and attempt < 2:
                sleep(_wait(response))
                continue
            break
    if response.status_code in (400, 401, 403):
        raise _SignInRefused(
            f"{NAME} refused the client id and secret when signing in (HTTP "
            f"{response.status_code}). Check them on the source (Configuration > Integrations > "
            "HaloPSA API in Halo), the application's 'all' scope, and the tenant for hosted Halo.",
            kind=ConnectorErrorKind.AUTH,
        )
    if response.status_code == 404:
        raise ConnectorError(
            f"{NAME} has no token endpoint at {httpx.URL(url).path} (HTTP 404). Check the "
            "source's auth URL: Halo shows it as the Authorisation Server.",
            kind=ConnectorErrorKind.NOT_FOUND,
        )
    if not response.is_success:
        raise ConnectorError(
            f"{NAME}'s auth server failed with HTTP {response.status_code}: try again later.",
            kind=ConnectorErrorKind.RATE_LIMITED
            if response.status_code == 429
            else ConnectorErrorKind.SERVER,
        )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    lifetime = answer.get("expires_in", 3600) if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise SOURCE.error("sign-in", "the token reply has no access_token")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        raise SOURCE.error("sign-in", f"the token reply has expires_in {lifetime!r}")
    return token, float(lifetime)


def connect(
    settings: HaloSettings,
    *,
    transport: httpx.BaseTransport | None = None,
    concurrency: int = CONCURRENCY,
    sleep: Sleep = time.sleep,
) -> ApiClient:
    """Give back a client for Halo's API that signs itself in and refreshes its token."""
    auth = TokenAuth(lambda: fetch_token(settings, transport=transport, sleep=sleep))
    return ApiClient(
        NAME,
        settings.base_url.rstrip("/") + "/",
        auth=auth,
        transport=transport,
        concurrency=concurrency,
        sleep=sleep,
        # Reads only here; pyhalopsa retries Halo's 500s too (API-NOTES 3).
        retry_500=lambda response: True,
    )


def read_psa(
    client: ApiClient,
    *,
    since: datetime | None = None,
    today: date | None = None,
    concurrency: int = CONCURRENCY,
    page_size: int = PAGE_SIZE,
) -> PsaPull:
    """Give back everything Halo holds: every active recurring line and item (a full pull,
    whatever `since`; `today` is taken for the PSA interface, Halo marks ended lines itself).
    Raises ConnectorError."""
    del today
    with _explained():
        clients = read_all(client, "Client", "clients", size=page_size)
        listed = read_all(
            client, "RecurringInvoice", "invoices", "recurring invoices", size=page_size
        )
        active = [i for i in listed if i.get("inactive") is not True]
        invoices = _with_lines(client, active, concurrency)
        items = read_all(client, "Item", "items", size=page_size)
    lines = lines_from_records(clients, invoices)
    catalog, catalog_warnings = catalog_from_records(items)
    every_line = [line for invoice in invoices for line in invoice["lines"]]
    read = pl.concat(
        [
            records_frame("client", clients),
            records_frame("recurring invoice", invoices),
            records_frame("recurring invoice line", every_line),
            records_frame("item", items),
        ]
    )
    latest = read["updated_at"].max()
    return PsaPull(
        lines=lines.frame,
        catalog=catalog,
        records=read,
        contract_ids=frozenset(str(i["id"]) for i in invoices),
        cancelled=lines.cancelled,
        calculated=lines.calculated,
        cursor=next_cursor(latest, since),
        since=since,
        warnings=tuple(lines.warnings + catalog_warnings),
    )


def check_connection(client: ApiClient) -> None:
    """Sign in and read one client, or raise a ConnectorError saying what is wrong."""
    with _explained():
        client.send("GET", "Client", params={"pageinate": "true", "page_size": 1, "page_no": 1})


def read_all(
    client: ApiClient,
    resource: str,
    key: str,
    entity: str | None = None,
    *,
    size: int = PAGE_SIZE,
) -> list[Record]:
    """Give back every record of `resource` ("Client", ...), found under `key` in each page;
    `entity` names them in errors (by default `key`)."""
    pages = page_numbers(
        client,
        resource,
        params={"pageinate": "true"},
        page_param="page_no",
        size_param="page_size",
        size=size,
        items=lambda body: body[key],
    )
    return SOURCE.records([record for page in pages for record in page], entity or key)


def _with_lines(client: ApiClient, invoices: list[Record], concurrency: int) -> list[Record]:
    """Give back the invoices each with its `lines`, reading those listed without them."""

    def detailed(invoice: Record) -> Record:
        if isinstance(invoice.get("lines"), list):
            return invoice
        path = f"RecurringInvoice/{invoice['id']}"
        found = client.get_json(path, params={"includedetails": "true"})
        if not isinstance(found, dict) or not isinstance(found.get("lines"), list):
            raise SOURCE.error(
                "recurring invoices",
                f"recurring invoice {invoice['id']} came without its lines (got {kind(found)})",
            )
        return {**invoice, **found}

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(detailed, invoices))


def _wait(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


@contextmanager
def _explained() -> Iterator[None]:
    """Say, for a 401 that a fresh token did not cure, which Halo settings to check."""
    try:
        yield
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.AUTH or isinstance(error, _SignInRefused):
            raise
        raise ConnectorError(
            f"{NAME} refused our token (HTTP 401), even a fresh one: the API application may "
            "have lost the 'all' scope or its permissions, or the base URL belongs to another "
            "tenant than the auth server. Check the source's settings and the application "
            "under Configuration > Integrations > HaloPSA API.",
            kind=ConnectorErrorKind.AUTH,
        ) from error


# -- writing: a recurring invoice line's quantity -----------------------------------------------


def apply_change(client: ApiClient, change: QuantityChange) -> ChangeResult:
    """Give back what came of setting a recurring invoice line's quantity (or adding a line for
    New Revenue): read the invoice, compare, write, read it back.

    Raises ConnectorError when Halo cannot be read, or when the outcome of the write is unknown
    (`outcome_unknown`: the next attempt reads before writing again).
    """
    if change.contract_id is None:
        return ChangeResult(
            "rejected",
            message=(
                f"TrueUp does not know which recurring invoice of client {change.account_id} "
                "should bill this: add the line in Halo, then sync."
            ),
        )
    header = change.contract_id
    with _explained():
        if change.line_id is None:
            return _add_line(client, change, header)
        line = find_line(read_invoice(client, header), line_id=change.line_id)
        if line is None:
            return ChangeResult(
                "conflict",
                message=(
                    f"Halo's recurring invoice {header} no longer has an active line "
                    f"{change.line_id}. Sync and look at the card again."
                ),
            )
        if line.get("calculate_price_from_users") or line.get("calculate_price_from_assets"):
            return ChangeResult(
                "rejected",
                applied_quantity=_quantity(line),
                message=(
                    f"Halo works this quantity out from users/assets (line {change.line_id} of "
                    f"recurring invoice {header}): change the users or assets in Halo, or turn "
                    "that off on the line."
                ),
            )
        current = _quantity(line)
        checked = _compared(change, current, f"line {change.line_id}")
        if checked is not None:
            return checked
        body = [
            {
                "id": _number(change.line_id),
                "ihid": _number(header),
                "qty_order": _wire(change.new_quantity),
            }
        ]
        request = {"method": "POST", "path": "RecurringInvoice/updatelines", "body": body}
        if change.dry_run:
            return _dry(current, change, request)
        try:
            answer = _reply(client.send("POST", "RecurringInvoice/updatelines", json=body))
        except ConnectorError as error:
            if error.kind is not ConnectorErrorKind.REJECTED:
                raise
            return ChangeResult("rejected", request=request, message=str(error))
        after = find_line(read_invoice(client, header), line_id=change.line_id)
    return _verified(change, after, request, answer, header)


def read_invoice(client: ApiClient, header: str) -> Record:
    """Give back recurring invoice `header` with its lines."""
    found = client.get_json(f"RecurringInvoice/{header}", params={"includedetails": "true"})
    if not isinstance(found, dict) or not isinstance(found.get("lines"), list):
        raise SOURCE.error(
            "recurring invoices",
            f"recurring invoice {header} came without its lines (got {kind(found)})",
        )
    return found


def find_line(
    invoice: Record, *, line_id: str | None = None, item: str | None = None
) -> Record | None:
    """Give back the invoice's active line with that id (or for that item), or None."""
    for line in SOURCE.records(invoice.get("lines"), "recurring invoice lines"):
        if line.get("isinactive") is True:
            continue
        if line_id is not None and str(line.get("id")) == str(line_id):
            return line
        if item is not None and str(line.get("_itemid")) == str(item):
            return line
    return None


def _add_line(client: ApiClient, change: QuantityChange, header: str) -> ChangeResult:
    """Add a line for the change's item, unless the invoice already has one."""
    line = find_line(read_invoice(client, header), item=change.product_id)
    if line is not None:
        current = _quantity(line)
        if current == change.new_quantity:
            return ChangeResult("noop", applied_quantity=current, new_line_id=str(line["id"]))
        return ChangeResult(
            "conflict",
            applied_quantity=current,
            message=(
                f"Halo's recurring invoice {header} already has a line for item "
                f"{change.product_id} (line {line['id']}, quantity {shown(current)}). Sync "
                "and look at the card again."
            ),
        )
    body = [
        {
            "ihid": _number(header),
            "_itemid": _number(change.product_id),
            "qty_order": _wire(change.new_quantity),
        }
    ]
    request = {"method": "POST", "path": "RecurringInvoice/Lines", "body": body}
    if change.dry_run:
        return _dry(Decimal(0), change, request)
    try:
        answer = _reply(client.send("POST", "RecurringInvoice/Lines", json=body))
    except ConnectorError as error:
        if error.kind is not ConnectorErrorKind.REJECTED:
            raise
        return ChangeResult("rejected", request=request, message=str(error))
    after = find_line(read_invoice(client, header), item=change.product_id)
    return _verified(change, after, request, answer, header)


def _reply(response: httpx.Response) -> dict[str, Any] | None:
    """Give back Halo's reply to a write, for the audit log."""
    try:
        answer = response.json()
    except ValueError:
        return {"text": response.text[:500]} if response.text else None
    return answer if isinstance(answer, dict) else {"reply": answer}


def _verified(
    change: QuantityChange,
    line: Record | None,
    request: dict[str, Any],
    answer: dict[str, Any] | None,
    header: str,
) -> ChangeResult:
    applied = _quantity(line) if line is not None else None
    new_line = str(line["id"]) if line is not None and change.line_id is None else None
    if applied != change.new_quantity:
        seen = "no such line" if line is None else f"quantity {shown(applied)}"
        return ChangeResult(
            "failed",
            applied_quantity=applied,
            new_line_id=new_line,
            request=request,
            response=answer,
            message=(
                f"Halo took the write but recurring invoice {header} shows {seen}, not "
                f"{shown(change.new_quantity)}. Check the invoice in Halo before trying again."
            ),
        )
    return ChangeResult(
        "applied", applied_quantity=applied, new_line_id=new_line, request=request, response=answer
    )


def _compared(change: QuantityChange, current: Decimal, what: str) -> ChangeResult | None:
    if current == change.new_quantity:
        return ChangeResult("noop", applied_quantity=current)
    if change.expected_quantity is not None and current != change.expected_quantity:
        return ChangeResult(
            "conflict",
            applied_quantity=current,
            message=(
                f"Halo's {what} of recurring invoice {change.contract_id} has quantity "
                f"{shown(current)}, not the {shown(change.expected_quantity)} seen when the "
                "change was approved. Sync and look at the card again."
            ),
        )
    return None


def _dry(current: Decimal, change: QuantityChange, request: dict[str, Any]) -> ChangeResult:
    return ChangeResult(
        "applied",
        applied_quantity=current,
        request=request,
        message=(
            f"dry run: nothing sent; quantity {shown(current)} would become "
            f"{shown(change.new_quantity)}"
        ),
    )


def _quantity(line: Record) -> Decimal:
    quantity = exact(line.get("qty_order"))
    if quantity is None:
        raise SOURCE.error(
            "recurring invoice lines",
            f"{SOURCE.which('recurring invoice lines', line)} has qty_order "
            f"{line.get('qty_order')!r}, not a number",
        )
    return quantity


def _number(value: Any) -> Any:
    """Give back an id as Halo's JSON has it: an integer when it is one."""
    shown = str(value)
    return int(shown) if shown.lstrip("-").isdigit() else value


def _wire(quantity: Decimal) -> int | float:
    """Give back a quantity as a JSON number: whole numbers exactly; Halo keeps qty_order as a
    floating-point number, so a fraction goes as one."""
    return int(quantity) if quantity == quantity.to_integral_value() else float(quantity)
