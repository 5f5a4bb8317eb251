"""The synthetic month's vendor usage lines (quantities in hundredths, as in `bench.rows`)."""

from __future__ import annotations

import numpy as np
import polars as pl

from bench.rows import STATUS_VENDOR, WITH_FILE, seats
from bench.world import World

ACTIVE = (("active", 0.90), ("Active", 0.05), (" ACTIVE ", 0.02), ("", 0.03))
INACTIVE = ("trial", "suspended", "cancelled", "Cancelled")


def usage_rows(
    rng: np.random.Generator, world: World, pairs: pl.DataFrame, count: int
) -> pl.DataFrame:
    """Give back `count` usage lines in random order: tenant, sku, quantity, status.

    Each subscription of a vendor with a file is reported on one or more lines (several SKUs,
    a second tenant, repeated subscriptions) that add up to its vendor quantity; half of the
    removals still have a line saying 0. Then come lines that reach no card: inactive
    subscriptions, the vendors' own and prospects' tenants, SKUs nobody mapped or excluded.
    """
    reported = pairs.filter(pl.col("vendor").is_in(WITH_FILE))
    inactive = round(0.01 * count) if STATUS_VENDOR in WITH_FILE else 0
    filler = round(0.05 * count)
    lines = _reported(rng, world, reported, count - inactive - filler)
    lines = pl.concat(
        [
            lines,
            _inactive(rng, world, lines, inactive),
            _stray(rng, world, filler - filler // 2, orphans=True),
            _stray(rng, world, filler // 2, orphans=False),
        ],
        how="vertical_relaxed",
    )
    return lines[rng.permutation(lines.height)]


def _reported(
    rng: np.random.Generator, world: World, pairs: pl.DataFrame, count: int
) -> pl.DataFrame:
    n = pairs.height
    vendor_q = pairs.get_column("vendor_q").to_numpy()
    per_pair = ((vendor_q > 0) | (rng.random(n) < 0.5)).astype(np.int64)
    spare = count - int(per_pair.sum())
    if spare < 0:
        per_pair[rng.choice(np.flatnonzero(per_pair), -spare, replace=False)] = 0
    else:
        per_pair += np.bincount(rng.choice(np.flatnonzero(vendor_q > 0), spare), minlength=n)
    pair = np.repeat(np.arange(n), per_pair)

    # Split each vendor quantity over its lines at random, in whole seats (or hundredths for
    # fractional quantities); the first line of each pair takes what rounding left over.
    unit = np.where(pairs.get_column("fractional").to_numpy(), 1, 100)
    units = vendor_q // unit
    weight = rng.random(pair.size) + 0.05
    total_weight = np.bincount(pair, weights=weight, minlength=n)
    share = np.floor(units[pair] * weight / total_weight[pair]).astype(np.int64)
    given = np.bincount(pair, weights=share, minlength=n).astype(np.int64)
    first = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if pair.size else pair
    share[first] += (units - given)[pair[first]]

    skus = (
        world.skus.filter(pl.col("product") >= 0)
        .group_by("vendor", "product")
        .agg(pl.col("sku").min().alias("monthly"), pl.col("sku").max().alias("annual"))
    )
    offered = pairs.join(skus, on=["vendor", "product"], how="left", maintain_order="left")
    sku = np.where(
        rng.random(pair.size) < 0.4,
        offered.get_column("annual").to_numpy()[pair],
        offered.get_column("monthly").to_numpy()[pair],
    )
    tenant = pairs.get_column("tenant").to_numpy()[pair]
    second = world.tenants.get_column("second").to_numpy()[tenant]
    tenant = np.where((second >= 0) & (rng.random(pair.size) < 0.3), second, tenant)
    return _with_status(rng, world, tenant, sku, share * unit[pair], ACTIVE)


def _inactive(
    rng: np.random.Generator, world: World, lines: pl.DataFrame, count: int
) -> pl.DataFrame:
    """Trials, suspended and cancelled subscriptions: lines that count 0 whatever they say."""
    vendor = world.tenants.get_column("vendor").to_numpy()[lines.get_column("tenant").to_numpy()]
    candidates = lines.filter(pl.Series(vendor == STATUS_VENDOR))
    if candidates.height == 0 or count == 0:
        return lines.clear()
    picked = candidates[rng.integers(0, candidates.height, count)]
    statuses = tuple((status, 1 / len(INACTIVE)) for status in INACTIVE)
    return _with_status(
        rng,
        world,
        picked.get_column("tenant").to_numpy(),
        picked.get_column("sku").to_numpy(),
        seats(rng, count)[0],
        statuses,
    )


def _stray(rng: np.random.Generator, world: World, count: int, *, orphans: bool) -> pl.DataFrame:
    """Lines of tenants that belong to no PSA account (orphans), or of SKUs that map to no PSA
    product, under mapped tenants."""
    tenants = world.tenants.filter(pl.col("vendor").is_in(WITH_FILE))
    tenants = tenants.filter(
        (pl.col("account") < 0) if orphans else (pl.col("primary") & (pl.col("status") == "mapped"))
    )
    picked = tenants[rng.integers(0, tenants.height, count)]
    vendor = picked.get_column("vendor").to_numpy()
    sku = np.zeros(count, dtype=np.int64)
    for name in WITH_FILE:
        of_vendor = world.skus.filter(pl.col("vendor") == name)
        if not orphans:
            of_vendor = of_vendor.filter(pl.col("product") < 0)
        mask = vendor == name
        sku[mask] = rng.choice(of_vendor.get_column("sku").to_numpy(), int(mask.sum()))
    tenant = picked.get_column("tenant").to_numpy()
    return _with_status(rng, world, tenant, sku, seats(rng, count)[0], ACTIVE)


def _with_status(
    rng: np.random.Generator,
    world: World,
    tenant: np.ndarray,
    sku: np.ndarray,
    quantity: np.ndarray,
    statuses: tuple[tuple[str, float], ...],
) -> pl.DataFrame:
    """Give back the lines with a status where their vendor's file has that column."""
    vendor = world.tenants.get_column("vendor").to_numpy()[tenant]
    labels, weights = zip(*statuses, strict=True)
    status = rng.choice(labels, size=tenant.size, p=weights)
    return pl.DataFrame(
        {
            "tenant": tenant.astype(np.int64),
            "sku": sku.astype(np.int64),
            "quantity": quantity.astype(np.int64),
            "status": pl.Series(status, dtype=pl.String),
        }
    ).with_columns(
        pl.when(pl.Series(vendor == STATUS_VENDOR)).then(pl.col("status")).otherwise(None)
    )
