"""A fake Pax8 Partner API: a token endpoint, companies, products and subscriptions.

`POST /oauth/token` with the client credentials gives a bearer token (else 401); the API is
under `/v1` with 0-based `page` and `size` (at most 200) and `{"content": [...], "page": {...}}`.
Acme's Business Premium is an NCE subscription: its seats are committed until `COMMITTED_UNTIL`
(some months from today, so the fake never goes stale).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.fakes.server import Request, page

TOKEN = "fake-pax8-token"
COMMITTED_UNTIL = date.today() + timedelta(days=120)
"""When the commitment of Acme's Business Premium seats ends."""


class FakePax8:
    """Two customers with Microsoft 365 subscriptions, and enough others to need two pages."""

    def __init__(self, client_id: str = "pax8-client", secret: str = "pax8-s3cret") -> None:
        self.client_id, self.secret = client_id, secret
        self.requests: list[str] = []
        when = "2026-01-05T08:00:00Z"
        self.companies: list[dict[str, Any]] = [
            {"id": "c-acme", "name": "Acme Dental", "status": "Active", "updatedDate": when},
            {"id": "c-birch", "name": "Birch Law", "status": "Active", "updatedDate": when},
        ] + [
            {"id": f"c-other-{n:03}", "name": f"Other customer {n}", "status": "Active"}
            for n in range(210)
        ]
        self.products = [
            {"id": "p-bp", "name": "Microsoft 365 Business Premium", "vendorName": "Microsoft"},
            {"id": "p-e3", "name": "Microsoft 365 E3", "vendorName": "Microsoft"},
        ]
        nce = {"id": "t-nce", "term": "Annual", "endDate": COMMITTED_UNTIL.isoformat()}
        self.subscriptions = [
            self._subscription("s-1", "c-acme", "p-bp", 12) | {"commitmentTerm": nce},
            self._subscription("s-2", "c-birch", "p-bp", 5),
            self._subscription("s-3", "c-birch", "p-e3", 3),
        ]

    @staticmethod
    def _subscription(ident: str, company: str, product: str, quantity: int) -> dict[str, Any]:
        return {
            "id": ident,
            "companyId": company,
            "productId": product,
            "quantity": quantity,
            "status": "Active",
            "billingTerm": "Monthly",
            "startDate": "2026-01-01",
        }

    def set_quantity(self, subscription: str, quantity: int) -> None:
        for record in self.subscriptions:
            if record["id"] == subscription:
                record["quantity"] = quantity

    def add_subscription(
        self, ident: str, company: str, product: str, quantity: int, status: str = "Active"
    ) -> None:
        self.subscriptions.append(
            self._subscription(ident, company, product, quantity) | {"status": status}
        )

    def set_status(self, subscription: str, status: str) -> None:
        """Give a subscription Pax8's `status` ("Cancelled", "PendingCancel", ...)."""
        for record in self.subscriptions:
            if record["id"] == subscription:
                record["status"] = status

    def remove(self, subscription: str) -> None:
        """Make a subscription vanish from Pax8's lists, as a deleted one does."""
        self.subscriptions = [r for r in self.subscriptions if r["id"] != subscription]

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}")
        if request.method == "POST" and request.path == "/oauth/token":
            body = request.json() or {}
            if (body.get("client_id"), body.get("client_secret")) != (self.client_id, self.secret):
                return 401, {"error": "access_denied", "error_description": "Unauthorized"}
            return 200, {"access_token": TOKEN, "expires_in": 86400, "token_type": "Bearer"}
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Unauthorized"}
        records = {
            "/v1/companies": self.companies,
            "/v1/products": self.products,
            "/v1/subscriptions": self.subscriptions,
        }.get(request.path)
        if records is None:
            return 404, {"message": "Not found"}
        number = int(request.query.get("page", 0))
        size = min(int(request.query.get("size", 10)), 200)
        content = page(records, number, size)
        pages = {"size": size, "totalElements": len(records), "number": number}
        return 200, {"content": content, "page": pages}
