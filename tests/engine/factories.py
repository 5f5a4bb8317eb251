"""Small builders for the engine's input frames, so a test reads like the situation it describes.

Quantities and prices are written as text ("2.5") and become exact decimals; nothing is a float.
Names default to none, so nothing auto-maps unless a test gives the names that should match.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import polars as pl

from engine import Reconciliation, reconcile
from engine.schema import ACCOUNT_MAP, CARDS, CATALOG, PRODUCT_MAP, PSA_LINES, USAGE, Schema

Number = str | int | Decimal
Row = dict[str, Any]


def dec(value: Number | None) -> Decimal | None:
    """Give back `value` as an exact decimal (None stays None)."""
    return None if value is None else Decimal(str(value))


def psa_line(
    account: str,
    product: str,
    qty: Number,
    *,
    price: Number | None = "10",
    contract: str | None = "C1",
    line: str | None = None,
    account_name: str | None = None,
    product_name: str | None = None,
    prorate: bool | None = None,
    months: int | None = None,
) -> Row:
    """Give back one PSA agreement line; its line id defaults to contract/account/product."""
    return {
        "account_id": account,
        "account_name": account_name,
        "contract_id": contract,
        "product_id": product,
        "product_name": product_name,
        "line_id": line if line is not None else f"{contract}-{account}-{product}",
        "quantity": dec(qty),
        "unit_price": dec(price),
        "prorate": prorate,
        "billing_months": months,
    }


def usage(
    vendor: str,
    account: str,
    product: str,
    qty: Number,
    *,
    account_name: str | None = None,
    product_name: str | None = None,
    status: str | None = None,
) -> Row:
    """Give back one vendor usage row (ids are the vendor's)."""
    return {
        "vendor": vendor,
        "account_id": account,
        "account_name": account_name,
        "product_id": product,
        "product_name": product_name,
        "quantity": dec(qty),
        "status": status,
    }


def account_map(
    vendor: str, vendor_account: str, psa_account: str | None = None, *, excluded: bool = False
) -> Row:
    """Give back one account map row; `excluded` rows have no PSA account."""
    return {
        "vendor": vendor,
        "vendor_account_id": vendor_account,
        "psa_account_id": None if excluded else psa_account,
        "excluded": excluded,
        "reason": None,
        "auto": False,
    }


def product_map(
    vendor: str, sku: str, psa_product: str | None = None, *, excluded: bool = False
) -> Row:
    """Give back one product map row (a vendor SKU to a PSA product, or its exclusion)."""
    return {
        "vendor": vendor,
        "vendor_product_id": sku,
        "psa_product_id": None if excluded else psa_product,
        "excluded": excluded,
        "reason": None,
        "auto": False,
    }


def catalog_item(
    product: str, price: Number | None, *, name: str | None = None, months: int | None = None
) -> Row:
    """Give back one catalogue row: a PSA product's list price."""
    return {
        "product_id": product,
        "product_name": name,
        "unit_price": dec(price),
        "billing_months": months,
    }


def frame(rows: Iterable[Mapping[str, Any]], schema: Schema) -> pl.DataFrame:
    """Give back `rows` as a frame of the columns they name, typed by `schema`.

    Text and integers in decimal columns become exact decimals, so expectations can say "12.06".
    No rows give an empty frame of the whole schema.
    """
    rows = list(rows)
    unknown = {name for row in rows for name in row} - set(schema)
    assert not unknown, f"not columns of this frame: {sorted(unknown)}"
    columns = [name for name in schema if any(name in row for row in rows)] if rows else [*schema]
    data = {
        name: [
            dec(row.get(name)) if isinstance(schema[name], pl.Decimal) else row.get(name)
            for row in rows
        ]
        for name in columns
    }
    return pl.DataFrame(data, schema={name: schema[name] for name in columns})


def run(
    psa: Iterable[Row] = (),
    use: Iterable[Row] = (),
    accounts: Iterable[Row] = (),
    products: Iterable[Row] = (),
    catalog: Iterable[Row] | None = None,
    **options: Any,
) -> Reconciliation:
    """Give back the reconciliation of these rows, each list as its engine frame."""
    return reconcile(
        frame(psa, PSA_LINES),
        frame(use, USAGE),
        frame(accounts, ACCOUNT_MAP),
        frame(products, PRODUCT_MAP),
        None if catalog is None else frame(catalog, CATALOG),
        **options,
    )


def expected_cards(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Give back expected card rows as a CARDS-typed frame of the columns they name."""
    return frame(rows, CARDS)


def cards_like(result: Reconciliation, expected: pl.DataFrame) -> pl.DataFrame:
    """Give back the reconciliation's cards reduced to the columns of `expected`."""
    return result.cards.select(expected.columns)


def only_card(result: Reconciliation, account: str, product: str) -> Row:
    """Give back the one card of (account, product) as a dict; fail if there is not exactly one."""
    found = result.cards.filter(
        (pl.col("account_id") == account) & (pl.col("product_id") == product)
    )
    assert found.height == 1, f"{found.height} cards for ({account}, {product}):\n{result.cards}"
    return found.row(0, named=True)


def vendors_of(result: Reconciliation, account: str, product: str) -> list[tuple]:
    """Give back the vendors that count toward (account, product), sorted by name, each as
    (vendor, quantity, has_data)."""
    return sorted(
        result.card_vendors.filter(
            (pl.col("account_id") == account) & (pl.col("product_id") == product)
        )
        .select("vendor", "quantity", "has_data")
        .rows()
    )
