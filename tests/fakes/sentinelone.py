"""A fake SentinelOne management console: its sites, paged by cursor.

`GET /web/api/v2.1/sites` with `Authorization: ApiToken {token}` (else 401) answers
`{"data": {"allSites": {...}, "sites": [...]}, "pagination": {"nextCursor", "totalItems"}}`,
at most `PAGE_LIMIT` sites a page whatever `limit` asks, so that a handful of sites take
several pages; `nextCursor` is opaque (and null on the last page).
"""

from __future__ import annotations

import base64
from typing import Any

from tests.fakes.server import Request

ROOT = "/web/api/v2.1"
PAGE_LIMIT = 2
"""The most sites a page holds here (the real console allows 1000)."""


class FakeSentinelOne:
    """Three customers' sites on Complete and Control, one trial and one expired: five sites,
    three pages."""

    def __init__(self, token: str = "s1-t0ken") -> None:
        self.token = token
        self.requests: list[str] = []
        self.sites: list[dict[str, Any]] = [
            self._site("s-acme", "Acme Dental", "Complete", 40, 50),
            self._site("s-birch", "Birch Law", "Control", 12, 15),
            self._site("s-cedar", "Cedar Clinic", "Complete", 8, 10),
            self._site("s-trial", "Delta Trial", "Complete", 5, 5) | {"siteType": "Trial"},
            self._site("s-old", "Echo Old", "Core", 3, 3) | {"state": "expired"},
        ]

    @staticmethod
    def _site(ident: str, name: str, suite: str, active: int, total: int) -> dict[str, Any]:
        return {
            "id": ident,
            "name": name,
            "accountId": "acc-msp",
            "accountName": "Our MSP",
            "activeLicenses": active,
            "totalLicenses": total,
            "unlimitedLicenses": False,
            "suite": suite,
            "sku": suite,
            "siteType": "Paid",
            "state": "active",
            "externalId": None,
            "createdAt": "2025-06-01T09:00:00.000000Z",
            "updatedAt": "2026-01-05T08:00:00.000000Z",
        }

    def site(self, ident: str) -> dict[str, Any]:
        return next(s for s in self.sites if s["id"] == ident)

    def remove(self, ident: str) -> None:
        """Make a site vanish, as a deleted one does."""
        self.sites = [s for s in self.sites if s["id"] != ident]

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}?{request.query}")
        if request.headers.get("authorization") != f"ApiToken {self.token}":
            return 401, {"errors": [{"code": 4010010, "title": "Authentication Failed"}]}
        if request.method != "GET" or request.path != f"{ROOT}/sites":
            return 404, {"errors": [{"code": 4040010, "title": "Not found"}]}
        start = _offset(request.query.get("cursor"))
        size = min(int(request.query.get("limit", 10)), PAGE_LIMIT)
        shown = self.sites[start : start + size]
        more = start + size < len(self.sites)
        totals = {
            "activeLicenses": sum(s["activeLicenses"] for s in self.sites),
            "totalLicenses": sum(s["totalLicenses"] for s in self.sites),
        }
        return 200, {
            "data": {"allSites": totals, "sites": shown},
            "pagination": {
                "nextCursor": _cursor(start + size) if more else None,
                "totalItems": len(self.sites),
            },
        }


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("offset:"))
