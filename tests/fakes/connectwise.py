"""A fake ConnectWise PSA REST API: companies, agreements, their additions and the catalogue.

Basic auth as `company+public:private` and a `clientId` header, or 401; `page`/`pageSize`
paging ordered by id; `conditions` with `lastUpdated>[...]` and `agreementStatus="Active"`.
Mounted under `/v4_6_release/apis/3.0`.

Write-back: `GET` and `PATCH` (a JSON Patch of `quantity` or `cancelledDate`) of one addition,
`POST` of a new one. `writes` counts the writes per addition id; `hang_on_write = N` makes the
Nth write hang after it has been applied (as if the answer were lost), setting `hanging` and
waiting for `release`, so that a test can kill the process that sent it.
"""

from __future__ import annotations

import base64
import re
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import Request, page

ROOT = "/v4_6_release/apis/3.0/"
OLD = "2026-01-05T08:00:00Z"


def _info(when: str = OLD) -> dict[str, str]:
    return {"lastUpdated": when}


class FakeConnectWise:
    """Two customers on monthly agreements, Microsoft 365 seats and labour, a catalogue."""

    def __init__(
        self, company: str = "acme", public: str = "pub", private: str = "priv-s3cret"
    ) -> None:
        pair = f"{company}+{public}:{private}"
        self.authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        self.requests: list[str] = []
        self.companies = [
            {"id": 1, "name": "Acme Dental", "_info": _info()},
            {"id": 2, "name": "Birch Law", "_info": _info()},
        ]
        self.agreements = [
            self._agreement(10, "Acme managed services", 1, "Acme Dental"),
            self._agreement(20, "Birch managed services", 2, "Birch Law"),
        ]
        self.additions: dict[int, list[dict[str, Any]]] = {
            10: [self._addition(100, "M365-BP", "Microsoft 365 Business Premium", 10, 22)],
            20: [
                self._addition(200, "M365-BP", "Microsoft 365 Business Premium", 5, 22),
                self._addition(201, "LABOR", "Onsite labour", 1, 150),
            ],
        }
        self.catalog = [
            self._item(1, "M365-BP", "Microsoft 365 Business Premium", 22),
            self._item(2, "M365-E3", "Microsoft 365 E3", 36),
            self._item(3, "LABOR", "Onsite labour", 150),
        ]
        self.writes: Counter[int] = Counter()
        self.hang_on_write: int | None = None
        self.hanging = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    @staticmethod
    def _agreement(ident: int, name: str, company: int, company_name: str) -> dict[str, Any]:
        return {
            "id": ident,
            "name": name,
            "company": {"id": company, "name": company_name},
            "agreementStatus": "Active",
            "billingCycle": {"name": "Monthly"},
            "prorateFlag": True,
            "_info": _info(),
        }

    @staticmethod
    def _addition(ident: int, product: str, text: str, quantity: int, price: int) -> dict[str, Any]:
        return {
            "id": ident,
            "product": {"identifier": product},
            "description": text,
            "quantity": quantity,
            "unitPrice": price,
            "unitCost": price * 0.8,
            "_info": _info(),
        }

    @staticmethod
    def _item(ident: int, identifier: str, text: str, price: int) -> dict[str, Any]:
        return {
            "id": ident,
            "identifier": identifier,
            "description": text,
            "price": price,
            "cost": price * 0.8,
            "recurringFlag": False,
            "_info": _info(),
        }

    def set_quantity(self, addition: int, quantity: int) -> None:
        """Change an addition's quantity, as a person editing it in ConnectWise would."""
        for found in self.additions.values():
            for record in found:
                if record["id"] == addition:
                    record["quantity"] = quantity
                    record["_info"] = _info(_stamp())

    def addition(self, ident: int) -> dict[str, Any] | None:
        """Give back the addition of that id, on whichever agreement it is."""
        for found in self.additions.values():
            for record in found:
                if record["id"] == ident:
                    return record
        return None

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}?{request.query}")
        if request.headers.get("authorization") != self.authorization:
            return 401, {"code": "Unauthorized", "message": "Invalid credentials"}
        if not request.headers.get("clientid"):
            return 401, {"code": "Unauthorized", "message": "clientId missing"}
        if not request.path.startswith(ROOT):
            return 404, {"code": "NotFound", "message": "no such route"}
        path = request.path.removeprefix(ROOT)
        if match := re.fullmatch(r"finance/agreements/(\d+)/additions/(\d+)", path):
            return self._one(request, int(match.group(1)), int(match.group(2)))
        if request.method == "POST":
            if match := re.fullmatch(r"finance/agreements/(\d+)/additions", path):
                return self._add(request, int(match.group(1)))
            return 404, {"code": "NotFound", "message": "no such route"}
        if path == "company/companies":
            records = self.companies
        elif path == "finance/agreements":
            records = self.agreements
        elif path == "procurement/catalog":
            records = self.catalog
        elif match := re.fullmatch(r"finance/agreements/(\d+)/additions", path):
            records = self.additions.get(int(match.group(1)), [])
        else:
            return 404, {"code": "NotFound", "message": "no such route"}
        chosen = _matching(records, request.query.get("conditions", ""))
        number = int(request.query.get("page", 1)) - 1
        size = min(int(request.query.get("pageSize", 25)), 1000)
        return 200, page(sorted(chosen, key=lambda r: r["id"]), number, size)

    def _one(self, request: Request, agreement: int, ident: int) -> tuple[int, Any]:
        record = next((a for a in self.additions.get(agreement, []) if a["id"] == ident), None)
        if record is None:
            return 404, {"code": "NotFound", "message": f"addition {ident} not found"}
        if request.method == "GET":
            return 200, record
        if request.method != "PATCH":
            return 405, {"code": "MethodNotAllowed", "message": request.method}
        operations = request.json()
        if not isinstance(operations, list):
            return 400, {"code": "InvalidObject", "message": "a patch is a list of operations"}
        with self._lock:
            for operation in operations:
                if operation.get("op") != "replace" or operation.get("path") not in (
                    "quantity",
                    "cancelledDate",
                ):
                    return 400, {"code": "InvalidObject", "message": f"cannot {operation}"}
                record[operation["path"]] = operation["value"]
            record["_info"] = _info(_stamp())
            self.writes[ident] += 1
        self._maybe_hang()
        return 200, record

    def _add(self, request: Request, agreement: int) -> tuple[int, Any]:
        body = request.json()
        if not isinstance(body, dict) or "quantity" not in body or "product" not in body:
            return 400, {"code": "InvalidObject", "message": "an addition needs product, quantity"}
        with self._lock:
            ident = 1 + max(a["id"] for found in self.additions.values() for a in found)
            record = {**body, "id": ident, "agreementId": agreement, "_info": _info(_stamp())}
            self.additions.setdefault(agreement, []).append(record)
            self.writes[ident] += 1
        self._maybe_hang()
        return 201, record

    def _maybe_hang(self) -> None:
        if self.hang_on_write is not None and self.hang_on_write == self.writes.total():
            self.hanging.set()
            self.release.wait()


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _matching(records: list[dict[str, Any]], conditions: str) -> list[dict[str, Any]]:
    chosen = records
    if match := re.search(r"lastUpdated>\[([^\]]+)\]", conditions):
        since = _moment(match.group(1))
        chosen = [r for r in chosen if _moment(r["_info"]["lastUpdated"]) > since]
    if 'agreementStatus="Active"' in conditions:
        chosen = [r for r in chosen if r.get("agreementStatus") == "Active"]
    return chosen


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
