"""The demo MSP month by month: its customers, what the vendors count, what the PSA bills.

Pure and deterministic (one seeded random generator): the same book every time, whatever the
date. Months are indexed 0 to MONTHS - 1, the last being the current one: a year of true-ups
before it, over which the MSP grows, rolls out Copilot and upgrades plans, and loses a customer.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from store.demo.products import (
    CUSTOMERS,
    DATTO,
    DISCOUNTED,
    JOINING,
    LEAVING,
    OUR_TENANT,
    PAX8,
    PRODUCTS,
    SENTINELONE,
    SKU_OF,
    TWO_AGREEMENTS,
)

SEED = 20_261_128
MONTHS = 13
"""This month and the twelve before it, as the month summary shows them."""
THIS_MONTH = MONTHS - 1
LAST_MONTH = MONTHS - 2
CENT = Decimal("0.01")

Key = tuple[str, str, str]
"""A subscription as a vendor counts it: (vendor, vendor account id, SKU id)."""


@dataclass(frozen=True)
class VendorAccount:
    """A customer as one vendor knows it, and how it is mapped: "id", "auto", "unmapped" or
    "excluded"."""

    vendor: str
    id: str
    name: str
    how: str


@dataclass(frozen=True)
class Contract:
    id: str
    name: str
    prorate: bool


@dataclass
class Customer:
    id: str
    name: str
    joined: int
    price_factor: Decimal
    contracts: list[Contract]
    """The managed services agreement first; M365 lines go on the last one."""
    accounts: dict[str, VendorAccount] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """A PSA agreement line (a ConnectWise "addition")."""

    account_id: str
    account_name: str
    contract: Contract
    product_id: str
    line_id: str
    quantity: int
    unit_price: Decimal


@dataclass
class Book:
    customers: list[Customer]
    our_tenant: VendorAccount
    counts: list[dict[Key, int]]
    """Per month, the seats each vendor reports per subscription."""
    cancelled: list[set[Key]]
    """Per month, subscriptions reported with their last seats and status "Cancelled"."""
    lines: list[Line]
    """What the PSA bills in month 0."""
    joining_lines: dict[int, list[Line]]
    """The lines of the customers won in a later month, billed from that month."""
    left: dict[int, str] = field(default_factory=dict)
    """Per month, the PSA account id of the customer lost in it: its agreement ends the next."""
    next_line_id: int = 60_000

    def customer(self, account_id: str) -> Customer:
        """Give back the customer of a PSA account id."""
        return next(c for c in self.customers if c.id == account_id)

    def new_line_id(self) -> str:
        """Give back a line id not used yet."""
        self.next_line_id += 1
        return str(self.next_line_id)


def build_book() -> Book:
    """Give back the demo MSP: about 60 customers by now, MONTHS months of counts, month 0's
    lines."""
    rng = random.Random(SEED)
    ids = _Ids(rng)
    customers: list[Customer] = []
    seats: dict[str, dict[str, int]] = {}
    """PSA product to the seats of each customer, as the vendors count them in its first month."""
    joining = [(max(0, THIS_MONTH - ago), names) for ago, names in JOINING.items()]
    for joined, names in sorted([(0, CUSTOMERS), *joining], key=lambda month: month[0]):
        for name, known_as in names:
            customer = _customer(rng, ids, name, known_as, joined, len(customers))
            customers.append(customer)
            seats[customer.id] = _subscriptions(rng, customer)
    tenant = VendorAccount(PAX8, ids.tenant(), OUR_TENANT[0], "excluded")
    first = _counts([c for c in customers if c.joined == 0], seats, tenant, month=0)
    book = Book(customers, tenant, [first], [set() for _ in range(MONTHS)], [], {})
    for customer in customers:
        # Billed from the month they join, counted from then too.
        lines = _lines(book, customer, seats[customer.id])
        if customer.joined == 0:
            book.lines.extend(lines)
        else:
            book.joining_lines.setdefault(customer.joined, []).extend(lines)
    _bill_differently(rng, book)
    for ago, name in LEAVING.items():
        book.left[max(1, THIS_MONTH - ago)] = next(c.id for c in customers if c.name == name)
    for month in range(1, MONTHS):
        book.counts.append(_drift(rng, book, month, seats))
    return book


class _Ids:
    """Ids as each system makes them: PSA record numbers, Pax8 UUIDs, S1 and Datto numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.account = 19_200
        self.contract = 3_100

    def psa_account(self) -> str:
        self.account += self.rng.randint(3, 41)
        return str(self.account)

    def psa_contract(self) -> str:
        self.contract += self.rng.randint(1, 9)
        return str(self.contract)

    def tenant(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def site(self) -> str:
        return str(self.rng.randrange(10**18, 10**19))

    def datto(self) -> str:
        return str(self.rng.randint(100_000, 999_999))


def _customer(
    rng: random.Random, ids: _Ids, name: str, known_as: str, joined: int, index: int
) -> Customer:
    factor = DISCOUNTED[1] if name == DISCOUNTED[0] else Decimal(1)
    msa = Contract(ids.psa_contract(), f"{known_as} - Managed Services Agreement", True)
    contracts = [msa]
    if name == TWO_AGREEMENTS:
        contracts.append(Contract(ids.psa_contract(), f"{known_as} - Engineering Division", True))
    elif rng.random() < 0.3:
        contracts.append(
            Contract(ids.psa_contract(), f"{known_as} - Microsoft 365 Annual Commitment", False)
        )
    customer = Customer(ids.psa_account(), name, joined, factor, contracts)
    unmapped = joined == THIS_MONTH
    # Most vendor accounts are mapped by id; some carry the PSA's exact name and map by it.
    pax8_auto = index % 4 == 1 and not unmapped
    customer.accounts[PAX8] = VendorAccount(
        PAX8,
        ids.tenant(),
        (name.upper() if index % 8 == 1 else name) if pax8_auto else known_as,
        "unmapped" if unmapped else "auto" if pax8_auto else "id",
    )
    if (joined < THIS_MONTH and rng.random() < 0.87) or name.startswith("Windward"):
        s1_auto = index % 5 == 2 and not unmapped
        customer.accounts[SENTINELONE] = VendorAccount(
            SENTINELONE,
            ids.site(),
            name if s1_auto else f"{known_as} - HQ" if unmapped else known_as,
            "unmapped" if unmapped else "auto" if s1_auto else "id",
        )
    if joined < THIS_MONTH and rng.random() < 0.5:
        customer.accounts[DATTO] = VendorAccount(DATTO, ids.datto(), known_as, "id")
    return customer


def _subscriptions(rng: random.Random, customer: Customer) -> dict[str, int]:
    """Give back the customer's seats per PSA product when it joins."""
    size = rng.random()
    low, high = (4, 14) if size < 0.55 else (15, 45) if size < 0.9 else (46, 140)
    users = rng.randint(low, high)
    seats = {"MSP-USER": users}
    plan = rng.random()
    primary = "M365-BP" if plan < 0.45 else "M365-BS" if plan < 0.78 else "M365-BB"
    if customer.name == TWO_AGREEMENTS:
        primary, users = "M365-BP", max(users, 40)
        seats["MSP-USER"] = users
    frontline = rng.randint(2, max(2, users // 3)) if rng.random() < 0.25 else 0
    seats[primary] = users - frontline if users - frontline > 0 else users
    if frontline:
        seats["EXO-P1" if primary != "M365-BB" else "M365-BS"] = frontline
    if rng.random() < 0.1:
        seats["TEAMS-ESS"] = rng.randint(2, 6)
    if rng.random() < 0.06:
        seats["M365-COPILOT"] = rng.randint(1, 3)
    if SENTINELONE in customer.accounts:
        tier = rng.random()
        s1 = "S1-CONTROL" if tier < 0.5 else "S1-COMPLETE" if tier < 0.75 else "S1-CORE"
        seats[s1] = users + rng.randint(0, users // 4 + 2)
    if DATTO in customer.accounts:
        seats["BKP-M365"] = sum(q for p, q in seats.items() if p.startswith(("M365-B", "EXO")))
    return seats


def _counts(
    customers: Iterable[Customer],
    seats: dict[str, dict[str, int]],
    tenant: VendorAccount,
    month: int,
) -> dict[Key, int]:
    counts: dict[Key, int] = {}
    for customer in customers:
        for product, quantity in seats[customer.id].items():
            sku = SKU_OF.get(product)
            if sku is not None and sku.vendor in customer.accounts:
                counts[(sku.vendor, customer.accounts[sku.vendor].id, sku.id)] = quantity
        if customer.accounts[PAX8].id[-1] in "05":
            counts[(PAX8, customer.accounts[PAX8].id, "CFQ7TTC0LH0R")] = 1  # free Power Automate
    counts[(PAX8, tenant.id, "CFQ7TTC0LCHC")] = 12
    counts[(PAX8, tenant.id, "CFQ7TTC0MM8R")] = 2
    counts[(PAX8, tenant.id, "CFQ7TTC0LH0R")] = 5
    return counts


def _lines(book: Book, customer: Customer, seats: dict[str, int]) -> list[Line]:
    lines = []
    for product, quantity in seats.items():
        if customer.name == TWO_AGREEMENTS and product == "M365-BP":
            division = quantity // 3
            lines.append(_line(book, customer, product, quantity - division, 0))
            lines.append(_line(book, customer, product, division, 1))
        else:
            lines.append(_line(book, customer, product, quantity))
    return lines


def _line(
    book: Book, customer: Customer, product: str, quantity: int, contract: int | None = None
) -> Line:
    """Give back a new line of a product: M365 on the customer's last agreement, the rest on
    its managed services agreement; at list price, or the customer's discount of it."""
    if contract is None:
        microsoft = product.startswith(("M365", "EXO", "TEAMS"))
        contract = len(customer.contracts) - 1 if microsoft else 0
    price = (PRODUCTS[product].price * customer.price_factor).quantize(CENT)
    return Line(
        customer.id,
        customer.name,
        customer.contracts[contract],
        product,
        book.new_line_id(),
        quantity,
        price,
    )


def _bill_differently(rng: random.Random, book: Book) -> None:
    """Make month 0's PSA differ from the counts where a real one would: seats changed since
    the last true-up, a product sold but never billed, a line never removed."""
    reconciled = [i for i, line in enumerate(book.lines) if line.product_id in SKU_OF]
    for i in rng.sample(reconciled, 18):
        line = book.lines[i]
        delta = rng.choice([-3, -2, -1, -1, 1, 1, 2])
        book.lines[i] = replace(line, quantity=max(1, line.quantity + delta))
    for i in sorted(rng.sample(reconciled, 5), reverse=True):
        del book.lines[i]
    mapped_by_id = [
        line
        for line in book.lines
        if line.product_id in SKU_OF
        and book.customer(line.account_id).accounts[SKU_OF[line.product_id].vendor].how == "id"
    ]
    for line in rng.sample(mapped_by_id, 2):
        sku = SKU_OF[line.product_id]
        account = book.customer(line.account_id).accounts[sku.vendor]
        book.counts[0].pop((sku.vendor, account.id, sku.id), None)


def _drift(
    rng: random.Random, book: Book, month: int, seats: dict[str, dict[str, int]]
) -> dict[Key, int]:
    """Give back a month's counts: last month's, moved as people join and leave, with the
    month's planted events (cancellations, new products, upgrades, a customer lost)."""
    counts = dict(book.counts[month - 1])
    for key, quantity in list(counts.items()):
        if key[1] != book.our_tenant.id and rng.random() < 0.08:
            counts[key] = max(1, quantity + rng.choice([1, 1, 2, 3, -1, -1, -2]))
    joined = [c for c in book.customers if c.joined == month]
    counts.update(_counts(joined, seats, book.our_tenant, month))
    gone = {account for at, account in book.left.items() if at <= month}
    settled = [c for c in book.customers if c.joined < month and c.id not in gone]
    if month in book.left:
        lost = book.customer(book.left[month])
        counts = {k: q for k, q in counts.items() if k[1] not in _ids(lost)}
    events = _Events(rng, counts, settled)
    ago = THIS_MONTH - month
    if ago == 0:
        _this_month(events, book)
    elif ago == 1:
        events.cancel("TEAMS-ESS", 1)
        events.add("M365-COPILOT", 2, 1, 2)
        events.add_unmapped("CFQ7TTC0LHSF", 2, 1, 3)  # Power BI Pro: a SKU to map next month
    else:
        for what, *args in _YEAR.get(ago, []):
            getattr(events, what)(*args)
    return counts


UPGRADE = {"S1-CONTROL": "S1-COMPLETE", "M365-BS": "M365-BP", "M365-BB": "M365-BS"}


class _Events:
    """A month's planted events, each on customers not touched by another this month."""

    def __init__(self, rng: random.Random, counts: dict[Key, int], settled: list[Customer]):
        self.rng = rng
        self.counts = counts
        self.order = rng.sample(settled, len(settled))

    def key(self, customer: Customer, product: str) -> Key:
        sku = SKU_OF[product]
        return (sku.vendor, customer.accounts[sku.vendor].id, sku.id)

    def has(self, customer: Customer, product: str) -> bool:
        return (
            SKU_OF[product].vendor in customer.accounts
            and self.key(customer, product) in self.counts
        )

    def holding(self, product: str, n: int) -> list[Customer]:
        """Give back (and set aside) `n` customers that hold the product."""
        found = [c for c in self.order if self.has(c, product)][:n]
        for c in found:
            self.order.remove(c)
        return found

    def lacking(self, product: str, n: int) -> list[Customer]:
        """Give back (and set aside) `n` customers that could buy the product but hold none."""
        vendor = SKU_OF[product].vendor
        found = [c for c in self.order if vendor in c.accounts and not self.has(c, product)][:n]
        for c in found:
            self.order.remove(c)
        return found

    def hire(self, product: str, n: int, low: int, high: int) -> None:
        for c in self.holding(product, n):
            self.counts[self.key(c, product)] += self.rng.randint(low, high)

    def shrink(self, product: str, n: int, low: int, high: int) -> None:
        for c in self.holding(product, n):
            key = self.key(c, product)
            self.counts[key] = max(1, self.counts[key] - self.rng.randint(low, high))

    def cancel(self, product: str, n: int) -> None:
        for c in self.holding(product, n):
            del self.counts[self.key(c, product)]

    def add(self, product: str, n: int, low: int, high: int) -> None:
        for c in self.lacking(product, n):
            self.counts[self.key(c, product)] = self.rng.randint(low, high)

    def add_unmapped(self, sku: str, n: int, low: int, high: int) -> None:
        for c in self.order[:n]:
            self.counts[(PAX8, c.accounts[PAX8].id, sku)] = self.rng.randint(low, high)
        del self.order[:n]

    def move(self, old: str, n: int) -> None:
        """Move `n` customers' seats of a product to the plan above it."""
        new = UPGRADE[old]
        for c in [c for c in self.order if self.has(c, old) and not self.has(c, new)][:n]:
            self.order.remove(c)
            self.counts[self.key(c, new)] = self.counts.pop(self.key(c, old))


def _this_month(events: _Events, book: Book) -> None:
    """This month's changes: every kind of card, for the month's work."""
    events.hire("M365-BP", 3, 2, 5)
    events.hire("M365-BS", 1, 2, 5)
    events.shrink("M365-BS", 2, 1, 3)  # leavers
    events.shrink("M365-BB", 1, 1, 3)
    for c in events.holding("TEAMS-ESS", 1):
        book.cancelled[THIS_MONTH].add(events.key(c, "TEAMS-ESS"))
    events.cancel("EXO-P1", 1)  # shared mailboxes moved off their licences
    events.cancel("M365-COPILOT", 1)  # a Copilot pilot that ended
    events.move("S1-CONTROL", 1)
    events.add("M365-COPILOT", 3, 1, 4)
    events.add_unmapped("CFQ7TTC0HD33", 1, 2, 2)  # Visio, not sold through the PSA


_YEAR: dict[int, list[tuple[Any, ...]]] = {
    # months before this one: what the month brought beside the usual hires and leavers
    11: [("hire", "M365-BS", 2, 2, 4), ("add", "TEAMS-ESS", 2, 3, 6)],
    9: [("move", "S1-CONTROL", 3)],  # a security review: Control to Complete
    8: [("move", "M365-BS", 3), ("hire", "M365-BP", 2, 2, 6)],  # Standard to Premium
    7: [("shrink", "M365-BS", 3, 2, 4), ("cancel", "EXO-P1", 2)],  # a quiet summer
    5: [("add", "M365-COPILOT", 6, 3, 8), ("hire", "M365-BP", 2, 2, 5)],  # Copilot rollout
    4: [("add", "M365-COPILOT", 5, 2, 6), ("add", "TEAMS-ESS", 1, 2, 4)],
    3: [("cancel", "M365-COPILOT", 1), ("shrink", "M365-BP", 2, 2, 4)],  # a pilot ends
    2: [("hire", "M365-BP", 2, 3, 6), ("move", "M365-BB", 2)],  # Basic to Standard
}
"""The year's planted events, by how many months before this one they happened: (what,
product, customers, and the fewest and most seats each gains or loses)."""


def _ids(customer: Customer) -> set[str]:
    """Give back the ids a customer's vendors know it by."""
    return {account.id for account in customer.accounts.values()}


def apply_approvals(
    book: Book, lines: list[Line], approved: Iterable[tuple[str, str, int]]
) -> list[Line]:
    """Give back the PSA lines after the approved changes were made in the PSA: each (account,
    product) billed at its approved vendor quantity. A new product gets a line at list price
    (less the customer's discount); a quantity of 0 removes the product's lines."""
    lines = list(lines)
    for account, product, quantity in approved:
        own = [
            i
            for i, line in enumerate(lines)
            if (line.account_id, line.product_id) == (account, product)
        ]
        if not own:
            lines.append(_line(book, book.customer(account), product, quantity))
            continue
        # The target line is the largest; ties go to the smallest contract, then line (DESIGN 4.5).
        target = min(
            own, key=lambda i: (-lines[i].quantity, lines[i].contract.id, lines[i].line_id)
        )
        change = quantity - sum(lines[i].quantity for i in own)
        if quantity == 0:
            lines = [line for i, line in enumerate(lines) if i not in own]
        elif lines[target].quantity + change > 0:
            lines[target] = replace(lines[target], quantity=lines[target].quantity + change)
        else:
            kept = replace(lines[target], quantity=quantity)
            lines = [
                kept if i == target else line
                for i, line in enumerate(lines)
                if i == target or i not in own
            ]
    return lines
