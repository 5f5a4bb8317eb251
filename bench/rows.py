"""The synthetic month's rows: subscriptions, PSA contract lines and vendor usage lines.

Quantities are integers counted in hundredths (`1250` is 12.5) and prices in ten-thousandths,
so that every sum and split below is exact; they become text only when written.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from bench.world import VENDORS, World

WITH_FILE = [v.name for v in VENDORS if v.has_file]
STATUS_VENDOR = "pax8"
"""The one vendor whose usage file has a `status` column."""

DRIFT = (("unchanged", 0.85), ("increase", 0.07), ("decrease", 0.06), ("removal", 0.02))
"""How a vendor's count compares with the PSA's, per subscription billed in the PSA."""


def seats(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Give back n quantities in hundredths (mostly whole seats, 3% storage-like fractions with
    two places) and which of them are fractional."""
    whole = np.clip(np.round(rng.lognormal(1.6, 1.1, n)), 1, 5000).astype(np.int64) * 100
    fractional = rng.random(n) < 0.03
    return np.where(fractional, rng.integers(25, 8000, n), whole), fractional


def subscriptions(rng: np.random.Generator, world: World, billed: int, new: int) -> pl.DataFrame:
    """Give back one row per (account, product) that the PSA bills (`billed`) or that only a
    vendor reports (`new`): account, product, tenant, vendor, kind, psa_q, vendor_q, fractional.

    Fewer rows come back when the small worlds of small months run out of distinct pairs.
    """
    tenants = world.tenants.filter(pl.col("primary"))
    in_psa = world.accounts.get_column("in_psa").to_numpy()
    pools = {
        "billed": tenants.filter(pl.Series(in_psa[tenants.get_column("account").to_numpy()])),
        "new": tenants.filter(pl.col("vendor").is_in(WITH_FILE)),
    }
    wanted = {"billed": billed, "new": new}
    offer = _offer(rng, world)
    found = pl.DataFrame(schema={"account": pl.Int64, "product": pl.Int64, "kind": pl.String})
    for attempt in range(8):
        draws = [
            _draw(rng, pools[kind], offer, int(wanted[kind] * (1.3 + attempt))).with_columns(
                kind=pl.lit(kind)
            )
            for kind in wanted
        ]
        found = pl.concat([found, *draws], how="diagonal_relaxed").unique(
            ["account", "product"], keep="first", maintain_order=True
        )
        counts = dict(found.group_by("kind").len().iter_rows())
        if all(counts.get(kind, 0) >= wanted[kind] for kind in wanted):
            break
    pairs = pl.concat([found.filter(pl.col("kind") == k).head(wanted[k]) for k in wanted])

    n = pairs.height
    billed_q, fractional = seats(rng, n)
    step = np.where(fractional, rng.integers(1, 300, n), rng.integers(1, 6, n) * 100)
    drift = rng.choice([d for d, _ in DRIFT], size=n, p=[p for _, p in DRIFT])
    vendor_q = np.select(
        [drift == "increase", drift == "decrease", drift == "removal"],
        [billed_q + step, np.maximum(billed_q - step, 0), 0],
        billed_q,
    )
    is_new = (pairs.get_column("kind") == "new").to_numpy()
    return pairs.with_columns(
        pl.Series("psa_q", np.where(is_new, 0, billed_q)),
        pl.Series("vendor_q", np.where(is_new, billed_q, vendor_q)),
        pl.Series("fractional", fractional),
    )


def _offer(rng: np.random.Generator, world: World) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Give back, per vendor, the PSA products it sells and how popular each is."""
    offer = {}
    for vendor, products in (
        world.skus.filter(pl.col("product") >= 0)
        .group_by("vendor", maintain_order=True)  # the order of draws from `rng`
        .agg(pl.col("product").unique().sort())
        .iter_rows()
    ):
        rank = rng.permutation(len(products))
        weight = 1.0 / (rank + 2.0) ** 0.8
        offer[vendor] = (np.array(products), weight / weight.sum())
    return offer


def _draw(
    rng: np.random.Generator,
    pool: pl.DataFrame,
    offer: dict[str, tuple[np.ndarray, np.ndarray]],
    count: int,
) -> pl.DataFrame:
    """Give back `count` random (tenant, product) draws: a customer of a vendor, one of its
    products; one row per draw: account, product, tenant, vendor."""
    picked = pool.select("tenant", "vendor", "account")[rng.integers(0, pool.height, count)]
    vendor = picked.get_column("vendor").to_numpy()
    product = np.zeros(count, dtype=np.int64)
    for name, (products, weight) in offer.items():
        mask = vendor == name
        product[mask] = rng.choice(products, size=int(mask.sum()), p=weight)
    return picked.with_columns(pl.Series("product", product))


def psa_lines(
    rng: np.random.Generator, world: World, pairs: pl.DataFrame, count: int
) -> pl.DataFrame:
    """Give back `count` PSA contract lines: account, contract (its place in the account),
    product, quantity; the billed pairs first (a few split over two lines), then labour and
    hardware lines that are not reconciled."""
    billed = pairs.filter(pl.col("kind") == "billed")
    doubled = min(max(0, count - billed.height), billed.height, round(0.03 * billed.height))
    twice = np.zeros(billed.height, dtype=bool)
    twice[rng.choice(billed.height, doubled, replace=False)] = True
    q = billed.get_column("psa_q").to_numpy()
    unit = np.where(billed.get_column("fractional").to_numpy(), 1, 100)
    units = q // unit
    # A third of the split pairs split evenly, so that the target line is decided by the
    # contract and line ids.
    even = (units % 2 == 0) & (rng.random(billed.height) < 0.33)
    first = np.where(even, units // 2, rng.integers(0, units + 1)) * unit
    contracts = world.accounts.get_column("contracts").to_numpy()[billed.get_column("account")]
    contract = rng.integers(0, contracts)
    lines = pl.concat(
        [
            billed.select("account", "product").with_columns(
                contract=pl.Series(contract), quantity=pl.Series(np.where(twice, first, q))
            ),
            billed.filter(pl.Series(twice))
            .select("account", "product")
            .with_columns(
                contract=pl.Series((contract[twice] + 1) % contracts[twice]),
                quantity=pl.Series(q[twice] - first[twice]),
            ),
        ]
    )
    return pl.concat([lines, _labour(rng, world, count - lines.height)], how="vertical_relaxed")


def _labour(rng: np.random.Generator, world: World, count: int) -> pl.DataFrame:
    """Give back `count` lines of products no vendor maps: labour hours, hardware, fees."""
    accounts = world.accounts.filter(pl.col("in_psa"))
    labour = world.products.filter(pl.col("vendor").is_null()).get_column("product").to_numpy()
    picked = accounts[rng.integers(0, accounts.height, count)]
    hours = np.where(
        rng.random(count) < 0.6, rng.integers(1, 41, count) * 100, rng.integers(1, 80, count) * 25
    )
    return picked.select(
        "account",
        pl.Series("product", rng.choice(labour, count)),
        pl.Series("contract", rng.integers(0, picked.get_column("contracts").to_numpy())),
        pl.Series("quantity", hours),
    )
