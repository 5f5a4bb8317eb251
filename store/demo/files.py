"""The demo's files, as each system would export them: PSA agreements and catalogue, vendor
usage in each vendor's own columns, and the map files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from store.demo.book import MONTHS, Book, Line
from store.demo.products import (
    DATTO,
    DISTRIBUTOR,
    EXCLUDED_REASON,
    OUR_TENANT,
    PAX8,
    PRODUCTS,
    RENAMED,
    SENTINELONE,
    SKUS,
)

HEADERS = {
    PAX8: [
        "vendor", "distributor", "account_id", "account_name", "product_id", "product_name",
        "quantity", "unit_cost", "billing_term", "status",
    ],
    SENTINELONE: ["Customer ID", "Customer Name", "SKU", "Product Name", "Licenses"],
    DATTO: ["Client ID", "Client Name", "SKU", "Product", "Seats"],
}  # fmt: skip
"""Pax8 exports our template; SentinelOne and Datto their own headers, read by alias."""


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return text.getvalue().encode()


def psa_file(lines: Iterable[Line]) -> bytes:
    """Give back the PSA's agreement export: one row per agreement line."""
    header = [
        "account_id", "account_name", "contract_id", "contract_name", "product_id",
        "product_name", "line_id", "quantity", "unit_price", "unit_cost", "prorate",
        "billing_cycle",
    ]  # fmt: skip
    rows = sorted(lines, key=lambda line: (line.account_id, line.contract.id, line.line_id))
    return _csv(
        header,
        (
            (
                line.account_id,
                line.account_name,
                line.contract.id,
                line.contract.name,
                line.product_id,
                PRODUCTS[line.product_id].name,
                line.line_id,
                line.quantity,
                line.unit_price,
                PRODUCTS[line.product_id].cost,
                "true" if line.contract.prorate else "false",
                PRODUCTS[line.product_id].cycle,
            )
            for line in rows
        ),
    )


def catalog_file() -> bytes:
    """Give back the PSA's product catalogue."""
    return _csv(
        ["product_id", "product_name", "unit_price", "unit_cost", "billing_cycle"],
        ((p.id, p.name, p.price, p.cost, p.cycle) for p in PRODUCTS.values()),
    )


def usage_file(book: Book, vendor: str, month: int, *, broken: bool = False) -> bytes:
    """Give back one vendor's usage export of a month; `broken` spoils one row's seats, as an
    export does when a subscription is mid-provisioning."""
    names = {a.id: a.name for c in book.customers for a in c.accounts.values()}
    names[book.our_tenant.id] = OUR_TENANT[0]
    if month == MONTHS - 1 and vendor == RENAMED[0]:
        names = {id: RENAMED[2] if name == RENAMED[1] else name for id, name in names.items()}
    counts = sorted(
        (key, quantity) for key, quantity in book.counts[month].items() if key[0] == vendor
    )
    rows: list[list[object]] = []
    for (_, account, sku_id), quantity in counts:
        sku = SKUS[(vendor, sku_id)]
        if vendor == PAX8:
            status = "Cancelled" if (vendor, account, sku_id) in book.cancelled[month] else "Active"
            rows.append(
                [
                    PAX8, DISTRIBUTOR[PAX8], account, names[account], sku_id, sku.name,
                    quantity, sku.cost, sku.term, status,
                ]
            )  # fmt: skip
        else:
            rows.append([account, names[account], sku_id, sku.name, quantity])
    if broken:
        rows[len(rows) // 2][-1] = "N/A"
    return _csv(HEADERS[vendor], rows)


def account_map_file(book: Book, joined: int) -> bytes | None:
    """Give back the account maps made when customers joined: by id, where the vendor's name
    for the customer is not the PSA's; the first month's also excludes our own tenant. None
    when the month's new customers all map by name."""
    rows = [
        (account.vendor, account.id, customer.id, "", "")
        for customer in book.customers
        if customer.joined == joined
        for account in customer.accounts.values()
        if account.how == "id"
    ]
    if joined == 0:
        rows.append((PAX8, book.our_tenant.id, "", "true", OUR_TENANT[1]))
    if not rows:
        return None
    return _csv(["vendor", "vendor_account_id", "psa_account_id", "excluded", "reason"], rows)


def product_map_file() -> bytes:
    """Give back the product maps: the SKUs not named as their PSA product, and the free SKU
    excluded."""
    rows = [
        (s.vendor, s.id, s.psa_product or "", "true" if s.how == "excluded" else "",
         EXCLUDED_REASON.get(s.id, ""))
        for s in SKUS.values()
        if s.how in ("id", "excluded")
    ]  # fmt: skip
    return _csv(["vendor", "vendor_product_id", "psa_product_id", "excluded", "reason"], rows)
