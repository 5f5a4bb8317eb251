"""A fake HaloPSA API: the token endpoint, clients, recurring invoices with their lines, items,
and the two recurring invoice writes.

`POST /auth/token` (form-encoded client credentials, `scope=all`) gives a bearer token (else
401); under `/api` every request needs it. Lists page with `pageinate=true&page_size&page_no`
(1-based) under `clients`, `invoices` and `items`, at most 100 records a page; the list
of recurring invoices leaves out their lines, which `GET /api/RecurringInvoice/{id}?
includedetails=true` gives. `POST /api/RecurringInvoice/updatelines` sets lines' `qty_order`
and `POST /api/RecurringInvoice/Lines` adds lines; every write is kept in `writes`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.server import Request, page

TOKEN = "fake-halo-token"
MAX_PAGE = 100
LISTS = {"/api/Client": "clients", "/api/RecurringInvoice": "invoices", "/api/Item": "items"}


class FakeHalo:
    """Two clients' recurring invoices with Microsoft 365 seats, backup priced from users, and
    enough clients to need several pages."""

    def __init__(
        self, client_id: str = "halo-client", secret: str = "halo-s3cret", *, prospects: int = 205
    ) -> None:
        self.client_id, self.secret = client_id, secret
        self.requests: list[str] = []
        self.writes: list[tuple[str, str, Any]] = []
        self.reply: Callable[[Request], tuple[int, Any] | None] = lambda request: None
        when = "2026-01-05T08:00:00"
        self.clients: list[dict[str, Any]] = [
            {"id": 1, "name": "Acme Dental", "last_modified": when},
            {"id": 2, "name": "Birch Law", "last_modified": when},
        ] + [{"id": 100 + n, "name": f"Prospect {n}"} for n in range(prospects)]
        self.items = [
            {"id": 500, "name": "Microsoft 365 Business Premium", "baseprice": 22,
             "costprice": 17.6},
            {"id": 501, "name": "Cloud backup", "baseprice": 5, "costprice": 2.5},
            {"id": 502, "name": "Microsoft 365 E3", "baseprice": 36, "costprice": 28.8},
        ]  # fmt: skip
        self.invoices: list[dict[str, Any]] = [
            self._invoice(10, 1, "Acme managed services", [self._line(1000, 10, 500, 10)]),
            self._invoice(
                20,
                2,
                "Birch managed services",
                [self._line(2000, 20, 500, 5), self._line(2001, 20, 501, 5, from_users=True)],
            ),
        ]

    @staticmethod
    def _invoice(ident: int, client: int, ref: str, lines: list[Any]) -> dict[str, Any]:
        return {
            "id": ident,
            "client_id": client,
            "contract_ref": ref,
            "period": "Monthly",
            "last_modified": "2026-01-05T08:00:00",
            "lines": lines,
        }

    def _line(
        self, ident: int, header: int, item: int, quantity: Any, *, from_users: bool = False
    ) -> dict[str, Any]:
        known = next(i for i in self.items if i["id"] == item)
        return {
            "id": ident,
            "ihid": header,
            "_itemid": item,
            "item_shortdescription": known["name"],
            "qty_order": quantity,
            "unit_price": known["baseprice"],
            "unit_cost": known["costprice"],
            "calculate_price_from_users": from_users,
            "calculate_price_from_assets": False,
            "isinactive": False,
        }

    def line(self, ident: int) -> dict[str, Any] | None:
        for invoice in self.invoices:
            for found in invoice["lines"]:
                if found["id"] == ident:
                    return found
        return None

    def set_quantity(self, line: int, quantity: Any) -> None:
        """Change a line's quantity, as a person editing it in Halo would."""
        found = self.line(line)
        assert found is not None, f"the fake has no line {line}"
        found["qty_order"] = quantity

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}")
        if request.method == "POST" and request.path == "/auth/token":
            form = dict(parse_qsl(request.body.decode()))
            given = (form.get("client_id"), form.get("client_secret"), form.get("scope"))
            if form.get("grant_type") != "client_credentials" or given != (
                self.client_id,
                self.secret,
                "all",
            ):
                return 401, {"error": "invalid_client"}
            return 200, {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3600}
        scripted = self.reply(request)
        if scripted is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Unauthorized"}
        if request.method == "POST" and request.path == "/api/RecurringInvoice/updatelines":
            return self._update(request.json())
        if request.method == "POST" and request.path == "/api/RecurringInvoice/Lines":
            return self._add(request.json())
        if request.method != "GET":
            return 404, {"message": "Not found"}
        if match := re.fullmatch(r"/api/RecurringInvoice/(\d+)", request.path):
            invoice = next((i for i in self.invoices if i["id"] == int(match.group(1))), None)
            if invoice is None:
                return 404, {"message": "No such recurring invoice"}
            if request.query.get("includedetails") != "true":
                return 200, {k: v for k, v in invoice.items() if k != "lines"}
            return 200, invoice
        key = LISTS.get(request.path)
        if key is None:
            return 404, {"message": "Not found"}
        records: list[dict[str, Any]] = {
            "clients": self.clients,
            "items": self.items,
            "invoices": [{k: v for k, v in i.items() if k != "lines"} for i in self.invoices],
        }[key]
        size = min(int(request.query.get("page_size", 50)), MAX_PAGE)
        number = int(request.query.get("page_no", 1))
        chosen = page(records, number - 1, size)
        return 200, {"record_count": len(records), "page_no": number, key: chosen}

    def _update(self, body: Any) -> tuple[int, Any]:
        self.writes.append(("POST", "RecurringInvoice/updatelines", body))
        if not isinstance(body, list):
            return 400, {"message": "Expected a list of lines"}
        for change in body:
            line = self.line(change.get("id"))
            if line is None or line["ihid"] != change.get("ihid"):
                return 400, {"message": f"No line {change.get('id')} on that recurring invoice"}
            line["qty_order"] = change["qty_order"]
        return 200, body

    def _add(self, body: Any) -> tuple[int, Any]:
        self.writes.append(("POST", "RecurringInvoice/Lines", body))
        if not isinstance(body, list):
            return 400, {"message": "Expected a list of lines"}
        added = []
        for wanted in body:
            invoice = next((i for i in self.invoices if i["id"] == wanted.get("ihid")), None)
            if invoice is None or not any(i["id"] == wanted.get("_itemid") for i in self.items):
                return 400, {"message": "No such recurring invoice or item"}
            ident = 3000 + sum(len(i["lines"]) for i in self.invoices)
            line = self._line(ident, invoice["id"], wanted["_itemid"], wanted["qty_order"])
            invoice["lines"].append(line)
            added.append(line)
        return 201, added
