"""A fake Datto SaaS Protection API: protected domains and their seats.

Basic auth of the public and secret key (else 401); `GET /v1/saas/domains` answers a JSON list
of domains and `GET /v1/saas/{saasCustomerId}/seats` a JSON list of that domain's seats. Datto
does not page these lists (API-NOTES §6), so neither does the fake: several domains and seats
come in one reply each.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from tests.fakes.server import Request

ROOT = "/v1/saas/"


class FakeDattoSaas:
    """Three customers' Microsoft 365 domains: users, shared mailboxes and sites, some seats
    not billable."""

    def __init__(self, public: str = "datto-pub", secret: str = "datto-s3cret") -> None:
        pair = f"{public}:{secret}"
        self.authorization = "Basic " + base64.b64encode(pair.encode()).decode()
        self.requests: list[str] = []
        self.domains: list[dict[str, Any]] = [
            self._domain(1001, "Acme Dental", "acme.example"),
            self._domain(1002, "Birch Law", "birch.example"),
            self._domain(1003, "Cedar Clinic", "cedar.example"),
        ]
        self.seats: dict[int, list[dict[str, Any]]] = {
            1001: [
                *(self._seat(f"a-u{n}", "User") for n in range(4)),
                self._seat("a-sm1", "SharedMailbox"),
                self._seat("a-u-off", "User", billable=False),
            ],
            1002: [
                *(self._seat(f"b-u{n}", "User") for n in range(2)),
                self._seat("b-site1", "TeamSite"),
            ],
            1003: [self._seat("c-u0", "User")],
        }

    @staticmethod
    def _domain(ident: int, name: str, domain: str) -> dict[str, Any]:
        return {
            "saasCustomerId": ident,
            "saasCustomerName": name,
            "organizationName": name,
            "domain": domain,
            "productType": "Office365",
        }

    @staticmethod
    def _seat(ident: str, seat_type: str, *, billable: bool = True) -> dict[str, Any]:
        return {
            "mainId": ident,
            "name": f"{ident}@example",
            "seatType": seat_type,
            "seatState": "Active",
            "billable": 1 if billable else 0,
            "dateAdded": "2025-09-01T00:00:00Z",
            "remoteId": ident,
        }

    def add_seat(self, domain: int, ident: str, seat_type: str, *, billable: bool = True) -> None:
        self.seats.setdefault(domain, []).append(self._seat(ident, seat_type, billable=billable))

    def set_billable(self, ident: str, billable: bool) -> None:
        for seats in self.seats.values():
            for seat in seats:
                if seat["mainId"] == ident:
                    seat["billable"] = 1 if billable else 0

    def remove_domain(self, ident: int) -> None:
        """Make a domain vanish, as one no longer protected does."""
        self.domains = [d for d in self.domains if d["saasCustomerId"] != ident]
        self.seats.pop(ident, None)

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}")
        if request.headers.get("authorization") != self.authorization:
            return 401, {"message": "Unauthorized"}
        if request.method != "GET" or not request.path.startswith(ROOT):
            return 404, {"message": "Not found"}
        path = request.path.removeprefix(ROOT)
        if path == "domains":
            return 200, self.domains
        if match := re.fullmatch(r"(\d+)/seats", path):
            ident = int(match.group(1))
            if not any(d["saasCustomerId"] == ident for d in self.domains):
                return 404, {"message": f"no domain {ident}"}
            return 200, self.seats.get(ident, [])
        return 404, {"message": "Not found"}
