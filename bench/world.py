"""The synthetic month's cast: PSA accounts, PSA products, vendors' SKUs and vendor accounts.

Everything is drawn from one numpy Generator, so a seed gives the same world every time. Rows
refer to each other by integer positions (`account`, `product`, `sku`, `tenant`), turned into
the text ids of the files only when written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from bench import names

Ids = Callable[[np.random.Generator, int], pl.Series]


@dataclass(frozen=True)
class Vendor:
    name: str
    distributor: str
    product_share: float
    """Share of the reconciled PSA products this vendor sells."""
    customer_share: float
    """Share of the PSA accounts that are its customers."""
    account_ids: Ids
    sku_ids: Ids
    has_file: bool = True
    """False: it has maps but sent no usage file this month, so its cards are no_vendor_data."""


def _numbers(prefix: str, low: int, spread: int = 7) -> Ids:
    return lambda rng, n: names.with_prefix(prefix, names.distinct_numbers(rng, n, low, spread))


VENDORS = (
    Vendor("pax8", "pax8", 0.45, 0.55, names.hex_ids, names.hex_ids),
    Vendor("sherweb", "sherweb", 0.08, 0.12, _numbers("SW", 1_000_000), _numbers("SWP-", 100)),
    Vendor(
        "sentinelone",
        "",
        0.12,
        0.40,
        _numbers("", 1_600_000_000_000_000_000, 7919),
        _numbers("S1-", 10),
    ),
    Vendor("datto", "", 0.15, 0.35, _numbers("site-", 20_000), _numbers("DTO", 5000)),
    Vendor("huntress", "", 0.10, 0.35, _numbers("", 3000), _numbers("HUNT-", 1)),
    Vendor("ninjaone", "", 0.10, 0.30, _numbers("", 500), _numbers("NJ", 7000), has_file=False),
)
DUAL_SOURCED = 0.25
"""Share of Pax8's products that Sherweb also sells (the same PSA product from two vendors)."""


@dataclass(frozen=True)
class World:
    accounts: pl.DataFrame
    """One row per PSA account: account, account_id, account_name, in_psa, contracts, renamed."""
    products: pl.DataFrame
    """One row per PSA product: product, product_id, product_name, vendor (null for labour and
    hardware), price and cost (in 1/10000), months, in_catalog."""
    skus: pl.DataFrame
    """One row per vendor SKU: sku, vendor, sku_id, sku_name, product (-1: none), term, status
    (mapped, auto, unmapped, excluded)."""
    tenants: pl.DataFrame
    """One row per vendor account: tenant, vendor, tenant_id, tenant_name, account (-1: none),
    status, second (the account's second tenant at this vendor, -1: none), primary (the
    account's first tenant at this vendor)."""


