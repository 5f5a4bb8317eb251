"""A fake Autotask REST API: zone discovery, queries of companies, contracts, contract services,
their units and the services catalogue, and contract service adjustments.

`GET /atservicesrest/v1.0/zoneInformation?user=` tells the zone, `/ATServicesRest/` on the same
host. Under `/ATServicesRest/V1.0/` every request needs the `ApiIntegrationCode`, `UserName` and
`Secret` headers (else 401); `GET {Entity}/query?search={json}` filters with `eq`, `gt`, `gte`,
`lt`, `lte` and `or`, serves at most `page_size` records a page and the next page's URL in
`pageDetails.nextPageUrl`. `POST ContractServiceAdjustments` adds `unitChange` to the units of
the period holding `effectiveDate` and every later one, as Autotask does; every write is kept in
`writes`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import Request

DISCOVERY = "/atservicesrest/v1.0/zoneInformation"
ZONE = "/ATServicesRest/V1.0/"


def months_around(today: date, before: int = 3, after: int = 12) -> list[tuple[date, date]]:
    """Give back the monthly periods (first day, last day) from `before` months ago on."""
    periods = []
    year, month = today.year, today.month - before
    for _ in range(before + after + 1):
        while month < 1:
            year, month = year - 1, month + 12
        while month > 12:
            year, month = year + 1, month - 12
        start = date(year, month, 1)
        following = date(year + (month == 12), month % 12 + 1, 1)
        periods.append((start, date.fromordinal(following.toordinal() - 1)))
        month += 1
    return periods


class FakeAutotask:
    """Two customers' contracts with Microsoft 365 seats and backup, monthly unit periods round
    `today`, and enough companies to need several pages."""

    def __init__(
        self,
        username: str = "api@acme.example",
        secret: str = "at-s3cret",
        integration_code: str = "AT-TRACKING-1",
        *,
        today: date | None = None,
        page_size: int = 4,
    ) -> None:
        self.credentials = {
            "apiintegrationcode": integration_code,
            "username": username,
            "secret": secret,
        }
        self.today = today or date.today()
        self.page_size = page_size
        self.requests: list[str] = []
        self.writes: list[tuple[str, str, Any]] = []
        self.reply: Callable[[Request], tuple[int, Any] | None] = lambda request: None
        when = "2026-01-05T08:00:00Z"
        self.entities: dict[str, list[dict[str, Any]]] = {
            "Companies": [
                {"id": 1, "companyName": "Acme Dental", "lastActivityDate": when},
                {"id": 2, "companyName": "Birch Law", "lastActivityDate": when},
            ]
            + [
                {"id": 100 + n, "companyName": f"Prospect {n}", "lastActivityDate": when}
                for n in range(7)
            ],
            "Contracts": [
                {"id": 10, "companyID": 1, "contractName": "Acme managed services", "status": 1},
                {"id": 20, "companyID": 2, "contractName": "Birch managed services", "status": 1},
                {"id": 30, "companyID": 2, "contractName": "Birch (ended)", "status": 0},
            ],
            "ContractServices": [
                self._service(1000, 10, 500, 22),
                self._service(2000, 20, 500, 22),
                self._service(2001, 20, 501, 5),
            ],
            "ContractServiceUnits": [],
            "Services": [
                {"id": 500, "name": "Microsoft 365 Business Premium", "unitPrice": 22,
                 "unitCost": 17.6, "periodType": 1, "isActive": True},
                {"id": 501, "name": "Cloud backup", "unitPrice": 5, "unitCost": 2.5,
                 "periodType": 1, "isActive": True},
                {"id": 502, "name": "Microsoft 365 E3", "unitPrice": 36, "unitCost": 28.8,
                 "periodType": 1, "isActive": True},
            ],
        }  # fmt: skip
        for line, units in ((1000, 10), (2000, 5), (2001, 5)):
            self._add_units(line, units)

    @staticmethod
    def _service(ident: int, contract: int, service: int, price: int) -> dict[str, Any]:
        return {
            "id": ident,
            "contractID": contract,
            "serviceID": service,
            "unitPrice": price,
            "unitCost": price * 0.8,
        }

    def _add_units(self, line: int, units: int) -> None:
        service = next(s for s in self.entities["ContractServices"] if s["id"] == line)
        rows = self.entities["ContractServiceUnits"]
        for start, end in months_around(self.today):
            rows.append(
                {
                    "id": 50000 + len(rows),
                    "contractID": service["contractID"],
                    "contractServiceID": line,
                    "serviceID": service["serviceID"],
                    "startDate": f"{start.isoformat()}T00:00:00",
                    "endDate": f"{end.isoformat()}T00:00:00",
                    "units": units,
                }
            )

    def units(self, line: int, on: date | None = None) -> Any:
        """Give back the units of contract service `line` in the period holding `on` (today)."""
        on = on or self.today
        for row in self.entities["ContractServiceUnits"]:
            held = _day(row["startDate"]) <= on <= _day(row["endDate"])
            if row["contractServiceID"] == line and held:
                return row["units"]
        return None

    def set_units(self, line: int, units: int) -> None:
        """Change a contract service's units in every period, as a person in Autotask would."""
        self._adjust(line, date.min, None, units)

    def adjustments(self) -> list[Any]:
        return [body for _, path, body in self.writes if path.endswith("ServiceAdjustments")]

    def handle(self, request: Request) -> tuple[int, Any]:
        self.requests.append(f"{request.method} {request.path}")
        host = request.headers.get("host", "127.0.0.1")
        if request.path == DISCOVERY:
            if request.query.get("user") != self.credentials["username"]:
                return 500, {"errors": ["Invalid user"]}
            return 200, {"zoneName": "Fake", "url": f"http://{host}/ATServicesRest/", "ci": 1}
        scripted = self.reply(request)
        if scripted is not None:
            return scripted
        if any(request.headers.get(k) != v for k, v in self.credentials.items()):
            return 401, {"errors": ["Unauthorized"]}
        if not request.path.startswith(ZONE):
            return 404, {"errors": ["Not found"]}
        path = request.path.removeprefix(ZONE)
        if request.method == "POST" and path == "ContractServiceAdjustments":
            return self._adjustment(request.json())
        entity, _, rest = path.partition("/")
        if request.method != "GET" or entity not in self.entities:
            return 404, {"errors": ["Not found"]}
        if rest not in ("query", "query/next"):
            return 404, {"errors": ["Not found"]}
        search = json.loads(request.query["search"])
        found = [r for r in self.entities[entity] if all(_holds(r, f) for f in search["filter"])]
        size = min(int(search.get("MaxRecords", 500)), self.page_size)
        number = int(request.query.get("page", "1"))
        shown = found[(number - 1) * size : number * size]
        following = None
        if number * size < len(found):
            query = urlencode({"search": request.query["search"], "page": number + 1})
            following = f"http://{host}{ZONE}{entity}/query/next?{query}"
        details = {"count": len(shown), "requestCount": size, "prevPageUrl": None}
        return 200, {"items": shown, "pageDetails": {**details, "nextPageUrl": following}}

    def _adjustment(self, body: Any) -> tuple[int, Any]:
        self.writes.append(("POST", "ContractServiceAdjustments", body))
        needed = ("contractID", "contractServiceID", "serviceID", "effectiveDate", "unitChange")
        if not isinstance(body, dict) or any(body.get(k) is None for k in needed):
            return 500, {"errors": [f"The adjustment needs {', '.join(needed)}."]}
        if not isinstance(body["unitChange"], int):
            return 500, {"errors": ["unitChange must be an integer."]}
        line = body["contractServiceID"]
        service = next((s for s in self.entities["ContractServices"] if s["id"] == line), None)
        if service is None or service["contractID"] != body["contractID"]:
            return 500, {"errors": [f"Contract service {line} is not on that contract."]}
        when = _day(body["effectiveDate"])
        if self.units(line, when) is None:
            return 500, {"errors": ["The effective date is outside the contract's periods."]}
        self._adjust(line, when, body["unitChange"], None)
        return 200, {"itemId": 90000 + len(self.writes)}

    def _adjust(self, line: int, when: date, change: int | None, units: int | None) -> None:
        for row in self.entities["ContractServiceUnits"]:
            if row["contractServiceID"] == line and _day(row["endDate"]) >= when:
                row["units"] = units if units is not None else row["units"] + change


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _holds(record: dict[str, Any], condition: dict[str, Any]) -> bool:
    op = condition["op"]
    if op == "or":
        return any(_holds(record, item) for item in condition["items"])
    have, want = record.get(condition["field"]), condition["value"]
    if have is None:
        return False
    if isinstance(want, str):
        have = datetime.fromisoformat(have.replace("Z", "")).replace(tzinfo=None)
        want = datetime.fromisoformat(want.replace("Z", "")).replace(tzinfo=None)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "eq": lambda a, b: a == b,
        "gt": lambda a, b: a > b,
        "gte": lambda a, b: a >= b,
        "lt": lambda a, b: a < b,
        "lte": lambda a, b: a <= b,
    }
    if op not in compare:
        raise AssertionError(f"the fake does not know the operator {op!r}")
    return compare[op](have, want)