def sizes(psa_lines: int) -> tuple[int, int]:
    """Give back how many PSA accounts and reconciled products a month of that size has."""
    accounts = max(psa_lines // 14, min(psa_lines // 5, 2000), 20)
    return accounts, int(np.clip(psa_lines // 2500, 40, 280))


def build(rng: np.random.Generator, psa_lines: int) -> World:
    """Give back the accounts, products, SKUs and vendor accounts of a month of that size."""
    n_accounts, n_reconciled = sizes(psa_lines)
    accounts = _accounts(rng, n_accounts)
    products = _products(rng, n_reconciled)
    return World(accounts, products, _skus(rng, products), _tenants(rng, accounts))


def _accounts(rng: np.random.Generator, n: int) -> pl.DataFrame:
    account_names = names.account_names(rng, n)
    # A few pairs of PSA companies share a name, so an exact-name auto-map is ambiguous there.
    twins = rng.choice(n, size=max(1, n // 300) * 2, replace=False).reshape(2, -1)
    account_names = account_names.scatter(twins[1], account_names.gather(twins[0]))
    return pl.DataFrame(
        {
            "account": np.arange(n),
            "account_id": names.with_prefix("", names.distinct_numbers(rng, n, 2, 3)),
            "account_name": account_names,
            # Maps may point at companies created in the PSA after its export: new_revenue cards
            # with an empty account name.
            "in_psa": rng.random(n) >= 0.005,
            "contracts": rng.choice([1, 2, 3], size=n, p=[0.45, 0.35, 0.20]),
            "renamed": rng.random(n) < 0.005,
        }
    )


def _products(rng: np.random.Generator, n_reconciled: int) -> pl.DataFrame:
    parts = []
    for vendor in VENDORS:
        families = names.FAMILIES[vendor.name].split(";")
        shape = (len(families), len(names.TIERS))
        count = min(max(1, round(vendor.product_share * n_reconciled)), shape[0] * shape[1])
        family, tier = np.unravel_index(
            rng.choice(shape[0] * shape[1], count, replace=False), shape
        )
        product_names = names.pick(families, family) + " " + names.pick(names.TIERS, tier)
        parts.append(pl.DataFrame({"product_name": product_names, "vendor": vendor.name}))
    reconciled = pl.concat(parts)
    labour = pl.DataFrame(
        {"product_name": names.LABOUR[: max(4, min(len(names.LABOUR), n_reconciled // 5))]}
    ).with_columns(vendor=pl.lit(None, pl.String))
    n, n_labour = reconciled.height + labour.height, labour.height
    ids = pl.concat(
        [
            names.with_prefix("P", names.distinct_numbers(rng, reconciled.height, 100, 13)),
            names.with_prefix("LAB-", names.distinct_numbers(rng, n_labour, 1, 3)),
        ]
    )
    # Monthly list prices in 1/10000: cents mostly, a fifth with four decimal places.
    cents = np.clip(np.round(np.exp(rng.normal(2.2, 0.9, n)) * 100), 50, 40_000).astype(np.int64)
    cents[-n_labour:] = rng.integers(95, 226, n_labour) * 100
    price = cents * 100 + (rng.random(n) < 0.2) * rng.integers(1, 100, n)
    annual = (rng.random(n) < 0.12) & (np.arange(n) < reconciled.height)
    price = np.where(annual, price * 12, price)
    return pl.concat([reconciled, labour]).select(
        pl.Series("product", np.arange(n)),
        ids.alias("product_id"),
        "product_name",
        "vendor",
        pl.Series("price", price),
        pl.Series("cost", (price * rng.uniform(0.55, 0.85, n)).astype(np.int64)),
        pl.Series("months", np.where(annual, 12, 1)),
        pl.Series("in_catalog", rng.random(n) >= 0.04),
    )


def _skus(rng: np.random.Generator, products: pl.DataFrame) -> pl.DataFrame:
    reconciled = products.filter(pl.col("vendor").is_not_null())
    dual = reconciled.filter(pl.col("vendor") == "pax8").sample(
        fraction=DUAL_SOURCED, seed=int(rng.integers(2**31))
    )
    offerings = pl.concat([reconciled, dual.with_columns(vendor=pl.lit("sherweb"))])
    # A fifth of the offerings come as two SKUs (monthly and annual commitment), both mapped
    # to the one PSA product.
    copies = 1 + (rng.random(offerings.height) < 0.2)
    offered = (
        offerings.select("vendor", "product", "product_name", "in_catalog", pl.Series("n", copies))
        .with_columns(pl.int_ranges("n").alias("k"))
        .explode("k")
    )
    first = offered.get_column("k").to_numpy() == 0
    in_catalog = offered.get_column("in_catalog").to_numpy()
    auto = first & in_catalog & (rng.random(offered.height) < 0.04)
    variant = names.case_and_space_variant(rng, offered.get_column("product_name"))
    offered = offered.select(
        "vendor",
        pl.when(pl.Series(auto))
        .then(variant)
        .otherwise(
            pl.col("product_name")
            + pl.when(pl.col("k") == 0).then(pl.lit(" (monthly)")).otherwise(pl.lit(" (annual)"))
        )
        .alias("sku_name"),
        "product",
        pl.when(pl.col("k") == 0).then(pl.lit("monthly")).otherwise(pl.lit("annual")).alias("term"),
        pl.when(pl.Series(auto)).then(pl.lit("auto")).otherwise(pl.lit("mapped")).alias("status"),
    )
    extras = [_extra_skus(rng, vendor, offered) for vendor in VENDORS]
    skus = pl.concat(
        [
            pl.concat([offered.filter(pl.col("vendor") == v.name), extra], how="vertical_relaxed")
            for v, extra in zip(VENDORS, extras, strict=True)
        ]
    )
    ids = [v.sku_ids(rng, skus.filter(pl.col("vendor") == v.name).height) for v in VENDORS]
    return skus.select(
        pl.Series("sku", np.arange(skus.height)),
        "vendor",
        pl.concat(ids).alias("sku_id"),
        "sku_name",
        "product",
        "term",
        "status",
    )


def _extra_skus(rng: np.random.Generator, vendor: Vendor, offered: pl.DataFrame) -> pl.DataFrame:
    """SKUs that reach no card: new ones nobody mapped yet, and excluded ones (NFR, trials)."""
    count = offered.filter(pl.col("vendor") == vendor.name).height
    unmapped, excluded = max(1, round(0.04 * count)), max(1, round(0.02 * count))
    families = names.FAMILIES[vendor.name].split(";")
    family = names.pick(families, rng.integers(0, len(families), unmapped + excluded))
    number = pl.Series(np.arange(unmapped + excluded) + 1).cast(pl.String)
    # The markers keep these names from equalling any PSA product name.
    marker = pl.Series(["(preview)"] * unmapped + ["NFR"] * excluded)
    return pl.DataFrame(
        {
            "vendor": vendor.name,
            "sku_name": family + " Add-on " + number + " " + marker,
            "product": -1,
            "term": "monthly",
            "status": ["unmapped"] * unmapped + ["excluded"] * excluded,
        }
    )


def _tenants(rng: np.random.Generator, accounts: pl.DataFrame) -> pl.DataFrame:
    parts, offset = [], 0
    for vendor in VENDORS:
        part = _vendor_tenants(rng, vendor, accounts).with_columns(
            pl.col("tenant") + offset,
            pl.when(pl.col("second") >= 0).then(pl.col("second") + offset).otherwise(-1),
        )
        offset += part.height
        parts.append(part)
    return pl.concat(parts)


TENANT_STATUS = (("mapped", 0.935), ("auto", 0.025), ("unmapped", 0.025), ("excluded", 0.015))


def _vendor_tenants(
    rng: np.random.Generator, vendor: Vendor, accounts: pl.DataFrame
) -> pl.DataFrame:
    """One vendor's accounts: one per customer, a second tenant for a few, and orphans (its own
    internal tenants, excluded; prospects, unmapped) that belong to no PSA account."""
    customers = accounts.filter(pl.Series(rng.random(accounts.height) < vendor.customer_share))
    n = customers.height
    labels, shares = zip(*TENANT_STATUS, strict=True)
    status = rng.choice(labels, size=n, p=shares)
    status = np.where(customers.get_column("in_psa").to_numpy(), status, "mapped")
    account_names = customers.get_column("account_name")
    variant = names.case_and_space_variant(rng, account_names)
    site = rng.random(n) < 0.2
    primary = customers.select(
        "account",
        pl.Series("status", status),
        pl.when(pl.Series(status) == "auto")
        .then(variant)
        .when(pl.Series(status) == "unmapped")
        .then(pl.col("account_name") + " (old tenant)")
        .when(pl.Series(site))
        .then(pl.col("account_name") + " - Main Office")
        .otherwise(pl.col("account_name"))
        .alias("tenant_name"),
    )
    seconds = primary.filter(pl.Series(rng.random(n) < 0.03)).select(
        "account", pl.lit("mapped").alias("status"), pl.col("tenant_name") + " - Branch"
    )
    n_orphans = max(2, n // 100)
    internal = np.arange(n_orphans) % 2 == 0
    numbers = pl.Series(np.arange(n_orphans) + 1).cast(pl.String)
    orphans = pl.DataFrame(
        {
            "account": -1,
            "status": np.where(internal, "excluded", "unmapped"),
            "tenant_name": pl.select(
                pl.when(pl.Series(internal))
                .then("Internal " + vendor.name + " tenant " + numbers)
                .otherwise("Prospect " + numbers + " [trial]")
            ).to_series(),
        }
    )
    tenants = pl.concat([primary, seconds, orphans], how="vertical_relaxed").with_columns(
        pl.int_range(pl.len()).alias("tenant"), vendor=pl.lit(vendor.name)
    )
    # Each primary tenant knows its account's second tenant, where there is one.
    second = tenants.slice(n, seconds.height).select("account", pl.col("tenant").alias("second"))
    return tenants.join(second, on="account", how="left", maintain_order="left").select(
        "tenant",
        "vendor",
        vendor.account_ids(rng, tenants.height).alias("tenant_id"),
        "tenant_name",
        "account",
        "status",
        pl.when(pl.col("tenant") < n).then(pl.col("second").fill_null(-1)).otherwise(-1),
        (pl.col("tenant") < n).alias("primary"),
    )
